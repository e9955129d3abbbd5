"""Runs EleutherAI's lm-evaluation-harness (v0.4.12, HFLM with transformers) on the evaluation items of
testdata/eval/data for the repository's reference checkpoints and a 125M-shaped synthetic one, and
writes what the Java tests compare against (see README.md beside this file).

Runs on the device machine (torch, transformers, tokenizers, sentencepiece, safetensors, pyarrow, pandas
installed; lm_eval, datasets, dill and multiprocess unpacked from stage_harness.sh's tarball onto
PYTHONPATH). Nothing here runs in CI.

The harness runs as its CLI would with
    lm_eval --model hf --model_args pretrained=DIR,dtype=float32 --include_path TASKS \
            --tasks mllm_arc_easy,... --batch_size 64 --device cuda --log_samples
through its Python entry point simple_evaluate (same code path: registry model creation from the
argument string, TaskManager with the include path, zero-shot defaults), so that the LM object stays at
hand for recording its tokenization (HFLM._encode_pair) of every request. The custom task YAMLs only
`include` the harness's own task YAML and point its splits at a local JSON Lines file.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TASKS = {  # our name: harness task YAML (relative to lm_eval/tasks)
    "arc_challenge": "arc/arc_challenge.yaml",
    "arc_easy": "arc/arc_easy.yaml",
    "boolq": "super_glue/boolq/default.yaml",
    "hellaswag": "hellaswag/hellaswag.yaml",
    "openbookqa": "openbookqa/openbookqa.yaml",
    "piqa": "piqa/piqa.yaml",
    "siqa": "siqa/siqa.yaml",
    "winogrande": "winogrande/default.yaml",
}
PREFIXES = (10, 25, 50, 100)  # metrics of the first K docs too (what --limit K gives)
T0 = time.time()
_TASK_MANAGER = []


def task_manager(task_dir):
    """One TaskManager (indexing the harness's task folder takes seconds)."""
    if not _TASK_MANAGER:
        from lm_eval.tasks import TaskManager
        _TASK_MANAGER.append(TaskManager(include_path=task_dir))
    return _TASK_MANAGER[0]


def log(*a):
    print("%7.1fs" % (time.time() - T0), *a, flush=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def dump(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def versions():
    import importlib.metadata as md
    import platform
    out = {"python": platform.python_version()}
    for p in ("torch", "transformers", "tokenizers", "sentencepiece", "safetensors", "numpy", "datasets", "pyarrow",
              "pandas", "lm_eval", "fsspec", "huggingface_hub", "dill", "multiprocess", "jinja2"):
        try:
            out[p] = md.version(p)
        except Exception as e:  # noqa: BLE001
            out[p] = "missing (%s)" % type(e).__name__
    return out


def write_task_yamls(folder, data_dir, lm_eval_dir):
    os.makedirs(folder, exist_ok=True)
    for name, rel in TASKS.items():
        data = os.path.join(data_dir, name + ".jsonl")
        with open(os.path.join(folder, "mllm_%s.yaml" % name), "w") as f:
            f.write("include: %s\n" % os.path.join(lm_eval_dir, "tasks", rel))
            f.write("task: mllm_%s\n" % name)
            f.write("dataset_path: json\ndataset_name: null\n")
            f.write("dataset_kwargs:\n  data_files:\n")
            for split in ("train", "validation", "test"):
                f.write("    %s: %s\n" % (split, data))


def llama_folders(repo, work, tokenizer_125m):
    """Each reference checkpoint as a plain Llama folder in float32 (refcommon's mapping of hub-style
    configs, layer sharing expanded), the weights exactly the stored bf16/f16/f32 values."""
    import torch
    import refcommon
    import synth_weights
    sources = {n: os.path.join(repo, "testdata", "checkpoints", n) for n in
               ("llama-f32", "llama-sharded-bf16-lmhead", "mobilellm-bin-bf16", "mobilellm-ls-f16")}
    sources["demo"] = os.path.join(repo, "models", "demo", "hf")
    synth = os.path.join(work, "synth-125m-hub")
    synth_weights.write_checkpoint("125M", synth, tokenizer_125m)
    sources["synth-125m"] = synth
    out = {}
    for name, src in sources.items():
        model, info = refcommon.load_reference_model(src)
        dst = os.path.join(work, "llama", name)
        model.to(torch.float32).save_pretrained(dst)
        refcommon.write_tokenizer_files(dst, os.path.join(src, "tokenizer.model"))
        weights = sorted(f for f in os.listdir(src) if f.endswith((".safetensors", ".bin")))
        out[name] = {"dir": dst, "source": os.path.relpath(src, repo) if name != "synth-125m" else
                     "mobilellm synth --shape 125M (seed 1)",
                     "weights_sha256": {f: sha256(os.path.join(src, f)) for f in weights},
                     "architecture": info}
        log("prepared", name, info["stored_dtypes"], "layers", len(info["applied_blocks"]))
        del model
    return out


def request_table(samples):
    """Per doc (in doc order): the unique contexts and, per request, [context index, continuation]."""
    docs = []
    for s in sorted(samples, key=lambda s: s["doc_id"]):
        contexts, reqs = [], []
        for ctx, cont in s["arguments"]:
            if ctx not in contexts:
                contexts.append(ctx)
            reqs.append([contexts.index(ctx), cont])
        docs.append({"contexts": contexts, "requests": reqs})
    return docs


def token_table(lm, table):
    """HFLM's own encoding of every request: context tokens per unique context and continuation tokens."""
    out = []
    for d in table:
        ctx_ids, conts = [], []
        for ci, cont in d["requests"]:
            c, k = lm._encode_pair(d["contexts"][ci], cont)
            while len(ctx_ids) <= ci:
                ctx_ids.append(None)
            assert ctx_ids[ci] is None or ctx_ids[ci] == c, "context encodes differently between requests"
            ctx_ids[ci] = c
            conts.append(k)
        out.append({"contexts": ctx_ids, "continuations": conts})
    return out


def spm_differences(tokenizer_model, tables, tokens):
    """Where sentencepiece itself (BOS + encode) differs from HFLM's tokens of context+continuation."""
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=tokenizer_model)
    diffs = []
    for task, table in tables.items():
        for i, (d, t) in enumerate(zip(table, tokens[task])):
            for r, (ci, cont) in enumerate(d["requests"]):
                ctx = d["contexts"][ci]
                n = len(ctx) - len(ctx.rstrip())
                if n:
                    ctx, cont = ctx[:-n], ctx[-n:] + cont
                whole = [1] + sp.encode(ctx + cont)
                hf = t["contexts"][ci] + t["continuations"][r]
                if whole != hf:
                    diffs.append({"task": task, "doc": i, "request": r, "spm": whole, "hf": hf})
    return diffs


def metrics_of(res, n_docs):
    m = {"n": n_docs}
    for key in ("acc", "acc_stderr", "acc_norm", "acc_norm_stderr"):
        v = res.get(key + ",none")
        if v is not None:
            m[key] = v
    return m


def prefix_metrics(samples):
    """The harness's own aggregation (mean, mean_stderr) over the first K docs, as --limit K reports."""
    from lm_eval.api.metrics import mean, mean_stderr
    docs = sorted(samples, key=lambda s: s["doc_id"])
    out = {}
    for k in PREFIXES:
        if k > len(docs):
            continue
        part = docs[:k]
        m = {"n": k}
        for key in ("acc", "acc_norm"):
            if key in part[0]:
                vals = [s[key] for s in part]
                m[key] = mean(vals)
                m[key + "_stderr"] = mean_stderr(vals)
        out[str(k)] = m
    return out


def run_harness(models, task_dir, out_dir, batch_size, device):
    import lm_eval
    from lm_eval.api.registry import get_model
    tm = task_manager(task_dir)
    names = ["mllm_" + t for t in TASKS]
    tables, tokens_by_tokenizer = {}, {}
    for name, m in models.items():
        t = time.time()
        lm = get_model("hf").create_from_arg_string("pretrained=%s,dtype=float32" % m["dir"],
                                                    {"batch_size": batch_size, "device": device})
        res = lm_eval.simple_evaluate(model=lm, tasks=names, task_manager=tm, log_samples=True)
        record = {"model": name, "source": m["source"], "weights_sha256": m["weights_sha256"],
                  "harness": "lm-evaluation-harness %s, HFLM (model_args dtype=float32), batch_size %s, %s"
                             % (lm_eval.__version__, batch_size, device),
                  "tasks": {}}
        tok_key = sha256(os.path.join(m["dir"], "tokenizer.model"))
        for task in TASKS:
            samples = res["samples"]["mllm_" + task]
            docs = sorted(samples, key=lambda s: s["doc_id"])
            table = request_table(samples)
            if task in tables:
                assert tables[task] == table, "requests differ between models for " + task
            tables[task] = table
            entry = metrics_of(res["results"]["mllm_" + task], len(docs))
            entry["prefixes"] = prefix_metrics(samples)
            entry["ll"] = [[r[0][0] for r in s["resps"]] for s in docs]
            entry["greedy"] = [[bool(r[0][1]) for r in s["resps"]] for s in docs]
            record["tasks"][task] = entry
        if tok_key not in tokens_by_tokenizer:
            tokens_by_tokenizer[tok_key] = {"models": [], "tasks": {t: token_table(lm, tables[t]) for t in TASKS},
                                            "tokenizer_model": os.path.join(m["dir"], "tokenizer.model")}
        tokens_by_tokenizer[tok_key]["models"].append(name)
        dump(os.path.join(out_dir, "results", name + ".json"), record)
        summary = {t: round(record["tasks"][t]["acc"], 4) for t in TASKS}
        log("harness", name, "%.1fs" % (time.time() - t), summary)
        del lm
    dump(os.path.join(out_dir, "requests.json"), tables)
    for key, v in tokens_by_tokenizer.items():
        diffs = spm_differences(v["tokenizer_model"], tables, v["tasks"])
        log("tokenizer of", v["models"], "HF vs sentencepiece differences:", len(diffs))
        dump(os.path.join(out_dir, "tokens", v["models"][0] + ".json"),
             {"models": v["models"], "tokenizer_sha256": key, "tasks": v["tasks"], "spm_differences": diffs[:50]})
    return tables


def limit_check(models, task_dir, batch_size, device, out_dir):
    """A real --limit 10 run on one model: its metrics must equal prefix_metrics' K = 10."""
    import lm_eval
    from lm_eval.api.registry import get_model
    name = "llama-f32"
    lm = get_model("hf").create_from_arg_string("pretrained=%s,dtype=float32" % models[name]["dir"],
                                                {"batch_size": batch_size, "device": device})
    res = lm_eval.simple_evaluate(model=lm, tasks=["mllm_" + t for t in TASKS], limit=10,
                                  task_manager=task_manager(task_dir))
    with open(os.path.join(out_dir, "results", name + ".json")) as f:
        full = json.load(f)
    bad = []
    for t in TASKS:
        got = metrics_of(res["results"]["mllm_" + t], 10)
        want = full["tasks"][t]["prefixes"]["10"]
        if got != want:
            bad.append((t, got, want))
    log("limit 10 vs prefix metrics:", "identical" if not bad else bad)


def parquet_files(data_dir, out_dir):
    """Each task's items written as Parquet by datasets (snappy, as the Hub's files)."""
    import datasets
    for t in TASKS:
        ds = datasets.Dataset.from_json(os.path.join(data_dir, t + ".jsonl"))
        os.makedirs(os.path.join(out_dir, "parquet"), exist_ok=True)
        ds.to_parquet(os.path.join(out_dir, "parquet", t + ".parquet"))
    log("parquet written", sorted(os.listdir(os.path.join(out_dir, "parquet"))))


def bench(work, task_dir, tokenizer_model, out_dir, plan):
    """Items/s of the harness with transformers on this machine's CPU (float32, batch size 1 as the
    harness's default) on HellaSwag items, for the 125M and 350M shapes."""
    import lm_eval
    import torch
    from lm_eval.api.registry import get_model
    import refcommon
    import synth_weights
    tm = task_manager(task_dir)
    rows = []
    for shape, threads, n in plan:
        if time.time() - T0 > BUDGET_S:
            log("bench: out of time, skipping", shape, threads)
            continue
        dst = os.path.join(work, "llama", "synth-" + shape.lower())
        if not os.path.isdir(dst):
            hub = os.path.join(work, "synth-%s-hub" % shape.lower())
            if not os.path.isdir(hub):
                synth_weights.write_checkpoint(shape, hub, tokenizer_model)
            model, _ = refcommon.load_reference_model(hub)
            model.to(torch.float32).save_pretrained(dst)
            refcommon.write_tokenizer_files(dst, tokenizer_model)
            del model
        torch.set_num_threads(threads)
        lm = get_model("hf").create_from_arg_string("pretrained=%s,dtype=float32" % dst,
                                                    {"batch_size": 1, "device": "cpu"})
        lm_eval.simple_evaluate(model=lm, tasks=["mllm_hellaswag"], limit=1, task_manager=tm)  # warm-up
        t = time.time()
        lm_eval.simple_evaluate(model=lm, tasks=["mllm_hellaswag"], limit=n, task_manager=tm)
        s = time.time() - t
        rows.append({"shape": shape, "threads": threads, "items": n, "seconds": s, "items_per_second": n / s,
                     "cpu": cpu_name(), "cores": os.cpu_count()})
        log("bench", rows[-1])
        dump(os.path.join(out_dir, "bench.json"), rows)
        del lm


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def pack(out_dir, dest):
    if dest:
        with tarfile.open(os.path.join(dest, "harness.tgz"), "w:gz") as tf:
            tf.add(out_dir, arcname="harness")


BUDGET_S = 400


def main():
    global BUDGET_S
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True, help="repository root (checkpoints, reference/refcommon.py)")
    ap.add_argument("--data", required=True, help="folder of <task>.jsonl")
    ap.add_argument("--tokenizer-125m", required=True, help="tokenizer.model of `mobilellm synth --shape 125M`")
    ap.add_argument("--work", default="/tmp/evalwork")
    ap.add_argument("--out", default="/tmp/evalout")
    ap.add_argument("--dest", default=os.environ.get("OUT"), help="where harness.tgz goes")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--budget", type=float, default=400, help="seconds; later stages are skipped past it")
    ap.add_argument("--stages", default="parity,limit,parquet,bench")
    ap.add_argument("--bench-plan", default="125M:16:24,350M:16:12,125M:2:8,350M:2:4",
                    help="SHAPE:THREADS:ITEMS,... for the bench stage")
    args = ap.parse_args()
    BUDGET_S = args.budget
    sys.path[:0] = [os.path.join(args.repo, "reference"), HERE]  # refcommon, synth_weights
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    import lm_eval
    lm_eval_dir = os.path.dirname(lm_eval.__file__)
    v = versions()
    log("versions", v)
    dump(os.path.join(args.out, "versions.json"), v)
    task_dir = os.path.join(args.work, "tasks")
    write_task_yamls(task_dir, args.data, lm_eval_dir)
    stages = args.stages.split(",")
    models = None
    for stage in stages:
        if time.time() - T0 > BUDGET_S and stage != "parity":
            log("out of time, skipping", stage)
            continue
        try:
            if stage == "parity":
                models = llama_folders(args.repo, args.work, args.tokenizer_125m)
                run_harness(models, task_dir, args.out, args.batch_size, args.device)
            elif stage == "limit":
                limit_check(models, task_dir, args.batch_size, args.device, args.out)
            elif stage == "parquet":
                parquet_files(args.data, args.out)
            elif stage == "bench":
                plan = [(s, int(t), int(n)) for s, t, n in (p.split(":") for p in args.bench_plan.split(","))]
                bench(args.work, task_dir, args.tokenizer_125m, args.out, plan)
        except Exception:  # noqa: BLE001 - report and go on with the next stage
            import traceback
            traceback.print_exc()
            log("stage failed:", stage)
        pack(args.out, args.dest)
    log("done")


if __name__ == "__main__":
    main()
