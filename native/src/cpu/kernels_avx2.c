/* AVX2 + FMA + F16C kernels. Each dot kernel loads a weight row once and multiplies it with up
 * to MLLM_DOT_MAX_NX activation rows; the bodies are instantiated per nx and type (kernels.h) so
 * the compiler keeps all accumulators in registers. */
#include "cpu/kernels.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <math.h>

#include "cpu/simd_x86_common.h"

/* ---- float weights (activations f32) -------------------------------------------------------- */

/* 8 (load8) or 1 (load1) weights of type T from element i, widened to f32. */
MLLM_INLINE __m256 load8(const void *w, int64_t i, const int T) {
    switch (T) {
    case MLLM_TYPE_F32: return _mm256_loadu_ps((const float *)w + i);
    case MLLM_TYPE_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + i)));
    default: { /* bf16: the high half of an f32 */
        __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + i));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    }
}
MLLM_INLINE float load1(const void *w, int64_t i, const int T) {
    switch (T) {
    case MLLM_TYPE_F32: return ((const float *)w)[i];
    case MLLM_TYPE_F16: return h2f(((const uint16_t *)w)[i]);
    default: return mllm_bf16_to_fp32(((const uint16_t *)w)[i]);
    }
}

/* Two accumulators per activation row hide the fma latency when nx is small. */
MLLM_INLINE void dot_float_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                             const int T) {
    const float *x[MLLM_DOT_MAX_NX];
    __m256 acc0[MLLM_DOT_MAX_NX], acc1[MLLM_DOT_MAX_NX];
    for (int j = 0; j < NX; j++) {
        x[j] = (const float *)((const char *)xv + (size_t)j * xs);
        acc0[j] = _mm256_setzero_ps();
        acc1[j] = _mm256_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) {
        __m256 w0 = load8(w, i, T), w1 = load8(w, i + 8, T);
        for (int j = 0; j < NX; j++) {
            acc0[j] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[j] + i), acc0[j]);
            acc1[j] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[j] + i + 8), acc1[j]);
        }
    }
    for (; i + 8 <= k; i += 8) {
        __m256 w0 = load8(w, i, T);
        for (int j = 0; j < NX; j++) acc0[j] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[j] + i), acc0[j]);
    }
    for (int j = 0; j < NX; j++) {
        float s = hsum256(_mm256_add_ps(acc0[j], acc1[j]));
        for (int64_t t = i; t < k; t++) s += load1(w, t, T) * x[j][t];
        out[j] = s;
    }
}

/* ---- quantized weights ----------------------------------------------------------------------- */

/* Block b of weights of type T: its quants as 32 bytes (signed for the symmetric q8_0, q4_0,
 * q5_0; 0..15 / 0..31 for q4_1, q5_1), its scale d and (q4_1, q5_1) its min m. */
MLLM_INLINE __m256i weight_quants(const void *w, int64_t b, const int T) {
    switch (T) {
    case MLLM_TYPE_Q8_0: return _mm256_loadu_si256((const __m256i *)((const block_q8_0 *)w)[b].qs);
    case MLLM_TYPE_Q4_0: return _mm256_sub_epi8(unpack_nibbles(((const block_q4_0 *)w)[b].qs), _mm256_set1_epi8(8));
    case MLLM_TYPE_Q5_0: {
        const block_q5_0 *blk = (const block_q5_0 *)w + b;
        __m256i q = _mm256_or_si256(unpack_nibbles(blk->qs), expand_qh(blk->qh));
        return _mm256_sub_epi8(q, _mm256_set1_epi8(16));
    }
    case MLLM_TYPE_Q4_1: return unpack_nibbles(((const block_q4_1 *)w)[b].qs);
    default: { /* q5_1 */
        const block_q5_1 *blk = (const block_q5_1 *)w + b;
        return _mm256_or_si256(unpack_nibbles(blk->qs), expand_qh(blk->qh));
    }
    }
}
MLLM_INLINE float weight_scale(const void *w, int64_t b, const int T) { return h2f(mllm_block_d(w, b, T)); }
MLLM_INLINE float weight_min(const void *w, int64_t b, const int T) { return h2f(mllm_block_m(w, b, T)); }

/* Symmetric weights x q8_0 activations: per block, exact int32 sums scaled by d_w * d_x (d_x from
 * the expanded scales prepared with the activations). One block for all NX rows, into acc. */
MLLM_INLINE void sym_step(const void *w, int64_t b, const block_q8_0 *const *x, const float *xd, int64_t spr, __m256 *acc,
                          const int NX, const int T) {
    __m256i wq = weight_quants(w, b, T);
    __m256 dw = _mm256_set1_ps(weight_scale(w, b, T));
    for (int j = 0; j < NX; j++) {
        __m256i s = dot_s8_avx2(wq, _mm256_loadu_si256((const __m256i *)x[j][b].qs));
        __m256 d = _mm256_mul_ps(dw, _mm256_loadu_ps(xd + j * spr + b * MLLM_XD_LANES));
        acc[j] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc[j]);
    }
}

/* Decode (NX = 1) alternates two accumulators so the fma latency chain does not bound the loop. */
MLLM_INLINE void dot_sym_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                           const int T) {
    const block_q8_0 *x[MLLM_DOT_MAX_NX];
    __m256 acc[MLLM_DOT_MAX_NX], acc2[MLLM_DOT_MAX_NX];
    for (int j = 0; j < NX; j++) {
        x[j] = (const block_q8_0 *)((const char *)xv + (size_t)j * xs);
        acc[j] = acc2[j] = _mm256_setzero_ps();
    }
    const int64_t nb = k / 32, spr = nb * MLLM_XD_LANES; /* xd floats per row */
    int64_t b = 0;
    /* every NX alike: a row's bits must not depend on how many rows share the call (batch =
     * token by token, test_model_demo) */
    for (; b + 2 <= nb; b += 2) {
        sym_step(w, b, x, xd, spr, acc, NX, T);
        sym_step(w, b + 1, x, xd, spr, acc2, NX, T);
    }
    for (; b < nb; b++) sym_step(w, b, x, xd, spr, acc, NX, T);
    for (int j = 0; j < NX; j++) out[j] = hsum256(_mm256_add_ps(acc[j], acc2[j]));
}

/* Offset weights (x = d q + m, q unsigned) x q8_1 activations: d_w d_x sum(q qx) + m_w s_x. */
MLLM_INLINE void dot_asym_n(int64_t k, const void *w, const void *xv, size_t xs, const float *xd, float *out, const int NX,
                            const int T) {
    const block_q8_1 *x[MLLM_DOT_MAX_NX];
    __m256 acc[MLLM_DOT_MAX_NX];
    float msum[MLLM_DOT_MAX_NX];
    for (int j = 0; j < NX; j++) {
        x[j] = (const block_q8_1 *)((const char *)xv + (size_t)j * xs);
        acc[j] = _mm256_setzero_ps();
        msum[j] = 0.0f;
    }
    const int64_t nb = k / 32, spr = MLLM_XD_ROW_Q8_1(k); /* xd floats per row */
    for (int64_t b = 0; b < nb; b++) {
        __m256i wq = weight_quants(w, b, T);
        __m256 dw = _mm256_set1_ps(weight_scale(w, b, T));
        float mw = weight_min(w, b, T);
        for (int j = 0; j < NX; j++) {
            __m256i s = dot_u8s8_avx2(wq, _mm256_loadu_si256((const __m256i *)x[j][b].qs));
            __m256 d = _mm256_mul_ps(dw, _mm256_loadu_ps(xd + j * spr + b * MLLM_XD_LANES));
            acc[j] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc[j]);
            msum[j] += mw * h2f(x[j][b].s);
        }
    }
    for (int j = 0; j < NX; j++) out[j] = hsum256(acc[j]) + msum[j];
}

MLLM_DOT_ENTRY(dot_f32, dot_float_n, MLLM_TYPE_F32)
MLLM_DOT_ENTRY(dot_f16, dot_float_n, MLLM_TYPE_F16)
MLLM_DOT_ENTRY(dot_bf16, dot_float_n, MLLM_TYPE_BF16)
MLLM_DOT_ENTRY(dot_q8_0, dot_sym_n, MLLM_TYPE_Q8_0)
MLLM_DOT_ENTRY(dot_q4_0, dot_sym_n, MLLM_TYPE_Q4_0)
MLLM_DOT_ENTRY(dot_q5_0, dot_sym_n, MLLM_TYPE_Q5_0)
MLLM_DOT_ENTRY(dot_q4_1, dot_asym_n, MLLM_TYPE_Q4_1)
MLLM_DOT_ENTRY(dot_q5_1, dot_asym_n, MLLM_TYPE_Q5_1)

/* ---- activation quantizers (bytes identical to the reference) -------------------------------- */

static void quantize_q8_0(const float *x, void *yv, int64_t k) {
    block_q8_0 *y = yv;
    for (int64_t b = 0; b < k / 32; b++, x += 32) {
        float d = block_absmax(x) / 127.0f;
        y[b].d = mllm_fp32_to_fp16(d);
        quant_block_q8(x, d != 0.0f ? 1.0f / d : 0.0f, y[b].qs, NULL);
    }
}

static void quantize_q8_1(const float *x, void *yv, int64_t k) {
    block_q8_1 *y = yv;
    for (int64_t b = 0; b < k / 32; b++, x += 32) {
        float d = block_absmax(x) / 127.0f;
        int sum;
        quant_block_q8(x, d != 0.0f ? 1.0f / d : 0.0f, y[b].qs, &sum);
        y[b].d = mllm_fp32_to_fp16(d);
        y[b].s = mllm_fp32_to_fp16((float)sum * d);
    }
}

/* ---- vector helpers --------------------------------------------------------------------------- */

static float vec_dot_f32(const float *a, const float *b, int64_t n) {
    float out;
    dot_float_n(n, a, b, 0, NULL, &out, 1, MLLM_TYPE_F32);
    return out;
}

static float vec_dot_f16_f32(const uint16_t *a, const float *b, int64_t n) {
    float out;
    dot_float_n(n, a, b, 0, NULL, &out, 1, MLLM_TYPE_F16);
    return out;
}

static void axpy_f32(float *y, const float *x, float a, int64_t n) {
    __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

/* lanes 0..3 in a0, 4..7 in a1 (kernels.h); x * x is exact in double, so mul + add = the scalar sum */
static double sum_sq_f32(const float *x, int64_t n) {
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256d v0 = _mm256_cvtps_pd(_mm_loadu_ps(x + i)), v1 = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));
        a0 = _mm256_add_pd(a0, _mm256_mul_pd(v0, v0));
        a1 = _mm256_add_pd(a1, _mm256_mul_pd(v1, v1));
    }
    double lane[8];
    _mm256_storeu_pd(lane, a0);
    _mm256_storeu_pd(lane + 4, a1);
    return mllm_sum_sq_finish(lane, x, i, n);
}

static void axpy_f16(float *y, const uint16_t *x, float a, int64_t n) {
    __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, load8(x, i, MLLM_TYPE_F16), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * h2f(x[i]);
}

static void f32_to_f16(uint16_t *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = mllm_fp32_to_fp16(src[i]);
}

/* ---- exponential-based ops: SwiGLU, attention ------------------------------------------------ */

/* The vector of floats attn_gqa_body.h and vf_exp_body.h work on, 8 floats wide. */
typedef __m256 vf;
#define VF_LANES 8
#define VF(op) _mm256_##op
MLLM_INLINE vf vf_round_nearest(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
/* 2^n built as two exponent fields (n1 + n2 = n, each within the normal range), so results
 * underflow to 0 below x = -104 and overflow to inf above 88.7 as the scalar expf does. */
MLLM_INLINE vf vf_scale_pow2(vf p, vf n) {
    const __m256i ni = _mm256_cvtps_epi32(n), n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    p = _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23)));
    return _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23)));
}
#include "cpu/vf_exp_body.h"

static void swiglu(float *g, const float *u, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(g + i);
        const __m256 sg = _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), vf_exp(_mm256_sub_ps(_mm256_setzero_ps(), x))));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(sg, _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

/* 4 pairs a register: x * (cs, cs) + swap(x) * (-sn, sn), the scalar level's products and sums
 * (the last pairs through masked loads and stores) */
static void rope_pairs(float *x, const float *cs, const float *sn, int64_t n) {
    const __m256i dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3), lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 neg_even = _mm256_castsi256_ps(_mm256_setr_epi32(INT32_MIN, 0, INT32_MIN, 0, INT32_MIN, 0, INT32_MIN, 0));
    for (int64_t i = 0; i < n; i += 4) {
        const int left = n - i < 4 ? (int)(n - i) : 4;
        const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(2 * left), lane);
        const __m128i mh = _mm256_castsi256_si128(_mm256_cmpgt_epi32(_mm256_set1_epi32(left), lane));
        const __m256 v = _mm256_maskload_ps(x + 2 * i, m);
        const __m256 c = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_maskload_ps(cs + i, mh)), dup);
        const __m256 s = _mm256_xor_ps(_mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_maskload_ps(sn + i, mh)), dup), neg_even);
        __m256 p = _mm256_mul_ps(v, c), q = _mm256_mul_ps(_mm256_permute_ps(v, 0xb1), s);
        MLLM_KEEP_ROUNDED(p);
        MLLM_KEEP_ROUNDED(q);
        _mm256_maskstore_ps(x + 2 * i, m, _mm256_add_ps(p, q));
    }
}

/* The remaining vector operations attn_gqa_body.h needs. */
typedef __m256 vmask; /* all ones in the lanes of the mask */
MLLM_INLINE vmask vmask_first(int n) {
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
}
MLLM_INLINE vf vf_load_masked(vmask m, const float *p) { return _mm256_maskload_ps(p, _mm256_castps_si256(m)); }
MLLM_INLINE vf vf_select(vmask m, vf a, vf b) { return _mm256_blendv_ps(b, a, m); }
MLLM_INLINE vf vf_load_f16(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
MLLM_INLINE float vf_hsum(vf a) { return hsum256(a); }
MLLM_INLINE float vf_hmax(vf a) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}
MLLM_INLINE __m128 vf_hsum4(vf a0, vf a1, vf a2, vf a3) {
    const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}
#include "cpu/attn_gqa_body.h"

void mllm_kernels_fill_avx2(mllm_kernels *k) {
    k->dot[MLLM_KSLOT_F32] = dot_f32;
    k->dot[MLLM_KSLOT_F16] = dot_f16;
    k->dot[MLLM_KSLOT_BF16] = dot_bf16;
    k->dot[MLLM_KSLOT_Q8_0] = dot_q8_0;
    k->dot[MLLM_KSLOT_Q4_0] = dot_q4_0;
    k->dot[MLLM_KSLOT_Q5_0] = dot_q5_0;
    k->dot[MLLM_KSLOT_Q4_1] = dot_q4_1;
    k->dot[MLLM_KSLOT_Q5_1] = dot_q5_1;
    k->quantize_q8_0 = quantize_q8_0;
    k->quantize_q8_1 = quantize_q8_1;
    k->vec_dot_f32 = vec_dot_f32;
    k->vec_dot_f16_f32 = vec_dot_f16_f32;
    k->axpy_f32 = axpy_f32;
    k->sum_sq_f32 = sum_sq_f32;
    k->axpy_f16 = axpy_f16;
    k->f32_to_f16 = f32_to_f16;
    k->attn_f16 = attn_f16_any;
    k->attn_f16_gqa = attn_f16_gqa;
    k->attn_f32_gqa = attn_f32_gqa;
    k->swiglu = swiglu;
    k->rope_pairs = rope_pairs;
}

#elif defined(__x86_64__) || defined(_M_X64)
/* Built without AVX2 flags (non-CMake build): keep the lower level's kernels. */
void mllm_kernels_fill_avx2(mllm_kernels *k) { (void)k; }
#endif
