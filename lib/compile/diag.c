/*
 * Diagnostic list: an append-only array of owned records.  Recording a
 * diagnostic can fail only for lack of memory; then the list remembers that
 * it is incomplete (oom) and still counts the error, so that a build with a
 * lost error can never look clean.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* printf into a fresh allocation; NULL when out of memory. */
static char *format_message(const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int need = vsnprintf(NULL, 0, fmt, ap);
    if (need < 0) {
        /* An unformattable message is a caller bug; keep the diagnostic. */
        va_end(again);
        return copy_string("");
    }
    char *msg = malloc((size_t)need + 1);
    if (msg)
        vsnprintf(msg, (size_t)need + 1, fmt, again);
    va_end(again);
    return msg;
}

/* Makes room for one more record; 0 on success. */
static int reserve_one(vp_diags *d)
{
    if (d->n < d->cap)
        return 0;
    size_t cap = d->cap ? d->cap * 2 : 16;
    if (cap < d->cap || cap > SIZE_MAX / sizeof(vp_diag))
        return -1;
    vp_diag *v = realloc(d->v, cap * sizeof(vp_diag));
    if (!v)
        return -1;
    d->v = v;
    d->cap = cap;
    return 0;
}

void vp_diag_add(vp_diags *d, vp_diag_severity sev, vp_diag_code code, const char *file,
                 vp_mark at, uint32_t rule_id, const char *fmt, ...)
{
    if (!d)
        return;
    /* Counted before anything can fail: a lost error must still fail the build. */
    if (sev == VP_DIAG_ERROR)
        d->errors++;

    va_list ap;
    va_start(ap, fmt);
    char *msg = format_message(fmt ? fmt : "", ap);
    va_end(ap);
    char *file_copy = copy_string(file ? file : "");

    if (!msg || !file_copy || reserve_one(d) != 0) {
        free(msg);
        free(file_copy);
        d->oom = 1;
        return;
    }
    vp_diag *g = &d->v[d->n++];
    g->severity = sev;
    g->code = code;
    g->file = file_copy;
    g->line = at.line;
    g->col = at.col;
    g->rule_id = rule_id;
    g->message = msg;
}

void vp_diags_free(vp_diags *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].message);
    }
    free(d->v);
    memset(d, 0, sizeof(*d));
}
