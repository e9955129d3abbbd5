// Shared declarations: every kernel gets its tensors as buffer device addresses in push
// constants (no descriptor sets; push_constants.h), so one pipeline layout serves all kernels and
// tensors of any size are addressed directly (no maxStorageBufferRange limit). Loads are 32-bit
// words only, so no 8/16-bit storage feature is needed; GGUF blocks are unpacked with shifts.
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_buffer_reference_uvec2 : require
#include "step.h"

layout(buffer_reference, std430, buffer_reference_align = 4) buffer U32 { uint v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) buffer F32 { float v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) buffer I32 { int v[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) buffer V4 { vec4 v[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) buffer UV4 { uvec4 v[]; };

// The step buffer (step.h): each row's token, position and sequence, each sequence's cache.
uint step_token(uvec2 step, uint r) { return U32(step).v[STEP_ROWS + STEP_ROW_WORDS * r]; }
uint step_pos(uvec2 step, uint r) { return U32(step).v[STEP_ROWS + STEP_ROW_WORDS * r + 1u]; }
uint step_out_row(uvec2 step, uint i) { return U32(step).v[STEP_ROWS + STEP_ROW_WORDS * i + 3u]; }
uint step_seq(uvec2 step, uint r) { return U32(step).v[STEP_ROWS + STEP_ROW_WORDS * r + 2u] * STEP_SEQ_WORDS; }
// Address of a layer of the K (v = 0) or V (v = 1) cache of row r's sequence. The layer's `slot`
// (vk_record.c) counts the layers before it: full-attention ones in its low 16 bits, sliding-window
// ones in its high 16 bits; each kind takes the same bytes in one cache (step.h).
uvec2 step_cache(uvec2 step, uint r, uint v, uint slot) {
    U32 t = U32(step);
    const uint s = step_seq(step, r);
    uint carry;
    const uint lo = uaddCarry(t.v[s + 2u * v], (slot & 0xffffu) * t.v[s + 4u] + (slot >> 16) * t.v[s + 5u], carry);
    return uvec2(lo, t.v[s + 2u * v + 1u] + carry);
}
// The ring size of a layer with this window in row r's sequence (0: no ring, graph/kv_cache.h).
uint step_ring(uvec2 step, uint r, uint window) { return window != 0u ? U32(step).v[step_seq(step, r) + 6u] : 0u; }
// The first key position the query of row r at pos reads (mllm_kv_first_key): a window's start,
// and in a ring no earlier than the sequence's ring_lo. The key of position j is cache row
// cache_row_of(j) and a ring's rows are stored twice, so the keys from there on are consecutive rows.
uint first_key(uvec2 step, uint r, uint pos, uint window, uint ring) {
    int first = window != 0u ? int(pos) - int(window) + 1 : 0;
    if (ring != 0u) first = max(first, int(U32(step).v[step_seq(step, r) + 7u]));
    return uint(max(first, 0));
}
uint cache_row_of(uint pos, uint ring) { return ring != 0u ? pos % ring : pos; }

// 16-bit unit i of a word array.
uint ld16(U32 b, uint i) { return (b.v[i >> 1] >> ((i & 1u) * 16u)) & 0xffffu; }
float half_at(U32 b, uint i) { return unpackHalf2x16(ld16(b, i)).x; }
// 32-bit word starting at 16-bit unit i (i may be odd).
uint ld32_at16(U32 b, uint i) {
    uint w = i >> 1;
    return (i & 1u) == 0u ? b.v[w] : ((b.v[w] >> 16) | (b.v[w + 1] << 16));
}
// signed byte n (0..3) of a word
int sbyte(uint w, uint n) { return bitfieldExtract(int(w), int(n * 8u), 8); }
// f32 -> f16 bits, round to nearest even (like the CPU engine; packHalf2x16's rounding is
// implementation-defined and lavapipe's differs).
uint f2h(float f) {
    uint x = floatBitsToUint(f);
    uint sign = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
    if (a >= 0x7f800000u) return sign | (a > 0x7f800000u ? 0x7e00u : 0x7c00u);
    if (a >= 0x477ff000u) return sign | 0x7c00u;                                  // rounds past 65504
    if (a < 0x38800000u) return sign | uint(roundEven(uintBitsToFloat(a) * 16777216.0)); // subnormal (exact scaling)
    return sign | ((a + 0xc8000fffu + ((a >> 13) & 1u)) >> 13);
}
uint pack_f16x2(vec2 v) { return f2h(v.x) | (f2h(v.y) << 16); }
// An activation over its q8_0 scale, rounded half away from zero as the CPU engine rounds it.
int q8_round(float x) { return int(sign(x) * floor(abs(x) + 0.5)); }
