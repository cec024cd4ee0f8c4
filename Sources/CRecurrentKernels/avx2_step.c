// AVX2 body of the relu RNN's backward product with relu' in its epilogue (rk_uses_avx2() without
// AVX-512): avx512.c's rk_avx512_relu_dnet at 8 lanes, in gemm.c's 6x16 tiles (12 accumulators,
// 2 B vectors and a broadcast of the 16 ymm; fma_tile's loop, internal.h).
//
// Same bits as rk_relu_backward after rk_sgemm (relu_rnn_backward_rows' other loop): every value
// is rk_sgemm's chain, started at 0, then fma(dnet(r, q), W(q, j), acc) for q = 0 ..< k in order in
// one loop (a k-block store and reload is exact), then d = acc (+ dout) and dnet_prev = net_prev <= 0
// ? 0 : d on whole vectors, so dL/dh_{t-1} is never stored and read back by a pass of its own.
// Its tile also runs avx2_large.c's k-blocked product for k > 256 (rk_avx2_relu_dnet_tile: the
// sums stored and reloaded between k blocks, the epilogue in the last).
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF

#ifdef RK_X86

/// One MR x (8*NV) tile of the product dnet W over one k block: acc = (first ? 0 : c) + a [MR, kc]
/// (rows lda apart) b [kc][16] (rows rb apart: W in place or its 16-column panels); in the last
/// block d = acc (+ dout, OUT) and c = NLE_UQ(net, 0) & d (a NaN net passes d, as rk_relu_backward),
/// else c = acc (the partial sums, stored and reloaded exactly by the next block). c, dout and net
/// (net_prev): rows ld apart.
RK_INLINE_AVX2 void relu_dnet_tile(const int MR, const int NV, const int masked, const int OUT, int nr, long kc,
                                   const float *a, long lda, const float *b, long rb, int first, int last,
                                   const float *dout, const float *net, float *c, long ld) {
    __m256 x0[6], x1[6];
    __m256i m0 = _mm256_set1_epi32(-1), m1 = m0;
    if (masked) edge_masks(nr, &m0, &m1);
#define LOAD(p, m, mv) ((mv) ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p))
    if (last)   // net_prev and dout ([T*B, H] streams, not in cache) arrive while the product runs
        for (int r = 0; r < MR; r++) {
            _mm_prefetch((const char *)(net + r * ld), _MM_HINT_T0);
            _mm_prefetch((const char *)(net + r * ld + 8 * NV - 1), _MM_HINT_T0);
            if (OUT) {
                _mm_prefetch((const char *)(dout + r * ld), _MM_HINT_T0);
                _mm_prefetch((const char *)(dout + r * ld + 8 * NV - 1), _MM_HINT_T0);
            }
        }
    // A masked 16-wide tile's first 8 columns are whole: only the vector at the edge is masked
    // (masked loads and stores are slow on AMD).
    const int mv0 = masked && NV == 1, mv1 = masked && NV == 2;
    if (first) {
        for (int r = 0; r < MR; r++) { x0[r] = _mm256_setzero_ps(); x1[r] = x0[r]; }
    } else {
        for (int r = 0; r < MR; r++) {
            x0[r] = LOAD(c + r * ld, m0, mv0);
            x1[r] = NV == 2 ? LOAD(c + r * ld + 8, m1, mv1) : _mm256_setzero_ps();
        }
    }
    fma_tile(MR, NV, masked, 1, m0, m1, kc, a, lda, 1, b, rb, x0, x1);
    const __m256 zero = _mm256_setzero_ps();
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++) {
            const __m256i m = v == 0 ? m0 : m1;
            const int mv = v == 0 ? mv0 : mv1;
            const long o = r * ld + 8 * v;
            __m256 d = v == 0 ? x0[r] : x1[r];
            if (last) {
                if (OUT) d = _mm256_add_ps(d, LOAD(dout + o, m, mv));
                d = _mm256_and_ps(_mm256_cmp_ps(LOAD(net + o, m, mv), zero, _CMP_NLE_UQ), d);
            }
            if (mv) _mm256_maskstore_ps(c + o, m, d); else _mm256_storeu_ps(c + o, d);
        }
#undef LOAD
}

#define RK_DNET_CASE(MR, NV, MASK, OUT) \
    case (((MR) * 2 + (NV) - 1) * 2 + (MASK)) * 2 + (OUT): \
        relu_dnet_tile(MR, NV, MASK, OUT, nr, kc, a, lda, b, rb, first, last, dout, net, c, ld); break;
#define RK_DNET_OUTS(MR, NV, MASK) RK_DNET_CASE(MR, NV, MASK, 0) RK_DNET_CASE(MR, NV, MASK, 1)
#define RK_DNET_ROW(MR) RK_DNET_OUTS(MR, 1, 0) RK_DNET_OUTS(MR, 1, 1) RK_DNET_OUTS(MR, 2, 0) RK_DNET_OUTS(MR, 2, 1)

void RK_AVX2 rk_avx2_relu_dnet_tile(int mr, int nr, long kc, const float *a, long lda, const float *b, long rb,
                                    int first, int last, const float *dout, const float *net, float *c, long ld) {
    int nv = nr > 8 ? 2 : 1, masked = nr != 8 * nv;
    switch (((mr * 2 + nv - 1) * 2 + masked) * 2 + (last && dout != NULL)) {
        RK_DNET_ROW(1) RK_DNET_ROW(2) RK_DNET_ROW(3) RK_DNET_ROW(4) RK_DNET_ROW(5) RK_DNET_ROW(6)
        default: break;
    }
}

/// dnet_prev [rows, n] = relu'(net_prev) ⊙ (dnet W + dout) for dnet [rows, k], W [k, n] (row stride
/// ldw) or, ldw = 0, rk_pack_b(0, k, n, W, ...)'s panels [k][16]; dout (may be NULL), net_prev and
/// dnet_prev [rows, n] with row stride n (net_prev may be h_prev = max(0, net_prev): the same selection). Tiles as gemm.c's tile_avx2 runs the product for
/// rows <= n: 16 columns outer (their rows of W stay in L1), balanced row tiles of up to 6 inner.
void RK_AVX2 rk_avx2_relu_dnet(long rows, long n, long k, const float *dnet, const float *w, long ldw,
                               const float *dout, const float *net_prev, float *dnet_prev) {
    long ni = (rows + 5) / 6;
    for (long j = 0; j < n; j += 16) {
        int nr = (int)(n - j < 16 ? n - j : 16);
        const float *b = ldw ? w + j : w + j * k;
        for (long ti = 0; ti < ni; ti++) {
            long i = rows * ti / ni, iEnd = rows * (ti + 1) / ni;
            rk_avx2_relu_dnet_tile((int)(iEnd - i), nr, k, dnet + i * k, k, b, ldw ? ldw : 16, 1, 1,
                                   dout ? dout + i * n + j : NULL, net_prev + i * n + j, dnet_prev + i * n + j, n);
        }
    }
}

#endif
