#!/usr/bin/env python3
"""Markdown table of bench_vs_llama.sh runs in one file, one per CPU level: lines after a "# ... phase A"
line are the default levels (ours as detected, llama.cpp built with GGML_NATIVE=ON), lines after
"# ... phase B" the AVX2 level (ours with MOBILELLM_CPU=avx2, llama.cpp built for AVX2 only), and, when present,
lines after "# ... phase C" the AVX-VNNI level (ours with MOBILELLM_CPU=avxvnni, the same AVX2-only llama.cpp).
For decode rows it adds the share of the measured read bandwidth: t/s x GGUF bytes (what one token reads, to
first order) / bandwidth of that many threads.
Usage: bench_levels_table.py OUTPUT.txt MODEL_DIR read_GBps_1_thread read_GBps_2_threads"""
import collections
import os
import sys

out, mdir, bw1, bw2 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
phase = None
vals = collections.OrderedDict()
for line in open(out):
    if line.startswith('#'):
        for ph in 'ABC':
            if 'phase ' + ph in line: phase = ph
        if line.startswith('# ') and 'phase P' in line: phase = None  # many-sequence lines: another table
        continue
    f = line.split()
    if phase is None or len(f) < 5 or f[0] not in ('ours', 'llama'): continue
    key = (f[1], int(f[2]), f[3])
    vals.setdefault(key, {})[(phase, f[0])] = float(f[4])
def name(m):
    s = m.replace('.gguf', '').replace('-llamacpp', '').split('-')
    return s[0] + ' ' + s[1].upper()
phases = [ph for ph in 'ABC' if any((ph, 'ours') in v for v in vals.values())]
TITLES = {'A': 'default: ours | llama.cpp native | ratio', 'B': 'AVX2: ours | llama.cpp AVX2 | ratio',
          'C': 'AVX-VNNI: ours | llama.cpp AVX2 | ratio'}
print('| model | threads | test | %s | decode, share of read bandwidth (%s) |'
      % (' | '.join(TITLES[ph] for ph in phases), ' / '.join({'A': 'default', 'B': 'AVX2', 'C': 'AVX-VNNI'}[ph] for ph in phases)))
print('|---|---:|---|' + '---:|---:|---:|' * len(phases) + '---|')
for (m, t, test), v in vals.items():
    cells = []
    for ph in phases:
        o, l = v.get((ph, 'ours')), v.get((ph, 'llama'))
        cells += ['%.1f' % o if o else '', '%.1f' % l if l else '', ('**%.2f**' if o and l and o / l >= 1 else '%.2f') % (o / l) if o and l else '']
    roof = ''
    if test.startswith('tg'):
        size = os.path.getsize(os.path.join(mdir, m)) / 1e9
        bw = bw2 if t == 2 else bw1
        parts = ['%.2f' % (v[(ph, 'ours')] * size / bw) if (ph, 'ours') in v else '-' for ph in phases]
        roof = ' / '.join(parts)
    print('| %s | %d | %s | %s | %s |' % (name(m), t, test, ' | '.join(cells), roof))
