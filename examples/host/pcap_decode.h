/*
 * pcap_decode — turns one captured frame into addresses, ports, TCP header
 * fields and a payload pointer.  Pure function of the bytes: no libpcap, no
 * allocation, no state.  Every length and offset is checked against the
 * captured length, so truncated or hostile frames are rejected, never read
 * past.
 *
 * Link types (pcap DLT values): Ethernet with any number (up to 8) of
 * 802.1Q / 802.1ad / QinQ tags, Linux cooked capture v1 and v2, raw IP
 * (DLT_RAW 12/14, LINKTYPE_RAW 101, LINKTYPE_IPV4 228, LINKTYPE_IPV6 229),
 * BSD loopback (DLT_NULL 0, DLT_LOOP 108).  Network: IPv4 with options
 * (fragments are reported, not reassembled), IPv6 with extension headers
 * (hop-by-hop, routing, destination options, AH, fragment header; a non-first
 * or non-final fragment is reported as a fragment).  Transport: TCP and UDP.
 * Checksums are not verified (like Suricata's `-k none`).
 */
#ifndef VP_HOST_PCAP_DECODE_H
#define VP_HOST_PCAP_DECODE_H

#include <stddef.h>
#include <stdint.h>

enum {
    PD_DLT_NULL = 0,
    PD_DLT_EN10MB = 1,
    PD_DLT_RAW = 12,
    PD_DLT_RAW_OPENBSD = 14,
    PD_LINKTYPE_RAW = 101,
    PD_DLT_LOOP = 108,
    PD_DLT_LINUX_SLL = 113,
    PD_DLT_IPV4 = 228,
    PD_DLT_IPV6 = 229,
    PD_DLT_LINUX_SLL2 = 276,
};

/* TCP flag bits as on the wire. */
enum { PD_FIN = 0x01, PD_SYN = 0x02, PD_RST = 0x04, PD_PSH = 0x08, PD_ACK = 0x10 };

typedef enum pd_result {
    PD_OK = 0,        /* a TCP segment or UDP datagram */
    PD_NOT_IP,        /* ARP, LLDP, 802.3 frames, ... */
    PD_TRUNCATED,     /* a header is cut short or its lengths are inconsistent */
    PD_FRAGMENT,      /* an IP fragment (not reassembled) */
    PD_OTHER_PROTO,   /* ICMP, ESP, GRE, tunnels, ... */
    PD_BAD_LINK,      /* link type not supported */
    PD_RESULT_COUNT
} pd_result;

typedef struct pd_packet {
    uint8_t family;          /* 4 or 6 */
    uint8_t proto;           /* 6 TCP or 17 UDP */
    uint8_t tcp_flags;       /* PD_* bits, TCP only */
    uint8_t src[16], dst[16];/* IPv4 addresses use the first 4 bytes, the rest is 0 */
    uint16_t sport, dport;
    uint32_t seq, ack;       /* TCP only */
    const uint8_t *payload;  /* points into the frame */
    uint32_t payload_len;    /* payload bytes present in the capture */
    uint32_t wire_len;       /* payload length the headers declare (>= payload_len) */
} pd_packet;

/** 1 when pd_decode understands the link type. */
int pd_link_supported(int dlt);

/** Decodes one frame.  `out` is filled only for PD_OK. */
pd_result pd_decode(int dlt, const uint8_t *frame, size_t caplen, pd_packet *out);

/** Short name of a result ("not_ip", "truncated", ...). */
const char *pd_result_str(pd_result r);

#endif
