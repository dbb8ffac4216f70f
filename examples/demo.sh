#!/usr/bin/env bash
# End-to-end demo: compile the example rules, generate sample streams, scan
# each one with vpscan in 7-byte chunks and compare the outcome with what the
# sample is meant to show; then generate sample captures (examples/gen_pcaps.py:
# full TCP conversations with reordering, retransmission, overlaps, lost
# segments, IPv6, VLANs, UDP and several link types), scan each one with
# `vpscan --pcap` and compare the events with the capture's manifest.
#
# usage: examples/demo.sh [BUILD_DIR]      (default: build)
#
# Exit status: 0 when every sample behaved as its manifest says, 1 when at
# least one did not (or a tool failed).
set -euo pipefail

build=${1:-build}
if [ ! -d "$build" ]; then
    echo "demo: build directory '$build' not found (configure with: meson setup $build)" >&2
    exit 1
fi
build=$(cd "$build" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-python3}

rulec="$build/rulec/rulec"
vpscan="$build/examples/vpscan"
for tool in "$rulec" "$vpscan"; do
    if [ ! -x "$tool" ]; then
        echo "demo: $tool is missing; build first: ninja -C $build" >&2
        exit 1
    fi
done

out="$build/demo"
bundle="$out/rules.vpb"
samples="$out/samples"
pcaps="$out/pcaps"
mkdir -p "$out"

echo "== compiling examples/rules/*.yaml"
"$rulec" compile -o "$bundle" "$root"/examples/rules/*.yaml
"$rulec" inspect "$bundle"

echo
echo "== generating samples into $samples"
rm -rf "$samples"
"$python" "$root/examples/gen_samples.py" "$samples"

total=0
with_events=0
wrong=0
failed=()
{
    read -r _header    # file proto port direction expect
    while IFS=$'\t' read -r file proto port direction expect; do
        [ -n "$file" ] || continue
        total=$((total + 1))
        echo
        echo "== $file ($proto port $port, $direction, expect $expect)"
        # vpscan's one-line summary goes to stderr; keep it for failures only.
        if ! events=$("$vpscan" -b "$bundle" --stream "$samples/$file" --port "$port" \
                          --direction "$direction" --proto "$proto" --chunk 7 \
                          </dev/null 2>"$out/vpscan.err"); then
            cat "$out/vpscan.err" >&2
            echo "   vpscan failed"
            wrong=$((wrong + 1))
            failed+=("$file")
            continue
        fi
        if [ -n "$events" ]; then
            printf '%s\n' "$events"
            with_events=$((with_events + 1))
            got=match
        else
            echo "   (no events)"
            got=nomatch
        fi
        if [ "$got" != "$expect" ]; then
            echo "   UNEXPECTED: expected $expect"
            wrong=$((wrong + 1))
            failed+=("$file")
        fi
    done
} < "$samples/samples.tsv"
rm -f "$out/vpscan.err"

echo
echo "== generating captures into $pcaps"
rm -rf "$pcaps"
"$python" "$root/examples/gen_pcaps.py" "$pcaps"

ptotal=0
pwith=0
{
    read -r _header    # file events note
    while IFS=$'\t' read -r file expect note; do
        [ -n "$file" ] || continue
        ptotal=$((ptotal + 1))
        echo
        echo "== vpscan --pcap $file ($note; expect: $expect)"
        if ! events=$("$vpscan" -b "$bundle" --pcap "$pcaps/$file" </dev/null \
                          2>"$out/vpscan.err"); then
            cat "$out/vpscan.err" >&2
            echo "   vpscan failed"
            wrong=$((wrong + 1))
            failed+=("$file")
            continue
        fi
        if [ -n "$events" ]; then
            printf '%s\n' "$events"
            pwith=$((pwith + 1))
        else
            echo "   (no events)"
        fi
        sed 's/^/   /' "$out/vpscan.err"
        # The rule ids of the events, sorted, comma-separated ("-" for none).
        got=$(printf '%s\n' "$events" | sed -n 's/.*"rule_id":\([0-9]*\).*/\1/p' | sort -n |
              paste -sd, -)
        got=${got:--}
        if [ "$got" != "$expect" ]; then
            echo "   UNEXPECTED: got $got"
            wrong=$((wrong + 1))
            failed+=("$file")
        fi
    done
} < "$pcaps/pcaps.tsv"
rm -f "$out/vpscan.err"

echo
if [ "$wrong" -eq 0 ]; then
    echo "demo: $total samples, $with_events with events; $ptotal captures, $pwith with events; all as expected"
else
    echo "demo: $total samples, $with_events with events; $ptotal captures, $pwith with events; $wrong unexpected: ${failed[*]}"
    exit 1
fi
