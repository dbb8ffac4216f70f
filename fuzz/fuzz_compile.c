/*
 * fuzz_compile: the input is YAML rule source.
 *
 * It goes through the whole compiler (reader, planner, encoder, and the
 * embedded rule tests, which run the runtime engine on the test data), then
 * every diagnostic is read back and formatted, into a large buffer and into
 * small ones.  A successful build must give a bundle that loads and makes an
 * engine.
 *
 * A line "#---8<---" splits the input into two sources (rule ids and the
 * ruleset name interact across files).
 */
#include "fuzz_common.h"

static const char split_mark[] = "\n#---8<---\n";

static const uint8_t *find_mark(const uint8_t *p, size_t n)
{
    size_t m = sizeof(split_mark) - 1;
    for (size_t i = 0; n >= m && i <= n - m; i++)
        if (memcmp(p + i, split_mark, m) == 0)
            return p + i;
    return NULL;
}

static void check_diagnostics(const vp_compiler_t *c, vp_status st)
{
    size_t n = vp_compiler_diag_count(c), errors = 0;
    for (size_t i = 0; i < n; i++) {
        vp_diagnostic_t d;
        memset(&d, 0, sizeof(d));
        d.size = sizeof(d);
        FUZZ_OK(vp_compiler_diag_at(c, i, &d));
        FUZZ_CHECK(d.severity == VP_DIAG_ERROR || d.severity == VP_DIAG_WARNING);
        FUZZ_CHECK(d.code >= VP_D_IO && d.code <= VP_D_INTERNAL);
        FUZZ_CHECK(d.file != NULL && d.message != NULL);
        errors += d.severity == VP_DIAG_ERROR;

        size_t need = vp_compiler_diag_format(c, i, NULL, 0);
        char *full = malloc(need + 1);
        FUZZ_CHECK(full != NULL);
        FUZZ_CHECK(vp_compiler_diag_format(c, i, full, need + 1) == need);
        FUZZ_CHECK(strlen(full) == need);
        FUZZ_CHECK(strstr(full, d.message) != NULL);
        /* Truncated formats are prefixes of the full one, NUL-terminated. */
        const size_t caps[] = {1, 2, 7, 33};
        for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
            char small[33];
            memset(small, 'Z', sizeof(small));
            FUZZ_CHECK(vp_compiler_diag_format(c, i, small, caps[k]) == need);
            size_t got = strlen(small);
            FUZZ_CHECK(got < caps[k]);
            FUZZ_CHECK(got == (need < caps[k] - 1 ? need : caps[k] - 1));
            FUZZ_CHECK(memcmp(small, full, got) == 0);
        }
        free(full);
    }
    FUZZ_CHECK(errors == vp_compiler_error_count(c));
    vp_diagnostic_t d;
    memset(&d, 0, sizeof(d));
    d.size = sizeof(d);
    FUZZ_CHECK(vp_compiler_diag_at(c, n, &d) == VP_E_INVALID);
    if (st == VP_OK)
        FUZZ_CHECK(errors == 0);
    if (st == VP_E_COMPILE)
        FUZZ_CHECK(errors > 0);
}

static void check_bundle(const uint8_t *bytes, size_t len)
{
    vp_bundle_t *b = NULL;
    vp_error_t *err = NULL;
    vp_status st = vp_bundle_load_memory(bytes, len, &b, &err);
    if (st != VP_OK)
        fprintf(stderr, "compiler output does not load: %s\n", vp_error_message(err));
    FUZZ_CHECK(st == VP_OK);
    fz_engine e = {0};
    st = fz_engine_make(b, FZ_ENGINE_ALL_RULES, &e, &err);
    if (st != VP_OK)
        fprintf(stderr, "no engine for compiler output: %s\n", err ? vp_error_message(err) : "");
    FUZZ_CHECK(st == VP_OK);
    fz_engine_free(&e);
    vp_bundle_free(b);
    vp_error_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vp_compiler_t *c = NULL;
    FUZZ_OK(vp_compiler_create(&c));
    FUZZ_OK(vp_compiler_set_serial(c, 7));
    FUZZ_OK(vp_compiler_set_run_tests(c, 1));
    const uint8_t *mark = find_mark(data, size);
    if (mark) {
        size_t first = (size_t)(mark - data), skip = sizeof(split_mark) - 1;
        FUZZ_OK(vp_compiler_add_memory(c, "one.yaml", data, first));
        FUZZ_OK(vp_compiler_add_memory(c, "two.yaml", mark + skip, size - first - skip));
    } else {
        FUZZ_OK(vp_compiler_add_memory(c, "fuzz.yaml", data, size));
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    vp_status st = vp_compiler_build(c, &bytes, &len);
    FUZZ_CHECK(st == VP_OK || st == VP_E_COMPILE || st == VP_E_NOMEM);
    check_diagnostics(c, st);
    if (st == VP_OK) {
        FUZZ_CHECK(bytes != NULL && len > 0);
        check_bundle(bytes, len);
    } else {
        FUZZ_CHECK(bytes == NULL);
    }
    vp_compiler_bundle_free(bytes);
    vp_compiler_free(c);
    return 0;
}
