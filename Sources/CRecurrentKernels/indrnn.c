// IndRNN's whole time loop (Li et al. 2018, h_t = relu(U x_t + b_ih + u ⊙ h_{t-1} + b_hh)) for a
// slice of batch rows, forward and backward, and the weight gradients over all steps in one pass
// (see include/CRecurrentKernels.h). The recurrence is elementwise, so a step is B*H
// multiply-adds: one call per sequence instead of one per step removes the per-step overhead,
// and the work is bound by memory traffic over the [T*B, H] buffers (5 MB each at T = 784,
// B = 16, H = 100, beyond L2), so the loops make as few passes as they can:
//   forward    reads x (the input projection formed in the loop for small I) and writes only
//              net and h (not U x + b_ih, not u ⊙ h + b_hh: nothing reads them);
//   backward   reads net and writes dnet;
//   gradients  read dnet, x and h once for dW_ih, db_ih, du and db_hh together.
//
// Every element goes through exactly the operations of IndRNNCell's per-step Swift loop and of
// the products it replaces, in the same order (multiply and add rounded separately, the
// products' explicit fma chains), so the bits are the same: U x_t + b_ih is rk_sgemm's chain
// (start at b_ih, then fma over q = 0 ..< I), dW_ih += dnetᵀ X its chain (start at dW_ih, fma
// over rows in order), db_ih rk_column_sums' additions (rows in order). The AVX-512 bodies run
// H = 100 as 7 vectors, the last one masked: each lane does the scalar tail's operations.
// Shapes: B batch, T steps, H hidden, I inputs; buffers time-major, row t*B + b.
#include "internal.h"
#pragma STDC FP_CONTRACT OFF

// MARK: - Portable bodies (the same operations per element)

/// U x + b_ih for unit j: rk_sgemm's chain, b_ih then one fma per input in order. ut [I, H].
static inline float indrnn_projection(long j, long h, long in, const float *x, const float *ut, const float *bias_ih) {
    float s = bias_ih[j];
    for (long q = 0; q < in; q++) s = fmaf(x[q], ut[q * h + j], s);
    return s;
}

/// One row of one step, units n0 ..< h. x_pre: U x_t + b_ih [H] (pre_input), or NULL and then
/// formed from x [I], ut, bias_ih. rec (u ⊙ h_{t-1} + b_hh) is written only when not NULL.
static void indrnn_forward_rows(long n0, long h, const float *u, const float *bias, const float *x_pre,
                                long in, const float *x, const float *ut, const float *bias_ih,
                                const float *h_prev, float *rec, float *net, float *h_new) {
    for (long j = n0; j < h; j++) {
        float p = x_pre ? x_pre[j] : indrnn_projection(j, h, in, x, ut, bias_ih);
        float r = u[j] * h_prev[j];
        r = r + bias[j];
        if (rec) rec[j] = r;
        float v = p + r;
        net[j] = v;
        h_new[j] = v < 0 ? 0.0f : v;                 // relu: NaN stays NaN, -0 stays -0
    }
}

static void indrnn_backward_rows(long n0, long h, const float *u, const float *net, const float *d_out,
                                 float *dh, float *dnet) {
    for (long j = n0; j < h; j++) {
        float g = dh[j];
        if (d_out) g = g + d_out[j];
        float d = net[j] <= 0 ? 0.0f : g;            // threshold_backward: a NaN net passes dh
        dnet[j] = d;
        dh[j] = d * u[j];
    }
}

/// One row of one step of the backward loop that sums the weight gradients as it goes (units
/// n0 ..< h): the operations of indrnn_backward_rows, then into the row's partials p [I+2][H]
/// (dW_ihᵀ rows, db, du): p_w[q] = fma(d, x[q], p_w[q]), p_b += d, p_u += d * h_{t-1}.
static void indrnn_backward_sum_rows(long n0, long h, long in, const float *u, const float *net, const float *d_out,
                                     const float *x, const float *h_prev, float *dh, float *dnet, float *p) {
    for (long j = n0; j < h; j++) {
        float g = dh[j];
        if (d_out) g = g + d_out[j];
        float d = net[j] <= 0 ? 0.0f : g;
        if (dnet) dnet[j] = d;
        dh[j] = d * u[j];
        for (long q = 0; q < in; q++) p[q * h + j] = fmaf(d, x[q], p[q * h + j]);
        p[in * h + j] += d;
        p[(in + 1) * h + j] += d * h_prev[j];
    }
}

/// One row r of the gradient pass, units n0 ..< n1: the same operations as the products.
static void indrnn_gradient_row(long n0, long n1, long h, long in, const float *d, const float *x,
                                const float *hp, float *dwt, float *dbi, float *du, float *dbh) {
    for (long j = n0; j < n1; j++) {
        for (long q = 0; q < in; q++) dwt[q * h + j] = fmaf(d[j], x[q], dwt[q * h + j]);
        dbi[j] += d[j];
        du[j] += d[j] * hp[j];
        dbh[j] += d[j];
    }
}

/// The forward's arguments, shared by every body.
typedef struct {
    long steps, batch, row0, rows, h, in;
    const float *u, *bias, *pre_input;               // pre_input [T*B, H], or NULL: formed from
    const float *x, *ut, *bias_ih;                   // x [T*B, I], ut = U transposed [I, H], b_ih [H]
    float *pre_hidden, *gates, *hidden;              // pre_hidden may be NULL (not written)
} forward_args;

static void indrnn_forward_generic(const forward_args *a) {
    const long b = a->batch, h = a->h;
    for (long t = 0; t < a->steps; t++)
        for (long r = a->row0; r < a->row0 + a->rows; r++) {
            const long o = (t * b + r) * h;
            indrnn_forward_rows(0, h, a->u, a->bias, a->pre_input ? a->pre_input + o : 0, a->in,
                                a->x + (t * b + r) * a->in, a->ut, a->bias_ih, a->hidden + o,
                                a->pre_hidden ? a->pre_hidden + o : 0, a->gates + o, a->hidden + b * h + o);
        }
}

#ifdef RK_X86
// MARK: - AVX2 bodies

/// 8 lanes at p, or only those of `m` when `masked` (the others read as 0, never touched).
RK_INLINE_AVX2 __m256 ld8(const float *p, const int masked, __m256i m) { return masked ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p); }
RK_INLINE_AVX2 void st8(float *p, __m256 v, const int masked, __m256i m) { if (masked) _mm256_maskstore_ps(p, m, v); else _mm256_storeu_ps(p, v); }

/// Units j ..< j + 8 (masked: those of m) of one row of one step of the forward.
RK_INLINE_AVX2 void indrnn_forward_avx2_vector(long j, long h, long in, const int project, const int masked, __m256i m,
                                               const float *xp, const float *x, const float *ut, const float *bias_ih,
                                               const float *u, const float *bias, const float *hp,
                                               float *rec, float *net, float *hn) {
    __m256 p;
    if (!project) p = ld8(xp + j, masked, m);
    else {
        p = ld8(bias_ih + j, masked, m);
        for (long q = 0; q < in; q++) p = _mm256_fmadd_ps(_mm256_set1_ps(x[q]), ld8(ut + q * h + j, masked, m), p);
    }
    __m256 rv = _mm256_add_ps(_mm256_mul_ps(ld8(u + j, masked, m), ld8(hp + j, masked, m)), ld8(bias + j, masked, m));
    if (rec) st8(rec + j, rv, masked, m);
    __m256 v = _mm256_add_ps(p, rv);
    st8(net + j, v, masked, m);
    st8(hn + j, _mm256_max_ps(_mm256_setzero_ps(), v), masked, m);   // 0 > v ? 0 : v (NaN, -0 kept)
}

/// The forward body, specialised by the callers on `project` (form U x + b_ih here) and `in1`
/// (I = 1) so that neither test nor the input loop runs per vector; the arguments in locals.
RK_INLINE_AVX2 void indrnn_forward_avx2_body(const forward_args *a, const int project, const int in1) {
    const long b = a->batch, h = a->h, in = in1 ? 1 : a->in, steps = a->steps, row0 = a->row0, row1 = a->row0 + a->rows;
    const float *const u = a->u, *const bias = a->bias, *const pre_input = a->pre_input;
    const float *const xs = a->x, *const ut = a->ut, *const bias_ih = a->bias_ih;
    float *const pre_hidden = a->pre_hidden, *const gates = a->gates, *const hidden = a->hidden;
    for (long t = 0; t < steps; t++) {
        for (long r = row0; r < row1; r++) {
            const long o = (t * b + r) * h;                          // step t, row r
            const float *xp = project ? 0 : pre_input + o;          // [H] U x_t + b_ih, or
            const float *x = project ? xs + (t * b + r) * in : 0;   // [I] x_t
            const float *hp = hidden + o;                            // [H] h_{t-1}
            float *rec = pre_hidden ? pre_hidden + o : 0, *net = gates + o, *hn = hidden + b * h + o;
            long j = 0;
            for (; j + 8 <= h; j += 8)
                indrnn_forward_avx2_vector(j, h, in, project, 0, _mm256_setzero_si256(), xp, x, ut, bias_ih, u, bias, hp, rec, net, hn);
            if (j < h)
                indrnn_forward_avx2_vector(j, h, in, project, 1, lanes8(h - j), xp, x, ut, bias_ih, u, bias, hp, rec, net, hn);
        }
    }
}

static RK_AVX2 void indrnn_forward_avx2(const forward_args *a) {
    if (!a->pre_input && a->in == 1) indrnn_forward_avx2_body(a, 1, 1);
    else if (!a->pre_input) indrnn_forward_avx2_body(a, 1, 0);
    else indrnn_forward_avx2_body(a, 0, 0);
}

static RK_AVX2 void indrnn_backward_avx2(long steps, long batch, long row0, long rows, long h,
                                         const float *u, const float *gates, const float *d_out,
                                         float *dh_all, float *dpre) {
    const __m256 zero = _mm256_setzero_ps();
    for (long t = steps - 1; t >= 0; t--) {
        for (long r = row0; r < row0 + rows; r++) {
            const long o = (t * batch + r) * h;
            const float *net = gates + o, *dout = d_out ? d_out + o : 0;
            float *dh = dh_all + r * h, *dnet = dpre + o;
            long j = 0;
            for (; j + 8 <= h; j += 8) {
                __m256 g = _mm256_loadu_ps(dh + j);
                if (dout) g = _mm256_add_ps(g, _mm256_loadu_ps(dout + j));
                __m256 pass = _mm256_cmp_ps(_mm256_loadu_ps(net + j), zero, _CMP_NLE_UQ);
                __m256 d = _mm256_and_ps(pass, g);
                _mm256_storeu_ps(dnet + j, d);
                _mm256_storeu_ps(dh + j, _mm256_mul_ps(d, _mm256_loadu_ps(u + j)));
            }
            indrnn_backward_rows(j, h, u, net, dout, dh, dnet);
        }
    }
}

static RK_AVX2 void indrnn_gradients_avx2(long rows, long h, long j0, long j1, long in, const float *dnet,
                                          const float *xs, const float *hidden, float *dwt, float *dbi,
                                          float *du, float *dbh) {
    for (long r = 0; r < rows; r++) {
        const float *d = dnet + r * h, *hp = hidden + r * h, *x = xs + r * in;
        long j = j0;
        for (; j + 8 <= j1; j += 8) {
            __m256 dv = _mm256_loadu_ps(d + j);
            for (long q = 0; q < in; q++)
                _mm256_storeu_ps(dwt + q * h + j, _mm256_fmadd_ps(dv, _mm256_set1_ps(x[q]), _mm256_loadu_ps(dwt + q * h + j)));
            _mm256_storeu_ps(dbi + j, _mm256_add_ps(_mm256_loadu_ps(dbi + j), dv));
            _mm256_storeu_ps(du + j, _mm256_add_ps(_mm256_loadu_ps(du + j), _mm256_mul_ps(dv, _mm256_loadu_ps(hp + j))));
            _mm256_storeu_ps(dbh + j, _mm256_add_ps(_mm256_loadu_ps(dbh + j), dv));
        }
        indrnn_gradient_row(j, j1, h, in, d, x, hp, dwt, dbi, du, dbh);
    }
}

static RK_AVX2 void indrnn_weight_gradients_avx2(long rows, long h, const float *dnet, const float *hidden,
                                                 float *du, float *db) {
    for (long r = 0; r < rows; r++) {
        const float *d = dnet + r * h, *hp = hidden + r * h;
        long j = 0;
        for (; j + 8 <= h; j += 8) {
            __m256 dv = _mm256_loadu_ps(d + j);
            _mm256_storeu_ps(du + j, _mm256_add_ps(_mm256_loadu_ps(du + j), _mm256_mul_ps(dv, _mm256_loadu_ps(hp + j))));
            _mm256_storeu_ps(db + j, _mm256_add_ps(_mm256_loadu_ps(db + j), dv));
        }
        for (; j < h; j++) { du[j] += d[j] * hp[j]; db[j] += d[j]; }
    }
}

/// Units j ..< j + 8 (masked: those of m) of one row of one step of the summing backward.
RK_INLINE_AVX2 void indrnn_backward_sum_avx2_vector(long j, long h, long in, const int masked, __m256i m,
                                                    const float *u, const float *net, const float *dout, const float *x,
                                                    const float *hp, float *dh, float *dnet, float *p) {
    __m256 g = ld8(dh + j, masked, m);
    if (dout) g = _mm256_add_ps(g, ld8(dout + j, masked, m));
    __m256 d = _mm256_and_ps(_mm256_cmp_ps(ld8(net + j, masked, m), _mm256_setzero_ps(), _CMP_NLE_UQ), g);
    if (dnet) st8(dnet + j, d, masked, m);
    st8(dh + j, _mm256_mul_ps(d, ld8(u + j, masked, m)), masked, m);
    for (long q = 0; q < in; q++)
        st8(p + q * h + j, _mm256_fmadd_ps(d, _mm256_set1_ps(x[q]), ld8(p + q * h + j, masked, m)), masked, m);
    float *pb = p + in * h + j, *pu = p + (in + 1) * h + j;
    st8(pb, _mm256_add_ps(ld8(pb, masked, m), d), masked, m);
    st8(pu, _mm256_add_ps(ld8(pu, masked, m), _mm256_mul_ps(d, ld8(hp + j, masked, m))), masked, m);
}

RK_INLINE_AVX2 void indrnn_backward_sum_avx2_body(long steps, long batch, long row0, long rows, long h, long in_,
                                                  const float *u, const float *gates, const float *d_out, const float *xs,
                                                  const float *hidden, float *dh_all, float *dpre, float *partials,
                                                  const int in1) {
    const long in = in1 ? 1 : in_;
    for (long t = steps - 1; t >= 0; t--) {
        for (long r = row0; r < row0 + rows; r++) {
            const long o = (t * batch + r) * h;
            const float *net = gates + o, *dout = d_out ? d_out + o : 0, *x = xs + (t * batch + r) * in, *hp = hidden + o;
            float *dh = dh_all + r * h, *dnet = dpre ? dpre + o : 0, *p = partials + r * (in + 2) * h;
            long j = 0;
            for (; j + 8 <= h; j += 8)
                indrnn_backward_sum_avx2_vector(j, h, in, 0, _mm256_setzero_si256(), u, net, dout, x, hp, dh, dnet, p);
            if (j < h) indrnn_backward_sum_avx2_vector(j, h, in, 1, lanes8(h - j), u, net, dout, x, hp, dh, dnet, p);
        }
    }
}

static RK_AVX2 void indrnn_backward_sum_avx2(long steps, long batch, long row0, long rows, long h, long in,
                                             const float *u, const float *gates, const float *d_out, const float *xs,
                                             const float *hidden, float *dh_all, float *dpre, float *partials) {
    if (in == 1) indrnn_backward_sum_avx2_body(steps, batch, row0, rows, h, 1, u, gates, d_out, xs, hidden, dh_all, dpre, partials, 1);
    else indrnn_backward_sum_avx2_body(steps, batch, row0, rows, h, in, u, gates, d_out, xs, hidden, dh_all, dpre, partials, 0);
}

// MARK: - AVX-512 bodies (16 lanes, the tail masked: every lane runs the scalar operations)

static RK_AVX512 void indrnn_backward_sum_avx512(long steps, long batch, long row0, long rows, long h, long in,
                                                 const float *u, const float *gates, const float *d_out, const float *xs,
                                                 const float *hidden, float *dh_all, float *dpre, float *partials) {
    const __m512 zero = _mm512_setzero_ps();
    for (long t = steps - 1; t >= 0; t--) {
        for (long r = row0; r < row0 + rows; r++) {
            const long o = (t * batch + r) * h;
            const float *net = gates + o, *dout = d_out ? d_out + o : 0, *x = xs + (t * batch + r) * in, *hp = hidden + o;
            float *dh = dh_all + r * h, *dnet = dpre ? dpre + o : 0, *p = partials + r * (in + 2) * h;
            for (long j = 0; j < h; j += 16) {
                const __mmask16 m = lanes16(h - j);
                __m512 g = _mm512_maskz_loadu_ps(m, dh + j);
                if (dout) g = _mm512_add_ps(g, _mm512_maskz_loadu_ps(m, dout + j));
                __m512 d = _mm512_maskz_mov_ps(_mm512_mask_cmp_ps_mask(m, _mm512_maskz_loadu_ps(m, net + j), zero, _CMP_NLE_UQ), g);
                if (dnet) _mm512_mask_storeu_ps(dnet + j, m, d);
                _mm512_mask_storeu_ps(dh + j, m, _mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, u + j)));
                for (long q = 0; q < in; q++)
                    _mm512_mask_storeu_ps(p + q * h + j, m, _mm512_fmadd_ps(d, _mm512_set1_ps(x[q]), _mm512_maskz_loadu_ps(m, p + q * h + j)));
                float *pb = p + in * h + j, *pu = p + (in + 1) * h + j;
                _mm512_mask_storeu_ps(pb, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, pb), d));
                _mm512_mask_storeu_ps(pu, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, pu),
                                                           _mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, hp + j))));
            }
        }
    }
}


static RK_AVX512 void indrnn_forward_avx512(const forward_args *a) {
    const long b = a->batch, h = a->h, in = a->in;
    const __m512 zero = _mm512_setzero_ps();
    for (long t = 0; t < a->steps; t++) {
        for (long r = a->row0; r < a->row0 + a->rows; r++) {
            const long o = (t * b + r) * h;
            const float *xp = a->pre_input ? a->pre_input + o : 0;
            const float *x = a->x + (t * b + r) * in;
            const float *hp = a->hidden + o;
            float *rec = a->pre_hidden ? a->pre_hidden + o : 0, *net = a->gates + o, *hn = a->hidden + b * h + o;
            for (long j = 0; j < h; j += 16) {
                const __mmask16 m = lanes16(h - j);
                __m512 p;
                if (xp) p = _mm512_maskz_loadu_ps(m, xp + j);
                else {
                    p = _mm512_maskz_loadu_ps(m, a->bias_ih + j);
                    for (long q = 0; q < in; q++)
                        p = _mm512_fmadd_ps(_mm512_set1_ps(x[q]), _mm512_maskz_loadu_ps(m, a->ut + q * h + j), p);
                }
                __m512 rv = _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, a->u + j), _mm512_maskz_loadu_ps(m, hp + j)),
                                          _mm512_maskz_loadu_ps(m, a->bias + j));
                if (rec) _mm512_mask_storeu_ps(rec + j, m, rv);
                __m512 v = _mm512_add_ps(p, rv);
                _mm512_mask_storeu_ps(net + j, m, v);
                _mm512_mask_storeu_ps(hn + j, m, _mm512_max_ps(zero, v));   // 0 > v ? 0 : v (NaN, -0 kept)
            }
        }
    }
}

static RK_AVX512 void indrnn_backward_avx512(long steps, long batch, long row0, long rows, long h,
                                             const float *u, const float *gates, const float *d_out,
                                             float *dh_all, float *dpre) {
    const __m512 zero = _mm512_setzero_ps();
    for (long t = steps - 1; t >= 0; t--) {
        for (long r = row0; r < row0 + rows; r++) {
            const long o = (t * batch + r) * h;
            const float *net = gates + o, *dout = d_out ? d_out + o : 0;
            float *dh = dh_all + r * h, *dnet = dpre + o;
            for (long j = 0; j < h; j += 16) {
                const __mmask16 m = lanes16(h - j);
                __m512 g = _mm512_maskz_loadu_ps(m, dh + j);
                if (dout) g = _mm512_add_ps(g, _mm512_maskz_loadu_ps(m, dout + j));
                __mmask16 pass = _mm512_mask_cmp_ps_mask(m, _mm512_maskz_loadu_ps(m, net + j), zero, _CMP_NLE_UQ);
                __m512 d = _mm512_maskz_mov_ps(pass, g);              // net <= 0 ? 0 : g (a NaN net passes)
                _mm512_mask_storeu_ps(dnet + j, m, d);
                _mm512_mask_storeu_ps(dh + j, m, _mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, u + j)));
            }
        }
    }
}

static RK_AVX512 void indrnn_gradients_avx512(long rows, long h, long j0, long j1, long in, const float *dnet,
                                              const float *xs, const float *hidden, float *dwt, float *dbi,
                                              float *du, float *dbh) {
    for (long r = 0; r < rows; r++) {
        const float *d = dnet + r * h, *hp = hidden + r * h, *x = xs + r * in;
        for (long j = j0; j < j1; j += 16) {
            const __mmask16 m = lanes16(j1 - j);
            __m512 dv = _mm512_maskz_loadu_ps(m, d + j);
            for (long q = 0; q < in; q++)
                _mm512_mask_storeu_ps(dwt + q * h + j, m, _mm512_fmadd_ps(dv, _mm512_set1_ps(x[q]),
                                                                           _mm512_maskz_loadu_ps(m, dwt + q * h + j)));
            _mm512_mask_storeu_ps(dbi + j, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dbi + j), dv));
            _mm512_mask_storeu_ps(du + j, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, du + j),
                                                           _mm512_mul_ps(dv, _mm512_maskz_loadu_ps(m, hp + j))));
            _mm512_mask_storeu_ps(dbh + j, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dbh + j), dv));
        }
    }
}
#endif

// MARK: - Entry points

static void indrnn_forward_run(const forward_args *a) {
#ifdef RK_X86
    if (rk_uses_avx512()) { indrnn_forward_avx512(a); return; }
    if (rk_uses_avx2()) { indrnn_forward_avx2(a); return; }
#endif
    indrnn_forward_generic(a);
}

void rk_indrnn_forward(long steps, long batch, long row0, long rows, long h,
                       const float *u, const float *bias, const float *pre_input,
                       float *pre_hidden, float *gates, float *hidden) {
    forward_args a = { steps, batch, row0, rows, h, 0, u, bias, pre_input, 0, 0, 0, pre_hidden, gates, hidden };
    indrnn_forward_run(&a);
}

void rk_indrnn_forward_projecting(long steps, long batch, long row0, long rows, long h, long in,
                                  const float *x, const float *ut, const float *bias_ih,
                                  const float *u, const float *bias, float *gates, float *hidden) {
    forward_args a = { steps, batch, row0, rows, h, in, u, bias, 0, x, ut, bias_ih, 0, gates, hidden };
    indrnn_forward_run(&a);
}

void rk_indrnn_backward(long steps, long batch, long row0, long rows, long h,
                        const float *u, const float *gates, const float *d_out,
                        float *dh, float *dpre) {
#ifdef RK_X86
    if (rk_uses_avx512()) { indrnn_backward_avx512(steps, batch, row0, rows, h, u, gates, d_out, dh, dpre); return; }
    if (rk_uses_avx2()) { indrnn_backward_avx2(steps, batch, row0, rows, h, u, gates, d_out, dh, dpre); return; }
#endif
    for (long t = steps - 1; t >= 0; t--)
        for (long r = row0; r < row0 + rows; r++) {
            const long o = (t * batch + r) * h;
            indrnn_backward_rows(0, h, u, gates + o, d_out ? d_out + o : 0, dh + r * h, dpre + o);
        }
}

void rk_indrnn_weight_gradients(long rows, long h, const float *dnet, const float *hidden, float *du, float *db) {
#ifdef RK_X86
    if (rk_uses_avx2()) { indrnn_weight_gradients_avx2(rows, h, dnet, hidden, du, db); return; }
#endif
    for (long r = 0; r < rows; r++)
        for (long j = 0; j < h; j++) {
            du[j] += dnet[r * h + j] * hidden[r * h + j];
            db[j] += dnet[r * h + j];
        }
}

void rk_indrnn_gradients(long rows, long h, long j0, long j1, long in, const float *dnet, const float *x,
                         const float *hidden, float *dwt, float *dbi, float *du, float *dbh) {
    if (j1 <= j0) return;
#ifdef RK_X86
    if (rk_uses_avx512()) { indrnn_gradients_avx512(rows, h, j0, j1, in, dnet, x, hidden, dwt, dbi, du, dbh); return; }
    if (rk_uses_avx2()) { indrnn_gradients_avx2(rows, h, j0, j1, in, dnet, x, hidden, dwt, dbi, du, dbh); return; }
#endif
    for (long r = 0; r < rows; r++)
        indrnn_gradient_row(j0, j1, h, in, dnet + r * h, x + r * in, hidden + r * h, dwt, dbi, du, dbh);
}

void rk_indrnn_backward_sum(long steps, long batch, long row0, long rows, long h, long in,
                            const float *u, const float *gates, const float *d_out, const float *x,
                            const float *hidden, float *dh, float *dpre, float *partials) {
#ifdef RK_X86
    if (rk_uses_avx512()) {
        indrnn_backward_sum_avx512(steps, batch, row0, rows, h, in, u, gates, d_out, x, hidden, dh, dpre, partials);
        return;
    }
    if (rk_uses_avx2()) {
        indrnn_backward_sum_avx2(steps, batch, row0, rows, h, in, u, gates, d_out, x, hidden, dh, dpre, partials);
        return;
    }
#endif
    for (long t = steps - 1; t >= 0; t--)
        for (long r = row0; r < row0 + rows; r++) {
            const long o = (t * batch + r) * h;
            indrnn_backward_sum_rows(0, h, in, u, gates + o, d_out ? d_out + o : 0, x + (t * batch + r) * in, hidden + o,
                                     dh + r * h, dpre ? dpre + o : 0, partials + r * (in + 2) * h);
        }
}

void rk_indrnn_sum_partials(long batch, long h, long in, const float *partials, float *dwt, float *dbi, float *du, float *dbh) {
    for (long r = 0; r < batch; r++) {
        const float *p = partials + r * (in + 2) * h, *pb = p + in * h, *pu = p + (in + 1) * h;
        for (long j = 0; j < in * h; j++) dwt[j] += p[j];
        for (long j = 0; j < h; j++) { dbi[j] += pb[j]; dbh[j] += pb[j]; du[j] += pu[j]; }
    }
}
