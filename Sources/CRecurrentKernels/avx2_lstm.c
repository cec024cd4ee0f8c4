// The LSTM's backward step in one pass on AVX2 (rk_uses_avx2() without AVX-512): the gate
// derivatives of a tile of rows, then dL/dh_{t-1} = dgates W_hh for those rows while their dgates
// are still in L1, and the next tile's (or step t-1's first tile's) gate inputs prefetched while
// the product runs: the backward gates otherwise wait on the trace (gates, c_{t-1}, tanh(c_t):
// [T*B, ·] streams, not in cache), the product on nothing.
//
// Same bits as rk_lstm_backward_kept followed by rk_sgemm(0, 0, rows, h, 4h, dgates, 4h, W_hh, h,
// dh, h, 0, ·) (LSTMCell.backwardStep's other path): the gates run rk_lstm_backward_kept itself on
// each tile's rows (a row's values never depend on the others), and every dh is rk_sgemm's chain,
// started at 0, then fma(dgates(r, q), W(q, j), acc) for q = 0 ..< 4h in order in one loop (a
// k-block store and reload is exact). Tiles and threads (a block of rows each) never change a value.
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF

#ifdef RK_X86

/// The gate inputs of `count` rows of one step: gates [count, 4h], c_{t-1} [count, h] (both
/// contiguous), tanh(c_t) [count rows of h, row stride ldt]; NULL gates: nothing.
typedef struct { const float *gates, *cp, *tc; long count; } gate_rows_t;

/// Prefetches cache lines first ..< last of the lines that `g` spans (in the order above).
static inline void prefetch_lines(const gate_rows_t *g, long h, long ldt, long first, long last) {
    long lg = (g->count * 4 * h + 15) / 16, lc = (g->count * h + 15) / 16, lt = (h + 15) / 16;
    for (long l = first; l < last; l++) {
        const float *p = l < lg ? g->gates + 16 * l
                       : l < lg + lc ? g->cp + 16 * (l - lg)
                       : g->tc + (l - lg - lc) / lt * ldt + 16 * ((l - lg - lc) % lt);
        _mm_prefetch((const char *)p, _MM_HINT_T0);
    }
}

static long prefetch_line_count(const gate_rows_t *g, long h) {
    return g->gates ? (g->count * 4 * h + 15) / 16 + (g->count * h + 15) / 16 + g->count * ((h + 15) / 16) : 0;
}

typedef struct {
    long rows, h, ldt; const float *gates, *cp, *tc; float *dh, *dc, *dpre; const float *w;
    const float *nextGates, *nextCp, *nextTc;
} lstm_step_t;

/// Rows r0 ..< r1: balanced tiles of up to 6 rows; per tile the gates (rk_lstm_backward_kept on its
/// rows), then its dh over 16-column panels, each panel also prefetching a share of the next
/// tile's gate inputs (after the last tile: step t-1's first tile of these rows, when given).
static RK_AVX2 void lstm_step_rows(const lstm_step_t *s, long r0, long r1) {
    const long h = s->h, k = 4 * h, ni = (r1 - r0 + 5) / 6, panels = (h + 15) / 16;
    for (long ti = 0; ti < ni; ti++) {
        long i = r0 + (r1 - r0) * ti / ni, iEnd = r0 + (r1 - r0) * (ti + 1) / ni;
        gate_rows_t next = { NULL, NULL, NULL, 0 };
        if (ti + 1 < ni) {
            long n0 = iEnd, n1 = r0 + (r1 - r0) * (ti + 2) / ni;
            next = (gate_rows_t){ s->gates + n0 * k, s->cp + n0 * h, s->tc + n0 * s->ldt, n1 - n0 };
        } else if (s->nextGates) {
            long n1 = r0 + (r1 - r0) / ni;
            next = (gate_rows_t){ s->nextGates + r0 * k, s->nextCp + r0 * h, s->nextTc + r0 * s->ldt, n1 - r0 };
        }
        rk_lstm_backward_kept(iEnd - i, h, s->gates + i * k, s->cp + i * h, s->tc + i * s->ldt, s->ldt, s->dh + i * h,
                              s->dc + i * h, s->dpre + i * k);
        long lines = prefetch_line_count(&next, h);
        for (long p = 0; p < panels; p++) {
            long j = 16 * p;
            if (lines) prefetch_lines(&next, h, s->ldt, lines * p / panels, lines * (p + 1) / panels);
            rk_avx2_tile_rows((int)(iEnd - i), (int)(h - j < 16 ? h - j : 16), k, s->dpre + i * k, k, s->w + j, h,
                              s->dh + i * h + j, h, 0);   // gemm.c's tile: rk_sgemm's chain from 0
        }
    }
}

static void lstm_step_task(void *ctx, int part, int parts) {
    const lstm_step_t *s = (const lstm_step_t *)ctx;
    long r0 = s->rows * part / parts, r1 = s->rows * (part + 1) / parts;
    if (r0 < r1) lstm_step_rows(s, r0, r1);
}

#endif

int rk_lstm_backward_step(long rows, long h, const float *gates, const float *c_prev, const float *tanh_c, long ldt,
                          float *dh, float *dc, float *dpre, const float *w_hh, const float *next_gates,
                          const float *next_c_prev, const float *next_tanh_c, int threads) {
#ifdef RK_X86
    if (!rk_uses_avx2() || rk_uses_avx512() || h < 1 || h > 256) return 0;
    if (rows <= 0) return 1;
    lstm_step_t s = { rows, h, ldt, gates, c_prev, tanh_c, dh, dc, dpre, w_hh, next_gates, next_c_prev, next_tanh_c };
    int parts = threads;   // as rk_sgemm: threads from ~100k multiply-adds
    if ((double)rows * (double)h * (double)(4 * h) < 100000.0) parts = 1;
    if (parts > rows) parts = (int)rows;
    if (parts <= 1) lstm_step_task(&s, 0, 1);
    else rk_parallel_run(lstm_step_task, &s, parts);
    return 1;
#else
    (void)rows; (void)h; (void)gates; (void)c_prev; (void)tanh_c; (void)ldt; (void)dh; (void)dc; (void)dpre;
    (void)w_hh; (void)next_gates; (void)next_c_prev; (void)next_tanh_c; (void)threads;
    return 0;
#endif
}
