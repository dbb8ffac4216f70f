/*
 * vpscan — scans captures (--pcap) or raw streams (--stream) with a bundle and
 * prints one IPS event per line as JSON.  Contract: ../shared/spec/cli.md.
 * Exit: 0 scanned, 2 usage or unreadable input, 3 bundle refused.
 *
 * Capture input goes through the example host in examples/host/: frame
 * decoding (pcap_decode), the flow table (flow_table), TCP reassembly
 * (tcp_reasm), the glue to libvpatch (flow_scan) and the event log
 * (event_log).  Each capture file is scanned on its own: flows still open at
 * its end are ended there.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "host/event_log.h"
#include "host/flow_scan.h"
#include "vpatch/vpatch.h"

enum { EXIT_OK = 0, EXIT_USAGE = 2, EXIT_BUNDLE = 3 };

typedef struct options {
    const char *bundle;
    vp_mode mode;
    uint32_t *enable, *disable;
    size_t n_enable, n_disable;
    int detect_only;
    const char *pubkey;
    const char *stream;
    int have_port;
    uint16_t port;
    vp_direction direction;
    vp_proto proto;
    size_t chunk;
    const char **pcaps;
    size_t n_pcaps;
    fs_config host;
} options;

typedef struct scan_ctx {
    const vp_bundle_t *bundle;
    uint64_t events;
} scan_ctx;

static void usage(void)
{
    fputs("usage: vpscan -b BUNDLE.vpb [-m performance|security] [--enable ID,...]\n"
          "              [--disable ID,...] [--detect-only] [--pubkey NAME.pub]\n"
          "              ( --pcap FILE... [--max-flows N] [--flow-timeout SECONDS]\n"
          "                [--all-events]\n"
          "                [--ooo-flow-bytes N] [--ooo-total-bytes N]\n"
          "              | --stream FILE --port N [--direction to_server|to_client]\n"
          "                [--proto tcp|udp] [--chunk N] )\n",
          stderr);
}

static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_ids(const char *list, uint32_t **ids, size_t *n)
{
    char *copy = strdup(list);
    if (!copy)
        return -1;
    int rc = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        uint64_t v;
        uint32_t *grown = realloc(*ids, (*n + 1) * sizeof(uint32_t));
        if (!grown || parse_uint(tok, UINT32_MAX, &v) != 0 || v == 0) {
            if (grown)
                *ids = grown;
            fprintf(stderr, "vpscan: bad rule id \"%s\"\n", tok);
            rc = -1;
            break;
        }
        *ids = grown;
        (*ids)[(*n)++] = (uint32_t)v;
    }
    free(copy);
    return rc;
}

static int add_pcap(options *o, const char *path)
{
    const char **grown = realloc(o->pcaps, (o->n_pcaps + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    o->pcaps = grown;
    o->pcaps[o->n_pcaps++] = path;
    return 0;
}

/* A host limit option (--max-flows ...): positive integer up to max. */
static int parse_limit(const char *name, const char *v, uint64_t max, uint64_t *out)
{
    if (parse_uint(v, max, out) != 0 || *out == 0) {
        fprintf(stderr, "vpscan: %s needs a positive integer up to %" PRIu64 ", got \"%s\"\n",
                name, max, v);
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof(*o));
    o->mode = VP_MODE_SECURITY;
    o->direction = VP_DIR_TO_SERVER;
    o->proto = VP_PROTO_TCP;
    o->host.max_flows = FS_DEFAULT_MAX_FLOWS;
    o->host.idle_timeout_us = (uint64_t)FS_DEFAULT_IDLE_TIMEOUT_S * 1000000u;
    o->host.ooo_dir_bytes = FS_DEFAULT_OOO_DIR_BYTES;
    o->host.ooo_total_bytes = FS_DEFAULT_OOO_TOTAL_BYTES;
    int in_pcaps = 0;   /* bare arguments after --pcap FILE are more captures */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t num;
        if (in_pcaps && a[0] != '-') {
            if (add_pcap(o, a) != 0)
                return -1;
            continue;
        }
        in_pcaps = 0;
        if (strcmp(a, "--detect-only") == 0) {
            o->detect_only = 1;
            continue;
        }
        if (strcmp(a, "--all-events") == 0) {
            o->host.all_events = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "vpscan: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "-b") == 0) {
            o->bundle = v;
        } else if (strcmp(a, "-m") == 0) {
            if (vp_mode_parse(v, &o->mode) != VP_OK) {
                fprintf(stderr, "vpscan: unknown mode \"%s\" (performance or security)\n", v);
                return -1;
            }
        } else if (strcmp(a, "--enable") == 0) {
            if (parse_ids(v, &o->enable, &o->n_enable) != 0)
                return -1;
        } else if (strcmp(a, "--disable") == 0) {
            if (parse_ids(v, &o->disable, &o->n_disable) != 0)
                return -1;
        } else if (strcmp(a, "--pubkey") == 0) {
            o->pubkey = v;
        } else if (strcmp(a, "--stream") == 0) {
            o->stream = v;
        } else if (strcmp(a, "--pcap") == 0) {
            if (add_pcap(o, v) != 0)
                return -1;
            in_pcaps = 1;
        } else if (strcmp(a, "--max-flows") == 0) {
            if (parse_limit(a, v, (uint64_t)1 << 30, &num) != 0)
                return -1;
            o->host.max_flows = (size_t)num;
        } else if (strcmp(a, "--flow-timeout") == 0) {
            if (parse_limit(a, v, 1000000000u, &num) != 0)
                return -1;
            o->host.idle_timeout_us = num * 1000000u;
        } else if (strcmp(a, "--ooo-flow-bytes") == 0) {
            if (parse_limit(a, v, (uint64_t)1 << 31, &num) != 0)
                return -1;
            o->host.ooo_dir_bytes = (size_t)num;
        } else if (strcmp(a, "--ooo-total-bytes") == 0) {
            if (parse_limit(a, v, (uint64_t)1 << 40, &num) != 0)
                return -1;
            o->host.ooo_total_bytes = (size_t)num;
        } else if (strcmp(a, "--port") == 0) {
            if (parse_uint(v, 65535, &num) != 0) {
                fprintf(stderr, "vpscan: --port needs 0..65535, got \"%s\"\n", v);
                return -1;
            }
            o->port = (uint16_t)num;
            o->have_port = 1;
        } else if (strcmp(a, "--direction") == 0) {
            if (strcmp(v, "to_server") == 0)
                o->direction = VP_DIR_TO_SERVER;
            else if (strcmp(v, "to_client") == 0)
                o->direction = VP_DIR_TO_CLIENT;
            else {
                fprintf(stderr, "vpscan: --direction is to_server or to_client\n");
                return -1;
            }
        } else if (strcmp(a, "--proto") == 0) {
            if (strcmp(v, "tcp") == 0)
                o->proto = VP_PROTO_TCP;
            else if (strcmp(v, "udp") == 0)
                o->proto = VP_PROTO_UDP;
            else {
                fprintf(stderr, "vpscan: --proto is tcp or udp\n");
                return -1;
            }
        } else if (strcmp(a, "--chunk") == 0) {
            if (parse_uint(v, SIZE_MAX, &num) != 0 || num == 0) {
                fprintf(stderr, "vpscan: --chunk needs a positive integer\n");
                return -1;
            }
            o->chunk = (size_t)num;
        } else {
            fprintf(stderr, "vpscan: unknown option %s\n", a);
            return -1;
        }
    }
    if (o->n_pcaps && o->stream) {
        fprintf(stderr, "vpscan: --pcap and --stream exclude each other\n");
        return -1;
    }
    if (o->n_pcaps && o->bundle)
        return 0;
    if (!o->bundle || !o->stream || !o->have_port) {
        usage();
        return -1;
    }
    return 0;
}

static void print_event(const vp_event_t *ev, void *ctx)
{
    scan_ctx *sc = ctx;
    if (ev_write(stdout, sc->bundle, ev, NULL) == 0)
        sc->events++;
}

/* Scans every capture; returns EXIT_OK or EXIT_USAGE (an unreadable file). */
static int scan_pcaps(const options *o, const vp_engine_t *e, vp_scratch_t *scratch,
                      const vp_bundle_t *b, double t0)
{
    fs_host *h = fs_create(e, scratch, b, &o->host, stdout);
    if (!h) {
        fprintf(stderr, "vpscan: out of memory\n");
        return EXIT_USAGE;
    }
    int rc = EXIT_OK;
    for (size_t i = 0; i < o->n_pcaps; i++) {
        char errbuf[PCAP_ERRBUF_SIZE] = "";
        pcap_t *p = pcap_open_offline_with_tstamp_precision(o->pcaps[i],
                                                            PCAP_TSTAMP_PRECISION_MICRO, errbuf);
        if (!p) {
            fprintf(stderr, "vpscan: cannot read %s: %s\n", o->pcaps[i], errbuf);
            rc = EXIT_USAGE;
            continue;
        }
        int dlt = pcap_datalink(p);
        if (!pd_link_supported(dlt)) {
            const char *name = pcap_datalink_val_to_name(dlt);
            fprintf(stderr, "vpscan: cannot read %s: link type %d (%s) is not supported\n",
                    o->pcaps[i], dlt, name ? name : "unknown");
            pcap_close(p);
            rc = EXIT_USAGE;
            continue;
        }
        fs_set_source(h, o->pcaps[i]);
        struct pcap_pkthdr *hdr;
        const u_char *data;
        int r;
        while ((r = pcap_next_ex(p, &hdr, &data)) == 1) {
            uint64_t ts = (uint64_t)hdr->ts.tv_sec * 1000000u + (uint64_t)hdr->ts.tv_usec;
            fs_packet(h, dlt, data, hdr->caplen, ts);
        }
        if (r == PCAP_ERROR)   /* a damaged or cut-off file: keep what was read */
            fprintf(stderr, "vpscan: %s: %s (stopped there)\n", o->pcaps[i], pcap_geterr(p));
        fs_end_capture(h);
        fflush(stdout);
        pcap_close(p);
    }
    const fs_stats *s = fs_get_stats(h);
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)t1.tv_sec + (double)t1.tv_nsec / 1e9 - t0;
    fprintf(stderr,
            "vpscan: flows=%" PRIu64 " bytes=%" PRIu64 " events=%" PRIu64 " blocked=%" PRIu64
            " seconds=%.3f",
            s->flows, s->bytes, s->events, s->blocked_flows, secs);
    fs_print_counters(h, stderr);
    fputc('\n', stderr);
    fs_destroy(h);
    return rc;
}

static int read_all(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (!got)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

static vp_status scan_stream(const options *o, const vp_engine_t *e, vp_scratch_t *scratch,
                             const uint8_t *data, size_t len, scan_ctx *sc, vp_verdict *verdict)
{
    if (o->proto == VP_PROTO_UDP)
        return vp_scan_datagram(e, VP_PROTO_UDP, o->port, o->direction, data, len, scratch,
                                print_event, sc, verdict);
    vp_stream_t *s;
    vp_status st = vp_stream_open(e, VP_PROTO_TCP, o->port, o->direction, print_event, sc, &s);
    size_t chunk = o->chunk ? o->chunk : (len ? len : 1);
    for (size_t at = 0; st == VP_OK && at < len; at += chunk)
        st = vp_stream_scan(s, data + at, len - at < chunk ? len - at : chunk, scratch);
    if (st == VP_OK)
        st = vp_stream_close(s, scratch);
    *verdict = vp_stream_verdict(s);
    vp_stream_free(s);
    return st;
}

static vp_status make_engine(const options *o, vp_bundle_t *b, vp_engine_t **e, vp_error_t **err)
{
    vp_engine_options_t *eo;
    vp_status st = vp_engine_options_create(&eo);
    if (st != VP_OK)
        return st;
    if ((st = vp_engine_options_set_mode(eo, o->mode)) == VP_OK &&
        (st = vp_engine_options_enable(eo, o->enable, o->n_enable)) == VP_OK &&
        (st = vp_engine_options_disable(eo, o->disable, o->n_disable)) == VP_OK &&
        (st = vp_engine_options_set_detect_only(eo, o->detect_only)) == VP_OK)
        st = vp_engine_create(b, eo, e, err);
    vp_engine_options_free(eo);
    return st;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o) != 0) {
        free(o.enable);
        free(o.disable);
        free(o.pcaps);
        return EXIT_USAGE;
    }
    int rc = EXIT_OK;
    uint8_t *data = NULL;
    size_t len = 0;
    vp_bundle_t *b = NULL;
    vp_engine_t *e = NULL;
    vp_scratch_t *scratch = NULL;
    vp_error_t *err = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    vp_load_options_t *lo = NULL;
    vp_status st = vp_load_options_create(&lo);
    if (st == VP_OK && o.pubkey && vp_load_options_add_trusted_key_file(lo, o.pubkey, &err) != VP_OK) {
        fprintf(stderr, "vpscan: --pubkey: %s\n", vp_error_message(err));
        vp_load_options_free(lo);
        rc = EXIT_USAGE;
        goto out;
    }
    if (st == VP_OK)
        st = vp_bundle_load_file_ex(o.bundle, lo, &b, &err);
    vp_load_options_free(lo);
    if (st != VP_OK) {
        fprintf(stderr, "vpscan: bundle %s refused: %s\n", o.bundle,
                err ? vp_error_message(err) : vp_status_str(st));
        rc = st == VP_E_IO ? EXIT_USAGE : EXIT_BUNDLE;
        goto out;
    }
    st = make_engine(&o, b, &e, &err);
    if (st != VP_OK) {
        fprintf(stderr, "vpscan: %s\n", err ? vp_error_message(err) : vp_status_str(st));
        rc = EXIT_USAGE;
        goto out;
    }
    if (vp_scratch_alloc(e, &scratch) != VP_OK) {
        fprintf(stderr, "vpscan: out of memory\n");
        rc = EXIT_USAGE;
        goto out;
    }
    if (o.n_pcaps) {
        rc = scan_pcaps(&o, e, scratch, b, (double)t0.tv_sec + (double)t0.tv_nsec / 1e9);
        goto out;
    }
    if (read_all(o.stream, &data, &len) != 0) {
        fprintf(stderr, "vpscan: cannot read %s: %s\n", o.stream, strerror(errno));
        rc = EXIT_USAGE;
        goto out;
    }
    scan_ctx sc = {b, 0};
    vp_verdict verdict = VP_VERDICT_ALLOW;
    st = scan_stream(&o, e, scratch, data, len, &sc, &verdict);
    if (st != VP_OK) {
        fprintf(stderr, "vpscan: scan failed: %s\n", vp_status_str(st));
        rc = EXIT_USAGE;
        goto out;
    }
    fflush(stdout);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "vpscan: flows=1 bytes=%zu events=%" PRIu64 " blocked=%d seconds=%.3f\n", len,
            sc.events, verdict == VP_VERDICT_BLOCK, secs);
out:
    vp_error_free(err);
    free(data);
    vp_scratch_free(scratch);
    vp_engine_free(e);
    vp_bundle_free(b);
    free(o.enable);
    free(o.disable);
    free(o.pcaps);
    return rc;
}
