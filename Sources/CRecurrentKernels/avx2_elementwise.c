// AVX2 bodies of small element-wise kernels (rk_uses_avx2() without AVX-512): the input
// projection of a layer with few inputs, bias and product in one pass (rk_input_projection).
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF

#ifdef RK_X86

/// rk_avx2_input_projection for K inputs (a constant: x's K broadcasts stay in registers and the
/// chain is unrolled, 1 load, K fmas and 1 store per 8 outputs).
RK_INLINE_AVX2 void input_projection_k(const int K, long rows, long n, const float *x, long ldx, const float *wt,
                                       const float *bias, float *out) {
    const long whole = n & ~7L;
    const __m256i edge = lanes8(n - whole);
    for (long r = 0; r < rows; r++) {                // rows outer: each output line is written once, in order
        __m256 xq[8];
        for (int q = 0; q < K; q++) xq[q] = _mm256_broadcast_ss(x + r * ldx + q);
        float *o = out + r * n;
        for (long j = 0; j < whole; j += 8) {
            __m256 acc = _mm256_loadu_ps(bias + j);
            for (int q = 0; q < K; q++) acc = _mm256_fmadd_ps(xq[q], _mm256_loadu_ps(wt + q * n + j), acc);
            _mm256_storeu_ps(o + j, acc);
        }
        if (whole < n) {
            __m256 acc = _mm256_maskload_ps(bias + whole, edge);
            for (int q = 0; q < K; q++) acc = _mm256_fmadd_ps(xq[q], _mm256_maskload_ps(wt + q * n + whole, edge), acc);
            _mm256_maskstore_ps(o + whole, edge, acc);
        }
    }
}

/// out [rows, n] = bias + x W_ihᵀ for x [rows, k] (row stride ldx) and wt = W_ihᵀ [k, n], 1 <= k <= 8:
/// avx512_elementwise.c's rk_avx512_input_projection at 8 lanes. Per row and 8-column vector one
/// chain, started at the bias, then fma(x[r, q], wt[q, ·], acc) for q in order: rk_sgemm's chain
/// for C = bias (accumulate) and op(B) = W_ihᵀ, so its bits, each value written once.
void RK_AVX2 rk_avx2_input_projection(long rows, long n, long k, const float *x, long ldx, const float *wt,
                                      const float *bias, float *out) {
    switch (k) {
        case 1: input_projection_k(1, rows, n, x, ldx, wt, bias, out); break;
        case 2: input_projection_k(2, rows, n, x, ldx, wt, bias, out); break;
        case 3: input_projection_k(3, rows, n, x, ldx, wt, bias, out); break;
        case 4: input_projection_k(4, rows, n, x, ldx, wt, bias, out); break;
        case 5: input_projection_k(5, rows, n, x, ldx, wt, bias, out); break;
        case 6: input_projection_k(6, rows, n, x, ldx, wt, bias, out); break;
        case 7: input_projection_k(7, rows, n, x, ldx, wt, bias, out); break;
        case 8: input_projection_k(8, rows, n, x, ldx, wt, bias, out); break;
        default: break;   // rk_input_projection_weight gives W_ihᵀ only for 1 <= k <= 8
    }
}

#endif
