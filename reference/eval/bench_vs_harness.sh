#!/usr/bin/env bash
# bench_vs_harness.sh: items/s of `mobilellm eval` and of lm-evaluation-harness (HFLM with transformers,
# float32, batch size 1: its defaults) on the same HellaSwag items of testdata/eval/data, on this machine's
# CPU with the same number of threads, taken one after the other in every round so that both see the same
# machine. Prints each reading, then the medians and their ratio per shape.
#
#   PYTHON=/path/to/python reference/eval/bench_vs_harness.sh [ROUNDS] [THREADS]
#
# PYTHON (default python3) needs lm_eval 0.4.x, torch, transformers, sentencepiece and protobuf. The models
# are `mobilellm synth` checkpoints of the 125M and 350M shapes: the harness runs them as transformers
# float32 checkpoints (harness_reference.py --stages bench), mobilellm eval as Q8_0 files converted from
# them. WORK (default /tmp/mllm-eval-bench) keeps the checkpoints between runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-3} threads=${2:-2}
python=${PYTHON:-python3}
work=${WORK:-/tmp/mllm-eval-bench}
data="$root/testdata/eval/data"
harness_items=(40 20) ours_items=200 shapes=(125M 350M)
mkdir -p "$work"

for s in "${shapes[@]}"; do
    [ -d "$work/hf-$s" ] || "$root/mobilellm" synth --shape "$s" -o "$work/hf-$s"
    [ -f "$work/$s-q8_0.gguf" ] || "$root/mobilellm" convert "$work/hf-$s" -o "$work/$s-q8_0.gguf" --type q8_0
done

log="$work/readings.tsv"
printf 'round\ttool\tshape\titems_per_second\n' >"$log"
for r in $(seq 1 "$rounds"); do
    plan="125M:$threads:${harness_items[0]},350M:$threads:${harness_items[1]}"
    "$python" "$root/reference/eval/harness_reference.py" --repo "$root" --data "$data" \
        --tokenizer-125m "$work/hf-125M/tokenizer.model" --work "$work/harness" --out "$work/harness-out" --dest "" \
        --device cpu --stages bench --budget 100000 --bench-plan "$plan" >"$work/harness-$r.log" 2>&1
    "$python" -c 'import json, sys
for row in json.load(open(sys.argv[1])):
    print("%s\tharness\t%s\t%.4f" % (sys.argv[2], row["shape"], row["items_per_second"]))' \
        "$work/harness-out/bench.json" "$r" | tee -a "$log"
    for s in "${shapes[@]}"; do
        line=$("$root/mobilellm" eval -m "$work/$s-q8_0.gguf" -t "$threads" --task hellaswag --data "$data" \
            --limit "$ours_items" --json 2>&1 >/dev/null | grep -o '[0-9.]* items/s' | tail -n 1)
        [ -n "$line" ] || { echo "bench_vs_harness.sh: mobilellm eval printed no rate for $s" >&2; exit 1; }
        printf '%s\tmobilellm\t%s\t%s\n' "$r" "$s" "${line% items/s}" | tee -a "$log"
    done
done

"$python" - "$log" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
print("\nshape  mobilellm eval (items/s)  harness (items/s)  ratio (medians)")
for shape in sorted({r["shape"] for r in rows}):
    med = {t: statistics.median(float(r["items_per_second"]) for r in rows if r["shape"] == shape and r["tool"] == t)
           for t in ("mobilellm", "harness")}
    print("%-6s %24.2f %18.3f %7.1fx" % (shape, med["mobilellm"], med["harness"], med["mobilellm"] / med["harness"]))
EOF
