// The simple RNN's time loop for one sequence (batch 1) in C (rk_rnn_forward_row): one call per
// chunk of steps instead of one Swift call, one fork-join and one pass setup per step.
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF
#include <stdatomic.h>
#include <sched.h>
#include <pthread.h>

// Step t, for t = 0 ..< steps:  net_t = x_t + (b + h_{t-1} W_hhᵀ),  h_t = f(net_t)
//   x       [steps, n]     x_t = U u_t + b_ih (the chunk's input projection)
//   hidden  [steps+1, k]   row 0 is h_{-1} on entry (k = n: the state is the output)
//   net     [steps, n]     written when not NULL
//   wt      W_hhᵀ [k, n] (packed 0), or its 16-column panels from rk_pack_b (packed 1)
// A column block of up to 13 vectors of 8 (104 columns: H = 100 in one block) keeps its sums in
// ymm registers for the whole pass over k: per k one broadcast of h_{t-1}[p] and one fma per
// vector with W_hhᵀ's row p. Every sum is the chain of rk_recurrent_step / rk_recurrent_step_row
// (start at b, fma over p = 0 ..< k in order, then x + sum, then f), so the bits are the same.
// With AVX-512 (seq_block16) a vector holds 16 columns; W_hhᵀ is read from L2 once a step (1 MiB
// at H = 512), so the loop is bound by one core's L2 read rate (benchmarks/kernels/fma_peak.c's
// 512-bit stream) and 2 threads each keep their own half for the whole sequence.

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

// MARK: - The AVX-512 body: 16 columns a vector

/// Columns 16*c0 ..< 16*(c0 + NV) (clipped to n) of step t in zmm registers: seq_block's loop
/// with one 16-lane vector per 16 columns (per p one broadcast of h_{t-1}[p] and NV fmas, each
/// with one 64-byte line of W_hhᵀ's row p or of a panel), the same chain per column, so the same
/// bits. PACKED: vector v is panel c0 + v ([k][16], zero-padded past n): only the stores are
/// masked. Else the last vector's loads are masked too (lanes16).
RK_INLINE_AVX512 void seq_block16(const int NV, const int PACKED, const int masked, const int ACT, const seq_row_t *s,
                                  long t, long c0) {
    const long n = s->n, k = s->k, j = 16 * c0;
    const __mmask16 m = masked ? lanes16(n - (j + 16 * (NV - 1))) : (__mmask16)0xFFFF;   // the last vector's columns
    const float *hp = s->hidden + t * k;                     // h_{t-1} [k]
    __m512 acc[16];
    for (int v = 0; v < NV; v++) {
        const float *b = s->bias + j + 16 * v;
        acc[v] = masked && v == NV - 1 ? _mm512_maskz_loadu_ps(m, b) : _mm512_loadu_ps(b);
    }
    if (PACKED) {
        const float *w[16];
        for (int v = 0; v < NV; v++) {
            w[v] = s->wt + (c0 + v) * 16 * k;
            __asm__("" : "+r"(w[v]));                        // one base per panel, one offset
        }
        long off = 0;
        for (long p = 0; p < k; p++, off += 16) {
            __m512 av = _mm512_set1_ps(hp[p]);
            for (int v = 0; v < NV; v++) acc[v] = _mm512_fmadd_ps(av, _mm512_loadu_ps(w[v] + off), acc[v]);
        }
    } else {
        const float *w = s->wt + j;
        for (long p = 0; p < k; p++, w += n) {
            __m512 av = _mm512_set1_ps(hp[p]);
            for (int v = 0; v < NV; v++) {
                __m512 b = masked && v == NV - 1 ? _mm512_maskz_loadu_ps(m, w + 16 * v) : _mm512_loadu_ps(w + 16 * v);
                acc[v] = _mm512_fmadd_ps(av, b, acc[v]);
            }
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    const float *x = s->x + t * n;
    float *net = s->net ? s->net + t * n : NULL, *h = s->hidden + (t + 1) * k;
    for (int v = 0; v < NV; v++) {
        const long c = j + 16 * v;
        const __mmask16 mv = masked && v == NV - 1 ? m : (__mmask16)0xFFFF;
        __m512 nv = _mm512_add_ps(_mm512_maskz_loadu_ps(mv, x + c), acc[v]);
        if (net) _mm512_mask_storeu_ps(net + c, mv, nv);
        __m512 hv = ACT == 1 ? _mm512_max_ps(zero, nv) : tanh16(nv);   // as seq_block, lane for lane
        _mm512_mask_storeu_ps(h + c, mv, hv);
    }
}

#define RK_SEQ16_CASE(NV, PK, MK, ACT) case (((NV) * 2 + (PK)) * 2 + (MK)) * 2 + (ACT) - 1: seq_block16(NV, PK, MK, ACT, s, t, c); break;
#define RK_SEQ16_ACT(NV, PK, MK) RK_SEQ16_CASE(NV, PK, MK, 1) RK_SEQ16_CASE(NV, PK, MK, 2)
#define RK_SEQ16_NV(NV) RK_SEQ16_ACT(NV, 0, 0) RK_SEQ16_ACT(NV, 0, 1) RK_SEQ16_ACT(NV, 1, 0) RK_SEQ16_ACT(NV, 1, 1)

/// The widest zmm block: W_hhᵀ's rows (one pointer) take 16 vectors (256 columns); panels
/// need a base register each, so 8 (128 columns) with h, the offset and the end in registers.
enum { SEQ16_ROWS = 16, SEQ16_PANELS = 8 };

/// 16-column groups c0 ..< c1 of step t: blocks as equal as the widest block allows (H = 512:
/// 2 of 16 vectors, or 4 of 8 panels; H = 100: one block of 7 vectors).
static RK_AVX512 void seq_columns16(const seq_row_t *s, long t, long c0, long c1) {
    const long widest = s->packed ? SEQ16_PANELS : SEQ16_ROWS, groups = c1 - c0;
    const long blocks = (groups + widest - 1) / widest;
    for (long b = 0, c = c0; b < blocks; b++) {
        const int nv = (int)(c0 + groups * (b + 1) / blocks - c);
        const int masked = 16 * (c + nv) > s->n;             // the last vector holds fewer than 16 columns
        switch (((nv * 2 + s->packed) * 2 + masked) * 2 + s->act - 1) {
            RK_SEQ16_NV(1) RK_SEQ16_NV(2) RK_SEQ16_NV(3) RK_SEQ16_NV(4) RK_SEQ16_NV(5) RK_SEQ16_NV(6) RK_SEQ16_NV(7)
            RK_SEQ16_NV(8) RK_SEQ16_NV(9) RK_SEQ16_NV(10) RK_SEQ16_NV(11) RK_SEQ16_NV(12) RK_SEQ16_NV(13)
            RK_SEQ16_NV(14) RK_SEQ16_NV(15) RK_SEQ16_NV(16)
            default: break;
        }
        c += nv;
    }
}

/// Step t's 16-column groups c0 ..< c1 (the last clipped to n) with the instruction set's body.
static void seq_groups(const seq_row_t *s, long t, long c0, long c1, int wide) {
    if (wide) { seq_columns16(s, t, c0, c1); return; }
    const long nvec = (s->n + 7) / 8, v1 = 2 * c1 < nvec ? 2 * c1 : nvec;
    if (2 * c0 < v1) seq_vectors(s, t, 2 * c0, v1);
}

// MARK: - Two or more threads: each its own columns for the whole sequence, one sync a step

// Part q is a fixed range of 16-column groups, the same at every step, so the thread that runs
// it reads the same half (third, ...) of W_hhᵀ at every step and keeps it in its own core's L2.
// Item (t, q) is part q of step t. claimed[q] is the next step of part q: a thread takes an item
// by moving claimed[q] from t to t + 1 (so each item runs once), and only once `done` (items
// finished, in any order) shows every item of the steps before t finished: h_{t-1} is whole.
// A thread runs its own part's items: the caller of rk_rnn_forward_row owns part 0 and a worker
// the part the pool gave it (part 0 given to a worker: with 2 parts, part 1), so with 2 threads
// each core keeps the same half from call to call, whichever thread the pool's ticket favours. It takes another part's item at once when no thread has
// started that part yet (the pool runs a part on the caller, or on a worker that has not woken),
// and after STEAL_SPINS waits when the part's thread is late (the OS parked it): so a waiting
// thread never holds anything, and one thread alone runs every item. Which thread runs an item
// never changes a bit (each column's chain is the same).
enum { SEQ_MAX_PARTS = 8, SEQ_STEAL_SPINS = 2000 };
typedef struct { _Alignas(64) atomic_long next; } seq_part_t;
typedef struct {
    seq_row_t s;
    long parts, groups;
    int wide;
    pthread_t caller;
    _Alignas(64) atomic_long done;
    seq_part_t claimed[SEQ_MAX_PARTS];
    _Alignas(64) atomic_int started[SEQ_MAX_PARTS];
} seq_team_t;

/// Runs item (claimed[q], q) when it is ready and still free; 1 when it ran one.
static int seq_try_part(seq_team_t *tm, long q) {
    const long steps = tm->s.steps;
    long t = atomic_load_explicit(&tm->claimed[q].next, memory_order_relaxed);
    if (t >= steps || atomic_load_explicit(&tm->done, memory_order_acquire) < t * tm->parts) return 0;
    if (!atomic_compare_exchange_strong_explicit(&tm->claimed[q].next, &t, t + 1, memory_order_relaxed, memory_order_relaxed))
        return 0;
    // h_{t-1}'s other parts were written by other cores: ask for all of its lines at once, so they
    // arrive together instead of one by one as the loop over p reaches them.
    const float *hp = tm->s.hidden + t * tm->s.k;
    for (long p = 0; p < tm->s.k; p += 16) _mm_prefetch((const char *)(hp + p), _MM_HINT_T0);
    seq_groups(&tm->s, t, tm->groups * q / tm->parts, tm->groups * (q + 1) / tm->parts, tm->wide);
    atomic_fetch_add_explicit(&tm->done, 1, memory_order_release);
    return 1;
}

static void seq_team_task(void *ctx, int part, int parts) {
    (void)parts;
    seq_team_t *tm = (seq_team_t *)ctx;
    const long steps = tm->s.steps;
    if (pthread_equal(pthread_self(), tm->caller)) part = 0;
    else if (part == 0 && tm->parts == 2) part = 1;
    atomic_store_explicit(&tm->started[part], 1, memory_order_relaxed);
    long spins = 0;
    for (;;) {
        if (seq_try_part(tm, part)) { spins = 0; continue; }
        int left = 0, ran = 0;
        for (long q = 0; q < tm->parts; q++) {
            if (atomic_load_explicit(&tm->claimed[q].next, memory_order_relaxed) < steps) left = 1;
            if (q != part && (!atomic_load_explicit(&tm->started[q], memory_order_relaxed) || spins > SEQ_STEAL_SPINS)
                && seq_try_part(tm, q)) ran = 1;
        }
        if (!left) return;                                    // every item claimed: the last ones finish on their threads
        if (ran) { spins = 0; continue; }
        if (++spins > 4 * SEQ_STEAL_SPINS) sched_yield(); else _mm_pause();
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
    const long groups = (n + 15) / 16;                    // 16-column groups (panels): parts never share one
    // AVX-512 past one 13-vector AVX2 block (104 columns) and only where W_hhᵀ's rows are whole
    // 64-byte lines (panels; or rows of a multiple of 16 floats from a 64-byte aligned start):
    // up to 104 columns W_hhᵀ (40 KB at H = 100) stays in L1 and the loop is bound by the FMAs,
    // where the zmm body measured no faster (this VM issues about 1.2 zmm FMAs a cycle against
    // 1.9 ymm); a zmm load that straddles two lines costs two, and with H % 16 != 0 most rows
    // do (H = 120, 136, 200: 1.12-1.16x the AVX2 loop's time); aligned, from L2, it reads a
    // line per load (H = 112-512: 0.54-0.79 of the AVX2 loop's time, BENCHMARKS.md session 10).
    const int wide = rk_uses_avx512() && n > 104 && (packed || (n % 16 == 0 && ((uintptr_t)wt & 63) == 0));
    if (parts > groups) parts = groups;
    if (parts > SEQ_MAX_PARTS) parts = SEQ_MAX_PARTS;
    if (parts <= 1) {
        for (long t = 0; t < steps; t++) seq_groups(&s, t, 0, groups, wide);
        return 1;
    }
    seq_team_t tm = { .s = s, .parts = parts, .groups = groups, .wide = wide, .caller = pthread_self() };
    atomic_init(&tm.done, 0);
    for (int q = 0; q < SEQ_MAX_PARTS; q++) { atomic_init(&tm.claimed[q].next, 0); atomic_init(&tm.started[q], 0); }
    rk_parallel_run(seq_team_task, &tm, (int)parts);
    return 1;
#else
    (void)steps; (void)n; (void)k; (void)wt; (void)packed; (void)bias; (void)x; (void)net; (void)hidden;
    (void)activation; (void)threads;
    return 0;
#endif
}
