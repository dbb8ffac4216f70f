"""Every symbol a shared library exports is a declared public function, and
every public function is exported (nothing leaks, nothing is missing)."""
import re
import subprocess
import sys


def declared(headers):
    names = set()
    for h in headers:
        text = open(h).read()
        names.update(re.findall(r"VP_API\s+[^;(]*?\b(vp_\w+)\s*\(", text, re.S))
    return names


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True,
                         check=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TtDdBbRrVvWwi":
            name = parts[2].split("@")[0]
            if not name.startswith("VPATCH"):
                syms.add(name)
    return syms


def main():
    lib, headers = sys.argv[1], sys.argv[2:]
    want, have = declared(headers), exported(lib)
    leaked, missing = sorted(have - want), sorted(want - have)
    print(f"{lib}: {len(have)} exported, {len(want)} declared")
    if leaked:
        print("exported but not declared:", " ".join(leaked))
    if missing:
        print("declared but not exported:", " ".join(missing))
    return 1 if leaked or missing else 0


if __name__ == "__main__":
    sys.exit(main())
