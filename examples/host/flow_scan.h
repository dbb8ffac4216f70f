/*
 * flow_scan — the capture-driven host: decoded packets in, libvpatch streams
 * and IPS events out.  It ties together pcap_decode (frames), flow_table
 * (per-5-tuple state, bounded, LRU eviction, idle timeouts), tcp_reasm (one
 * reassembler per direction) and event_log (JSON lines).
 *
 * Roles.  TCP: the server is the side that received the SYN (or sent the
 * SYN-ACK when the SYN was not captured); without a handshake the lower port
 * is the server (equal ports: the receiver of the first packet).  UDP: the
 * lower port is the server (equal ports: the receiver of the first datagram),
 * so a DNS query and its answer are to_server and to_client of port 53
 * whichever of the two the capture shows first.
 *
 * Streams.  Each TCP direction with payload is one libvpatch stream
 * (to_server / to_client, server port), opened at its first byte; when
 * both are open they are linked (vp_stream_link) for the HTTP parser.  A FIN
 * reached in order closes that direction's stream (end-of-stream conditions
 * are decided then); so does a FIN beyond missing data once the peer has
 * acknowledged it (the peer has those bytes, the capture never will: they
 * are reported as a gap first).  RST, an idle timeout, an eviction from a
 * full table or the end of the capture end the flow: holes still open are
 * reported as gaps, then the streams are closed.  A SYN on a known 5-tuple
 * whose sequence number does not fit the old connection starts a new flow.  Once a stream's verdict is
 * BLOCK the flow is recorded as blocked: its buffers and streams are released
 * and its later packets are counted, not scanned.  Each UDP datagram is
 * scanned on its own (vp_scan_datagram).
 *
 * Events.  Rules' thresholds (rule field `threshold`) are applied with a
 * vp_alert_filter: by the addresses of the stream's sender and receiver and
 * the capture time of the packet whose bytes produced the event.  Each
 * capture file starts with no tracked periods, like each flow table.  The
 * verdict is never filtered.
 *
 * Times are the capture's (microseconds); nothing depends on the wall clock.
 */
#ifndef VP_HOST_FLOW_SCAN_H
#define VP_HOST_FLOW_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pcap_decode.h"
#include "tcp_reasm.h"
#include "vpatch/vpatch.h"

typedef struct fs_config {
    size_t max_flows;            /* flow table bound */
    uint64_t idle_timeout_us;    /* a flow silent this long (capture time) ends */
    size_t ooo_dir_bytes;        /* out-of-order bytes per direction */
    size_t ooo_total_bytes;      /* out-of-order bytes in total */
    int all_events;              /* 1: rules' thresholds are not applied */
} fs_config;

#define FS_DEFAULT_MAX_FLOWS 65536
#define FS_DEFAULT_IDLE_TIMEOUT_S 120
#define FS_DEFAULT_OOO_DIR_BYTES (1u << 20)
#define FS_DEFAULT_OOO_TOTAL_BYTES (64u << 20)

typedef struct fs_stats {
    uint64_t packets;
    uint64_t decode[PD_RESULT_COUNT];   /* by pd_result; decode[PD_OK] = TCP/UDP packets */
    uint64_t snap_truncated;   /* TCP/UDP packets whose payload the capture cut short */
    uint64_t flows, tcp_flows, udp_flows;
    uint64_t bytes;            /* payload bytes handed to the library */
    uint64_t events;
    uint64_t events_thresholded; /* events a rule's threshold kept from the log */
    uint64_t blocked_flows;
    uint64_t blocked_packets;  /* packets of blocked flows, not scanned */
    uint64_t flows_evicted;    /* TCP flows with open streams evicted from a full table */
    uint64_t flows_timed_out;  /* TCP flows with open streams ended by the idle timeout */
    uint64_t rst_ignored;      /* RSTs far outside the sequence space */
    uint64_t scan_errors;      /* library calls that failed (out of memory, ...) */
} fs_stats;

typedef struct fs_host fs_host;

/** The engine, scratch and bundle are borrowed.  Events go to `out`. */
fs_host *fs_create(const vp_engine_t *engine, vp_scratch_t *scratch, const vp_bundle_t *bundle,
                   const fs_config *cfg, FILE *out);
/** Ends every flow (as fs_end_capture) and frees the host.  NULL ok. */
void fs_destroy(fs_host *h);

/** Name given to events as "pcap_file" (borrowed; NULL for none). */
void fs_set_source(fs_host *h, const char *name);

/** One captured frame of link type `dlt` at capture time `ts_us`. */
void fs_packet(fs_host *h, int dlt, const uint8_t *frame, size_t caplen, uint64_t ts_us);

/** End of a capture: every flow ends (gaps for missing data, streams closed). */
void fs_end_capture(fs_host *h);

const fs_stats *fs_get_stats(const fs_host *h);
const tr_stats *fs_get_reasm_stats(const fs_host *h);
/** Most flows held at once. */
size_t fs_peak_flows(const fs_host *h);

/** Appends " name=value" for every drop/anomaly counter to `f`. */
void fs_print_counters(const fs_host *h, FILE *f);

#endif
