/*
 * Recognition of a stream's application protocol for rules with a `service`
 * (docs/rule-format.md, "Services").  HTTP is recognised by the first bytes
 * of a stream, as Suricata's protocol detection does: a request stream starts
 * with one of its method names and a space or tab, a response stream with
 * "HTTP/0.9", "HTTP/1.0" or "HTTP/1.1".  At most 17 bytes decide, so they are
 * kept in the stream until then; nothing else of the stream is copied.
 */
#include <string.h>

#include "internal.h"

/* Suricata's list (app-layer-htp.c), case-sensitive. */
static const char *const http_methods[] = {
    "GET", "PUT", "POST", "HEAD", "TRACE", "OPTIONS", "CONNECT", "DELETE", "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "CHECKOUT",
    "UNCHECKOUT", "CHECKIN", "UPDATE", "LABEL", "REPORT", "MKWORKSPACE", "MKACTIVITY",
    "MERGE", "INVALID", "VERSION-CONTROL", "BASELINE-CONTROL",
};

static const char *const http_versions[] = {"HTTP/0.9", "HTTP/1.0", "HTTP/1.1"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(VP_SERVICE_PREFIX >= sizeof("BASELINE-CONTROL"), "prefix holds a method and SP");

/* Compares the prefix with `word` followed, for methods, by SP or TAB.
 * Returns 1 recognised (*len: bytes it took), 0 still possible, -1 no. */
static int prefix_vs(const uint8_t *q, size_t n, const char *word, int needs_blank, size_t *len)
{
    size_t L = strlen(word);
    size_t k = n < L ? n : L;
    if (memcmp(q, word, k) != 0)
        return -1;
    if (n < L + (size_t)needs_blank)
        return 0;
    if (needs_blank && q[L] != ' ' && q[L] != '\t')
        return -1;
    *len = L + (size_t)needs_blank;
    return 1;
}

static void decide(vp_stream_t *s)
{
    int to_server = s->direction == VP_DIR_TO_SERVER;
    const char *const *words = to_server ? http_methods : http_versions;
    size_t n_words = to_server ? N_OF(http_methods) : N_OF(http_versions);
    int possible = 0;
    for (size_t i = 0; i < n_words; i++) {
        size_t len = 0;
        int r = prefix_vs(s->svc_prefix, s->svc_len, words[i], to_server, &len);
        if (r == 1) {
            s->svc = VP_SVC_HTTP;
            s->svc_at = len;
            return;
        }
        possible |= r == 0;
    }
    if (!possible)
        s->svc = VP_SVC_OTHER;
}

void vp_service_feed(vp_stream_t *s, const uint8_t *p, size_t n)
{
    if (s->svc != VP_SVC_UNDECIDED || n == 0)
        return;
    /* Bytes after a gap are not the start of the stream. */
    if (s->raw.pos != s->svc_len) {
        s->svc = VP_SVC_OTHER;
        return;
    }
    size_t take = VP_SERVICE_PREFIX - s->svc_len;
    if (take > n)
        take = n;
    memcpy(s->svc_prefix + s->svc_len, p, take);
    s->svc_len = (uint8_t)(s->svc_len + take);
    decide(s);
}

void vp_service_end(vp_stream_t *s)
{
    if (s->svc == VP_SVC_UNDECIDED)
        s->svc = VP_SVC_OTHER;
}

int vp_service_ready(const vp_stream_t *s, uint64_t *at)
{
    if (s->svc == VP_SVC_HTTP) {
        if (*at < s->svc_at)
            *at = s->svc_at;
        return 1;
    }
    return s->peer && s->peer->svc == VP_SVC_HTTP;
}

void vp_service_poll(vp_stream_t *s)
{
    if (!s->svc_held)
        return;
    uint64_t at = s->raw.pos;
    if (!vp_service_ready(s, &at))
        return;
    s->svc_held = 0;
    vp_chain_release_held(s, at);
}
