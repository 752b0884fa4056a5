#!/usr/bin/env python3
"""Prints criterion's time estimates as a markdown table of lab/baseline ratios.

Usage: benches/ratios.py GROUP [GROUP...]  (reads target/criterion/GROUP/*/*/new/estimates.json)
Within a group, every benchmark id `NAME/PARAM` is compared with the baseline
of the same PARAM (the first of `crossbeam`, `rayon`, `plain` found).
"""
import json, pathlib, sys

root = pathlib.Path("target/criterion")
for group in sys.argv[1:]:
    times = {}
    for est in sorted((root / group).glob("*/*/new/estimates.json")):
        name, param = est.parts[-4], est.parts[-3]
        data = json.loads(est.read_text())
        # What criterion prints: the slope when it has one, else the mean.
        times[(name, param)] = (data.get("slope") or data["mean"])["point_estimate"]
    print(f"\n### {group}\n\n| case | variant | time per iteration | ratio to baseline |\n|---|---|---|---|")
    for param in sorted({p for _, p in times}):
        base = next((times[(b, param)] for b in ("crossbeam", "rayon", "plain") if (b, param) in times), None)
        for (name, p), t in sorted(times.items()):
            if p != param:
                continue
            ratio = f"{t / base:.2f}x" if base else "-"
            print(f"| {param} | {name} | {t / 1e6:.2f} ms | {ratio} |")
