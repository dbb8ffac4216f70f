"""Tests of the vpatch Python binding (standard library unittest only).

Environment (set by `meson test`, see bindings/meson.build):
  VPATCH_LIBRARY_DIR  directory of libvpatch-compile.so.0 (else the loader path)
  PYTHONPATH          must reach bindings/python (the `vpatch` package)
  VP_BUILD_DIR        build directory: rulec and vpscan for the C comparisons
                      (those tests are skipped without it)
"""
import gc
import json
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import threading
import unittest
import warnings

import vpatch
from vpatch import _ffi

HERE = pathlib.Path(__file__).resolve().parent
SRC = pathlib.Path(os.environ.get("VP_SRC_DIR") or HERE.parents[2])
BUILD = os.environ.get("VP_BUILD_DIR")
RULEC = os.path.join(BUILD, "rulec", "rulec") if BUILD else None
VPSCAN = os.path.join(BUILD, "examples", "vpscan") if BUILD else None
EXAMPLE_RULES = sorted(str(p) for p in (SRC / "examples" / "rules").glob("*.yaml"))



def setUpModule():
    # THREE_RULES has a performance-only rule: keep its warning out of the test
    # log (test_warning_is_a_python_warning checks the warnings themselves).
    # Here rather than at import: the unittest runner resets the filters.
    warnings.filterwarnings("ignore", category=vpatch.CompileWarning)


NO_LOAD_OPTIONS = ("libvpatch lacks vp_load_options_* / vp_bundle_load_*_ex "
                   "(not implemented in this build yet)")

# The rule set of tests/unit/test_api.c.
THREE_RULES = """format: 1
ruleset: api-test
rules:
  - id: 100
    name: both modes
    severity: critical
    cvss: 9.8
    cve: [CVE-2021-44228, CVE-2021-45046]
    references: [https://example.org/a]
    tags: [rce]
    modes: [performance, security]
    match: [{content: aaa}]
  - id: 200
    name: security only
    severity: medium
    action: detect
    match: [{content: bbb}]
  - id: 300
    name: performance only
    severity: low
    modes: [performance]
    match: [{content: ccc}]
"""

# The many-errors source of tests/unit/test_compiler.c.
MANY_ERRORS = """format: 1
rules:
  - id: 1
    name: ok
    severity: high
    match:
      - content: "abc"
        depth: ten
  - id: 1
    name: dup
    severity: severe
    colour: red
    match:
      - content: abc
        distance: 2
  - id: 3
    name: regex
    severity: low
    cve: [CVE-21-1]
    match:
      - regex: "a(b"
      - content: x
        buffer: http.bogus
  - name: noid
    match: []
"""
MANY_ERRORS_EXPECTED = [
    "bad.yaml:8:16: depth must be a non-negative integer, got \"ten\"",
    "bad.yaml:9:9: duplicate rule id 1 (first defined at 3:9)",
    "bad.yaml:11:15: severity must be one of low, medium, high, critical, got \"severe\"",
    "bad.yaml:12:5: unknown rule field 'colour'",
    "bad.yaml:14:9: the first condition cannot be relative (distance/within)",
    "bad.yaml:19:11: malformed CVE id \"CVE-21-1\", expected CVE-YYYY-NNNN",
    None,  # the regex message comes from Hyperscan: checked by prefix
    "bad.yaml:23:17: unknown buffer 'http.bogus' (stream, http.method, http.uri, http.uri.raw, http.request_line, http.header, http.header.raw, http.header_names, http.host, http.user_agent, http.cookie, http.content_type, http.request_body, http.stat_code or http.response_body)",
    "bad.yaml:24:5: rule is missing required field 'id'",
    "bad.yaml:24:5: rule is missing required field 'severity'",
    "bad.yaml:25:12: match must be a non-empty list of conditions, got an empty list",
]

# Rules exercising chains, negation, relative windows, udp and to_client.
LANGUAGE_RULES = """format: 1
ruleset: language
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
  - id: 2000
    name: relative detect rule
    severity: low
    action: detect
    match:
      - content: "ldap://"
      - content: "/a"
        distance: 0
        within: 40
  - id: 2300001
    name: unauthenticated wsman
    severity: high
    ports: any
    match:
      - content: "POST /wsman"
        depth: 11
      - content: "Authorization:"
        nocase: true
        negate: true
  - id: 3000
    name: udp rule
    severity: medium
    protocol: udp
    ports: 53
    match: [{hex: "00 ff"}]
  - id: 4000
    name: response rule
    severity: high
    direction: to_client
    ports: any
    match:
      - regex: 'HTTP/1\\.[01] 500'
      - content: "stack trace"
        nocase: true
"""

JNDI = b"GET /search?q=${jndi:ldap://198.51.100.7/a} HTTP/1.1\r\nHost: shop.example\r\n\r\n"


def fired(events):
    return sorted(e.rule_id for e in events)


def scan_whole(engine, data, port=80, direction="to_server", chunk=None):
    with engine.stream("tcp", port, direction) as s:
        chunk = chunk or max(len(data), 1)
        for at in range(0, len(data), chunk):
            s.scan(data[at:at + chunk])
    return s.events, s.verdict


class CompileTests(unittest.TestCase):
    def test_compile_str_and_bytes(self):
        a = vpatch.compile(THREE_RULES, serial=42)
        b = vpatch.compile(THREE_RULES.encode(), name="x.yaml", serial=42)
        self.assertIsInstance(a, bytes)
        self.assertEqual(a, b)
        self.assertEqual(vpatch.Bundle.load(a).serial, 42)

    def test_default_serial_is_build_time(self):
        import time
        before = int(time.time())
        serial = vpatch.Bundle.load(vpatch.compile(THREE_RULES)).serial
        self.assertGreaterEqual(serial, before - 1)
        self.assertLessEqual(serial, int(time.time()) + 1)

    def test_all_errors_with_positions(self):
        with self.assertRaises(vpatch.CompileError) as cm:
            vpatch.compile(MANY_ERRORS, name="bad.yaml")
        e = cm.exception
        self.assertIsInstance(e, vpatch.Error)
        self.assertEqual(e.status, "VP_E_COMPILE")
        self.assertEqual(len(e.diagnostics), len(MANY_ERRORS_EXPECTED))
        for d, want in zip(e.diagnostics, MANY_ERRORS_EXPECTED):
            self.assertIsInstance(d, vpatch.Diagnostic)
            self.assertEqual(d.severity, "error")
            if want is None:
                self.assertTrue(str(d).startswith(
                    "bad.yaml:21:16: regex is not supported by Hyperscan: "), str(d))
                self.assertEqual(d.code, "VP_D_REGEX")
            else:
                self.assertEqual(str(d), want)
        # first diagnostic's position as attributes (1-based)
        self.assertEqual((e.file, e.line, e.column), ("bad.yaml", 8, 16))
        d = e.diagnostics[5]
        self.assertEqual((d.code, d.file, d.line, d.column, d.rule_id),
                         ("VP_D_TYPE", "bad.yaml", 19, 11, 3))
        self.assertEqual(d.message, "malformed CVE id \"CVE-21-1\", expected CVE-YYYY-NNNN")
        self.assertEqual(e.diagnostics[1].code, "VP_D_DUPLICATE_ID")
        self.assertEqual(e.diagnostics[3].code, "VP_D_UNKNOWN_FIELD")
        self.assertEqual(e.diagnostics[8].code, "VP_D_MISSING")
        self.assertEqual(e.diagnostics[8].rule_id, 0)
        self.assertIn("bad.yaml:8:16: depth must be", str(e))
        self.assertEqual(len(e.errors), 11)

    def test_yaml_syntax_error_position(self):
        with self.assertRaises(vpatch.CompileError) as cm:
            vpatch.compile("format: 1\nrules:\n  - id: [1\n", name="syn.yaml")
        e = cm.exception
        self.assertEqual(e.diagnostics[0].code, "VP_D_YAML")
        self.assertEqual(e.file, "syn.yaml")
        self.assertGreaterEqual(e.line, 3)
        self.assertGreaterEqual(e.column, 1)

    def test_embedded_tests(self):
        yaml = ("format: 1\n"
                "rules:\n"
                "  - id: 5\n"
                "    name: t\n"
                "    severity: high\n"
                "    match: [{content: \"${jndi:\", nocase: true}]\n"
                "    tests:\n"
                "      - data: \"GET /?q=${JNDI:ldap://x/a} HTTP/1.1\\r\\n\\r\\n\"\n"
                "        expect: match\n"
                "      - hex: \"47 45 54 20 2f 20\"\n"
                "        expect: match\n"
                "      - data: \"${jndi\"\n"
                "        expect: nomatch\n"
                "      - data: \"x${jndi:\"\n"
                "        expect: nomatch\n")
        with self.assertRaises(vpatch.CompileError) as cm:
            vpatch.compile(yaml, name="t.yaml")
        self.assertEqual([str(d) for d in cm.exception.diagnostics], [
            "t.yaml:10:9: test expects match but rule 5 did not fire",
            "t.yaml:14:9: test expects nomatch but rule 5 fired at offset 8",
        ])
        self.assertEqual({d.code for d in cm.exception.diagnostics}, {"VP_D_TEST_FAILED"})
        self.assertEqual({d.rule_id for d in cm.exception.diagnostics}, {5})
        # the same sources build with tests off
        vpatch.Bundle.load(vpatch.compile(yaml, run_tests=False))

    def test_warning_is_a_python_warning(self):
        yaml = ("format: 1\nrules:\n  - id: 9\n    name: perf only\n    severity: low\n"
                "    modes: [performance]\n    match: [{content: a}]\n")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = vpatch.compile(yaml, name="w.yaml")
        self.assertEqual(len(vpatch.Bundle.load(data).rules), 1)
        self.assertEqual(len(caught), 1)
        w = caught[0]
        self.assertTrue(issubclass(w.category, vpatch.CompileWarning))
        d = w.message.diagnostic
        self.assertEqual((d.severity, d.code, d.file, d.line), ("warning", "VP_D_MODES", "w.yaml", 6))
        self.assertTrue(str(d).startswith("w.yaml:6:"))
        self.assertIn("warning: ", str(d))
        # With an error as well: diagnostics has both, the position is the error's.
        bad = yaml + "  - id: 10\n    name: x\n    severity: bogus\n    match: [{content: b}]\n"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with self.assertRaises(vpatch.CompileError) as cm:
                vpatch.compile(bad, name="w.yaml")
        e = cm.exception
        self.assertEqual([d.severity for d in e.diagnostics], ["warning", "error"])
        self.assertEqual((e.file, e.line), ("w.yaml", 10))
        self.assertEqual(len(e.errors), 1)

    def test_compile_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            a = pathlib.Path(tmp, "a.yaml")
            b = pathlib.Path(tmp, "b.yaml")
            a.write_text("format: 1\nruleset: first\nrules:\n"
                         "  - {id: 1, name: a, severity: low, match: [{content: a}]}\n")
            b.write_text("format: 1\nrules:\n"
                         "  - {id: 2, name: b, severity: low, match: [{content: b}]}\n")
            bundle = vpatch.Bundle.load(vpatch.compile_files([a, str(b)], serial=7))
            self.assertEqual([r.id for r in bundle.rules], [1, 2])
            self.assertEqual((bundle.serial, bundle.ruleset), (7, "first"))
            # a single path is one file, not an iterable of characters
            self.assertEqual(len(vpatch.Bundle.load(vpatch.compile_files(str(a))).rules), 1)
            self.assertEqual(len(vpatch.Bundle.load(vpatch.compile_files(a)).rules), 1)
            # conflicts across files, unreadable files: all diagnostics
            b.write_text("format: 1\nrules:\n"
                         "  - {id: 2, name: b, severity: low, match: [{content: b}]}\n"
                         "  - {id: 1, name: again, severity: low, match: [{content: c}]}\n")
            missing = os.path.join(tmp, "nonexistent.yaml")
            with self.assertRaises(vpatch.CompileError) as cm:
                vpatch.compile_files([a, b, missing])
            diags = cm.exception.diagnostics
            self.assertEqual(len(diags), 2)
            self.assertEqual((diags[0].file, diags[0].line, diags[0].code),
                             (str(b), 4, "VP_D_DUPLICATE_ID"))
            self.assertIn("first defined at %s:4:" % a, diags[0].message)
            self.assertEqual((diags[1].file, diags[1].line, diags[1].column, diags[1].code),
                             (missing, 0, 0, "VP_D_IO"))
            self.assertTrue(str(diags[1]).startswith(missing + ": cannot read rule source"))
            self.assertEqual((cm.exception.file, cm.exception.line), (str(b), 4))

    @unittest.skipUnless(RULEC and os.access(RULEC, os.X_OK), "VP_BUILD_DIR/rulec/rulec not built")
    def test_same_bytes_as_rulec(self):
        data = vpatch.compile_files(EXAMPLE_RULES, serial=9)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "r.vpb")
            subprocess.run([RULEC, "compile", "-o", out, "--serial", "9"] + EXAMPLE_RULES,
                           check=True, capture_output=True)
            with open(out, "rb") as f:
                self.assertEqual(f.read(), data)

    def test_argument_errors(self):
        with self.assertRaises(TypeError):
            vpatch.compile(123)
        with self.assertRaises(TypeError):
            vpatch.compile("format: 1\nrules: []\n", name=5)
        with self.assertRaises(TypeError):
            vpatch.compile_files([3])
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.compile("format: 1\nrules: []\n", serial=-1)
        self.assertEqual(cm.exception.status, "VP_E_INVALID")
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.compile("format: 1\nrules: []\n", name="nul\0name")
        self.assertEqual(cm.exception.status, "VP_E_INVALID")
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.compile_files(["a\0b.yaml"])
        self.assertEqual(cm.exception.status, "VP_E_INVALID")
        # an empty rule set is a valid bundle
        self.assertEqual(len(vpatch.Bundle.load(vpatch.compile("format: 1\nrules: []\n")).rules),
                         0)

    def test_library_version(self):
        self.assertRegex(vpatch.library_version(), r"^\d+\.\d+\.\d+$")
        self.assertTrue(vpatch.__version__)


class BundleTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = vpatch.compile(THREE_RULES, serial=42)
        cls.tmp = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.tmp.name, "three.vpb")
        with open(cls.path, "wb") as f:
            f.write(cls.data)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def check_three(self, b):
        self.assertEqual(b.serial, 42)
        self.assertEqual(b.ruleset, "api-test")
        self.assertEqual(len(b), 3)
        self.assertEqual([r.id for r in b.rules], [100, 200, 300])

    def test_load_sources(self):
        self.check_three(vpatch.Bundle.load(self.data))
        self.check_three(vpatch.Bundle.load(bytearray(self.data)))
        self.check_three(vpatch.Bundle.load(memoryview(self.data)))
        self.check_three(vpatch.Bundle.load(self.path))
        self.check_three(vpatch.Bundle.load(pathlib.Path(self.path)))
        self.assertIn("api-test", repr(vpatch.Bundle.load(self.data)))
        with self.assertRaises(TypeError):
            vpatch.Bundle(None)
        with self.assertRaises(TypeError):
            vpatch.Bundle.load(12)

    def test_metadata(self):
        b = vpatch.Bundle.load(self.data)
        r = b.rule(100)
        self.assertIsInstance(r, vpatch.Rule)
        self.assertEqual(r, vpatch.Rule(
            id=100, name="both modes", description="",
            cve=("CVE-2021-44228", "CVE-2021-45046"), references=("https://example.org/a",),
            tags=("rce",), severity="critical", cvss=r.cvss, modes=("performance", "security"),
            action="block", proto="tcp", direction="to_server"))
        self.assertAlmostEqual(r.cvss, 9.8)
        r = b.rule(200)
        self.assertEqual((r.action, r.cvss, r.modes, r.description, r.severity),
                         ("detect", None, ("security",), "", "medium"))
        self.assertEqual(b.rule(300).modes, ("performance",))
        with self.assertRaises(vpatch.Error) as cm:
            b.rule(999)
        self.assertEqual(cm.exception.status, "VP_E_UNKNOWN_RULE")
        full = vpatch.Bundle.load(vpatch.compile_files(EXAMPLE_RULES, serial=1))
        udp = [r for r in full.rules if r.proto == "udp"]
        self.assertTrue(udp)
        self.assertTrue(any(r.direction == "to_client" for r in full.rules))
        self.assertTrue(all(r.description for r in full.rules))
        self.assertTrue(any(r.references for r in full.rules))

    def test_refused(self):
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.Bundle.load(b"")
        self.assertEqual(cm.exception.status, "VP_E_BUNDLE_FORMAT")
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.Bundle.load(b"Q" * 256)
        e = cm.exception
        self.assertEqual(e.status, "VP_E_BUNDLE_FORMAT")
        self.assertEqual(e.code, 4)
        self.assertIsNotNone(e.offset)
        self.assertGreaterEqual(e.offset, 0)
        self.assertTrue(e.message)
        self.assertIn("VP_E_BUNDLE_FORMAT", str(e))
        # a flipped byte in the middle: format or checksum error, never a crash
        bad = bytearray(self.data)
        bad[len(bad) // 2] ^= 0xFF
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.Bundle.load(bytes(bad))
        self.assertIn(cm.exception.status, ("VP_E_BUNDLE_FORMAT", "VP_E_BUNDLE_CHECKSUM"))
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.Bundle.load(self.data[:len(self.data) // 2])
        self.assertEqual(cm.exception.status, "VP_E_BUNDLE_FORMAT")
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.Bundle.load("/nonexistent/x.vpb")
        self.assertEqual(cm.exception.status, "VP_E_IO")
        self.assertIn("/nonexistent/x.vpb", cm.exception.message)
        self.assertIsNone(cm.exception.offset)

    def test_error_class(self):
        e = vpatch.Error("VP_E_INVALID", "bad thing")
        self.assertEqual((e.status, e.code, e.message, e.offset), ("VP_E_INVALID", 1, "bad thing",
                                                                   None))
        self.assertEqual(str(e), "VP_E_INVALID: bad thing")
        self.assertEqual(vpatch.Error(14).status, "VP_E_ROLLBACK")
        self.assertTrue(issubclass(vpatch.CompileError, vpatch.Error))

    def test_fallback_without_load_options(self):
        """A library without vp_load_options_*: plain loads work, options refuse."""
        saved = _ffi.HAS_LOAD_OPTIONS
        _ffi.HAS_LOAD_OPTIONS = False
        try:
            self.check_three(vpatch.Bundle.load(self.data))
            self.check_three(vpatch.Bundle.load(self.path))
            for kwargs in ({"min_serial": 1}, {"trusted_keys": [bytes(32)]},
                           {"allow_recompile": False}):
                with self.assertRaises(vpatch.Error) as cm:
                    vpatch.Bundle.load(self.data, **kwargs)
                self.assertEqual(cm.exception.status, "VP_E_INVALID")
                self.assertIn("vp_load_options", cm.exception.message)
            with self.assertRaises(vpatch.Error) as cm:
                vpatch.Bundle.load(self.data[:10])
            self.assertEqual(cm.exception.status, "VP_E_BUNDLE_FORMAT")
        finally:
            _ffi.HAS_LOAD_OPTIONS = saved

    @unittest.skipUnless(_ffi.HAS_LOAD_OPTIONS, NO_LOAD_OPTIONS)
    def test_min_serial(self):
        for source in (self.data, self.path):
            self.check_three(vpatch.Bundle.load(source, min_serial=42))
            self.check_three(vpatch.Bundle.load(source, min_serial=0))
            with self.assertRaises(vpatch.Error) as cm:
                vpatch.Bundle.load(source, min_serial=43)
            self.assertEqual(cm.exception.status, "VP_E_ROLLBACK")
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.Bundle.load(self.data, min_serial=-1)
        self.assertEqual(cm.exception.status, "VP_E_INVALID")

    @unittest.skipUnless(_ffi.HAS_LOAD_OPTIONS, NO_LOAD_OPTIONS)
    def test_allow_recompile_flag(self):
        # A bundle built on this machine has a database that fits it.
        self.check_three(vpatch.Bundle.load(self.data, allow_recompile=False))
        self.check_three(vpatch.Bundle.load(self.data, allow_recompile=True))

    @unittest.skipUnless(_ffi.HAS_LOAD_OPTIONS, NO_LOAD_OPTIONS)
    def test_trusted_key_refuses_unsigned(self):
        for keys in ([bytes(range(32))], bytes(range(32)), (bytearray(range(1, 33)),)):
            with self.assertRaises(vpatch.Error) as cm:
                vpatch.Bundle.load(self.data, trusted_keys=keys)
            self.assertEqual(cm.exception.status, "VP_E_SIGNATURE")
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.Bundle.load(self.data, trusted_keys=[b"short"])
        self.assertEqual(cm.exception.status, "VP_E_INVALID")
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.Bundle.load(self.data, trusted_keys=["/nonexistent/k.pub"])
        self.assertIn(cm.exception.status, ("VP_E_IO", "VP_E_INVALID"))
        with self.assertRaises(TypeError):
            vpatch.Bundle.load(self.data, trusted_keys=[42])

    @unittest.skipUnless(_ffi.HAS_LOAD_OPTIONS, NO_LOAD_OPTIONS)
    @unittest.skipUnless(RULEC and os.access(RULEC, os.X_OK), "VP_BUILD_DIR/rulec/rulec not built")
    def test_signed_bundle(self):
        with tempfile.TemporaryDirectory() as tmp:
            key = os.path.join(tmp, "release")
            other = os.path.join(tmp, "other")
            for k in (key, other):
                r = subprocess.run([RULEC, "keygen", "-o", k], capture_output=True, text=True)
                if r.returncode != 0:
                    self.skipTest("rulec keygen is not available: " + r.stderr.strip())
            rules = os.path.join(tmp, "r.yaml")
            with open(rules, "w") as f:
                f.write(THREE_RULES)
            out = os.path.join(tmp, "signed.vpb")
            r = subprocess.run([RULEC, "compile", "-o", out, "--serial", "50", "--sign",
                                key + ".key", rules], capture_output=True, text=True)
            if r.returncode != 0:
                r = subprocess.run([RULEC, "compile", "-o", out, "--serial", "50", "--sign", key,
                                    rules], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            b = vpatch.Bundle.load(out, trusted_keys=[key + ".pub"], min_serial=50)
            self.assertEqual(b.serial, 50)
            with open(out, "rb") as f:
                data = f.read()
            vpatch.Bundle.load(data, trusted_keys=[pathlib.Path(key + ".pub")])
            vpatch.Bundle.load(data, trusted_keys=[other + ".pub", key + ".pub"])
            # the same key as 32 raw bytes (the .pub file holds them in hex)
            with open(key + ".pub") as f:
                words = f.read().split()
            raw = [w for w in words if len(w) == 64]
            if raw:
                self.assertEqual(vpatch.Bundle.load(data, trusted_keys=[bytes.fromhex(raw[0])])
                                 .serial, 50)
                vpatch.Bundle.load(out, trusted_keys=bytes.fromhex(raw[0]))
                with open(other + ".pub") as f:
                    other_raw = [w for w in f.read().split() if len(w) == 64][0]
                with self.assertRaises(vpatch.Error) as cm:
                    vpatch.Bundle.load(data, trusted_keys=[bytes.fromhex(other_raw)])
                self.assertEqual(cm.exception.status, "VP_E_SIGNATURE")
            with self.assertRaises(vpatch.Error) as cm:
                vpatch.Bundle.load(data, trusted_keys=[other + ".pub"])
            self.assertEqual(cm.exception.status, "VP_E_SIGNATURE")
            with self.assertRaises(vpatch.Error) as cm:
                vpatch.Bundle.load(data, trusted_keys=[key + ".pub"], min_serial=51)
            self.assertEqual(cm.exception.status, "VP_E_ROLLBACK")


class EngineTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bundle = vpatch.Bundle.load(vpatch.compile(THREE_RULES, serial=42))

    def fired(self, **kwargs):
        engine = vpatch.Engine(self.bundle, **kwargs)
        events, verdict = scan_whole(engine, b"aaa bbb ccc")
        return fired(events), verdict, events

    def test_modes_and_overrides(self):
        # mirrors test_modes_and_overrides of tests/unit/test_api.c
        self.assertEqual(self.fired()[:2], ([100, 200], "block"))
        self.assertEqual(self.fired(mode="performance")[0], [100, 300])
        self.assertEqual(self.fired(mode="performance", enable=[200])[0], [100, 200, 300])
        self.assertEqual(self.fired(mode="performance", enable=[200], disable=[100])[0], [200, 300])
        self.assertEqual(self.fired(mode="performance", enable=[200, 100], disable=[100])[0],
                         [200, 300])
        self.assertEqual(self.fired(enable=[300], disable=[100])[:2], ([200, 300], "block"))
        ids, verdict, events = self.fired(disable=(100,))
        self.assertEqual((ids, verdict), ([200], "allow"))
        self.assertEqual((events[0].verdict, events[0].action), ("allow", "detect"))
        ids, verdict, events = self.fired(detect_only=True)
        self.assertEqual((ids, verdict), ([100, 200], "allow"))
        self.assertEqual({e.verdict for e in events}, {"allow"})
        self.assertEqual(events[0].action, "block")

    def test_engine_queries(self):
        e = vpatch.Engine(self.bundle)
        self.assertIs(e.bundle, self.bundle)
        self.assertEqual((e.mode, e.detect_only), ("security", False))
        self.assertEqual([r.id for r in e.rules()], [100, 200])
        self.assertEqual(e.rules()[0], self.bundle.rule(100))
        self.assertTrue(e.rule_enabled(100))
        self.assertFalse(e.rule_enabled(300))
        self.assertFalse(e.rule_enabled(4242))
        self.assertEqual(e.enabled_count, 2)
        self.assertGreater(e.stream_size, 0)
        self.assertIn("security", repr(e))
        p = vpatch.Engine(self.bundle, mode="performance", detect_only=True)
        self.assertEqual([r.id for r in p.rules()], [100, 300])
        self.assertEqual((p.mode, p.detect_only), ("performance", True))

    def test_engine_from_bytes_and_path(self):
        data = vpatch.compile(THREE_RULES, serial=1)
        self.assertEqual(vpatch.Engine(data).enabled_count, 2)
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp, "b.vpb")
            path.write_bytes(data)
            self.assertEqual(vpatch.Engine(path, mode="performance").enabled_count, 2)

    def test_engine_errors(self):
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.Engine(self.bundle, mode="fast")
        self.assertEqual(cm.exception.status, "VP_E_INVALID")
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.Engine(self.bundle, enable=[4242])
        self.assertEqual(cm.exception.status, "VP_E_UNKNOWN_RULE")
        self.assertIn("4242", cm.exception.message)
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.Engine(self.bundle, disable=[4243])
        self.assertEqual(cm.exception.status, "VP_E_UNKNOWN_RULE")
        with self.assertRaises(vpatch.Error) as cm:
            vpatch.Engine(self.bundle, enable=[-1])
        self.assertEqual(cm.exception.status, "VP_E_INVALID")
        with self.assertRaises(vpatch.Error):
            vpatch.Engine(self.bundle, enable=[2**32])
        with self.assertRaises(TypeError):
            vpatch.Engine(self.bundle, enable=["100"])

    def test_engine_outlives_bundle_object(self):
        engine = vpatch.Engine(vpatch.Bundle.load(vpatch.compile(THREE_RULES, serial=3)))
        gc.collect()
        events, _ = scan_whole(engine, b"aaa")
        self.assertEqual(fired(events), [100])
        self.assertEqual(events[0].name, "both modes")
        # streams keep their engine alive too
        s = vpatch.Engine(vpatch.compile(THREE_RULES)).stream("tcp", 80, "to_server")
        gc.collect()
        self.assertEqual(fired(s.scan(b"bbb")), [200])
        s.close()
        s.free()

    def test_empty_bundle(self):
        e = vpatch.Engine(vpatch.compile("format: 1\nrules: []\n"))
        self.assertEqual(scan_whole(e, b"anything", chunk=3), ([], "allow"))
        self.assertEqual(e.rules(), [])


class StreamTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = vpatch.Engine(vpatch.compile(LANGUAGE_RULES, serial=1))

    def test_scan_split_pattern(self):
        e = self.engine
        with e.stream("tcp", 8080, "to_server") as s:
            self.assertEqual(s.scan(JNDI[:18]), [])
            self.assertEqual(s.offset, 18)
            self.assertEqual(s.verdict, "allow")
            ev = s.scan(JNDI[18:])
            self.assertEqual(s.verdict, "block")
        self.assertEqual(fired(ev), [2000, 1011242])
        log4 = [x for x in ev if x.rule_id == 1011242][0]
        self.assertEqual(log4, vpatch.Event(
            rule_id=1011242, offset=21, action="block", verdict="block",
            name="Log4Shell JNDI lookup", cve=("CVE-2021-44228",), severity="critical",
            direction="to_server"))
        rel = [x for x in ev if x.rule_id == 2000][0]
        self.assertEqual((rel.action, rel.verdict, rel.severity, rel.cve),
                         ("detect", "allow", "low", ()))
        self.assertTrue(s.closed)
        self.assertEqual(s.events, ev)
        self.assertEqual(s.offset, len(JNDI))
        self.assertEqual(s.verdict, "block")
        self.assertIn("closed", repr(s))

    def test_chunking_does_not_matter(self):
        whole, v1 = scan_whole(self.engine, JNDI, port=80)
        for chunk in (1, 2, 7, 1460):
            self.assertEqual(scan_whole(self.engine, JNDI, port=80, chunk=chunk), (whole, v1))

    def test_port_and_direction_select_rules(self):
        self.assertEqual(fired(scan_whole(self.engine, JNDI, port=9999)[0]), [2000])
        self.assertEqual(fired(scan_whole(self.engine, JNDI, port=80, direction="to_client")[0]),
                         [])
        resp = b"HTTP/1.1 500 Internal Server Error\r\n\r\nStack Trace: at x.y"
        events, verdict = scan_whole(self.engine, resp, port=8443, direction="to_client")
        self.assertEqual((fired(events), verdict), ([4000], "block"))
        self.assertEqual(events[0].direction, "to_client")

    def test_negation_decided_at_close(self):
        req = b"POST /wsman HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
        s = self.engine.stream("tcp", 5985, "to_server")
        self.assertEqual(s.scan(req), [])
        self.assertFalse(s.closed)
        ev = s.close()
        self.assertEqual(fired(ev), [2300001])
        self.assertEqual(ev[0].offset, len(req))
        self.assertEqual(s.verdict, "block")
        with self.assertRaises(vpatch.Error) as cm:
            s.close()
        self.assertEqual(cm.exception.status, "VP_E_STREAM_CLOSED")
        with self.assertRaises(vpatch.Error) as cm:
            s.scan(b"x")
        self.assertEqual(cm.exception.status, "VP_E_STREAM_CLOSED")
        with self.assertRaises(vpatch.Error) as cm:
            s.gap(1)
        self.assertEqual(cm.exception.status, "VP_E_STREAM_CLOSED")
        s.free()
        s.free()  # idempotent
        self.assertEqual((s.verdict, s.offset), ("block", len(req)))
        with self.assertRaises(vpatch.Error) as cm:
            s.scan(b"x")
        self.assertEqual(cm.exception.status, "VP_E_STREAM_CLOSED")
        # authenticated: no event; the context manager closes the stream
        with self.engine.stream("tcp", 5985, "to_server") as s:
            s.scan(b"POST /wsman HTTP/1.1\r\nAuthorization: Basic x\r\n\r\n")
        self.assertEqual(s.events, [])
        # the context manager's implicit close reports its events in .events
        with self.engine.stream("tcp", 5985, "to_server") as s:
            s.scan(req)
        self.assertEqual(fired(s.events), [2300001])

    def test_exception_discards_stream(self):
        req = b"POST /wsman HTTP/1.1\r\n\r\n"
        with self.assertRaises(KeyError):
            with self.engine.stream("tcp", 5985, "to_server") as s:
                s.scan(req)
                raise KeyError("host gave up")
        self.assertFalse(s.closed)
        self.assertEqual(s.events, [])
        self.assertEqual(s.offset, len(req))

    def test_gap(self):
        with self.engine.stream("tcp", 80, "to_server") as s:
            self.assertEqual(s.scan(b"GET /?q=${jn"), [])
            self.assertEqual(s.gap(0), [])
            self.assertEqual(s.gap(100), [])
            self.assertEqual(s.offset, 112)
            self.assertEqual(s.scan(b"di:x/a HTTP"), [])  # nothing matches across a gap
            ev = s.scan(b" ${jndi:")
        self.assertEqual(fired(ev), [1011242])
        self.assertEqual(ev[0].offset, 112 + 11 + 8)
        # a gap inside a negation's window: undecidable, never fires
        with self.engine.stream("tcp", 5985, "to_server") as s:
            s.scan(b"POST /wsman HTTP/1.1\r\n")
            s.gap(10)
            s.scan(b"\r\n")
        self.assertEqual(s.events, [])
        with self.engine.stream("tcp", 80, "to_server") as s:
            with self.assertRaises(vpatch.Error) as cm:
                s.gap(-1)
            self.assertEqual(cm.exception.status, "VP_E_INVALID")
            with self.assertRaises(vpatch.Error) as cm:
                s.gap(2**64 - 1)  # the library refuses offsets that would overflow
            self.assertEqual(cm.exception.status, "VP_E_INVALID")

    def test_data_types(self):
        for conv in (bytes, bytearray, memoryview, lambda d: memoryview(bytearray(d)),
                     lambda d: memoryview(b"xx" + d + b"yy")[2:-2]):
            with self.engine.stream("tcp", 80, "to_server") as s:
                ev = s.scan(conv(JNDI))
            self.assertEqual(fired(ev), [2000, 1011242], conv)
        import array
        with self.engine.stream("tcp", 80, "to_server") as s:
            self.assertEqual(fired(s.scan(array.array("B", JNDI))), [2000, 1011242])
            self.assertEqual(s.scan(b""), [])
            self.assertEqual(s.scan(bytearray()), [])
            with self.assertRaises(TypeError):
                s.scan("text")
            with self.assertRaises(TypeError):
                s.scan(42)

    def test_bad_stream_arguments(self):
        for args in (("sctp", 80, "to_server"), ("tcp", 80, "any"), ("tcp", 80, "up"),
                     ("tcp", 70000, "to_server"), ("tcp", -1, "to_server")):
            with self.assertRaises(vpatch.Error) as cm:
                self.engine.stream(*args)
            self.assertEqual(cm.exception.status, "VP_E_INVALID", args)
        with self.assertRaises(TypeError):
            self.engine.stream("tcp", "80", "to_server")
        s = self.engine.stream("TCP", 80)  # direction defaults to to_server
        self.assertEqual(s.direction, "to_server")
        s.free()

    def test_datagram(self):
        ev = self.engine.scan_datagram("udp", 53, "to_server", b"\x12\x34\x00\xff\x00\x01")
        self.assertEqual(fired(ev), [3000])
        self.assertEqual((ev[0].offset, ev[0].verdict, ev[0].severity), (4, "block", "medium"))
        self.assertEqual(self.engine.scan_datagram("udp", 54, "to_server", b"\x00\xff"), [])
        self.assertEqual(self.engine.scan_datagram("udp", 53, "to_server", b""), [])
        self.assertEqual(self.engine.scan_datagram("udp", 53, "to_server",
                                                   bytearray(b"\x00\xff"))[0].offset, 2)
        # a datagram is a stream of its own: negations decided at its end
        ev = self.engine.scan_datagram("tcp", 5985, "to_server", b"POST /wsman x")
        self.assertEqual(fired(ev), [2300001])
        with self.assertRaises(vpatch.Error) as cm:
            self.engine.scan_datagram("udp", 53, "any", b"a")
        self.assertEqual(cm.exception.status, "VP_E_INVALID")
        with self.assertRaises(TypeError):
            self.engine.scan_datagram("udp", 53, "to_server", "text")

    def test_udp_stream(self):
        with self.engine.stream("udp", 53, "to_server") as s:
            ev = s.scan(b"\x00\xff")
        self.assertEqual(fired(ev), [3000])

    def test_many_streams_and_gc(self):
        # open and drop many streams without closing: nothing leaks into the sinks
        from vpatch import _api
        before = len(_api._sinks)
        for _ in range(200):
            s = self.engine.stream("tcp", 80, "to_server")
            s.scan(JNDI[:30])
        del s
        gc.collect()
        self.assertEqual(len(_api._sinks), before)


def _workload():
    """(port, direction, data) streams with patterns at many positions."""
    rng = random.Random(1234)
    pieces = [JNDI, b"POST /wsman HTTP/1.1\r\n\r\n", b"ldap://h/a", b"${JNDI:",
              b"HTTP/1.0 500 x stack TRACE", b"aaa"]
    streams = []
    for i in range(24):
        buf = bytearray()
        for _ in range(rng.randrange(1, 12)):
            buf += bytes(rng.randrange(32, 127) for _ in range(rng.randrange(0, 3000)))
            buf += rng.choice(pieces)
        streams.append((rng.choice([80, 8080, 5985, 443]),
                        rng.choice(["to_server", "to_server", "to_client"]), bytes(buf)))
    if not streams[0][2].startswith(b"POST /wsman"):
        streams[0] = (5985, "to_server", b"POST /wsman HTTP/1.1\r\n\r\n" + streams[0][2])
    return streams


class ThreadTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = vpatch.Engine(vpatch.compile(LANGUAGE_RULES, serial=1))
        cls.streams = _workload()

    def run_all(self, chunk):
        out = []
        for port, direction, data in self.streams:
            out.append(scan_whole(self.engine, data, port=port, direction=direction, chunk=chunk))
        return out

    def test_four_threads_share_an_engine(self):
        reference = self.run_all(1460)
        self.assertTrue(any(events for events, _ in reference))
        results = {}
        errors = []
        barrier = threading.Barrier(4)

        def worker(n):
            try:
                barrier.wait()
                got = []
                for _ in range(3):
                    got.append(self.run_all([1460, 7, 1000, 4096][n]))
                results[n] = got
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(sorted(results), [0, 1, 2, 3])
        for n, runs in results.items():
            for run in runs:
                self.assertEqual(run, reference, "thread %d" % n)
        # each thread got its own scratch; datagrams in parallel as well
        dg = [self.engine.scan_datagram("udp", 53, "to_server", d[:2000] + b"\x00\xff")
              for _, _, d in self.streams]
        par = {}

        def dg_worker(n):
            par[n] = [self.engine.scan_datagram("udp", 53, "to_server", d[:2000] + b"\x00\xff")
                      for _, _, d in self.streams]

        threads = [threading.Thread(target=dg_worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([par[n] for n in range(4)], [dg] * 4)

    def test_stream_handed_between_threads(self):
        port, direction, data = 80, "to_server", JNDI * 3
        reference = scan_whole(self.engine, data, port=port, direction=direction, chunk=10)
        s = self.engine.stream("tcp", port, direction)
        chunks = [data[i:i + 10] for i in range(0, len(data), 10)]
        for i, c in enumerate(chunks):  # every chunk in a new thread, in order
            t = threading.Thread(target=s.scan, args=(c,))
            t.start()
            t.join()
        s.close()
        self.assertEqual((s.events, s.verdict), reference)
        s.free()

    def test_one_stream_hammered_concurrently(self):
        # concurrent calls on one stream are serialised, never corrupt it
        s = self.engine.stream("tcp", 80, "to_server")
        chunk = b"x" * 1460
        errors = []

        def worker():
            try:
                for _ in range(200):
                    s.scan(chunk)
            except BaseException as exc:  # pragma: no cover
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(s.offset, 4 * 200 * 1460)
        self.assertEqual(s.close(), [])
        s.free()


def _event_json(e):
    return {"event_type": "ips", "rule_id": e.rule_id, "name": e.name, "cve": list(e.cve),
            "severity": e.severity, "action": e.action, "verdict": e.verdict,
            "direction": e.direction, "offset": e.offset}


@unittest.skipUnless(VPSCAN and os.access(VPSCAN, os.X_OK), "VP_BUILD_DIR/examples/vpscan not built")
class SameAsCTests(unittest.TestCase):
    """Events from the binding equal vpscan's (the C API) on the same bundle and streams."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.samples = os.path.join(d, "samples")
        subprocess.run([sys.executable, str(SRC / "examples" / "gen_samples.py"), cls.samples],
                       check=True, capture_output=True)
        cls.example_bundle = os.path.join(d, "examples.vpb")
        with open(cls.example_bundle, "wb") as f:
            f.write(vpatch.compile_files(EXAMPLE_RULES, serial=1))
        cls.language_bundle = os.path.join(d, "language.vpb")
        with open(cls.language_bundle, "wb") as f:
            f.write(vpatch.compile(LANGUAGE_RULES, serial=1))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def vpscan(self, bundle, path, proto, port, direction, options=()):
        r = subprocess.run([VPSCAN, "-b", bundle, "--stream", path, "--port", str(port),
                            "--direction", direction, "--proto", proto, "--chunk", "1460",
                            *options], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    def binding(self, engine, path, proto, port, direction):
        with open(path, "rb") as f:
            data = f.read()
        if proto == "udp":
            events = engine.scan_datagram(proto, port, direction, data)
        else:
            with engine.stream(proto, port, direction) as s:
                for at in range(0, len(data), 1460):
                    s.scan(data[at:at + 1460])
            events = s.events
        return [_event_json(e) for e in events]

    def compare(self, bundle, cases, engine_kwargs=None, options=()):
        engine = vpatch.Engine(vpatch.Bundle.load(bundle), **(engine_kwargs or {}))
        with_events = 0
        for path, proto, port, direction in cases:
            c = self.vpscan(bundle, path, proto, port, direction, options)
            py = self.binding(engine, path, proto, port, direction)
            self.assertEqual(py, c, "%s %s/%s %s %s" % (os.path.basename(path), proto, port,
                                                        direction, engine_kwargs))
            with_events += bool(c)
        return with_events

    def sample_cases(self):
        cases = []
        with open(os.path.join(self.samples, "samples.tsv")) as f:
            next(f)
            for line in f:
                name, proto, port, direction, _expect = line.rstrip("\n").split("\t")
                cases.append((os.path.join(self.samples, name), proto, int(port), direction))
        return cases

    def test_example_samples(self):
        cases = self.sample_cases()
        self.assertGreater(self.compare(self.example_bundle, cases), 10)
        self.compare(self.example_bundle, cases, {"mode": "performance"}, ["-m", "performance"])
        self.compare(self.example_bundle, cases, {"detect_only": True}, ["--detect-only"])
        ids = sorted(r.id for r in vpatch.Bundle.load(self.example_bundle).rules)
        self.compare(self.example_bundle, cases, {"disable": ids[::2], "mode": "performance",
                                                  "enable": ids[1::3]},
                     ["--disable", ",".join(map(str, ids[::2])), "-m", "performance",
                      "--enable", ",".join(map(str, ids[1::3]))])

    def test_large_concatenated_streams(self):
        # all samples of one port/direction in one stream with filler, so that
        # matches straddle the 1460-byte chunk boundaries
        groups = {}
        for path, proto, port, direction in self.sample_cases():
            if proto == "tcp":
                groups.setdefault((port, direction), []).append(path)
        rng = random.Random(99)
        cases = []
        for (port, direction), paths in sorted(groups.items()):
            buf = bytearray()
            for p in paths * 3:
                buf += bytes(rng.randrange(256) for _ in range(rng.randrange(0, 1500)))
                with open(p, "rb") as f:
                    buf += f.read()
            out = os.path.join(self.tmp.name, "big-%d-%s.bin" % (port, direction))
            with open(out, "wb") as f:
                f.write(buf)
            cases.append((out, "tcp", port, direction))
        self.assertGreater(self.compare(self.example_bundle, cases), 3)

    def test_language_rules(self):
        cases = []
        for i, (port, direction, data) in enumerate(_workload()):
            out = os.path.join(self.tmp.name, "work-%d.bin" % i)
            with open(out, "wb") as f:
                f.write(data)
            cases.append((out, "tcp", port, direction))
        dg = os.path.join(self.tmp.name, "dg.bin")
        with open(dg, "wb") as f:
            f.write(b"\x01\x02\x00\xff")
        cases.append((dg, "udp", 53, "to_server"))
        self.assertGreater(self.compare(self.language_bundle, cases), 10)
        self.compare(self.language_bundle, cases, {"disable": [2000]}, ["--disable", "2000"])


if __name__ == "__main__":
    unittest.main()
