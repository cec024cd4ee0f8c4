// The recurrent step: product, bias, input and activation in one pass (rk_recurrent_step).
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF

// MARK: - Recurrent step (product, bias, input and activation in one pass)
//
// net = x + (b + h_prev W_hhᵀ) [rows, n] and, for the simple RNN, h = f(net), tile by
// tile: a 6x16 register tile starts at b and runs the same fma chain over p as rk_sgemm
// with C = b (a k-block store and reload is exact, so one long loop gives the same bits);
// the epilogue adds x and applies f to whole vectors (masked at the edge), so a value never
// depends on its position. The product itself (preHidden) is never stored.

typedef struct {
    long rows, n, k; const float *hp, *wt, *bias, *x; float *net, *hout; int act;
    int packed;   // wt is W_hhᵀ [k, n] row-major (0) or its panels from rk_pack_b (1)
    // The input projection in the AVX2 epilogue (x NULL): x = b_ih + u W_ihᵀ, with u [rows, ku] and
    // b_ih [n]; W_ihᵀ [ku, n] row-major (wih_packed 0: each vector's own fma chain over ku, for ku <= 8,
    // rk_avx2_input_projection's chain) or rk_pack_b(1, ku, n, W_ih, ku, ·)'s panels (wih_packed 1: a
    // tile's x formed by rk_avx2_bias_tile, rk_sgemm_packed_b's chain from C = b_ih), so the bits of
    // x stored by a pass of its own and loaded.
    const float *u, *wih, *bih; long ku; int wih_packed;
} step_t;
// net may be NULL where the caller keeps h only (step_avx2 and step_generic: the relu RNN's loop,
// rk_rnn_forward_rows without gates); h is formed from the sums all the same.

/// The epilogue's x, one tile: a block (x, rows ldx apart) or the projection's operands (u, wih
/// as W_ihᵀ [ku, n] in place, bih).
typedef struct { const float *x; long ldx; const float *u, *wih, *bih; long ku; } step_x_t;

/// Column j's (j a multiple of 16) first element of W_hhᵀ, and the stride between its rows.
static inline const float *step_panel(const step_t *s, long j, long *ld) {
    *ld = s->packed ? 16 : s->n;
    return s->packed ? s->wt + j * s->k : s->wt + j;
}

static void step_epilogue_scalar(const step_t *s, long i, long j, const float *acc, long w) {
    for (long q = 0; q < w; q++) {
        float v = s->x[i * s->n + j + q] + acc[q];
        if (s->net) s->net[i * s->n + j + q] = v;
        if (s->act == 1) s->hout[i * s->n + j + q] = v < 0 ? 0.0f : v;   // = max_ps(0, v): NaN stays NaN
        else if (s->act == 2) s->hout[i * s->n + j + q] = tanhf(v);
    }
}

#ifdef RK_X86
RK_INLINE_AVX2 void micro_step(const int MR, const int NV, const int masked, const int act, int nr, long k,
                               const float *a, long lda, const float *b, long ldb, const float *bias,
                               const step_x_t *in, float *net, float *hout, long ld) {
    __m256 x0[6], x1[6];
    __m256i m0 = _mm256_set1_epi32(-1), m1 = m0;
    if (masked) edge_masks(nr, &m0, &m1);
    __m256 bias0 = masked ? _mm256_maskload_ps(bias, m0) : _mm256_loadu_ps(bias), bias1 = _mm256_setzero_ps();
    if (NV == 2) bias1 = masked ? _mm256_maskload_ps(bias + 8, m1) : _mm256_loadu_ps(bias + 8);
    // The lines the epilogue writes (net and h: [T*B, H] streams, not in cache) arrive while the
    // product runs, as rk_avx2_relu_dnet's reads do: stores that miss stall the next tile's loads.
    for (int r = 0; r < MR; r++) {
        if (net) { __builtin_prefetch(net + r * ld, 1, 3); __builtin_prefetch(net + r * ld + 8 * NV - 1, 1, 3); }
        if (act) { __builtin_prefetch(hout + r * ld, 1, 3); __builtin_prefetch(hout + r * ld + 8 * NV - 1, 1, 3); }
    }
    for (int r = 0; r < MR; r++) { x0[r] = bias0; x1[r] = bias1; }
    fma_tile(MR, NV, masked, 1, m0, m1, k, a, lda, 1, b, ldb, x0, x1);
    const __m256 zero = _mm256_setzero_ps();
    const step_x_t xs = *in;   // in registers: the stores below could alias *in
    for (int r = 0; r < MR; r++) {
        float *nr_ = net ? net + r * ld : NULL, *hr = hout + r * ld;
        for (int v = 0; v < NV; v++) {
            __m256i m = v == 0 ? m0 : m1;
            __m256 xv;
            if (xs.x) {
                const float *xr = xs.x + r * xs.ldx + 8 * v;
                xv = masked ? _mm256_maskload_ps(xr, m) : _mm256_loadu_ps(xr);
            } else {   // x = b_ih + u W_ihᵀ, fma over q in order
                const float *ur = xs.u + r * xs.ku, *wq = xs.wih + 8 * v;
                xv = masked ? _mm256_maskload_ps(xs.bih + 8 * v, m) : _mm256_loadu_ps(xs.bih + 8 * v);
                for (long q = 0; q < xs.ku; q++, wq += ld)
                    xv = _mm256_fmadd_ps(_mm256_broadcast_ss(ur + q), masked ? _mm256_maskload_ps(wq, m) : _mm256_loadu_ps(wq), xv);
            }
            __m256 nv = _mm256_add_ps(xv, v == 0 ? x0[r] : x1[r]);
            if (nr_) { if (masked) _mm256_maskstore_ps(nr_ + 8 * v, m, nv); else _mm256_storeu_ps(nr_ + 8 * v, nv); }
            if (act == 0) continue;
            // relu as max_ps(0, net): the second operand is returned for NaN (and for -0.0),
            // which is Activation.relu's `x < 0 ? 0 : x` exactly.
            __m256 hv = act == 1 ? _mm256_max_ps(zero, nv) : tanh8(nv);
            if (masked) _mm256_maskstore_ps(hr + 8 * v, m, hv); else _mm256_storeu_ps(hr + 8 * v, hv);
        }
    }
}

#define RK_STEP_CASE(MR, NV, MASK, ACT) \
    case (((MR) * 2 + (NV) - 1) * 2 + (MASK)) * 3 + (ACT): \
        micro_step(MR, NV, MASK, ACT, nr, k, a, lda, b, ldb, bias, in, net, hout, ld); break;
#define RK_STEP_ACTS(MR, NV, MASK) RK_STEP_CASE(MR, NV, MASK, 0) RK_STEP_CASE(MR, NV, MASK, 1) RK_STEP_CASE(MR, NV, MASK, 2)
#define RK_STEP_ROW(MR) RK_STEP_ACTS(MR, 1, 0) RK_STEP_ACTS(MR, 1, 1) RK_STEP_ACTS(MR, 2, 0) RK_STEP_ACTS(MR, 2, 1)

static RK_AVX2 void micro_step_any(int mr, int nr, int act, long k, const float *a, long lda, const float *b,
                                   long ldb, const float *bias, const step_x_t *in, float *net, float *hout, long ld) {
    int nv = nr > 8 ? 2 : 1, masked = nr != 8 * nv;
    switch (((mr * 2 + nv - 1) * 2 + masked) * 3 + act) {
        RK_STEP_ROW(1) RK_STEP_ROW(2) RK_STEP_ROW(3) RK_STEP_ROW(4) RK_STEP_ROW(5) RK_STEP_ROW(6)
        default: break;
    }
}

static RK_AVX2 void step_avx2(const step_t *s, long j0, long j1) {
    long n = s->n, k = s->k, ni = (s->rows + 5) / 6;
    float xt[6 * 16];   // [6, 16] x of one tile, when formed from W_ihᵀ's panels
    for (long j = j0; j < j1; j += 16) {           // a 16-column panel of W_hhᵀ stays in cache
        int nr = (int)(j1 - j < 16 ? j1 - j : 16);
        long ldw;
        const float *panel = step_panel(s, j, &ldw);
        for (long ti = 0; ti < ni; ti++) {         // balanced row tiles (8 rows: 4 + 4)
            long i = s->rows * ti / ni, iEnd = s->rows * (ti + 1) / ni;
            step_x_t in;
            if (s->x) in = (step_x_t){ s->x + i * n + j, n, NULL, NULL, NULL, 0 };
            else if (s->wih_packed) {   // the tile's x first (in L1 when the epilogue reads it)
                rk_avx2_bias_tile((int)(iEnd - i), nr, s->ku, s->u + i * s->ku, s->ku, s->wih + j * s->ku, s->bih + j, xt, 16);
                in = (step_x_t){ xt, 16, NULL, NULL, NULL, 0 };
            } else in = (step_x_t){ NULL, 0, s->u + i * s->ku, s->wih + j, s->bih + j, s->ku };
            micro_step_any((int)(iEnd - i), nr, s->act, k, s->hp + i * k, k, panel, ldw, s->bias + j,
                           &in, s->net ? s->net + i * n + j : NULL, s->hout ? s->hout + i * n + j : NULL, n);
        }
    }
}
#endif

static void step_generic(const step_t *s, long j0, long j1) {
    float acc[16];
    for (long i = 0; i < s->rows; i++)
        for (long j = j0; j < j1; j += 16) {
            long w = j1 - j < 16 ? j1 - j : 16, ldw;
            const float *panel = step_panel(s, j, &ldw);
            for (long q = 0; q < w; q++) {
                float a = s->bias[j + q];
                for (long p = 0; p < s->k; p++) a = fmaf(s->hp[i * s->k + p], panel[p * ldw + q], a);
                acc[q] = a;
            }
            step_epilogue_scalar(s, i, j, acc, w);
        }
}

static void step_task(void *ctx, int part, int parts) {
    const step_t *s = (const step_t *)ctx;
    long blocks = (s->n + 15) / 16;
    long j0 = 16 * (blocks * part / parts), j1 = 16 * (blocks * (part + 1) / parts);
    if (j1 > s->n) j1 = s->n;
    if (j0 >= j1) return;
#ifdef RK_X86
    if (rk_uses_avx512()) {   // avx512.c: the same chains and epilogue in 8x32 tiles
        rk_avx512_step(s->rows, j1 - j0, s->k, s->hp, s->packed ? s->wt + j0 * s->k : s->wt + j0, s->packed, s->bias + j0,
                       s->x + j0, s->net + j0, s->hout ? s->hout + j0 : NULL, s->n, s->act);
        return;
    }
    // avx2_large.c: row tiles over groups of panels, the same chains (x given, or x NULL and the
    // projection's W_ihᵀ as panels: rk_rnn_forward_rows' fusePanels)
    if (rk_uses_avx2() && s->packed && s->k > 256 && s->x != s->net && (s->x || s->wih_packed)) {
        rk_avx2_large_step(s->rows, j1 - j0, s->k, s->hp, s->wt + j0 * s->k, s->bias + j0, s->x ? s->x + j0 : NULL,
                           s->u, s->ku, s->x ? NULL : s->wih + j0 * s->ku, s->x ? NULL : s->bih + j0, s->net + j0,
                           s->hout ? s->hout + j0 : NULL, s->n, s->act);
        return;
    }
    if (rk_uses_avx2()) { step_avx2(s, j0, j1); return; }
#endif
    step_generic(s, j0, j1);
}

static void run_step(long rows, long n, long k, const float *h_prev, const float *wt, int packed, const float *bias,
                     const float *x, float *net, float *h_new, int activation, int threads, const step_t *proj) {
    if (rows <= 0 || n <= 0) return;
    step_t s = { rows, n, k, h_prev, wt, bias, x, net, activation == 0 ? NULL : h_new, activation, packed,
                 NULL, NULL, NULL, 0, 0 };
    if (proj) { s.x = NULL; s.u = proj->u; s.wih = proj->wih; s.bih = proj->bih; s.ku = proj->ku; s.wih_packed = proj->wih_packed; }
    int parts = threads;
    if ((double)rows * (double)n * (double)k < 100000.0) parts = 1;
    if (parts > (n + 15) / 16) parts = (int)((n + 15) / 16);
    if (parts <= 1) step_task(&s, 0, 1);
    else rk_parallel_run(step_task, &s, parts);
}


void rk_recurrent_step(long rows, long n, long k, const float *h_prev, const float *wt, const float *bias,
                       const float *x, float *net, float *h_new, int activation, int threads) {
    run_step(rows, n, k, h_prev, wt, 0, bias, x, net, h_new, activation, threads, NULL);
}

void rk_recurrent_step_packed(long rows, long n, long k, const float *h_prev, const float *packed, const float *bias,
                              const float *x, float *net, float *h_new, int activation, int threads) {
    run_step(rows, n, k, h_prev, packed, 1, bias, x, net, h_new, activation, threads, NULL);
}

// MARK: - The simple RNN's time loop for a slice of the batch

/// W [k, n] (row stride ld) as rk_pack_b(0, k, n, W, ld)'s 16-column panels in a 64-byte aligned
/// malloc'd buffer (free it), for the AVX-512 and AVX2 loops over many rows (batch > 1). AVX-512:
/// a 32-column tile then reads two aligned 64-byte lines per k, where in place a row of W starts
/// 4 n bytes after the last (400 at H = 100), so most of its 64-byte loads straddle two lines.
/// AVX2: at n = 256 the k rows of a 16-column slice in place are 1 KiB apart and fall into 4 of
/// L1's 64 sets (32 lines), so the slice (k lines) is read from L2 by every row tile; a panel is
/// contiguous (e256, one thread: 3% faster, BENCHMARKS.md session 17). NULL where the loops keep W
/// in place (no AVX2, k > 256, or no memory: the same bits either way).
static float *rnn_panels(long k, long n, const float *w, long ld) {
#ifdef RK_X86
    if (!rk_uses_avx2() || k > 256) return NULL;
    size_t bytes = ((size_t)rk_packed_b_floats(k, n) * sizeof(float) + 63) / 64 * 64;
    float *panels = (float *)aligned_alloc(64, bytes);
    if (panels) rk_pack_b(0, k, n, w, ld, panels);
    return panels;
#else
    (void)k; (void)n; (void)w; (void)ld;
    return NULL;
#endif
}

int rk_rnn_forward_rows(long steps, long batch, long row0, long rows, long h, const float *wt, int packed,
                        const float *bias, long in, const float *inputs, const float *w_ih, const float *bias_ih,
                        float *pre_input, float *gates, float *hidden, int activation, int threads) {
    if (activation != 1 && activation != 2) return 0;
    if (!gates && activation != 1) return 0;
    // Without gates (relu: the backward reads h_t = max(0, net_t) instead) net is not stored: the
    // AVX2 and portable steps skip its stores, the others write each step's into one [rows, h] spare.
#ifdef RK_X86
    const int direct = rows > 1 && !rk_uses_avx512() && h <= 256;
#else
    const int direct = rows > 1;
#endif
    float *spare = gates || direct ? NULL : (float *)malloc(sizeof(float) * (size_t)(rows * h));
    if (!gates && !direct && !spare) abort();
    float *wih_t = inputs ? rk_input_projection_weight(h, in, w_ih) : NULL;   // W_ihᵀ once per pass
    float *panels = !packed && rows > 1 ? rnn_panels(h, h, wt, h) : NULL;      // W_hhᵀ's panels once per pass
    if (panels) { wt = panels; packed = 1; }
    // Where no one-pass body takes the projection (in > 8), W_ihᵀ as rk_pack_b's panels once per
    // pass: each step's rows are then b_ih copied in and rk_sgemm_packed_b, rk_input_projection_rows'
    // product without packing W_ihᵀ again at every step (the same chain: start at b_ih, fma over in
    // in order; h > 2, where rk_sgemm takes no dot-product path).
    float *wih_p = NULL;
    if (inputs && !wih_t && h > 2) {
        size_t bytes = ((size_t)rk_packed_b_floats(in, h) * sizeof(float) + 63) / 64 * 64;
        wih_p = (float *)aligned_alloc(64, bytes);
        if (wih_p) rk_pack_b(1, in, h, w_ih, in, wih_p);
    }
#ifdef RK_X86
    // The AVX2 step forms x in its epilogue: from W_ihᵀ in place where step_avx2 runs (at h > 256 on
    // panels avx2_large.c's body runs, which does not take W_ihᵀ in place) ...
    const int fuse = wih_t && rows > 1 && rk_uses_avx2() && !rk_uses_avx512() && (h <= 256 || !packed);
    // ... or from W_ihᵀ's panels, tile by tile (step_avx2 and avx2_large.c's body alike)
    const int fusePanels = wih_p && rows > 1 && rk_uses_avx2() && !rk_uses_avx512();
#else
    const int fuse = 0, fusePanels = 0;
#endif
    for (long t = 0; t < steps; t++) {
        long first = t * batch + row0;                          // step t's rows in [T*B, h]
        float *x = pre_input + first * h;                       // [rows, h]  U x_t + b_ih
        const float *hp = hidden + first * h;
        float *net = gates ? gates + first * h : spare, *hn = hidden + (first + batch) * h;   // [rows, h]
        if (fuse || fusePanels) {   // the AVX2 step forms x in its epilogue: pre_input is not written (one stream less)
            step_t proj = { .u = inputs + first * in, .wih = fuse ? wih_t : wih_p, .bih = bias_ih, .ku = in,
                            .wih_packed = fusePanels };
            run_step(rows, h, h, hp, wt, packed, bias, x, net, hn, activation, threads, &proj);
            continue;
        }
        // Formed here, just before the step reads it (still in cache), instead of in a pass of its own.
        if (wih_p) {                                            // x [rows, h] = b_ih + u_t W_ihᵀ
            for (long r = 0; r < rows; r++) memcpy(x + r * h, bias_ih, sizeof(float) * (size_t)h);
            rk_sgemm_packed_b(rows, h, in, inputs + first * in, in, wih_p, x, h, 1, threads);
        } else if (inputs) rk_input_projection_rows(rows, h, in, inputs + first * in, in, w_ih, wih_t, bias_ih, x, threads);
        if (rows == 1) rk_recurrent_step_row(h, h, hp, wt, packed, bias, x, net, hn, activation, threads);
        else run_step(rows, h, h, hp, wt, packed, bias, x, net, hn, activation, threads, NULL);
    }
    free(wih_t);
    free(wih_p);
    free(panels);
    free(spare);
    return 1;
}

void rk_relu_rnn_backward_rows(long steps, long t0, long t1, long batch, long row0, long rows, long h, const float *w,
                               int packed, const float *hidden, const float *d_out, float *dh, float *dnet, int threads) {
    if (t0 < 0 || t1 > steps || t0 >= t1) return;
    // relu'(net_t) from h_t = max(0, net_t) (hidden row (t+1)*batch): h_t <= 0 exactly where net_t <= 0
    // (h = 0 for net < 0, h = net for net = ±0), and h = net is NaN where net is, so the selection
    // (and the bits) of rk_relu_backward on net; net itself need not be kept (PyTorch's relu backward
    // reads its output too: threshold_backward(grad, result, 0)).
    const float *hs = hidden + batch * h;                       // h_t at row t*batch + b
    long n = rows * h;
    float *d = dh + row0 * h;                                   // dL/dh_t of these rows [rows, h]
#ifdef RK_X86
    // AVX-512 or AVX2 (avx2_step.c), one thread: relu' in the product's epilogue, so dnet_{t-1} is formed from the sums
    // in registers (dL/dh_{t-1} is never stored) and the next step reads it. A chunk [t0, t1) with
    // t0 > 0 forms dnet_{t0-1} too, so the chunk before it starts there (t1 < steps). W_hh is read
    // as panels (rnn_panels, packed per call: h * h floats against t1 - t0 products of rows * h * h
    // multiply-adds) where the caller gives it in place.
    // At h > 256 (AVX2 without AVX-512, W_hh as panels) avx2_large.c's body runs the product in k blocks.
    const int large = h > 256 && packed && !rk_uses_avx512();
    if (rk_uses_avx2() && threads <= 1 && (h <= 256 || large)) {
        float *panels = packed || t1 - t0 <= 1 ? NULL : rnn_panels(h, h, w, h);
        const float *wp = packed ? w : panels ? panels : w;
        long ldw = packed || panels ? 0 : h;   // 0: panels (rk_avx512_relu_dnet)
        long last = (t1 - 1) * batch + row0;
        if (t1 == steps) {
            if (d_out) for (long i = 0; i < n; i++) d[i] += d_out[last * h + i];
            rk_relu_backward(n, hs + last * h, d, dnet + last * h);
        }
        for (long t = t1 - 1; t > 0 && t >= t0; t--) {
            long first = t * batch + row0, prev = first - batch;
            if (large) rk_avx2_large_relu_dnet(rows, h, h, dnet + first * h, wp, d_out ? d_out + prev * h : NULL,
                                               hs + prev * h, dnet + prev * h);
            else (rk_uses_avx512() ? rk_avx512_relu_dnet : rk_avx2_relu_dnet)(rows, h, h, dnet + first * h, wp, ldw,
                d_out ? d_out + prev * h : NULL, hs + prev * h, dnet + prev * h);
        }
        free(panels);
        if (t0 == 0) {   // dL/dh_{-1} = dnet_0 W_hh
            if (packed) rk_sgemm_packed_b(rows, h, h, dnet + row0 * h, h, w, d, h, 0, 1);
            else rk_sgemm(0, 0, rows, h, h, dnet + row0 * h, h, w, h, d, h, 0, 1);
        }
        return;
    }
#endif
    for (long t = t1 - 1; t >= t0; t--) {                       // the unroller's loop around RNNCell.backwardStep
        long first = t * batch + row0;
        if (d_out) for (long i = 0; i < n; i++) d[i] += d_out[first * h + i];
        rk_relu_backward(n, hs + first * h, d, dnet + first * h);
        if (packed) rk_sgemm_packed_b(rows, h, h, dnet + first * h, h, w, d, h, 0, threads);
        else rk_sgemm(0, 0, rows, h, h, dnet + first * h, h, w, h, d, h, 0, threads);
    }
}
