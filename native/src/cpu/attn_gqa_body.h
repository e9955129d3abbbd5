/* Blocked grouped-query attention over an f16 or f32 KV cache, written once for every x86 vector
 * width. Included by an ISA's kernel file (compiled with its -m flags) after it defines the vector of
 * floats and the operations that take more than the width's intrinsic, plus the vec_dot_f16_f32
 * and axpy_f16 that MLLM_ATTN_ENTRIES needs; this file defines the file's attn_f16_gqa,
 * attn_f32_gqa and attn_f16_any. The includer defines:
 *
 *   vf, VF_LANES                  the vector type and its number of floats
 *   VF(op)                        the width's intrinsic for op: VF(add_ps) is _mm256_add_ps at 8 floats
 *   vmask, vmask_first(n)         a lane mask, and the one of lanes < n (n may be <= 0 or >= VF_LANES)
 *   vf_load_masked(m, p)          aligned floats in the lanes of m, 0 in the others (not read)
 *   vf_select(m, a, b)            a in the lanes of m, b in the others
 *   vf_load_f16(p)                VF_LANES halves, widened
 *   vf_exp(a)                     e^x per lane (vf_exp_body.h)
 *   vf_hsum(a), vf_hmax(a)        the sum and the max of the lanes
 *   vf_hsum4(a0, a1, a2, a3)      the four horizontal sums, in that order, as an __m128 */
#ifndef VF_LANES
#error "define the vector type vf and its operations before including attn_gqa_body.h"
#endif

MLLM_INLINE vf vf_zero(void) { return VF(setzero_ps)(); }
MLLM_INLINE vf vf_set1(float x) { return VF(set1_ps)(x); }
MLLM_INLINE vf vf_loadu(const float *p) { return VF(loadu_ps)(p); }
MLLM_INLINE void vf_store(float *p, vf a) { VF(store_ps)(p, a); } /* aligned */
MLLM_INLINE void vf_storeu(float *p, vf a) { VF(storeu_ps)(p, a); }
MLLM_INLINE vf vf_add(vf a, vf b) { return VF(add_ps)(a, b); }
MLLM_INLINE vf vf_sub(vf a, vf b) { return VF(sub_ps)(a, b); }
MLLM_INLINE vf vf_mul(vf a, vf b) { return VF(mul_ps)(a, b); }
MLLM_INLINE vf vf_max(vf a, vf b) { return VF(max_ps)(a, b); }
MLLM_INLINE vf vf_fmadd(vf a, vf b, vf c) { return VF(fmadd_ps)(a, b, c); }
MLLM_INLINE float vf_first(vf a) { return VF(cvtss_f32)(a); }

/* VF_LANES cache values from element i of a row: halves widened (F32 = 0) or floats (F32 = 1). */
MLLM_INLINE vf vf_load_kv(const void *row, size_t i, const int F32) {
    return F32 ? vf_loadu((const float *)row + i) : vf_load_f16((const uint16_t *)row + i);
}
/* Row j of a cache whose rows are stride elements apart. */
MLLM_INLINE const void *kv_row_at(const void *base, size_t j, size_t stride, const int F32) {
    return (const char *)base + j * stride * (F32 ? sizeof(float) : sizeof(uint16_t));
}

/* Attention for nq <= MLLM_ATT_GQA_MAX query heads that read the same KV head (grouped-query
 * attention): every key and value row is loaded (and converted) once for all of them. Keys go in
 * blocks of ATT_BLOCK with a running max and sum per head (online softmax), so no score buffer is
 * needed. Head sizes: multiples of VF_LANES up to MLLM_ATT_MAX_HD, whose q and output stay in
 * registers. F32 picks the cache's element type at compile time. */
#define ATT_BLOCK 32
_Static_assert(MLLM_ATT_GQA_MAX == 4, "the value accumulation below names four heads' sums");
MLLM_INLINE void attn_gqa_n(const float *q, const void *k, const void *v, size_t stride, int32_t n, int32_t hd,
                            float scale, float *out, float *ml, const int NQ, const int F32) {
    const int nv = hd / VF_LANES;
    vf qv[MLLM_ATT_GQA_MAX][MLLM_ATT_MAX_HD / VF_LANES], o[MLLM_ATT_GQA_MAX][MLLM_ATT_MAX_HD / VF_LANES];
    float mx[MLLM_ATT_GQA_MAX], l[MLLM_ATT_GQA_MAX];
    _Alignas(sizeof(vf)) float sc[MLLM_ATT_GQA_MAX][ATT_BLOCK];
    for (int h = 0; h < NQ; h++) {
        for (int i = 0; i < nv; i++) {
            qv[h][i] = vf_mul(vf_loadu(q + (size_t)h * hd + VF_LANES * i), vf_set1(scale));
            o[h][i] = vf_zero();
        }
        mx[h] = -INFINITY;
        l[h] = 0.0f;
    }
    for (int32_t j0 = 0; j0 < n; j0 += ATT_BLOCK) {
        const int nb = n - j0 < ATT_BLOCK ? n - j0 : ATT_BLOCK;
        int jj = 0;
        for (; jj + 4 <= nb; jj += 4) {
            const void *kr = kv_row_at(k, (size_t)(j0 + jj), stride, F32);
            /* the cache rows come from memory when many sequences' caches are walked: fetch these keys'
             * values (read after the softmax below) and the next block's keys (prefetches never fault) */
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < hd * (F32 ? 4 : 2); c += 64) {
                    _mm_prefetch((const char *)kv_row_at(v, (size_t)(j0 + jj + r), stride, F32) + c, _MM_HINT_T0);
                    _mm_prefetch((const char *)kv_row_at(kr, (size_t)(ATT_BLOCK + r), stride, F32) + c, _MM_HINT_T0);
                }
            vf a[MLLM_ATT_GQA_MAX][4];
            for (int h = 0; h < NQ; h++)
                for (int r = 0; r < 4; r++) a[h][r] = vf_zero();
            for (int i = 0; i < nv; i++) {
                vf kv[4];
                for (int r = 0; r < 4; r++)
                    kv[r] = vf_load_kv(kv_row_at(kr, (size_t)r, stride, F32), (size_t)VF_LANES * i, F32);
                for (int h = 0; h < NQ; h++)
                    for (int r = 0; r < 4; r++) a[h][r] = vf_fmadd(kv[r], qv[h][i], a[h][r]);
            }
            for (int h = 0; h < NQ; h++) _mm_store_ps(&sc[h][jj], vf_hsum4(a[h][0], a[h][1], a[h][2], a[h][3]));
        }
        for (; jj < nb; jj++) {
            const void *kr = kv_row_at(k, (size_t)(j0 + jj), stride, F32);
            for (int h = 0; h < NQ; h++) {
                vf a0 = vf_zero();
                for (int i = 0; i < nv; i++) a0 = vf_fmadd(vf_load_kv(kr, (size_t)VF_LANES * i, F32), qv[h][i], a0);
                sc[h][jj] = vf_hsum(a0);
            }
        }
        /* new running max; rescale what was summed under the old one */
        vmask keys[ATT_BLOCK / VF_LANES];
        for (int c = 0; c < ATT_BLOCK / VF_LANES; c++) keys[c] = vmask_first(nb - VF_LANES * c);
        for (int h = 0; h < NQ; h++) {
            /* lanes past the keys are masked rather than set to -INFINITY, whose exponential would
             * underflow: that costs a microcode assist per instruction */
            vf s[ATT_BLOCK / VF_LANES], bv = vf_zero(), sum = vf_zero();
            for (int c = 0; c < ATT_BLOCK / VF_LANES; c++) {
                s[c] = vf_load_masked(keys[c], sc[h] + VF_LANES * c);
                const vf sk = vf_select(keys[c], s[c], vf_set1(-INFINITY));
                bv = c == 0 ? sk : vf_max(bv, sk);
            }
            const float bm = vf_hmax(bv), m_new = bm > mx[h] ? bm : mx[h];
            const vf mn = vf_set1(m_new);
            for (int c = 0; c < ATT_BLOCK / VF_LANES; c++) {
                const vf e = vf_select(keys[c], vf_exp(vf_sub(s[c], mn)), vf_zero());
                vf_store(sc[h] + VF_LANES * c, e);
                sum = c == 0 ? e : vf_add(sum, e);
            }
            if (m_new > mx[h] && mx[h] > -INFINITY) {
                const vf c = vf_exp(vf_set1(mx[h] - m_new));
                for (int i = 0; i < nv; i++) o[h][i] = vf_mul(o[h][i], c);
                l[h] *= vf_first(c);
            }
            mx[h] = m_new;
            l[h] += vf_hsum(sum);
        }
        /* a column of VF_LANES output values at a time, its NQ heads' sums in named variables: the
         * compiler keeps those in registers, where it leaves o[][] (sized for the largest head) on
         * the stack and stores every sum there per key */
        for (int i = 0; i < nv; i++) {
            vf o0 = o[0][i], o1 = NQ > 1 ? o[1][i] : o0, o2 = NQ > 2 ? o[2][i] : o0, o3 = NQ > 3 ? o[3][i] : o0;
            const void *vr = kv_row_at(v, (size_t)j0, stride, F32);
            for (jj = 0; jj < nb; jj++, vr = kv_row_at(vr, 1, stride, F32)) {
                const vf vv = vf_load_kv(vr, (size_t)VF_LANES * i, F32);
                o0 = vf_fmadd(vf_set1(sc[0][jj]), vv, o0);
                if (NQ > 1) o1 = vf_fmadd(vf_set1(sc[1][jj]), vv, o1);
                if (NQ > 2) o2 = vf_fmadd(vf_set1(sc[2][jj]), vv, o2);
                if (NQ > 3) o3 = vf_fmadd(vf_set1(sc[3][jj]), vv, o3);
            }
            o[0][i] = o0;
            if (NQ > 1) o[1][i] = o1;
            if (NQ > 2) o[2][i] = o2;
            if (NQ > 3) o[3][i] = o3;
        }
    }
    for (int h = 0; h < NQ; h++) {
        const vf inv = vf_set1(1.0f / l[h]);
        for (int i = 0; i < nv; i++) vf_storeu(out + (size_t)h * hd + VF_LANES * i, vf_mul(o[h][i], inv));
        if (ml) ml[2 * h] = mx[h], ml[2 * h + 1] = l[h];
    }
}

MLLM_ATTN_ENTRIES(attn_gqa_n, VF_LANES)
