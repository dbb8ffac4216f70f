"""rulec and vpscan against ../shared/spec/cli.md: exit codes, output, options."""
import json
import os
import re
import subprocess
import tempfile
import unittest

BUILD = os.environ["VP_BUILD_DIR"]
SRC = os.environ["VP_SRC_DIR"]
RULEC = os.path.join(BUILD, "rulec", "rulec")
VPSCAN = os.path.join(BUILD, "examples", "vpscan")

RULES = """format: 1
ruleset: cli-test
rules:
  - id: 1011242
    name: Log4Shell JNDI lookup
    cve: [CVE-2021-44228]
    severity: critical
    modes: [performance, security]
    ports: "80,8080"
    match:
      - content: "${jndi:"
        nocase: true
    tests:
      - data: "GET /?q=${jndi:ldap://x/a} HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n"
        expect: match
      - hex: "47 45 54 20 2f 20"
        expect: nomatch
  - id: 2000
    name: detect only rule
    severity: low
    action: detect
    service: http
    match:
      - content: "ldap://"
      - content: "/a"
        distance: 0
        within: 4
  - id: 3000
    name: udp rule
    severity: medium
    protocol: udp
    ports: 53
    match: [{hex: "00 ff"}]
"""


def run(*args, stdin=None):
    return subprocess.run(args, capture_output=True, text=True, input=stdin, timeout=120)


class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.rules = os.path.join(cls.dir, "rules.yaml")
        with open(cls.rules, "w") as f:
            f.write(RULES)
        cls.bundle = os.path.join(cls.dir, "rules.vpb")
        r = run(RULEC, "compile", "-o", cls.bundle, "--serial", "123", cls.rules)
        assert r.returncode == 0, r.stderr
        cls.stream = os.path.join(cls.dir, "req.bin")
        with open(cls.stream, "wb") as f:
            f.write(b"GET /?q=${JNDI:ldap://x/a} HTTP/1.1\r\nHost: a\r\n\r\n")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def scan(self, *extra, stream=None, port="80"):
        return run(VPSCAN, "-b", self.bundle, "--stream", stream or self.stream, "--port", port, *extra)

    def events(self, r):
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines()]

    # ---- rulec
    def test_inspect_json(self):
        r = run(RULEC, "inspect", "--json", self.bundle)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["serial"], 123)
        self.assertEqual(doc["ruleset"], "cli-test")
        self.assertFalse(doc["signed"])
        self.assertEqual([x["id"] for x in doc["rules"]], [1011242, 2000, 3000])
        self.assertEqual(doc["rules"][0]["modes"], ["performance", "security"])
        self.assertEqual(doc["rules"][0]["cve"], ["CVE-2021-44228"])
        self.assertEqual([x["service"] for x in doc["rules"]], ["any", "http", "any"])
        self.assertEqual(doc["size"], os.path.getsize(self.bundle))
        self.assertIn("HS_STREAM_DB", [s["name"] for s in doc["sections"]])

    def test_inspect_text(self):
        r = run(RULEC, "inspect", self.bundle)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1011242", r.stdout)
        self.assertIn("serial:    123", r.stdout)

    def test_check_reports_every_error(self):
        bad = os.path.join(self.dir, "bad.yaml")
        with open(bad, "w") as f:
            f.write("format: 1\nrules:\n  - id: 1\n    name: a\n    severity: huge\n"
                    "    match: [{content: a, depth: x}]\n  - id: 2\n    match: [{content: b}]\n")
        r = run(RULEC, "check", bad)
        self.assertEqual(r.returncode, 1)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 4, r.stderr)
        for line in lines:
            self.assertRegex(line, r"^" + re.escape(bad) + r":\d+:\d+: ")
        self.assertTrue(lines[0].startswith(bad + ":5:15: severity"), lines[0])

    def test_compile_refuses_failing_rule_test(self):
        src = os.path.join(self.dir, "failing.yaml")
        with open(src, "w") as f:
            f.write("format: 1\nrules:\n  - id: 1\n    name: a\n    severity: low\n"
                    "    match: [{content: abc}]\n    tests:\n      - {data: xyz, expect: match}\n")
        out = os.path.join(self.dir, "failing.vpb")
        r = run(RULEC, "compile", "-o", out, src)
        self.assertEqual(r.returncode, 1)
        self.assertIn(src + ":8:9: test expects match", r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_rulec_usage_errors(self):
        for args in [(), ("bogus",), ("compile", self.rules), ("compile", "-o"),
                     ("compile", "-o", "x.vpb", "--serial", "abc", self.rules), ("inspect",),
                     ("check",), ("check", "--what", self.rules)]:
            self.assertEqual(run(RULEC, *args).returncode, 2, args)

    def test_inspect_refuses_corrupt_bundle(self):
        data = bytearray(open(self.bundle, "rb").read())
        data[len(data) // 2] ^= 0x40
        bad = os.path.join(self.dir, "corrupt.vpb")
        with open(bad, "wb") as f:
            f.write(data)
        r = run(RULEC, "inspect", bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn("byte offset", r.stderr)
        self.assertEqual(run(RULEC, "inspect", os.path.join(self.dir, "missing.vpb")).returncode, 2)

    # ---- vpscan
    def test_event_fields(self):
        r = self.scan()
        evs = self.events(r)
        self.assertEqual(len(evs), 2)
        e = evs[0]
        self.assertEqual(e, {"event_type": "ips", "rule_id": 1011242, "name": "Log4Shell JNDI lookup",
                             "cve": ["CVE-2021-44228"], "severity": "critical", "action": "block",
                             "verdict": "block", "direction": "to_server", "offset": 15})
        self.assertEqual(evs[1]["rule_id"], 2000)
        self.assertEqual(evs[1]["verdict"], "allow")
        self.assertEqual(evs[1]["action"], "detect")
        self.assertRegex(r.stderr, r"flows=1 bytes=\d+ events=2 .*seconds=")

    def test_chunking_does_not_change_output(self):
        whole = self.scan().stdout
        for n in ["1", "2", "3", "7", "64", "1460"]:
            self.assertEqual(self.scan("--chunk", n).stdout, whole, n)

    def test_modes_and_overrides(self):
        ids = lambda r: [e["rule_id"] for e in self.events(r)]
        self.assertEqual(ids(self.scan("-m", "performance")), [1011242])
        self.assertEqual(ids(self.scan("-m", "performance", "--enable", "2000")), [1011242, 2000])
        self.assertEqual(ids(self.scan("--disable", "1011242")), [2000])
        self.assertEqual(ids(self.scan(port="81")), [2000])
        self.assertEqual(ids(self.scan("--direction", "to_client")), [])
        evs = self.events(self.scan("--detect-only"))
        self.assertEqual([e["verdict"] for e in evs], ["allow", "allow"])

    def test_signed_bundles(self):
        key = os.path.join(self.dir, "vendor")
        other = os.path.join(self.dir, "other")
        for name in (key, other):
            r = run(RULEC, "keygen", "-o", name)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.stat(key + ".key").st_mode & 0o777, 0o600)
        self.assertTrue(open(key + ".pub").read().startswith("vpatch-ed25519-public "))
        signed = os.path.join(self.dir, "signed.vpb")
        r = run(RULEC, "compile", "--sign", key + ".key", "-o", signed, self.rules)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(run(RULEC, "inspect", "--json", signed).stdout)
        self.assertTrue(doc["signed"])
        self.assertRegex(doc["key_id"], r"^[0-9a-f]{16}$")
        ok = run(VPSCAN, "-b", signed, "--pubkey", key + ".pub", "--stream", self.stream, "--port", "80")
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertEqual(len(ok.stdout.splitlines()), 2)
        wrong = run(VPSCAN, "-b", signed, "--pubkey", other + ".pub", "--stream", self.stream, "--port", "80")
        self.assertEqual(wrong.returncode, 3)
        self.assertIn("not trusted", wrong.stderr)
        unsigned = self.scan("--pubkey", key + ".pub")
        self.assertEqual(unsigned.returncode, 3)
        self.assertIn("not signed", unsigned.stderr)
        self.assertEqual(run(RULEC, "compile", "--sign", self.rules, "-o", signed, self.rules).returncode, 2)

    def test_udp_datagram(self):
        dgram = os.path.join(self.dir, "dns.bin")
        with open(dgram, "wb") as f:
            f.write(b"\x12\x00\xff\x01")
        evs = self.events(self.scan("--proto", "udp", stream=dgram, port="53"))
        self.assertEqual([(e["rule_id"], e["offset"]) for e in evs], [(3000, 3)])
        self.assertEqual(self.events(self.scan("--proto", "udp", stream=dgram, port="54")), [])

    def test_vpscan_usage_and_refusals(self):
        self.assertEqual(self.scan("-m", "fast").returncode, 2)
        self.assertEqual(self.scan("--enable", "999").returncode, 2)
        self.assertEqual(self.scan("--enable", "x").returncode, 2)
        self.assertEqual(self.scan("--chunk", "0").returncode, 2)
        self.assertEqual(self.scan(stream=os.path.join(self.dir, "none.bin")).returncode, 2)
        self.assertEqual(run(VPSCAN, "-b", self.bundle).returncode, 2)
        self.assertEqual(self.scan("--pubkey", os.path.join(self.dir, "none.pub")).returncode, 2)
        junk = os.path.join(self.dir, "junk.vpb")
        with open(junk, "wb") as f:
            f.write(b"\x89VPB\r\n\x1a\n" + b"\x00" * 100)
        r = run(VPSCAN, "-b", junk, "--stream", self.stream, "--port", "80")
        self.assertEqual(r.returncode, 3)
        self.assertIn("refused", r.stderr)


if __name__ == "__main__":
    unittest.main()
