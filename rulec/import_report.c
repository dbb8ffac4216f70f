/*
 * rulec import: report writer and summary.  See import_report.h.
 */
#include "import_report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *imp_rule_status(const imp_rule *r)
{
    int level = imp_rule_level(r);
    if (r->skipped)
        return "commented";
    if (level == IMP_REJECT)
        return "not-imported";
    return level == IMP_CHANGED ? "changed" : "exact";
}

static const char *level_name(int level)
{
    return level == IMP_REJECT ? "reject" : level == IMP_CHANGED ? "changed" : "note";
}

/* TSV fields cannot hold tabs or line breaks. */
static void tsv_field(FILE *f, const char *s)
{
    for (; s && *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

int imp_report_write(const char *path, const imp_rule *rules, size_t n)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f)
        return -1;
    fputs("file\tline\tsid\tstatus\tlevel\tkeyword\treason\n", f);
    for (size_t i = 0; i < n; i++) {
        const imp_rule *r = &rules[i];
        const char *status = imp_rule_status(r);
        char sid[16];
        if (r->has_sid)
            snprintf(sid, sizeof sid, "%u", r->sid);
        else
            snprintf(sid, sizeof sid, "-");
        if (r->n_issues == 0) {
            tsv_field(f, r->file);
            fprintf(f, "\t%u\t%s\t%s\t-\t-\t-\n", r->line, sid, status);
            continue;
        }
        for (size_t k = 0; k < r->n_issues; k++) {
            const imp_issue *is = &r->issues[k];
            tsv_field(f, r->file);
            fprintf(f, "\t%u\t%s\t%s\t%s\t", r->line, sid, status, level_name(is->level));
            tsv_field(f, is->keyword);
            fputc('\t', f);
            tsv_field(f, is->reason);
            fputc('\n', f);
        }
    }
    int err = ferror(f);
    if (f != stdout && fclose(f) != 0)
        err = 1;
    else if (f == stdout)
        fflush(f);
    if (err) {
        errno = EIO;
        return -1;
    }
    return 0;
}

void imp_summarize(const imp_rule *rules, size_t n, imp_summary *s)
{
    memset(s, 0, sizeof(*s));
    s->read = n;
    for (size_t i = 0; i < n; i++) {
        const imp_rule *r = &rules[i];
        int level = imp_rule_level(r);
        if (r->skipped) {
            s->commented++;
            continue;
        }
        if (level == IMP_REJECT) {
            s->rejected++;
            continue;
        }
        if (level == IMP_CHANGED) {
            if (imp_rule_changed_only_by_address(r))
                s->address_only++;
            else
                s->changed++;
        } else {
            s->exact++;
        }
        if (r->uses_http)
            s->http++;
    }
}

typedef struct count {
    const char *key;
    size_t n;
} count;

static int cmp_count(const void *a, const void *b)
{
    const count *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->key, y->key);
}

/* Rules per keyword among rules of `status` level, counting each keyword once
 * per rule (issues of that level only). */
static void print_top(FILE *to, const char *title, const imp_rule *rules, size_t n, int level,
                      int skip_address, size_t top)
{
    count *c = NULL;
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        const imp_rule *r = &rules[i];
        if (imp_rule_level(r) != level || r->skipped)
            continue;
        for (size_t k = 0; k < r->n_issues; k++) {
            const imp_issue *is = &r->issues[k];
            if (is->level != level || (skip_address && strcmp(is->keyword, IMP_KW_ADDRESS) == 0))
                continue;
            int seen = 0;
            for (size_t j = 0; j < k; j++)
                if (r->issues[j].level == level && strcmp(r->issues[j].keyword, is->keyword) == 0)
                    seen = 1;
            if (seen)
                continue;
            size_t j = 0;
            while (j < nc && strcmp(c[j].key, is->keyword) != 0)
                j++;
            if (j == nc) {
                c = imp_xrealloc(c, (nc + 1) * sizeof(count));
                c[nc].key = is->keyword;
                c[nc].n = 0;
                nc++;
            }
            c[j].n++;
        }
    }
    if (!nc) {
        free(c);
        return;
    }
    qsort(c, nc, sizeof(count), cmp_count);
    fprintf(to, "  %s:", title);
    for (size_t j = 0; j < nc && j < top; j++)
        fprintf(to, "%s %s %zu", j ? "," : "", c[j].key, c[j].n);
    if (nc > top)
        fprintf(to, ", ... (%zu keywords)", nc);
    fputc('\n', to);
    free(c);
}

void imp_summary_print(FILE *to, const imp_summary *s, const imp_rule *rules, size_t n,
                       size_t top)
{
    size_t enabled = s->read - s->commented;
    size_t imported = s->exact + s->address_only + s->changed;
    double base = enabled ? (double)enabled : 1.0;
    fprintf(to, "rulec import: %zu rules read, %zu enabled", s->read, enabled);
    if (s->commented)
        fprintf(to, " (%zu commented out, skipped)", s->commented);
    fputc('\n', to);
    fprintf(to, "  imported: %zu (%.1f%%)\n", imported, 100.0 * (double)imported / base);
    fprintf(to, "    exact meaning:                 %zu (%.1f%%)\n", s->exact,
            100.0 * (double)s->exact / base);
    fprintf(to, "    exact but addresses ignored:   %zu (%.1f%%)\n", s->address_only,
            100.0 * (double)s->address_only / base);
    fprintf(to, "    changed meaning:               %zu (%.1f%%)\n", s->changed,
            100.0 * (double)s->changed / base);
    fprintf(to, "  not imported: %zu (%.1f%%)\n", s->rejected,
            100.0 * (double)s->rejected / base);
    if (s->http)
        fprintf(to, "  imported rules using HTTP buffers: %zu%s\n", s->http,
                s->http_pending ? " (checked as stream rules: the engine lacks HTTP buffers)"
                                : "");
    print_top(to, "not imported, by keyword (rules)", rules, n, IMP_REJECT, 0, top);
    print_top(to, "changed meaning, by keyword (rules)", rules, n, IMP_CHANGED, 1, top);
}
