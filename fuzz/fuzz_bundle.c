/*
 * fuzz_bundle: the input is an untrusted bundle.
 *
 * vp_bundle_load_memory() must refuse it cleanly or load it; a bundle that
 * loads then goes through everything a host can do with one: every metadata
 * query, engines in every mode, and a fixed set of streams and datagrams
 * (chunked, with a gap, closed and abandoned).
 *
 * Each input is then loaded a second time with load options, chosen by a hash
 * of the input: baseline database only, forced recompilation of the bundle's
 * patterns, recompiling forbidden, a trusted key (the public key in the
 * input's own SIGNATURE section, so that a signed seed passes and the whole
 * check runs), or a minimum serial.  When both loads succeed the hot-reload
 * path runs too: a scratch reserved for both engines, and a stream that
 * outlives the engine it was opened on.
 *
 * Checksums: a fuzzing build (-Dfuzzing=true) ignores them so that mutated
 * bundles reach the content checks.  A normal build enforces them, so when a
 * load fails with VP_E_BUNDLE_CHECKSUM this target repairs every CRC in a
 * copy and loads again: the corpora and regression files reach the same code
 * in both builds.
 */
#include "fuzz_common.h"

#include "lib/common/bundle_codec.h"
#include "lib/common/crc32.h"

/* The fixed traffic: pieces of many protocols and of the seed rules. */
static const char stream_a[] =
    "GET /index.html HTTP/1.1\r\nHost: a\r\nUser-Agent: () { :; }; id\r\n"
    "X-Q: ${jndi:ldap://x/a} ${lower:j}\r\n\r\n"
    "POST /x/%2e%2e/etc/passwd HTTP/1.1\r\nHost: evil\r\nCookie: admin=1\r\n"
    "Transfer-Encoding: chunked\r\n\r\n1d\r\n"
    "abcabcabc cmd=whoami& id=1;--\r\n0\r\n\r\n"
    "HEAD / HTTP/1.0\r\n\r\nUSER root\r\nPASS x\r\n";
static const char stream_b[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 32\r\n\r\n"
    "\xca\xfe\xba\xbe<script>alert(1)</script>abc"
    "HTTP/1.1 500 Oops\r\nContent-Length: 10\r\n\r\n"
    "HTTP/1.1 200 OK\r\n\r\nroot:x:0:0 \x16\x03\x01\x00\xff\x00\x01 END";
static const uint8_t datagram[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0x03, 'f',  'o',  'o',
                                   0x00, 0x00, 0xff, 0x00, 0x01, 'P',  'I',  'N', 'G'};

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Rewrites the section CRCs and the header CRC of a bundle in place, as far
 * as its header and table can be read.  Returns 0 when nothing could be done. */
static int repair_checksums(uint8_t *b, size_t len)
{
    if (len < VP_BUNDLE_HEADER_SIZE)
        return 0;
    uint32_t count = rd32(b + VP_BUNDLE_OFF_SECTION_COUNT);
    if (count < 1 || count > VP_BUNDLE_MAX_SECTIONS)
        return 0;
    size_t table_end = VP_BUNDLE_HEADER_SIZE + (size_t)count * VP_BUNDLE_ENTRY_SIZE;
    if (table_end > len)
        return 0;
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *e = b + VP_BUNDLE_HEADER_SIZE + (size_t)i * VP_BUNDLE_ENTRY_SIZE;
        uint64_t off = rd64(e + 8), size = rd64(e + 16);
        if (off <= len && size <= len - off)
            wr32(e + 24, vp_crc32(0, b + off, (size_t)size));
    }
    wr32(b + VP_BUNDLE_OFF_HEADER_CRC, 0);
    wr32(b + VP_BUNDLE_OFF_HEADER_CRC, vp_crc32(0, b, table_end));
    return 1;
}

static void touch(const char *s)
{
    FUZZ_CHECK(s != NULL);
    volatile size_t n = strlen(s);
    (void)n;
}

static void inspect(const vp_bundle_t *b)
{
    (void)vp_bundle_serial(b);
    touch(vp_bundle_ruleset(b));
    vp_bundle_stats_t stats;
    memset(&stats, 0, sizeof(stats));
    stats.size = sizeof(stats);
    FUZZ_OK(vp_bundle_stats(b, &stats));
    FUZZ_CHECK(stats.rule_count == vp_bundle_rule_count(b));
    FUZZ_CHECK(memchr(stats.key_id, 0, sizeof(stats.key_id)) != NULL);
    touch(stats.database);
    for (size_t i = 0; i < stats.section_count; i++) {
        const char *name;
        uint64_t size;
        FUZZ_OK(vp_bundle_section_at(b, i, &name, &size));
        touch(name);
    }
    FUZZ_CHECK(vp_bundle_section_at(b, stats.section_count, &(const char *){NULL},
                                    &(uint64_t){0}) == VP_E_INVALID);
    for (size_t i = 0; i < stats.rule_count; i++) {
        vp_rule_info_t info, again;
        memset(&info, 0, sizeof(info));
        info.size = sizeof(info);
        FUZZ_OK(vp_bundle_rule_at(b, i, &info));
        touch(info.name);
        touch(info.description);
        for (size_t k = 0; k < info.cve_count; k++)
            touch(info.cves[k]);
        for (size_t k = 0; k < info.reference_count; k++)
            touch(info.references[k]);
        for (size_t k = 0; k < info.tag_count; k++)
            touch(info.tags[k]);
        touch(vp_severity_str(info.severity));
        touch(vp_action_str(info.action));
        touch(vp_direction_str(info.direction));
        memset(&again, 0, sizeof(again));
        again.size = sizeof(again);
        FUZZ_OK(vp_bundle_rule_by_id(b, info.id, &again));
        FUZZ_CHECK(again.id == info.id);
    }
}

/* Every rule's events through an alert filter of two entries (so that the
 * table fills and is rebuilt): the decisions follow the rule's threshold. */
static void filter_events(const vp_bundle_t *b)
{
    vp_alert_filter_t *f = NULL;
    vp_status st = vp_alert_filter_create(b, 2, &f, NULL);
    FUZZ_CHECK(st == VP_OK || st == VP_E_NOMEM);
    if (st != VP_OK)
        return;
    vp_address_t hosts[3];
    memset(hosts, 0, sizeof hosts);
    for (int h = 0; h < 3; h++) {
        hosts[h].family = h == 2 ? 6 : 4;
        hosts[h].bytes[3] = (uint8_t)h;
    }
    size_t n = vp_bundle_rule_count(b);
    for (size_t i = 0; i < n && i < 64; i++) {
        vp_rule_info_t info;
        memset(&info, 0, sizeof(info));
        info.size = sizeof(info);
        FUZZ_OK(vp_bundle_rule_at(b, i, &info));
        touch(vp_threshold_type_str(info.threshold_type));
        touch(vp_track_str(info.threshold_track));
        vp_event_t ev = {.rule_id = info.id, .direction = VP_DIR_TO_SERVER};
        uint64_t reported = 0;
        for (uint64_t k = 0; k < 12; k++) {
            int report = -1;
            const vp_address_t *src = &hosts[k % 3], *dst = &hosts[(k + 1) % 3];
            st = vp_alert_filter_check(f, &ev, src, dst, k / 2, &report);
            /* by_both over two families is refused, nothing else */
            FUZZ_CHECK(st == VP_OK || (st == VP_E_INVALID &&
                                       info.threshold_track == VP_TRACK_BY_BOTH));
            FUZZ_CHECK(st != VP_OK || report == 0 || report == 1);
            reported += st == VP_OK && report == 1;
        }
        if (info.threshold_type == VP_THRESHOLD_NONE)
            FUZZ_CHECK(reported == 12);
    }
    vp_alert_filter_stats_t fs;
    memset(&fs, 0, sizeof(fs));
    fs.size = sizeof(fs);
    FUZZ_OK(vp_alert_filter_stats(f, &fs));
    FUZZ_CHECK(fs.entries <= fs.capacity && fs.suppressed <= fs.checked);
    vp_alert_filter_reset(f);
    vp_alert_filter_free(f);
}

static void scan_all(const fz_engine *e)
{
    fz_events ev = {0};
    const vp_direction dirs[2] = {VP_DIR_TO_SERVER, VP_DIR_TO_CLIENT};
    const uint16_t ports[3] = {80, 443, 53};
    for (int d = 0; d < 2; d++) {
        for (int p = 0; p < 3; p++) {
            /* Whole, then in pieces of 7 with a gap after the first third. */
            for (int mode = 0; mode < 3; mode++) {
                const char *text = (d == 0) ? stream_a : stream_b;
                size_t len = strlen(text);
                vp_stream_t *s = NULL;
                fz_events_clear(&ev);
                FUZZ_OK(vp_stream_open(e->engine, VP_PROTO_TCP, ports[p], dirs[d], fz_collect,
                                       &ev, &s));
                if (mode == 0) {
                    FUZZ_OK(vp_stream_scan(s, text, len, e->scratch));
                } else {
                    for (size_t at = 0; at < len; at += 7) {
                        size_t n = len - at < 7 ? len - at : 7;
                        FUZZ_OK(vp_stream_scan(s, text + at, n, e->scratch));
                        if (mode == 2 && at / 7 == len / 21)
                            FUZZ_OK(vp_stream_gap(s, 13, e->scratch));
                    }
                }
                if (mode == 1 && p == 1) {
                    vp_stream_free(s); /* abandoned without close */
                    continue;
                }
                FUZZ_OK(vp_stream_close(s, e->scratch));
                for (size_t i = 0; i < ev.n; i++) {
                    FUZZ_CHECK(ev.v[i].offset <= vp_stream_offset(s));
                    FUZZ_CHECK(vp_engine_rule_enabled(e->engine, ev.v[i].rule_id));
                }
                vp_stream_free(s);
            }
            fz_events_clear(&ev);
            vp_verdict v;
            FUZZ_OK(vp_scan_datagram(e->engine, VP_PROTO_UDP, ports[p], dirs[d], datagram,
                                     sizeof(datagram), e->scratch, fz_collect, &ev, &v));
            for (size_t i = 0; i < ev.n; i++)
                FUZZ_CHECK(ev.v[i].offset <= sizeof(datagram));
        }
    }
    fz_events_free(&ev);
}

/* full: every engine variant; else the all-rules engine only. */
/* Both directions of one flow, linked (the HTTP response parser learns the
 * request methods), fed alternately in 5-byte pieces. */
static void scan_pair(const fz_engine *e)
{
    fz_events ev = {0};
    vp_stream_t *req = NULL, *resp = NULL;
    FUZZ_OK(vp_stream_open(e->engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, fz_collect, &ev, &req));
    FUZZ_OK(vp_stream_open(e->engine, VP_PROTO_TCP, 80, VP_DIR_TO_CLIENT, fz_collect, &ev, &resp));
    FUZZ_OK(vp_stream_link(req, resp));
    size_t la = strlen(stream_a), lb = strlen(stream_b);
    for (size_t at = 0; at < la || at < lb; at += 5) {
        if (at < la)
            FUZZ_OK(vp_stream_scan(req, stream_a + at, la - at < 5 ? la - at : 5, e->scratch));
        if (at < lb)
            FUZZ_OK(vp_stream_scan(resp, stream_b + at, lb - at < 5 ? lb - at : 5, e->scratch));
    }
    FUZZ_OK(vp_stream_close(req, e->scratch));
    vp_stream_stats_t st;
    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    FUZZ_OK(vp_stream_stats(req, &st));
    FUZZ_CHECK(st.bytes == la);
    vp_stream_free(req); /* unlinks resp */
    FUZZ_OK(vp_stream_scan(resp, "HTTP/1.1 200 OK\r\n\r\n", 19, e->scratch));
    FUZZ_OK(vp_stream_close(resp, e->scratch));
    FUZZ_OK(vp_stream_stats(resp, &st));
    FUZZ_CHECK(st.bytes == lb + 19);
    vp_stream_free(resp);
    fz_events_free(&ev);
}

static void exercise(vp_bundle_t *b, int full)
{
    inspect(b);
    filter_events(b);
    for (int v = full ? 0 : FZ_ENGINE_ALL_RULES; v < FZ_ENGINE_VARIANTS; v++) {
        fz_engine e = {0};
        vp_error_t *err = NULL;
        vp_status st = fz_engine_make(b, v, &e, &err);
        /* A loaded bundle makes engines; only memory can run out. */
        if (st != VP_OK) {
            fprintf(stderr, "engine %d: %s %s\n", v, vp_status_str(st),
                    err ? vp_error_message(err) : "");
            FUZZ_CHECK(st == VP_E_NOMEM);
        }
        vp_error_free(err);
        if (st == VP_OK) {
            (void)vp_engine_enabled_count(e.engine);
            (void)vp_engine_stream_size(e.engine);
            FUZZ_CHECK(vp_engine_bundle(e.engine) == b);
            scan_all(&e);
            scan_pair(&e);
        }
        fz_engine_free(&e);
    }
}

/* Hot reload: one scratch serves the old and the new engine, and a stream
 * keeps its engine alive after the host freed it. */
static void reload(vp_bundle_t *old_b, vp_bundle_t *new_b)
{
    fz_engine a = {0}, b = {0};
    FUZZ_OK(fz_engine_make(old_b, FZ_ENGINE_ALL_RULES, &a, NULL));
    FUZZ_OK(fz_engine_make(new_b, FZ_ENGINE_ALL_RULES, &b, NULL));
    FUZZ_OK(vp_scratch_reserve(a.scratch, b.engine));
    vp_stream_t *s_old = NULL, *s_new = NULL;
    fz_events ev = {0};
    FUZZ_OK(vp_stream_open(a.engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, fz_collect, &ev, &s_old));
    FUZZ_OK(vp_stream_open(b.engine, VP_PROTO_TCP, 80, VP_DIR_TO_SERVER, fz_collect, &ev, &s_new));
    size_t half = strlen(stream_a) / 2;
    FUZZ_OK(vp_stream_scan(s_old, stream_a, half, a.scratch));
    vp_engine_free(a.engine); /* the stream holds its own reference */
    a.engine = NULL;
    FUZZ_OK(vp_stream_scan(s_old, stream_a + half, strlen(stream_a) - half, a.scratch));
    FUZZ_OK(vp_stream_scan(s_new, stream_a, strlen(stream_a), a.scratch));
    FUZZ_OK(vp_stream_close(s_old, a.scratch));
    FUZZ_OK(vp_stream_close(s_new, a.scratch));
    vp_stream_free(s_old);
    vp_stream_free(s_new);
    fz_events_free(&ev);
    fz_engine_free(&b);
    fz_engine_free(&a);
}

/* Loads (opts may be NULL) and checks the error contract; the bundle or NULL. */
static vp_bundle_t *load(const uint8_t *data, size_t size, const vp_load_options_t *opts,
                         vp_status *status)
{
    vp_bundle_t *b = NULL;
    vp_error_t *err = NULL;
    vp_status st = opts ? vp_bundle_load_memory_ex(data, size, opts, &b, &err)
                        : vp_bundle_load_memory(data, size, &b, &err);
    if (st == VP_OK) {
        FUZZ_CHECK(b != NULL && err == NULL);
    } else {
        FUZZ_CHECK(b == NULL);
        FUZZ_CHECK(err != NULL);
        FUZZ_CHECK(vp_error_status(err) == st);
        touch(vp_error_message(err));
        int64_t off = vp_error_offset(err);
        FUZZ_CHECK(off >= -1 && (off == -1 || (uint64_t)off <= size));
    }
    vp_error_free(err);
    *status = st;
    return b;
}

/* The public key stored in the input's SIGNATURE section, if it has one. */
static int signature_key(const uint8_t *b, size_t len, uint8_t pk[32])
{
    if (len < VP_BUNDLE_HEADER_SIZE)
        return 0;
    uint32_t count = rd32(b + VP_BUNDLE_OFF_SECTION_COUNT);
    if (count > VP_BUNDLE_MAX_SECTIONS ||
        VP_BUNDLE_HEADER_SIZE + (size_t)count * VP_BUNDLE_ENTRY_SIZE > len)
        return 0;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = b + VP_BUNDLE_HEADER_SIZE + (size_t)i * VP_BUNDLE_ENTRY_SIZE;
        uint64_t off = rd64(e + 8), size = rd64(e + 16);
        /* u32 alg, u32 reserved, 8-byte key id, then the public key */
        if (rd32(e) == VP_SECT_SIGNATURE && off <= len && size <= len - off && size >= 48) {
            memcpy(pk, b + off + 16, 32);
            return 1;
        }
    }
    return 0;
}

static uint32_t hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

enum { OPT_BASELINE, OPT_RECOMPILE, OPT_NO_RECOMPILE, OPT_TRUST, OPT_MIN_SERIAL, OPT_COUNT };

static vp_load_options_t *make_options(const uint8_t *data, size_t size, int which)
{
    vp_load_options_t *o = NULL;
    FUZZ_OK(vp_load_options_create(&o));
    uint8_t pk[32];
    switch (which) {
    case OPT_BASELINE:
        FUZZ_OK(vp_load_options_set_flags(o, VP_LOAD_BASELINE_ONLY));
        break;
    case OPT_RECOMPILE:
        FUZZ_OK(vp_load_options_set_flags(o, VP_LOAD_FORCE_RECOMPILE));
        break;
    case OPT_NO_RECOMPILE:
        FUZZ_OK(vp_load_options_set_allow_recompile(o, 0));
        break;
    case OPT_TRUST:
        if (!signature_key(data, size, pk))
            memset(pk, 0x5a, sizeof(pk));
        FUZZ_OK(vp_load_options_add_trusted_key(o, pk));
        break;
    default: {
        /* The serial itself (accepted) or one more (VP_E_ROLLBACK). */
        uint64_t serial = size >= 24 ? rd64(data + VP_BUNDLE_OFF_SERIAL) : 0;
        FUZZ_OK(vp_load_options_set_min_serial(o, serial + (hash(data, size) >> 31)));
        break;
    }
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: reads past the end are caught by ASan. */
    uint8_t *copy = calloc(size ? size : 1, 1);
    FUZZ_CHECK(copy != NULL);
    if (size)
        memcpy(copy, data, size);
    vp_status st;
    vp_bundle_t *first = load(copy, size, NULL, &st);
    if (st == VP_E_BUNDLE_CHECKSUM && repair_checksums(copy, size))
        first = load(copy, size, NULL, &st);
    if (first)
        exercise(first, 1);

    vp_load_options_t *opts = make_options(copy, size, (int)(hash(copy, size) % OPT_COUNT));
    vp_bundle_t *second = load(copy, size, opts, &st);
    vp_load_options_free(opts);
    if (second) {
        exercise(second, 0);
        if (first)
            reload(first, second);
    }
    vp_bundle_free(second);
    vp_bundle_free(first);
    free(copy);
    return 0;
}
