"""An independent float64 implementation of the MobileLLM-R1 / MobileLLM-Pro forward pass, written
from our reading of transformers' Llama 4 text model (models/llama4/modeling_llama4.py) plus, for
MobileLLM-Pro, sliding-window attention on the layers that config.json's layer_types marks
"sliding_attention".

It is OUR READING, not Meta's code: make_family_reference.py computes every committed reference with
transformers itself (Llama4ForCausalLM) and uses this module only as a cross-check of that
computation, and of our understanding of it, which the engine implements:

  - pre-norm blocks: x += o_proj(attn(rms_norm(x))); x += down(silu(gate(h)) * up(h)), h = rms_norm(x)
  - q, k, v projections; RoPE (layers with no_rope_layers[l] == 1) rotates adjacent pairs
    (q[2i], q[2i+1]) by pos * inv_freq[i] (Llama 4's complex-number RoPE; no row permutation);
    inv_freq from rope_theta, with Llama 3 scaling when rope_type is llama3
  - QK-norm (use_qk_norm, RoPE layers only): a weightless RMS norm of every q and k head (eps
    rms_norm_eps), after RoPE
  - temperature tuning (attn_temperature_tuning, NoPE layers only): q *= 1 + attn_scale *
    log(floor((pos + 1) / floor_scale) + 1)
  - causal GQA attention with scale head_dim^-0.5; on sliding layers query i sees keys j with
    i - sliding_window < j <= i
  - final RMS norm, output head tied to the embedding (or lm_head.weight)

Needs torch only (runs with any torch >= 1.13), so it can be checked on a machine without
transformers.
"""
import math


def layer_traits(cfg):
    """Per layer: dict(rope, qk_norm, temp, window) from a config dict (llama4_text or MobileLLM-Pro)."""
    n = int(cfg["num_hidden_layers"])
    nope = cfg.get("no_rope_layers") or [int((i + 1) % int(cfg.get("no_rope_layer_interval", 4)) != 0) for i in range(n)]
    types = cfg.get("layer_types") or ["full_attention"] * n
    out = []
    for i in range(n):
        rope = bool(nope[i])
        if types[i] == "full_attention":
            window = 0
        elif types[i] == "sliding_attention":
            window = int(cfg["sliding_window"])
        else:
            raise ValueError("layer type %r is not part of this reading" % types[i])
        out.append({"rope": rope, "qk_norm": bool(cfg.get("use_qk_norm", True)) and rope,
                    "temp": bool(cfg.get("attn_temperature_tuning", True)) and not rope, "window": window})
    return out


def rope_parameters(cfg):
    """(theta, llama3 dict or None) from rope_parameters (transformers 5) or rope_theta / rope_scaling."""
    rp = cfg.get("rope_parameters")
    if rp:
        theta = float(rp.get("rope_theta", cfg.get("rope_theta", 500000.0)))
        kind = rp.get("rope_type", "default")
        scaling = rp if kind == "llama3" else None
    else:
        theta = float(cfg.get("rope_theta", 500000.0))
        rs = cfg.get("rope_scaling")
        kind = (rs or {}).get("rope_type", (rs or {}).get("type", "default"))
        scaling = rs if kind == "llama3" else None
    if kind not in ("default", "llama3"):
        raise ValueError("rope type %r is not part of this reading" % kind)
    return theta, scaling


def inv_freq(cfg, torch):
    hd = int(cfg["head_dim"])
    theta, sc = rope_parameters(cfg)
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    if sc is None:
        return inv
    factor, low, high = float(sc["factor"]), float(sc["low_freq_factor"]), float(sc["high_freq_factor"])
    old = float(sc["original_max_position_embeddings"])
    out = []
    for f in inv.tolist():
        wavelen = 2 * math.pi / f
        if wavelen < old / high:
            out.append(f)
        elif wavelen > old / low:
            out.append(f / factor)
        else:
            s = (old / wavelen - low) / (high - low)
            out.append((1 - s) * f / factor + s * f)
    return torch.tensor(out, dtype=torch.float64)


def forward(cfg, weights, ids, torch):
    """Logits [len(ids), vocab] in float64. weights: Hugging Face tensor names -> tensors."""
    W = {k: v.to(torch.float64) for k, v in weights.items()}
    eps = float(cfg["rms_norm_eps"])
    H, KV, hd = int(cfg["num_attention_heads"]), int(cfg["num_key_value_heads"]), int(cfg["head_dim"])
    T = len(ids)
    pos = torch.arange(T, dtype=torch.float64)

    def rms(x, w=None):
        y = x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps)
        return y * w if w is not None else y

    ang = pos[:, None] * inv_freq(cfg, torch)[None, :]
    cos, sin = torch.cos(ang)[:, None, :], torch.sin(ang)[:, None, :]

    def rope(x):  # x [T, heads, hd]: rotate (x[2i], x[2i+1]) by ang[:, i]
        a, b = x[..., 0::2], x[..., 1::2]
        out = torch.empty_like(x)
        out[..., 0::2] = a * cos - b * sin
        out[..., 1::2] = a * sin + b * cos
        return out

    temp = torch.log(torch.floor((pos + 1.0) / float(cfg.get("floor_scale", 8192))) + 1.0) \
        * float(cfg.get("attn_scale", 0.1)) + 1.0
    x = W["model.embed_tokens.weight"][torch.tensor(ids)]
    qi = torch.arange(T)[:, None]
    kj = torch.arange(T)[None, :]
    for layer, tr in enumerate(layer_traits(cfg)):
        p = "model.layers.%d." % layer
        ffn = "feed_forward." if (p + "feed_forward.gate_proj.weight") in W else "mlp."
        h = rms(x, W[p + "input_layernorm.weight"])
        q = (h @ W[p + "self_attn.q_proj.weight"].T).view(T, H, hd)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).view(T, KV, hd)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).view(T, KV, hd)
        if tr["rope"]:
            q, k = rope(q), rope(k)
        if tr["qk_norm"]:
            q, k = rms(q), rms(k)
        if tr["temp"]:
            q = q * temp[:, None, None]
        visible = kj <= qi
        if tr["window"]:
            visible = visible & (kj > qi - tr["window"])
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        s = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd)
        s = s.masked_fill(~visible[None], float("-inf"))
        a = torch.einsum("hqk,khd->qhd", torch.softmax(s, dim=-1), v).reshape(T, H * hd)
        x = x + a @ W[p + "self_attn.o_proj.weight"].T
        h = rms(x, W[p + "post_attention_layernorm.weight"])
        g = h @ W[p + ffn + "gate_proj.weight"].T
        u = h @ W[p + ffn + "up_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ W[p + ffn + "down_proj.weight"].T
    x = rms(x, W["model.norm.weight"])
    head = W.get("lm_head.weight", W["model.embed_tokens.weight"])
    return x @ head.T


def masks(cfg, T, torch):
    """Additive float64 masks [1, 1, T, T] for transformers' Llama 4 eager attention, one per layer type."""
    qi = torch.arange(T)[:, None]
    kj = torch.arange(T)[None, :]
    out = {}
    for kind in set(cfg.get("layer_types") or ["full_attention"]):
        visible = kj <= qi
        if kind == "sliding_attention":
            visible = visible & (kj > qi - int(cfg["sliding_window"]))
        elif kind != "full_attention":
            raise ValueError(kind)
        m = torch.zeros(T, T, dtype=torch.float64).masked_fill(~visible, float("-inf"))
        out[kind] = m[None, None]
    return out
