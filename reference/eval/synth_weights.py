"""The weights of `mobilellm synth --shape S` (converters' SyntheticCheckpoint, seed 1) recomputed in
Python, bit for bit, so that a machine without Java can build the same checkpoint for the harness.

SyntheticCheckpoint draws 65536 N(0, 0.02) samples from java.util.Random(seed).nextGaussian() (the
polar method), rounds them to float32 and then bf16 (round to nearest even), sorts them into a table,
and fills every matrix, in the order the tensors are written, with table[16-bit slices of
SplittableRandom(seed ^ 0x9E3779B97F4A7C15).nextLong()], four entries per long; norm weights are 1.0.

    python3 synth_weights.py --check DIR   # compares with DIR/model.safetensors written by Java
"""
import argparse
import json
import math
import struct

import numpy as np

SHAPES = {  # name: (layers, heads, kv_heads, dim, ffn, vocab, context), as converters' Shape presets
    "125M": (30, 9, 3, 576, 1536, 32000, 2048),
    "350M": (32, 15, 5, 960, 2560, 32000, 2048),
}
_MASK48 = (1 << 48) - 1
_M64 = (1 << 64) - 1


class JavaRandom:
    """java.util.Random: the 48-bit LCG, nextDouble and the legacy nextGaussian."""

    def __init__(self, seed):
        self.seed = (seed ^ 0x5DEECE66D) & _MASK48
        self.next_gaussian = None

    def _next(self, bits):
        self.seed = (self.seed * 0x5DEECE66D + 0xB) & _MASK48
        return self.seed >> (48 - bits)  # bits < 32 here: never negative

    def next_double(self):
        return ((self._next(26) << 27) + self._next(27)) * (1.0 / (1 << 53))

    def gaussian(self):
        if self.next_gaussian is not None:
            g, self.next_gaussian = self.next_gaussian, None
            return g
        while True:
            v1 = 2 * self.next_double() - 1
            v2 = 2 * self.next_double() - 1
            s = v1 * v1 + v2 * v2
            if 0 < s < 1:
                break
        m = math.sqrt(-2 * math.log(s) / s)
        self.next_gaussian = v2 * m
        return v1 * m


def bf16_bits(f32):
    """float32 array to bf16 bit patterns, round to nearest even (RowQuantizer.floatToBf16)."""
    u = f32.view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def sample_table(seed):
    r = JavaRandom(seed)
    samples = np.array([r.gaussian() * 0.02 for _ in range(65536)], dtype=np.float64).astype(np.float32)
    samples.sort()
    return bf16_bits(samples)


class SplitMix:
    """java.util.SplittableRandom(seed).nextLong(), vectorised."""
    GAMMA = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, seed):
        self.state = np.uint64(seed & _M64)

    def next_longs(self, n):
        k = np.arange(1, n + 1, dtype=np.uint64)
        z = self.state + k * self.GAMMA
        self.state = z[-1]
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def tensors(shape, seed=1):
    """Yields (name, shape, bf16 bits as uint16 array) in SyntheticCheckpoint's order."""
    layers, heads, kv, dim, ffn, vocab, _ = SHAPES[shape]
    hd = dim // heads
    table = sample_table(seed)
    rng = SplitMix(seed ^ 0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        def rand(rows, cols):
            n = rows * cols
            assert n % 4 == 0
            longs = rng.next_longs(n // 4)
            idx = np.stack([(longs >> np.uint64(s)) & np.uint64(0xFFFF) for s in (0, 16, 32, 48)], axis=1)
            return table[idx.reshape(-1).astype(np.int64)].reshape(rows, cols)

        def ones(n):
            return np.full(n, 0x3F80, dtype=np.uint16)

        yield "model.embed_tokens.weight", rand(vocab, dim)
        for layer in range(layers):
            p = "model.layers.%d." % layer
            yield p + "input_layernorm.weight", ones(dim)
            yield p + "self_attn.q_proj.weight", rand(heads * hd, dim)
            yield p + "self_attn.k_proj.weight", rand(kv * hd, dim)
            yield p + "self_attn.v_proj.weight", rand(kv * hd, dim)
            yield p + "self_attn.o_proj.weight", rand(dim, heads * hd)
            yield p + "post_attention_layernorm.weight", ones(dim)
            yield p + "mlp.gate_proj.weight", rand(ffn, dim)
            yield p + "mlp.up_proj.weight", rand(ffn, dim)
            yield p + "mlp.down_proj.weight", rand(dim, ffn)
        yield "model.norm.weight", ones(dim)


def hub_config(shape):
    """The config.json SyntheticCheckpoint writes (hub style)."""
    layers, heads, kv, dim, ffn, vocab, ctx = SHAPES[shape]
    return {"architectures": ["MobileLLMForCausalLM"], "model_type": "mobilellm", "hidden_size": dim,
            "intermediate_size": ffn, "num_hidden_layers": layers, "num_attention_heads": heads,
            "num_key_value_heads": kv, "hidden_act": "silu", "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
            "max_position_embeddings": ctx, "vocab_size": vocab, "bos_token_id": 1, "eos_token_id": 2,
            "pad_token_id": 0, "share_embedding": True, "layer_sharing": False, "tie_word_embeddings": False,
            "torch_dtype": "bfloat16"}


def write_checkpoint(shape, folder, tokenizer_model):
    """config.json, model.safetensors (bf16) and tokenizer.model, as `mobilellm synth` writes them."""
    import os
    import shutil
    import torch
    from safetensors.torch import save_file
    os.makedirs(folder, exist_ok=True)
    state = {n: torch.from_numpy(a.astype(np.int16)).view(torch.bfloat16) for n, a in tensors(shape)}
    save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(hub_config(shape), f, indent=2)
    shutil.copyfile(tokenizer_model, os.path.join(folder, "tokenizer.model"))


def check(folder, shape):
    """Compares every tensor with a model.safetensors written by `mobilellm synth`."""
    with open(folder + "/model.safetensors", "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        for name, bits in tensors(shape):
            start, end = header[name]["data_offsets"]
            f.seek(base + start)
            java = np.frombuffer(f.read(end - start), dtype="<u2")
            same = np.array_equal(java, bits.reshape(-1))
            print("%-45s %s" % (name, "same" if same else "DIFFERENT"))
            if not same:
                return False
    return True


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", required=True)
    ap.add_argument("--shape", default="125M")
    a = ap.parse_args()
    raise SystemExit(0 if check(a.check, a.shape) else 1)
