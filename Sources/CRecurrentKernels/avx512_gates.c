// AVX-512 bodies of the LSTM and GRU gate kernels (rk_uses_avx512(): system.c), 16 units at a
// time; cells.c calls them per row and runs the rest of the row (8 lanes, then a masked 8-lane tail).
//
// Same bits as cells.c's AVX2 bodies: each lane runs those bodies' operations in the same
// order (exp16, sigmoid16 and tanh16 are exp8, sigmoid8 and tanh8 lane for lane, internal.h;
// the one explicit fma, c_t = fma(f, c_{t-1}, i g), is kept); the 16-lane loop stops at
// 16*floor(h/16), where the 8-lane loop takes over.
//
// Shapes per row: LSTM gates [4h] (i, f, g, o), c_{t-1}, c_t, h_t, tanh(c_t), dh, dc [h];
// GRU x, hh, gates [3h] (r, z, n), h_{t-1}, h_t, dh, direct [h].
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF

#ifdef RK_X86

#define LD(p) _mm512_loadu_ps(p)
#define ST(p, v) _mm512_storeu_ps(p, v)

// MARK: - LSTM

/// i, f, o = σ(pre), g = tanh(pre); c_t = f c_{t-1} + i g; h_t = o tanh(c_t) (cells.c's
/// lstm_forward_avx2, 16 lanes).
RK_AVX512 long rk_avx512_lstm_forward_row(long h, float *g, const float *cp, float *c, float *hn, float *tc) {
    long j = 0;
    for (; j + 16 <= h; j += 16) {
        __m512 i = sigmoid16(LD(g + j)), f = sigmoid16(LD(g + h + j));     // [16] each
        __m512 gg = tanh16(LD(g + 2 * h + j)), o = sigmoid16(LD(g + 3 * h + j));
        ST(g + j, i); ST(g + h + j, f); ST(g + 2 * h + j, gg); ST(g + 3 * h + j, o);
        __m512 cn = _mm512_fmadd_ps(f, LD(cp + j), _mm512_mul_ps(i, gg)), t = tanh16(cn);
        ST(c + j, cn);
        ST(hn + j, _mm512_mul_ps(o, t));
        if (tc) ST(tc + j, t);
    }
    return j;
}

/// The mirror (cells.c's lstm_backward_avx2, 16 lanes): dc_t += dh o (1 - tanh²c_t); then
/// dpre_i = dc_t g i (1 - i), dpre_f = dc_t c_{t-1} f (1 - f), dpre_g = dc_t i (1 - g²),
/// dpre_o = dh tanh(c_t) o (1 - o), dc_{t-1} = dc_t f.
RK_AVX512 long rk_avx512_lstm_backward_row(long h, const float *g, const float *cp, const float *c, const float *tc,
                                           const float *dh, float *dc, float *dp) {
    const __m512 one = _mm512_set1_ps(1.0f);
    long j = 0;
    for (; j + 16 <= h; j += 16) {
        __m512 i = LD(g + j), f = LD(g + h + j), gg = LD(g + 2 * h + j), o = LD(g + 3 * h + j);
        __m512 t = tc ? LD(tc + j) : tanh16(LD(c + j)), d = LD(dh + j);
        __m512 dct = _mm512_add_ps(LD(dc + j), _mm512_mul_ps(_mm512_mul_ps(d, o), _mm512_sub_ps(one, _mm512_mul_ps(t, t))));
        __m512 dO = _mm512_mul_ps(d, t), dI = _mm512_mul_ps(dct, gg);
        __m512 dF = _mm512_mul_ps(dct, LD(cp + j)), dG = _mm512_mul_ps(dct, i);
        ST(dc + j, _mm512_mul_ps(dct, f));
        ST(dp + j, _mm512_mul_ps(_mm512_mul_ps(dI, i), _mm512_sub_ps(one, i)));
        ST(dp + h + j, _mm512_mul_ps(_mm512_mul_ps(dF, f), _mm512_sub_ps(one, f)));
        ST(dp + 2 * h + j, _mm512_mul_ps(dG, _mm512_sub_ps(one, _mm512_mul_ps(gg, gg))));
        ST(dp + 3 * h + j, _mm512_mul_ps(_mm512_mul_ps(dO, o), _mm512_sub_ps(one, o)));
    }
    return j;
}

// MARK: - GRU

/// r = σ(x_r + hh_r), z = σ(x_z + hh_z), n = tanh(x_n + r hh_n), h_t = (1 - z) n + z h_{t-1}
/// (cells.c's gru_forward_avx2, 16 lanes).
RK_AVX512 long rk_avx512_gru_forward_row(long h, const float *x, const float *hh, const float *hp, float *g, float *hn) {
    const __m512 one = _mm512_set1_ps(1.0f);
    long j = 0;
    for (; j + 16 <= h; j += 16) {
        __m512 r = sigmoid16(_mm512_add_ps(LD(x + j), LD(hh + j)));
        __m512 z = sigmoid16(_mm512_add_ps(LD(x + h + j), LD(hh + h + j)));
        __m512 n = tanh16(_mm512_add_ps(LD(x + 2 * h + j), _mm512_mul_ps(r, LD(hh + 2 * h + j))));
        ST(g + j, r); ST(g + h + j, z); ST(g + 2 * h + j, n);
        ST(hn + j, _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(one, z), n), _mm512_mul_ps(z, LD(hp + j))));
    }
    return j;
}

/// The mirror (cells.c's gru_backward_avx2, 16 lanes): dn = dh (1 - z)(1 - n²),
/// dr = dn hh_n r (1 - r), dz = dh (h_{t-1} - n) z (1 - z), direct = dh z.
RK_AVX512 long rk_avx512_gru_backward_row(long h, const float *hh, const float *g, const float *hp, const float *dh,
                                          float *din, float *dhh, float *direct) {
    const __m512 one = _mm512_set1_ps(1.0f);
    long j = 0;
    for (; j + 16 <= h; j += 16) {
        __m512 r = LD(g + j), z = LD(g + h + j), n = LD(g + 2 * h + j), dv = LD(dh + j);
        __m512 dnPre = _mm512_mul_ps(_mm512_mul_ps(dv, _mm512_sub_ps(one, z)), _mm512_sub_ps(one, _mm512_mul_ps(n, n)));
        __m512 drPre = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dnPre, LD(hh + 2 * h + j)), r), _mm512_sub_ps(one, r));
        __m512 dzPre = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dv, _mm512_sub_ps(LD(hp + j), n)), z), _mm512_sub_ps(one, z));
        ST(direct + j, _mm512_mul_ps(dv, z));
        ST(din + j, drPre); ST(din + h + j, dzPre); ST(din + 2 * h + j, dnPre);
        ST(dhh + j, drPre); ST(dhh + h + j, dzPre); ST(dhh + 2 * h + j, _mm512_mul_ps(dnPre, r));
    }
    return j;
}

#endif
