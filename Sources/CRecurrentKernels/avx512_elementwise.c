// AVX-512 bodies of small element-wise kernels (rk_uses_avx512(): system.c): the input projection
// of a layer with few inputs, bias and product in one pass (rk_input_projection).
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF

#ifdef RK_X86

/// out [rows, n] = bias + x W_ihᵀ for x [rows, k] (row stride ldx) and wt = W_ihᵀ [k, n], k <= 8:
/// per row and 16-column vector one chain, started at the bias, then fma(x[r, q], wt[q, ·], acc)
/// for q in order: rk_sgemm's chain for C = bias (accumulate) and op(B) = W_ihᵀ, so its bits, with
/// each value written once (no bias fill before the product, no packing of a k <= 8 operand).
void RK_AVX512 rk_avx512_input_projection(long rows, long n, long k, const float *x, long ldx, const float *wt,
                                          const float *bias, float *out) {
    for (long r = 0; r < rows; r++) {                // rows outer: each output line is written once, in order
        const float *xr = x + r * ldx;
        for (long j = 0; j < n; j += 16) {
            __mmask16 m = lanes16(n - j);
            __m512 acc = _mm512_maskz_loadu_ps(m, bias + j);
            for (long q = 0; q < k; q++)
                acc = _mm512_fmadd_ps(_mm512_set1_ps(xr[q]), _mm512_maskz_loadu_ps(m, wt + q * n + j), acc);
            _mm512_mask_storeu_ps(out + r * n + j, m, acc);
        }
    }
}

#endif
