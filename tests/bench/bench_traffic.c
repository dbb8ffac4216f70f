/*
 * The traffic corpus.  Each flow is one direction of one TCP connection:
 *
 *  - port 80 / 8080 / 8000: 70 % client streams of HTTP/1.1 keep-alive
 *    requests (GET/POST/PUT/HEAD, realistic headers, cookies, form and JSON
 *    bodies; 30 % of the client flows carry "Authorization:" headers), 30 %
 *    server streams of responses (HTML with scripts, JSON, binary bodies);
 *  - port 443: a ClientHello (or ServerHello and certificate) then TLS
 *    application-data records of random bytes.
 *
 * About one message in 300 is replaced by an attack message for a rule drawn
 * from 0..n_rules-1 (small indices more often), and one flow start in 20 by
 * an attack that must sit at the start of the stream, so that every rule set
 * produces some events.
 */
#include "bench_traffic.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_rules.h"
#include "bench_util.h"

static const char *words[] = {
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
    "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo",
    "sierra", "tango", "uniform", "victor", "whiskey", "xray", "yankee", "zulu", "account",
    "admin", "order", "price", "basket", "search", "result", "profile", "settings", "news",
    "weather", "image", "video", "upload", "download", "report", "invoice", "customer",
    "product", "category", "review", "comment", "login", "logout", "session", "token",
    "status", "health", "metrics", "config", "update", "delete", "create", "detail",
    "summary", "page", "limit", "offset",
};
#define N_WORDS (sizeof(words) / sizeof(words[0]))

static const char *agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "curl/8.5.0",
    "okhttp/4.12.0",
    "python-requests/2.31.0",
};
#define N_AGENTS (sizeof(agents) / sizeof(agents[0]))

static const char *word(bench_rng *r)
{
    return words[rng_below(r, (uint32_t)N_WORDS)];
}

static void random_bytes(bench_rng *r, bench_buf *b, size_t n)
{
    if (buf_reserve(b, n + 8) != 0)
        return;
    uint8_t *p = b->p + b->len;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = rng_next(r);
        memcpy(p + i, &v, 8);
    }
    b->len += n;
}

static void hex_token(bench_rng *r, bench_buf *b, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    char tmp[128];
    if (n > sizeof(tmp))
        n = sizeof(tmp);
    for (size_t i = 0; i < n; i++)
        tmp[i] = hx[rng_below(r, 16)];
    buf_add(b, tmp, n);
}

static void b64_token(bench_rng *r, bench_buf *b, size_t n)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char tmp[256];
    if (n > sizeof(tmp))
        n = sizeof(tmp);
    for (size_t i = 0; i < n; i++)
        tmp[i] = al[rng_below(r, 64)];
    buf_add(b, tmp, n);
}

static void path(bench_rng *r, bench_buf *b)
{
    switch (rng_below(r, 12)) {
    case 0: buf_str(b, "/"); break;
    case 1: buf_str(b, "/index.html"); break;
    case 2: buf_str(b, "/static/js/app."); hex_token(r, b, 8); buf_str(b, ".js"); break;
    case 3: buf_fmt(b, "/static/css/site.%u.css", rng_below(r, 50)); break;
    case 4: buf_fmt(b, "/api/v%u/%s/%u", 1 + rng_below(r, 3), word(r), rng_below(r, 100000)); break;
    case 5:
        buf_fmt(b, "/search?q=%s+%s&page=%u", word(r), word(r), rng_below(r, 20));
        break;
    case 6: buf_fmt(b, "/images/%u.png", rng_below(r, 1000000)); break;
    case 7: buf_fmt(b, "/products/%s-%s-%u", word(r), word(r), rng_below(r, 10000)); break;
    case 8: buf_str(b, "/wp-login.php"); break;
    case 9: buf_fmt(b, "/cart/add?item=%u&qty=%u", rng_below(r, 100000), 1 + rng_below(r, 5)); break;
    case 10: buf_fmt(b, "/%s/%s", word(r), word(r)); break;
    default: buf_str(b, "/cgi-bin/status"); break;
    }
}

static void form_body(bench_rng *r, bench_buf *b, size_t n)
{
    size_t start = b->len;
    while (b->len - start < n && !b->oom)
        buf_fmt(b, "%s%s=%s%u", b->len > start ? "&" : "", word(r), word(r), rng_below(r, 1000));
}

static void json_body(bench_rng *r, bench_buf *b, size_t n)
{
    size_t start = b->len;
    buf_str(b, "{");
    while (b->len - start < n && !b->oom)
        buf_fmt(b, "%s\"%s\":\"%s %s\",\"%s_id\":%u", b->len > start + 1 ? "," : "", word(r),
                word(r), word(r), word(r), rng_below(r, 1000000));
    buf_str(b, "}");
}

static void html_body(bench_rng *r, bench_buf *b, size_t n)
{
    size_t start = b->len;
    buf_fmt(b, "<!DOCTYPE html>\n<html><head><title>%s %s</title>\n", word(r), word(r));
    buf_str(b, "<script src=\"/static/js/app.js\"></script></head><body>\n");
    while (b->len - start < n && !b->oom) {
        switch (rng_below(r, 6)) {
        case 0:
            buf_fmt(b, "<a href=\"/%s/%s?id=%u\">%s</a>\n", word(r), word(r), rng_below(r, 9999),
                    word(r));
            break;
        case 1:
            buf_fmt(b, "<script>var %s = {\"%s\": %u};</script>\n", word(r), word(r),
                    rng_below(r, 999));
            break;
        case 2:
            buf_fmt(b, "<img src=\"/images/%u.png\" alt=\"%s\">\n", rng_below(r, 99999), word(r));
            break;
        default:
            buf_fmt(b, "<p class=\"%s\">%s %s %s %s %s %s.</p>\n", word(r), word(r), word(r),
                    word(r), word(r), word(r), word(r));
            break;
        }
    }
    buf_str(b, "</body></html>\n");
}

static void http_request(bench_rng *r, bench_buf *b, uint16_t port, int auth)
{
    static const char *methods[] = {"GET", "GET", "GET", "GET", "GET", "GET", "GET",
                                    "POST", "POST", "PUT", "HEAD"};
    const char *m = methods[rng_below(r, 11)];
    int body = m[0] == 'P';
    buf_fmt(b, "%s ", m);
    path(r, b);
    buf_fmt(b, " HTTP/1.1\r\nHost: www.%s%u.example.com%s\r\n", word(r), rng_below(r, 100),
            port == 8080 ? ":8080" : "");
    buf_fmt(b, "User-Agent: %s\r\n", agents[rng_below(r, (uint32_t)N_AGENTS)]);
    buf_str(b, "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
               "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n");
    if (rng_chance(r, 3, 5)) {
        buf_str(b, "Cookie: sid=");
        hex_token(r, b, 32);
        buf_fmt(b, "; theme=%s\r\n", word(r));
    }
    if (rng_chance(r, 1, 2))
        buf_fmt(b, "Referer: http://www.%s.example.com/%s\r\n", word(r), word(r));
    if (auth) {
        buf_str(b, "Authorization: Bearer ");
        b64_token(r, b, 40);
        buf_str(b, "\r\n");
    }
    if (!body) {
        buf_str(b, "Connection: keep-alive\r\n\r\n");
        return;
    }
    bench_buf tmp = {0};
    size_t n = 50 + rng_below(r, 4000);
    int json = rng_chance(r, 1, 2);
    if (json)
        json_body(r, &tmp, n);
    else
        form_body(r, &tmp, n);
    buf_fmt(b, "Content-Type: %s\r\nContent-Length: %zu\r\nConnection: keep-alive\r\n\r\n",
            json ? "application/json" : "application/x-www-form-urlencoded", tmp.len);
    buf_add(b, tmp.p, tmp.len);
    buf_free(&tmp);
}

static void http_response(bench_rng *r, bench_buf *b)
{
    static const char *status[] = {"200 OK", "200 OK", "200 OK", "200 OK", "200 OK",
                                   "200 OK", "200 OK", "304 Not Modified", "404 Not Found",
                                   "302 Found"};
    const char *st = status[rng_below(r, 10)];
    buf_fmt(b, "HTTP/1.1 %s\r\nDate: Mon, 0%u Jun 2025 1%u:2%u:3%u GMT\r\n", st, rng_below(r, 9) + 1,
            rng_below(r, 10), rng_below(r, 10), rng_below(r, 10));
    buf_fmt(b, "Server: %s\r\n", rng_chance(r, 1, 2) ? "nginx/1.24.0" : "Apache/2.4.58 (Unix)");
    if (rng_chance(r, 1, 4))
        buf_fmt(b, "X-Powered-By: PHP/8.%u\r\n", rng_below(r, 4));
    if (rng_chance(r, 1, 5)) {
        buf_str(b, "Set-Cookie: sid=");
        hex_token(r, b, 32);
        buf_str(b, "; Path=/; HttpOnly\r\n");
    }
    if (st[0] != '2') {
        buf_str(b, "Content-Length: 0\r\n\r\n");
        return;
    }
    bench_buf tmp = {0};
    const char *ct;
    unsigned kind = rng_below(r, 10);
    if (kind < 5) {
        ct = "text/html; charset=utf-8";
        html_body(r, &tmp, 200 + rng_below(r, 20000));
    } else if (kind < 7) {
        ct = "application/json";
        json_body(r, &tmp, 100 + rng_below(r, 6000));
    } else {
        ct = "image/png";
        buf_add(&tmp, "\x89PNG\r\n\x1a\n", 8);
        random_bytes(r, &tmp, 500 + rng_below(r, 30000));
    }
    buf_fmt(b, "Content-Type: %s\r\nContent-Length: %zu\r\nCache-Control: max-age=%u\r\n\r\n", ct,
            tmp.len, rng_below(r, 86400));
    buf_add(b, tmp.p, tmp.len);
    buf_free(&tmp);
}

static void tls_record(bench_rng *r, bench_buf *b, uint8_t type, size_t n)
{
    uint8_t h[5] = {type, 0x03, 0x03, (uint8_t)(n >> 8), (uint8_t)n};
    buf_add(b, h, 5);
    random_bytes(r, b, n);
}

static void tls_client_hello(bench_rng *r, bench_buf *b)
{
    char sni[64];
    snprintf(sni, sizeof(sni), "www.%s%u.example.com", word(r), rng_below(r, 1000));
    size_t sl = strlen(sni);
    size_t body = 2 + 32 + 1 + 32 + 2 + 8 + 2 + 2 + 9 + sl;
    uint8_t h[9] = {0x16, 0x03, 0x01, (uint8_t)((body + 4) >> 8), (uint8_t)(body + 4), 0x01, 0,
                    (uint8_t)(body >> 8), (uint8_t)body};
    buf_add(b, h, sizeof(h));
    buf_add(b, "\x03\x03", 2);
    random_bytes(r, b, 32);
    buf_add(b, "\x20", 1);
    random_bytes(r, b, 32);
    buf_add(b, "\x00\x08\x13\x01\x13\x02\x13\x03\xc0\x2f\x01\x00", 12);
    uint8_t ext[9] = {0x00, 0x00, (uint8_t)((sl + 5) >> 8), (uint8_t)(sl + 5),
                      (uint8_t)((sl + 3) >> 8), (uint8_t)(sl + 3), 0x00,
                      (uint8_t)(sl >> 8), (uint8_t)sl};
    buf_add(b, ext, sizeof(ext));
    buf_str(b, sni);
}

/* Rule index for an attack: one of 10, 100, 1000, n_rules scales, uniform within. */
static unsigned pick_rule(bench_rng *r, unsigned n_rules)
{
    static const unsigned scales[] = {10, 100, 1000, 5000};
    unsigned s = scales[rng_below(r, 4)];
    if (s > n_rules)
        s = n_rules;
    return rng_below(r, s);
}

static int make_chunks(bench_corpus *c);

static int try_trigger(bench_rng *r, bench_buf *b, const bench_flow *f, unsigned n_rules,
                       int at_start, int auth)
{
    for (int k = 0; k < 8; k++)
        if (rule_trigger(pick_rule(r, n_rules), f->port, f->to_client, f->tls, at_start, auth, b))
            return 1;
    return 0;
}

int corpus_generate(bench_corpus *c, size_t bytes, size_t n_flows, size_t chunk_size,
                    unsigned n_rules, uint64_t seed)
{
    memset(c, 0, sizeof(*c));
    bench_rng rng = {seed};
    bench_rng *r = &rng;
    bench_buf b = {0};
    c->flows = calloc(n_flows, sizeof(bench_flow));
    if (!c->flows || buf_reserve(&b, bytes + bytes / 8 + 65536) != 0)
        goto fail;
    c->n_flows = n_flows;
    c->chunk_size = chunk_size;
    size_t avg = bytes / n_flows;
    for (size_t fi = 0; fi < n_flows; fi++) {
        bench_flow *f = &c->flows[fi];
        uint32_t pr = rng_below(r, 100);
        f->port = pr < 45 ? 80 : pr < 65 ? 443 : pr < 90 ? 8080 : 8000;
        f->tls = f->port == 443;
        f->to_client = rng_chance(r, 3, 10);
        int auth = !f->to_client && rng_chance(r, 3, 10);
        size_t target = avg / 4 + (size_t)((double)avg * 1.5 * (double)rng_below(r, 1000) / 1000.0);
        if (target < 64)
            target = 64;
        f->off = b.len;
        if (n_rules && rng_chance(r, 1, 20) && try_trigger(r, &b, f, n_rules, 1, auth) &&
            b.len - f->off <= target)
            f->triggers++;
        int first = 1;
        while (b.len - f->off < target && !b.oom) {
            if (n_rules && rng_chance(r, 1, 300) && try_trigger(r, &b, f, n_rules, 0, auth)) {
                f->triggers += b.len - f->off <= target;  /* not cut off at the end */
                continue;
            }
            if (f->tls) {
                if (first && !f->to_client && b.len == f->off) {
                    tls_client_hello(r, &b);
                } else if (first && f->to_client) {
                    tls_record(r, &b, 0x16, 90);
                    tls_record(r, &b, 0x16, 2500 + rng_below(r, 1500));
                } else {
                    tls_record(r, &b, 0x17, 100 + rng_below(r, 16000));
                }
            } else if (f->to_client) {
                http_response(r, &b);
            } else {
                http_request(r, &b, f->port, auth && (first || rng_chance(r, 4, 5)));
            }
            first = 0;
        }
        /* The connection ends where the flow reaches its size, mid-message
         * or not, so the corpus has the size asked for. */
        if (b.len - f->off > target)
            b.len = f->off + target;
        f->len = b.len - f->off;
        c->triggers += f->triggers;
    }
    if (b.oom)
        goto fail;
    c->data = b.p;
    c->len = b.len;
    return make_chunks(c);
fail:
    buf_free(&b);
    free(c->flows);
    memset(c, 0, sizeof(*c));
    return -1;
}

/* Cuts the flows into chunks, round-robin: chunk k of every flow, then k+1. */
static int make_chunks(bench_corpus *c)
{
    size_t chunk_size = c->chunk_size, n_flows = c->n_flows;
    size_t max_chunks = 0;
    for (size_t fi = 0; fi < n_flows; fi++) {
        size_t k = (c->flows[fi].len + chunk_size - 1) / chunk_size;
        c->n_chunks += k;
        if (k > max_chunks)
            max_chunks = k;
    }
    c->chunks = malloc(c->n_chunks * sizeof(bench_chunk));
    if (!c->chunks) {
        corpus_free(c);
        return -1;
    }
    size_t n = 0;
    for (size_t round = 0; round < max_chunks; round++) {
        for (size_t fi = 0; fi < n_flows; fi++) {
            const bench_flow *f = &c->flows[fi];
            size_t at = round * chunk_size;
            if (at >= f->len)
                continue;
            size_t len = f->len - at < chunk_size ? f->len - at : chunk_size;
            c->chunks[n].p = c->data + f->off + at;
            c->chunks[n].flow = (uint32_t)fi;
            c->chunks[n].len = (uint32_t)len;
            n++;
        }
    }
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "NAME.PORT.to_server" / "NAME.PORT.to_client"; 0 when the name has no such form. */
static int parse_stream_name(const char *name, uint16_t *port, uint8_t *to_client)
{
    const char *dot = strrchr(name, '.');
    if (!dot || (strcmp(dot + 1, "to_server") != 0 && strcmp(dot + 1, "to_client") != 0))
        return 0;
    *to_client = strcmp(dot + 1, "to_client") == 0;
    const char *p = dot;
    while (p > name && p[-1] != '.')
        p--;
    if (p == name || p == dot)
        return 0;
    unsigned long v = 0;
    for (const char *q = p; q < dot; q++) {
        if (*q < '0' || *q > '9')
            return 0;
        v = v * 10 + (unsigned long)(*q - '0');
        if (v > 65535)
            return 0;
    }
    *port = (uint16_t)v;
    return 1;
}

int corpus_load_dir(bench_corpus *c, const char *dir, size_t chunk_size)
{
    memset(c, 0, sizeof(*c));
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int bad = 0;
    while ((de = readdir(d)) != NULL && !bad) {
        uint16_t port;
        uint8_t tc;
        if (!parse_stream_name(de->d_name, &port, &tc))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*names));
            if (!nn) {
                bad = 1;
                break;
            }
            names = nn;
        }
        names[n] = strdup(de->d_name);
        if (!names[n])
            bad = 1;
        else
            n++;
    }
    closedir(d);
    bench_buf b = {0};
    if (!bad && n)
        qsort(names, n, sizeof(*names), cmp_name);
    c->flows = calloc(n ? n : 1, sizeof(bench_flow));
    if (!c->flows)
        bad = 1;
    for (size_t i = 0; i < n && !bad; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            bad = 1;
            break;
        }
        bench_flow *fl = &c->flows[i];
        parse_stream_name(names[i], &fl->port, &fl->to_client);
        fl->off = b.len;
        char tmp[65536];
        size_t k;
        while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
            buf_add(&b, tmp, k);
        bad = ferror(f) || b.oom;
        fclose(f);
        fl->len = b.len - fl->off;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (bad || n == 0 || b.len == 0) {
        buf_free(&b);
        free(c->flows);
        memset(c, 0, sizeof(*c));
        return -1;
    }
    c->n_flows = n;
    c->chunk_size = chunk_size;
    c->data = b.p;
    c->len = b.len;
    return make_chunks(c);
}

void corpus_free(bench_corpus *c)
{
    free(c->data);
    free(c->flows);
    free(c->chunks);
    memset(c, 0, sizeof(*c));
}

bench_chunk *corpus_part(const bench_corpus *c, unsigned part, unsigned parts, size_t *n)
{
    bench_chunk *out = malloc((c->n_chunks ? c->n_chunks : 1) * sizeof(bench_chunk));
    *n = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < c->n_chunks; i++)
        if (c->chunks[i].flow % parts == part)
            out[(*n)++] = c->chunks[i];
    return out;
}

/* ------------------------------------------------------------ pcap */

typedef struct pcap_w {
    FILE *f;
    uint64_t ts_us;
    uint64_t packets, bytes;
} pcap_w;

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint16_t ip_checksum(const uint8_t *h, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i < n; i += 2)
        s += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

enum { F_FIN = 1, F_SYN = 2, F_ACK = 16, F_PSH = 8 };

/* One Ethernet/IPv4/TCP frame; `from_client` picks the endpoints. */
static void pcap_packet(pcap_w *w, size_t flow, uint16_t sport, int from_client, uint32_t seq,
                        uint32_t ack, uint8_t flags, const uint8_t *payload, size_t len)
{
    uint8_t rec[16], h[54];
    size_t total = sizeof(h) + len;
    uint32_t ts = (uint32_t)(w->ts_us / 1000000), us = (uint32_t)(w->ts_us % 1000000);
    memcpy(rec, &ts, 4);
    memcpy(rec + 4, &us, 4);
    uint32_t t32 = (uint32_t)total;
    memcpy(rec + 8, &t32, 4);
    memcpy(rec + 12, &t32, 4);
    memset(h, 0, sizeof(h));
    static const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 1}, mac_s[6] = {0x02, 0, 0, 0, 0, 2};
    memcpy(h, from_client ? mac_s : mac_c, 6);
    memcpy(h + 6, from_client ? mac_c : mac_s, 6);
    h[12] = 0x08;
    h[13] = 0x00;
    uint8_t *ip = h + 14;
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + 20 + len));
    put16(ip + 4, (uint16_t)w->packets);
    ip[6] = 0x40;
    ip[8] = 64;
    ip[9] = 6;
    uint8_t cli[4] = {10, (uint8_t)(1 + (flow >> 16)), (uint8_t)(flow >> 8), (uint8_t)flow};
    uint8_t srv[4] = {192, 0, 2, 10};
    memcpy(ip + 12, from_client ? cli : srv, 4);
    memcpy(ip + 16, from_client ? srv : cli, 4);
    put16(ip + 10, ip_checksum(ip, 20));
    uint8_t *tcp = ip + 20;
    uint16_t cport = (uint16_t)(20000 + flow % 40000);
    put16(tcp, from_client ? cport : sport);
    put16(tcp + 2, from_client ? sport : cport);
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    fwrite(rec, 1, sizeof(rec), w->f);
    fwrite(h, 1, sizeof(h), w->f);
    if (len)
        fwrite(payload, 1, len, w->f);
    w->packets++;
    w->bytes += sizeof(rec) + total;
    w->ts_us += 5;
}

int corpus_write_pcap(const bench_corpus *c, const char *path, size_t max_payload,
                      uint64_t *payload, uint64_t *packets, uint64_t *file_bytes)
{
    size_t k = 0, sum = 0;
    while (k < c->n_flows && k < 65536 && sum + c->flows[k].len <= max_payload)
        sum += c->flows[k++].len;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    static char iobuf[1 << 20];
    setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
    uint8_t gh[24];
    uint32_t magic = 0xa1b2c3d4, snap = 65535, link = 1, zero = 0;
    uint16_t vmaj = 2, vmin = 4;
    memcpy(gh, &magic, 4);
    memcpy(gh + 4, &vmaj, 2);
    memcpy(gh + 6, &vmin, 2);
    memcpy(gh + 8, &zero, 4);
    memcpy(gh + 12, &zero, 4);
    memcpy(gh + 16, &snap, 4);
    memcpy(gh + 20, &link, 4);
    fwrite(gh, 1, sizeof(gh), f);
    pcap_w w = {f, 1700000000ull * 1000000ull, 0, 24};
    const uint32_t cisn = 1000, sisn = 500000;
    for (size_t fi = 0; fi < k; fi++) {
        uint16_t sp = c->flows[fi].port;
        pcap_packet(&w, fi, sp, 1, cisn, 0, F_SYN, NULL, 0);
        pcap_packet(&w, fi, sp, 0, sisn, cisn + 1, F_SYN | F_ACK, NULL, 0);
        pcap_packet(&w, fi, sp, 1, cisn + 1, sisn + 1, F_ACK, NULL, 0);
    }
    /* Data, round-robin in the benchmark's chunk order. */
    for (size_t i = 0; i < c->n_chunks; i++) {
        const bench_chunk *ch = &c->chunks[i];
        if (ch->flow >= k)
            continue;
        const bench_flow *fl = &c->flows[ch->flow];
        uint32_t rel = (uint32_t)(ch->p - (c->data + fl->off));
        int from_client = !fl->to_client;
        uint32_t seq = (from_client ? cisn : sisn) + 1 + rel;
        uint32_t ack = (from_client ? sisn : cisn) + 1;
        pcap_packet(&w, ch->flow, fl->port, from_client, seq, ack, F_ACK | F_PSH, ch->p, ch->len);
    }
    for (size_t fi = 0; fi < k; fi++) {
        const bench_flow *fl = &c->flows[fi];
        uint16_t sp = fl->port;
        uint32_t cend = cisn + 1 + (fl->to_client ? 0 : (uint32_t)fl->len);
        uint32_t send = sisn + 1 + (fl->to_client ? (uint32_t)fl->len : 0);
        pcap_packet(&w, fi, sp, 1, cend, send, F_FIN | F_ACK, NULL, 0);
        pcap_packet(&w, fi, sp, 0, send, cend + 1, F_FIN | F_ACK, NULL, 0);
        pcap_packet(&w, fi, sp, 1, cend + 1, send + 1, F_ACK, NULL, 0);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return -1;
    *payload = sum;
    *packets = w.packets;
    *file_bytes = w.bytes;
    return 0;
}
