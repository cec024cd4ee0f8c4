// The simple RNN's time loop for one sequence (batch 1) in C (rk_rnn_forward_row): one call per
// chunk of steps instead of one Swift call, one fork-join and one pass setup per step.
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF
#include <stdatomic.h>
#include <sched.h>

// Step t, for t = 0 ..< steps:  net_t = x_t + (b + h_{t-1} W_hhᵀ),  h_t = f(net_t)
//   x       [steps, n]     x_t = U u_t + b_ih (the chunk's input projection)
//   hidden  [steps+1, k]   row 0 is h_{-1} on entry (k = n: the state is the output)
//   net     [steps, n]     written when not NULL
//   wt      W_hhᵀ [k, n] (packed 0), or its 16-column panels from rk_pack_b (packed 1)
// A column block of up to 13 vectors of 8 (104 columns: H = 100 in one block) keeps its sums in
// ymm registers for the whole pass over k: per k one broadcast of h_{t-1}[p] and one fma per
// vector with W_hhᵀ's row p. Every sum is the chain of rk_recurrent_step / rk_recurrent_step_row
// (start at b, fma over p = 0 ..< k in order, then x + sum, then f), so the bits are the same.

typedef struct {
    long steps, n, k; const float *wt, *bias, *x; float *net, *hidden; int act, packed;
} seq_row_t;

#ifdef RK_X86
/// Columns 8*v0 ..< 8*(v0 + NV) (clipped to n) of step t. PACKED: wt holds 16-column panels,
/// zero-padded past n, so 8*v0 must be a multiple of 16 and only the stores are masked.
RK_INLINE_AVX2 void seq_block(const int NV, const int PACKED, const int masked, const int ACT, const seq_row_t *s,
                               long t, long v0) {
    const long n = s->n, k = s->k, j = 8 * v0;
    const int nr = (int)(n - (j + 8 * (NV - 1)));          // columns in the last vector: 1 ... 7 when masked
    const __m256i m = lanes8(nr);
    const float *hp = s->hidden + t * k;                     // h_{t-1} [k]
    __m256 acc[13];
    for (int v = 0; v < NV; v++) {
        const float *b = s->bias + j + 8 * v;
        acc[v] = masked && v == NV - 1 ? _mm256_maskload_ps(b, m) : _mm256_loadu_ps(b);
    }
    if (PACKED) {
        // Vector v is half v % 2 of panel (j / 16) + v / 2: [k][16] floats each, row stride 16.
        const float *w[7];
        for (int q = 0; q < (NV + 1) / 2; q++) {
            w[q] = s->wt + (j / 16 + q) * 16 * k;
            __asm__("" : "+r"(w[q]));                      // one base per panel, one offset
        }
        long off = 0;
        for (long p = 0; p < k; p++, off += 16) {
            __m256 av = _mm256_broadcast_ss(hp + p);
            for (int v = 0; v < NV; v++)
                acc[v] = _mm256_fmadd_ps(av, _mm256_loadu_ps(w[v / 2] + off + 8 * (v % 2)), acc[v]);
        }
    } else {
        // W_hhᵀ's rows are n floats apart and not padded: the last vector's loads are masked.
        const float *w = s->wt + j;
        for (long p = 0; p < k; p++, w += n) {
            __m256 av = _mm256_broadcast_ss(hp + p);
            for (int v = 0; v < NV; v++) {
                __m256 b = masked && v == NV - 1 ? _mm256_maskload_ps(w + 8 * v, m) : _mm256_loadu_ps(w + 8 * v);
                acc[v] = _mm256_fmadd_ps(av, b, acc[v]);
            }
        }
    }
    const __m256 zero = _mm256_setzero_ps();
    const float *x = s->x + t * n;
    float *net = s->net ? s->net + t * n : NULL, *h = s->hidden + (t + 1) * k;
    for (int v = 0; v < NV; v++) {
        const long c = j + 8 * v;
        const int edge = masked && v == NV - 1;
        __m256 xv = edge ? _mm256_maskload_ps(x + c, m) : _mm256_loadu_ps(x + c);
        __m256 nv = _mm256_add_ps(xv, acc[v]);
        if (net) { if (edge) _mm256_maskstore_ps(net + c, m, nv); else _mm256_storeu_ps(net + c, nv); }
        __m256 hv = ACT == 1 ? _mm256_max_ps(zero, nv) : tanh8(nv);   // as rk_recurrent_step
        if (edge) _mm256_maskstore_ps(h + c, m, hv); else _mm256_storeu_ps(h + c, hv);
    }
}

#define RK_SEQ_CASE(NV, PK, MK, ACT) case (((NV) * 2 + (PK)) * 2 + (MK)) * 2 + (ACT) - 1: seq_block(NV, PK, MK, ACT, s, t, v); break;
#define RK_SEQ_ACT(NV, PK, MK) RK_SEQ_CASE(NV, PK, MK, 1) RK_SEQ_CASE(NV, PK, MK, 2)
#define RK_SEQ_NV(NV) RK_SEQ_ACT(NV, 0, 0) RK_SEQ_ACT(NV, 0, 1) RK_SEQ_ACT(NV, 1, 0) RK_SEQ_ACT(NV, 1, 1)

/// Vectors v0 ..< v1 of step t: blocks of 12 vectors (96 columns, a multiple of the panels'
/// 16), the last block taking up to 13 (so H = 100 is one pass over k).
static RK_AVX2 void seq_vectors(const seq_row_t *s, long t, long v0, long v1) {
    for (long v = v0; v < v1;) {
        int nv = v1 - v <= 13 ? (int)(v1 - v) : 12;
        int masked = 8 * (v + nv) > s->n;                 // the last vector holds fewer than 8 columns
        switch (((nv * 2 + s->packed) * 2 + masked) * 2 + s->act - 1) {
            RK_SEQ_NV(1) RK_SEQ_NV(2) RK_SEQ_NV(3) RK_SEQ_NV(4) RK_SEQ_NV(5) RK_SEQ_NV(6) RK_SEQ_NV(7)
            RK_SEQ_NV(8) RK_SEQ_NV(9) RK_SEQ_NV(10) RK_SEQ_NV(11) RK_SEQ_NV(12) RK_SEQ_NV(13)
            default: break;
        }
        v += nv;
    }
}

// MARK: - Two or more threads: the columns of every step split, one fork-join per call

// Work item i is part i % parts of step i / parts (a fixed range of vectors, even-aligned so
// panels are never shared). A thread claims the next item (one counter, in order) only once
// every item of the steps before it is done, so a waiting thread holds nothing: if the OS
// parks one thread, the other claims and runs every item (as the pool's caller runs the parts
// no worker took), and a part the pool runs after the other on one thread finds nothing left.
typedef struct {
    seq_row_t s;
    long items, parts;
    _Alignas(64) atomic_long next;
    _Alignas(64) atomic_long done;
} seq_team_t;

static void seq_team_task(void *ctx, int part, int parts) {
    (void)part; (void)parts;
    seq_team_t *tm = (seq_team_t *)ctx;
    const long nvec = (tm->s.n + 7) / 8, pairs = (nvec + 1) / 2;
    long spins = 0;
    for (;;) {
        long i = atomic_load_explicit(&tm->next, memory_order_relaxed);
        if (i >= tm->items) return;
        long t = i / tm->parts, q = i % tm->parts;
        if (atomic_load_explicit(&tm->done, memory_order_acquire) < t * tm->parts) {   // step t - 1 still running
            if (++spins > 2000) sched_yield(); else _mm_pause();                        // as the pool's caller
            continue;
        }
        if (!atomic_compare_exchange_weak_explicit(&tm->next, &i, i + 1, memory_order_relaxed, memory_order_relaxed)) continue;
        spins = 0;
        long v0 = 2 * (pairs * q / tm->parts), v1 = 2 * (pairs * (q + 1) / tm->parts);
        if (v1 > nvec) v1 = nvec;
        if (v0 < v1) seq_vectors(&tm->s, t, v0, v1);
        atomic_fetch_add_explicit(&tm->done, 1, memory_order_release);
    }
}
#endif

int rk_rnn_forward_row(long steps, long n, long k, const float *wt, int packed, const float *bias,
                       const float *x, float *net, float *hidden, int activation, int threads) {
#ifdef RK_X86
    if (!rk_uses_avx2() || (activation != 1 && activation != 2) || n != k || n <= 0) return 0;
    seq_row_t s = { steps, n, k, wt, bias, x, net, hidden, activation, packed ? 1 : 0 };
    // The threads of rk_recurrent_step_row: below 100,000 multiply-adds a step, one.
    long parts = (double)n * (double)k < 100000.0 ? 1 : threads;
    long pairs = (n + 15) / 16;
    if (parts > pairs) parts = pairs;
    if (parts <= 1) {
        for (long t = 0; t < steps; t++) seq_vectors(&s, t, 0, (n + 7) / 8);
        return 1;
    }
    seq_team_t tm = { .s = s, .items = steps * parts, .parts = parts };
    atomic_init(&tm.next, 0);
    atomic_init(&tm.done, 0);
    rk_parallel_run(seq_team_task, &tm, (int)parts);
    return 1;
#else
    (void)steps; (void)n; (void)k; (void)wt; (void)packed; (void)bias; (void)x; (void)net; (void)hidden;
    (void)activation; (void)threads;
    return 0;
#endif
}
