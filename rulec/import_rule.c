/*
 * rulec import: small helpers shared by the importer (buffers, string
 * vectors, issues) and the lifetime of raw and translated rules.
 */
#include "import_rule.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
    fputs("rulec: out of memory\n", stderr);
    exit(1);
}

void *imp_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *imp_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *imp_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom();
    return q;
}

char *imp_xstrndup(const char *s, size_t n)
{
    char *p = imp_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *imp_xstrdup(const char *s)
{
    return imp_xstrndup(s, strlen(s));
}

static char *vformat(const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0)
        n = 0;
    char *p = imp_xmalloc((size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *imp_xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = vformat(fmt, ap);
    va_end(ap);
    return p;
}

/* ------------------------------------------------------------ buffers */

static void reserve(imp_buf *b, size_t more)
{
    if (b->cap - b->len > more)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len <= more)
        cap *= 2;
    b->p = imp_xrealloc(b->p, cap);
    b->cap = cap;
}

void imp_buf_put(imp_buf *b, const void *data, size_t n)
{
    reserve(b, n);
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
}

void imp_buf_puts(imp_buf *b, const char *s)
{
    imp_buf_put(b, s, strlen(s));
}

void imp_buf_putc(imp_buf *b, char c)
{
    imp_buf_put(b, &c, 1);
}

void imp_buf_printf(imp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    imp_buf_puts(b, s);
    free(s);
}

char *imp_buf_take(imp_buf *b)
{
    char *p = b->p ? b->p : imp_xstrdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void imp_buf_free(imp_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ------------------------------------------------------------ string vectors */

void imp_strv_push(char ***v, size_t *n, char *s)
{
    *v = imp_xrealloc(*v, (*n + 1) * sizeof(char *));
    (*v)[(*n)++] = s;
}

void imp_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int imp_strv_has(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------ issues */

void imp_issue_add(imp_issue **v, size_t *n, int level, const char *keyword, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *reason = vformat(fmt, ap);
    va_end(ap);
    /* The same keyword and reason twice in one rule say nothing new. */
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i].level == level && strcmp((*v)[i].keyword, keyword) == 0 &&
            strcmp((*v)[i].reason, reason) == 0) {
            free(reason);
            return;
        }
    *v = imp_xrealloc(*v, (*n + 1) * sizeof(imp_issue));
    (*v)[*n].level = level;
    (*v)[*n].keyword = imp_xstrdup(keyword);
    (*v)[*n].reason = reason;
    (*n)++;
}

void imp_issues_free(imp_issue *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].keyword);
        free(v[i].reason);
    }
    free(v);
}

int imp_rule_level(const imp_rule *r)
{
    int level = IMP_NOTE;
    for (size_t i = 0; i < r->n_issues; i++)
        if (r->issues[i].level > level)
            level = r->issues[i].level;
    return level;
}

int imp_rule_changed_only_by_address(const imp_rule *r)
{
    int any = 0;
    for (size_t i = 0; i < r->n_issues; i++) {
        if (r->issues[i].level == IMP_REJECT)
            return 0;
        if (r->issues[i].level == IMP_CHANGED) {
            if (strcmp(r->issues[i].keyword, IMP_KW_ADDRESS) != 0)
                return 0;
            any = 1;
        }
    }
    return any;
}

/* ------------------------------------------------------------ lifetimes */

void imp_raw_free(imp_raw *r)
{
    if (!r)
        return;
    free(r->file);
    free(r->text);
    free(r->action);
    free(r->proto);
    free(r->src);
    free(r->sport);
    free(r->dir);
    free(r->dst);
    free(r->dport);
    for (size_t i = 0; i < r->n_opts; i++) {
        free(r->opts[i].name);
        free(r->opts[i].value);
    }
    free(r->opts);
    imp_issues_free(r->issues, r->n_issues);
    memset(r, 0, sizeof(*r));
}

void imp_rule_free(imp_rule *r)
{
    if (!r)
        return;
    free(r->msg);
    free(r->ports);
    imp_strv_free(r->cves, r->n_cves);
    imp_strv_free(r->refs, r->n_refs);
    free(r->classtype);
    free(r->service);
    for (size_t i = 0; i < r->n_flowbits; i++)
        free(r->flowbits[i].name);
    free(r->flowbits);
    for (size_t i = 0; i < r->n_conds; i++)
        free(r->conds[i].bytes);
    free(r->conds);
    imp_issues_free(r->issues, r->n_issues);
    memset(r, 0, sizeof(*r));
}
