#!/usr/bin/env python3
"""Trains mobilellm4j's demo model: a deep-and-thin MobileLLM-architecture model on Debian's
licence texts (reference/corpus, MPL-2.0 held out), and writes under --out:

  models/demo/hf/            Hugging Face folder (hub-style MobileLLM config.json,
                             model.safetensors in bf16 without lm_head, tokenizer.model,
                             tokenizer_config.json)
  models/demo/reference.json greedy continuations etc. computed in float64 on the CPU by
                             transformers from the saved bf16 weights
  models/demo/MODEL_CARD.md  the model card, filled in with this run's numbers

Needs a CUDA GPU; see reference/README.md.
"""
import argparse
import hashlib
import math
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refcommon as rc  # noqa: E402

DEMO = dict(vocab=2048, dim=192, n_head=3, n_kv=1, ffn=512)
DEMO_LAYERS = 12
PROMPTS = [
    "This program is free software",
    "Redistribution and use in source and binary forms",
    "The licensee may",
]
GREEDY_TOKENS = 48
PPL_CTX = 256


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def model_card(ref, args):
    ppl = ref["perplexity"]
    tr = ref["training"]
    lines = [
        "# mobilellm4j demo model",
        "",
        "A tiny language model with the MobileLLM architecture, trained for a few minutes on the",
        "licence texts that Debian ships in `/usr/share/common-licenses`. It exists to demonstrate",
        "and test mobilellm4j end to end (conversion to GGUF, quantisation, generation) with a",
        "model small enough to live in the repository. **It is not a useful assistant**: it knows",
        "nothing but licence boilerplate, mostly recites it, and has no instruction tuning or",
        "safety training.",
        "",
        "## Architecture",
        "",
        "MobileLLM / Llama block: pre-norm RMSNorm (eps 1e-5), RoPE (theta 10000), grouped-query",
        "attention, SwiGLU feed-forward, no biases, input and output embeddings shared.",
        "",
        "| | |",
        "|---|---|",
        "| layers | %d (no layer sharing) |" % DEMO_LAYERS,
        "| width | %d |" % DEMO["dim"],
        "| attention heads | %d of %d dims |" % (DEMO["n_head"], DEMO["dim"] // DEMO["n_head"]),
        "| key/value heads | %d |" % DEMO["n_kv"],
        "| feed-forward | %d |" % DEMO["ffn"],
        "| vocabulary | %d (SentencePiece BPE, byte fallback) |" % DEMO["vocab"],
        "| parameters | %d |" % tr["parameters"],
        "| weights | bf16, `hf/model.safetensors` (no `lm_head`: shared embedding) |",
        "",
        "## Data",
        "",
        "The %d licence texts of Debian's base-files package copied into `reference/corpus/`"
        % len(rc.training_files()),
        "(duplicates removed), except `%s`, which is held out for the perplexity below and was"
        % rc.HELDOUT_REL,
        "never trained on. The tokenizer (vocabulary %d; LLaMA-like settings: identity"
        % DEMO["vocab"],
        "normalisation, dummy prefix, whitespace kept, digits split, byte fallback; ids unk 0,",
        "bos 1, eos 2) was trained on the same texts. Training stream: %d tokens." % tr["tokens"],
        "",
        "## Training",
        "",
        "%d steps of batch %d x %d tokens, AdamW (betas 0.9/0.95, weight decay %.2g), peak"
        % (tr["steps"], tr["batch"], tr["seq"], tr["weight_decay"]),
        "learning rate %.2g with %d warm-up steps and cosine decay to 10%%, bf16 autocast, on one"
        % (tr["lr"], tr["warmup"]),
        "NVIDIA H200: %.0f s. Loss (nats/token): %.3f at step %d, %.3f at the end; the unigram"
        % (tr["seconds"], tr["loss_curve"][0][1], tr["loss_curve"][0][0], tr["loss_curve"][-1][1]),
        "entropy of the stream is %.3f. With 5M parameters and 59k training tokens the model"
        % tr["unigram_entropy_nats"],
        "memorises its corpus: it recites the licences well, and generalises poorly (see the",
        "held-out perplexity below, worse than a unigram model's exp(%.2f) = %.0f)."
        % (tr["unigram_entropy_nats"], math.exp(tr["unigram_entropy_nats"])),
        "",
        "## Evaluation",
        "",
        "Perplexity on the held-out `%s`, MobileLLM eval.py method (one BOS, the text" % ppl["text"],
        "tokenised once, non-overlapping windows of %d tokens, the last partial window dropped,"
        % ppl["ctx"],
        "mean cross-entropy over positions 1..%d of each window), computed in float64 on the CPU by"
        % (ppl["ctx"] - 1),
        "Hugging Face transformers from the saved bf16 weights: **%.2f** (%d windows, %d tokens"
        % (ppl["perplexity"], ppl["windows"], ppl["scored_tokens"]),
        "scored of %d)." % ppl["total_tokens"],
        "",
        "Greedy decoding, %d new tokens (`reference.json`; prompt and continuation decoded"
        % GREEDY_TOKENS,
        "together, the prompt in bold; smallest top-2 logit margin of the %d steps in brackets):"
        % GREEDY_TOKENS,
        "",
    ]
    for p in ref["prompts"]:
        full = p["full_text"]
        assert full.startswith(p["text"])
        cont = full[len(p["text"]):].replace("\n", " / ")
        lines.append("- **%s**%s [%.3f]" % (p["text"], cont, min(p["greedy_top2_margins"])))
    lines += [
        "",
        "## Files",
        "",
        "- `hf/`: the Hugging Face checkpoint (hub-style MobileLLM `config.json`: `model_type`",
        "  `mobilellm`, `share_embedding` true, `layer_sharing` false).",
        "- `reference.json`: prompts, their ids (BOS + ids), greedy continuations with the top-2",
        "  logit margin of every step, decoded texts, the perplexity, the training summary.",
        "",
        "## Regenerating",
        "",
        "`reference/train_demo.py` (see `reference/README.md` for the exact commands). Seeds",
        "are fixed, but GPU training is not bit-reproducible; `reference.json` always matches the",
        "weights it was computed from (their SHA-256 is recorded).",
        "",
        "## Licence",
        "",
        "The training data are licence texts whose licences allow verbatim copies (each text",
        "states its own terms). The model is a test artefact of mobilellm4j.",
        "",
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", required=True, help="output root (repository layout below it)")
    rc.add_training_args(ap, steps=4000, lr=2e-3, warmup=200, seed=4242)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import numpy as np
    import torch
    import transformers
    from safetensors.torch import save_file
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    out = os.path.abspath(args.out)
    demo_dir = os.path.join(out, "models", "demo")
    hf_dir = os.path.join(demo_dir, "hf")
    os.makedirs(hf_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="demo-")

    rc.log("training demo tokenizer (vocab %d)" % DEMO["vocab"])
    sp_path = rc.train_sentencepiece(os.path.join(tmp, "demo-bpe"), DEMO["vocab"],
                                     rc.training_files())
    sp = rc.load_sp(sp_path)
    ids = rc.training_stream(sp)
    stream = torch.tensor(ids, dtype=torch.long, device="cuda")

    cfg = rc.llama_config(n_layers=DEMO_LAYERS, tie=True, attn="sdpa", **DEMO)
    model = rc.new_llama(cfg).to("cuda")
    n_params = sum(p.numel() for p in model.parameters())
    rc.log("demo: %d parameters, attn %s" % (n_params, cfg._attn_implementation))
    curve, secs = rc.train_lm(model, stream, steps=args.steps, batch=args.batch, seq=args.seq,
                              lr=args.lr, warmup=min(args.warmup, args.steps // 5 + 1),
                              weight_decay=args.weight_decay, seed=args.seed + 1, bf16=True,
                              log_every=50, tag="demo")
    end_loss = rc.eval_stream_loss(model, stream, args.seq, 32, args.seed + 2, bf16=True)
    uni = rc.unigram_entropy(stream)
    rc.log("demo: train-stream loss %.4f vs unigram %.4f (%.1fs)" % (end_loss, uni, secs))
    state = rc.export_state(model, DEMO_LAYERS, 1)
    del model

    rc.write_plain_json(os.path.join(hf_dir, "config.json"), rc.hub_config(
        n_stored=DEMO_LAYERS, layer_sharing=False, dtype="bfloat16",
        tf_version=transformers.__version__, **DEMO))
    save_file(rc.cast_state(state, torch.bfloat16), os.path.join(hf_dir, "model.safetensors"),
              metadata={"format": "pt"})
    rc.write_tokenizer_files(hf_dir, sp_path)
    rc.log("saved %s" % sorted(os.listdir(hf_dir)))

    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(args.threads)
    ref_model, info = rc.load_reference_model(hf_dir)
    sp = rc.load_sp(os.path.join(hf_dir, "tokenizer.model"))
    prompts = []
    for text in PROMPTS:
        pids = [rc.BOS_ID] + [int(i) for i in sp.encode(text)]
        cont, margins = rc.greedy(ref_model, pids, GREEDY_TOKENS)
        prompts.append({"text": text, "ids": pids, "greedy_ids": cont,
                        "greedy_top2_margins": margins, "greedy_text": sp.decode(cont),
                        "full_text": sp.decode(pids[1:] + cont)})
        rc.log("demo greedy: %r -> %r" % (text, prompts[-1]["greedy_text"]))
    held = rc.read_text(rc.heldout_path())
    ppl = rc.perplexity(ref_model, [rc.BOS_ID] + [int(i) for i in sp.encode(held)], PPL_CTX)
    ppl = {"text": rc.HELDOUT_REL,
           "method": "MobileLLM eval.py: one BOS, the text tokenised once, non-overlapping windows "
                     "of ctx tokens, last partial window dropped, mean cross-entropy of positions "
                     "1..ctx-1 of every window (natural log); perplexity = exp(mean_nll)", **ppl}
    rc.log("demo held-out perplexity %.3f" % ppl["perplexity"])
    step_of = max(1, len(curve) // 20)
    ref = {
        "model": "mobilellm4j demo",
        "checkpoint": "models/demo/hf",
        "generator": "reference/train_demo.py",
        "computed": "transformers LlamaForCausalLM, float64 on CPU, eager attention, from the "
                    "saved bf16 weights; greedy = argmax over the full recomputed sequence, EOS "
                    "not special",
        "versions": rc.versions(),
        "weights_sha256": {"model.safetensors": sha256(os.path.join(hf_dir, "model.safetensors"))},
        "architecture": info,
        "bos_id": rc.BOS_ID,
        "greedy_tokens": GREEDY_TOKENS,
        "prompts": prompts,
        "perplexity": ppl,
        "training": {
            "corpus": "reference/corpus/* except " + rc.HELDOUT_REL,
            "tokens": len(ids), "parameters": n_params, "steps": args.steps,
            "batch": args.batch, "seq": args.seq, "lr": args.lr, "warmup": args.warmup,
            "weight_decay": args.weight_decay, "schedule": "linear warm-up, cosine to 10%",
            "optimizer": "AdamW betas (0.9, 0.95), grad clip 1.0", "precision": "bf16 autocast",
            "seed": args.seed, "seconds": round(secs, 2), "device": torch.cuda.get_device_name(0),
            "train_stream_loss_end": end_loss, "unigram_entropy_nats": uni,
            "loss_curve": curve[::step_of] + ([curve[-1]] if (len(curve) - 1) % step_of else []),
        },
    }
    rc.write_json(os.path.join(demo_dir, "reference.json"), ref)
    with open(os.path.join(demo_dir, "MODEL_CARD.md"), "w", encoding="utf-8") as f:
        f.write(model_card(ref, args))
    rc.log("done")


if __name__ == "__main__":
    main()
