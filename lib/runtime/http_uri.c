/*
 * http.uri normalization: what an attacker obfuscates in a request target is
 * undone so one rule sees one form.  Each step works in place on `out`
 * because none of them makes the text longer.
 */
#include <string.h>
#include <strings.h>

#include "../common/hex.h"
#include "http.h"

static int hex_run(const uint8_t *p, size_t left, size_t digits)
{
    if (left < digits)
        return -1;
    int v = 0;
    for (size_t i = 0; i < digits; i++) {
        int h = vp_hex_digit(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static size_t utf8_encode(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    out[0] = (uint8_t)(0xe0 | (cp >> 12));
    out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (uint8_t)(0x80 | (cp & 0x3f));
    return 3;
}

/* %XX and %uXXXX; a decoded '%' that starts another escape is double encoding. */
static size_t percent_decode(const uint8_t *in, size_t n, uint8_t *out, uint32_t *an)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (in[i] != '%') {
            out[o++] = in[i++];
            continue;
        }
        int v;
        if (i + 1 < n && (in[i + 1] == 'u' || in[i + 1] == 'U') &&
            (v = hex_run(in + i + 2, n - i - 2, 4)) >= 0) {
            o += utf8_encode((uint32_t)v, out + o);
            i += 6;
        } else if ((v = hex_run(in + i + 1, n - i - 1, 2)) >= 0) {
            out[o++] = (uint8_t)v;
            i += 3;
            if (v == '%' && (hex_run(in + i, n - i, 2) >= 0 ||
                             (i < n && (in[i] == 'u' || in[i] == 'U'))))
                *an |= 1u << VP_AN_URI_DOUBLE_ENCODING;
        } else {
            *an |= 1u << VP_AN_URI_INVALID_ESCAPE;
            out[o++] = in[i++];
        }
    }
    return o;
}

/* Overlong UTF-8 forms of ASCII (C0 AE for '.') become the ASCII byte; NUL
 * bytes are dropped; '\' becomes '/'. */
static size_t fold_bytes(uint8_t *p, size_t n, uint32_t *an)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if ((c == 0xc0 || c == 0xc1) && i + 1 < n && (p[i + 1] & 0xc0) == 0x80) {
            c = (uint8_t)(((c & 0x1f) << 6) | (p[i + 1] & 0x3f));
            i++;
            *an |= 1u << VP_AN_URI_OVERLONG_UTF8;
        } else if (c == 0xe0 && i + 2 < n && (p[i + 1] & 0xe0) == 0x80 &&
                   (p[i + 2] & 0xc0) == 0x80 && (p[i + 1] & 0x1f) == 0 && p[i + 2] < 0xc0 &&
                   ((p[i + 1] & 0x3f) >> 1) == 0) {
            c = (uint8_t)(((p[i + 1] & 0x3f) << 6) | (p[i + 2] & 0x3f));
            i += 2;
            *an |= 1u << VP_AN_URI_OVERLONG_UTF8;
        }
        if (c == 0) {
            *an |= 1u << VP_AN_URI_NULL_BYTE;
            continue;
        }
        p[o++] = c == '\\' ? '/' : c;
    }
    return o;
}

/* Where the path starts: after scheme://authority for absolute-form targets. */
static size_t path_start(const uint8_t *p, size_t n)
{
    static const char *const schemes[] = {"http://", "https://"};
    for (size_t s = 0; s < 2; s++) {
        size_t len = strlen(schemes[s]);
        if (n >= len && strncasecmp((const char *)p, schemes[s], len) == 0) {
            size_t i = len;
            while (i < n && p[i] != '/' && p[i] != '?')
                i++;
            return i;
        }
    }
    return 0;
}

/* Folds repeated '/', drops "." segments, resolves ".." (never above the root). */
static size_t normalize_path(uint8_t *p, size_t n, uint32_t *an)
{
    size_t start = path_start(p, n);
    size_t end = start;
    while (end < n && p[end] != '?')
        end++;
    if (start >= end || p[start] != '/')
        return n;
    size_t o = start;   /* output cursor; p[start] stays '/' */
    size_t i = start;
    while (i < end) {
        /* p[i] == '/': read the next segment */
        while (i < end && p[i] == '/')
            i++;
        size_t seg = i;
        while (i < end && p[i] != '/')
            i++;
        size_t len = i - seg;
        int trailing = i >= end;
        if (len == 1 && p[seg] == '.') {
            if (trailing)
                p[o++] = '/';
            continue;
        }
        if (len == 2 && p[seg] == '.' && p[seg + 1] == '.') {
            if (o == start)
                *an |= 1u << VP_AN_URI_ABOVE_ROOT;
            while (o > start && p[o - 1] != '/')
                o--;
            if (o > start)
                o--;
            if (trailing)
                p[o++] = '/';
            continue;
        }
        if (len == 0) {
            if (trailing && (o == start || p[o - 1] != '/'))
                p[o++] = '/';
            continue;
        }
        p[o++] = '/';
        memmove(p + o, p + seg, len);
        o += len;
    }
    if (o == start)
        p[o++] = '/';
    memmove(p + o, p + end, n - end);
    return o + (n - end);
}

size_t vp_http_normalize_uri(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                             uint32_t *anomalies)
{
    if (n > cap)
        n = cap;
    size_t len = percent_decode(in, n, out, anomalies);
    len = fold_bytes(out, len, anomalies);
    return normalize_path(out, len, anomalies);
}
