// The recurrent step of one sequence (batch 1) as a matrix-vector product (rk_recurrent_step_row).
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF

// At B = 1 the step's product is h_prev [1, k] x W_hhᵀ [k, n]. rk_recurrent_step's 6x16 tile
// then holds one row: two accumulators, so each k step waits for the previous fma (latency
// bound) and pays a broadcast, two loads and the loop's bookkeeping per 16 columns. Here one
// pass over k feeds up to 6 panels of 16 columns (12 accumulators): one broadcast per k step
// for 96 columns. Every value is still the same chain as rk_recurrent_step's (start at the
// bias, fma over p = 0 ..< k in order, then + x, then f), so the bits are the same.

typedef struct {
    long n, k; const float *hp, *wt, *bias, *x; float *net, *hout; int act, packed;
} row_step_t;

#ifdef RK_X86
/// NP panels of 16 columns from column j (the last one `masked` to nr columns).
RK_INLINE_AVX2 void row_panels(const int NP, const int masked, const int act, int nr, const row_step_t *s, long j) {
    __m256 a0[6], a1[6];
    __m256i full = _mm256_set1_epi32(-1), m0 = full, m1 = full;
    if (masked) edge_masks(nr, &m0, &m1);
    const float *w[6];
    long ld = s->packed ? 16 : s->n;                        // between rows p of a panel
    for (int v = 0; v < NP; v++) {
        int edge = masked && v == NP - 1;
        const float *b = s->bias + j + 16 * v;
        a0[v] = edge ? _mm256_maskload_ps(b, m0) : _mm256_loadu_ps(b);
        a1[v] = edge ? _mm256_maskload_ps(b + 8, m1) : _mm256_loadu_ps(b + 8);
        w[v] = s->packed ? s->wt + (j + 16 * v) * s->k : s->wt + j + 16 * v;
        __asm__("" : "+r"(w[v]));   // opaque, as in fma_tile: one base per panel, one offset
    }
    long off = 0;
    for (long p = 0; p < s->k; p++, off += ld) {
        __m256 av = _mm256_broadcast_ss(s->hp + p);
        for (int v = 0; v < NP; v++) {
            // Packed panels are zero-padded past n; W_hhᵀ's own rows are not: mask the edge.
            int edge = masked && v == NP - 1 && !s->packed;
            __m256 b0 = edge ? _mm256_maskload_ps(w[v] + off, m0) : _mm256_loadu_ps(w[v] + off);
            __m256 b1 = edge ? _mm256_maskload_ps(w[v] + off + 8, m1) : _mm256_loadu_ps(w[v] + off + 8);
            a0[v] = _mm256_fmadd_ps(av, b0, a0[v]);
            a1[v] = _mm256_fmadd_ps(av, b1, a1[v]);
        }
    }
    const __m256 zero = _mm256_setzero_ps();
    for (int v = 0; v < NP; v++) {
        int edge = masked && v == NP - 1;
        for (int h = 0; h < 2; h++) {
            long c = j + 16 * v + 8 * h;
            __m256i m = h == 0 ? m0 : m1;
            __m256 xv = edge ? _mm256_maskload_ps(s->x + c, m) : _mm256_loadu_ps(s->x + c);
            __m256 nv = _mm256_add_ps(xv, h == 0 ? a0[v] : a1[v]);
            if (edge) _mm256_maskstore_ps(s->net + c, m, nv); else _mm256_storeu_ps(s->net + c, nv);
            if (act == 0) continue;
            __m256 hv = act == 1 ? _mm256_max_ps(zero, nv) : tanh8(nv);   // as rk_recurrent_step
            if (edge) _mm256_maskstore_ps(s->hout + c, m, hv); else _mm256_storeu_ps(s->hout + c, hv);
        }
    }
}

#define RK_ROW_CASE(NP, MASK, ACT) case ((NP) * 2 + (MASK)) * 3 + (ACT): row_panels(NP, MASK, ACT, nr, s, j); break;
#define RK_ROW_ACTS(NP, MASK) RK_ROW_CASE(NP, MASK, 0) RK_ROW_CASE(NP, MASK, 1) RK_ROW_CASE(NP, MASK, 2)
#define RK_ROW_NP(NP) RK_ROW_ACTS(NP, 0) RK_ROW_ACTS(NP, 1)

static RK_AVX2 void row_step_avx2(const row_step_t *s, long j0, long j1) {
    for (long j = j0; j < j1; j += 96) {
        long cols = j1 - j < 96 ? j1 - j : 96;
        int np = (int)((cols + 15) / 16), nr = (int)(cols - 16 * (np - 1)), masked = nr != 16;
        switch ((np * 2 + masked) * 3 + s->act) {
            RK_ROW_NP(1) RK_ROW_NP(2) RK_ROW_NP(3) RK_ROW_NP(4) RK_ROW_NP(5) RK_ROW_NP(6)
            default: break;
        }
    }
}
#endif

static void row_step_task(void *ctx, int part, int parts) {
    const row_step_t *s = (const row_step_t *)ctx;
    long blocks = (s->n + 15) / 16;                          // the column split of rk_recurrent_step
    long j0 = 16 * (blocks * part / parts), j1 = 16 * (blocks * (part + 1) / parts);
    if (j1 > s->n) j1 = s->n;
    if (j0 >= j1) return;
#ifdef RK_X86
    row_step_avx2(s, j0, j1);
#endif
}

void rk_recurrent_step_row(long n, long k, const float *h_prev, const float *wt, int packed, const float *bias,
                           const float *x, float *net, float *h_new, int activation, int threads) {
    if (n <= 0) return;
#ifdef RK_X86
    if (rk_uses_avx2()) {
        row_step_t s = { n, k, h_prev, wt, bias, x, net, activation == 0 ? NULL : h_new, activation, packed };
        int parts = threads;                                 // the thread policy of rk_recurrent_step
        if ((double)n * (double)k < 100000.0) parts = 1;
        if (parts > (n + 15) / 16) parts = (int)((n + 15) / 16);
        if (parts <= 1) row_step_task(&s, 0, 1);
        else rk_parallel_run(row_step_task, &s, parts);
        return;
    }
#endif
    if (packed) rk_recurrent_step_packed(1, n, k, h_prev, wt, bias, x, net, h_new, activation, threads);
    else rk_recurrent_step(1, n, k, h_prev, wt, bias, x, net, h_new, activation, threads);
}
