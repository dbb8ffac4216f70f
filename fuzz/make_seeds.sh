#!/usr/bin/env bash
# Regenerates the seed corpora: fuzz/corpus/<target>/seed-* (docs/fuzzing.md).
#
#   fuzz/make_seeds.sh [BUILDDIR]      (default: build; uses BUILDDIR/rulec/rulec)
#
# Only files named seed-* are written (old ones are removed first); inputs
# that fuzzing runs added to a corpus under other names are left alone.
# Bundles are compiled with a fixed serial, so the output only changes when the
# rules, the compiler or the bundle format change.  Run it again (and commit the
# result) after a bundle format change.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
builddir=${1:-$root/build}
rulec=$builddir/rulec/rulec
if [ ! -x "$rulec" ]; then
  echo "make_seeds: $rulec not found; build first (ninja -C $builddir)" >&2
  exit 1
fi
corpus=$here/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in fuzz_bundle fuzz_compile fuzz_scan fuzz_diff; do
  mkdir -p "$corpus/$t"
  rm -f "$corpus/$t"/seed-*
done

# ------------------------------------------------------------------ rules
# bundle NAME OPTIONS...: compiles $tmp/NAME.yaml into the fuzz_bundle seed
# seed-NAME.bundle (named .bundle, not .vpb, which .gitignore excludes).
bundle() {
  local name=$1
  shift
  "$rulec" compile -o "$corpus/fuzz_bundle/seed-$name.bundle" --serial 1 "$@" \
    "$tmp/${name%%+*}.yaml" 2> "$tmp/$name.err" || { cat "$tmp/$name.err" >&2; exit 1; }
}
# rule NAME: YAML on stdin -> fuzz_compile seed, and a fuzz_bundle seed
# (embedded tests run: a seed rule must be right).  Without the CPU-specific
# database variants: every database grows a bundle by about 1 KiB per pattern.
rule() {
  local name=$1
  cat > "$tmp/$name.yaml"
  cp "$tmp/$name.yaml" "$corpus/fuzz_compile/seed-$name.yaml"
  bundle "$name" --no-cpu-variants
}
# yaml_only NAME: valid YAML on stdin -> fuzz_compile seed only (its bundle would
# be large: every distinct pattern grows the Hyperscan database).
yaml_only() {
  local name=$1
  cat > "$corpus/fuzz_compile/seed-$name.yaml"
  "$rulec" check "$corpus/fuzz_compile/seed-$name.yaml" 2> "$tmp/$name.err" ||
    { cat "$tmp/$name.err" >&2; exit 1; }
}
# bad NAME: YAML on stdin that must NOT compile -> fuzz_compile seed only.
bad() {
  local name=$1
  cat > "$corpus/fuzz_compile/seed-bad-$name.yaml"
  if "$rulec" check "$corpus/fuzz_compile/seed-bad-$name.yaml" 2> /dev/null; then
    echo "make_seeds: seed-bad-$name.yaml compiles but should not" >&2
    exit 1
  fi
}

rule isdataat <<'EOF'
format: 1
ruleset: seeds
rules:
  - id: 1
    name: jsp uri longer than 20
    severity: low
    match:
      - content: ".jsp"
        buffer: http.uri
        endswith: true
      - isdataat: 20
        buffer: http.uri
    tests:
      - data: "GET /aaaaaaaaaaaaaaaa/x.jsp HTTP/1.1\r\nHost: a\r\n\r\n"
        expect: match
      - data: "GET /x.jsp HTTP/1.1\r\nHost: a\r\n\r\n"
        expect: nomatch
  - id: 2
    name: short tail after a marker, nothing past 100
    severity: low
    match:
      - isdataat: 100
        negate: true
      - content: "MARK"
      - isdataat: 2
        relative: true
        negate: true
    tests:
      - data: "xxMARK12"
        expect: match
      - data: "xxMARK123"
        expect: nomatch
EOF

rule service <<'EOF'
format: 1
ruleset: seeds
rules:
  - id: 1
    name: raw marker in HTTP streams only
    severity: low
    service: http
    direction: any
    match:
      - content: "MARK"
    tests:
      - data: "GET /MARK HTTP/1.1\r\n\r\n"
        expect: match
      - data: "HELLO MARK"
        expect: nomatch
EOF

rule flowbits <<'EOF'
format: 1
ruleset: seeds
rules:
  - id: 1
    name: login (silent)
    severity: low
    action: detect
    noalert: true
    direction: any
    flowbits: [{set: login}]
    match:
      - content: "LOGIN"
  - id: 2
    name: secret after login
    severity: high
    direction: any
    flowbits: [{isset: login}, {isnotset: out}]
    match:
      - content: "secret"
    tests:
      - data: "LOGIN secret"
        expect: match
      - data: "secret LOGIN"
        expect: nomatch
      - data: "secret LOGIN secret"
        expect: match
EOF

rule byte-jump <<'EOF'
format: 1
ruleset: seeds
rules:
  - id: 1
    name: RPC credentials skipped, long argument
    severity: high
    match:
      - hex: "00 01 86 b8"
      - byte_jump: {bytes: 4, align: true}
        distance: 4
      - byte_test: {bytes: 4, op: ">", value: 16}
        distance: 0
        within: 4
    tests:
      - data: "\x00\x01\x86\xb8....\x00\x00\x00\x03abc.\x00\x00\x01\x00"
        expect: match
      - data: "\x00\x01\x86\xb8....\x00\x00\x00\x03abc.\x00\x00\x00\x01"
        expect: nomatch
  - id: 2
    name: little-endian length, marker after the field
    severity: low
    action: detect
    match:
      - content: "LEN"
      - byte_jump: {bytes: 2, endian: little, multiplier: 2, post_offset: 1}
        distance: 0
      - content: "END"
        distance: 0
        within: 3
EOF

rule threshold <<'EOF'
format: 1
ruleset: seeds
rules:
  - id: 1
    name: probe, once a minute per source
    severity: low
    threshold: {type: limit, track: by_src, count: 1, seconds: 60}
    match:
      - content: "/probe"
  - id: 2
    name: failures, after five per pair
    severity: low
    action: detect
    direction: to_client
    threshold: {type: detection_filter, track: by_both, count: 5, seconds: 30}
    match:
      - content: "500 "
EOF

rule byte-test <<'EOF'
format: 1
ruleset: seeds
rules:
  - id: 1
    name: big length after magic
    severity: high
    match:
      - hex: "de ad"
      - byte_test: {bytes: 2, op: ">", value: 1000}
        distance: 0
        within: 2
    tests:
      - hex: "de ad 03 e9"
        expect: match
      - hex: "de ad 03 e8"
        expect: nomatch
  - id: 2
    name: little-endian seven at 4
    severity: low
    match:
      - byte_test: {bytes: 4, op: "=", value: 7, endian: little}
        offset: 4
        depth: 4
EOF

bad byte-test-impossible <<'EOF'
format: 1
rules:
  - id: 1
    name: no byte is over 255
    severity: low
    match:
      - byte_test: {bytes: 1, op: ">", value: 255}
EOF

bad flowbits-mixed-kinds <<'EOF'
format: 1
rules:
  - id: 1
    name: stream setter
    severity: low
    action: detect
    flowbits: [{set: x}]
    match:
      - content: "a"
  - id: 2
    name: http checker
    severity: low
    flowbits: [{isset: x}]
    match:
      - content: "/a"
        buffer: http.uri
EOF

bad service-http-buffer <<'EOF'
format: 1
rules:
  - id: 1
    name: service with an HTTP buffer
    severity: low
    service: http
    match:
      - content: "/a"
        buffer: http.uri
EOF

bad isdataat-relative-chain <<'EOF'
format: 1
rules:
  - id: 1
    name: relative after isdataat
    severity: low
    match:
      - content: "a"
      - isdataat: 1
        relative: true
      - content: "b"
        distance: 0
EOF

rule empty <<'EOF'
format: 1
ruleset: empty
rules: []
EOF

rule content <<'EOF'
format: 1
ruleset: seeds
rules:
  - id: 1
    name: jndi lookup
    severity: critical
    cve: [CVE-2021-44228]
    references: [https://nvd.nist.gov/vuln/detail/CVE-2021-44228]
    tags: [rce, log4j]
    cvss: 10.0
    modes: [performance, security]
    match:
      - content: "${jndi:"
        nocase: true
    tests:
      - data: "GET /?q=${JNDI:ldap://x/a} HTTP/1.1\r\n"
        expect: match
      - data: "GET /?q=jndi HTTP/1.1\r\n"
        expect: nomatch
EOF

# The same bundle with the CPU database variants, and signed.  The signing key
# is made afresh on each run (no secret key is committed): fuzz_bundle trusts
# the public key found in the input's own SIGNATURE section.
"$rulec" keygen -o "$tmp/seedkey" > /dev/null 2>&1
bundle content+variants
bundle content+signed --no-cpu-variants --sign "$tmp/seedkey.key"
bundle content+signed+variants --sign "$tmp/seedkey.key"

rule relative <<'EOF'
format: 1
rules:
  - id: 2200001
    name: shellshock
    severity: high
    ports: "80,443,8000-8100"
    match:
      - content: "() {"
      - content: ":"
        distance: -6
        within: 2
      - content: "};"
        distance: 4
        within: 128
    tests:
      - data: "User-Agent: () { :; }; id"
        port: 80
        expect: match
EOF

yaml_only negations <<'EOF'
format: 1
rules:
  - id: 3
    name: wsman without authorization
    severity: medium
    ports: [5985, 5986]
    match:
      - content: "POST /wsman"
        depth: 11
      - content: "Authorization:"
        nocase: true
        negate: true
  - id: 4
    name: magic without CRLF soon after
    severity: low
    action: detect
    match:
      - hex: "ca fe ba be"
        depth: 4
      - content: "\r\n"
        offset: 4
        depth: 32
        negate: true
    tests:
      - hex: "ca fe ba be 41 41"
        expect: match
EOF

yaml_only relneg <<'EOF'
format: 1
rules:
  - id: 5
    name: overlong USER line
    severity: medium
    ports: 21
    match:
      - content: "USER "
      - content: "\n"
        distance: 0
        within: 40
        negate: true
  - id: 6
    name: unterminated script
    severity: low
    direction: to_client
    match:
      - content: "<script"
        nocase: true
      - content: "</script>"
        distance: 0
        negate: true
EOF

yaml_only regexes <<'EOF'
format: 1
rules:
  - id: 7
    name: regexes
    severity: high
    direction: any
    match:
      - regex: '(?:lower|upper):j\}'
        flags: i
      - regex: '^host:[^\n]*evil$'
        flags: im
      - regex: 'cmd=[a-z]{3,8}'
        offset: 4
        depth: 100
      - content: ";"
        distance: 0
        within: 1
EOF

rule regex <<'EOF'
format: 1
rules:
  - id: 7
    name: regex with a window
    severity: high
    direction: to_client
    match:
      - regex: 'cmd=[a-z]{3,8}'
        flags: i
        offset: 4
        depth: 100
    tests:
      - data: "....CMD=whoami"
        expect: match
      - data: "cmd=whoami"
        expect: nomatch
EOF

# One pattern shared by many rules: a small database, all the chain kinds.
rule one-pattern <<'EOF'
format: 1
ruleset: one pattern
rules:
  - id: 1
    name: negative distance on itself
    severity: low
    match:
      - content: "ab"
      - content: "ab"
        distance: -1
        within: 3
    tests:
      - data: "xabab"
        expect: match
      - data: "xab"
        expect: nomatch
  - id: 2
    name: no second ab within 10
    severity: low
    match:
      - content: "ab"
      - content: "ab"
        distance: 0
        within: 10
        negate: true
    tests:
      - data: "ab..........ab"
        expect: match
  - id: 3
    name: no ab in [2, 12]
    severity: low
    action: detect
    match:
      - content: "ab"
        offset: 2
        depth: 10
        negate: true
    tests:
      - data: "ab............."
        expect: match
  - id: 4
    name: last ab
    severity: low
    modes: [performance, security]
    match:
      - content: "ab"
        offset: 1
      - content: "ab"
        distance: 0
        negate: true
  - id: 5
    name: udp ab
    severity: low
    protocol: udp
    direction: any
    ports: [53, "5000-5100"]
    match:
      - content: "ab"
        depth: 8
EOF

rule udp <<'EOF'
format: 1
rules:
  - id: 8
    name: dns ANY query
    severity: low
    protocol: udp
    ports: 53
    modes: [performance]
    match:
      - hex: "00 00 ff 00 01"
        offset: 12
    tests:
      - hex: "12 34 01 00 00 01 00 00 00 00 00 00 03 66 6f 6f 00 00 ff 00 01"
        expect: match
EOF

rule http <<'EOF'
format: 1
rules:
  - id: 9
    name: traversal in the uri, php in the body
    severity: high
    match:
      - content: "/etc/passwd"
        buffer: http.uri
      - content: "<?php"
        buffer: http.request_body
        depth: 64
    tests:
      - data: "POST /x/../etc/passwd HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n<?php x()"
        expect: match
  - id: 10
    name: smuggling
    severity: medium
    direction: any
    match:
      - anomaly: http.header.te_cl_conflict
EOF

# The rich rule set of fuzz_scan/fuzz_diff, extracted from fuzz_rules.h.
python3 - "$here/fuzz_rules.h" > "$corpus/fuzz_compile/seed-rich.yaml" <<'EOF'
import ast, re, sys
text = open(sys.argv[1]).read()
body = text.split('BEGIN RICH YAML */', 1)[1].split('/* END RICH YAML', 1)[0]
sys.stdout.write(''.join(ast.literal_eval(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', body)))
EOF
"$rulec" check "$corpus/fuzz_compile/seed-rich.yaml" 2> /dev/null

# Two sources in one input (fuzz_compile splits at the marker line).
{ cat "$tmp/content.yaml"; printf '#---8<---\n'; cat "$tmp/udp.yaml"; } \
  > "$corpus/fuzz_compile/seed-two-sources.yaml"

bad errors <<'EOF'
format: 1
rules:
  - id: 1
    name: every kind of mistake
    sevrity: high
    severity: urgent
    cve: [CVE-21-1]
    ports: "90-80"
    match:
      - content: "abc"
        within: 2
      - content: ""
      - regex: 'a*'
      - regex: '(a'
      - content: "x"
        buffer: http.uri
      - content: "y"
        distance: -70000
  - id: 1
    name: duplicate
    severity: low
    match:
      - hex: "zz"
EOF

bad yaml <<'EOF'
format: 1
rules:
  - &r {id: 9, name: anchors, severity: low, match: [{content: "a"}], id: 10}
  - *r
  - [unclosed
EOF

bad test-fails <<'EOF'
format: 1
rules:
  - id: 11
    name: wrong test
    severity: low
    match:
      - content: "abc"
        negate: true
        depth: 8
    tests:
      - data: "xxabcxx"
        expect: match
EOF

# ------------------------------------------------------------------ scan scripts
# script TARGET NAME HEADER DATA: header and data with backslash escapes (\xHH).
script() {
  printf '%b%b' "$3" "$4" > "$corpus/$1/seed-$2"
}
# fuzz_scan header: flags, port index, 8 program bytes (see fuzz_scan.c).
# Programs: \x0f whole; \x01 byte by byte; \xcb 31 bytes then a 1-byte gap.
whole='\x0f\x0f\x0f\x0f\x0f\x0f\x0f\x0f'
bytes='\x01\x01\x01\x01\x01\x01\x01\x01'
mixed='\x07\x0b\x03\x0d\x01\x09\x05\x00'
gappy='\x0b\xcb\x07\xeb\x0f\x0f\x0f\x0f'
# shellcheck disable=SC2016  # ${jndi: is stream data, not an expansion
req='GET /index.html HTTP/1.1\r\nHost: a\r\nUser-Agent: () { :; }; id\r\nX-Q: ${jndi:ldap://x/a}\r\nX-Debug: 1\r\n\r\n'
resp='HTTP/1.1 200 OK\r\nContent-Type: application/java\r\n\r\n\xca\xfe\xba\xbe\x00\x00<html><script>alert(1)'
script fuzz_scan http-whole "\x00\x00$whole" "$req"
script fuzz_scan http-bytes "\x00\x02$bytes" "$req"
script fuzz_scan http-gaps "\x00\x00$gappy" "$req$req"
script fuzz_scan http-performance "\x04\x00$mixed" "$req"
script fuzz_scan http-detect-only "\x08\x00$mixed" "$req"
script fuzz_scan response "\x01\x00$mixed" "$resp"
script fuzz_scan response-all-rules "\x0d\x00$whole" "$resp"
script fuzz_scan abandoned "\x10\x00$mixed" "$req"
script fuzz_scan wsman "\x00\x06$mixed" 'POST /wsman HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n'
script fuzz_scan ftp "\x00\x05$mixed" 'USER aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nPASS x\r\n'
script fuzz_scan misc "\x00\x04$gappy" '\xca\xfe\xba\xbe....BEGIN..END.pass=1&user=2 abab alpha beta id=7;-- K..V login admin\x16\x03\x01'
script fuzz_scan dns "\x02\x03$whole" '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03foo\x00\x00\xff\x00\x01'
script fuzz_scan udp-datagrams "\x03\x04\x0c\x09\x0c\x09\x0c\x09\x0c\x09" 'PING............PING..PONG..'

# HTTP.  Pair scripts (flags bit 5): after the program, the length of the
# to_server part as two little-endian bytes, then both parts.
le16() { printf '\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8)); }
# gz TEXT [wbits]: TEXT compressed (31 gzip, 15 zlib "deflate", -15 raw deflate)
gz() {
  python3 -c 'import sys, zlib
c = zlib.compressobj(6, zlib.DEFLATED, int(sys.argv[2]))
sys.stdout.buffer.write(c.compress(sys.argv[1].encode()) + c.flush())' "$1" "${2:-31}"
}
hreq='POST /upload/../x/%2e%2e/etc/passwd HTTP/1.1\r\nHost: evil.example\r\nUser-Agent: sqlmap/1.5\r\nCookie: a=b; admin=1\r\nContent-Type: %{(#x)}\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\ncmd=\r\n6\r\nwhoami\r\n0\r\nX-Trailer: t\r\n\r\n'
hresp='HTTP/1.1 500 Oops\r\nServer: x\r\nContent-Length: 20\r\n\r\nroot:x:0:0:MARK:/ro'
# shellcheck disable=SC2016
anomalies='GET /a/%252e/%zz/%00/%c0%ae/../../../b HTTP/1.1\r\nHost: a\nX-Bad line\r\nContent-Length: 4\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n'
hreq_len=$(printf '%b' "$hreq" | wc -c)
script fuzz_scan http-pair "\x20\x00$mixed$(le16 "$hreq_len")" "$hreq$hresp"
script fuzz_scan http-pair-bytes "\x2c\x00$bytes$(le16 "$hreq_len")" "$hreq$hresp"
script fuzz_scan http-anomalies "\x0c\x00$mixed" "$anomalies"
script fuzz_scan http-pipelined "\x00\x00$gappy" 'GET /etc/passwd HTTP/1.1\r\nHost: a\r\n\r\nPUT /etc/passwd HTTP/1.0\r\nX-Fold:\r\n folded\r\n\r\nGET / HTTP/1.1\r\n\r\n'
script fuzz_scan http-response "\x01\x00$mixed" 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Error\r\nContent-Type: %{x}\r\nContent-Length: 10\r\n\r\nroot:x:0:0HTTP/1.0 200 OK\r\n\r\nuntil close root:y:0:0'
for enc in gzip deflate; do
  wbits=31
  [ "$enc" = deflate ] && wbits=15
  body=$(gz 'padding padding root:x:0:0:root:/root:/bin/bash MARK padding' $wbits | xxd -p | tr -d '\n' | sed 's/../\\x&/g')
  blen=$(gz 'padding padding root:x:0:0:root:/root:/bin/bash MARK padding' $wbits | wc -c)
  resp="HTTP/1.1 500 Oops\\r\\nServer: x\\r\\nContent-Encoding: $enc\\r\\nContent-Length: $blen\\r\\n\\r\\n$body"
  script fuzz_scan "http-$enc" "\x01\x00$mixed" "$resp"
  script fuzz_diff "rich-http-$enc" "\x03$mixed" "$resp"
done
script fuzz_scan http-bad-gzip "\x01\x00$whole" 'HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\x1f\x8b\x08\x00\x01\r\n0\r\n\r\n'
script fuzz_diff rich-http-request "\x01$mixed" "$hreq"
script fuzz_diff rich-http-anomalies "\x01$bytes" "$anomalies"

# fuzz_diff: byte 0 bit 0 = rich set (bits 4-7 port, bit 1 to_client), else a
# generated rule (bytes below), then 8 program bytes, then data.
script fuzz_diff rich-http "\x01$gappy" "$req"
script fuzz_diff rich-response "\x03$mixed" "$resp"
script fuzz_diff rich-misc "\x41$bytes" '\xca\xfe\xba\xbe....BEGIN..END.pass=1&user=2 abab alpha beta id=7;-- K..V'
# one content "ab"
script fuzz_diff content "\x00\x00\x00\x09$mixed" 'aabababbab\nbaab'
# service: http, one content "ab", the stream starts with "GET " (rule head
# bit 4, start index in bits 5-7), "HEAD<tab>", "GET" (not recognised)
script fuzz_diff service-get "\x00\x30\x00\x09$mixed" 'aabababbab\nbaab'
script fuzz_diff service-head "\x00\x50\x00\x09$gappy" 'bbabaabbbaab'
script fuzz_diff service-unrecognised "\x00\x70\x00\x09$bytes" 'abab'
script fuzz_diff rich-service "\x01$mixed" 'GET /x/CMD.EXE HTTP/1.1\r\nHost: a\r\n\r\n'
script fuzz_diff rich-flowbits "\x01$bytes" 'secret LOGIN xx secret LOGOUT secret'
script fuzz_diff rich-byte-test "\x01$mixed" '\xca\xfe\x00\x00\x01\x00..END\x80'
# "ab", then "ba" at distance -4 within 6
script fuzz_diff negative-distance "\x00\x01\x00\x09\xc0\x05\x08\x05$gappy" 'bbabaabbbaababababbbbbaaaaabab'
# "ab", then no "a" within 11 bytes after it
script fuzz_diff relative-negation "\x00\x01\x00\x09\x84\x00\x0a$mixed" 'abbbbbbbbbbbbbbbbbbabab'
# regex a+b, and no "bb" in [2, 12]
script fuzz_diff absolute-negation "\x00\x01\x03\x00\x34\x0d\x02\x09$bytes" 'aaab\nabbabaaaaab'
# hex "\na", then "b" at distance 0 within 3
script fuzz_diff hex-within "\x00\x01\x02\x09\xc0\x04\x0c\x02$gappy" 'x\nab\na.b\naab'
# four conditions, direction any: "ab" offset 1 depth 12, "b" distance -1
# within 2, regex ab|ba flags i, no "aa"
script fuzz_diff four-conditions "\x00\x0b\x30\x09\x01\x0b\xc0\x04\x0b\x01\x03\x41\x04\x01$mixed" 'babbaABbab\nBAb'
# udp rule with a regex and a relative content
script fuzz_diff udp "\x00\x05\x03\x01\xc0\x00\x0c\x05$whole" 'abbaab'

# ------------------------------------------------------------------ report
for t in fuzz_bundle fuzz_compile fuzz_scan fuzz_diff; do
  n=$(find "$corpus/$t" -name 'seed-*' | wc -l)
  big=$(find "$corpus/$t" -name 'seed-*' -size +4k | wc -l)
  echo "make_seeds: $t: $n seed(s), $big over 4 KiB"
done
