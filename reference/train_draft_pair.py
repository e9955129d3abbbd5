#!/usr/bin/env python3
"""Trains a draft/target pair for measuring speculative decoding on models that really agree:
a 2-layer draft and a 14-layer target, both of the MobileLLM-125M width and block, on
Debian's licence texts (reference/corpus, MPL-2.0 held out) with the demo model's tokenizer
(models/demo/hf/tokenizer.model, vocabulary 2048), so they share a vocabulary. Writes under --out:

  draft/        Hugging Face folder (hub-style MobileLLM config.json, bf16 safetensors)
  target/       the same for the target
  prompts.txt   one prompt per line: the first words of paragraphs of the held-out text
  pair.json     shapes, parameter counts, training summaries, library versions

The weights are not committed (the target is about 100 MB); convert them with
`mobilellm convert` and measure with the JMH module's SpeculativePair (docs/performance.md).
Needs a CUDA GPU; about a minute on one NVIDIA H200.
"""
import argparse
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refcommon as rc  # noqa: E402

# the MobileLLM-125M block (width 576, 9 heads of 64, 3 key/value heads, SwiGLU 1536), demo vocabulary
BLOCK = dict(vocab=2048, dim=576, n_head=9, n_kv=3, ffn=1536)
SHAPES = {"draft": 2, "target": 14}
PROMPT_WORDS = 10
N_PROMPTS = 12


def heldout_prompts(text, n, words):
    """The first `words` words of the first n paragraphs of at least 2 * words words (headings and
    short definitions skipped), whitespace collapsed."""
    out = []
    for para in re.split(r"\n\s*\n", text):
        w = para.split()
        if len(w) >= 2 * words:
            out.append(" ".join(w[:words]))
        if len(out) == n:
            break
    assert len(out) == n, len(out)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", required=True)
    rc.add_training_args(ap, steps=1500, lr=1e-3, warmup=150, seed=2026)
    args = ap.parse_args()
    import numpy as np
    import torch
    import transformers
    from safetensors.torch import save_file
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    sp_path = os.path.join(rc.REPO, "models", "demo", "hf", "tokenizer.model")
    sp = rc.load_sp(sp_path)
    assert sp.get_piece_size() == BLOCK["vocab"], sp.get_piece_size()
    ids = rc.training_stream(sp)
    stream = torch.tensor(ids, dtype=torch.long, device="cuda")

    summary = {"generator": "reference/train_draft_pair.py", "versions": rc.versions(),
               "tokenizer": "models/demo/hf/tokenizer.model", "corpus": "reference/corpus/* except " + rc.HELDOUT_REL,
               "tokens": len(ids), "block": BLOCK, "models": {}}
    for name, layers in SHAPES.items():
        torch.manual_seed(args.seed + layers)
        cfg = rc.llama_config(n_layers=layers, tie=True, attn="sdpa", **BLOCK)
        model = rc.new_llama(cfg).to("cuda")
        n_params = sum(p.numel() for p in model.parameters())
        rc.log("%s: %d layers, %d parameters" % (name, layers, n_params))
        curve, secs = rc.train_lm(model, stream, steps=args.steps, batch=args.batch, seq=args.seq, lr=args.lr,
                                  warmup=args.warmup, weight_decay=args.weight_decay, seed=args.seed + 1,
                                  bf16=True, log_every=50, tag=name)
        held = [rc.BOS_ID] + sp.encode(rc.read_text(rc.heldout_path()))
        held_loss = rc.eval_stream_loss(model, torch.tensor(held, device="cuda"), args.seq, 16, args.seed + 2, bf16=True)
        train_loss = rc.eval_stream_loss(model, stream, args.seq, 32, args.seed + 2, bf16=True)
        rc.log("%s: train loss %.4f, held-out loss %.4f (%.1fs)" % (name, train_loss, held_loss, secs))
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        rc.write_plain_json(os.path.join(folder, "config.json"), rc.hub_config(
            n_stored=layers, layer_sharing=False, dtype="bfloat16", tf_version=transformers.__version__, **BLOCK))
        save_file(rc.cast_state(rc.export_state(model, layers, 1), torch.bfloat16),
                  os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
        rc.write_tokenizer_files(folder, sp_path)
        summary["models"][name] = {
            "layers": layers, "parameters": n_params, "steps": args.steps, "batch": args.batch, "seq": args.seq,
            "lr": args.lr, "warmup": args.warmup, "weight_decay": args.weight_decay, "seconds": round(secs, 1),
            "train_loss": round(train_loss, 4), "heldout_loss": round(held_loss, 4),
            "loss_curve": curve[:: max(1, len(curve) // 10)], "device": torch.cuda.get_device_name(0)}
        del model
        torch.cuda.empty_cache()
    prompts = heldout_prompts(rc.read_text(rc.heldout_path()), N_PROMPTS, PROMPT_WORDS)
    with open(os.path.join(out, "prompts.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(prompts) + "\n")
    summary["prompts"] = {"file": "prompts.txt", "source": rc.HELDOUT_REL, "words": PROMPT_WORDS, "count": len(prompts)}
    rc.write_json(os.path.join(out, "pair.json"), summary)
    rc.log("done")


if __name__ == "__main__":
    main()
