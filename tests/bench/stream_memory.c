/*
 * Prints the per-stream memory of engines with N generated rules (a mix of
 * plain contents, offset/depth windows, relative chains with within,
 * negations and regexes).  A benchmark that prints numbers, not a test.
 * usage: stream_memory [N...]   (default 10 100 1000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vpatch/vpatch.h"
#include "vpatch/vpatch_compile.h"

static int append(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        size_t ncap = (*len + n + 1) * 2;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
    return 0;
}

/* One rule of the mix; `i` picks the shape and makes the patterns distinct. */
static void rule_yaml(unsigned i, char *out, size_t cap)
{
    const char *shape;
    char match[256];
    switch (i % 5) {
    case 0: shape = "[{content: \"GET /w%u\"}]"; break;
    case 1: shape = "[{content: \"POST /x%u\", depth: 64}]"; break;
    case 2: shape = "[{content: \"Host: h%u\"}, {content: \"cmd=\", within: 200}]"; break;
    case 3: shape = "[{content: \"/y%u\"}, {content: \"Authorization:\", negate: true}]"; break;
    default: shape = "[{regex: \"z%u[0-9]{2,8}q\", flags: i}]"; break;
    }
    snprintf(match, sizeof(match), shape, i);
    snprintf(out, cap, "  - {id: %u, name: r%u, severity: high, match: %s}\n", i + 1, i, match);
}

static int measure(unsigned n)
{
    char *yaml = NULL, line[512];
    size_t len = 0, cap = 0;
    append(&yaml, &len, &cap, "format: 1\nrules:\n");
    for (unsigned i = 0; i < n; i++) {
        rule_yaml(i, line, sizeof(line));
        if (append(&yaml, &len, &cap, line) != 0)
            return -1;
    }
    vp_compiler_t *c;
    uint8_t *bytes = NULL;
    size_t blen = 0;
    vp_compiler_create(&c);
    vp_compiler_add_memory(c, "gen.yaml", yaml, len);
    vp_status st = vp_compiler_build(c, &bytes, &blen);
    vp_compiler_free(c);
    free(yaml);
    if (st != VP_OK)
        return -1;
    vp_bundle_t *b;
    vp_engine_t *e;
    if (vp_bundle_load_memory(bytes, blen, &b, NULL) != VP_OK ||
        vp_engine_create(b, NULL, &e, NULL) != VP_OK)
        return -1;
    printf("{\"rules\": %u, \"bundle_bytes\": %zu, \"stream_bytes\": %zu}\n", n, blen,
           vp_engine_stream_size(e));
    vp_engine_free(e);
    vp_bundle_free(b);
    vp_compiler_bundle_free(bytes);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned defaults[] = {10, 100, 1000};
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            if (measure((unsigned)strtoul(argv[i], NULL, 10)) != 0)
                return 1;
        return 0;
    }
    for (size_t i = 0; i < 3; i++)
        if (measure(defaults[i]) != 0)
            return 1;
    return 0;
}
