#!/usr/bin/env python3
"""Markdown table from bench_vs_llama.sh output: per (model, threads, test) the median over rounds of
ours and of llama-bench, their ratio, the per-round ratios and, for decode, the fraction of a
bandwidth roofline (t/s x GGUF bytes / bandwidth; GGUF bytes = what one token reads, to first order).
Usage: bench_table.py OUTPUT.txt MODEL_DIR [nominal_GBps [measured_1t_GBps measured_2t_GBps]]"""
import os
import statistics
import sys
from collections import defaultdict

out, mdir = sys.argv[1], sys.argv[2]
nominal_bw = float(sys.argv[3]) if len(sys.argv) > 3 else 22.7
meas = {1: float(sys.argv[4]), 2: float(sys.argv[5])} if len(sys.argv) > 5 else None
vals = defaultdict(lambda: {"ours": [], "llama": []})
order = []
for line in open(out):
    f = line.split()
    if len(f) < 5 or f[0] not in ("ours", "llama"):
        continue
    key = (f[1], int(f[2]), f[3])
    if key not in vals:
        order.append(key)
    vals[key][f[0]].append(float(f[4]))

hdr = "| model | threads | test | ours t/s | llama.cpp t/s | ratio | per round | roofline (nominal %.1f GB/s)" % nominal_bw
hdr += " | roofline (measured) |" if meas else " |"
print(hdr)
print("|---|---:|---|---:|---:|---:|---|---:|" + ("---:|" if meas else ""))
for key in order:
    m, t, test = key
    o, l = vals[key]["ours"], vals[key]["llama"]
    if not o or not l:
        continue
    om, lm = statistics.median(o), statistics.median(l)
    per = " ".join("%.2f" % (a / b) for a, b in zip(o, l))
    roof = meas_s = ""
    if test.startswith("tg"):
        size = os.path.getsize(os.path.join(mdir, m))
        roof = "%.2f" % (om * size / nominal_bw / 1e9)
        if meas:
            meas_s = "%.2f" % (om * size / meas[t] / 1e9)
    name = m.replace("mobilellm-", "").replace(".gguf", "")
    row = "| %s | %d | %s | %.0f | %.0f | **%.2f** | %s | %s |" % (name, t, test, om, lm, om / lm, per, roof)
    print(row + (" %s |" % meas_s if meas else ""))
