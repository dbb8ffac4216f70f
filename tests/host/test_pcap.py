"""vpscan --pcap end to end on the captures examples/gen_pcaps.py writes.

Needs VP_BUILD_DIR and VP_SRC_DIR (meson sets them)."""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import unittest

BUILD = os.environ["VP_BUILD_DIR"]
SRC = os.environ["VP_SRC_DIR"]
RULEC = os.path.join(BUILD, "rulec", "rulec")
VPSCAN = os.path.join(BUILD, "examples", "vpscan")
GEN = os.path.join(SRC, "examples", "gen_pcaps.py")
RULES = os.path.join(SRC, "examples", "rules")

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def run(*args, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def summary(stderr):
    """The key=value pairs of vpscan's summary line."""
    line = [l for l in stderr.splitlines() if l.startswith("vpscan: flows=")][-1]
    out = {}
    for kv in line[len("vpscan: "):].split():
        k, _, v = kv.partition("=")
        out[k] = float(v) if k == "seconds" else int(v)
    return out


class Pcap(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.caps = os.path.join(cls.dir, "pcaps")
        r = run(sys.executable, GEN, cls.caps)
        assert r.returncode == 0, r.stderr
        cls.bundle = os.path.join(cls.dir, "rules.vpb")
        rules = sorted(os.path.join(RULES, f) for f in os.listdir(RULES) if f.endswith(".yaml"))
        r = run(RULEC, "compile", "-o", cls.bundle, *rules)
        assert r.returncode == 0, r.stderr
        with open(os.path.join(cls.caps, "pcaps.tsv")) as f:
            rows = [line.rstrip("\n").split("\t") for line in f][1:]
        cls.manifest = {name: ([] if ev == "-" else [int(x) for x in ev.split(",")])
                        for name, ev, _note in rows}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def cap(self, name):
        return os.path.join(self.caps, name)

    def scan(self, *files, extra=()):
        r = run(VPSCAN, "-b", self.bundle, *extra, "--pcap", *[self.cap(f) for f in files])
        self.assertEqual(r.returncode, 0, r.stderr)
        events = [json.loads(line) for line in r.stdout.splitlines()]
        return events, summary(r.stderr)

    def test_generator_is_deterministic(self):
        again = os.path.join(self.dir, "again")
        self.assertEqual(run(sys.executable, GEN, again).returncode, 0)
        for name in sorted(os.listdir(self.caps)):
            with open(self.cap(name), "rb") as a, open(os.path.join(again, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)

    def test_manifest(self):
        self.assertGreaterEqual(len(self.manifest), 16)
        for name, expect in self.manifest.items():
            with self.subTest(name):
                events, s = self.scan(name)
                self.assertEqual(sorted(e["rule_id"] for e in events), expect)
                self.assertEqual(s["events"], len(expect))
                for e in events:
                    self.assertRegex(e["timestamp"], TS_RE)
                    self.assertEqual(set(e["flow"]), {"proto", "src_ip", "src_port", "dest_ip",
                                                      "dest_port"})
                    self.assertEqual(e["pcap_file"], self.cap(name))
                    for k in ("event_type", "name", "cve", "severity", "action", "verdict",
                              "direction", "offset"):
                        self.assertIn(k, e)
                for k in ("truncated", "fragments", "not_ip", "scan_errors", "out_of_window"):
                    self.assertEqual(s[k], 0, (name, k))

    def test_reordered_exploit_detected_exactly_once(self):
        events, s = self.scan("log4shell-reordered.pcap")
        self.assertEqual(len(events), 1, events)
        e = events[0]
        self.assertEqual(e["rule_id"], 2100001)
        self.assertEqual(e["verdict"], "block")
        self.assertEqual(e["direction"], "to_server")
        # "GET /app/search?q=" is 18 bytes; "${jndi:" ends at 25.
        self.assertEqual(e["offset"], 25)
        self.assertEqual(e["flow"], {"proto": "TCP", "src_ip": "192.0.2.100", "src_port": 49152,
                                     "dest_ip": "192.0.2.20", "dest_port": 8080})
        # The event comes with the packet that filled the hole (A, the 7th packet).
        self.assertEqual(e["timestamp"], "2021-12-11T10:00:00.007000Z")
        self.assertEqual(s["flows"], 1)
        self.assertEqual(s["blocked"], 1)
        self.assertGreaterEqual(s["ooo_segments"], 2)
        self.assertGreaterEqual(s["retransmissions"], 1)
        self.assertGreaterEqual(s["overlap_conflicts"], 1)   # the overlap lost: first data won
        self.assertGreater(s["blocked_packets"], 0)          # response and FINs not scanned
        self.assertEqual(s["gaps"], 0)

    def test_benign_twin_gives_no_event(self):
        events, s = self.scan("benign-reordered.pcap")
        self.assertEqual(events, [])
        self.assertEqual(s["blocked"], 0)
        self.assertGreater(s["bytes"], 200)   # both directions were scanned in full
        self.assertGreaterEqual(s["retransmissions"], 1)

    def test_detect_only_scans_on(self):
        events, s = self.scan("log4shell-reordered.pcap", extra=("--detect-only",))
        self.assertEqual([(e["rule_id"], e["verdict"]) for e in events], [(2100001, "allow")])
        self.assertEqual(s["blocked"], 0)
        self.assertEqual(s["blocked_packets"], 0)

    def test_gaps(self):
        events, s = self.scan("gap.pcap")
        # OMIGOD's "never sends Authorization" cannot be decided over a hole.
        self.assertEqual([(e["rule_id"], e["offset"]) for e in events], [(2200001, 70)])
        self.assertEqual(s["gaps"], 2)
        self.assertEqual(s["gap_bytes"], 60 + 15)

    def test_end_of_stream_rule_fires_at_fin(self):
        events, _ = self.scan("omigod.pcap")
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["rule_id"], 2300001)
        self.assertGreater(events[0]["offset"], 600)   # the end of the request stream

    def test_rst_ends_the_streams(self):
        events, s = self.scan("omigod-rst.pcap")
        self.assertEqual([e["rule_id"] for e in events], [2300001])
        # Decided when the RST (the 6th packet) arrived, not at the end of the capture.
        self.assertEqual(events[0]["timestamp"], "2021-12-11T10:00:00.006000Z")

    def test_port_reuse_is_a_new_flow(self):
        events, s = self.scan("port-reuse.pcap")
        self.assertEqual([e["rule_id"] for e in events], [2200001])
        self.assertEqual(s["tcp_flows"], 2)
        self.assertEqual(s["out_of_window"], 0)

    def test_idle_timeout(self):
        """Flows idle past --flow-timeout end at capture time: holes become
        gaps, end-of-stream rules are decided, the event carries the time of
        the timeout."""
        sys.dont_write_bytecode = True   # no __pycache__ in the source tree
        sys.path.insert(0, os.path.dirname(GEN))
        import gen_pcaps as g
        cap = g.Capture()
        req = g.http_request("POST", "/wsman", [("Host", "192.0.2.50:5985")], g.OMI_BODY)
        t = g.Tcp(cap, "192.0.2.120", 50100, "192.0.2.50", 5985)   # complete, never closed
        t.handshake()
        t.send(True, 0, req)
        t = g.Tcp(cap, "192.0.2.121", 50101, "192.0.2.50", 5985)   # a hole, never closed
        t.handshake()
        t.send(True, 0, req[:50])
        t.send(True, 80, req[80:])
        u = g.Tcp(cap, "192.0.2.122", 50102, "192.0.2.10", 80)     # 200 s later
        u.packet(True, 1, 0, g.SYN, gap_us=200 * 1000000)
        path = os.path.join(self.dir, "idle.pcap")
        cap.save(path)
        r = run(VPSCAN, "-b", self.bundle, "--flow-timeout", "60", "--pcap", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        events = [json.loads(line) for line in r.stdout.splitlines()]
        s = summary(r.stderr)
        self.assertEqual(s["flows_timed_out"], 2)
        self.assertEqual((s["gaps"], s["gap_bytes"]), (1, 30))
        self.assertEqual([e["flow"]["src_port"] for e in events], [50100])   # the hole: undecidable
        # Flow A went quiet at 10:00:00.004; the timeout is 60 s later.
        self.assertEqual(events[0]["timestamp"], "2021-12-11T10:01:00.004000Z")

    def test_thresholds(self):
        """A rule's threshold is applied by sender address and capture time:
        limit 1 per 60 s by_src logs the first flow of each source and
        period; --all-events logs all; the verdict is not filtered."""
        sys.dont_write_bytecode = True
        sys.path.insert(0, os.path.dirname(GEN))
        import gen_pcaps as g
        rules = os.path.join(self.dir, "limit.yaml")
        with open(rules, "w") as f:
            f.write("format: 1\nrules:\n"
                    "  - {id: 9100001, name: limited, severity: low, action: block,\n"
                    "     match: [{content: 'GET /noisy'}],\n"
                    "     threshold: {type: limit, track: by_src, count: 1, seconds: 60}}\n")
        bundle = os.path.join(self.dir, "limit.vpb")
        r = run(RULEC, "compile", "-o", bundle, rules)
        self.assertEqual(r.returncode, 0, r.stderr)
        cap = g.Capture()
        req = g.http_request("GET", "/noisy", [("Host", "192.0.2.50")])
        flows = [("192.0.2.120", 50200, 0), ("192.0.2.120", 50201, 5),
                 ("192.0.2.121", 50202, 1), ("192.0.2.120", 50203, 65)]
        for client, port, gap_s in flows:
            t = g.Tcp(cap, client, port, "192.0.2.50", 80)
            t.packet(True, t.cisn, 0, g.SYN, gap_us=gap_s * 1000000 + 1000)
            t.packet(False, t.sisn, t.cisn + 1, g.SYN | g.ACK)
            t.packet(True, t.cisn + 1, t.sisn + 1, g.ACK)
            t.send(True, 0, req)
        path = os.path.join(self.dir, "noisy.pcap")
        cap.save(path)
        r = run(VPSCAN, "-b", bundle, "--pcap", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        events = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual([e["flow"]["src_port"] for e in events], [50200, 50202, 50203])
        s = summary(r.stderr)
        self.assertEqual((s["events"], s["events_thresholded"], s["blocked"]), (3, 1, 4))
        r = run(VPSCAN, "-b", bundle, "--all-events", "--pcap", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        events = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual([e["flow"]["src_port"] for e in events], [50200, 50201, 50202, 50203])
        self.assertEqual(summary(r.stderr)["events_thresholded"], 0)
        # each capture file starts afresh: the same file twice logs its 3 twice
        r = run(VPSCAN, "-b", bundle, "--pcap", path, path)
        self.assertEqual(len(r.stdout.splitlines()), 6, r.stderr)

    def test_udp_roles(self):
        events, s = self.scan("dns.pcap")
        self.assertEqual(len(events), 1)
        e = events[0]
        self.assertEqual((e["rule_id"], e["verdict"], e["direction"]), (2300004, "allow", "to_server"))
        self.assertEqual(e["flow"]["proto"], "UDP")
        self.assertEqual(e["flow"]["dest_port"], 53)
        self.assertEqual((s["udp_flows"], s["tcp_flows"]), (2, 0))

    def test_ipv6_and_midstream(self):
        events, _ = self.scan("log4shell-ipv6.pcap")
        self.assertEqual(events[0]["flow"]["src_ip"], "2001:db8::100")
        events, _ = self.scan("midstream-wrap.pcap")
        self.assertEqual(events[0]["flow"]["dest_port"], 80)   # lower port taken as the server
        self.assertEqual(events[0]["offset"], 70)

    def test_many_files_one_run(self):
        names = sorted(self.manifest)
        events, s = self.scan(*names)
        want = sorted(i for n in names for i in self.manifest[n])
        self.assertEqual(sorted(e["rule_id"] for e in events), want)
        self.assertEqual(s["events"], len(want))
        self.assertEqual({e["pcap_file"] for e in events},
                         {self.cap(n) for n in names if self.manifest[n]})

    def test_stream_mode_has_no_pcap_fields(self):
        req = os.path.join(self.dir, "req.bin")
        with open(req, "wb") as f:
            f.write(b"GET /?x=${jndi:ldap://a/b} HTTP/1.1\r\n\r\n")
        r = run(VPSCAN, "-b", self.bundle, "--stream", req, "--port", "80")
        self.assertEqual(r.returncode, 0)
        e = json.loads(r.stdout.splitlines()[0])
        self.assertNotIn("timestamp", e)
        self.assertNotIn("flow", e)
        self.assertEqual(list(e)[0], "event_type")

    def test_usage_and_unreadable_input(self):
        self.assertEqual(run(VPSCAN, "-b", self.bundle, "--pcap", self.cap("dns.pcap"),
                             "--stream", self.cap("dns.pcap"), "--port", "1").returncode, 2)
        self.assertEqual(run(VPSCAN, "-b", self.bundle, "--pcap").returncode, 2)
        self.assertEqual(run(VPSCAN, "--pcap", self.cap("dns.pcap")).returncode, 2)
        for opt in ("--max-flows", "--flow-timeout", "--ooo-flow-bytes", "--ooo-total-bytes"):
            r = run(VPSCAN, "-b", self.bundle, "--pcap", self.cap("dns.pcap"), opt, "0")
            self.assertEqual(r.returncode, 2, opt)
        r = run(VPSCAN, "-b", self.bundle, "--pcap", os.path.join(self.dir, "missing.pcap"))
        self.assertEqual(r.returncode, 2)
        junk = os.path.join(self.dir, "junk.pcap")
        with open(junk, "wb") as f:
            f.write(b"this is not a capture at all" * 10)
        self.assertEqual(run(VPSCAN, "-b", self.bundle, "--pcap", junk).returncode, 2)
        # An unsupported link type (DLT_IEEE802_11 = 105) is refused, the other file scanned.
        wifi = os.path.join(self.dir, "wifi.pcap")
        with open(wifi, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 105))
        r = run(VPSCAN, "-b", self.bundle, "--pcap", wifi, self.cap("shellshock.pcap"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("not supported", r.stderr)
        self.assertEqual(len(r.stdout.splitlines()), 1)

    def test_cut_and_corrupted_captures(self):
        """Every sample cut at many points, and with bytes flipped: no crash."""
        for name in sorted(self.manifest):
            with open(self.cap(name), "rb") as f:
                data = f.read()
            for i, cut in enumerate(range(24, len(data), max(1, len(data) // 25))):
                variants = [data[:cut]]
                flipped = bytearray(data)
                for j in range(40 + i, len(flipped), 97):
                    flipped[j] ^= 0x5A
                variants.append(bytes(flipped))
                for k, v in enumerate(variants):
                    path = os.path.join(self.dir, "cut.pcap")
                    with open(path, "wb") as f:
                        f.write(v)
                    r = run(VPSCAN, "-b", self.bundle, "--pcap", path)
                    self.assertIn(r.returncode, (0, 2), (name, cut, k, r.stderr))
                    self.assertIn("vpscan: flows=", r.stderr, (name, cut, k))

    def test_small_buffers_give_gaps_not_crashes(self):
        events, s = self.scan("log4shell-reordered.pcap",
                              extra=("--ooo-flow-bytes", "8", "--ooo-total-bytes", "16"))
        self.assertGreater(s["ooo_overflows"], 0)
        self.assertGreater(s["gaps"], 0)
        self.assertEqual(events, [])   # the lookup straddled the holes given up

    def test_flow_limit_and_timeout(self):
        names = ["shellshock.pcap", "omigod.pcap"]
        events, s = self.scan(*names, extra=("--max-flows", "1", "--flow-timeout", "1"))
        self.assertEqual(sorted(e["rule_id"] for e in events), [2200001, 2300001])
        self.assertEqual(s["peak_flows"], 1)


if __name__ == "__main__":
    unittest.main()
