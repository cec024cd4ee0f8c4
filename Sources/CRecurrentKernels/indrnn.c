// IndRNN's whole time loop (Li et al. 2018, h_t = relu(U x_t + b_ih + u ⊙ h_{t-1} + b_hh)) for a
// slice of batch rows, forward and backward, and the gradients of u and b_hh over all steps
// (see include/CRecurrentKernels.h). The recurrence is elementwise, so a step is B*H
// multiply-adds: one call per sequence instead of one per step removes the per-step overhead.
//
// Every element goes through exactly the operations of IndRNNCell's per-step Swift loop, in
// the same order (multiply and add rounded separately, no FMA), so the bits are the same.
// Shapes: B batch, T steps, H hidden; buffers time-major, row t*B + b.
#include "internal.h"
#pragma STDC FP_CONTRACT OFF

// MARK: - Portable bodies (the same operations per element)

static void indrnn_forward_rows(long n0, long h, const float *u, const float *bias, const float *x,
                                const float *h_prev, float *rec, float *net, float *h_new) {
    for (long j = n0; j < h; j++) {
        float r = u[j] * h_prev[j];
        r = r + bias[j];
        rec[j] = r;
        float v = x[j] + r;
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

#ifdef RK_X86
// MARK: - AVX2 bodies

static RK_AVX2 void indrnn_forward_avx2(long steps, long batch, long row0, long rows, long h,
                                        const float *u, const float *bias, const float *pre_input,
                                        float *pre_hidden, float *gates, float *hidden) {
    const __m256 zero = _mm256_setzero_ps();
    for (long t = 0; t < steps; t++) {
        for (long r = row0; r < row0 + rows; r++) {
            const long o = (t * batch + r) * h;                    // step t, row r
            const float *x = pre_input + o, *hp = hidden + o;     // [H] U x_t + b_ih, h_{t-1}
            float *rec = pre_hidden + o, *net = gates + o, *hn = hidden + batch * h + o;
            long j = 0;
            for (; j + 8 <= h; j += 8) {
                __m256 rv = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(u + j), _mm256_loadu_ps(hp + j)),
                                          _mm256_loadu_ps(bias + j));
                _mm256_storeu_ps(rec + j, rv);
                __m256 v = _mm256_add_ps(_mm256_loadu_ps(x + j), rv);
                _mm256_storeu_ps(net + j, v);
                _mm256_storeu_ps(hn + j, _mm256_max_ps(zero, v));   // 0 > v ? 0 : v (NaN, -0 kept)
            }
            indrnn_forward_rows(j, h, u, bias, x, hp, rec, net, hn);
        }
    }
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
#endif

// MARK: - Entry points

void rk_indrnn_forward(long steps, long batch, long row0, long rows, long h,
                       const float *u, const float *bias, const float *pre_input,
                       float *pre_hidden, float *gates, float *hidden) {
#ifdef RK_X86
    if (rk_uses_avx2()) {
        indrnn_forward_avx2(steps, batch, row0, rows, h, u, bias, pre_input, pre_hidden, gates, hidden);
        return;
    }
#endif
    for (long t = 0; t < steps; t++)
        for (long r = row0; r < row0 + rows; r++) {
            const long o = (t * batch + r) * h;
            indrnn_forward_rows(0, h, u, bias, pre_input + o, hidden + o, pre_hidden + o, gates + o,
                                hidden + batch * h + o);
        }
}

void rk_indrnn_backward(long steps, long batch, long row0, long rows, long h,
                        const float *u, const float *gates, const float *d_out,
                        float *dh, float *dpre) {
#ifdef RK_X86
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
