/* Frame decoding for vpscan --pcap: link layer, IPv4/IPv6, TCP/UDP.
 * See pcap_decode.h.  Every read is preceded by a length check. */
#include "pcap_decode.h"

#include <string.h>

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100
#define MAX_VLAN_TAGS 8
#define MAX_IPV6_EXT 16

static uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int pd_link_supported(int dlt)
{
    switch (dlt) {
    case PD_DLT_NULL: case PD_DLT_EN10MB: case PD_DLT_RAW: case PD_DLT_RAW_OPENBSD:
    case PD_LINKTYPE_RAW: case PD_DLT_LOOP: case PD_DLT_LINUX_SLL: case PD_DLT_IPV4:
    case PD_DLT_IPV6: case PD_DLT_LINUX_SLL2:
        return 1;
    default:
        return 0;
    }
}

const char *pd_result_str(pd_result r)
{
    switch (r) {
    case PD_OK: return "ok";
    case PD_NOT_IP: return "not_ip";
    case PD_TRUNCATED: return "truncated";
    case PD_FRAGMENT: return "fragments";
    case PD_OTHER_PROTO: return "other_proto";
    case PD_BAD_LINK: return "bad_link";
    default: return "?";
    }
}

/* TCP or UDP header at p (n bytes captured, wire bytes declared by IP). */
static pd_result decode_transport(uint8_t proto, const uint8_t *p, size_t n, size_t wire,
                                  pd_packet *out)
{
    if (proto == 6) {
        if (n < 20)
            return PD_TRUNCATED;
        size_t hl = (size_t)(p[12] >> 4) * 4;
        if (hl < 20 || hl > n || hl > wire)
            return PD_TRUNCATED;
        out->sport = rd16(p);
        out->dport = rd16(p + 2);
        out->seq = rd32(p + 4);
        out->ack = rd32(p + 8);
        out->tcp_flags = p[13];
        out->payload = p + hl;
        out->payload_len = (uint32_t)(n - hl);
        out->wire_len = (uint32_t)(wire - hl);
    } else if (proto == 17) {
        if (n < 8)
            return PD_TRUNCATED;
        size_t ulen = rd16(p + 4);
        /* 0 is legal in IPv6 jumbograms only; otherwise the length must fit. */
        if (ulen < 8 || ulen > wire)
            return PD_TRUNCATED;
        out->sport = rd16(p);
        out->dport = rd16(p + 2);
        out->seq = out->ack = 0;
        out->tcp_flags = 0;
        out->payload = p + 8;
        out->payload_len = (uint32_t)((ulen < n ? ulen : n) - 8);
        out->wire_len = (uint32_t)(ulen - 8);
    } else {
        return PD_OTHER_PROTO;
    }
    out->proto = proto;
    return PD_OK;
}

static pd_result decode_ipv4(const uint8_t *p, size_t n, pd_packet *out)
{
    if (n < 20)
        return PD_TRUNCATED;
    if ((p[0] >> 4) != 4)
        return PD_TRUNCATED;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    size_t total = rd16(p + 2);
    if (ihl < 20 || ihl > n || total < ihl)
        return PD_TRUNCATED;
    uint16_t frag = rd16(p + 6);
    if ((frag & 0x2000) || (frag & 0x1fff))   /* more fragments, or a non-first fragment */
        return PD_FRAGMENT;
    out->family = 4;
    memset(out->src, 0, sizeof(out->src));
    memset(out->dst, 0, sizeof(out->dst));
    memcpy(out->src, p + 12, 4);
    memcpy(out->dst, p + 16, 4);
    /* The IP total length trims link-layer padding; a capture cut short by the
     * snap length keeps what it has. */
    size_t have = total < n ? total : n;
    return decode_transport(p[9], p + ihl, have - ihl, total - ihl, out);
}

static pd_result decode_ipv6(const uint8_t *p, size_t n, pd_packet *out)
{
    if (n < 40)
        return PD_TRUNCATED;
    if ((p[0] >> 4) != 6)
        return PD_TRUNCATED;
    size_t plen = rd16(p + 4);
    if (plen == 0)          /* jumbogram (hop-by-hop option) or empty: not handled */
        return PD_TRUNCATED;
    size_t wire = plen;
    size_t have = n - 40 < plen ? n - 40 : plen;
    uint8_t next = p[6];
    out->family = 6;
    memcpy(out->src, p + 8, 16);
    memcpy(out->dst, p + 24, 16);
    const uint8_t *q = p + 40;
    for (int i = 0; i < MAX_IPV6_EXT; i++) {
        size_t hl;
        switch (next) {
        case 0:   /* hop-by-hop */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 135: /* mobility */
        case 139: /* HIP */
        case 140: /* shim6 */
            if (have < 8)
                return PD_TRUNCATED;
            hl = ((size_t)q[1] + 1) * 8;
            break;
        case 51:  /* AH: length in 4-byte units, minus 2 */
            if (have < 8)
                return PD_TRUNCATED;
            hl = ((size_t)q[1] + 2) * 4;
            break;
        case 44: { /* fragment */
            if (have < 8)
                return PD_TRUNCATED;
            uint16_t off = rd16(q + 2);
            if ((off & 0xfff8) || (off & 1))   /* not an atomic fragment */
                return PD_FRAGMENT;
            hl = 8;
            break;
        }
        default:
            return decode_transport(next, q, have, wire, out);
        }
        if (hl > have || hl > wire)
            return PD_TRUNCATED;
        next = q[0];
        q += hl;
        have -= hl;
        wire -= hl;
    }
    return PD_OTHER_PROTO;   /* an absurd chain of extension headers */
}

/* Dispatches on the IP version nibble (raw IP and loopback). */
static pd_result decode_ip(const uint8_t *p, size_t n, pd_packet *out)
{
    if (n < 1)
        return PD_TRUNCATED;
    switch (p[0] >> 4) {
    case 4: return decode_ipv4(p, n, out);
    case 6: return decode_ipv6(p, n, out);
    default: return PD_NOT_IP;
    }
}

/* Ethertype at p[-2..-1] already read; follows VLAN tags. */
static pd_result decode_ethertype(uint16_t type, const uint8_t *p, size_t n, pd_packet *out)
{
    for (int tags = 0; type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD; tags++) {
        if (tags >= MAX_VLAN_TAGS)
            return PD_NOT_IP;
        if (n < 4)
            return PD_TRUNCATED;
        type = rd16(p + 2);
        p += 4;
        n -= 4;
    }
    if (type == ETH_IPV4)
        return decode_ipv4(p, n, out);
    if (type == ETH_IPV6)
        return decode_ipv6(p, n, out);
    return PD_NOT_IP;
}

static int loopback_family_ok(uint32_t af)
{
    /* AF_INET everywhere; AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, Darwin. */
    return af == 2 || af == 10 || af == 24 || af == 28 || af == 30;
}

pd_result pd_decode(int dlt, const uint8_t *f, size_t n, pd_packet *out)
{
    if (!f)
        return PD_TRUNCATED;
    switch (dlt) {
    case PD_DLT_EN10MB:
        if (n < 14)
            return PD_TRUNCATED;
        return decode_ethertype(rd16(f + 12), f + 14, n - 14, out);
    case PD_DLT_LINUX_SLL:
        if (n < 16)
            return PD_TRUNCATED;
        return decode_ethertype(rd16(f + 14), f + 16, n - 16, out);
    case PD_DLT_LINUX_SLL2:
        if (n < 20)
            return PD_TRUNCATED;
        return decode_ethertype(rd16(f), f + 20, n - 20, out);
    case PD_DLT_RAW: case PD_DLT_RAW_OPENBSD: case PD_LINKTYPE_RAW:
        return decode_ip(f, n, out);
    case PD_DLT_IPV4:
        return decode_ipv4(f, n, out);
    case PD_DLT_IPV6:
        return decode_ipv6(f, n, out);
    case PD_DLT_NULL: case PD_DLT_LOOP: {
        if (n < 4)
            return PD_TRUNCATED;
        /* DLT_NULL is in the capturing host's byte order, DLT_LOOP in network
         * order: accept either when the value is a known address family. */
        uint32_t be = rd32(f);
        uint32_t le = (uint32_t)f[0] | ((uint32_t)f[1] << 8) | ((uint32_t)f[2] << 16) |
                      ((uint32_t)f[3] << 24);
        if (!loopback_family_ok(be) && !loopback_family_ok(le))
            return PD_NOT_IP;
        return decode_ip(f + 4, n - 4, out);
    }
    default:
        return PD_BAD_LINK;
    }
}
