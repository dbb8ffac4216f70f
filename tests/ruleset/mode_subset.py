"""Copies the endpoint rule files keeping only the rules of one mode.

    python3 tests/ruleset/mode_subset.py performance OUT_DIR [SET_DIR]

The library scans one Hyperscan database per buffer that holds the patterns
of every rule in the bundle, whatever the engine's mode; a bundle compiled
from the performance rules alone shows what a performance-only database
would scan at (docs/ruleset.md, "Performance and security mode").

Standard library only; works on the block-style files of the set (each rule
starts with "  - id:" and has a "    modes: [...]" line).
"""
import glob
import os
import re
import sys


def main(argv):
    if len(argv) not in (2, 3) or argv[0] not in ("performance", "security"):
        sys.stderr.write(__doc__)
        return 2
    mode, out = argv[0], argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    src = argv[2] if len(argv) == 3 else os.path.join(here, "..", "..", "examples", "rulesets", "endpoint")
    os.makedirs(out, exist_ok=True)
    kept = total = 0
    for path in sorted(glob.glob(os.path.join(src, "*.yaml"))):
        text = open(path, encoding="utf-8").read()
        head, rest = text.split("\nrules:\n", 1)
        blocks = re.split(r"(?m)^(?=  - id: )", rest)
        keep = []
        for b in blocks:
            if not b.startswith("  - id: "):
                keep.append(b)
                continue
            total += 1
            m = re.search(r"(?m)^    modes: \[([^\]]*)\]", b)
            modes = [x.strip() for x in m.group(1).split(",")] if m else ["security"]
            if mode in modes:
                keep.append(b)
                kept += 1
        with open(os.path.join(out, os.path.basename(path)), "w", encoding="utf-8") as f:
            f.write(head + "\nrules:\n" + "".join(keep))
    print("%d of %d rules in %s mode written to %s" % (kept, total, mode, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
