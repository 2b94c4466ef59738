#!/usr/bin/env python3
"""Per-file coverage totals from a Verilator coverage file (make coverage, scripts/coverage.sh).

Usage: coverage_table.py MERGED.dat [--root DIR] [--min-line PCT] [--waivers FILE]

Reads the points verilator_coverage wrote (one `C '<key/value pairs>' <count>` line each) and
prints, per RTL file under DIR/rtl (default: the current directory), how many line, branch and
toggle points were hit, merged over every instance of a module (a point counts as hit when
any instance hit it). Line and branch points on a line the waiver file lists (default
DIR/scripts/coverage_waivers.txt: "<file>:<line> <reason>") that no run hit are left out of the
totals and counted in a column of their own; a waived point that was hit counts as hit. With
--min-line, exits 1 when a file's line coverage is below PCT.
Exit status 2 on a bad command line or a file that is not Verilator coverage data.
"""
import argparse
import collections
import os
import sys

KINDS = ("line", "branch", "toggle")


def parse_point(text):
    """The key/value fields of one point: \\x01 before each key, \\x02 between key and value."""
    fields = {}
    for part in text.split("\x01"):
        if "\x02" in part:
            k, v = part.split("\x02", 1)
            fields[k] = v
    return fields


def kind_of(page):
    for k in KINDS:
        if page.startswith("v_" + k):
            return k
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dat")
    ap.add_argument("--root", default=".")
    ap.add_argument("--min-line", type=float, default=None)
    ap.add_argument("--waivers", default=None)
    args = ap.parse_args()

    try:
        lines = open(args.dat, encoding="latin-1").read().splitlines()
    except OSError as e:
        print(f"coverage_table.py: {e}", file=sys.stderr)
        return 2
    if not lines or not lines[0].startswith("# SystemC::Coverage"):
        print(f"coverage_table.py: {args.dat}: not a Verilator coverage file", file=sys.stderr)
        return 2

    waivers = {}
    waiver_file = args.waivers or os.path.join(args.root, "scripts", "coverage_waivers.txt")
    if args.waivers or os.path.exists(waiver_file):
        try:
            for n, raw in enumerate(open(waiver_file, encoding="utf-8"), 1):
                text = raw.strip()
                if not text or text.startswith("#"):
                    continue
                loc, _, reason = text.partition(" ")
                path, _, line = loc.rpartition(":")
                if not path or not line.isdigit() or not reason.strip():
                    print(f"coverage_table.py: {waiver_file}:{n}: want '<file>:<line> <reason>'",
                          file=sys.stderr)
                    return 2
                waivers[(os.path.normpath(path), line)] = reason.strip()
        except OSError as e:
            print(f"coverage_table.py: {e}", file=sys.stderr)
            return 2

    # (file, kind) -> {point key without the hierarchy: hit?}
    points = collections.defaultdict(dict)
    for ln in lines[1:]:
        if not ln.startswith("C '"):
            continue
        end = ln.rfind("'")
        fields = parse_point(ln[3:end])
        count = int(ln[end + 1:].strip() or 0)
        kind = kind_of(fields.get("page", ""))
        f = fields.get("f", "")
        if kind is None or not f:
            continue
        rel = os.path.relpath(os.path.realpath(f), os.path.realpath(args.root))
        if not rel.startswith("rtl" + os.sep):
            continue
        key = (fields.get("l", ""), fields.get("n", ""), fields.get("o", ""), fields.get("S", ""))
        d = points[(rel, kind)]
        d[key] = d.get(key, False) or count > 0

    # Waived points no run hit leave the totals.
    waived = collections.Counter()
    for (f, kind), d in points.items():
        if kind == "toggle":
            continue
        for key in [k for k, hit in d.items() if not hit and (f, k[0]) in waivers]:
            del d[key]
            waived[f] += 1

    files = sorted({f for f, _ in points})
    if not files:
        print(f"coverage_table.py: {args.dat}: no points under {args.root}/rtl", file=sys.stderr)
        return 2

    def cell(f, kind):
        d = points.get((f, kind), {})
        if not d:
            return "-", None
        hit = sum(d.values())
        pct = 100.0 * hit / len(d)
        return f"{pct:6.2f}% {hit:5d}/{len(d):<5d}", pct

    width = max(len(f) for f in files)
    print(f"{'file':{width}s}  {'line':>18s}  {'branch':>18s}  {'toggle':>18s}  waived")
    totals = {k: [0, 0] for k in KINDS}
    low = []
    for f in files:
        row = []
        for k in KINDS:
            text, pct = cell(f, k)
            row.append(f"{text:>18s}")
            d = points.get((f, k), {})
            totals[k][0] += sum(d.values())
            totals[k][1] += len(d)
            if k == "line" and pct is not None and args.min_line is not None and pct < args.min_line:
                low.append((f, pct))
        print(f"{f:{width}s}  " + "  ".join(row) + (f"  {waived[f]:6d}" if waived[f] else ""))
    tot = []
    for k in KINDS:
        h, n = totals[k]
        tot.append(f"{(100.0 * h / n if n else 0):6.2f}% {h:5d}/{n:<5d}" if n else "-")
    print(f"{'all of rtl/':{width}s}  " + "  ".join(f"{t:>18s}" for t in tot) +
          f"  {sum(waived.values()):6d}")
    if low:
        for f, pct in low:
            print(f"coverage: {f}: line coverage {pct:.2f}% is below {args.min_line}%",
                  file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
