"""vpscan --pcap on a capture with 100,000 concurrent TCP flows: memory stays
bounded by --max-flows, whatever the size of the capture.

Each flow of the generated capture (examples/gen_pcaps.py --flows N) has a
handshake, a request in order (an open libvpatch stream) and a segment beyond
a hole (out-of-order data held by the reassembler); no flow ever closes.
Max RSS is measured per run with wait4(2).  The figures are printed.

Needs VP_BUILD_DIR and VP_SRC_DIR (meson sets them)."""
import os
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

MB = 1024 * 1024


def summary(text):
    line = [l for l in text.splitlines() if l.startswith("vpscan: flows=")][-1]
    out = {}
    for kv in line[len("vpscan: "):].split():
        k, _, v = kv.partition("=")
        out[k] = float(v) if k == "seconds" else int(v)
    return out


class FlowsMemory(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.bundle = os.path.join(d, "rules.vpb")
        rules = sorted(os.path.join(RULES, f) for f in os.listdir(RULES) if f.endswith(".yaml"))
        subprocess.run([RULEC, "compile", "-o", cls.bundle] + rules, check=True)
        cls.caps = {}
        for n in (20000, 100000):
            path = os.path.join(d, "flows%d.pcap" % n)
            subprocess.run([sys.executable, GEN, "--flows", str(n), path], check=True)
            cls.caps[n] = path
        cls.errfile = os.path.join(d, "stderr.txt")
        cls.report = []

    @classmethod
    def tearDownClass(cls):
        print("\nmax RSS of vpscan --pcap (examples/rules bundle):", file=sys.stderr)
        for line in cls.report:
            print("  " + line, file=sys.stderr)
        cls.tmp.cleanup()

    def measure(self, flows, *extra):
        """Runs vpscan; returns (summary, max RSS in bytes)."""
        with open(self.errfile, "w") as err:
            p = subprocess.Popen([VPSCAN, "-b", self.bundle, *extra, "--pcap", self.caps[flows]],
                                 stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
        with open(self.errfile) as err:
            text = err.read()
        self.assertEqual(p.returncode, 0, text)
        s = summary(text)
        rss = usage.ru_maxrss * 1024   # kilobytes on Linux
        self.report.append("%6d flows in the capture, %-22s peak_flows=%-6d evicted=%-6d "
                           "max RSS %.1f MiB" % (flows, " ".join(extra) or "(defaults)",
                                                 s["peak_flows"], s["flows_evicted"], rss / MB))
        return s, rss

    def test_bounded_by_max_flows(self):
        s100, rss100 = self.measure(100000, "--max-flows", "10000")
        s20, rss20 = self.measure(20000, "--max-flows", "10000")
        self.assertEqual(s100["peak_flows"], 10000)
        self.assertGreater(s100["flows_evicted"], 0)
        self.assertLess(rss100, 96 * MB)
        # Five times the flows, the same memory (within allocator noise).
        self.assertLess(abs(rss100 - rss20), 8 * MB, (rss100, rss20))

    def test_default_limit(self):
        s, rss = self.measure(100000)
        self.assertEqual(s["peak_flows"], 65536)
        self.assertLess(rss, 512 * MB)

    def test_all_flows_live(self):
        s, rss = self.measure(100000, "--max-flows", "131072")
        self.assertEqual(s["peak_flows"], 100000)
        self.assertEqual(s["flows_evicted"], 0)
        self.assertEqual(s["ooo_segments"], 100000)
        self.assertLess(rss, 768 * MB)
        # The out-of-order bound holds in total.
        s, rss_small = self.measure(100000, "--max-flows", "131072", "--ooo-total-bytes",
                                    "1000000")
        self.assertLessEqual(s["ooo_peak_bytes"], 1000000)
        self.assertGreater(s["ooo_overflows"], 0)


if __name__ == "__main__":
    unittest.main()
