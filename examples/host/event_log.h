/*
 * event_log — the IPS event log of vpscan: one JSON object per line.
 *
 * Fields (../shared/spec/cli.md): event_type, rule_id, name, cve, severity,
 * action, verdict, direction, offset; for capture input also timestamp (ISO
 * 8601, UTC, microseconds, from the capture clock), flow (proto, src_ip,
 * src_port, dest_ip, dest_port: the sender and receiver of the stream the
 * rule inspected) and pcap_file.
 */
#ifndef VP_HOST_EVENT_LOG_H
#define VP_HOST_EVENT_LOG_H

#include <stdint.h>
#include <stdio.h>

#include "vpatch/vpatch.h"

/** Where an event came from in a capture. */
typedef struct ev_origin {
    uint64_t ts_us;            /* capture time, microseconds since the epoch */
    uint8_t family;            /* 4 or 6 */
    uint8_t proto;             /* 6 or 17 */
    const uint8_t *src_ip, *dest_ip;   /* 4 or 16 bytes */
    uint16_t src_port, dest_port;
    const char *pcap_file;     /* NULL: no field */
} ev_origin;

/** Writes one event line.  `origin` NULL gives the --stream form.  Returns 0,
 *  or -1 when the rule is unknown to the bundle (nothing written). */
int ev_write(FILE *out, const vp_bundle_t *bundle, const vp_event_t *ev, const ev_origin *origin);

/** "2021-12-11T10:20:30.123456Z" into buf (at least 32 bytes). */
void ev_format_time(uint64_t ts_us, char *buf, size_t cap);

/** Text form of an address ("192.0.2.1", "2001:db8::1"). */
void ev_format_ip(uint8_t family, const uint8_t *addr, char *buf, size_t cap);

#endif
