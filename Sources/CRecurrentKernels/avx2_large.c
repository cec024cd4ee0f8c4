// AVX2 body of the recurrent step of large layers (k > 256, W_hhᵀ packed once per pass into
// rk_pack_b's 16-column panels [k][16]), for rk_uses_avx2() without AVX-512: step.c's step_avx2
// on panels in another loop order.
//
// Why: at H = 512 a panel is k * 64 B = 32 KiB, L1's size, and step_avx2 runs each panel over
// every row tile, so both the panel and the tile's rows of A come from L2 for every tile. Here a
// row tile's [6, k] of A (12 KiB at k = 512) stays in L1 while a group of LARGE_GROUP panels (128 KiB
// at k = 512, in L2) passes over it, each panel once per tile in one sequential stream: groups of
// panels outer, balanced row tiles of up to 6, the group's panels inner; gemm.c's 6x16 tile over
// the whole k (fma_tile, internal.h), then the epilogue while the tile is in L1.
//
// Same bits as step_avx2: every value is the same chain (start at the bias, then fma over
// q = 0 ..< k in order, one loop), then the same epilogue (net = x + acc, h = f(net)) on whole
// vectors. (The relu RNN's backward product in this order with relu' fused ran 0.80-0.91x the
// unfused rk_sgemm_packed_b loop at H = 512: BENCHMARKS.md session 13, big13.)
//
// The relu RNN's backward product for k > 256 (rk_avx2_large_relu_dnet) runs in
// rk_sgemm_packed_b's order instead (k blocks of LARGE_KC outer: a 16 x 256 block of a panel,
// 16 KiB, stays in L1 while the row tiles pass; then panels, then balanced row tiles reading A in
// place), in avx2_step.c's tile (rk_avx2_relu_dnet_tile) with relu' in the last k block, so
// dL/dh_{t-1} is never stored and read back by a pass of its own. Same bits as rk_sgemm_packed_b,
// then + dout, then rk_relu_backward: each value starts at 0, takes fma(dnet(r, q), W(q, j), acc) over q in order
// (stored into dnet_prev and reloaded exactly between k blocks), then d = acc (+ dout) and
// dnet_prev = NLE_UQ(net_prev, 0) & d on whole vectors.
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF

#ifdef RK_X86

enum {
    LARGE_GROUP = 4,   // 16-column panels per group: 4 * k * 64 B, 128 KiB at k = 512 (L2: 512 KiB)
    LARGE_KC = 256,    // the backward product's k block: 16 x 256 of a panel (16 KiB) stays in L1
};

/// One MR x (8*NV) tile: acc = bias + a [MR, kc] (rows lda apart) x b [kc][16], stored into c
/// (rows ldc apart).
RK_INLINE_AVX2 void large_tile(const int MR, const int NV, const int masked, int nr, long kc, const float *a,
                               long lda, const float *b, const float *bias, float *c, long ldc) {
    __m256 x0[6], x1[6];
    __m256i m0 = _mm256_set1_epi32(-1), m1 = m0;
    if (masked) edge_masks(nr, &m0, &m1);
    __m256 b0 = masked && NV == 1 ? _mm256_maskload_ps(bias, m0) : _mm256_loadu_ps(bias), b1 = _mm256_setzero_ps();
    if (NV == 2) b1 = masked ? _mm256_maskload_ps(bias + 8, m1) : _mm256_loadu_ps(bias + 8);
    for (int r = 0; r < MR; r++) { x0[r] = b0; x1[r] = b1; }
    fma_tile(MR, NV, masked, 1, m0, m1, kc, a, lda, 1, b, 16, x0, x1);
    for (int r = 0; r < MR; r++) {
        float *cr = c + r * ldc;
        if (masked && NV == 1) _mm256_maskstore_ps(cr, m0, x0[r]); else _mm256_storeu_ps(cr, x0[r]);
        if (NV == 2) { if (masked) _mm256_maskstore_ps(cr + 8, m1, x1[r]); else _mm256_storeu_ps(cr + 8, x1[r]); }
    }
}

#define RK_LARGE_CASE(MR, NV, MASK) \
    case ((MR) * 2 + (NV) - 1) * 2 + (MASK): large_tile(MR, NV, MASK, nr, kc, a, lda, b, bias, c, ldc); break;
#define RK_LARGE_ROW(MR) RK_LARGE_CASE(MR, 1, 0) RK_LARGE_CASE(MR, 1, 1) RK_LARGE_CASE(MR, 2, 0) RK_LARGE_CASE(MR, 2, 1)

void RK_AVX2 rk_avx2_bias_tile(int mr, int nr, long kc, const float *a, long lda, const float *b, const float *bias,
                               float *c, long ldc) {
    int nv = nr > 8 ? 2 : 1, masked = nr != 8 * nv;
    switch ((mr * 2 + nv - 1) * 2 + masked) {
        RK_LARGE_ROW(1) RK_LARGE_ROW(2) RK_LARGE_ROW(3) RK_LARGE_ROW(4) RK_LARGE_ROW(5) RK_LARGE_ROW(6)
        default: break;
    }
}

/// net = x + acc (acc in net) and h = f(net) on one vector, as step.c's micro_step.
RK_INLINE_AVX2 void large_vector(const int masked, __m256i m, const float *x, float *net, float *hout, int act) {
#define LOAD(p) (masked ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p))
#define STORE(p, v) do { if (masked) _mm256_maskstore_ps(p, m, v); else _mm256_storeu_ps(p, v); } while (0)
    __m256 nv = _mm256_add_ps(LOAD(x), LOAD(net));
    STORE(net, nv);
    // relu as max_ps(0, net): the second operand is returned for NaN (and for -0.0),
    // which is Activation.relu's `x < 0 ? 0 : x` exactly.
    if (act) STORE(hout, act == 1 ? _mm256_max_ps(_mm256_setzero_ps(), nv) : tanh8(nv));
#undef LOAD
#undef STORE
}

/// The epilogue of a finished tile [mr, nr] (row stride ld; x's ldx) on whole 8-lane vectors, masked
/// only at the column edge (masked stores are slow on AMD), so a value never depends on its position.
static RK_AVX2 void large_epilogue(int mr, int nr, long ld, const float *x, long ldx, float *net, float *hout, int act) {
    for (int r = 0; r < mr; r++)
        for (int v = 0; v < nr; v += 8) {
            const long o = r * ld + v;
            if (nr - v >= 8) large_vector(0, _mm256_set1_epi32(-1), x + r * ldx + v, net + o, hout ? hout + o : NULL, act);
            else large_vector(1, lanes8(nr - v), x + r * ldx + v, net + o, hout ? hout + o : NULL, act);
        }
}

/// rows [rows, n] (row stride ld) of the step: groups of LARGE_GROUP panels, balanced row tiles
/// (8 rows: 4 + 4), the group's panels; the epilogue on each finished tile while it is in L1.
/// With x NULL the epilogue forms x itself, tile by tile: x = b_ih + u W_ihᵀ (u [rows, ku], W_ihᵀ as
/// rk_pack_b(1, ku, n, W_ih, ...)'s panels [ku][16] at column 0's), rk_sgemm_packed_b's chain from
/// C = b_ih (start at b_ih, fma over q = 0 ..< ku in order), so the bits of x formed by a pass of
/// its own, which is then neither written nor read back.
void RK_AVX2 rk_avx2_large_step(long rows, long n, long k, const float *h_prev, const float *panels, const float *bias,
                                const float *x, const float *u, long ku, const float *wih, const float *bih,
                                float *net, float *h_new, long ld, int act) {
    long ni = (rows + 5) / 6;
    float xt[6 * 16];   // [6, 16] x of one tile, when formed here
    for (long g = 0; g < n; g += 16 * LARGE_GROUP)
        for (long ti = 0; ti < ni; ti++) {
            long i = rows * ti / ni, iEnd = rows * (ti + 1) / ni, gEnd = n - g < 16 * LARGE_GROUP ? n : g + 16 * LARGE_GROUP;
            for (long j = g; j < gEnd; j += 16) {
                int mr = (int)(iEnd - i), nr = (int)(n - j < 16 ? n - j : 16);
                long o = i * ld + j;
                rk_avx2_bias_tile(mr, nr, k, h_prev + i * k, k, panels + j * k, bias + j, net + o, ld);
                if (x) large_epilogue(mr, nr, ld, x + o, ld, net + o, h_new ? h_new + o : NULL, act);
                else {
                    rk_avx2_bias_tile(mr, nr, ku, u + i * ku, ku, wih + j * ku, bih + j, xt, 16);
                    large_epilogue(mr, nr, ld, xt, 16, net + o, h_new ? h_new + o : NULL, act);
                }
            }
        }
}


/// dnet_prev [rows, n] = relu'(net_prev) ⊙ (dnet W + dout) for dnet [rows, k] and W [k, n] as
/// rk_pack_b(0, k, n, W, ...)'s panels [k][16]; dout (may be NULL), net_prev and dnet_prev [rows, n]
/// with row stride n (dnet_prev holds the partial sums between k blocks: it must not be dnet). net_prev
/// may be h_prev = max(0, net_prev): h <= 0 exactly where net <= 0, NaN where net is, so the same selection.
/// k blocks outer, panels, balanced row tiles (8 rows: 4 + 4), as rk_sgemm_packed_b.
void RK_AVX2 rk_avx2_large_relu_dnet(long rows, long n, long k, const float *dnet, const float *panels,
                                     const float *dout, const float *net_prev, float *dnet_prev) {
    long ni = (rows + 5) / 6;
    for (long q0 = 0; q0 < k; q0 += LARGE_KC) {
        long kc = k - q0 < LARGE_KC ? k - q0 : LARGE_KC;
        int first = q0 == 0, last = q0 + kc == k;
        for (long j = 0; j < n; j += 16) {
            int nr = (int)(n - j < 16 ? n - j : 16);
            for (long ti = 0; ti < ni; ti++) {
                long i = rows * ti / ni, iEnd = rows * (ti + 1) / ni, o = i * n + j;
                rk_avx2_relu_dnet_tile((int)(iEnd - i), nr, kc, dnet + i * k + q0, k, panels + j * k + q0 * 16, 16, first,
                                       last, dout ? dout + o : NULL, net_prev + o, dnet_prev + o, n);
            }
        }
    }
}

#endif
