/*
 * HTTP/1.x message framing: start line, header block, body (Content-Length,
 * chunked, until close), pipelining.  Header parts are kept in one bounded
 * area and handed out whole; bodies go to http_body.c as they arrive.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"

/* ------------------------------------------------------------ lifecycle */

vp_http *vp_http_new(int to_client, const vp_http_limits *limits)
{
    vp_http *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->to_client = to_client;
    h->lim = *limits;
    h->state = H_LINE;
    return h;
}

/* The areas grow with the headers actually seen (most are a few hundred
 * bytes), up to the limit; they stay with the stream for its next messages. */
static int area_grow(vp_http *h)
{
    size_t cap = h->area_cap ? h->area_cap * 2 : 512;
    if (cap > h->lim.header_bytes)
        cap = h->lim.header_bytes;
    uint8_t *p = realloc(h->area, cap);
    if (!p)
        return -1;
    h->area = p;
    h->area_cap = cap;
    return 0;
}

/* Room for buffers derived from `n` kept bytes: normalizing never more than
 * doubles them ("a:b\n" becomes "a: b\r\n"). */
static int derived_reserve(vp_http *h, size_t n)
{
    size_t need = 2 * n + 64;
    if (need <= h->derived_cap)
        return 0;
    uint8_t *p = realloc(h->derived, need);
    if (!p)
        return -1;
    h->derived = p;
    h->derived_cap = need;
    return 0;
}

void vp_http_free(vp_http *h)
{
    if (!h)
        return;
    if (h->peer)
        h->peer->peer = NULL;
    vp_http_body_end(h);
    free(h->area);
    free(h->derived);
    free(h);
}

void vp_http_link(vp_http *requests, vp_http *responses)
{
    if (!requests || !responses || requests->to_client || !responses->to_client)
        return;
    requests->peer = responses;
    responses->peer = requests;
}

/* Once a stream is no longer parsed, its areas are not needed. */
static void release_areas(vp_http *h)
{
    free(h->area);
    free(h->derived);
    h->area = h->derived = NULL;
    h->area_cap = h->derived_cap = 0;
}

void vp_http_abort(vp_http *h)
{
    vp_http_body_end(h);
    h->state = H_DONE;
    release_areas(h);
}

int vp_http_active(const vp_http *h)
{
    return h && h->state != H_DONE;
}

void vp_http_counters_get(const vp_http *h, vp_http_counters *out)
{
    *out = h->counters;
}

void vp_http_report(vp_http *h, const vp_http_sink *sink, int anomaly, uint64_t raw)
{
    if (h->reported & (1u << anomaly))
        return;
    h->reported |= 1u << anomaly;
    h->counters.anomalies++;
    if (anomaly == VP_AN_HEADER_LIMIT || anomaly == VP_AN_BODY_DECOMPRESSION_LIMIT)
        h->counters.limit_hits++;
    sink->anomaly(sink->ctx, anomaly, raw);
}

/* ------------------------------------------------------------ start lines */

/* RFC 9110 token characters. */
static const uint8_t tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

static int is_tchar(uint8_t c)
{
    return tchar[c];
}

static int is_version(const uint8_t *p, size_t n)
{
    return n == 8 && memcmp(p, "HTTP/", 5) == 0 && p[5] >= '0' && p[5] <= '9' && p[6] == '.' &&
           p[7] >= '0' && p[7] <= '9';
}

/* "METHOD SP target SP HTTP/x.y"; fills the method and target spans. */
static int parse_request_line(vp_http *h, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && is_tchar(p[i]))
        i++;
    if (i == 0 || i > 32 || i >= n || p[i] != ' ')
        return -1;
    h->method_len = i;
    while (i < n && p[i] == ' ')
        i++;
    size_t t = i;
    while (i < n && p[i] != ' ')
        i++;
    if (i == t)
        return -1;
    h->target_off = t;
    h->target_len = i - t;
    while (i < n && p[i] == ' ')
        i++;
    return is_version(p + i, n - i) ? 0 : -1;
}

/* "HTTP/x.y SP 3DIGIT [SP reason]". */
static int parse_status_line(vp_http *h, const uint8_t *p, size_t n)
{
    if (n < 12 || !is_version(p, 8) || p[8] != ' ')
        return -1;
    for (int k = 9; k < 12; k++)
        if (p[k] < '0' || p[k] > '9')
            return -1;
    if (n > 12 && p[12] != ' ')
        return -1;
    h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    return 0;
}

static void emit_request_line(vp_http *h, const vp_http_sink *sink, uint64_t raw)
{
    const uint8_t *line = h->area;
    const uint8_t *target = line + h->target_off;
    uint32_t an = 0;
    size_t ulen = 0;
    if (derived_reserve(h, h->target_len) == 0)
        ulen = vp_http_normalize_uri(target, h->target_len, h->derived, h->derived_cap, &an);
    sink->buffer(sink->ctx, VP_BUF_METHOD, line, h->method_len, raw);
    sink->buffer(sink->ctx, VP_BUF_URI_RAW, target, h->target_len, raw);
    sink->buffer(sink->ctx, VP_BUF_URI, h->derived, ulen, raw);
    sink->buffer(sink->ctx, VP_BUF_REQUEST_LINE, line, h->line_len, raw);
    for (int a = 0; a < VP_AN_COUNT; a++)
        if (an & (1u << a))
            vp_http_report(h, sink, a, raw);
}

static void remember_method(vp_http *h)
{
    h->is_head = h->method_len == 4 && memcmp(h->area, "HEAD", 4) == 0;
    h->is_connect = h->method_len == 7 && memcmp(h->area, "CONNECT", 7) == 0;
    /* The response side takes methods in order (pipelining). */
    if (h->peer) {
        vp_http *r = h->peer;
        if (r->pending_methods < VP_HTTP_METHOD_QUEUE) {
            size_t slot = (r->method_head + r->pending_methods) % VP_HTTP_METHOD_QUEUE;
            r->methods[slot] = (uint8_t)(h->is_head ? 1 : h->is_connect ? 2 : 0);
            r->pending_methods++;
        }
    }
}

static int next_response_method(vp_http *h)
{
    if (!h->pending_methods)
        return 0;
    int m = h->methods[h->method_head];
    h->method_head = (h->method_head + 1) % VP_HTTP_METHOD_QUEUE;
    h->pending_methods--;
    return m;
}

/* The start line is complete (without its line ending) in area[0..line_len). */
static void start_line_done(vp_http *h, const vp_http_sink *sink, uint64_t raw)
{
    int ok = h->to_client ? parse_status_line(h, h->area, h->line_len)
                          : parse_request_line(h, h->area, h->line_len);
    if (ok != 0 || h->line_truncated) {
        if (h->counters.messages)
            vp_http_report(h, sink, VP_AN_MALFORMED_MESSAGE, raw);
        h->state = H_DONE;
        return;
    }
    h->counters.messages++;
    h->reported = 0;
    sink->message_begin(sink->ctx);
    if (h->to_client) {
        uint8_t code[3] = {h->area[9], h->area[10], h->area[11]};
        sink->buffer(sink->ctx, VP_BUF_STAT_CODE, code, 3, raw);
    } else {
        emit_request_line(h, sink, raw);
        remember_method(h);
    }
    h->header_start = h->line_len;
    h->used = h->line_len;
    h->header_truncated = 0;
    h->state = H_HEADERS;
}

/* ------------------------------------------------------------ headers */

static int name_is(const uint8_t *p, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp((const char *)p, name, n) == 0;
}

static uint8_t *append(uint8_t *out, uint8_t *end, const void *p, size_t n)
{
    size_t room = (size_t)(end - out);
    if (n > room)
        n = room;
    memcpy(out, p, n);
    return out + n;
}

static void trim(const uint8_t **p, size_t *n)
{
    while (*n && ((*p)[0] == ' ' || (*p)[0] == '\t'))
        (*p)++, (*n)--;
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r' ||
                  (*p)[*n - 1] == '\n'))
        (*n)--;
}

typedef struct header_scan {
    const uint8_t *name;
    size_t name_len;
    const uint8_t *lines;   /* first line of the value */
    size_t lines_len;       /* value with its continuation lines */
} header_scan;

/* Iterates headers of the raw block, joining continuation lines. */
static int next_header(const uint8_t **cur, const uint8_t *end, header_scan *hs, int *invalid)
{
    while (*cur < end) {
        const uint8_t *line = *cur;
        const uint8_t *nl = memchr(line, '\n', (size_t)(end - line));
        const uint8_t *stop = nl ? nl + 1 : end;
        /* extend over continuation lines */
        while (stop < end && (*stop == ' ' || *stop == '\t')) {
            const uint8_t *n2 = memchr(stop, '\n', (size_t)(end - stop));
            stop = n2 ? n2 + 1 : end;
        }
        *cur = stop;
        const uint8_t *colon = memchr(line, ':', (size_t)(stop - line));
        size_t nlen = colon ? (size_t)(colon - line) : 0;
        int valid = colon && nlen > 0;
        for (size_t i = 0; valid && i < nlen; i++)
            valid = is_tchar(line[i]);
        if (!valid) {
            *invalid = 1;
            continue;
        }
        hs->name = line;
        hs->name_len = nlen;
        hs->lines = colon + 1;
        hs->lines_len = (size_t)(stop - colon - 1);
        return 1;
    }
    return 0;
}

/* Copies a header value with continuation lines joined by one space. */
static uint8_t *append_value(uint8_t *out, uint8_t *end, const uint8_t *v, size_t n)
{
    int started = 0, pending_space = 0;
    for (size_t i = 0; i < n && out < end; i++) {
        uint8_t c = v[i];
        if (c == '\r' || c == '\n' || c == ' ' || c == '\t') {
            pending_space = started;
            continue;
        }
        if (pending_space) {
            *out++ = ' ';
            pending_space = 0;
            if (out == end)
                break;
        }
        *out++ = c;
        started = 1;
    }
    return out;
}

static int parse_length(const uint8_t *v, size_t n, uint64_t *out)
{
    trim(&v, &n);
    if (!n || n > 18)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return 0;
}

static int has_token(const uint8_t *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    for (size_t i = 0; i + tl <= n; i++)
        if (strncasecmp((const char *)v + i, tok, tl) == 0)
            return 1;
    return 0;
}

/* The headers of a block again: from the notes of the first walk, or by
 * walking the block once more when there were too many to note. */
typedef struct header_walk {
    const uint8_t *cur, *end;
    const header_scan *seen;
    size_t n_seen, at;
    int too_many;
} header_walk;

static int walk_next(header_walk *w, header_scan *hs)
{
    int invalid = 0;
    if (w->too_many)
        return next_header(&w->cur, w->end, hs, &invalid);
    if (w->at >= w->n_seen)
        return 0;
    *hs = w->seen[w->at++];
    return 1;
}

/* Reads framing headers, then hands out every header buffer. */
static void headers_done(vp_http *h, const vp_http_sink *sink, uint64_t raw)
{
    const uint8_t *block = h->area + h->header_start;
    const uint8_t *end = h->area + h->used;
    if (derived_reserve(h, h->used) != 0)
        end = block; /* no memory: the headers are inspected as empty */
    uint8_t *out = h->derived, *out_end = h->derived + h->derived_cap;
    static const int value_bufs[4] = {VP_BUF_HOST, VP_BUF_USER_AGENT, VP_BUF_COOKIE,
                                      VP_BUF_CONTENT_TYPE};
    static const char *const value_names[4] = {"host", "user-agent", "cookie", "content-type"};
    int have_cl = 0, chunked = 0, invalid = 0;
    uint64_t cl = 0;
    h->encoding = VP_ENC_NONE;

    /* http.header: "Name: value\r\n" per header; the headers are also noted
     * so the single-header buffers need no second walk. */
    header_scan seen[64];
    size_t n_seen = 0;
    int too_many = 0;
    const uint8_t *cur = block;
    header_scan hs;
    while (next_header(&cur, end, &hs, &invalid)) {
        if (n_seen < sizeof(seen) / sizeof(seen[0]))
            seen[n_seen++] = hs;
        else
            too_many = 1;
        out = append(out, out_end, hs.name, hs.name_len);
        out = append(out, out_end, ": ", 2);
        out = append_value(out, out_end, hs.lines, hs.lines_len);
        out = append(out, out_end, "\r\n", 2);
        if (name_is(hs.name, hs.name_len, "content-length")) {
            uint64_t v;
            if (parse_length(hs.lines, hs.lines_len, &v) != 0)
                invalid = 1;
            else if (have_cl)
                vp_http_report(h, sink, VP_AN_HEADER_DUPLICATE_CONTENT_LENGTH, raw);
            else
                cl = v, have_cl = 1;
        } else if (name_is(hs.name, hs.name_len, "transfer-encoding")) {
            chunked = has_token(hs.lines, hs.lines_len, "chunked");
        } else if (name_is(hs.name, hs.name_len, "content-encoding")) {
            if (has_token(hs.lines, hs.lines_len, "gzip"))
                h->encoding = VP_ENC_GZIP;
            else if (has_token(hs.lines, hs.lines_len, "deflate"))
                h->encoding = VP_ENC_DEFLATE;
        }
    }
    if (invalid)
        vp_http_report(h, sink, VP_AN_HEADER_INVALID_LINE, raw);
    if (have_cl && chunked)
        vp_http_report(h, sink, VP_AN_HEADER_TE_CL_CONFLICT, raw);
    sink->buffer(sink->ctx, VP_BUF_HEADER_RAW, block, (size_t)(end - block), raw);
    sink->buffer(sink->ctx, VP_BUF_HEADER, h->derived, (size_t)(out - h->derived), raw);

    /* http.header_names: "\r\n", each name and "\r\n", then "\r\n" (as Suricata) */
    uint8_t *nm = append(h->derived, out_end, "\r\n", 2);
    header_walk w = {block, end, seen, n_seen, 0, too_many};
    while (walk_next(&w, &hs)) {
        nm = append(nm, out_end, hs.name, hs.name_len);
        nm = append(nm, out_end, "\r\n", 2);
    }
    nm = append(nm, out_end, "\r\n", 2);
    sink->buffer(sink->ctx, VP_BUF_HEADER_NAMES, h->derived, (size_t)(nm - h->derived), raw);

    /* Single-header buffers: every header of that name, joined by ", ". */
    for (int k = 0; k < 4; k++) {
        uint8_t *v = h->derived, *vend = out_end;
        int first = 1;
        header_walk vw = {block, end, seen, n_seen, 0, too_many};
        while (walk_next(&vw, &hs)) {
            if (!name_is(hs.name, hs.name_len, value_names[k]))
                continue;
            if (!first)
                v = append(v, vend, ", ", 2);
            v = append_value(v, vend, hs.lines, hs.lines_len);
            first = 0;
        }
        sink->buffer(sink->ctx, value_bufs[k], h->derived, (size_t)(v - h->derived), raw);
    }

    /* Framing (RFC 9112 section 6.3): chunked wins over Content-Length. */
    h->body_buf = h->to_client ? VP_BUF_RESPONSE_BODY : VP_BUF_REQUEST_BODY;
    h->body_seen = 0;
    /* an interim response answers no request of its own */
    int method = h->to_client && h->status / 100 != 1 ? next_response_method(h) : 0;
    if (h->to_client && (h->status / 100 == 1)) {
        /* an interim response: the real one follows; 101 switches protocols */
        sink->message_end(sink->ctx, raw);
        h->state = h->status == 101 ? H_DONE : H_LINE;
        return;
    }
    if (h->to_client && ((method == 2 && h->status / 100 == 2))) {
        sink->message_end(sink->ctx, raw);
        h->state = H_DONE; /* CONNECT tunnel established */
        return;
    }
    if ((h->to_client && (method == 1 || h->status == 204 || h->status == 304)) ||
        (!chunked && !have_cl && !h->to_client) || (!chunked && have_cl && cl == 0)) {
        sink->message_end(sink->ctx, raw);
        h->state = (!h->to_client && h->is_connect) ? H_DONE : H_LINE;
        return;
    }
    vp_http_body_begin(h, sink);
    if (chunked) {
        h->state = H_CHUNK_SIZE;
        h->chunk_line = 0;
    } else if (have_cl) {
        h->state = H_BODY_LENGTH;
        h->remaining = cl;
    } else {
        h->state = H_BODY_EOF; /* response delimited by the end of the connection */
    }
}

/* ------------------------------------------------------------ line assembly */

/* Appends a byte of the start line or header block to the area; beyond the
 * limit the byte is counted but not kept. */
static void keep(vp_http *h, const vp_http_sink *sink, uint8_t c, uint64_t raw)
{
    if (h->used == h->area_cap && h->area_cap < h->lim.header_bytes && !h->oom &&
        area_grow(h) != 0)
        h->oom = 1;
    if (h->used < h->area_cap) {
        h->area[h->used++] = c;
        return;
    }
    if (h->state == H_LINE)
        h->line_truncated = 1;
    else if (!h->header_truncated) {
        h->header_truncated = 1;
        vp_http_report(h, sink, VP_AN_HEADER_LIMIT, raw);
    }
}

/* Keeps a run of bytes without a line feed: what keep() does byte by byte. */
static void keep_run(vp_http *h, const vp_http_sink *sink, const uint8_t *p, size_t n,
                     uint64_t raw)
{
    while (n) {
        if (h->used == h->area_cap && h->area_cap < h->lim.header_bytes && !h->oom &&
            area_grow(h) != 0)
            h->oom = 1;
        size_t room = h->area_cap - h->used;
        if (room == 0) {
            keep(h, sink, p[0], raw); /* the first byte over the limit marks it */
            return;
        }
        size_t m = n < room ? n : room;
        memcpy(h->area + h->used, p, m);
        h->used += m;
        p += m;
        n -= m;
        raw += m;
    }
}

/* The bytes before the next line feed, in bulk (the common case). */
static size_t feed_run(vp_http *h, const vp_http_sink *sink, const uint8_t *p, size_t n,
                       uint64_t raw)
{
    size_t i = 0;
    if (h->state == H_LINE) {
        while (i < n && h->used == 0 && p[i] == '\r')
            i++; /* empty lines between messages */
        keep_run(h, sink, p + i, n - i, raw + i);
        if (!h->counters.messages && h->used >= h->lim.header_bytes)
            h->state = H_DONE; /* a first line this long is not HTTP */
        return n;
    }
    for (size_t k = 0; k < n && !h->line_has_text; k++)
        h->line_has_text = p[k] != '\r';
    h->last_cr = p[n - 1] == '\r';
    keep_run(h, sink, p, n, raw);
    return n;
}

static void feed_line_byte(vp_http *h, const vp_http_sink *sink, uint8_t c, uint64_t raw)
{
    if (c != '\n') {
        if (h->used == 0 && (c == '\r'))
            return; /* empty lines between messages */
        keep(h, sink, c, raw);
        if (!h->counters.messages && h->used >= h->lim.header_bytes)
            h->state = H_DONE; /* a first line this long is not HTTP */
        return;
    }
    if (h->used == 0)
        return;
    size_t len = h->used;
    if (h->area[len - 1] == '\r')
        len--;
    else if (h->counters.messages || !h->line_truncated)
        h->bare_lf = 1;
    h->line_len = len;
    h->used = 0;
    start_line_done(h, sink, raw + 1);
    if (h->bare_lf && h->state != H_DONE)
        vp_http_report(h, sink, VP_AN_HEADER_BARE_LF, raw + 1);
    h->bare_lf = 0;
}

static void feed_header_byte(vp_http *h, const vp_http_sink *sink, uint8_t c, uint64_t raw)
{
    if (c != '\n') {
        if (c != '\r')
            h->line_has_text = 1;
        if (c == '\r')
            h->last_cr = 1;
        else
            h->last_cr = 0;
        keep(h, sink, c, raw);
        return;
    }
    if (!h->last_cr)
        vp_http_report(h, sink, VP_AN_HEADER_BARE_LF, raw + 1);
    h->last_cr = 0;
    if (!h->line_has_text) {
        /* The empty line: drop its CR from the block and finish. */
        if (h->used > h->header_start && h->area[h->used - 1] == '\r' &&
            h->used - 1 >= h->header_start)
            h->used--;
        headers_done(h, sink, raw + 1);
        h->used = 0;
        return;
    }
    keep(h, sink, c, raw);
    h->line_has_text = 0;
}

/* ------------------------------------------------------------ feeding */

void vp_http_feed(vp_http *h, const uint8_t *p, size_t n, uint64_t raw, const vp_http_sink *sink)
{
    size_t i = 0;
    while (i < n && h->state != H_DONE) {
        switch (h->state) {
        case H_LINE:
        case H_HEADERS: {
            const uint8_t *nl = memchr(p + i, '\n', n - i);
            size_t run = nl ? (size_t)(nl - (p + i)) : n - i;
            if (run)
                i += feed_run(h, sink, p + i, run, raw + i);
            if (!nl || h->state == H_DONE)
                break;
            if (h->state == H_LINE)
                feed_line_byte(h, sink, '\n', raw + i);
            else
                feed_header_byte(h, sink, '\n', raw + i);
            i++;
            break;
        }
        default:
            i += vp_http_body_feed(h, p + i, n - i, raw + i, sink);
            break;
        }
    }
    if (h->state == H_DONE)
        release_areas(h);
}

void vp_http_finish(vp_http *h, uint64_t raw, const vp_http_sink *sink)
{
    switch (h->state) {
    case H_HEADERS:
        /* the stream ended inside the header block: inspect what came */
        headers_done(h, sink, raw);
        if (h->state != H_LINE && h->state != H_DONE)
            vp_http_body_finish(h, raw, sink);
        break;
    case H_LINE:
    case H_DONE:
        break;
    default:
        vp_http_body_finish(h, raw, sink);
        break;
    }
    vp_http_body_end(h);
    h->state = H_DONE;
    release_areas(h);
}
