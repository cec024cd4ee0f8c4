// The cells' fused element-wise kernels: column sums, the relu step backward, LSTM and GRU
// gates, the tanh step (see include/CRecurrentKernels.h).
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF

// MARK: - Column sums

#ifdef RK_X86
// The same additions in the same order as the portable loop (per column, rows in order), 32
// columns at a time summed in registers: out[j] is loaded and stored once per call, not once per
// row (a chain of store-to-load forwards through memory, row after row).
static RK_AVX2 void column_sums_avx2(const float *restrict a, long rows, long cols, float *restrict out) {
    long j = 0;
    for (; j + 32 <= cols; j += 32) {
        __m256 s0 = _mm256_loadu_ps(out + j), s1 = _mm256_loadu_ps(out + j + 8);
        __m256 s2 = _mm256_loadu_ps(out + j + 16), s3 = _mm256_loadu_ps(out + j + 24);
        for (long r = 0; r < rows; r++) {
            const float *restrict row = a + r * cols + j;
            s0 = _mm256_add_ps(s0, _mm256_loadu_ps(row));
            s1 = _mm256_add_ps(s1, _mm256_loadu_ps(row + 8));
            s2 = _mm256_add_ps(s2, _mm256_loadu_ps(row + 16));
            s3 = _mm256_add_ps(s3, _mm256_loadu_ps(row + 24));
        }
        _mm256_storeu_ps(out + j, s0);
        _mm256_storeu_ps(out + j + 8, s1);
        _mm256_storeu_ps(out + j + 16, s2);
        _mm256_storeu_ps(out + j + 24, s3);
    }
    for (; j + 8 <= cols; j += 8) {
        __m256 s = _mm256_loadu_ps(out + j);
        for (long r = 0; r < rows; r++) s = _mm256_add_ps(s, _mm256_loadu_ps(a + r * cols + j));
        _mm256_storeu_ps(out + j, s);
    }
    for (; j < cols; j++) {
        float s = out[j];
        for (long r = 0; r < rows; r++) s += a[r * cols + j];
        out[j] = s;
    }
}

// PyTorch's threshold_backward: dnet = net <= 0 ? 0 : dh, so a NaN net passes dh through
// (NLE_UQ is true for NaN) and a NaN anywhere upstream still reaches the gradients.
static RK_AVX2 void relu_backward_avx2(long n, const float *net, const float *dh, float *dnet) {
    long i = 0;
    const __m256 zero = _mm256_setzero_ps();
    for (; i + 8 <= n; i += 8) {
        __m256 pass = _mm256_cmp_ps(_mm256_loadu_ps(net + i), zero, _CMP_NLE_UQ);
        _mm256_storeu_ps(dnet + i, _mm256_and_ps(pass, _mm256_loadu_ps(dh + i)));
    }
    for (; i < n; i++) dnet[i] = net[i] <= 0 ? 0.0f : dh[i];
}
#endif

void rk_relu_backward(long n, const float *net, const float *dh, float *dnet) {
#ifdef RK_X86
    if (rk_uses_avx2()) { relu_backward_avx2(n, net, dh, dnet); return; }
#endif
    for (long i = 0; i < n; i++) dnet[i] = net[i] <= 0 ? 0.0f : dh[i];
}

void rk_column_sums(const float *restrict a, long rows, long cols, float *restrict out, int accumulate) {
    if (!accumulate) memset(out, 0, sizeof(float) * (size_t)cols);
#ifdef RK_X86
    if (rk_uses_avx2()) { column_sums_avx2(a, rows, cols, out); return; }
#endif
    for (long r = 0; r < rows; r++) {
        const float *restrict row = a + r * cols;
        for (long j = 0; j < cols; j++) out[j] += row[j];
    }
}

// MARK: - LSTM gates

static inline float sigmoid1(float x) { return x >= 0 ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x)); }

// The step's transcendental work is five per unit forward (σ(i), σ(f), tanh(g), σ(o),
// tanh(c_t)); backward needs tanh(c_t) again, so the forward keeps it when given somewhere to
// put it (tc, row stride ldt; NULL: recomputed in backward from c_t, the same bits).

static void lstm_forward_scalar(long h, long j0, float *gate, const float *cp, float *c, float *hn, float *tc) {
    for (long j = j0; j < h; j++) {
        float i = sigmoid1(gate[j]), f = sigmoid1(gate[h + j]), g = tanhf(gate[2 * h + j]), o = sigmoid1(gate[3 * h + j]);
        gate[j] = i; gate[h + j] = f; gate[2 * h + j] = g; gate[3 * h + j] = o;
        float cn = f * cp[j] + i * g, t = tanhf(cn);
        c[j] = cn; hn[j] = o * t;
        if (tc) tc[j] = t;
    }
}

static void lstm_backward_scalar(long h, long j0, const float *gate, const float *cp, const float *c, const float *tcr,
                                 const float *dh, float *dc, float *dpre) {
    for (long j = j0; j < h; j++) {
        float i = gate[j], f = gate[h + j], g = gate[2 * h + j], o = gate[3 * h + j];
        float tc = tcr ? tcr[j] : tanhf(c[j]);
        float dct = dc[j] + dh[j] * o * (1 - tc * tc);
        float dO = dh[j] * tc, dI = dct * g, dF = dct * cp[j], dG = dct * i;
        dc[j] = dct * f;
        dpre[j] = dI * i * (1 - i); dpre[h + j] = dF * f * (1 - f);
        dpre[2 * h + j] = dG * (1 - g * g); dpre[3 * h + j] = dO * o * (1 - o);
    }
}

#ifdef RK_X86
// Loads and stores of 8 lanes; MASKED: the first lanes of m only (a row's last h % 8 units, whose
// other lanes read as 0 and are not written). The tail runs the same body as the rest of the row,
// so a unit's value never depends on its position, and no unit goes through libm.
RK_INLINE_AVX2 __m256 ld8(const int masked, __m256i m, const float *p) {
    return masked ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p);
}
RK_INLINE_AVX2 void st8(const int masked, __m256i m, float *p, __m256 v) {
    if (masked) _mm256_maskstore_ps(p, m, v); else _mm256_storeu_ps(p, v);
}

/// Units j ..< j + 8 of one row: lstm_forward_scalar's formulas with sigmoid8 and tanh8.
RK_INLINE_AVX2 void lstm_forward8(const int masked, __m256i m, long h, long j, float *g, const float *cp, float *c,
                                  float *hn, float *tc) {
    __m256 i = sigmoid8(ld8(masked, m, g + j)), f = sigmoid8(ld8(masked, m, g + h + j));
    __m256 gg = tanh8(ld8(masked, m, g + 2 * h + j)), o = sigmoid8(ld8(masked, m, g + 3 * h + j));
    st8(masked, m, g + j, i); st8(masked, m, g + h + j, f);
    st8(masked, m, g + 2 * h + j, gg); st8(masked, m, g + 3 * h + j, o);
    __m256 cn = _mm256_fmadd_ps(f, ld8(masked, m, cp + j), _mm256_mul_ps(i, gg)), t = tanh8(cn);
    st8(masked, m, c + j, cn);
    st8(masked, m, hn + j, _mm256_mul_ps(o, t));
    if (tc) st8(masked, m, tc + j, t);
}

/// Units j ..< j + 8 of one row: lstm_backward_scalar's formulas (tanh(c_t) by tanh8 when not kept).
RK_INLINE_AVX2 void lstm_backward8(const int masked, __m256i m, long h, long j, const float *g, const float *cp,
                                   const float *c, const float *tc, const float *dh, float *dc, float *dp) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 i = ld8(masked, m, g + j), f = ld8(masked, m, g + h + j);
    __m256 gg = ld8(masked, m, g + 2 * h + j), o = ld8(masked, m, g + 3 * h + j);
    __m256 t = tc ? ld8(masked, m, tc + j) : tanh8(ld8(masked, m, c + j)), d = ld8(masked, m, dh + j);
    __m256 dct = _mm256_add_ps(ld8(masked, m, dc + j), _mm256_mul_ps(_mm256_mul_ps(d, o), _mm256_sub_ps(one, _mm256_mul_ps(t, t))));
    __m256 dO = _mm256_mul_ps(d, t), dI = _mm256_mul_ps(dct, gg);
    __m256 dF = _mm256_mul_ps(dct, ld8(masked, m, cp + j)), dG = _mm256_mul_ps(dct, i);
    st8(masked, m, dc + j, _mm256_mul_ps(dct, f));
    st8(masked, m, dp + j, _mm256_mul_ps(_mm256_mul_ps(dI, i), _mm256_sub_ps(one, i)));
    st8(masked, m, dp + h + j, _mm256_mul_ps(_mm256_mul_ps(dF, f), _mm256_sub_ps(one, f)));
    st8(masked, m, dp + 2 * h + j, _mm256_mul_ps(dG, _mm256_sub_ps(one, _mm256_mul_ps(gg, gg))));
    st8(masked, m, dp + 3 * h + j, _mm256_mul_ps(_mm256_mul_ps(dO, o), _mm256_sub_ps(one, o)));
}

// `wide` (rk_uses_avx512()): each row starts with avx512_gates.c's 16-lane body, which stops at
// a multiple of 16; the 8-lane loop and its masked tail run the rest. Every lane of every body
// runs the same operations, so the bits are the same with and without it.
static RK_AVX2 void lstm_forward_avx2(long rows, long h, float *gates, const float *cp, float *c, float *hn,
                                      float *tc, long ldt, int wide) {
    const __m256i all = lanes8(8);
    for (long r = 0; r < rows; r++) {
        float *g = gates + r * 4 * h;
        const float *cpr = cp + r * h; float *cr = c + r * h, *hr = hn + r * h, *tr = tc ? tc + r * ldt : NULL;
        long j = wide ? rk_avx512_lstm_forward_row(h, g, cpr, cr, hr, tr) : 0;
        for (; j + 8 <= h; j += 8) lstm_forward8(0, all, h, j, g, cpr, cr, hr, tr);
        if (j < h) lstm_forward8(1, lanes8(h - j), h, j, g, cpr, cr, hr, tr);
    }
}

static RK_AVX2 void lstm_backward_avx2(long rows, long h, const float *gates, const float *cp, const float *c,
                                       const float *tc, long ldt, const float *dh, float *dc, float *dpre, int wide) {
    const __m256i all = lanes8(8);
    for (long r = 0; r < rows; r++) {
        const float *g = gates + r * 4 * h, *cpr = cp + r * h, *cr = c ? c + r * h : NULL, *dhr = dh + r * h;
        const float *tr = tc ? tc + r * ldt : NULL;
        float *dcr = dc + r * h, *dp = dpre + r * 4 * h;
        long j = wide ? rk_avx512_lstm_backward_row(h, g, cpr, cr, tr, dhr, dcr, dp) : 0;
        for (; j + 8 <= h; j += 8) lstm_backward8(0, all, h, j, g, cpr, cr, tr, dhr, dcr, dp);
        if (j < h) lstm_backward8(1, lanes8(h - j), h, j, g, cpr, cr, tr, dhr, dcr, dp);
    }
}
#endif

static void lstm_forward(long rows, long h, float *gates, const float *c_prev, float *c_new, float *h_new,
                         float *tanh_c, long ldt) {
#ifdef RK_X86
    if (rk_uses_avx2()) { lstm_forward_avx2(rows, h, gates, c_prev, c_new, h_new, tanh_c, ldt, rk_uses_avx512()); return; }
#endif
    for (long r = 0; r < rows; r++)
        lstm_forward_scalar(h, 0, gates + r * 4 * h, c_prev + r * h, c_new + r * h, h_new + r * h,
                            tanh_c ? tanh_c + r * ldt : NULL);
}

static void lstm_backward(long rows, long h, const float *gates, const float *c_prev, const float *c_new,
                          const float *tanh_c, long ldt, const float *dh, float *dc, float *dpre) {
#ifdef RK_X86
    if (rk_uses_avx2()) {
        lstm_backward_avx2(rows, h, gates, c_prev, c_new, tanh_c, ldt, dh, dc, dpre, rk_uses_avx512());
        return;
    }
#endif
    for (long r = 0; r < rows; r++)
        lstm_backward_scalar(h, 0, gates + r * 4 * h, c_prev + r * h, c_new ? c_new + r * h : NULL,
                             tanh_c ? tanh_c + r * ldt : NULL, dh + r * h, dc + r * h, dpre + r * 4 * h);
}

void rk_lstm_forward(long rows, long h, float *gates, const float *c_prev, float *c_new, float *h_new) {
    lstm_forward(rows, h, gates, c_prev, c_new, h_new, NULL, 0);
}

void rk_lstm_backward(long rows, long h, const float *gates, const float *c_prev, const float *c_new,
                      const float *dh, float *dc, float *dpre) {
    lstm_backward(rows, h, gates, c_prev, c_new, NULL, 0, dh, dc, dpre);
}

void rk_lstm_forward_keep(long rows, long h, float *gates, const float *c_prev, float *c_new, float *h_new,
                          float *tanh_c, long ldt) {
    lstm_forward(rows, h, gates, c_prev, c_new, h_new, tanh_c, ldt);
}

void rk_lstm_backward_kept(long rows, long h, const float *gates, const float *c_prev, const float *tanh_c, long ldt,
                           const float *dh, float *dc, float *dpre) {
    lstm_backward(rows, h, gates, c_prev, NULL, tanh_c, ldt, dh, dc, dpre);
}

// MARK: - GRU gates

static void gru_forward_scalar(long h, long j0, const float *x, const float *hh, const float *hp,
                               float *gate, float *hn) {
    for (long j = j0; j < h; j++) {
        float r = sigmoid1(x[j] + hh[j]), z = sigmoid1(x[h + j] + hh[h + j]);
        float n = tanhf(x[2 * h + j] + r * hh[2 * h + j]);
        gate[j] = r; gate[h + j] = z; gate[2 * h + j] = n;
        hn[j] = (1 - z) * n + z * hp[j];
    }
}

static void gru_backward_scalar(long h, long j0, const float *hh, const float *gate, const float *hp,
                                const float *dh, float *din, float *dhh, float *direct) {
    for (long j = j0; j < h; j++) {
        float r = gate[j], z = gate[h + j], n = gate[2 * h + j];
        float dnPre = dh[j] * (1 - z) * (1 - n * n);
        float drPre = dnPre * hh[2 * h + j] * r * (1 - r);
        float dzPre = dh[j] * (hp[j] - n) * z * (1 - z);
        direct[j] = dh[j] * z;
        din[j] = drPre; din[h + j] = dzPre; din[2 * h + j] = dnPre;
        dhh[j] = drPre; dhh[h + j] = dzPre; dhh[2 * h + j] = dnPre * r;
    }
}

#ifdef RK_X86
/// Units j ..< j + 8 of one row: gru_forward_scalar's formulas with sigmoid8 and tanh8.
RK_INLINE_AVX2 void gru_forward8(const int masked, __m256i m, long h, long j, const float *x, const float *hh,
                                 const float *hp, float *g, float *hn) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 r = sigmoid8(_mm256_add_ps(ld8(masked, m, x + j), ld8(masked, m, hh + j)));
    __m256 z = sigmoid8(_mm256_add_ps(ld8(masked, m, x + h + j), ld8(masked, m, hh + h + j)));
    __m256 n = tanh8(_mm256_add_ps(ld8(masked, m, x + 2 * h + j), _mm256_mul_ps(r, ld8(masked, m, hh + 2 * h + j))));
    st8(masked, m, g + j, r); st8(masked, m, g + h + j, z); st8(masked, m, g + 2 * h + j, n);
    st8(masked, m, hn + j, _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(one, z), n), _mm256_mul_ps(z, ld8(masked, m, hp + j))));
}

// `wide`: as lstm_forward_avx2's (the 16-lane body first, then 8 lanes and the masked tail).
static RK_AVX2 void gru_forward_avx2(long rows, long h, const float *x, const float *hh, const float *hp,
                                     float *gates, float *hn, int wide) {
    const __m256i all = lanes8(8);
    for (long row = 0; row < rows; row++) {
        const float *xr = x + row * 3 * h, *hr = hh + row * 3 * h, *pr = hp + row * h;
        float *g = gates + row * 3 * h, *out = hn + row * h;
        long j = wide ? rk_avx512_gru_forward_row(h, xr, hr, pr, g, out) : 0;
        for (; j + 8 <= h; j += 8) gru_forward8(0, all, h, j, xr, hr, pr, g, out);
        if (j < h) gru_forward8(1, lanes8(h - j), h, j, xr, hr, pr, g, out);
    }
}

// The tail of a row is scalar here: these formulas have no transcendental, and the scalar
// operations are the vector body's, lane for lane, so the bits are the same.
static RK_AVX2 void gru_backward_avx2(long rows, long h, const float *hh, const float *gates, const float *hp,
                                      const float *dh, float *din, float *dhh, float *direct, int wide) {
    const __m256 one = _mm256_set1_ps(1.0f);
    for (long row = 0; row < rows; row++) {
        const float *hr = hh + row * 3 * h, *g = gates + row * 3 * h, *pr = hp + row * h, *d = dh + row * h;
        float *di = din + row * 3 * h, *dr = dhh + row * 3 * h, *dir = direct + row * h;
        long j = wide ? rk_avx512_gru_backward_row(h, hr, g, pr, d, di, dr, dir) : 0;
        for (; j + 8 <= h; j += 8) {
            __m256 r = _mm256_loadu_ps(g + j), z = _mm256_loadu_ps(g + h + j), n = _mm256_loadu_ps(g + 2 * h + j);
            __m256 dv = _mm256_loadu_ps(d + j);
            __m256 dnPre = _mm256_mul_ps(_mm256_mul_ps(dv, _mm256_sub_ps(one, z)), _mm256_sub_ps(one, _mm256_mul_ps(n, n)));
            __m256 drPre = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dnPre, _mm256_loadu_ps(hr + 2 * h + j)), r),
                                         _mm256_sub_ps(one, r));
            __m256 dzPre = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dv, _mm256_sub_ps(_mm256_loadu_ps(pr + j), n)), z),
                                         _mm256_sub_ps(one, z));
            _mm256_storeu_ps(dir + j, _mm256_mul_ps(dv, z));
            _mm256_storeu_ps(di + j, drPre); _mm256_storeu_ps(di + h + j, dzPre); _mm256_storeu_ps(di + 2 * h + j, dnPre);
            _mm256_storeu_ps(dr + j, drPre); _mm256_storeu_ps(dr + h + j, dzPre);
            _mm256_storeu_ps(dr + 2 * h + j, _mm256_mul_ps(dnPre, r));
        }
        gru_backward_scalar(h, j, hr, g, pr, d, di, dr, dir);
    }
}
#endif

void rk_gru_forward(long rows, long h, const float *x, const float *hh, const float *h_prev,
                    float *gates, float *h_new) {
#ifdef RK_X86
    if (rk_uses_avx2()) { gru_forward_avx2(rows, h, x, hh, h_prev, gates, h_new, rk_uses_avx512()); return; }
#endif
    for (long r = 0; r < rows; r++)
        gru_forward_scalar(h, 0, x + r * 3 * h, hh + r * 3 * h, h_prev + r * h, gates + r * 3 * h, h_new + r * h);
}

void rk_gru_backward(long rows, long h, const float *hh, const float *gates, const float *h_prev,
                     const float *dh, float *d_in, float *d_hh, float *direct) {
#ifdef RK_X86
    if (rk_uses_avx2()) { gru_backward_avx2(rows, h, hh, gates, h_prev, dh, d_in, d_hh, direct, rk_uses_avx512()); return; }
#endif
    for (long r = 0; r < rows; r++)
        gru_backward_scalar(h, 0, hh + r * 3 * h, gates + r * 3 * h, h_prev + r * h, dh + r * h,
                            d_in + r * 3 * h, d_hh + r * 3 * h, direct + r * h);
}

// MARK: - tanh step (the tanh RNN)

#ifdef RK_X86
static RK_AVX2 void tanh_forward_avx2(long n, const float *x, const float *r, float *net, float *h) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(r + i));
        _mm256_storeu_ps(net + i, v);
        _mm256_storeu_ps(h + i, tanh8(v));
    }
    if (i < n) {   // the tail through the same polynomial: a value never depends on its position
        float t[8] = {0};
        for (long q = i; q < n; q++) t[q - i] = net[q] = x[q] + r[q];
        _mm256_storeu_ps(t, tanh8(_mm256_loadu_ps(t)));
        for (long q = i; q < n; q++) h[q] = t[q - i];
    }
}
#endif

void rk_tanh_forward(long n, const float *x, const float *r, float *net, float *h) {
#ifdef RK_X86
    if (rk_uses_avx2()) { tanh_forward_avx2(n, x, r, net, h); return; }
#endif
    for (long i = 0; i < n; i++) { net[i] = x[i] + r[i]; h[i] = tanhf(net[i]); }
}
