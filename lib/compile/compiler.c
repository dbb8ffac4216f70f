/* The public compiler API: sources in, diagnostics and bundle bytes out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/bundle_codec.h"
#include "plan.h"

typedef struct source {
    char *name;
    uint8_t *text;
    size_t len;
    int unreadable;   /* read error already recorded as a diagnostic */
} source;

struct vp_compiler {
    source *sources;
    size_t n_sources, cap_sources;
    uint64_t serial;
    int serial_set;
    int run_tests;
    vp_diags diags;
};

VP_API vp_status vp_compiler_create(vp_compiler_t **out)
{
    if (!out)
        return VP_E_INVALID;
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return VP_E_NOMEM;
    (*out)->run_tests = 1;
    return VP_OK;
}

static void sources_free(vp_compiler_t *c)
{
    for (size_t i = 0; i < c->n_sources; i++) {
        free(c->sources[i].name);
        free(c->sources[i].text);
    }
    free(c->sources);
}

VP_API void vp_compiler_free(vp_compiler_t *c)
{
    if (!c)
        return;
    sources_free(c);
    vp_diags_free(&c->diags);
    free(c);
}

static source *source_new(vp_compiler_t *c, const char *name)
{
    if (c->n_sources == c->cap_sources) {
        size_t ncap = c->cap_sources ? c->cap_sources * 2 : 8;
        source *ns = realloc(c->sources, ncap * sizeof(source));
        if (!ns)
            return NULL;
        c->sources = ns;
        c->cap_sources = ncap;
    }
    source *s = &c->sources[c->n_sources];
    memset(s, 0, sizeof(*s));
    s->name = strdup(name);
    if (!s->name)
        return NULL;
    c->n_sources++;
    return s;
}

VP_API vp_status vp_compiler_add_memory(vp_compiler_t *c, const char *name, const void *yaml,
                                        size_t len)
{
    if (!c || !name || (!yaml && len))
        return VP_E_INVALID;
    source *s = source_new(c, name);
    if (!s)
        return VP_E_NOMEM;
    s->text = malloc(len ? len : 1);
    if (!s->text)
        return VP_E_NOMEM;
    if (len)
        memcpy(s->text, yaml, len);
    s->len = len;
    return VP_OK;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

VP_API vp_status vp_compiler_add_file(vp_compiler_t *c, const char *path)
{
    if (!c || !path)
        return VP_E_INVALID;
    source *s = source_new(c, path);
    if (!s)
        return VP_E_NOMEM;
    if (read_file(path, &s->text, &s->len) != 0) {
        if (errno == ENOMEM)
            return VP_E_NOMEM;
        s->unreadable = 1;
        vp_diag_add(&c->diags, VP_DIAG_ERROR, VP_D_IO, path, (vp_mark){0, 0}, 0,
                    "cannot read rule source: %s", strerror(errno));
    }
    return VP_OK;
}

VP_API vp_status vp_compiler_set_serial(vp_compiler_t *c, uint64_t serial)
{
    if (!c)
        return VP_E_INVALID;
    c->serial = serial;
    c->serial_set = 1;
    return VP_OK;
}

VP_API vp_status vp_compiler_set_run_tests(vp_compiler_t *c, int run_tests)
{
    if (!c || (run_tests != 0 && run_tests != 1))
        return VP_E_INVALID;
    c->run_tests = run_tests;
    return VP_OK;
}

/* Position of a diagnostic's file among the sources (unknown files last). */
static size_t source_rank(const vp_compiler_t *c, const char *file)
{
    for (size_t i = 0; i < c->n_sources; i++)
        if (strcmp(c->sources[i].name, file) == 0)
            return i;
    return c->n_sources;
}

static int diag_before(const vp_compiler_t *c, const vp_diag *a, const vp_diag *b)
{
    size_t ra = source_rank(c, a->file), rb = source_rank(c, b->file);
    if (ra != rb)
        return ra < rb;
    return a->line < b->line || (a->line == b->line && a->col < b->col);
}

/* Diagnostics read top to bottom: by source in the order added, then by
 * position.  Insertion sort keeps equal positions in the order found. */
static void sort_diags(vp_compiler_t *c)
{
    vp_diags *d = &c->diags;
    for (size_t i = 1; i < d->n; i++) {
        vp_diag x = d->v[i];
        size_t j = i;
        for (; j > 0 && diag_before(c, &x, &d->v[j - 1]); j--)
            d->v[j] = d->v[j - 1];
        d->v[j] = x;
    }
}

VP_API vp_status vp_compiler_build(vp_compiler_t *c, uint8_t **bundle, size_t *len)
{
    if (!c || !bundle || !len)
        return VP_E_INVALID;
    *bundle = NULL;
    *len = 0;
    /* A build starts from the diagnostics of adding files (I/O errors) only. */
    size_t keep = 0;
    for (size_t i = 0; i < c->diags.n; i++) {
        if (c->diags.v[i].code == VP_D_IO) {
            c->diags.v[keep++] = c->diags.v[i];
        } else {
            free(c->diags.v[i].file);
            free(c->diags.v[i].message);
        }
    }
    c->diags.n = keep;
    c->diags.errors = keep;

    vp_src_file *files = calloc(c->n_sources ? c->n_sources : 1, sizeof(vp_src_file));
    if (!files)
        return VP_E_NOMEM;
    vp_status st = VP_OK;
    size_t n_files = 0;
    for (size_t i = 0; i < c->n_sources && st == VP_OK; i++) {
        if (c->sources[i].unreadable)
            continue;
        if (vp_reader_parse(c->sources[i].name, c->sources[i].text, c->sources[i].len,
                            &files[n_files], &c->diags) != 0)
            st = VP_E_NOMEM;
        n_files++;
    }
    vp_model m;
    memset(&m, 0, sizeof(m));
    uint64_t serial = c->serial_set ? c->serial : (uint64_t)time(NULL);
    if (st == VP_OK && vp_plan_build(files, n_files, serial, &m, &c->diags) != 0)
        st = VP_E_NOMEM;
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (st == VP_OK && !c->diags.errors && vp_bundle_encode(&m, &bytes, &n) != 0)
        st = VP_E_NOMEM;
    if (st == VP_OK && bytes && c->run_tests && vp_testrun(files, n_files, bytes, n, &c->diags) != 0)
        st = VP_E_COMPILE;
    vp_model_free(&m);
    for (size_t i = 0; i < n_files; i++)
        vp_src_file_free(&files[i]);
    free(files);
    sort_diags(c);
    if (st == VP_OK && (c->diags.errors || c->diags.oom))
        st = c->diags.oom ? VP_E_NOMEM : VP_E_COMPILE;
    if (st != VP_OK) {
        free(bytes);
        return st;
    }
    *bundle = bytes;
    *len = n;
    return VP_OK;
}

VP_API void vp_compiler_bundle_free(uint8_t *bundle)
{
    free(bundle);
}

VP_API size_t vp_compiler_diag_count(const vp_compiler_t *c)
{
    return c ? c->diags.n : 0;
}

VP_API size_t vp_compiler_error_count(const vp_compiler_t *c)
{
    return c ? c->diags.errors : 0;
}

VP_API vp_status vp_compiler_diag_at(const vp_compiler_t *c, size_t i, vp_diagnostic_t *out)
{
    if (!c || !out || i >= c->diags.n || out->size < sizeof(size_t))
        return VP_E_INVALID;
    const vp_diag *d = &c->diags.v[i];
    vp_diagnostic_t full;
    full.size = out->size;
    full.severity = d->severity;
    full.code = d->code;
    full.file = d->file ? d->file : "";
    full.line = d->line;
    full.column = d->col;
    full.rule_id = d->rule_id;
    full.message = d->message ? d->message : "";
    memcpy(out, &full, out->size < sizeof(full) ? out->size : sizeof(full));
    return VP_OK;
}

VP_API size_t vp_compiler_diag_format(const vp_compiler_t *c, size_t i, char *buf, size_t cap)
{
    if (!c || i >= c->diags.n)
        return 0;
    const vp_diag *d = &c->diags.v[i];
    const char *sev = d->severity == VP_DIAG_WARNING ? "warning: " : "";
    const char *file = d->file && *d->file ? d->file : "rulec";
    int n;
    if (d->line)
        n = snprintf(buf, cap, "%s:%u:%u: %s%s", file, d->line, d->col, sev, d->message);
    else
        n = snprintf(buf, cap, "%s: %s%s", file, sev, d->message);
    return n < 0 ? 0 : (size_t)n;
}
