/* Unit tests of the example host's frame decoder (examples/host/pcap_decode.c):
 * every link type, IPv4 options and fragments, IPv6 extension headers, and
 * every truncation and single-byte corruption of valid frames (run under
 * valgrind or ASan, a read past the frame shows up). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "pcap_decode.h"

static const uint8_t C4[4] = {192, 0, 2, 1}, S4[4] = {192, 0, 2, 2};
static const uint8_t C6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t S6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static size_t put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; return 2; }

/* TCP header (20 bytes) + payload at p; returns the length. */
static size_t tcp(uint8_t *p, uint32_t seq, uint8_t flags, const char *payload)
{
    memset(p, 0, 20);
    put16(p, 40000);
    put16(p + 2, 80);
    p[4] = (uint8_t)(seq >> 24), p[5] = (uint8_t)(seq >> 16), p[6] = (uint8_t)(seq >> 8);
    p[7] = (uint8_t)seq;
    p[12] = 5 << 4;
    p[13] = flags;
    size_t n = strlen(payload);
    memcpy(p + 20, payload, n);
    return 20 + n;
}

static size_t udp(uint8_t *p, const char *payload)
{
    size_t n = strlen(payload);
    put16(p, 53000);
    put16(p + 2, 53);
    put16(p + 4, (unsigned)(8 + n));
    put16(p + 6, 0);
    memcpy(p + 8, payload, n);
    return 8 + n;
}

/* IPv4 header with `optlen` bytes of NOP options, then l4 of length n. */
static size_t ipv4(uint8_t *p, uint8_t proto, size_t optlen, uint16_t frag, const uint8_t *l4,
                   size_t n)
{
    size_t hl = 20 + optlen;
    memset(p, 0, hl);
    p[0] = (uint8_t)(0x40 | (hl / 4));
    put16(p + 2, (unsigned)(hl + n));
    put16(p + 6, frag);
    p[8] = 64;
    p[9] = proto;
    memcpy(p + 12, C4, 4);
    memcpy(p + 16, S4, 4);
    memset(p + 20, 1, optlen);
    memmove(p + hl, l4, n);
    return hl + n;
}

/* IPv6 with the given extension header chain (types), then l4. */
static size_t ipv6(uint8_t *p, uint8_t proto, const uint8_t *ext, size_t next_count,
                   const uint8_t *l4, size_t n)
{
    size_t off = 40;
    uint8_t first = next_count ? ext[0] : proto;
    for (size_t i = 0; i < next_count; i++) {
        uint8_t nh = i + 1 < next_count ? ext[i + 1] : proto;
        memset(p + off, 0, 8);
        p[off] = nh;
        off += 8;
    }
    memset(p, 0, 40);
    p[0] = 0x60;
    put16(p + 4, (unsigned)(off - 40 + n));
    p[6] = first;
    p[7] = 64;
    memcpy(p + 8, C6, 16);
    memcpy(p + 24, S6, 16);
    memcpy(p + off, l4, n);
    return off + n;
}

static size_t ether(uint8_t *f, const uint16_t *tags, size_t ntags, uint16_t type,
                    const uint8_t *ip, size_t n)
{
    memset(f, 0xaa, 12);
    size_t off = 12;
    for (size_t i = 0; i < ntags; i++) {
        off += put16(f + off, tags[i]);
        off += put16(f + off, 100 + (unsigned)i);
    }
    off += put16(f + off, type);
    memcpy(f + off, ip, n);
    off += n;
    while (off < 60)
        f[off++] = 0;   /* Ethernet padding */
    return off;
}

static void check_tcp(const pd_packet *p, const char *payload)
{
    ck_assert_uint_eq(p->proto, 6);
    ck_assert_uint_eq(p->sport, 40000);
    ck_assert_uint_eq(p->dport, 80);
    ck_assert_uint_eq(p->payload_len, strlen(payload));
    ck_assert(memcmp(p->payload, payload, p->payload_len) == 0);
}

/* Decodes every prefix and every one-byte corruption of a frame: no crash,
 * no read outside the frame (each copy is exactly as long as it claims). */
static void torture(int dlt, const uint8_t *frame, size_t n)
{
    pd_packet p;
    for (size_t len = 0; len <= n; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, frame, len);
        pd_result r = pd_decode(dlt, copy, len, &p);
        if (r == PD_OK) {
            ck_assert(p.payload >= copy && p.payload + p.payload_len <= copy + len);
            ck_assert_uint_ge(p.wire_len, p.payload_len);
        }
        free(copy);
    }
    uint8_t *copy = malloc(n);
    for (size_t i = 0; i < n; i++) {
        for (int v = 0; v < 256; v += 17) {
            memcpy(copy, frame, n);
            copy[i] = (uint8_t)v;
            if (pd_decode(dlt, copy, n, &p) == PD_OK)
                ck_assert(p.payload >= copy && p.payload + p.payload_len <= copy + n);
        }
    }
    free(copy);
}

START_TEST(ethernet_ipv4_padding_trimmed)
{
    uint8_t l4[64], ip[128], f[256];
    size_t n = tcp(l4, 7, PD_ACK | PD_PSH, "hi");
    n = ipv4(ip, 6, 0, 0x4000, l4, n);
    n = ether(f, NULL, 0, 0x0800, ip, n);
    ck_assert_uint_eq(n, 60);   /* padded: 14 + 20 + 20 + 2 = 56 */
    pd_packet p;
    ck_assert_int_eq(pd_decode(PD_DLT_EN10MB, f, n, &p), PD_OK);
    check_tcp(&p, "hi");
    ck_assert_uint_eq(p.family, 4);
    ck_assert(memcmp(p.src, C4, 4) == 0 && memcmp(p.dst, S4, 4) == 0);
    ck_assert_uint_eq(p.seq, 7);
    ck_assert_uint_eq(p.tcp_flags, PD_ACK | PD_PSH);
    torture(PD_DLT_EN10MB, f, n);
}
END_TEST

START_TEST(vlan_and_qinq)
{
    uint8_t l4[64], ip[128], f[256];
    size_t n = ipv4(ip, 6, 0, 0, l4, tcp(l4, 1, PD_ACK, "vlan"));
    const uint16_t one[] = {0x8100}, two[] = {0x88a8, 0x8100};
    pd_packet p;
    size_t m = ether(f, one, 1, 0x0800, ip, n);
    ck_assert_int_eq(pd_decode(PD_DLT_EN10MB, f, m, &p), PD_OK);
    check_tcp(&p, "vlan");
    m = ether(f, two, 2, 0x0800, ip, n);
    ck_assert_int_eq(pd_decode(PD_DLT_EN10MB, f, m, &p), PD_OK);
    check_tcp(&p, "vlan");
    torture(PD_DLT_EN10MB, f, m);
    const uint16_t many[] = {0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100};
    m = ether(f, many, 9, 0x0800, ip, n);
    ck_assert_int_eq(pd_decode(PD_DLT_EN10MB, f, m, &p), PD_NOT_IP);
    m = ether(f, NULL, 0, 0x0806, ip, n);   /* ARP */
    ck_assert_int_eq(pd_decode(PD_DLT_EN10MB, f, m, &p), PD_NOT_IP);
}
END_TEST

START_TEST(ipv4_options_and_fragments)
{
    uint8_t l4[64], ip[128];
    size_t n = tcp(l4, 1, PD_ACK, "opts");
    size_t m = ipv4(ip, 6, 12, 0, l4, n);
    pd_packet p;
    ck_assert_int_eq(pd_decode(PD_DLT_RAW, ip, m, &p), PD_OK);
    check_tcp(&p, "opts");
    torture(PD_DLT_RAW, ip, m);
    m = ipv4(ip, 6, 0, 0x2000, l4, n);          /* first fragment, more to come */
    ck_assert_int_eq(pd_decode(PD_DLT_RAW, ip, m, &p), PD_FRAGMENT);
    m = ipv4(ip, 6, 0, 0x0010, l4, n);          /* a later fragment */
    ck_assert_int_eq(pd_decode(PD_DLT_RAW, ip, m, &p), PD_FRAGMENT);
    m = ipv4(ip, 1, 0, 0, l4, n);               /* ICMP */
    ck_assert_int_eq(pd_decode(PD_DLT_RAW, ip, m, &p), PD_OTHER_PROTO);
    /* Total length beyond the capture (snap length): the payload is cut, the
     * declared length kept. */
    m = ipv4(ip, 6, 0, 0, l4, n);
    ck_assert_int_eq(pd_decode(PD_DLT_RAW, ip, m - 2, &p), PD_OK);
    ck_assert_uint_eq(p.payload_len, 2);
    ck_assert_uint_eq(p.wire_len, 4);
    /* TCP data offset beyond the segment. */
    ip[20 + 12] = 15 << 4;
    ck_assert_int_eq(pd_decode(PD_DLT_RAW, ip, m, &p), PD_TRUNCATED);
}
END_TEST

START_TEST(ipv6_extension_headers)
{
    uint8_t l4[64], ip[256];
    size_t n = tcp(l4, 1, PD_ACK, "six");
    const uint8_t chain[] = {0, 60, 43};
    size_t m = ipv6(ip, 6, chain, 3, l4, n);
    pd_packet p;
    ck_assert_int_eq(pd_decode(PD_DLT_IPV6, ip, m, &p), PD_OK);
    check_tcp(&p, "six");
    ck_assert_uint_eq(p.family, 6);
    ck_assert(memcmp(p.src, C6, 16) == 0 && memcmp(p.dst, S6, 16) == 0);
    torture(PD_DLT_IPV6, ip, m);
    torture(PD_DLT_RAW, ip, m);
    /* An atomic fragment header (offset 0, no more) is passed through. */
    const uint8_t frag[] = {44};
    m = ipv6(ip, 6, frag, 1, l4, n);
    ck_assert_int_eq(pd_decode(PD_DLT_IPV6, ip, m, &p), PD_OK);
    ip[40 + 3] = 1;   /* M flag */
    ck_assert_int_eq(pd_decode(PD_DLT_IPV6, ip, m, &p), PD_FRAGMENT);
    const uint8_t esp[] = {50};
    m = ipv6(ip, 6, esp, 0, l4, n);
    ip[6] = 50;
    ck_assert_int_eq(pd_decode(PD_DLT_IPV6, ip, m, &p), PD_OTHER_PROTO);
    /* A long chain of extension headers stops at the limit. */
    uint8_t longchain[20];
    memset(longchain, 60, sizeof(longchain));
    m = ipv6(ip, 6, longchain, 20, l4, n);
    ck_assert_int_eq(pd_decode(PD_DLT_IPV6, ip, m, &p), PD_OTHER_PROTO);
}
END_TEST

START_TEST(udp_datagrams)
{
    uint8_t l4[64], ip[128];
    size_t n = udp(l4, "query");
    size_t m = ipv4(ip, 17, 0, 0, l4, n);
    pd_packet p;
    ck_assert_int_eq(pd_decode(PD_DLT_IPV4, ip, m, &p), PD_OK);
    ck_assert_uint_eq(p.proto, 17);
    ck_assert_uint_eq(p.dport, 53);
    ck_assert_uint_eq(p.payload_len, 5);
    torture(PD_DLT_IPV4, ip, m);
    ip[20 + 5] = 200;   /* UDP length beyond the IP payload */
    ck_assert_int_eq(pd_decode(PD_DLT_IPV4, ip, m, &p), PD_TRUNCATED);
}
END_TEST

START_TEST(cooked_and_loopback)
{
    uint8_t l4[64], ip[128], f[256];
    size_t n = ipv4(ip, 6, 0, 0, l4, tcp(l4, 1, PD_ACK, "sll"));
    pd_packet p;
    memset(f, 0, 16);
    put16(f + 14, 0x0800);
    memcpy(f + 16, ip, n);
    ck_assert_int_eq(pd_decode(PD_DLT_LINUX_SLL, f, 16 + n, &p), PD_OK);
    check_tcp(&p, "sll");
    torture(PD_DLT_LINUX_SLL, f, 16 + n);
    memset(f, 0, 20);
    put16(f, 0x0800);
    memcpy(f + 20, ip, n);
    ck_assert_int_eq(pd_decode(PD_DLT_LINUX_SLL2, f, 20 + n, &p), PD_OK);
    check_tcp(&p, "sll");
    torture(PD_DLT_LINUX_SLL2, f, 20 + n);
    const uint8_t le_inet[4] = {2, 0, 0, 0}, be_inet6[4] = {0, 0, 0, 30};
    memcpy(f, le_inet, 4);
    memcpy(f + 4, ip, n);
    ck_assert_int_eq(pd_decode(PD_DLT_NULL, f, 4 + n, &p), PD_OK);
    memcpy(f, be_inet6, 4);
    ck_assert_int_eq(pd_decode(PD_DLT_LOOP, f, 4 + n, &p), PD_OK);   /* family from the IP header */
    f[0] = 99;
    ck_assert_int_eq(pd_decode(PD_DLT_NULL, f, 4 + n, &p), PD_NOT_IP);
    torture(PD_DLT_NULL, f, 4 + n);
    ck_assert_int_eq(pd_decode(147, f, 4 + n, &p), PD_BAD_LINK);
    ck_assert(!pd_link_supported(147));
    ck_assert(pd_link_supported(PD_DLT_LINUX_SLL2));
}
END_TEST

START_TEST(random_frames)
{
    /* Deterministic pseudo-random junk on every link type. */
    uint32_t x = 12345;
    uint8_t f[200];
    pd_packet p;
    const int dlts[] = {0, 1, 12, 101, 108, 113, 228, 229, 276};
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(round % 200);
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            f[i] = (uint8_t)(x >> 16);
        }
        /* Make deeper layers likely: an IPv4 or IPv6 version nibble up front. */
        if (n > 0)
            f[0] = (uint8_t)(round & 1 ? 0x45 : 0x60 | (f[0] & 0x0f));
        int dlt = dlts[round % 9];
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, f, n);
        if (pd_decode(dlt, copy, n, &p) == PD_OK)
            ck_assert(p.payload >= copy && p.payload + p.payload_len <= copy + n);
        free(copy);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pcap_decode");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, ethernet_ipv4_padding_trimmed);
    tcase_add_test(tc, vlan_and_qinq);
    tcase_add_test(tc, ipv4_options_and_fragments);
    tcase_add_test(tc, ipv6_extension_headers);
    tcase_add_test(tc, udp_datagrams);
    tcase_add_test(tc, cooked_and_loopback);
    tcase_add_test(tc, random_frames);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
