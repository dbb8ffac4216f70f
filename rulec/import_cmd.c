/*
 * rulec import: command line, duplicate sids, output.  See import_cmd.h and
 * docs/import.md.
 */
#include "import_cmd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "import_check.h"
#include "import_flowbits.h"
#include "import_lex.h"
#include "import_report.h"
#include "import_rule.h"
#include "import_vars.h"
#include "import_xlate.h"
#include "import_yaml.h"

enum { EXIT_OK = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2 };

void rulec_import_usage(FILE *to)
{
    fputs("       rulec import --from suricata|snort3 [--vars FILE] [--classification FILE]\n"
          "                    [--include-commented] [--report FILE.tsv] [--ruleset NAME]\n"
          "                    [--exact-only] [--no-check] [--quiet] RULES... -o OUT.yaml\n",
          to);
}

typedef struct opts {
    int dialect;
    const char *vars, *classification, *report, *ruleset, *out;
    int include_commented, exact_only, no_check, quiet;
    char **files;
    size_t n_files;
} opts;

static int usage_error(const char *fmt, const char *arg)
{
    fputs("rulec: ", stderr);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    fputs("usage:\n", stderr);
    rulec_import_usage(stderr);
    return EXIT_USAGE;
}

static int parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int has_next = i + 1 < argc;
        if (strcmp(a, "--from") == 0 && has_next) {
            const char *d = argv[++i];
            if (strcmp(d, "suricata") == 0)
                o->dialect = IMP_SURICATA;
            else if (strcmp(d, "snort3") == 0)
                o->dialect = IMP_SNORT3;
            else
                return usage_error("--from needs suricata or snort3, got \"%s\"", d);
        } else if (strcmp(a, "--vars") == 0 && has_next) {
            o->vars = argv[++i];
        } else if (strcmp(a, "--classification") == 0 && has_next) {
            o->classification = argv[++i];
        } else if (strcmp(a, "--report") == 0 && has_next) {
            o->report = argv[++i];
        } else if (strcmp(a, "--ruleset") == 0 && has_next) {
            o->ruleset = argv[++i];
        } else if (strcmp(a, "-o") == 0 && has_next) {
            o->out = argv[++i];
        } else if (strcmp(a, "--include-commented") == 0) {
            o->include_commented = 1;
        } else if (strcmp(a, "--exact-only") == 0) {
            o->exact_only = 1;
        } else if (strcmp(a, "--no-check") == 0) {
            o->no_check = 1;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o->quiet = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown or incomplete option %s", a);
        } else {
            imp_strv_push(&o->files, &o->n_files, (char *)a);
        }
    }
    if (!o->dialect)
        return usage_error("%s", "import needs --from suricata or --from snort3");
    if (!o->out)
        return usage_error("%s", "import needs -o OUT.yaml");
    if (!o->n_files)
        return usage_error("%s", "import needs at least one rules file");
    return EXIT_OK;
}

typedef struct sid_index {
    uint32_t sid;
    size_t i;
} sid_index;

static int cmp_sid(const void *a, const void *b)
{
    const sid_index *x = a, *y = b;
    if (x->sid != y->sid)
        return x->sid < y->sid ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* The first importable rule of a sid wins; the others are reported. */
static void reject_duplicates(imp_rule *rules, size_t n)
{
    sid_index *v = imp_xcalloc(n, sizeof(sid_index));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!rules[i].skipped && rules[i].has_sid && imp_rule_level(&rules[i]) < IMP_REJECT) {
            v[k].sid = rules[i].sid;
            v[k].i = i;
            k++;
        }
    qsort(v, k, sizeof(sid_index), cmp_sid);
    for (size_t j = 1; j < k; j++) {
        if (v[j].sid != v[j - 1].sid)
            continue;
        size_t first = j - 1;
        while (first > 0 && v[first - 1].sid == v[j].sid)
            first--;
        const imp_rule *f = &rules[v[first].i];
        imp_rule *r = &rules[v[j].i];
        imp_issue_add(&r->issues, &r->n_issues, IMP_REJECT, "sid",
                      "duplicate sid %u: the rule at %s:%u is kept", r->sid, f->file, f->line);
    }
    free(v);
}

static int write_file(const char *path, const char *data, size_t len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    int err = w != len || ferror(f);
    if (f != stdout) {
        if (fclose(f) != 0)
            err = 1;
    } else {
        fflush(f);
    }
    return err ? -1 : 0;
}

int rulec_import(int argc, char **argv)
{
    opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != EXIT_OK) {
        free(o.files);
        return rc;
    }
    const char *dialect_name = o.dialect == IMP_SNORT3 ? "snort3" : "suricata";
    imp_vars *vars = imp_vars_new(o.dialect);
    imp_classes *classes = imp_classes_builtin();
    char *err = NULL;
    if (o.vars)
        err = imp_vars_load(vars, o.vars);
    if (!err && o.classification)
        err = imp_classes_load(classes, o.classification);
    imp_raw *raws = NULL;
    size_t n_raw = 0;
    for (size_t i = 0; !err && i < o.n_files; i++)
        if (imp_lex_file(o.files[i], &raws, &n_raw) != 0)
            err = imp_xprintf("%s: %s", o.files[i], strerror(errno));
    if (err) {
        fprintf(stderr, "rulec: %s\n", err);
        free(err);
        for (size_t i = 0; i < n_raw; i++)
            imp_raw_free(&raws[i]);
        free(raws);
        imp_vars_free(vars);
        imp_classes_free(classes);
        free(o.files);
        return EXIT_ERRORS;
    }

    imp_ctx ctx = {o.dialect, vars, classes};
    imp_rule *rules = imp_xcalloc(n_raw, sizeof(imp_rule));
    for (size_t i = 0; i < n_raw; i++) {
        if (raws[i].commented && !o.include_commented) {
            imp_rule *r = &rules[i];
            imp_translate(&ctx, &raws[i], r);
            /* only the sid is of interest: the rule is skipped */
            imp_issues_free(r->issues, r->n_issues);
            r->issues = NULL;
            r->n_issues = 0;
            r->skipped = 1;
            imp_issue_add(&r->issues, &r->n_issues, IMP_REJECT, "commented",
                          "commented out in the source (use --include-commented)");
            continue;
        }
        imp_translate(&ctx, &raws[i], &rules[i]);
    }
    reject_duplicates(rules, n_raw);
    imp_flowbits_kinds(rules, n_raw);
    if (o.exact_only)
        for (size_t i = 0; i < n_raw; i++)
            if (imp_rule_level(&rules[i]) == IMP_CHANGED &&
                !imp_rule_changed_only_by_address(&rules[i]))
                imp_issue_add(&rules[i].issues, &rules[i].n_issues, IMP_REJECT, "exact-only",
                              "meaning would change (--exact-only)");

    char **stream_buffers = NULL;
    size_t nsb = 0;
    size_t pending = 0;
    if (!o.no_check) {
        imp_check_unsupported_buffers(&stream_buffers, &nsb);
        unsigned passes = 0;
        char *fatal = NULL;
        if (imp_check_rules(rules, n_raw, stream_buffers, nsb, &passes, &fatal) != 0) {
            fprintf(stderr, "rulec: the imported rules do not compile: %s\n", fatal);
            free(fatal);
            rc = EXIT_ERRORS;
        }
        for (size_t i = 0; i < n_raw; i++) {
            if (imp_rule_level(&rules[i]) >= IMP_REJECT)
                continue;
            for (size_t k = 0; k < rules[i].n_conds; k++)
                if (rules[i].conds[k].buffer &&
                    imp_strv_has(stream_buffers, nsb, rules[i].conds[k].buffer)) {
                    pending++;
                    break;
                }
        }
    }

    /* Once it is known which rules are imported, and how. */
    imp_flowbits_setters(rules, n_raw, o.exact_only);

    if (rc == EXIT_OK) {
        size_t live = 0;
        for (size_t i = 0; i < n_raw; i++)
            if (imp_rule_level(&rules[i]) < IMP_REJECT)
                live++;
        imp_buf y = {0};
        char *ruleset = o.ruleset ? imp_xstrdup(o.ruleset)
                                  : imp_xprintf("imported-%s", dialect_name);
        imp_yaml_begin(&y, ruleset, dialect_name, live);
        free(ruleset);
        for (size_t i = 0; i < n_raw; i++)
            if (imp_rule_level(&rules[i]) < IMP_REJECT)
                imp_yaml_rule(&y, &rules[i], IMP_Y_FULL, NULL, 0);
        if (write_file(o.out, y.p, y.len) != 0) {
            fprintf(stderr, "rulec: cannot write %s: %s\n", o.out, strerror(errno));
            rc = EXIT_ERRORS;
        }
        imp_buf_free(&y);
    }
    if (o.report && imp_report_write(o.report, rules, n_raw) != 0) {
        fprintf(stderr, "rulec: cannot write %s: %s\n", o.report, strerror(errno));
        rc = EXIT_ERRORS;
    }
    if (!o.quiet) {
        imp_summary s;
        imp_summarize(rules, n_raw, &s);
        s.http_pending = pending;
        imp_summary_print(stderr, &s, rules, n_raw, 12);
    }

    imp_strv_free(stream_buffers, nsb);
    for (size_t i = 0; i < n_raw; i++) {
        imp_rule_free(&rules[i]);
        imp_raw_free(&raws[i]);
    }
    free(rules);
    free(raws);
    imp_vars_free(vars);
    imp_classes_free(classes);
    free(o.files);
    return rc;
}
