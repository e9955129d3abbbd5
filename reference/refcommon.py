"""Helpers shared by make_reference.py and train_demo.py.

Both scripts need torch, transformers, safetensors, sentencepiece and tokenizers. Heavy imports happen inside the functions so that the pure-Python parts (corpus
listing, SentencePiece protobuf writer, JSON writer) can be used and tested anywhere.
"""
import json
import math
import os
import re
import shutil
import struct
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS_DIR = os.path.join(REPO, "reference", "corpus")
HELDOUT_NAME = "MPL-2.0"
HELDOUT_REL = "reference/corpus/" + HELDOUT_NAME

BOS_ID = 1
EOS_ID = 2


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)


# ------------------------------------------------------------------------------------------------
# Corpus
# ------------------------------------------------------------------------------------------------
def corpus_names():
    return sorted(n for n in os.listdir(CORPUS_DIR)
                  if not n.startswith(".") and not n.endswith(".md")
                  and os.path.isfile(os.path.join(CORPUS_DIR, n)))


def training_files():
    """Absolute paths of the training texts: every corpus text except the held-out one."""
    names = [n for n in corpus_names() if n != HELDOUT_NAME]
    assert len(names) >= 5, names
    return [os.path.join(CORPUS_DIR, n) for n in names]


def heldout_path():
    return os.path.join(CORPUS_DIR, HELDOUT_NAME)


def read_text(path):
    with open(path, "r", encoding="utf-8") as f:
        return f.read()


# ------------------------------------------------------------------------------------------------
# SentencePiece
# ------------------------------------------------------------------------------------------------
def train_sentencepiece(model_prefix, vocab_size, files):
    """Trains a LLaMA-like SentencePiece BPE model; writes model_prefix + '.model' / '.vocab'."""
    import sentencepiece as spm
    if hasattr(spm, "set_random_generator_seed"):
        spm.set_random_generator_seed(20261128)
    spm.SentencePieceTrainer.train(
        input=",".join(files),
        model_prefix=model_prefix,
        model_type="bpe",
        vocab_size=vocab_size,
        byte_fallback=True,
        add_dummy_prefix=True,
        remove_extra_whitespaces=False,
        split_digits=True,
        normalization_rule_name="identity",
        allow_whitespace_only_pieces=True,
        character_coverage=0.9995,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        num_threads=1,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        max_sentence_length=16384,
        max_sentencepiece_length=16,
        hard_vocab_limit=True,
        minloglevel=1,
    )
    return model_prefix + ".model"


def load_sp(path=None, proto=None):
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor()
    if proto is not None:
        sp.LoadFromSerializedProto(proto)
    else:
        sp.Load(path)
    return sp


# Hand-written protobuf serialisation of sentencepiece's ModelProto (sentencepiece_model.proto):
#   ModelProto: 1 pieces (repeated SentencePiece), 2 trainer_spec, 3 normalizer_spec
#   SentencePiece: 1 piece (string), 2 score (float), 3 type (enum: 1 NORMAL, 2 UNKNOWN,
#                  3 CONTROL, 4 USER_DEFINED, 5 UNUSED, 6 BYTE)
#   TrainerSpec / NormalizerSpec field numbers as used below.
def _pb_varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _pb_key(field, wire):
    return _pb_varint((field << 3) | wire)


def _pb_int(field, v):
    return _pb_key(field, 0) + _pb_varint(int(v))


def _pb_bool(field, v):
    return _pb_int(field, 1 if v else 0)


def _pb_bytes(field, b):
    return _pb_key(field, 2) + _pb_varint(len(b)) + b


def _pb_str(field, s):
    return _pb_bytes(field, s.encode("utf-8"))


def _pb_float(field, x):
    return _pb_key(field, 5) + struct.pack("<f", float(x))


def sentencepiece_proto(pieces, vocab_size, character_coverage=0.99995):
    """pieces: list of (piece, score, type). Returns serialised ModelProto bytes of a LLaMA-style
    BPE model (identity normalisation, dummy prefix, no whitespace removal, byte fallback)."""
    out = bytearray()
    for piece, score, ptype in pieces:
        body = _pb_str(1, piece) + _pb_float(2, score) + _pb_int(3, ptype)
        out += _pb_bytes(1, body)
    trainer = b"".join([
        _pb_int(3, 2),                  # model_type = BPE
        _pb_int(4, vocab_size),         # vocab_size
        _pb_float(10, character_coverage),
        _pb_int(20, 16),                # max_sentencepiece_length
        _pb_bool(21, True),             # split_by_unicode_script
        _pb_bool(22, True),             # split_by_whitespace
        _pb_bool(23, True),             # split_by_number
        _pb_bool(24, False),            # treat_whitespace_as_suffix
        _pb_bool(25, True),             # split_digits
        _pb_bool(26, True),             # allow_whitespace_only_pieces
        _pb_bool(35, True),             # byte_fallback
        _pb_int(40, 0),                 # unk_id
        _pb_int(41, 1),                 # bos_id
        _pb_int(42, 2),                 # eos_id
        _pb_int(43, -1),                # pad_id
        _pb_str(44, " \u2047 "),        # unk_surface
        _pb_str(45, "<unk>"),
        _pb_str(46, "<s>"),
        _pb_str(47, "</s>"),
        _pb_str(48, "<pad>"),
    ])
    out += _pb_bytes(2, trainer)
    normalizer = b"".join([
        _pb_str(1, "identity"),
        _pb_bytes(2, b""),              # precompiled_charsmap: none
        _pb_bool(3, True),              # add_dummy_prefix
        _pb_bool(4, False),             # remove_extra_whitespaces
        _pb_bool(5, True),              # escape_whitespaces
    ])
    out += _pb_bytes(3, normalizer)
    return bytes(out)


_BYTE_RE = re.compile(r"^<0x[0-9A-F]{2}>$")


def pieces_from_hf_tokenizer_json(tj):
    """Builds (piece, score, type) triples from a Hugging Face tokenizer.json of a LLaMA BPE
    tokenizer. tokenizer.json carries no scores; the merge order is the priority, so a piece made
    by merges gets score -(rank of the first merge that produces it); pieces that no merge makes
    (single characters) get -(n_merges + id), they never take part in a merge."""
    model = tj["model"]
    assert model["type"] == "BPE", model["type"]
    vocab = model["vocab"]
    merges = model["merges"]
    inv = {i: p for p, i in vocab.items()}
    n = len(inv)
    assert sorted(inv) == list(range(n)), "vocab ids are not dense"
    first_rank = {}
    for rank, m in enumerate(merges):
        a, b = (m.split(" ", 1) if isinstance(m, str) else m)
        merged = vocab.get(a + b)
        assert merged is not None, m
        first_rank.setdefault(merged, rank)
    special = {}
    for t in tj.get("added_tokens", []):
        special[t["id"]] = t["content"]
    pieces = []
    for i in range(n):
        p = inv[i]
        if p == "<unk>" or (model.get("unk_token") == p):
            pieces.append((p, 0.0, 2))
        elif i in special or p in ("<s>", "</s>"):
            pieces.append((p, 0.0, 3))
        elif _BYTE_RE.match(p):
            pieces.append((p, 0.0, 6))
        elif i in first_rank:
            pieces.append((p, -float(first_rank[i]), 1))
        else:
            pieces.append((p, -float(len(merges) + i), 1))
    return pieces


# ------------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------------
def _dumps(o, ind):
    pad = " " * ind
    if isinstance(o, dict):
        if not o:
            return "{}"
        items = [pad + " " + json.dumps(str(k), ensure_ascii=False) + ": " + _dumps(v, ind + 1)
                 for k, v in o.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(o, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in o):
            return json.dumps(list(o), ensure_ascii=False, allow_nan=False)
        items = [pad + " " + _dumps(v, ind + 1) for v in o]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(o, ensure_ascii=False, allow_nan=False)


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(_dumps(obj, 0))
        f.write("\n")


def write_plain_json(path, obj):
    """Config-like files: ordinary indented JSON (as Hugging Face writes them)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False, allow_nan=False)
        f.write("\n")


# ------------------------------------------------------------------------------------------------
# Models (torch / transformers)
# ------------------------------------------------------------------------------------------------
def llama_config(vocab, dim, n_head, n_kv, ffn, n_layers, tie=True, attn="eager"):
    from transformers import LlamaConfig
    cfg = LlamaConfig(
        vocab_size=vocab, hidden_size=dim, intermediate_size=ffn, num_hidden_layers=n_layers,
        num_attention_heads=n_head, num_key_value_heads=n_kv, head_dim=dim // n_head,
        max_position_embeddings=2048, rms_norm_eps=1e-5, hidden_act="silu",
        initializer_range=0.02, attention_bias=False, attention_dropout=0.0, mlp_bias=False,
        tie_word_embeddings=tie, bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=None,
        use_cache=False, attn_implementation=attn,
    )
    try:
        cfg._attn_implementation = attn
    except Exception:
        pass
    return cfg


def new_llama(cfg):
    import torch
    from transformers import LlamaForCausalLM
    model = LlamaForCausalLM(cfg)
    # RoPE must be theta = 1e4 over the head dimension.
    hd = cfg.hidden_size // cfg.num_attention_heads
    inv = getattr(getattr(model.model, "rotary_emb", None), "inv_freq", None)
    if inv is None:
        log("WARNING: no model.model.rotary_emb.inv_freq; RoPE theta not checked")
    else:
        inv = inv.detach().double().cpu()
        want = 1.0 / (10000.0 ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        assert torch.allclose(inv, want, rtol=1e-6, atol=0), (inv[:4], want[:4])
    return model


LAYER_KEYS = [
    "input_layernorm.weight", "post_attention_layernorm.weight",
    "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
    "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight",
]


def share_layers(model, repeat):
    """Makes applications r*j .. r*j+r-1 use the same module (layer sharing for training)."""
    layers = model.model.layers
    for i in range(len(layers)):
        if i % repeat:
            layers[i] = layers[i - i % repeat]


def export_state(model, n_stored, repeat):
    """float32 CPU state dict of the stored blocks (HF names), without lm_head."""
    sd = model.state_dict()
    out = {"model.embed_tokens.weight": sd["model.embed_tokens.weight"]}
    for j in range(n_stored):
        for k in LAYER_KEYS:
            out["model.layers.%d.%s" % (j, k)] = sd["model.layers.%d.%s" % (j * repeat, k)]
    out["model.norm.weight"] = sd["model.norm.weight"]
    for k in sd:
        if k == "lm_head.weight" or k.startswith("model.layers."):
            continue
        assert k in out, "unexpected tensor " + k
    return {k: v.detach().float().cpu().contiguous().clone() for k, v in out.items()}


def unigram_entropy(stream):
    import torch
    counts = torch.bincount(stream.cpu()).double()
    p = counts[counts > 0] / counts.sum()
    return float(-(p * p.log()).sum())


def training_stream(sp):
    """The training texts tokenised by sp, each after a BOS: the ids, as a list."""
    ids = []
    for path in training_files():
        ids.append(BOS_ID)
        ids.extend(sp.encode(read_text(path)))
    log("training stream: %d tokens" % len(ids))
    return ids


def add_training_args(ap, steps, lr, warmup, seed):
    """The training options train_lm takes (--steps, --batch, --seq, --lr, --warmup, --weight-decay,
    --seed), with a script's own defaults."""
    ap.add_argument("--steps", type=int, default=steps)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--lr", type=float, default=lr)
    ap.add_argument("--warmup", type=int, default=warmup)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=seed)


def train_lm(model, stream, steps, batch, seq, lr, warmup, weight_decay, seed, bf16=False,
             log_every=50, tag="model"):
    """Trains on random windows of the token stream (1-D LongTensor on the GPU). Half the rows
    of each batch get BOS written at position 0 so the model also learns 'BOS + mid-text'."""
    import torch
    import torch.nn.functional as F
    dev = stream.device
    g = torch.Generator(device="cpu")
    g.manual_seed(seed)
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if p.dim() >= 2 else no_decay).append(p)
    opt_kw = dict(lr=lr, betas=(0.9, 0.95), eps=1e-8)
    if dev.type == "cuda":
        opt_kw["fused"] = True
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], **opt_kw)
    n = stream.numel()
    ar = torch.arange(seq, device=dev)
    V = model.config.vocab_size
    curve = []
    pending = []
    model.train()
    t0 = time.time()
    for step in range(steps):
        if step < warmup:
            f = (step + 1) / warmup
        else:
            prog = (step - warmup) / max(1, steps - warmup)
            f = 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * prog))
        for grp in opt.param_groups:
            grp["lr"] = lr * f
        starts = torch.randint(0, n - seq, (batch,), generator=g).to(dev)
        x = stream[starts[:, None] + ar[None, :]]
        x[: batch // 2, 0] = BOS_ID
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=bf16):
            logits = model(input_ids=x, use_cache=False).logits
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V).float(), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        pending.append(loss.detach())
        if (step + 1) % log_every == 0 or step == steps - 1:
            m = float(torch.stack(pending).mean())
            pending = []
            curve.append([step + 1, round(m, 4)])
            if len(curve) % 10 == 1 or step == steps - 1:
                log("%s step %d/%d loss %.4f lr %.2e %.1fs" % (tag, step + 1, steps, m, lr * f,
                                                              time.time() - t0))
    if dev.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.time() - t0
    model.eval()
    return curve, seconds


def eval_stream_loss(model, stream, seq, n_windows, seed, bf16=False):
    import torch
    import torch.nn.functional as F
    g = torch.Generator(device="cpu")
    g.manual_seed(seed)
    dev = stream.device
    starts = torch.randint(0, stream.numel() - seq, (n_windows,), generator=g).to(dev)
    x = stream[starts[:, None] + torch.arange(seq, device=dev)[None, :]]
    with torch.no_grad(), torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(input_ids=x, use_cache=False).logits
    V = model.config.vocab_size
    return float(F.cross_entropy(logits[:, :-1].reshape(-1, V).float(), x[:, 1:].reshape(-1)))


# ------------------------------------------------------------------------------------------------
# Checkpoint writing
# ------------------------------------------------------------------------------------------------
def hub_config(vocab, dim, n_head, n_kv, ffn, n_stored, layer_sharing, dtype, tf_version):
    """config.json in the style of the facebook/MobileLLM-* Hugging Face hub repositories."""
    return {
        "architectures": ["MobileLLMForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": BOS_ID,
        "eos_token_id": EOS_ID,
        "hidden_act": "silu",
        "hidden_size": dim,
        "initializer_range": 0.02,
        "intermediate_size": ffn,
        "layer_sharing": bool(layer_sharing),
        "max_position_embeddings": 2048,
        "mlp_bias": False,
        "model_type": "mobilellm",
        "num_attention_heads": n_head,
        "num_hidden_layers": n_stored,
        "num_key_value_heads": n_kv,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": None,
        "rope_theta": 10000.0,
        "share_embedding": True,
        "tie_word_embeddings": False,
        "torch_dtype": dtype,
        "transformers_version": tf_version,
        "use_cache": True,
        "vocab_size": vocab,
    }


def github_config(vocab, dim, n_head, n_kv, ffn, n_stored, dtype, tf_version):
    """config.json in the style of the MobileLLM GitHub code (plain Llama + share_embedding)."""
    c = hub_config(vocab, dim, n_head, n_kv, ffn, n_stored, False, dtype, tf_version)
    c["architectures"] = ["LlamaForCausalLM"]
    c["model_type"] = "llama"
    return c


def write_tokenizer_files(folder, sp_model_path, max_len=2048):
    os.makedirs(folder, exist_ok=True)
    shutil.copyfile(sp_model_path, os.path.join(folder, "tokenizer.model"))
    write_plain_json(os.path.join(folder, "tokenizer_config.json"), {
        "add_bos_token": True,
        "add_eos_token": False,
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": None,
        "clean_up_tokenization_spaces": False,
        "legacy": True,
        "model_max_length": max_len,
        "sp_model_kwargs": {},
        "tokenizer_class": "LlamaTokenizer",
    })


def cast_state(state, dtype):
    return {k: v.to(dtype).contiguous().clone() for k, v in state.items()}


# ------------------------------------------------------------------------------------------------
# Loading a saved folder back (for the float64 references)
# ------------------------------------------------------------------------------------------------
def read_folder_tensors(folder):
    import torch
    from safetensors.torch import load_file
    files = os.listdir(folder)
    if "model.safetensors.index.json" in files:
        with open(os.path.join(folder, "model.safetensors.index.json")) as f:
            idx = json.load(f)
        out = {}
        for shard in sorted(set(idx["weight_map"].values())):
            part = load_file(os.path.join(folder, shard))
            for k, v in part.items():
                assert idx["weight_map"][k] == shard, k
                out[k] = v
        assert set(out) == set(idx["weight_map"]), "index and shards disagree"
        return out
    if "model.safetensors" in files:
        return load_file(os.path.join(folder, "model.safetensors"))
    if "pytorch_model.bin" in files:
        return torch.load(os.path.join(folder, "pytorch_model.bin"), map_location="cpu",
                          weights_only=True)
    raise FileNotFoundError("no weights in " + folder)


def load_reference_model(folder):
    """float64 CPU LlamaForCausalLM (eager attention) from a saved folder of any of our styles.
    Returns (model, info)."""
    import torch
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    tensors = read_folder_tensors(folder)
    ls = bool(cfg.get("layer_sharing", False))
    rep = 2 if ls else 1
    n_stored = int(cfg["num_hidden_layers"])
    theta = cfg.get("rope_theta")
    if theta is None:
        theta = (cfg.get("rope_parameters") or {}).get("rope_theta", 10000.0)
    assert float(theta) == 10000.0, theta
    assert abs(float(cfg["rms_norm_eps"]) - 1e-5) < 1e-12
    has_head = "lm_head.weight" in tensors
    dims = dict(vocab=int(cfg["vocab_size"]), dim=int(cfg["hidden_size"]),
                n_head=int(cfg["num_attention_heads"]), n_kv=int(cfg["num_key_value_heads"]),
                ffn=int(cfg["intermediate_size"]))
    lcfg = llama_config(n_layers=n_stored * rep, tie=not has_head, attn="eager", **dims)
    model = new_llama(lcfg).to(torch.float64)
    sd = {}
    stored_dtypes = sorted(set(str(v.dtype).replace("torch.", "") for v in tensors.values()))
    for name, t in tensors.items():
        t64 = t.to(torch.float64)
        if name.startswith("model.layers."):
            parts = name.split(".")
            j = int(parts[2])
            assert j < n_stored, name
            rest = ".".join(parts[3:])
            for r in range(rep):
                sd["model.layers.%d.%s" % (j * rep + r, rest)] = t64
        else:
            sd[name] = t64
    if not has_head:
        sd["lm_head.weight"] = sd["model.embed_tokens.weight"]
    res = model.load_state_dict(sd, strict=False)
    missing = [k for k in res.missing_keys if "rotary" not in k]
    unexpected = [k for k in res.unexpected_keys if not (k == "lm_head.weight" and not has_head)]
    assert not missing and not unexpected, (missing, unexpected)
    with torch.no_grad():
        assert torch.equal(model.lm_head.weight, sd["lm_head.weight"])
        assert torch.equal(model.model.embed_tokens.weight, sd["model.embed_tokens.weight"])
    model.eval()
    info = {"layer_sharing": ls, "stored_blocks": n_stored, "block_repeat": rep,
            "applied_blocks": [i // rep for i in range(n_stored * rep)],
            "has_lm_head_tensor": has_head, "stored_dtypes": stored_dtypes,
            "tensor_count": len(tensors), **dims}
    return model, info


def forward_logits(model, ids):
    import torch
    with torch.no_grad():
        x = torch.tensor([ids], dtype=torch.long)
        return model(input_ids=x, use_cache=False).logits[0]


def greedy(model, ids, n):
    import torch
    seq = list(ids)
    out, margins = [], []
    for _ in range(n):
        logits = forward_logits(model, seq)[-1]
        nxt = int(torch.argmax(logits))
        top2 = torch.topk(logits, 2).values
        out.append(nxt)
        margins.append(float(top2[0] - top2[1]))
        seq.append(nxt)
    return out, margins


def perplexity(model, ids, ctx, batch=8):
    """MobileLLM eval.py method on one tokenised text: non-overlapping windows of ctx tokens (the
    last partial window is dropped), mean cross-entropy of positions 1..ctx-1 of every window."""
    import torch
    import torch.nn.functional as F
    n = len(ids)
    w = n // ctx
    x = torch.tensor(ids[: w * ctx], dtype=torch.long).view(w, ctx)
    total = 0.0
    per_window = []
    with torch.no_grad():
        for b in range(0, w, batch):
            xb = x[b:b + batch]
            lp = F.log_softmax(model(input_ids=xb, use_cache=False).logits[:, :-1], dim=-1)
            nll = -lp.gather(-1, xb[:, 1:, None]).squeeze(-1)
            per_window.extend(float(v) for v in nll.mean(dim=1))
            total += float(nll.sum())
    scored = w * (ctx - 1)
    mean = total / scored
    return {"ctx": ctx, "total_tokens": n, "windows": w, "scored_tokens": scored,
            "dropped_tokens": n - w * ctx, "mean_nll": mean, "perplexity": math.exp(mean),
            "window_mean_nll": per_window}


def versions():
    out = {}
    for mod in ("torch", "transformers", "sentencepiece", "safetensors", "tokenizers"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception as e:  # pragma: no cover
            out[mod] = "unavailable: %s" % e
    return out
