/*
 * rulec import: compile check of the imported rules.  See import_check.h.
 */
#include "import_check.h"

#include <stdlib.h>
#include <string.h>

#include "import_xlate.h"
#include "import_yaml.h"
#include "vpatch/vpatch_compile.h"

#define MAX_PASSES 64

static vp_compiler_t *compiler_for(const char *yaml, size_t len)
{
    vp_compiler_t *c = NULL;
    if (vp_compiler_create(&c) != VP_OK)
        return NULL;
    vp_compiler_set_run_tests(c, 0);
    vp_compiler_set_cpu_variants(c, 0);
    vp_compiler_set_serial(c, 1);
    if (vp_compiler_add_memory(c, "import-check.yaml", yaml, len) != VP_OK) {
        vp_compiler_free(c);
        return NULL;
    }
    return c;
}

void imp_check_unsupported_buffers(char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    for (size_t i = 0; imp_http_buffers[i]; i++) {
        const char *b = imp_http_buffers[i];
        int dir = imp_buffer_direction(b);
        char *yaml = imp_xprintf("format: 1\nrules:\n  - id: 1\n    name: probe\n"
                                 "    severity: low\n    direction: %s\n    match:\n"
                                 "      - content: \"a\"\n        buffer: %s\n",
                                 dir == IMP_DIR_TO_CLIENT ? "to_client" : "to_server", b);
        vp_compiler_t *c = compiler_for(yaml, strlen(yaml));
        int ok = 0;
        if (c) {
            uint8_t *bundle = NULL;
            size_t len = 0;
            ok = vp_compiler_build(c, &bundle, &len) == VP_OK;
            vp_compiler_bundle_free(bundle);
            vp_compiler_free(c);
        }
        free(yaml);
        if (!ok)
            imp_strv_push(names, n, imp_xstrdup(b));
    }
}

typedef struct id_index {
    uint32_t id;
    size_t i;
} id_index;

static int cmp_id(const void *a, const void *b)
{
    const id_index *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static const char *keyword_of(const vp_diagnostic_t *d)
{
    if (d->code == VP_D_REGEX || strstr(d->message, "regex"))
        return "pcre";
    if (d->code == VP_D_LIMIT)
        return strstr(d->message, "lookback") ? "within" : "limit";
    return "compile";
}

/* The compiler's message without "(condition at LINE:COL)": those positions
 * are in the YAML built for the check, not in anything the user has. */
static char *report_message(const char *msg)
{
    char *s = imp_xstrdup(msg);
    char *at = strstr(s, " (condition at ");
    if (at) {
        char *end = strchr(at, ')');
        memmove(at, end ? end + 1 : at + strlen(at), strlen(end ? end + 1 : at + strlen(at)) + 1);
    }
    return s;
}

int imp_check_rules(imp_rule *rules, size_t n, char *const *stream_buffers, size_t nsb,
                    unsigned *passes, char **fatal)
{
    *fatal = NULL;
    *passes = 0;
    for (unsigned pass = 0; pass < MAX_PASSES; pass++) {
        imp_buf y = {0};
        size_t live = 0;
        for (size_t i = 0; i < n; i++)
            if (imp_rule_level(&rules[i]) < IMP_REJECT)
                live++;
        imp_yaml_begin(&y, NULL, "check", live);
        id_index *idx = imp_xcalloc(live, sizeof(id_index));
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (imp_rule_level(&rules[i]) >= IMP_REJECT)
                continue;
            imp_yaml_rule(&y, &rules[i], IMP_Y_MINIMAL, stream_buffers, nsb);
            idx[k].id = rules[i].sid;
            idx[k].i = i;
            k++;
        }
        qsort(idx, live, sizeof(id_index), cmp_id);
        (*passes)++;
        vp_compiler_t *c = compiler_for(y.p, y.len);
        imp_buf_free(&y);
        if (!c) {
            free(idx);
            *fatal = imp_xstrdup("out of memory");
            return -1;
        }
        uint8_t *bundle = NULL;
        size_t blen = 0;
        vp_status st = vp_compiler_build(c, &bundle, &blen);
        vp_compiler_bundle_free(bundle);
        if (st == VP_OK) {
            vp_compiler_free(c);
            free(idx);
            return 0;
        }
        size_t refused = 0;
        for (size_t d = 0; d < vp_compiler_diag_count(c); d++) {
            vp_diagnostic_t diag;
            memset(&diag, 0, sizeof diag);
            diag.size = sizeof diag;
            if (vp_compiler_diag_at(c, d, &diag) != VP_OK || diag.severity != VP_DIAG_ERROR)
                continue;
            id_index key = {diag.rule_id, 0};
            id_index *hit = diag.rule_id
                                ? bsearch(&key, idx, live, sizeof(id_index), cmp_id)
                                : NULL;
            if (!hit) {
                if (!*fatal)
                    *fatal = imp_xprintf("%s:%u:%u: %s", diag.file, diag.line, diag.column,
                                         diag.message);
                continue;
            }
            imp_rule *r = &rules[hit->i];
            char *msg = report_message(diag.message);
            imp_issue_add(&r->issues, &r->n_issues, IMP_REJECT, keyword_of(&diag),
                          "the compiler refuses it: %s", msg);
            free(msg);
            refused++;
        }
        vp_compiler_free(c);
        free(idx);
        if (!refused) {
            if (!*fatal)
                *fatal = imp_xstrdup(st == VP_E_NOMEM ? "out of memory"
                                                      : "the rule set does not compile");
            return -1;
        }
        free(*fatal);
        *fatal = NULL;
    }
    *fatal = imp_xstrdup("the rule set still does not compile after many passes");
    return -1;
}
