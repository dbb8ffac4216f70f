/*
 * rulec import: translation of a Suricata / Snort 3 rule into the YAML rule
 * language.  See import_xlate.h and docs/import.md.
 *
 * The translation is conservative: a rule is imported exactly, imported with
 * an IMP_CHANGED issue for every way its meaning differs, or rejected with an
 * IMP_REJECT issue naming the keyword and the reason.
 */
#include "import_xlate.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_lex.h"

/* ------------------------------------------------------------ buffers */

static const struct {
    const char *name;
    int dir;
} lang_buffers[] = {
    {"http.method", IMP_DIR_TO_SERVER},
    {"http.uri", IMP_DIR_TO_SERVER},
    {"http.uri.raw", IMP_DIR_TO_SERVER},
    {"http.request_line", IMP_DIR_TO_SERVER},
    {"http.header", 0},
    {"http.header.raw", 0},
    {"http.header_names", 0},
    {"http.host", 0},
    {"http.user_agent", 0},
    {"http.cookie", 0},
    {"http.content_type", 0},
    {"http.request_body", IMP_DIR_TO_SERVER},
    {"http.stat_code", IMP_DIR_TO_CLIENT},
    {"http.response_body", IMP_DIR_TO_CLIENT},
};

const char *const imp_http_buffers[] = {
    "http.method", "http.uri", "http.uri.raw", "http.request_line", "http.header",
    "http.header.raw", "http.header_names", "http.host", "http.user_agent", "http.cookie",
    "http.content_type", "http.request_body", "http.stat_code", "http.response_body", NULL,
};

int imp_buffer_direction(const char *buffer)
{
    for (size_t i = 0; i < sizeof lang_buffers / sizeof lang_buffers[0]; i++)
        if (strcmp(lang_buffers[i].name, buffer) == 0)
            return lang_buffers[i].dir;
    return -1;
}

enum { BK_STICKY = 1, BK_MODIFIER = 2 };
enum { BF_HOST_LOWER = 1, BF_FILE_DATA = 2, BF_STREAM = 4 };
#define D_SURI (1 << IMP_SURICATA)
#define D_SNORT (1 << IMP_SNORT3)
#define D_ALL (D_SURI | D_SNORT)

/* Pseudo buffer name for file_data until the direction is known. */
static const char FILE_DATA[] = "file_data";

typedef struct bufkw {
    const char *kw;
    int dialects;
    int kind;
    const char *lang; /* buffer of the language; NULL: stream (BF_STREAM) or not available */
    int flags;
} bufkw;

static const bufkw buffer_keywords[] = {
    /* Suricata sticky buffers */
    {"http.uri", D_SURI, BK_STICKY, "http.uri", 0},
    {"http.uri.raw", D_SURI, BK_STICKY, "http.uri.raw", 0},
    {"http.method", D_SURI, BK_STICKY, "http.method", 0},
    {"http.header", D_SURI, BK_STICKY, "http.header", 0},
    {"http.header.raw", D_SURI, BK_STICKY, "http.header.raw", 0},
    {"http.cookie", D_SURI, BK_STICKY, "http.cookie", 0},
    {"http.user_agent", D_SURI, BK_STICKY, "http.user_agent", 0},
    {"http.host", D_SURI, BK_STICKY, "http.host", BF_HOST_LOWER},
    {"http.host.raw", D_SURI, BK_STICKY, "http.host", 0},
    {"http.request_body", D_SURI, BK_STICKY, "http.request_body", 0},
    {"http.response_body", D_SURI, BK_STICKY, "http.response_body", 0},
    {"http.stat_code", D_SURI, BK_STICKY, "http.stat_code", 0},
    {"http.request_line", D_SURI, BK_STICKY, "http.request_line", 0},
    {"http_request_line", D_SURI, BK_STICKY, "http.request_line", 0},
    {"http.content_type", D_SURI, BK_STICKY, "http.content_type", 0},
    {"file.data", D_SURI, BK_STICKY, NULL, BF_FILE_DATA},
    {"file_data", D_ALL, BK_STICKY, NULL, BF_FILE_DATA},
    {"pkt_data", D_ALL, BK_STICKY, NULL, BF_STREAM},
    {"raw_data", D_SNORT, BK_STICKY, NULL, BF_STREAM},
    /* Suricata sticky buffers the language does not have */
    {"http.stat_msg", D_SURI, BK_STICKY, NULL, 0},
    {"http.response_line", D_SURI, BK_STICKY, NULL, 0},
    {"http_response_line", D_SURI, BK_STICKY, NULL, 0},
    {"http.protocol", D_SURI, BK_STICKY, NULL, 0},
    {"http.start", D_SURI, BK_STICKY, NULL, 0},
    {"http.header_names", D_SURI, BK_STICKY, "http.header_names", 0},
    {"http_header_names", D_SURI, BK_STICKY, "http.header_names", 0},
    {"http.accept", D_SURI, BK_STICKY, NULL, 0},
    {"http.accept_enc", D_SURI, BK_STICKY, NULL, 0},
    {"http.accept_lang", D_SURI, BK_STICKY, NULL, 0},
    {"http.referer", D_SURI, BK_STICKY, NULL, 0},
    {"http.connection", D_SURI, BK_STICKY, NULL, 0},
    {"http.content_len", D_SURI, BK_STICKY, NULL, 0},
    {"http.server", D_SURI, BK_STICKY, NULL, 0},
    {"http.location", D_SURI, BK_STICKY, NULL, 0},
    {"http.request_header", D_SURI, BK_STICKY, NULL, 0},
    {"http.response_header", D_SURI, BK_STICKY, NULL, 0},
    /* Suricata content modifiers (legacy) */
    {"http_uri", D_SURI, BK_MODIFIER, "http.uri", 0},
    {"http_raw_uri", D_SURI, BK_MODIFIER, "http.uri.raw", 0},
    {"http_method", D_SURI, BK_MODIFIER, "http.method", 0},
    {"http_header", D_SURI, BK_MODIFIER, "http.header", 0},
    {"http_raw_header", D_SURI, BK_MODIFIER, "http.header.raw", 0},
    {"http_cookie", D_SURI, BK_MODIFIER, "http.cookie", 0},
    {"http_user_agent", D_SURI, BK_MODIFIER, "http.user_agent", 0},
    {"http_host", D_SURI, BK_MODIFIER, "http.host", BF_HOST_LOWER},
    {"http_raw_host", D_SURI, BK_MODIFIER, "http.host", 0},
    {"http_client_body", D_SURI, BK_MODIFIER, "http.request_body", 0},
    {"http_server_body", D_SURI, BK_MODIFIER, "http.response_body", 0},
    {"http_stat_code", D_SURI, BK_MODIFIER, "http.stat_code", 0},
    {"http_stat_msg", D_SURI, BK_MODIFIER, NULL, 0},
    /* Snort 3 sticky buffers */
    {"http_uri", D_SNORT, BK_STICKY, "http.uri", 0},
    {"http_raw_uri", D_SNORT, BK_STICKY, "http.uri.raw", 0},
    {"http_method", D_SNORT, BK_STICKY, "http.method", 0},
    {"http_header", D_SNORT, BK_STICKY, "http.header", 0},
    {"http_raw_header", D_SNORT, BK_STICKY, "http.header.raw", 0},
    {"http_cookie", D_SNORT, BK_STICKY, "http.cookie", 0},
    {"http_raw_cookie", D_SNORT, BK_STICKY, "http.cookie", 0},
    {"http_client_body", D_SNORT, BK_STICKY, "http.request_body", 0},
    {"http_stat_code", D_SNORT, BK_STICKY, "http.stat_code", 0},
    {"http_raw_request", D_SNORT, BK_STICKY, "http.request_line", 0},
    {"http_stat_msg", D_SNORT, BK_STICKY, NULL, 0},
    {"http_version", D_SNORT, BK_STICKY, NULL, 0},
    {"http_raw_status", D_SNORT, BK_STICKY, NULL, 0},
    {"http_trailer", D_SNORT, BK_STICKY, NULL, 0},
    {"http_raw_trailer", D_SNORT, BK_STICKY, NULL, 0},
    {"http_true_ip", D_SNORT, BK_STICKY, NULL, 0},
    {"http_raw_body", D_SNORT, BK_STICKY, NULL, 0},
    {"http_param", D_SNORT, BK_STICKY, NULL, 0},
    {"js_data", D_SNORT, BK_STICKY, NULL, 0},
    {"vba_data", D_SNORT, BK_STICKY, NULL, 0},
};

static const bufkw *find_buffer_keyword(int dialect, const char *name)
{
    for (size_t i = 0; i < sizeof buffer_keywords / sizeof buffer_keywords[0]; i++)
        if ((buffer_keywords[i].dialects & (1 << dialect)) &&
            strcmp(buffer_keywords[i].kw, name) == 0)
            return &buffer_keywords[i];
    return NULL;
}

/* ------------------------------------------------------------ keyword sets */

static int in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

/* Keywords that carry no detection meaning for the library. */
static const char *const meta_keywords[] = {
    "msg", "sid", "rev", "gid", "classtype", "priority", "reference", "metadata", "target",
    "rem", "fast_pattern", "fast_pattern_only", "fast_pattern_offset", "fast_pattern_length",
    NULL,
};

/* Detection keywords the rule language does not have (yet). */
static const char *const not_yet_keywords[] = {
    "byte_extract", "byte_math", "stream_size", "flowint",
    "base64_decode", "base64_data",
    "app-layer-protocol", "replace", "absent", NULL,
};

/* Keywords on IP/TCP/ICMP header fields: the library sees stream payload only. */
static const char *const packet_keywords[] = {
    "ttl", "tos", "id", "ipopts", "fragbits", "fragoffset", "flags", "seq", "ack", "window",
    "itype", "icode", "icmp_id", "icmp_seq", "sameip", "ip_proto", "ipv4-csum", "tcpv4-csum",
    "tcpv6-csum", "udpv4-csum", "udpv6-csum", "icmpv4-csum", "icmpv6-csum", "tcp.mss",
    "tcp.hdr", "udp.hdr", "ipv4.hdr", "ipv6.hdr", "icmpv4.hdr", "icmpv6.hdr", "ip.hdr",
    "tcp.flags", "ipv6.flow", "rpc", "icmpv6.mtu", "pkt_num", NULL,
};

/* Prefixes of keywords for application protocols the library does not parse. */
static const char *const app_prefixes[] = {
    "tls", "ssl_", "ja3", "ja4", "dns", "ssh", "smb", "dce_", "dcerpc", "ftp", "krb5", "sip",
    "snmp", "nfs", "modbus", "dnp3", "enip", "cip_", "http2", "mqtt", "rfb", "ike", "dhcp",
    "quic", "rdp", "smtp", "imap", "pop3", "file.", "file_", "filename", "fileext",
    "filemagic", "filestore", "filemd5", "filesha1", "filesha256", "filesize", "asn1",
    "ber_", "gtp_", "s7commplus", "iec104", "opcua", "mms", "bacnet", "sd_pattern",
    "cvs", "ldap", "pgsql", "websocket", "ssl.", "x509", "frame", "app-layer-event",
    "decode-event", "stream-event", "engine-event", "ssl_state", "ssl_version", NULL,
};

static int has_prefix(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strncmp(s, list[i], strlen(list[i])) == 0)
            return 1;
    return 0;
}

/* Application protocols (header or service) carried over UDP only, or both. */
static const char *const udp_apps[] = {"ntp", "tftp", "dhcp", "snmp", "ikev2", "ike",
                                       "netbios-ns", "ssdp", "netbios-dgm", NULL};
static const char *const dual_apps[] = {"dns", "krb5", "nfs", "sip", "enip", "sunrpc", NULL};

/* ------------------------------------------------------------ state */

typedef struct xstate {
    const imp_ctx *ctx;
    const imp_raw *raw;
    imp_rule *r;
    /* current sticky buffer: NULL = stream; FILE_DATA; a language buffer; or
     * the name of an unavailable buffer (cur_unavailable) */
    const char *cur;
    int cur_unavailable;
    int cur_host_lower;
    int switched;        /* Snort 3: a buffer keyword came since the last condition */
    int sticky_set;      /* a sticky buffer keyword (also pkt_data) came */
    int last_content;    /* index of the last content condition, -1 */
    int last_cond;       /* index of the last condition (content or pcre), -1 */
    /* flow */
    int flow_dir;
    int flow_seen;
    /* metadata */
    int sev_meta;        /* 0 none, else severity index 1..4 */
    int priority;        /* -1 none */
    int policy_balanced, policy_security;
    char **services;
    size_t n_services;
    const char *app;     /* protocol from the header (static or service string) */
    char *header_app;
} xstate;

#define ISSUE(st, level, kw, ...) imp_issue_add(&(st)->r->issues, &(st)->r->n_issues, level, kw, __VA_ARGS__)

static imp_cond *new_cond(xstate *st, int keyword_index)
{
    imp_rule *r = st->r;
    r->conds = imp_xrealloc(r->conds, (r->n_conds + 1) * sizeof(imp_cond));
    imp_cond *c = &r->conds[r->n_conds++];
    memset(c, 0, sizeof(*c));
    c->keyword_index = keyword_index;
    c->after_switch = st->switched;
    st->switched = 0;
    st->last_cond = (int)(r->n_conds - 1);
    return c;
}

/* The current sticky buffer applies to a new condition. */
static void take_sticky(xstate *st, imp_cond *c)
{
    c->buffer = st->cur;
    c->src_buffer = st->cur;
}

/* ------------------------------------------------------------ positions */

static int parse_position(xstate *st, const char *kw, const char *v, int64_t *out,
                          int allow_negative)
{
    int64_t x;
    if (!v || imp_parse_int(v, &x) != 0) {
        if (v && (isalpha((unsigned char)*v) || *v == '_'))
            ISSUE(st, IMP_REJECT, "byte_extract",
                  "%s uses the byte_extract variable '%s' (byte_extract is not in the rule "
                  "language)",
                  kw, v);
        else
            ISSUE(st, IMP_REJECT, "syntax", "%s needs an integer, got \"%s\"", kw, v ? v : "");
        return -1;
    }
    if (!allow_negative && x < 0) {
        ISSUE(st, IMP_REJECT, "syntax", "%s must not be negative, got %lld", kw, (long long)x);
        return -1;
    }
    if (x > 2147483647LL || x < -2147483647LL) {
        ISSUE(st, IMP_REJECT, kw, "%s %lld is beyond the engine limit of 2147483647", kw,
              (long long)x);
        return -1;
    }
    *out = x;
    return 0;
}

/* A content modifier (nocase, offset, depth, distance, within, startswith) on c. */
static void content_modifier(xstate *st, imp_cond *c, const char *kw, const char *v)
{
    int64_t x;
    if (strcmp(kw, "nocase") == 0) {
        c->nocase = 1;
    } else if (strcmp(kw, "offset") == 0) {
        if (parse_position(st, kw, v, &x, 0) == 0)
            c->has_offset = 1, c->offset = x;
    } else if (strcmp(kw, "depth") == 0) {
        if (parse_position(st, kw, v, &x, 0) == 0)
            c->has_depth = 1, c->depth = x;
    } else if (strcmp(kw, "distance") == 0) {
        if (parse_position(st, kw, v, &x, 1) == 0)
            c->has_distance = 1, c->distance = x, c->relative = 1;
    } else if (strcmp(kw, "within") == 0) {
        if (parse_position(st, kw, v, &x, 0) == 0)
            c->has_within = 1, c->within = x, c->relative = 1;
    } else if (strcmp(kw, "startswith") == 0) {
        c->startswith = 1;
    } else if (strcmp(kw, "endswith") == 0) {
        c->endswith = 1;
    }
}

static int is_content_modifier(const char *kw)
{
    static const char *const mods[] = {"nocase", "offset", "depth", "distance", "within",
                                       "startswith", "endswith", NULL};
    return in_list(mods, kw);
}

/* Content modifiers written without a value. */
static int is_flag_modifier(const char *kw)
{
    return strcmp(kw, "nocase") == 0 || strcmp(kw, "startswith") == 0 ||
           strcmp(kw, "endswith") == 0;
}

/* ------------------------------------------------------------ keywords */

static void kw_content(xstate *st, size_t k, const char *name, const char *v)
{
    int negated;
    uint8_t *bytes;
    size_t len;
    char *rest;
    const char *err = v ? imp_parse_content(v, &negated, &bytes, &len, &rest) : "no value";
    if (err) {
        ISSUE(st, IMP_REJECT, "syntax", "%s: %s", name, err);
        return;
    }
    if (len == 0) {
        ISSUE(st, IMP_REJECT, "syntax", "%s: empty content", name);
        free(bytes);
        free(rest);
        return;
    }
    imp_cond *c = new_cond(st, (int)k);
    c->bytes = bytes;
    c->len = len;
    c->negate = negated;
    st->last_content = st->last_cond;
    if (strcmp(name, "uricontent") == 0) {
        c->buffer = c->src_buffer = "http.uri";
    } else {
        take_sticky(st, c);
        if (st->cur_unavailable)
            c->src_buffer = st->cur;
        if (st->cur_host_lower)
            c->nocase = 2; /* resolved after the modifiers: http.host is lower case */
    }
    /* Snort 3 sub-options: content:"x",depth 4,nocase,... */
    if (rest && *rest) {
        if (st->ctx->dialect != IMP_SNORT3) {
            ISSUE(st, IMP_REJECT, "syntax", "content: unexpected \",%s\" after the string", rest);
        } else {
            char **items = NULL;
            size_t n = 0;
            imp_split_commas(rest, &items, &n);
            for (size_t i = 0; i < n; i++) {
                char *sub = items[i];
                char *sp = sub;
                while (*sp && !isspace((unsigned char)*sp))
                    sp++;
                char *arg = NULL;
                if (*sp) {
                    *sp = 0;
                    arg = sp + 1;
                    while (isspace((unsigned char)*arg))
                        arg++;
                }
                if (!*sub)
                    continue;
                if (is_content_modifier(sub) && strcmp(sub, "startswith") != 0 &&
                    strcmp(sub, "endswith") != 0) {
                    if ((strcmp(sub, "nocase") == 0) != (arg == NULL))
                        ISSUE(st, IMP_REJECT, "syntax", "content sub-option '%s' %s", sub,
                              arg ? "takes no value" : "needs a value");
                    else
                        content_modifier(st, c, sub, arg);
                } else if (strcmp(sub, "fast_pattern") == 0 ||
                           strcmp(sub, "fast_pattern_offset") == 0 ||
                           strcmp(sub, "fast_pattern_length") == 0) {
                    /* a matcher hint only */
                } else {
                    ISSUE(st, IMP_REJECT, "syntax", "unknown content sub-option '%s'", sub);
                }
            }
            imp_strv_free(items, n);
        }
    }
    free(rest);
}

static void kw_pcre(xstate *st, size_t k, const char *v)
{
    int negated;
    char *pattern, *flags;
    const char *err = v ? imp_parse_pcre(v, &negated, &pattern, &flags) : "no value";
    if (err) {
        ISSUE(st, IMP_REJECT, "syntax", "pcre: %s", err);
        return;
    }
    if (!*pattern) {
        ISSUE(st, IMP_REJECT, "syntax", "pcre: empty pattern");
        free(pattern);
        free(flags);
        return;
    }
    imp_cond *c = new_cond(st, (int)k);
    c->is_regex = 1;
    c->negate = negated;
    take_sticky(st, c);
    const char *flag_buffer = NULL;
    int host_lower = st->cur_host_lower, anchored = 0;
    size_t nf = 0;
    for (const char *f = flags; *f; f++) {
        const char *b = NULL;
        switch (*f) {
        case 'i': case 's': case 'm': case 'x':
            if (!strchr(c->flags, *f) && nf < sizeof c->flags - 1)
                c->flags[nf++] = *f;
            break;
        case 'R': c->relative = 1; break;
        case 'A': anchored = 1; break;
        case 'G': /* ungreedy: does not change whether a pattern matches */
        case 'O': /* match-limit override */
        case 'B': /* rawbytes */
            break;
        case 'E':
            ISSUE(st, IMP_REJECT, "pcre", "pcre modifier 'E' (dollar matches only at the very "
                                          "end) is not supported");
            break;
        case 'U': b = "http.uri"; break;
        case 'I': b = "http.uri.raw"; break;
        case 'P': b = "http.request_body"; break;
        case 'Q': b = "http.response_body"; break;
        case 'H': b = "http.header"; break;
        case 'D': b = "http.header.raw"; break;
        case 'M': b = "http.method"; break;
        case 'C': case 'K': b = "http.cookie"; break;
        case 'S': b = "http.stat_code"; break;
        case 'V': b = "http.user_agent"; break;
        case 'W': b = "http.host"; host_lower = 1; break;
        case 'Z': b = "http.host"; break;
        case 'Y':
            ISSUE(st, IMP_REJECT, "pcre", "pcre modifier 'Y' (http.stat_msg): the rule language "
                                          "has no status-message buffer");
            break;
        default:
            ISSUE(st, IMP_REJECT, "pcre", "unknown pcre modifier '%c'", *f);
            break;
        }
        if (b) {
            if (flag_buffer && strcmp(flag_buffer, b) != 0)
                ISSUE(st, IMP_REJECT, "pcre", "pcre names two buffers (%s and %s)", flag_buffer, b);
            flag_buffer = b;
        }
    }
    if (flag_buffer) {
        if ((st->cur && strcmp(st->cur, flag_buffer) != 0) || st->cur_unavailable)
            ISSUE(st, IMP_REJECT, "syntax", "pcre buffer modifier for %s used inside the sticky "
                                            "buffer %s",
                  flag_buffer, st->cur);
        c->buffer = c->src_buffer = flag_buffer;
    } else if (st->cur_unavailable) {
        c->src_buffer = st->cur;
    }
    if (anchored) {
        imp_buf b = {0};
        imp_buf_printf(&b, "\\A(?:%s%s)", pattern, strchr(c->flags, 'x') ? "\n" : "");
        free(pattern);
        pattern = imp_buf_take(&b);
    }
    if (host_lower) {
        /* Suricata matches http.host lower-cased: a pattern without upper-case
         * letters and without negated classes means the same caseless. */
        int upper = 0;
        for (const char *p = pattern; *p; p++) {
            if (*p == '\\' && p[1]) {
                p++;
                if (strchr("WSDBPXRQEGCKAZNH", *p))
                    upper = 1;
                continue;
            }
            if (isupper((unsigned char)*p))
                upper = 1;
        }
        if (upper || strstr(pattern, "[^"))
            ISSUE(st, IMP_REJECT, "pcre",
                  "pcre on http.host (matched lower-cased by Suricata) uses upper-case letters, "
                  "escapes or negated classes that make a caseless match differ");
        else if (!strchr(c->flags, 'i') && nf < sizeof c->flags - 1)
            c->flags[nf++] = 'i';
    }
    c->bytes = (uint8_t *)pattern;
    c->len = strlen(pattern);
    free(flags);
}

static void kw_buffer(xstate *st, const bufkw *bk, const char *name, const char *v)
{
    const imp_ctx *ctx = st->ctx;
    if (bk->kind == BK_MODIFIER) {
        /* Suricata legacy modifier: applies to the last content */
        if (st->last_content < 0 || st->last_content != st->last_cond) {
            ISSUE(st, IMP_REJECT, "syntax", "%s does not follow a content", name);
            return;
        }
        imp_cond *c = &st->r->conds[st->last_content];
        if (c->buffer && strcmp(c->buffer, "http.uri") != 0)
            ISSUE(st, IMP_REJECT, "syntax", "%s on a content that already has a buffer", name);
        if (st->cur || st->cur_unavailable)
            ISSUE(st, IMP_REJECT, "syntax", "%s used inside a sticky buffer", name);
        if (!bk->lang) {
            ISSUE(st, IMP_REJECT, name, "buffer %s is not in the rule language", name);
            c->src_buffer = name;
            return;
        }
        c->buffer = c->src_buffer = bk->lang;
        if (bk->flags & BF_HOST_LOWER)
            c->nocase = c->nocase ? c->nocase : 2;
        return;
    }
    /* sticky buffer */
    st->switched = 1;
    st->sticky_set = 1;
    st->cur_unavailable = 0;
    st->cur_host_lower = 0;
    if (v && ctx->dialect == IMP_SNORT3 && strcmp(name, "http_header") == 0) {
        /* http_header:field NAME selects one header's value */
        char **items = NULL;
        size_t n = 0;
        imp_split_blanks(v, &items, &n);
        const char *target = NULL;
        if (n == 2 && strcmp(items[0], "field") == 0) {
            for (char *q = items[1]; *q; q++)
                *q = (char)tolower((unsigned char)*q);
            if (strcmp(items[1], "user-agent") == 0)
                target = "http.user_agent";
            else if (strcmp(items[1], "host") == 0)
                target = "http.host";
            else if (strcmp(items[1], "content-type") == 0)
                target = "http.content_type";
            else if (strcmp(items[1], "cookie") == 0)
                target = "http.cookie";
        }
        imp_strv_free(items, n);
        if (!target) {
            ISSUE(st, IMP_REJECT, "http_header", "http_header:%s selects a header the rule "
                                                 "language has no buffer for",
                  v);
            st->cur = "http_header";
            st->cur_unavailable = 1;
            return;
        }
        st->cur = target;
        return;
    }
    if (v) {
        ISSUE(st, IMP_REJECT, name, "%s:%s (buffer parameters are not in the rule language)",
              name, v);
        st->cur = bk->kw;
        st->cur_unavailable = 1;
        return;
    }
    if (bk->flags & BF_STREAM) {
        st->cur = NULL;
    } else if (bk->flags & BF_FILE_DATA) {
        st->cur = FILE_DATA;
    } else if (!bk->lang) {
        ISSUE(st, IMP_REJECT, name, "buffer %s is not in the rule language", name);
        st->cur = bk->kw;
        st->cur_unavailable = 1;
    } else {
        st->cur = bk->lang;
        st->cur_host_lower = (bk->flags & BF_HOST_LOWER) != 0;
    }
}

static void kw_flow(xstate *st, const char *v)
{
    char **items = NULL;
    size_t n = 0;
    imp_split_commas(v ? v : "", &items, &n);
    st->flow_seen = 1;
    for (size_t i = 0; i < n; i++) {
        const char *f = items[i];
        int dir = 0;
        if (strcmp(f, "to_server") == 0 || strcmp(f, "from_client") == 0)
            dir = IMP_DIR_TO_SERVER;
        else if (strcmp(f, "to_client") == 0 || strcmp(f, "from_server") == 0)
            dir = IMP_DIR_TO_CLIENT;
        else if (strcmp(f, "established") == 0 || strcmp(f, "only_stream") == 0 || !*f)
            continue;
        else if (strcmp(f, "stateless") == 0)
            ISSUE(st, IMP_CHANGED, "flow", "flow:stateless (any packet, even outside a "
                                           "connection) is inspected as a stream");
        else if (strcmp(f, "no_stream") == 0)
            ISSUE(st, IMP_CHANGED, "flow", "flow:no_stream (single packets) is inspected on the "
                                           "reassembled stream");
        else if (strcmp(f, "not_established") == 0)
            ISSUE(st, IMP_REJECT, "flow", "flow:not_established: the library inspects "
                                          "established streams only");
        else
            ISSUE(st, IMP_REJECT, "flow", "flow option '%s' is not supported", f);
        if (dir) {
            if (st->flow_dir && st->flow_dir != dir)
                ISSUE(st, IMP_REJECT, "flow", "flow names both directions");
            st->flow_dir = dir;
        }
    }
    imp_strv_free(items, n);
}

/* A flowbit name the rule language takes: 1..255 printable, no blanks. */
static int flowbit_name_ok(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return 0;
    return n >= 1 && n <= 255;
}

/* flowbits:CMD[,NAME[&NAME...]] (Suricata and Snort 3); xbits and hostbits
 * are bits of hosts or address pairs, which the library does not see. */
static void kw_bits(xstate *st, const char *name, const char *v)
{
    char **items = NULL;
    size_t n = 0;
    imp_split_commas(v ? v : "", &items, &n);
    const char *cmd = n ? items[0] : "";
    static const struct {
        const char *cmd;
        int op;
    } ops[] = {{"set", IMP_FB_SET}, {"unset", IMP_FB_UNSET}, {"toggle", IMP_FB_TOGGLE},
               {"isset", IMP_FB_ISSET}, {"isnotset", IMP_FB_ISNOTSET}};
    int op = 0;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(cmd, ops[i].cmd) == 0)
            op = ops[i].op;
    if (strcmp(name, "flowbits") != 0 && (op == IMP_FB_ISSET || op == IMP_FB_ISNOTSET || !op)) {
        ISSUE(st, IMP_REJECT, name, "%s:%s: bits of hosts or address pairs are not in the rule "
                                    "language (the library does not see addresses)",
              name, v ? v : "");
    } else if (strcmp(name, "flowbits") != 0) {
        ISSUE(st, IMP_NOTE, name, "%s:%s ignored: it only feeds rules that test it, and those "
                                  "are not imported (bits of hosts or address pairs are not in "
                                  "the rule language)", name, v ? v : "");
    } else if (strcmp(cmd, "noalert") == 0 && n == 1) {
        st->r->noalert = 1;
    } else if (!op || n != 2) {
        ISSUE(st, IMP_REJECT, name, "flowbits:%s is not supported", v ? v : "");
    } else if (strchr(items[1], '|')) {
        ISSUE(st, IMP_REJECT, name, "flowbits:%s: a choice of bits (|) is not in the rule "
                                    "language", v);
    } else {
        char **names = NULL;
        size_t nn = 0;
        for (const char *p = items[1];;) { /* a&b: each of them */
            const char *e = strchr(p, '&');
            imp_strv_push(&names, &nn, imp_xstrndup(p, e ? (size_t)(e - p) : strlen(p)));
            if (!e)
                break;
            p = e + 1;
        }
        for (size_t i = 0; i < nn; i++) {
            if (!flowbit_name_ok(names[i])) {
                ISSUE(st, IMP_REJECT, name, "flowbit name \"%s\" is not 1 to 255 printable "
                                            "characters without blanks", names[i]);
                continue;
            }
            imp_rule *r = st->r;
            r->flowbits = imp_xrealloc(r->flowbits, (r->n_flowbits + 1) * sizeof(imp_flowbit));
            r->flowbits[r->n_flowbits++] = (imp_flowbit){op, imp_xstrdup(names[i])};
        }
        imp_strv_free(names, nn);
    }
    imp_strv_free(items, n);
}

/* threshold: type T, track K, count N, seconds S (any order) and
 * detection_filter: track K, count N, seconds S.  The rule language has the
 * same four types and tracks; hosts apply them by address and time. */
static void kw_threshold(xstate *st, const char *name, const char *v)
{
    static const char *const types[] = {"limit", "threshold", "both", NULL};
    static const char *const tracks[] = {"by_src", "by_dst", "by_both", "by_rule", NULL};
    imp_rule *r = st->r;
    int detection = strcmp(name, "detection_filter") == 0;
    const char *type = detection ? "detection_filter" : NULL, *track = NULL;
    int64_t count = -1, seconds = -1;
    const char *bad = NULL;
    char **items = NULL;
    size_t n = 0;
    imp_split_commas(v ? v : "", &items, &n);
    for (size_t i = 0; i < n && !bad; i++) {
        char **kv = NULL;
        size_t nkv = 0;
        imp_split_blanks(items[i], &kv, &nkv);
        int64_t x;
        const char *const *set = NULL;
        const char **slot = NULL;
        if (nkv == 2 && strcmp(kv[0], "type") == 0 && !detection)
            set = types, slot = &type;
        else if (nkv == 2 && strcmp(kv[0], "track") == 0)
            set = tracks, slot = &track;
        if (slot) {
            for (size_t j = 0; set[j] && !*slot; j++)
                if (strcmp(kv[1], set[j]) == 0)
                    *slot = set[j];
            if (!*slot)
                bad = "an unknown type or track";
        } else if (nkv == 2 && imp_parse_int(kv[1], &x) == 0 && x >= 1 && x <= UINT32_MAX &&
                   (strcmp(kv[0], "count") == 0 || strcmp(kv[0], "seconds") == 0)) {
            *(strcmp(kv[0], "count") == 0 ? &count : &seconds) = x;
        } else {
            bad = "an item the rule language has no equivalent for";
        }
        imp_strv_free(kv, nkv);
    }
    imp_strv_free(items, n);
    if (!bad && (!type || !track || count < 0 || seconds < 0))
        bad = "a missing type, track, count or seconds";
    if (r->th_seen++) {
        ISSUE(st, IMP_REJECT, name, "a second threshold or detection_filter: the rule language "
                                    "has one threshold per rule");
        r->th_type = NULL;
        return;
    }
    if (bad) {
        ISSUE(st, IMP_REJECT, name, "%s:%s has %s", name, v ? v : "", bad);
        return;
    }
    r->th_type = type;
    r->th_track = track;
    r->th_count = (uint32_t)count;
    r->th_seconds = (uint32_t)seconds;
    /* Both engines count matching packets; the library reports a stream
     * once.  With count 1, limit/both/threshold keep the same first alert
     * per period and host; otherwise one stream may count several times
     * there and once here. */
    if (count == 1 && !detection)
        ISSUE(st, IMP_NOTE, name, "%s:%s kept as threshold; hosts apply it by address and time "
                                  "(vpscan --pcap does)", name, v);
    else
        ISSUE(st, IMP_CHANGED, name, "%s:%s counts matching streams here, matching packets "
                                     "there (a stream that matches in several packets counts "
                                     "once)", name, v);
}

/* "cve,2021-44228", "CVE-2021-44228", "CAN-2002-1234", "2021_44228" -> "CVE-2021-44228" */
static char *normalize_cve(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    if ((strncasecmp(s, "cve", 3) == 0 || strncasecmp(s, "can", 3) == 0) &&
        (s[3] == '-' || s[3] == '_' || s[3] == ' '))
        s += 4;
    char year[5];
    size_t i = 0;
    for (; i < 4; i++) {
        if (!isdigit((unsigned char)s[i]))
            return NULL;
        year[i] = s[i];
    }
    year[4] = 0;
    if (s[4] != '-' && s[4] != '_')
        return NULL;
    const char *num = s + 5;
    size_t nd = 0;
    while (isdigit((unsigned char)num[nd]))
        nd++;
    const char *end = num + nd;
    while (isspace((unsigned char)*end))
        end++;
    if (nd < 4 || *end)
        return NULL;
    return imp_xprintf("CVE-%s-%.*s", year, (int)nd, num);
}

static void add_cve(imp_rule *r, char *cve)
{
    if (imp_strv_has(r->cves, r->n_cves, cve))
        free(cve);
    else
        imp_strv_push(&r->cves, &r->n_cves, cve);
}

static void kw_reference(xstate *st, const char *v)
{
    imp_rule *r = st->r;
    const char *comma = v ? strchr(v, ',') : NULL;
    if (!comma) {
        ISSUE(st, IMP_NOTE, "reference", "malformed reference \"%s\" kept as text", v ? v : "");
        if (v && *v && !imp_strv_has(r->refs, r->n_refs, v))
            imp_strv_push(&r->refs, &r->n_refs, imp_xstrdup(v));
        return;
    }
    char *type = imp_xstrndup(v, (size_t)(comma - v));
    for (char *q = type; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    const char *val = comma + 1;
    while (isspace((unsigned char)*val))
        val++;
    char *t = type;
    while (isspace((unsigned char)*t))
        t++;
    char *ref = NULL;
    if (strcmp(t, "cve") == 0) {
        char *cve = normalize_cve(val);
        if (cve) {
            add_cve(r, cve);
        } else {
            ISSUE(st, IMP_NOTE, "reference", "malformed CVE reference \"%s\" kept in references",
                  val);
            ref = imp_xprintf("cve:%s", val);
        }
    } else if (strcmp(t, "url") == 0) {
        ref = imp_xstrdup(val);
    } else {
        ref = imp_xprintf("%s:%s", t, val);
    }
    if (ref && *ref && !imp_strv_has(r->refs, r->n_refs, ref))
        imp_strv_push(&r->refs, &r->n_refs, ref);
    else
        free(ref);
    free(type);
}

static void kw_metadata(xstate *st, const char *v)
{
    char **items = NULL;
    size_t n = 0;
    char *plain = imp_unquote(v ? v : "");
    imp_split_commas(plain, &items, &n);
    free(plain);
    for (size_t i = 0; i < n; i++) {
        char *key = items[i];
        char *val = key;
        while (*val && !isspace((unsigned char)*val))
            val++;
        if (*val)
            *val++ = 0;
        while (isspace((unsigned char)*val))
            val++;
        for (char *q = key; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        if (strcmp(key, "policy") == 0) {
            if (strncmp(val, "balanced-ips", 12) == 0 || strncmp(val, "connectivity-ips", 16) == 0)
                st->policy_balanced = 1;
            else if (strncmp(val, "security-ips", 12) == 0)
                st->policy_security = 1;
        } else if (strcmp(key, "cve") == 0) {
            /* ET: "cve CVE_2021_44228"; Fox-IT: "CVE 2021-44228" */
            char **cves = NULL;
            size_t nc = 0;
            imp_split_blanks(val, &cves, &nc);
            for (size_t j = 0; j < nc; j++) {
                char *cve = normalize_cve(cves[j]);
                if (cve)
                    add_cve(st->r, cve);
            }
            imp_strv_free(cves, nc);
        } else if (strcmp(key, "signature_severity") == 0) {
            if (strcasecmp(val, "critical") == 0)
                st->sev_meta = 4;
            else if (strcasecmp(val, "major") == 0)
                st->sev_meta = 3;
            else if (strcasecmp(val, "minor") == 0)
                st->sev_meta = 2;
            else if (strcasecmp(val, "informational") == 0 || strcasecmp(val, "audit") == 0)
                st->sev_meta = 1;
        } else if (strcmp(key, "service") == 0 && st->ctx->dialect == IMP_SNORT3) {
            if (*val && !imp_strv_has(st->services, st->n_services, val))
                imp_strv_push(&st->services, &st->n_services, imp_xstrdup(val));
        }
    }
    imp_strv_free(items, n);
}

static void kw_service(xstate *st, const char *v)
{
    char **items = NULL;
    size_t n = 0;
    imp_split_commas(v ? v : "", &items, &n);
    for (size_t i = 0; i < n; i++) {
        for (char *q = items[i]; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        if (*items[i] && !imp_strv_has(st->services, st->n_services, items[i]))
            imp_strv_push(&st->services, &st->n_services, imp_xstrdup(items[i]));
    }
    imp_strv_free(items, n);
}

static void kw_int_field(xstate *st, const char *kw, const char *v, uint32_t *out, int *has)
{
    int64_t x;
    if (!v || imp_parse_int(v, &x) != 0 || x < 0 || x > 4294967295LL) {
        ISSUE(st, IMP_REJECT, "syntax", "%s needs a non-negative integer, got \"%s\"", kw,
              v ? v : "");
        return;
    }
    *out = (uint32_t)x;
    if (has)
        *has = 1;
}

/* ------------------------------------------------------------ lengths */

/* A condition that does not move the position relative keywords count
 * from (isdataat and the length keywords, byte_test): the last condition
 * stays what it was.  Its bytes are "" and len is the caller's. */
static imp_cond *new_test_cond(xstate *st, int k, const char *buffer)
{
    int last = st->last_cond, last_content = st->last_content, sw = st->switched;
    imp_cond *c = new_cond(st, k);
    st->last_cond = last;
    st->last_content = last_content;
    st->switched = sw;
    c->after_switch = sw;
    c->bytes = (uint8_t *)imp_xstrdup("");
    c->buffer = c->src_buffer = buffer;
    return c;
}

/* Suricata puts isdataat and byte_test in the active sticky buffer; without one, a
 * relative isdataat goes with the previous content (a legacy modifier's
 * buffer).  Snort 3 inspects the cursor's buffer. */
static const char *test_buffer(const xstate *st, int relative)
{
    if (relative && !st->sticky_set && st->last_cond >= 0 && st->ctx->dialect == IMP_SURICATA)
        return st->r->conds[st->last_cond].buffer;
    return st->cur;
}

/* A condition on how long a buffer is (isdataat, and the length keywords
 * built from it). */
static imp_cond *new_dataat(xstate *st, int k, const char *buffer, int64_t pos, int negate)
{
    imp_cond *c = new_test_cond(st, k, buffer);
    c->is_dataat = 1;
    c->len = 1;
    c->dataat = pos;
    c->negate = negate;
    return c;
}

static const char *skip_blanks(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* isdataat:[!]N[,relative][,rawbytes] (Suricata: relative means E + N <= length;
 * Snort 3: a byte at E + N).  The language's isdataat N is the byte at N. */
static void kw_isdataat(xstate *st, size_t k, const char *v)
{
    char **items = NULL;
    size_t n = 0;
    imp_split_commas(v ? v : "", &items, &n);
    const char *num = n ? skip_blanks(items[0]) : "";
    int negate = *num == '!';
    if (negate)
        num = skip_blanks(num + 1);
    int relative = 0, bad = 0;
    for (size_t i = 1; i < n; i++) {
        const char *o = skip_blanks(items[i]);
        if (strcmp(o, "relative") == 0)
            relative = 1;
        else if (strcmp(o, "rawbytes") != 0) /* raw payload: the stream is raw */
            bad = 1;
    }
    int64_t x;
    if (bad || parse_position(st, "isdataat", num, &x, 0) != 0) {
        if (bad)
            ISSUE(st, IMP_REJECT, "syntax", "isdataat:%s: unknown option", v ? v : "");
        imp_strv_free(items, n);
        return;
    }
    imp_strv_free(items, n);
    const char *buffer = test_buffer(st, relative);
    if (relative && st->ctx->dialect == IMP_SURICATA) {
        if (x == 0) {
            if (negate)
                ISSUE(st, IMP_REJECT, "isdataat", "isdataat:!0,relative can never hold");
            else
                ISSUE(st, IMP_NOTE, "isdataat", "isdataat:0,relative always holds");
            return;
        }
        x -= 1; /* E + N <= length: the byte at E + N - 1 */
    }
    imp_cond *c = new_dataat(st, (int)k, buffer, x, negate);
    c->relative = relative;
    if (st->cur_unavailable && !relative)
        c->src_buffer = st->cur;
}

/* The rule language's operator for a source operator with its optional '!'
 * ('^' is "differs": Suricata and Snort test val ^ value != 0).  NULL when
 * there is none. */
static const char *bytetest_op(const char *src)
{
    static const struct {
        const char *src, *op, *negated;
    } map[] = {{"=", "=", "!="}, {"<", "<", ">="}, {">", ">", "<="}, {"<=", "<=", ">"},
               {">=", ">=", "<"}, {"&", "&", "!&"}, {"^", "!=", "="}, {"!=", "!=", "="}};
    int neg = *src == '!';
    const char *op = skip_blanks(src + neg);
    if (neg && !*op)
        return "!="; /* "!" alone */
    if (neg && strcmp(op, "=") == 0)
        return "!=";
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(op, map[i].src) == 0)
            return neg ? map[i].negated : map[i].op;
    return NULL;
}

/* A byte_test value as Suricata reads it (strtoull, base 0: 0x.. hex, 0..
 * octal).  -1 when it is not one. */
static int parse_bytetest_value(const char *s, uint64_t *out)
{
    s = skip_blanks(s);
    if (!isdigit((unsigned char)*s))
        return -1;
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 0);
    if (errno || *skip_blanks(e))
        return -1;
    *out = v;
    return 0;
}

/* byte_test:N,[!]OP,VALUE,OFFSET[,relative][,big|little][,string,dec|hex|oct][,dce]
 * [,bitmask M]: the binary forms become a byte_test condition (placed by
 * arrange_conditions, since it does not move the position later relative
 * keywords count from). */
static void kw_byte_test(xstate *st, size_t k, const char *v)
{
    char **items = NULL;
    size_t n = 0;
    imp_split_commas(v ? v : "", &items, &n);
    int relative = 0, little = 0, bad = 0;
    const char *unsupported = NULL;
    for (size_t i = 4; i < n; i++) {
        const char *o = skip_blanks(items[i]);
        if (strcmp(o, "relative") == 0)
            relative = 1;
        else if (strcmp(o, "little") == 0)
            little = 1;
        else if (strcmp(o, "big") == 0)
            little = 0;
        else if (strcmp(o, "string") == 0 || strcmp(o, "dec") == 0 || strcmp(o, "hex") == 0 ||
                 strcmp(o, "oct") == 0 || strcmp(o, "dce") == 0 || strncmp(o, "bitmask", 7) == 0)
            unsupported = o;
        else
            bad = 1;
    }
    int64_t nbytes = 0, off = 0;
    uint64_t value = 0;
    const char *op = n >= 2 ? bytetest_op(skip_blanks(items[1])) : NULL;
    if (n < 4 || bad || !op || imp_parse_int(skip_blanks(items[0]), &nbytes) != 0) {
        ISSUE(st, IMP_REJECT, "syntax", "byte_test:%s: not a byte_test this importer reads",
              v ? v : "");
    } else if (unsupported) {
        ISSUE(st, IMP_REJECT, "byte_test", "byte_test with %s (a number written in digits, a "
                                           "bit mask or DCE byte order) is not in the rule "
                                           "language", unsupported);
    } else if (nbytes < 1 || nbytes > 8) {
        ISSUE(st, IMP_REJECT, "byte_test", "byte_test of %lld bytes: the rule language reads 1 "
                                           "to 8", (long long)nbytes);
    } else {
        uint64_t sv;
        int value_ok = parse_bytetest_value(items[2], &sv) == 0;
        if (!value_ok && (isalpha((unsigned char)*skip_blanks(items[2])) ||
                          *skip_blanks(items[2]) == '_'))
            ISSUE(st, IMP_REJECT, "byte_extract", "byte_test compares with the byte_extract "
                                                  "variable '%s' (byte_extract is not in the "
                                                  "rule language)", skip_blanks(items[2]));
        else if (!value_ok)
            ISSUE(st, IMP_REJECT, "syntax", "byte_test value \"%s\" is not a non-negative "
                                            "integer", skip_blanks(items[2]));
        else if (parse_position(st, "byte_test", skip_blanks(items[3]), &off, relative) == 0) {
            value = sv;
            imp_cond *c = new_test_cond(st, (int)k, test_buffer(st, relative));
            c->is_bytetest = 1;
            c->bt_bytes = (int)nbytes;
            c->bt_little = little;
            c->bt_op = op;
            c->bt_value = value;
            c->bt_off = off;
            c->relative = relative;
            c->len = (size_t)nbytes;
            if (st->cur_unavailable && !relative)
                c->src_buffer = st->cur;
        }
    }
    imp_strv_free(items, n);
}

/* "multiplier 4" / "post_offset -2": the number after the name, 0 when the
 * item is not that option. */
static int option_number(const char *item, const char *name, int64_t *out)
{
    size_t n = strlen(name);
    if (strncmp(item, name, n) != 0 || !isspace((unsigned char)item[n]))
        return 0;
    return imp_parse_int(skip_blanks(item + n), out) == 0 ? 1 : -1;
}

/* byte_jump:N,OFF[,relative][,multiplier M][,big|little][,align][,post_offset P]
 * [,string,dec|hex|oct][,from_beginning][,from_end][,dce][,bitmask V]: the
 * relative binary forms become a byte_jump condition (placed by
 * arrange_conditions, which also gives it the condition after it). */
static void kw_byte_jump(xstate *st, size_t k, const char *v)
{
    char **items = NULL;
    size_t n = 0;
    imp_split_commas(v ? v : "", &items, &n);
    int relative = 0, little = 0, align = 0, bad = 0;
    int64_t mult = 1, post = 0, x;
    const char *unsupported = NULL;
    for (size_t i = 2; i < n; i++) {
        const char *o = skip_blanks(items[i]);
        int m = option_number(o, "multiplier", &x), p = 0;
        if (m == 1)
            mult = x;
        else if ((p = option_number(o, "post_offset", &x)) == 1)
            post = x;
        else if (m < 0 || p < 0)
            bad = 1;
        else if (strcmp(o, "relative") == 0)
            relative = 1;
        else if (strcmp(o, "little") == 0)
            little = 1;
        else if (strcmp(o, "big") == 0)
            little = 0;
        else if (strcmp(o, "align") == 0)
            align = 1;
        else if (strcmp(o, "string") == 0 || strcmp(o, "dec") == 0 || strcmp(o, "hex") == 0 ||
                 strcmp(o, "oct") == 0 || strcmp(o, "dce") == 0 ||
                 strcmp(o, "from_beginning") == 0 || strcmp(o, "from_end") == 0 ||
                 strncmp(o, "bitmask", 7) == 0)
            unsupported = o;
        else
            bad = 1;
    }
    int64_t nbytes = 0, off = 0;
    if (n < 2 || bad || imp_parse_int(skip_blanks(items[0]), &nbytes) != 0) {
        ISSUE(st, IMP_REJECT, "syntax", "byte_jump:%s: not a byte_jump this importer reads",
              v ? v : "");
    } else if (unsupported) {
        ISSUE(st, IMP_REJECT, "byte_jump", "byte_jump with %s (a number written in digits, a "
                                           "jump from the buffer's start or end, a bit mask or "
                                           "DCE byte order) is not in the rule language",
              unsupported);
    } else if (!relative) {
        ISSUE(st, IMP_REJECT, "byte_jump", "byte_jump without relative (read at a place in the "
                                           "buffer) is not in the rule language");
    } else if (nbytes < 1 || nbytes > 8) {
        ISSUE(st, IMP_REJECT, "byte_jump", "byte_jump of %lld bytes: the rule language reads 1 "
                                           "to 8", (long long)nbytes);
    } else if (mult < 1 || mult > 65535 || post < 0 || post > 65535) {
        ISSUE(st, IMP_REJECT, "byte_jump", "byte_jump with multiplier %lld, post_offset %lld: "
                                           "the rule language takes 1..65535 and 0..65535",
              (long long)mult, (long long)post);
    } else if (parse_position(st, "byte_jump", skip_blanks(items[1]), &off, 1) == 0) {
        imp_cond *c = new_test_cond(st, (int)k, test_buffer(st, 1));
        c->is_jump = 1;
        c->bj_bytes = (int)nbytes;
        c->bj_off = off;
        c->bj_little = little;
        c->bj_align = align;
        c->bj_mult = mult;
        c->bj_post = post;
        c->relative = 1;
        c->len = (size_t)nbytes;
    }
    imp_strv_free(items, n);
}

/* A length range: "N", "=N", "<N", ">N", "<=N", ">=N", "A<>B" (exclusive),
 * "A<=>B" (inclusive); out as lo..hi inclusive, hi -1 when open.  -1 when
 * the text is none of these. */
static int parse_length_range(const char *v, int64_t *lo, int64_t *hi)
{
    const char *s = skip_blanks(v ? v : "");
    int64_t a, b;
    char op[3] = "";
    size_t i = 0;
    while (i < 2 && (s[i] == '<' || s[i] == '>' || s[i] == '=' || s[i] == '!'))
        op[i] = s[i], i++;
    s = skip_blanks(s + i);
    char *end;
    a = strtoll(s, &end, 10);
    if (end == s || a < 0 || a > 2147483647LL)
        return -1;
    s = skip_blanks(end);
    if (*s == '\0') {
        if (!op[0] || strcmp(op, "=") == 0)
            *lo = a, *hi = a;
        else if (strcmp(op, "<") == 0 && a == 0)
            *lo = 1, *hi = 0; /* empty: never */
        else if (strcmp(op, "<") == 0)
            *lo = 0, *hi = a - 1;
        else if (strcmp(op, ">") == 0)
            *lo = a + 1, *hi = -1;
        else if (strcmp(op, "<=") == 0)
            *lo = 0, *hi = a;
        else if (strcmp(op, ">=") == 0)
            *lo = a, *hi = -1;
        else
            return -1; /* "!N": a disjunction */
        return 0;
    }
    if (op[0])
        return -1;
    int inclusive = strncmp(s, "<=>", 3) == 0;
    if (!inclusive && strncmp(s, "<>", 2) != 0)
        return -1;
    s = skip_blanks(s + (inclusive ? 3 : 2));
    b = strtoll(s, &end, 10);
    if (end == s || b < 0 || b > 2147483647LL || *skip_blanks(end))
        return -1;
    *lo = inclusive ? a : a + 1;
    *hi = inclusive ? b : b - 1;
    if (*hi < 0)
        *lo = 1, *hi = 0; /* empty: never */
    return 0;
}

/* bsize, urilen, bufferlen, dsize: the buffer's length in lo..hi, as
 * isdataat lo - 1 and a negated isdataat hi. */
static void kw_length(xstate *st, size_t k, const char *kw, const char *v)
{
    char **items = NULL;
    size_t n = 0;
    imp_split_commas(v ? v : "", &items, &n);
    const char *buffer = st->cur;
    int bad = n == 0, raw_uri = 0;
    for (size_t i = 1; i < n && !bad; i++) {
        const char *o = skip_blanks(items[i]);
        if (strcmp(kw, "urilen") == 0 && strcmp(o, "raw") == 0)
            raw_uri = 1;
        else if (!(strcmp(kw, "urilen") == 0 && strcmp(o, "norm") == 0))
            bad = 1;
    }
    if (strcmp(kw, "urilen") == 0) /* Suricata: the normalized URI unless raw */
        buffer = raw_uri ? "http.uri.raw" : "http.uri";
    if (strcmp(kw, "dsize") == 0)
        buffer = NULL;
    int64_t lo = 0, hi = -1;
    if (!bad && strcmp(kw, "dsize") == 0 && parse_length_range(items[0], &lo, &hi) == 0 &&
        lo == 1 && hi < 0) {
        ISSUE(st, IMP_NOTE, "dsize", "dsize:%s is implied by any content match", v);
        imp_strv_free(items, n);
        return;
    }
    if (bad || parse_length_range(n ? items[0] : "", &lo, &hi) != 0) {
        ISSUE(st, IMP_REJECT, kw, "%s:%s: a form the rule language cannot say (only N, <N, >N, "
                                  "<=N, >=N, A<>B, A<=>B)",
              kw, v ? v : "");
        imp_strv_free(items, n);
        return;
    }
    imp_strv_free(items, n);
    if (strcmp(kw, "bsize") == 0 && !st->cur) {
        ISSUE(st, IMP_REJECT, kw, "bsize without a sticky buffer of the rule language (on the raw payload, or after a buffer keyword the importer does not translate)");
        return;
    }
    if (hi >= 0 && hi < lo) {
        ISSUE(st, IMP_REJECT, kw, "%s:%s can never hold", kw, v);
        return;
    }
    if (lo == 0 && hi < 0) {
        ISSUE(st, IMP_NOTE, kw, "%s:%s always holds", kw, v);
        return;
    }
    if (lo >= 1)
        new_dataat(st, (int)k, buffer, lo - 1, 0);
    if (hi >= 0)
        new_dataat(st, (int)k, buffer, hi, 1);
}

static void handle_option(xstate *st, size_t k)
{
    const imp_opt *o = &st->raw->opts[k];
    const char *name = o->name;
    const char *v = o->value;
    const imp_ctx *ctx = st->ctx;
    imp_rule *r = st->r;

    if (o->malformed) {
        /* "referenceurl, www..." (Fox-IT sid 21003733): an option that does not
         * parse.  A metadata-like name is ignored with a note; anything else
         * could carry detection meaning, so the rule is not imported. */
        static const char *const meta_prefixes[] = {"reference", "metadata", "msg", "classtype",
                                                    "priority", "rev", "target", NULL};
        if (has_prefix(meta_prefixes, name))
            ISSUE(st, IMP_NOTE, "syntax", "malformed option \"%s\" ignored (not a detection "
                                          "option)",
                  name);
        else
            ISSUE(st, IMP_REJECT, "syntax", "malformed option \"%s\"", name);
        return;
    }
    if (strcmp(name, "content") == 0 || strcmp(name, "uricontent") == 0) {
        kw_content(st, k, name, v);
        return;
    }
    if (strcmp(name, "pcre") == 0) {
        kw_pcre(st, k, v);
        return;
    }
    if (is_content_modifier(name) && ctx->dialect == IMP_SURICATA) {
        if (st->last_content < 0 || st->last_content != st->last_cond) {
            ISSUE(st, IMP_REJECT, "syntax", "%s does not follow a content", name);
            return;
        }
        if (is_flag_modifier(name) != (v == NULL)) {
            ISSUE(st, IMP_REJECT, "syntax", "%s %s", name, v ? "takes no value" : "needs a value");
            return;
        }
        content_modifier(st, &r->conds[st->last_content], name, v);
        return;
    }
    const bufkw *bk = find_buffer_keyword(ctx->dialect, name);
    if (bk) {
        kw_buffer(st, bk, name, v);
        return;
    }
    if (strcmp(name, "msg") == 0) {
        free(r->msg);
        r->msg = imp_unquote(v ? v : "");
    } else if (strcmp(name, "sid") == 0) {
        kw_int_field(st, name, v, &r->sid, &r->has_sid);
    } else if (strcmp(name, "rev") == 0) {
        kw_int_field(st, name, v, &r->rev, &r->has_rev);
    } else if (strcmp(name, "gid") == 0) {
        kw_int_field(st, name, v, &r->gid, NULL);
    } else if (strcmp(name, "classtype") == 0) {
        free(r->classtype);
        r->classtype = imp_unquote(v ? v : "");
    } else if (strcmp(name, "priority") == 0) {
        int64_t x;
        if (v && imp_parse_int(v, &x) == 0 && x >= 0 && x < 1000)
            st->priority = (int)x;
        else
            ISSUE(st, IMP_NOTE, "priority", "priority \"%s\" ignored", v ? v : "");
    } else if (strcmp(name, "reference") == 0) {
        kw_reference(st, v);
    } else if (strcmp(name, "metadata") == 0) {
        kw_metadata(st, v);
    } else if (strcmp(name, "service") == 0) {
        kw_service(st, v);
    } else if (strcmp(name, "flow") == 0) {
        kw_flow(st, v);
    } else if (strcmp(name, "flowbits") == 0 || strcmp(name, "xbits") == 0 ||
               strcmp(name, "hostbits") == 0) {
        kw_bits(st, name, v);
    } else if (strcmp(name, "noalert") == 0) {
        st->r->noalert = 1;
    } else if (strcmp(name, "threshold") == 0 || strcmp(name, "detection_filter") == 0) {
        kw_threshold(st, name, v);
    } else if (strcmp(name, "isdataat") == 0) {
        kw_isdataat(st, k, v);
    } else if (strcmp(name, "byte_test") == 0) {
        kw_byte_test(st, k, v);
    } else if (strcmp(name, "byte_jump") == 0) {
        kw_byte_jump(st, k, v);
    } else if (strcmp(name, "bsize") == 0 || strcmp(name, "dsize") == 0 ||
               strcmp(name, "bufferlen") == 0 ||
               (strcmp(name, "urilen") == 0 && ctx->dialect == IMP_SURICATA)) {
        kw_length(st, k, name, v);
    } else if (strcmp(name, "tag") == 0) {
        ISSUE(st, IMP_NOTE, "tag", "tag:%s ignored (it logs extra packets; no detection meaning)",
              v ? v : "");
    } else if (strcmp(name, "rawbytes") == 0) {
        /* raw payload instead of telnet-normalized data: the stream is raw */
    } else if (in_list(meta_keywords, name)) {
        /* no detection meaning */
    } else if (in_list(not_yet_keywords, name)) {
        ISSUE(st, IMP_REJECT, name, "%s is not in the rule language yet", name);
    } else if (in_list(packet_keywords, name)) {
        ISSUE(st, IMP_REJECT, name, "%s tests packet headers; the library inspects stream "
                                    "payload only",
              name);
    } else if (has_prefix(app_prefixes, name)) {
        ISSUE(st, IMP_REJECT, name, "%s belongs to a protocol the library does not parse", name);
    } else if (is_content_modifier(name)) {
        ISSUE(st, IMP_REJECT, "syntax", "%s as a separate option (Snort 3 writes it as a "
                                        "content sub-option)",
              name);
    } else {
        ISSUE(st, IMP_REJECT, name, "keyword %s is not supported", name);
    }
}

/* ------------------------------------------------------------ header */

static const char *header_protocol(xstate *st, const char *proto)
{
    imp_rule *r = st->r;
    static const char *const no_transport[] = {"ip", "icmp", "ipv6", "icmpv6", "ip4", "ip6",
                                               "pkthdr", "file", "arp", "ether", NULL};
    if (!proto) {
        ISSUE(st, IMP_REJECT, "syntax", "rule header has no protocol");
        return NULL;
    }
    char *p = imp_xstrdup(proto);
    for (char *q = p; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    const char *app = NULL;
    if (strcmp(p, "tcp") == 0 || strcmp(p, "tcp-stream") == 0) {
        r->udp = 0;
    } else if (strcmp(p, "tcp-pkt") == 0) {
        r->udp = 0;
        ISSUE(st, IMP_CHANGED, "protocol", "tcp-pkt (single packets) is inspected on the "
                                           "reassembled stream");
    } else if (strcmp(p, "udp") == 0) {
        r->udp = 1;
    } else if (in_list(no_transport, p)) {
        ISSUE(st, IMP_REJECT, "protocol", "protocol %s: the library inspects TCP streams and UDP "
                                          "datagrams only",
              p);
    } else if (in_list(dual_apps, p)) {
        ISSUE(st, IMP_REJECT, "protocol", "protocol %s runs over TCP and UDP; an imported rule "
                                          "inspects one of them",
              p);
    } else {
        r->udp = in_list(udp_apps, p);
        app = p;
    }
    if (app) {
        st->header_app = p;
        return st->header_app;
    }
    free(p);
    return NULL;
}

static void header_ports_and_direction(xstate *st)
{
    const imp_raw *raw = st->raw;
    imp_rule *r = st->r;
    const char *sport = raw->sport ? raw->sport : "any";
    const char *dport = raw->dport ? raw->dport : "any";
    const char *arrow = raw->dir ? raw->dir : "->";
    imp_ports S, D, server;
    char *err = imp_ports_eval(st->ctx->vars, sport, &S);
    if (!err)
        err = imp_ports_eval(st->ctx->vars, dport, &D);
    if (err) {
        ISSUE(st, IMP_REJECT, "ports", "%s", err);
        free(err);
        return;
    }
    if (imp_ports_is_empty(&S) || imp_ports_is_empty(&D)) {
        ISSUE(st, IMP_REJECT, "ports", "port expression matches no port");
        return;
    }
    int s_any = imp_ports_is_any(&S), d_any = imp_ports_is_any(&D);
    int dir = st->flow_dir;
    const imp_ports *client = NULL;
    const char *client_text = NULL;
    if (strcmp(arrow, "->") == 0) {
        if (dir == IMP_DIR_TO_SERVER) {
            server = D, client = &S, client_text = sport;
        } else if (dir == IMP_DIR_TO_CLIENT) {
            server = S, client = &D, client_text = dport;
        } else if (s_any && d_any) {
            dir = IMP_DIR_ANY, server = D;
        } else if (s_any) {
            dir = IMP_DIR_TO_SERVER, server = D;
        } else if (d_any) {
            dir = IMP_DIR_TO_CLIENT, server = S;
        } else {
            dir = IMP_DIR_TO_SERVER, server = D, client = &S, client_text = sport;
        }
    } else if (strcmp(arrow, "<>") == 0) {
        if (!dir)
            dir = IMP_DIR_ANY;
        if (s_any)
            server = D;
        else if (d_any)
            server = S;
        else {
            server = S;
            imp_ports_or(&server, &D);
            ISSUE(st, IMP_CHANGED, "ports", "bidirectional rule with ports on both sides (%s <> "
                                            "%s): either port is accepted as the server port",
                  sport, dport);
        }
    } else {
        ISSUE(st, IMP_REJECT, "syntax", "direction operator '%s' is not supported", arrow);
        return;
    }
    if (client && !imp_ports_is_any(client))
        ISSUE(st, IMP_CHANGED, "ports", "client port constraint %s ignored (only the server port "
                                        "is known to the library)",
              client_text);
    r->direction = dir;
    if (!imp_ports_is_any(&server))
        r->ports = imp_ports_format(&server);
}

static void header_addresses(xstate *st)
{
    const imp_raw *raw = st->raw;
    int ks = IMP_ADDR_ANY, kd = IMP_ADDR_ANY;
    char *err = NULL;
    if (raw->src)
        err = imp_addr_kind(st->ctx->vars, raw->src, &ks);
    if (!err && raw->dst)
        err = imp_addr_kind(st->ctx->vars, raw->dst, &kd);
    if (err) {
        ISSUE(st, IMP_REJECT, "address", "%s", err);
        free(err);
        return;
    }
    if (ks == IMP_ADDR_NONE || kd == IMP_ADDR_NONE) {
        ISSUE(st, IMP_REJECT, "address", "address expression %s matches no address",
              ks == IMP_ADDR_NONE ? raw->src : raw->dst);
        return;
    }
    if (ks == IMP_ADDR_CONSTRAINT || kd == IMP_ADDR_CONSTRAINT)
        ISSUE(st, IMP_CHANGED, IMP_KW_ADDRESS, "address constraints ignored: %s %s %s", raw->src,
              raw->dir ? raw->dir : "->", raw->dst);
}

/* ------------------------------------------------------------ conditions */

static int buffer_is_http(const char *b)
{
    return b && b != FILE_DATA && imp_buffer_direction(b) >= 0;
}

/* file_data becomes the HTTP body of the rule's direction. */
static void resolve_file_data(xstate *st, const char *app)
{
    imp_rule *r = st->r;
    int has = 0;
    for (size_t i = 0; i < r->n_conds; i++)
        if (r->conds[i].buffer == FILE_DATA)
            has = 1;
    if (!has)
        return;
    int http_ok = 0;
    const char *other = NULL;
    if (st->n_services) {
        for (size_t i = 0; i < st->n_services; i++) {
            if (strcmp(st->services[i], "http") == 0)
                http_ok = 1;
            else if (!other)
                other = st->services[i];
        }
    } else if (!app || strcmp(app, "http") == 0 || strcmp(app, "http1") == 0) {
        http_ok = 1;
    } else {
        other = app;
    }
    if (!http_ok) {
        ISSUE(st, IMP_REJECT, "file_data", "file_data of %s: the library has file data of HTTP "
                                           "bodies only",
              other ? other : "this protocol");
        return;
    }
    if (r->direction == IMP_DIR_ANY)
        r->direction = IMP_DIR_TO_CLIENT;
    const char *body;
    if (r->direction == IMP_DIR_TO_CLIENT) {
        body = "http.response_body";
    } else if (st->ctx->dialect == IMP_SNORT3) {
        body = "http.request_body";
    } else {
        ISSUE(st, IMP_REJECT, "file_data", "file_data in requests: Suricata 5 has no request "
                                           "file data for HTTP");
        return;
    }
    for (size_t i = 0; i < r->n_conds; i++)
        if (r->conds[i].buffer == FILE_DATA)
            r->conds[i].buffer = body;
}

/* Direction against the buffers the conditions inspect. */
static void check_buffer_directions(xstate *st)
{
    imp_rule *r = st->r;
    int need_ts = 0, need_tc = 0, stream = 0;
    const char *ts_name = NULL, *tc_name = NULL;
    for (size_t i = 0; i < r->n_conds; i++) {
        const char *b = r->conds[i].buffer;
        if (!b) {
            stream = 1;
            continue;
        }
        int d = imp_buffer_direction(b);
        if (d == IMP_DIR_TO_SERVER)
            need_ts = 1, ts_name = b;
        else if (d == IMP_DIR_TO_CLIENT)
            need_tc = 1, tc_name = b;
    }
    if (need_ts && need_tc) {
        ISSUE(st, IMP_REJECT, tc_name, "request buffer %s and response buffer %s in one rule: "
                                       "an imported rule inspects one direction",
              ts_name, tc_name);
        return;
    }
    if (r->direction == IMP_DIR_ANY && (need_ts || need_tc)) {
        r->direction = need_ts ? IMP_DIR_TO_SERVER : IMP_DIR_TO_CLIENT;
        if (stream)
            ISSUE(st, IMP_CHANGED, "flow", "stream conditions are inspected in the %s direction "
                                           "only, like the HTTP buffers of the rule",
                  need_ts ? "request" : "response");
    } else if (r->direction == IMP_DIR_TO_CLIENT && need_ts) {
        ISSUE(st, IMP_REJECT, ts_name, "request buffer %s in a to_client rule (the request of "
                                       "the same transaction is not visible to it)",
              ts_name);
    } else if (r->direction == IMP_DIR_TO_SERVER && need_tc) {
        ISSUE(st, IMP_REJECT, tc_name, "response buffer %s in a to_server rule", tc_name);
    }
}

/* A relative condition with nothing before it counts from the buffer start. */
static int make_absolute(xstate *st, imp_cond *c)
{
    if (c->is_regex) {
        c->relative = 0;
        return 0;
    }
    int64_t d = c->has_distance ? c->distance : 0;
    if (d < 0) {
        ISSUE(st, IMP_REJECT, "distance", "negative distance with no previous match in the buffer");
        return -1;
    }
    c->relative = 0;
    c->has_distance = 0;
    if (d > 0)
        c->has_offset = 1, c->offset = d;
    if (c->has_within) {
        c->has_within = 0;
        c->has_depth = 1;
        c->depth = c->within;
    }
    return 0;
}

static void check_positions(xstate *st, imp_cond *c)
{
    const char *what = c->is_regex ? "pcre" : "content";
    if ((c->has_offset || c->has_depth) && (c->has_distance || c->has_within)) {
        ISSUE(st, IMP_REJECT, "distance",
              "%s mixes offset/depth with distance/within (engine-specific meaning)", what);
        return;
    }
    if (c->startswith) {
        if (c->has_offset || c->has_depth || c->relative) {
            ISSUE(st, IMP_REJECT, "startswith", "startswith combined with positions");
            return;
        }
        c->has_depth = 1;
        c->depth = (int64_t)c->len;
        c->startswith = 0;
    }
    if (!c->is_regex) {
        if (c->has_depth && c->depth < (int64_t)c->len)
            ISSUE(st, IMP_REJECT, "depth", "depth %lld is shorter than the content (%zu bytes): "
                                           "the rule can never match",
                  (long long)c->depth, c->len);
        if (c->has_within && c->within < (int64_t)c->len)
            ISSUE(st, IMP_REJECT, "within", "within %lld is shorter than the content (%zu bytes): "
                                            "the rule can never match",
                  (long long)c->within, c->len);
        if (c->has_depth && c->depth == 0)
            ISSUE(st, IMP_REJECT, "depth", "depth 0");
    }
}

/* '$' outside classes and escapes, without the m flag: end of the buffer. */
static int regex_has_end_anchor(const imp_cond *c)
{
    if (strchr(c->flags, 'm'))
        return 0;
    int in_class = 0;
    for (size_t i = 0; i < c->len; i++) {
        char ch = (char)c->bytes[i];
        if (ch == '\\') {
            if (i + 1 < c->len && (c->bytes[i + 1] == 'z' || c->bytes[i + 1] == 'Z') && !in_class)
                return 1;
            i++;
            continue;
        }
        if (in_class) {
            if (ch == ']')
                in_class = 0;
            continue;
        }
        if (ch == '[') {
            in_class = 1;
            if (i + 1 < c->len && c->bytes[i + 1] == '^')
                i++;
            if (i + 1 < c->len && c->bytes[i + 1] == ']')
                i++;
        } else if (ch == '$') {
            return 1;
        }
    }
    return 0;
}

/* Groups the conditions by buffer (chains stay contiguous), resolves relative
 * conditions that have nothing before them, and refuses what the language
 * cannot say. */
/* A relative keyword with no match before it in its buffer (or, Snort 3,
 * the first after a buffer was selected) counts from the buffer start. */
static int counts_from_start(const xstate *st, const imp_cond *prev, const imp_cond *c)
{
    return prev == NULL || (st->ctx->dialect == IMP_SNORT3 && c->after_switch);
}

/* A condition left out of the arranged list (its rule is refused anyway):
 * the list no longer owns its bytes. */
static void drop_cond(imp_cond *c)
{
    free(c->bytes);
    c->bytes = NULL;
}

/* A relative byte_test or byte_jump counts from prev's end: there is none
 * after a negated condition, and the chain ended at isdataat or endswith.
 * Reports which; 1 when neither. */
static int relative_after_ok(xstate *st, const char *kw, const imp_cond *prev, int tail_taken)
{
    if (prev->negate)
        ISSUE(st, IMP_REJECT, kw, "relative %s after a negated condition: it has no match end "
                                  "to count from", kw);
    else if (tail_taken)
        ISSUE(st, IMP_REJECT, kw, "relative %s after isdataat or endswith: the rule language "
                                  "ends the chain there", kw);
    return !prev->negate && !tail_taken;
}

static void arrange_conditions(xstate *st)
{
    imp_rule *r = st->r;
    size_t n = r->n_conds;
    if (!n)
        return;
    /* room for an isdataat after each byte_jump that ends its chain */
    imp_cond *out = imp_xcalloc(2 * n, sizeof(imp_cond));
    imp_cond *later = imp_xcalloc(n, sizeof(imp_cond)); /* absolute isdataat of a group */
    char *done = imp_xcalloc(n, 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (done[i])
            continue;
        const char *b = r->conds[i].buffer;
        imp_cond *prev = NULL;
        size_t group_start = k;
        int tail_taken = 0; /* prev is followed by isdataat, or has endswith: it ends a chain */
        /* byte_tests after prev keep the position at prev's end, but in the
         * rule language the next relative condition counts from the last of
         * them, which ends `shift` bytes after prev's */
        int64_t shift = 0;
        size_t n_later = 0;
        for (size_t j = i; j < n; j++) {
            imp_cond *c = &r->conds[j];
            if (done[j] || !((b == NULL && c->buffer == NULL) ||
                             (b && c->buffer && strcmp(b, c->buffer) == 0)))
                continue;
            done[j] = 1;
            if (c->is_dataat) {
                /* isdataat does not move the position: it ends a chain, or
                 * stands alone (then after the chains of its buffer) */
                int fresh = counts_from_start(st, prev, c);
                if (c->relative && fresh)
                    c->relative = 0; /* from the buffer start: the same position */
                if (!c->relative) {
                    later[n_later++] = *c;
                    continue;
                }
                if (prev->negate)
                    ISSUE(st, IMP_REJECT, "isdataat", "relative isdataat after a negated "
                                                      "condition: it has no match end to count "
                                                      "from");
                else if (c->dataat < shift)
                    ISSUE(st, IMP_REJECT, "isdataat", "relative isdataat inside the bytes of a "
                                                      "byte_test before it: the rule language "
                                                      "counts from the byte_test's end");
                else if (tail_taken)
                    ISSUE(st, IMP_REJECT, "isdataat", "two relative length tests after one "
                                                      "match (isdataat, endswith): the rule "
                                                      "language chains one");
                c->dataat -= shift;
                out[k++] = *c;
                tail_taken = 1;
                continue;
            }
            if (c->is_jump) {
                if (c->buffer) {
                    ISSUE(st, IMP_REJECT, "byte_jump", "byte_jump in %s: the rule language "
                                                       "reads byte_jump values from the stream "
                                                       "only", c->buffer);
                    drop_cond(c);
                    continue;
                }
                if (counts_from_start(st, prev, c)) {
                    ISSUE(st, IMP_REJECT, "byte_jump", "relative byte_jump with no match before "
                                                       "it in its buffer (a read at a place of "
                                                       "the buffer) is not in the rule language");
                    drop_cond(c);
                    continue;
                }
                if (relative_after_ok(st, "byte_jump", prev, tail_taken) &&
                    c->bj_off - shift < 0)
                    ISSUE(st, IMP_REJECT, "byte_jump", "byte_jump reading before the end of the "
                                                       "match it counts from (offset %lld): the "
                                                       "rule language reads at distance >= 0",
                          (long long)(c->bj_off - shift));
                c->has_distance = 1;
                c->distance = c->bj_off - shift;
                out[k++] = *c;
                prev = &out[k - 1];
                tail_taken = 0;
                shift = 0;
                continue;
            }
            if (c->is_bytetest) {
                int fresh = counts_from_start(st, prev, c);
                if (!c->relative || fresh) { /* from the buffer start: an absolute window */
                    if (c->bt_off < 0) {
                        ISSUE(st, IMP_REJECT, "byte_test", "byte_test before the start of the "
                                                           "buffer (offset %lld) never holds",
                              (long long)c->bt_off);
                        drop_cond(c);
                        continue;
                    }
                    c->relative = 0;
                    c->has_offset = c->has_depth = 1;
                    c->offset = c->bt_off;
                    c->depth = c->bt_bytes;
                    later[n_later++] = *c;
                    continue;
                }
                relative_after_ok(st, "byte_test", prev, tail_taken);
                c->has_distance = c->has_within = 1;
                c->distance = c->bt_off - shift;
                c->within = c->bt_bytes;
                shift = c->bt_off + c->bt_bytes;
                out[k++] = *c;
                continue;
            }
            if (shift && c->relative && !counts_from_start(st, prev, c)) {
                /* count from the last byte_test's end instead of prev's */
                c->distance = (c->has_distance ? c->distance : 0) - shift;
                c->has_distance = 1;
                if (c->is_regex && c->distance < 0)
                    ISSUE(st, IMP_REJECT, "byte_test", "relative pcre (/R) within the bytes of "
                                                       "a byte_test before it: a relative regex "
                                                       "needs distance >= 0 in the rule "
                                                       "language");
            }
            check_positions(st, c);
            if (c->relative) {
                int fresh = counts_from_start(st, prev, c);
                if (fresh && c->is_regex && !b && !prev && st->ctx->dialect == IMP_SURICATA) {
                    ISSUE(st, IMP_REJECT, "pcre", "pcre /R with no preceding match on the raw "
                                                  "payload (Suricata refuses the rule)");
                } else if (fresh) {
                    make_absolute(st, c);
                } else if (tail_taken) {
                    ISSUE(st, IMP_REJECT, prev->endswith ? "endswith" : "isdataat",
                          "a relative condition after isdataat or endswith counts from the "
                          "match before them; the rule language ends the chain there");
                } else if (prev->negate && c->is_regex) {
                    ISSUE(st, IMP_REJECT, "pcre",
                          "relative pcre (/R) after a negated condition: a pattern that does not "
                          "occur has no match end to count from");
                } else if (prev->negate) {
                    ISSUE(st, IMP_REJECT, "distance",
                          "a relative condition after a negated one is not in the rule language");
                }
                /* other relative pcres: relative_regexes() */
            }
            if (c->endswith && c->negate)
                ISSUE(st, IMP_REJECT, "endswith", "a negated content with endswith is not in the "
                                                  "rule language");
            if (c->relative && c->negate && !c->has_within && !c->is_regex)
                ISSUE(st, IMP_CHANGED, "distance",
                      "negated relative content without within: Suricata/Snort test the window "
                      "after the first match of the previous content, the library after any");
            if (c->is_regex && !c->buffer && regex_has_end_anchor(c))
                ISSUE(st, IMP_CHANGED, "pcre", "'$' in a pcre on the raw stream means the end of "
                                               "the stream, not the end of a packet");
            if (c->nocase == 2) {
                /* http.host (normalized): Suricata lower-cases the buffer */
                int upper = 0;
                for (size_t q = 0; q < c->len; q++)
                    if (isupper(c->bytes[q]))
                        upper = 1;
                if (upper)
                    ISSUE(st, IMP_REJECT, "http.host", "upper-case content in the lower-cased "
                                                       "http.host buffer never matches");
                c->nocase = 1;
            }
            out[k++] = *c;
            prev = &out[k - 1];
            tail_taken = c->endswith;
            shift = 0;
        }
        /* a byte_jump with nothing relative after it: Suricata and Snort
         * want its target inside the buffer, the byte there */
        if (k > group_start && out[k - 1].is_jump) {
            imp_cond d;
            memset(&d, 0, sizeof d);
            d.is_dataat = 1;
            d.len = 1;
            d.relative = 1;
            d.buffer = prev->buffer;
            d.src_buffer = prev->src_buffer;
            d.keyword_index = prev->keyword_index;
            d.bytes = (uint8_t *)imp_xstrdup("");
            out[k++] = d;
        }
        for (size_t q = 0; q < n_later; q++)
            out[k++] = later[q];
    }
    free(done);
    free(later);
    free(r->conds);
    r->conds = out;
    r->n_conds = k;
}

/* Buffers that a message may lack: the language inspects them as empty,
 * Suricata and Snort do not inspect them at all. */
static int buffer_may_be_absent(const char *b)
{
    static const char *const optional[] = {"http.host", "http.user_agent", "http.cookie",
                                           "http.content_type", "http.request_body",
                                           "http.response_body", "http.header",
                                           "http.header.raw", "http.header_names", NULL};
    return b && in_list(optional, b);
}

/* Length tests whose meaning differs from the source's. */
static void length_caveats(xstate *st)
{
    imp_rule *r = st->r;
    for (size_t i = 0; i < r->n_conds; i++) {
        const imp_cond *c = &r->conds[i];
        if (!c->is_dataat)
            continue;
        const char *kw = c->keyword_index >= 0 ? st->raw->opts[c->keyword_index].name : "isdataat";
        if (!c->buffer && !r->udp && !c->negate) {
            ISSUE(st, IMP_CHANGED, kw, "%s on the raw TCP stream counts the bytes of the whole "
                                       "stream so far, Suricata/Snort those of one packet or "
                                       "inspected chunk: the library can fire where they would "
                                       "not",
                  kw);
            continue;
        }
        if (!c->negate || !buffer_may_be_absent(c->buffer))
            continue;
        int present = 0; /* a positive condition proves the buffer is there */
        for (size_t j = 0; j < r->n_conds; j++)
            if (!r->conds[j].negate && r->conds[j].buffer &&
                strcmp(r->conds[j].buffer, c->buffer) == 0)
                present = 1;
        if (!present)
            ISSUE(st, IMP_CHANGED, kw, "%s on %s: an absent %s counts as empty in the library, "
                                       "so the test also holds when the message lacks it",
                  kw, c->buffer, c->buffer);
    }
}

/* ------------------------------------------------------------ relative pcre */

/* Hyperscan's largest repeat bound: the windows of a relative chain become
 * (?s:.){a,b} in one expression, by the compiler or by merge_chain(). */
#define HS_MAX_REPEAT 32767

/* How a relative pcre depends on where its subject starts.  Suricata and
 * Snort 3 run a relative pcre on the buffer from the previous match's end E
 * on, so '^', \A and \G match at E, and \b/\B at E see no character before
 * it.  The rule language's relative regex sees the whole buffer. */
enum { RX_FREE, RX_ANCHORED, RX_OTHER };

typedef struct rx_scan {
    int kind;
    size_t skip;      /* RX_ANCHORED: length of the leading anchor */
    int multiline;    /* RX_ANCHORED: '^' under the m flag (also after a newline) */
    const char *why;  /* RX_OTHER */
} rx_scan;

/* Index just after a character class that opens at p[i] == '['. */
static size_t skip_class(const char *p, size_t n, size_t i)
{
    i++;
    if (i < n && p[i] == '^')
        i++;
    if (i < n && p[i] == ']')
        i++;
    while (i < n && p[i] != ']') {
        if (p[i] == '\\' && i + 1 < n)
            i += 2;
        else if (p[i] == '[' && i + 1 < n && p[i + 1] == ':') {
            const char *end = strstr(p + i + 2, ":]");
            i = end && (size_t)(end - p) < n ? (size_t)(end - p) + 2 : i + 1;
        } else
            i++;
    }
    return i < n ? i + 1 : n;
}

/* Whether the pattern needs a group to be concatenated with others: a
 * top-level '|', an inline option such as (?i) that would reach past it, a
 * \Q without \E, or a leading quantifier. */
static int regex_needs_group(const char *p, int extended)
{
    size_t n = strlen(p);
    int depth = 0;
    if (n && strchr("*+?{", p[0]))
        return 1;
    for (const char *q = strstr(p, "(?"); q; q = strstr(q + 2, "(?")) {
        const char *e = q + 2;
        while ((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') || *e == '-' || *e == '^')
            e++;
        if (*e == ')' && e > q + 2)
            return 1;
    }
    for (size_t i = 0; i < n;) {
        char ch = p[i];
        if (ch == '\\') {
            if (i + 1 < n && p[i + 1] == 'Q')
                return 1;
            i += 2;
        } else if (ch == '[') {
            i = skip_class(p, n, i);
        } else if (extended && ch == '#') {
            return 1;
        } else {
            if (ch == '(')
                depth++;
            else if (ch == ')')
                depth--;
            else if (ch == '|' && depth == 0)
                return 1;
            i++;
        }
    }
    return 0;
}

static rx_scan scan_relative_regex(const imp_cond *c)
{
    rx_scan r = {RX_FREE, 0, 0, NULL};
    const char *p = (const char *)c->bytes;
    size_t n = c->len;
    int extended = strchr(c->flags, 'x') != NULL;
    int multiline = strchr(c->flags, 'm') != NULL;
    size_t start = 0;
    if (n >= 1 && p[0] == '^')
        start = 1, r.multiline = multiline;
    else if (n >= 2 && p[0] == '\\' && p[1] == 'A')
        start = 2;
    int depth = 0, top_alt = 0;
    for (size_t i = start; i < n;) {
        char ch = p[i];
        if (ch == '\\' && i + 1 < n) {
            char e = p[i + 1];
            if (e == 'Q') { /* literal up to \E */
                const char *end = strstr(p + i + 2, "\\E");
                i = end ? (size_t)(end - p) + 2 : n;
                continue;
            }
            if (e == 'b' || e == 'B') {
                r.kind = RX_OTHER;
                r.why = "relative pcre (/R) with \\b or \\B: at the previous match's end "
                        "Suricata and Snort 3 see no byte before it, the rule language sees "
                        "the previous match's last byte";
                return r;
            }
            if (e == 'A' || e == 'G') {
                r.kind = RX_OTHER;
                r.why = "relative pcre (/R) with \\A or \\G inside the pattern (it matches at "
                        "the previous match's end): the rule language cannot say this";
                return r;
            }
            i += 2;
        } else if (ch == '[') {
            i = skip_class(p, n, i);
        } else if (extended && ch == '#') {
            while (i < n && p[i] != '\n')
                i++;
        } else if (ch == '(' && i + 2 < n && p[i + 1] == '?' && p[i + 2] == '#') {
            while (i < n && p[i] != ')')
                i++;
            i++;
        } else {
            if (ch == '^') {
                r.kind = RX_OTHER;
                r.why = "relative pcre (/R) with '^' inside the pattern (Suricata and Snort 3 "
                        "match it at the previous match's end): the rule language cannot say "
                        "this";
                return r;
            }
            if (ch == '(')
                depth++;
            else if (ch == ')')
                depth--;
            else if (ch == '|' && depth == 0)
                top_alt = 1;
            i++;
        }
    }
    if (start && top_alt) {
        r.kind = RX_OTHER;
        r.why = "relative pcre (/R) anchored with '^' or \\A in one alternative only: the rule "
                "language cannot say this";
        return r;
    }
    if (start) {
        r.kind = RX_ANCHORED;
        r.skip = start;
        if (start == 2)
            r.multiline = 0;
    }
    return r;
}

/* The repeat bounds the chain conds[h..k] needs as one expression: the head's
 * window and each relative link's gap.  Returns the largest. */
static int64_t chain_max_bound(const imp_rule *r, size_t h, size_t k)
{
    int64_t max = 0;
    for (size_t i = h; i <= k; i++) {
        const imp_cond *c = &r->conds[i];
        int64_t lo, hi = 0;
        int64_t len = c->is_regex ? 0 : (int64_t)c->len;
        if (i == h) {
            lo = c->has_offset ? c->offset : 0;
            if (c->has_depth)
                hi = lo + c->depth - len;
        } else {
            lo = c->has_distance ? c->distance : 0;
            if (c->has_within)
                hi = lo + c->within - len;
        }
        if (lo > max)
            max = lo;
        if (hi > max)
            max = hi;
    }
    return max;
}

/* A literal as a regex piece. */
static void literal_piece(imp_buf *b, const imp_cond *c)
{
    if (c->nocase)
        imp_buf_puts(b, "(?i:");
    for (size_t i = 0; i < c->len; i++) {
        uint8_t ch = c->bytes[i];
        if (ch < 0x20 || ch >= 0x7f)
            imp_buf_printf(b, "\\x%02x", ch);
        else if (strchr("\\^$.|?*+()[]{}", ch))
            imp_buf_printf(b, "\\%c", ch);
        else
            imp_buf_putc(b, (char)ch);
    }
    if (c->nocase)
        imp_buf_putc(b, ')');
}

/* A regex as a piece of a longer one: under its own flags, in a group when a
 * '|' or a comment would otherwise leak. */
static void regex_piece(imp_buf *b, const imp_cond *c, const char *text)
{
    int extended = strchr(c->flags, 'x') != NULL;
    if (c->flags[0])
        imp_buf_printf(b, "(?%s:%s%s)", c->flags, text, extended ? "\n" : "");
    else if (regex_needs_group(text, 0))
        imp_buf_printf(b, "(?:%s)", text);
    else
        imp_buf_puts(b, text);
}

/* Any byte, lo to hi times; nothing for an empty window ({0,0} is not a
 * valid repeat for Hyperscan). */
static void window(imp_buf *b, int64_t lo, int64_t hi)
{
    if (hi == 0)
        return;
    if (lo == hi)
        imp_buf_printf(b, "(?s:.){%lld}", (long long)lo);
    else
        imp_buf_printf(b, "(?s:.){%lld,%lld}", (long long)lo, (long long)hi);
}

/* Whether the compiler can build the chain conds[h..k] ending in a relative
 * regex as one expression.  Its composite (lib/compile/plan.c) writes the
 * window of a head whose depth equals its length at offset 0, or of a link
 * whose within equals its length at distance 0, as (?s:.){0,0}, which
 * Hyperscan refuses ("Invalid repeat").  merge_chain() writes such chains
 * itself. */
static int compiler_builds_chain(const imp_rule *r, size_t h, size_t k)
{
    const imp_cond *head = &r->conds[h];
    if (!head->is_regex && head->has_depth && !(head->has_offset && head->offset) &&
        head->depth == (int64_t)head->len)
        return 0;
    for (size_t i = h + 1; i < k; i++) {
        const imp_cond *c = &r->conds[i];
        if (!c->is_regex && c->has_within && !(c->has_distance && c->distance) &&
            c->within == (int64_t)c->len)
            return 0;
    }
    return 1;
}

/* The relative pcre conds[k] becomes one regex with the conditions its chain
 * starts with (conds[h..k-1]), the way the compiler builds a chain ending in
 * a relative regex: the head's window, each pattern, and between them the
 * gap each link allows.  With sc (a pcre anchored at the previous match's
 * end by '^' or \A of sc->skip bytes) the pcre follows the previous pattern
 * with no gap (under m: or after a newline in the gap); without, it is the
 * pcre's distance 0. */
static void merge_chain(imp_rule *r, size_t h, size_t k, const rx_scan *sc)
{
    imp_buf b = {0};
    const imp_cond *head = &r->conds[h];
    int keep_offset = head->has_offset && !head->has_depth;
    if (head->has_depth) {
        int64_t lo = head->has_offset ? head->offset : 0;
        int64_t len = head->is_regex ? 0 : (int64_t)head->len;
        imp_buf_puts(&b, "\\A");
        window(&b, lo, lo + head->depth - len);
    }
    for (size_t i = h; i <= k; i++) {
        const imp_cond *c = &r->conds[i];
        if (i > h && (i < k || !sc)) {
            int64_t d = c->has_distance ? c->distance : 0;
            if (c->has_within)
                window(&b, d, d + c->within - (c->is_regex ? 0 : (int64_t)c->len));
            else if (d)
                imp_buf_printf(&b, "(?s:.){%lld,}", (long long)d);
            else
                imp_buf_puts(&b, "(?s:.)*");
        } else if (i == k && sc && sc->multiline) {
            imp_buf_puts(&b, "(?:(?s:.)*\\n)?");
        }
        if (!c->is_regex)
            literal_piece(&b, c);
        else
            regex_piece(&b, c, (const char *)c->bytes + (i == k && sc ? sc->skip : 0));
    }
    imp_cond m = *head;
    m.is_regex = 1;
    m.bytes = (uint8_t *)imp_buf_take(&b);
    m.len = strlen((const char *)m.bytes);
    memset(m.flags, 0, sizeof m.flags);
    m.nocase = 0;
    m.negate = 0;
    m.has_depth = m.has_distance = m.has_within = 0;
    m.distance = m.within = m.depth = 0;
    m.has_offset = keep_offset;
    if (!keep_offset)
        m.offset = 0;
    m.relative = 0;
    for (size_t i = h; i <= k; i++)
        free(r->conds[i].bytes);
    r->conds[h] = m;
    memmove(&r->conds[h + 1], &r->conds[k + 1], (r->n_conds - k - 1) * sizeof(imp_cond));
    r->n_conds -= k - h;
}

static int same_buffer(const imp_cond *a, const imp_cond *b)
{
    return (!a->buffer && !b->buffer) || (a->buffer && b->buffer && strcmp(a->buffer, b->buffer) == 0);
}

/* Relative pcres (/R) that arrange_conditions() left relative: they follow a
 * positive condition of their buffer.  PCRE's /R starts the search at the
 * previous match's end E, which is `distance: 0` when the pattern does not
 * depend on where its subject starts, and a match right at E when it starts
 * with '^' or \A.  Everything else is refused with the reason. */
static void relative_regexes(xstate *st)
{
    imp_rule *r = st->r;
    size_t h = 0;
    for (size_t i = 0; i < r->n_conds; i++) {
        imp_cond *c = &r->conds[i];
        if (!c->relative || i == 0 || !same_buffer(c, &r->conds[i - 1])) {
            h = i;
            continue;
        }
        if (!c->is_regex || r->conds[i - 1].negate)
            continue; /* a relative content, or already refused */
        if (c->negate) {
            ISSUE(st, IMP_REJECT, "pcre",
                  "negated relative pcre (pcre:!\"/.../R\"): the rule language has no negated "
                  "relative regex");
            continue;
        }
        const char *why = NULL;
        for (size_t j = h; j < i && !why; j++) {
            const imp_cond *p = &r->conds[j];
            if (p->negate)
                why = "relative pcre (/R) in a chain with a negated condition";
            else if (p->is_jump)
                why = "relative pcre (/R) after a byte_jump: the rule language's relative regex "
                      "cannot count from a jump's target";
            else if (j > h && p->has_distance && p->distance < 0)
                why = "relative pcre (/R) after a content with a negative distance: the rule "
                      "language's relative regex needs its chain to move forward only";
            else if (j > h && (p->has_offset || p->has_depth))
                why = "relative pcre (/R) after a condition with offset/depth in the middle of "
                      "its chain";
            else if (j == h && p->is_regex && p->has_depth)
                why = "relative pcre (/R) after a regex with depth";
        }
        /* merge_chain writes literals and regexes; a byte_test's expression
         * is the compiler's to build (which it does for the chains it builds) */
        int has_bytetest = 0;
        for (size_t j = h; j < i; j++)
            has_bytetest |= r->conds[j].is_bytetest;
        if (why) {
            ISSUE(st, IMP_REJECT, "pcre", "%s", why);
            continue;
        }
        rx_scan sc = scan_relative_regex(c);
        if (sc.kind == RX_OTHER) {
            ISSUE(st, IMP_REJECT, "pcre", "%s", sc.why);
            continue;
        }
        c->has_distance = 1;
        c->distance = 0;
        int64_t bound = chain_max_bound(r, h, i);
        if (bound > HS_MAX_REPEAT) {
            ISSUE(st, IMP_REJECT, "pcre",
                  "relative pcre (/R) in a chain with a position of %lld bytes (offset, "
                  "depth, distance or within): the chain becomes one regex, and Hyperscan "
                  "repeats at most %d times",
                  (long long)bound, HS_MAX_REPEAT);
            continue;
        }
        int must_merge = sc.kind == RX_ANCHORED || !compiler_builds_chain(r, h, i);
        if (must_merge && has_bytetest) {
            ISSUE(st, IMP_REJECT, "pcre", "relative pcre (/R) that would have to be merged "
                                          "with a chain holding a byte_test");
            continue;
        }
        if (sc.kind == RX_ANCHORED) {
            merge_chain(r, h, i, &sc);
            ISSUE(st, IMP_NOTE, "pcre",
                  "relative pcre (/R) anchored at the previous match's end ('^' or \\A): "
                  "merged with the conditions before it in its buffer into one regex");
            i = h;
        } else if (!compiler_builds_chain(r, h, i)) {
            merge_chain(r, h, i, NULL);
            ISSUE(st, IMP_NOTE, "pcre",
                  "relative pcre (/R) after a window as long as its content (depth or "
                  "within): merged with the conditions before it in its buffer into one regex");
            i = h;
        }
    }
}

/* ------------------------------------------------------------ severity */

static const char *severity_name(int level)
{
    static const char *const names[] = {"medium", "low", "medium", "high", "critical"};
    return names[level >= 0 && level <= 4 ? level : 0];
}

/* Snort priority 1 (high) .. 4 (very low) -> severity level 1..4 */
static int priority_level(int priority)
{
    return priority <= 1 ? 3 : priority == 2 ? 2 : 1;
}

/* ------------------------------------------------------------ main */

/* A raw-stream rule for HTTP only gets `service: http`: the library then
 * recognises HTTP by a stream's first bytes with Suricata's own patterns
 * (rule-format.md, Services), which is what Suricata's protocol detection
 * decides such a rule by.  Snort 3 decides differently (its wizard's spells,
 * and the rule's ports as well as its service).  0 when the rule is not of
 * that kind (several services, UDP). */
static int verify_http(xstate *st)
{
    imp_rule *r = st->r;
    if (st->n_services != 1 || strcmp(st->services[0], "http") != 0 || r->udp ||
        imp_rule_level(r) >= IMP_REJECT)
        return 0;
    r->service_http = 1;
    if (st->ctx->dialect == IMP_SNORT3)
        ISSUE(st, IMP_CHANGED, "service",
              "application protocol http is recognised as Suricata does (a request starts "
              "with one of its method names and a blank, a response with HTTP/0.9, 1.0 or "
              "1.1; service: http) and on the rule's ports only, where Snort 3 evaluates "
              "the rule on its ports whatever the protocol and on flows its wizard takes "
              "for HTTP on any port");
    else
        ISSUE(st, IMP_NOTE, "service",
              "application protocol http: the rule needs a stream recognised as HTTP "
              "(service: http), by Suricata's own detection patterns; link the two "
              "directions of a flow (vp_stream_link) so that either side recognises both");
    return 1;
}

void imp_translate(const imp_ctx *ctx, const imp_raw *raw, imp_rule *out)
{
    memset(out, 0, sizeof(*out));
    out->file = raw->file;
    out->line = raw->line;
    out->text = raw->text;
    out->commented = raw->commented;
    out->gid = 1;
    xstate st;
    memset(&st, 0, sizeof(st));
    st.ctx = ctx;
    st.raw = raw;
    st.r = out;
    st.last_content = st.last_cond = -1;
    st.priority = -1;

    for (size_t i = 0; i < raw->n_issues; i++)
        imp_issue_add(&out->issues, &out->n_issues, raw->issues[i].level, raw->issues[i].keyword,
                      "%s", raw->issues[i].reason);

    /* action */
    if (raw->action) {
        const char *a = raw->action;
        if (strcmp(a, "alert") == 0 || strcmp(a, "log") == 0)
            out->block = 0;
        else if (strcmp(a, "drop") == 0 || strcmp(a, "sdrop") == 0 || strcmp(a, "block") == 0 ||
                 strncmp(a, "reject", 6) == 0)
            out->block = 1;
        else if (strcmp(a, "pass") == 0)
            ISSUE(&st, IMP_REJECT, "action", "pass rules whitelist traffic; the rule language has "
                                             "no pass action");
        else
            ISSUE(&st, IMP_REJECT, "action", "action %s is not supported", a);
    }
    const char *app = header_protocol(&st, raw->proto);

    for (size_t k = 0; k < raw->n_opts; k++)
        handle_option(&st, k);

    if (!out->has_sid)
        ISSUE(&st, IMP_REJECT, "sid", "the rule has no sid");
    else if (out->sid == 0)
        ISSUE(&st, IMP_REJECT, "sid", "sid 0 is not a valid rule id");
    if (out->gid != 1)
        ISSUE(&st, IMP_NOTE, "gid", "gid %u ignored: the rule id is the sid", out->gid);
    if (!out->msg || !*out->msg) {
        free(out->msg);
        out->msg = imp_xprintf("%s rule %u", ctx->dialect == IMP_SNORT3 ? "Snort" : "Suricata",
                               out->sid);
        ISSUE(&st, IMP_NOTE, "msg", "the rule has no msg; a name was made up");
    } else {
        for (char *q = out->msg; *q; q++)
            if (*q == '\n' || *q == '\r' || *q == '\t')
                *q = ' ';
    }
    if (out->noalert && out->block) {
        out->block = 0;
        ISSUE(&st, IMP_CHANGED, "noalert", "a silent drop rule is imported as detect: the "
                                           "library's noalert rules never block");
    }
    if (out->th_type && out->noalert) {
        out->th_type = NULL;   /* no alerts to thin out; flowbits apply regardless */
        ISSUE(&st, IMP_NOTE, "threshold", "threshold of a noalert rule dropped: it has no "
                                          "alerts to thin out");
    } else if (out->th_type && out->block && strcmp(out->th_type, "limit") != 0) {
        ISSUE(&st, IMP_REJECT, "threshold", "a drop rule with threshold type %s: the rule "
                                            "language's block verdict never waits for other "
                                            "streams", out->th_type);
    }

    header_ports_and_direction(&st);
    header_addresses(&st);

    /* services: the header protocol and Snort 3 service: */
    if (app && !imp_strv_has(st.services, st.n_services, app) &&
        ctx->dialect == IMP_SURICATA)
        imp_strv_push(&st.services, &st.n_services, imp_xstrdup(app));
    if (app && ctx->dialect == IMP_SNORT3 &&
        !imp_strv_has(st.services, st.n_services, app))
        imp_strv_push(&st.services, &st.n_services, imp_xstrdup(app));
    for (size_t i = 0; i < st.n_services; i++)
        if (strcmp(st.services[i], "http1") == 0) {
            free(st.services[i]);
            st.services[i] = imp_xstrdup("http");
        }

    resolve_file_data(&st, app);
    check_buffer_directions(&st);
    arrange_conditions(&st);
    relative_regexes(&st);
    length_caveats(&st);

    for (size_t i = 0; i < out->n_conds; i++) {
        if (buffer_is_http(out->conds[i].buffer))
            out->uses_http = 1;
        else
            out->uses_raw = 1;
    }
    if (out->uses_http && out->udp)
        ISSUE(&st, IMP_REJECT, "protocol", "HTTP buffers in a UDP rule");
    if (out->n_conds == 0 && imp_rule_level(out) < IMP_REJECT)
        ISSUE(&st, IMP_REJECT, "content", "no condition (content, pcre or length test): the "
                                          "rule language needs at least one");

    /* application protocol */
    if (st.n_services) {
        imp_buf b = {0};
        for (size_t i = 0; i < st.n_services; i++) {
            if (i)
                imp_buf_putc(&b, ',');
            imp_buf_puts(&b, st.services[i]);
        }
        out->service = imp_buf_take(&b);
        if (out->uses_http) {
            /* HTTP buffers imply HTTP: other services of the rule are lost */
            if (st.n_services > 1 || strcmp(st.services[0], "http") != 0)
                ISSUE(&st, IMP_CHANGED, "service", "only the HTTP traffic of services %s is "
                                                   "inspected (the rule uses HTTP buffers)",
                      out->service);
        } else if (!verify_http(&st)) {
            ISSUE(&st, IMP_CHANGED, "service", "application protocol %s is not verified: the "
                                               "stream conditions apply to any %s traffic on the "
                                               "rule's ports",
                  out->service, out->udp ? "UDP" : "TCP");
        }
    }

    /* severity: signature_severity metadata, priority, classtype priority */
    int level = 0;
    if (st.sev_meta)
        level = st.sev_meta;
    else if (st.priority >= 0)
        level = priority_level(st.priority);
    else if (out->classtype && *out->classtype) {
        int p = imp_class_priority(ctx->classes, out->classtype);
        if (p >= 0)
            level = priority_level(p);
        else
            ISSUE(&st, IMP_NOTE, "classtype", "unknown classtype %s: severity medium",
                  out->classtype);
    }
    out->severity = severity_name(level);
    /* modes: Talos policies */
    out->performance = st.policy_balanced;

    imp_strv_free(st.services, st.n_services);
    free(st.header_app);
}
