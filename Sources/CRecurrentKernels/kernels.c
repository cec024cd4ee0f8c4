#define _GNU_SOURCE 1
// Float kernels of Recurrent (see include/CRecurrentKernels.h).
//
// GEMM: one register-blocked micro-kernel (6 rows x 16 columns, 12 ymm accumulators,
// FMA). Small products (the per-step ones) read op(A) through arbitrary strides and
// op(B) rows directly; long-k, NT and TT products pack kc-blocks of A (6-row panels)
// and B (16-column panels) first; n <= 2 uses a dot-product kernel.
// Every element of C is one fixed chain: start at 0 (or C), then fma over p = 0..k-1
// in order (stored and reloaded exactly between k blocks). Tile and thread
// boundaries therefore never change a result: splitting C among threads is
// bit-identical to one thread.
#include "CRecurrentKernels.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdint.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RK_X86 1
#define RK_AVX2 __attribute__((target("avx2,fma")))
#define RK_INLINE_AVX2 static inline __attribute__((always_inline, target("avx2,fma")))
#endif

enum { KC = 128 };

// MARK: - Problem description

typedef enum { V_TILE, V_PACK, V_DOT } variant_t;   // direct tiles, packed panels, dot products

typedef struct {
    long m, n, k;
    const float *a; long ra, ca;   // op(A)(i, p) = a[i*ra + p*ca]
    const float *b; long rb, cb;   // op(B)(p, j) = b[p*rb + j*cb]
    float *c; long rc, cc;         // C(i, j)     = c[i*rc + j*cc]
    int accumulate;
    variant_t variant;
    int splitColumns;
} problem_t;

/// Chooses the kernel from the full shape only (never from a thread's share).
static problem_t plan(int ta, int tb, long m, long n, long k, const float *a, long lda,
                      const float *b, long ldb, float *c, long ldc, int accumulate) {
    problem_t p = { m, n, k, a, ta ? 1 : lda, ta ? lda : 1, b, tb ? 1 : ldb, tb ? ldb : 1,
                    c, ldc, 1, accumulate, V_TILE, 0 };
    int swap = 0;
    if (!tb && ta && n < 8 && m >= 2 * n) swap = 1;              // thin TN: vectorise along m
    else if (!ta && n <= 2 && p.rb == 1) p.variant = V_DOT;       // thin, unit stride along k
    else if (tb || (k >= 512 && m >= 16 && n >= 16)) p.variant = V_PACK;   // NT, TT, long k
    if (swap) {   // C^T = op(B)^T op(A)^T: rows <-> columns
        problem_t s = { n, m, k, p.b, p.cb, p.rb, p.a, p.ca, p.ra, c, 1, ldc, accumulate, V_TILE, 0 };
        p = s;
    }
    p.splitColumns = p.n >= p.m;
    return p;
}

// MARK: - Portable bodies

static void tile_generic(const problem_t *p, long i0, long i1, long j0, long j1,
                         const float *b0, long rb) {
    // b0 points at op(B)(0, j0) with unit column stride.
    for (long i = i0; i < i1; i++) {
        float *crow = p->c + i * p->rc;
        for (long j = j0; j < j1; j++) {
            float s = p->accumulate ? crow[j * p->cc] : 0.0f;
            const float *ar = p->a + i * p->ra;
            for (long q = 0; q < p->k; q++) s = fmaf(ar[q * p->ca], b0[q * rb + (j - j0)], s);
            crow[j * p->cc] = s;
        }
    }
}

static void dot_generic(const problem_t *p, long i0, long i1, long j0, long j1) {
    for (long i = i0; i < i1; i++)
        for (long j = j0; j < j1; j++) {
            const float *ar = p->a + i * p->ra, *bc = p->b + j * p->cb;
            float s = 0;
            for (long q = 0; q < p->k; q++) s = fmaf(ar[q], bc[q], s);
            float *cij = p->c + i * p->rc + j * p->cc;
            *cij = p->accumulate ? *cij + s : s;
        }
}

// MARK: - AVX2 + FMA bodies

#ifdef RK_X86
/// Lane masks for a tile edge of nr < 16 columns: m0 for columns 0-7, m1 for 8-15.
RK_INLINE_AVX2 void edge_masks(int nr, __m256i *m0, __m256i *m1) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    *m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);
    *m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane);
}

/// The product loop of a tile: acc[r] += op(A)(r, q) op(B)(q, 0 ..< 8*NV) for q < kc, one
/// fma per q in order (the chain every kernel here shares).
RK_INLINE_AVX2 void fma_tile(const int MR, const int NV, const int masked, __m256i m0, __m256i m1, long kc,
                             const float *a, long ra, long ca, const float *b, long rb, __m256 *x0, __m256 *x1) {
    for (long q = 0; q < kc; q++) {
        const float *bq = b + q * rb, *aq = a + q * ca;
        __m256 b0v = masked ? _mm256_maskload_ps(bq, m0) : _mm256_loadu_ps(bq);
        __m256 b1v = _mm256_setzero_ps();
        if (NV == 2) b1v = masked ? _mm256_maskload_ps(bq + 8, m1) : _mm256_loadu_ps(bq + 8);
        for (int r = 0; r < MR; r++) {
            __m256 av = _mm256_broadcast_ss(aq + r * ra);
            x0[r] = _mm256_fmadd_ps(av, b0v, x0[r]);
            if (NV == 2) x1[r] = _mm256_fmadd_ps(av, b1v, x1[r]);
        }
    }
}

/// One MR x (8*NV) tile over kc steps; `masked` limits the columns to nr.
RK_INLINE_AVX2 void micro(const int MR, const int NV, const int masked, int nr, long kc,
                          const float *a, long ra, long ca, const float *b, long rb,
                          float *c, long rc, long cc, int loadC) {
    __m256 x0[6], x1[6];
    __m256i m0 = _mm256_set1_epi32(-1), m1 = m0;
    if (masked) edge_masks(nr, &m0, &m1);
    for (int r = 0; r < MR; r++) {
        if (!loadC) { x0[r] = _mm256_setzero_ps(); x1[r] = x0[r]; continue; }
        if (cc == 1) {
            const float *cr = c + r * rc;
            x0[r] = masked ? _mm256_maskload_ps(cr, m0) : _mm256_loadu_ps(cr);
            if (NV == 2) x1[r] = masked ? _mm256_maskload_ps(cr + 8, m1) : _mm256_loadu_ps(cr + 8);
        } else {
            float t[16] = {0};
            for (int j = 0; j < nr; j++) t[j] = c[r * rc + j * cc];
            x0[r] = _mm256_loadu_ps(t); x1[r] = _mm256_loadu_ps(t + 8);
        }
    }
    fma_tile(MR, NV, masked, m0, m1, kc, a, ra, ca, b, rb, x0, x1);
    for (int r = 0; r < MR; r++) {
        float *cr = c + r * rc;
        if (cc == 1) {
            if (masked) _mm256_maskstore_ps(cr, m0, x0[r]); else _mm256_storeu_ps(cr, x0[r]);
            if (NV == 2) { if (masked) _mm256_maskstore_ps(cr + 8, m1, x1[r]); else _mm256_storeu_ps(cr + 8, x1[r]); }
        } else {
            float t[16];
            _mm256_storeu_ps(t, x0[r]); _mm256_storeu_ps(t + 8, x1[r]);
            for (int j = 0; j < nr; j++) cr[j * cc] = t[j];
        }
    }
}

#define RK_MICRO_CASE(MR, NV, MASK) \
    case (MR) * 4 + ((NV) - 1) * 2 + (MASK): \
        micro(MR, NV, MASK, nr, kc, a, ra, ca, b, rb, c, rc, cc, loadC); break;
#define RK_MICRO_ROW(MR) RK_MICRO_CASE(MR, 1, 0) RK_MICRO_CASE(MR, 1, 1) \
                         RK_MICRO_CASE(MR, 2, 0) RK_MICRO_CASE(MR, 2, 1)

static RK_AVX2 void micro_any(int mr, int nr, long kc, const float *a, long ra, long ca,
                              const float *b, long rb, float *c, long rc, long cc, int loadC) {
    int nv = nr > 8 ? 2 : 1, masked = nr != 8 * nv;
    switch (mr * 4 + (nv - 1) * 2 + masked) {
        RK_MICRO_ROW(1) RK_MICRO_ROW(2) RK_MICRO_ROW(3) RK_MICRO_ROW(4) RK_MICRO_ROW(5) RK_MICRO_ROW(6)
        default: break;
    }
}

static RK_AVX2 void tile_avx2(const problem_t *p, long i0, long i1, long j0, long j1,
                              const float *b0, long rb) {
    int rowsOuter = i1 - i0 > j1 - j0;   // keep the smaller operand's panel hot
    for (long q0 = 0; q0 < p->k; q0 += KC) {
        long kc = p->k - q0 < KC ? p->k - q0 : KC;
        int loadC = q0 > 0 || p->accumulate;
        // Row tiles of balanced height (8 rows: 4 + 4, not 6 + 2): a short tile has too few
        // accumulators to hide the FMA latency. Tiling never changes an element's chain.
        long ni = (i1 - i0 + 5) / 6, nj = (j1 - j0 + 15) / 16;
        for (long outer = 0; outer < (rowsOuter ? ni : nj); outer++)
            for (long inner = 0; inner < (rowsOuter ? nj : ni); inner++) {
                long ti = rowsOuter ? outer : inner;
                long i = i0 + (i1 - i0) * ti / ni, iEnd = i0 + (i1 - i0) * (ti + 1) / ni;
                long j = j0 + 16 * (rowsOuter ? inner : outer);
                int mr = (int)(iEnd - i), nr = (int)(j1 - j < 16 ? j1 - j : 16);
                micro_any(mr, nr, kc, p->a + i * p->ra + q0 * p->ca, p->ra, p->ca,
                          b0 + q0 * rb + (j - j0), rb, p->c + i * p->rc + j * p->cc, p->rc, p->cc, loadC);
            }
    }
}

/// Rows of packed A per block: at most ~192 KiB of panels (kc = 128: 384 rows), so
/// that a block stays in L2 while every B panel of the kc block passes over it.
static long row_block(long rows, long kc) {
    long cap = (192L * 1024 / 4) / (kc > 0 ? kc : 1) / 6 * 6;
    if (cap < 6) cap = 6;
    long blocks = (rows + cap - 1) / cap;
    return ((rows + blocks - 1) / blocks + 5) / 6 * 6;
}

/// Packed panels per kc block: B as [16-column panel][kc][16] (all of j0..<j1), then A
/// in row blocks of `row_block` rows as [6-row panel][kc][6] (zero-padded); within a
/// row block B panels outer (one in L1), A panels inner (the block in L2).
static RK_AVX2 void packed_avx2(const problem_t *p, long i0, long i1, long j0, long j1, float *ap, float *bp) {
    long nj = (j1 - j0 + 15) / 16;
    for (long q0 = 0; q0 < p->k; q0 += KC) {
        long kc = p->k - q0 < KC ? p->k - q0 : KC;
        int loadC = q0 > 0 || p->accumulate;
        long full = p->cb == 1 ? (j1 - j0) / 16 : 0;   // unit-stride rows: one sequential sweep
        for (long q = 0; q < kc && full > 0; q++) {
            const float *src = p->b + (q0 + q) * p->rb + j0;
            for (long t = 0; t < full; t++) {
                _mm256_store_ps(bp + t * kc * 16 + q * 16, _mm256_loadu_ps(src + 16 * t));
                _mm256_store_ps(bp + t * kc * 16 + q * 16 + 8, _mm256_loadu_ps(src + 16 * t + 8));
            }
        }
        for (long t = full; t < nj; t++) {
            float *dst = bp + t * kc * 16;
            long jb = j0 + 16 * t, w = j1 - jb < 16 ? j1 - jb : 16;
            for (long q = 0; q < kc; q++) {
                const float *src = p->b + (q0 + q) * p->rb + jb * p->cb;
                for (long jj = 0; jj < w; jj++) dst[q * 16 + jj] = src[jj * p->cb];
                for (long jj = w; jj < 16; jj++) dst[q * 16 + jj] = 0.0f;
            }
        }
        long mc = row_block(i1 - i0, KC < p->k ? KC : p->k);
        for (long ib0 = i0; ib0 < i1; ib0 += mc) {
            long ib1 = i1 - ib0 < mc ? i1 : ib0 + mc, ni = (ib1 - ib0 + 5) / 6;
            long fullA = p->ra == 1 ? (ib1 - ib0) / 6 : 0;   // op(A) columns contiguous: sweep rows q
            for (long q = 0; q < kc && fullA > 0; q++) {
                const float *src = p->a + ib0 + (q0 + q) * p->ca;
                for (long t = 0; t < fullA; t++)
                    for (long ii = 0; ii < 6; ii++) ap[t * kc * 6 + q * 6 + ii] = src[6 * t + ii];
            }
            for (long t = fullA; t < ni; t++) {
                float *dst = ap + t * kc * 6;
                long ib = ib0 + 6 * t, h = ib1 - ib < 6 ? ib1 - ib : 6;
                for (long q = 0; q < kc; q++) {
                    const float *src = p->a + ib * p->ra + (q0 + q) * p->ca;
                    for (long ii = 0; ii < h; ii++) dst[q * 6 + ii] = src[ii * p->ra];
                    for (long ii = h; ii < 6; ii++) dst[q * 6 + ii] = 0.0f;
                }
            }
            for (long tj = 0; tj < nj; tj++)
                for (long ti = 0; ti < ni; ti++) {
                    long i = ib0 + 6 * ti, j = j0 + 16 * tj;
                    int mr = (int)(ib1 - i < 6 ? ib1 - i : 6), nr = (int)(j1 - j < 16 ? j1 - j : 16);
                    micro_any(mr, nr, kc, ap + ti * kc * 6, 1, 6, bp + tj * kc * 16, 16,
                              p->c + i * p->rc + j * p->cc, p->rc, p->cc, loadC);
                }
        }
    }
}

static RK_AVX2 void dot_avx2(const problem_t *p, long i0, long i1, long j0, long j1) {
    for (long i = i0; i < i1; i++)
        for (long j = j0; j < j1; j++) {
            const float *ar = p->a + i * p->ra, *bc = p->b + j * p->cb;
            __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
            long q = 0;
            for (; q + 32 <= p->k; q += 32) {
                s0 = _mm256_fmadd_ps(_mm256_loadu_ps(ar + q), _mm256_loadu_ps(bc + q), s0);
                s1 = _mm256_fmadd_ps(_mm256_loadu_ps(ar + q + 8), _mm256_loadu_ps(bc + q + 8), s1);
                s2 = _mm256_fmadd_ps(_mm256_loadu_ps(ar + q + 16), _mm256_loadu_ps(bc + q + 16), s2);
                s3 = _mm256_fmadd_ps(_mm256_loadu_ps(ar + q + 24), _mm256_loadu_ps(bc + q + 24), s3);
            }
            for (; q + 8 <= p->k; q += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(ar + q), _mm256_loadu_ps(bc + q), s0);
            float t[8];
            _mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
            float s = ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
            for (; q < p->k; q++) s = fmaf(ar[q], bc[q], s);
            float *cij = p->c + i * p->rc + j * p->cc;
            *cij = p->accumulate ? *cij + s : s;
        }
}
#endif

static int use_avx2 = -1;

int rk_uses_avx2(void) {
    if (use_avx2 < 0) {
#ifdef RK_X86
        __builtin_cpu_init();
        use_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
        if (getenv("RECURRENT_NO_AVX2")) use_avx2 = 0;
#else
        use_avx2 = 0;
#endif
    }
    return use_avx2;
}

// MARK: - One thread's share

static _Thread_local float *scratch = NULL;
static _Thread_local long scratchCapacity = 0;

static float *scratch_floats(long count) {
    if (count > scratchCapacity) {
        free(scratch);
        // 64-byte aligned: a packed 16-float row of B is exactly one cache line
        scratch = (float *)aligned_alloc(64, (sizeof(float) * (size_t)count + 63) / 64 * 64);
        scratchCapacity = scratch ? count : 0;
    }
    return scratch;
}

static void run_part(const problem_t *p, int part, int parts) {
    long i0 = 0, i1 = p->m, j0 = 0, j1 = p->n;
    if (parts > 1) {
        if (p->splitColumns) {   // column boundaries on multiples of 8
            j0 = (p->n * part / parts + 4) / 8 * 8; j1 = (p->n * (part + 1) / parts + 4) / 8 * 8;
            if (part == parts - 1) j1 = p->n;
            if (j1 > p->n) j1 = p->n;
            if (j0 > j1) j0 = j1;
        } else {
            i0 = p->m * part / parts; i1 = p->m * (part + 1) / parts;
        }
    }
    if (i0 >= i1 || j0 >= j1) return;
    int fast = rk_uses_avx2();
    if (p->variant == V_DOT) {
#ifdef RK_X86
        if (fast) { dot_avx2(p, i0, i1, j0, j1); return; }
#endif
        dot_generic(p, i0, i1, j0, j1); return;
    }
    const float *b0 = p->b + j0 * p->cb;
    long rb = p->rb;
    if (p->variant == V_PACK) {
#ifdef RK_X86
        if (fast) {
            long kc = p->k < KC ? p->k : KC;
            long na = (row_block(i1 - i0, kc) * kc + 15) / 16 * 16, nb = (j1 - j0 + 15) / 16 * 16 * kc;
            float *s = scratch_floats(na + nb);
            if (!s) abort();
            packed_avx2(p, i0, i1, j0, j1, s, s + na);
            return;
        }
#endif
        // portable: op(B)(p, j0..<j1) -> scratch [k, j1 - j0], then the plain loops
        long w = j1 - j0;
        float *s = scratch_floats(p->k * w);
        if (!s) abort();
        for (long j = 0; j < w; j++)
            for (long q = 0; q < p->k; q++) s[q * w + j] = b0[j * p->cb + q * p->rb];
        b0 = s; rb = w;
    }
#ifdef RK_X86
    if (fast) { tile_avx2(p, i0, i1, j0, j1, b0, rb); return; }
#endif
    tile_generic(p, i0, i1, j0, j1, b0, rb);
}

// MARK: - Thread pool (spin, then sleep)
//
// A job is `parts` fixed pieces of work. The caller and the workers claim pieces from
// one atomic ticket (generation << 20 | next piece), so a worker that the OS has not
// scheduled never holds anyone up: the caller simply runs the unclaimed pieces itself.
// Which thread runs a piece never changes its result.

typedef void (*task_fn)(void *ctx, int part, int parts);

static pthread_mutex_t poolLock = PTHREAD_MUTEX_INITIALIZER;    // sleeping workers
static pthread_cond_t poolWake = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t poolOwner = PTHREAD_MUTEX_INITIALIZER;   // one caller at a time
static atomic_long ticket = 0;
static atomic_int completed = 0, sleeping = 0;
static _Atomic(task_fn) jobFn; static _Atomic(void *) jobCtx; static atomic_int jobParts;
static int workerCount = 0;
enum { TICKET_SHIFT = 20 };

static inline void cpu_relax(void) {
#ifdef RK_X86
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Claims and runs pieces of generation `gen` until none is left.
static void run_pieces(long gen) {
    task_fn fn = atomic_load_explicit(&jobFn, memory_order_relaxed);
    void *ctx = atomic_load_explicit(&jobCtx, memory_order_relaxed);
    int parts = atomic_load_explicit(&jobParts, memory_order_relaxed);
    long v = atomic_load_explicit(&ticket, memory_order_acquire);
    for (;;) {
        if ((v >> TICKET_SHIFT) != gen || (v & ((1L << TICKET_SHIFT) - 1)) >= parts) return;
        if (atomic_compare_exchange_weak_explicit(&ticket, &v, v + 1, memory_order_acq_rel, memory_order_acquire)) {
            fn(ctx, (int)(v & ((1L << TICKET_SHIFT) - 1)), parts);
            atomic_fetch_add_explicit(&completed, 1, memory_order_release);
            v = atomic_load_explicit(&ticket, memory_order_acquire);
        }
    }
}

static void *worker_main(void *raw) {
    long seen = (long)(intptr_t)raw;
    for (;;) {
        long g; int spins = 0;
        while ((g = atomic_load_explicit(&ticket, memory_order_acquire) >> TICKET_SHIFT) == seen) {
            if (++spins < 20000) { cpu_relax(); continue; }
            pthread_mutex_lock(&poolLock);
            atomic_fetch_add(&sleeping, 1);
            while ((atomic_load(&ticket) >> TICKET_SHIFT) == seen) pthread_cond_wait(&poolWake, &poolLock);
            atomic_fetch_sub(&sleeping, 1);
            pthread_mutex_unlock(&poolLock);
            spins = 0;
        }
        seen = g;
        run_pieces(g);
    }
    return NULL;
}

/// Runs fn(ctx, part, parts) for every part, on the caller and up to parts - 1
/// workers. Runs everything on the caller when another thread holds the pool.
static void parallel_run(task_fn fn, void *ctx, int parts) {
    if (parts <= 1 || pthread_mutex_trylock(&poolOwner) != 0) {
        for (int i = 0; i < parts; i++) fn(ctx, i, parts);
        return;
    }
    while (workerCount < parts - 1) {
        pthread_t t;
        long gen = atomic_load(&ticket) >> TICKET_SHIFT;
        if (pthread_create(&t, NULL, worker_main, (void *)(intptr_t)gen) != 0) break;
        pthread_detach(t);
        workerCount++;
    }
    atomic_store_explicit(&completed, 0, memory_order_relaxed);
    atomic_store_explicit(&jobFn, fn, memory_order_relaxed);
    atomic_store_explicit(&jobCtx, ctx, memory_order_relaxed);
    atomic_store_explicit(&jobParts, parts, memory_order_relaxed);
    long gen = (atomic_load(&ticket) >> TICKET_SHIFT) + 1;
    atomic_store(&ticket, gen << TICKET_SHIFT);          // publish (seq_cst)
    if (atomic_load(&sleeping) > 0) {
        pthread_mutex_lock(&poolLock);
        pthread_cond_broadcast(&poolWake);
        pthread_mutex_unlock(&poolLock);
    }
    run_pieces(gen);
    for (long spins = 0; atomic_load_explicit(&completed, memory_order_acquire) < parts; spins++) {
        if (spins > 2000) sched_yield(); else cpu_relax();
    }
    pthread_mutex_unlock(&poolOwner);
}

void rk_parallel_for(int parts, void (*fn)(void *ctx, int part, int parts), void *ctx) {
    if (parts < 1) return;
    parallel_run(fn, ctx, parts);
}

// MARK: - GEMM entry

static void gemm_task(void *ctx, int part, int parts) { run_part((const problem_t *)ctx, part, parts); }

void rk_sgemm(int transA, int transB, long m, long n, long k,
              const float *a, long lda, const float *b, long ldb,
              float *c, long ldc, int accumulate, int threads) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate) for (long i = 0; i < m; i++) memset(c + i * ldc, 0, sizeof(float) * (size_t)n);
        return;
    }
    problem_t p = plan(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    // Threads pay from ~100k multiply-adds on (one fork-join costs about a microsecond).
    int parts = threads;
    if ((double)m * (double)n * (double)k < 100000.0) parts = 1;
    long span = p.splitColumns ? p.n / 8 : p.m;
    if (parts > span) parts = span < 1 ? 1 : (int)span;
    if (parts <= 1) run_part(&p, 0, 1);
    else parallel_run(gemm_task, &p, parts);
}

// MARK: - Column sums

#ifdef RK_X86
// The same additions in the same order as the portable loop (per column, rows in order).
static RK_AVX2 void column_sums_avx2(const float *restrict a, long rows, long cols, float *restrict out) {
    for (long r = 0; r < rows; r++) {
        const float *restrict row = a + r * cols;
        long j = 0;
        for (; j + 8 <= cols; j += 8)
            _mm256_storeu_ps(out + j, _mm256_add_ps(_mm256_loadu_ps(out + j), _mm256_loadu_ps(row + j)));
        for (; j < cols; j++) out[j] += row[j];
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

static void lstm_forward_scalar(long h, long j0, float *gate, const float *cp, float *c, float *hn) {
    for (long j = j0; j < h; j++) {
        float i = sigmoid1(gate[j]), f = sigmoid1(gate[h + j]), g = tanhf(gate[2 * h + j]), o = sigmoid1(gate[3 * h + j]);
        gate[j] = i; gate[h + j] = f; gate[2 * h + j] = g; gate[3 * h + j] = o;
        float cn = f * cp[j] + i * g;
        c[j] = cn; hn[j] = o * tanhf(cn);
    }
}

static void lstm_backward_scalar(long h, long j0, const float *gate, const float *cp, const float *c,
                                 const float *dh, float *dc, float *dpre) {
    for (long j = j0; j < h; j++) {
        float i = gate[j], f = gate[h + j], g = gate[2 * h + j], o = gate[3 * h + j];
        float tc = tanhf(c[j]);
        float dct = dc[j] + dh[j] * o * (1 - tc * tc);
        float dO = dh[j] * tc, dI = dct * g, dF = dct * cp[j], dG = dct * i;
        dc[j] = dct * f;
        dpre[j] = dI * i * (1 - i); dpre[h + j] = dF * f * (1 - f);
        dpre[2 * h + j] = dG * (1 - g * g); dpre[3 * h + j] = dO * o * (1 - o);
    }
}

#ifdef RK_X86
/// e^x, Cephes' single-precision polynomial (about 1 ulp on [-87, 88]). The clamp keeps NaN:
/// max_ps/min_ps return their second operand when either is NaN, so x goes second.
RK_INLINE_AVX2 __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_set1_ps(88.3f), _mm256_max_ps(_mm256_set1_ps(-87.3f), x));
    __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500E-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507E-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073E-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894E-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459E-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201E-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

RK_INLINE_AVX2 __m256 sigmoid8(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

/// tanh: Cephes' odd polynomial for |x| < 0.625, else sign(x) (1 - e^-2|x|) / (1 + e^-2|x|).
RK_INLINE_AVX2 __m256 tanh8(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f), signBit = _mm256_set1_ps(-0.0f);
    __m256 ax = _mm256_andnot_ps(signBit, x);
    __m256 e = exp8(_mm256_mul_ps(ax, _mm256_set1_ps(-2.0f)));
    __m256 big = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
    big = _mm256_or_ps(big, _mm256_and_ps(signBit, x));
    __m256 z = _mm256_mul_ps(x, x);
    __m256 y = _mm256_set1_ps(-5.70498872745E-3f);
    y = _mm256_fmadd_ps(y, z, _mm256_set1_ps(2.06390887954E-2f));
    y = _mm256_fmadd_ps(y, z, _mm256_set1_ps(-5.37397155531E-2f));
    y = _mm256_fmadd_ps(y, z, _mm256_set1_ps(1.33314422036E-1f));
    y = _mm256_fmadd_ps(y, z, _mm256_set1_ps(-3.33332819422E-1f));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(y, z), x, x);
    return _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}

static RK_AVX2 void lstm_forward_avx2(long rows, long h, float *gates, const float *cp, float *c, float *hn) {
    for (long r = 0; r < rows; r++) {
        float *g = gates + r * 4 * h;
        const float *cpr = cp + r * h; float *cr = c + r * h, *hr = hn + r * h;
        long j = 0;
        for (; j + 8 <= h; j += 8) {
            __m256 i = sigmoid8(_mm256_loadu_ps(g + j)), f = sigmoid8(_mm256_loadu_ps(g + h + j));
            __m256 gg = tanh8(_mm256_loadu_ps(g + 2 * h + j)), o = sigmoid8(_mm256_loadu_ps(g + 3 * h + j));
            _mm256_storeu_ps(g + j, i); _mm256_storeu_ps(g + h + j, f);
            _mm256_storeu_ps(g + 2 * h + j, gg); _mm256_storeu_ps(g + 3 * h + j, o);
            __m256 cn = _mm256_fmadd_ps(f, _mm256_loadu_ps(cpr + j), _mm256_mul_ps(i, gg));
            _mm256_storeu_ps(cr + j, cn);
            _mm256_storeu_ps(hr + j, _mm256_mul_ps(o, tanh8(cn)));
        }
        lstm_forward_scalar(h, j, g, cpr, cr, hr);
    }
}

static RK_AVX2 void lstm_backward_avx2(long rows, long h, const float *gates, const float *cp, const float *c,
                                       const float *dh, float *dc, float *dpre) {
    const __m256 one = _mm256_set1_ps(1.0f);
    for (long r = 0; r < rows; r++) {
        const float *g = gates + r * 4 * h, *cpr = cp + r * h, *cr = c + r * h, *dhr = dh + r * h;
        float *dcr = dc + r * h, *dp = dpre + r * 4 * h;
        long j = 0;
        for (; j + 8 <= h; j += 8) {
            __m256 i = _mm256_loadu_ps(g + j), f = _mm256_loadu_ps(g + h + j);
            __m256 gg = _mm256_loadu_ps(g + 2 * h + j), o = _mm256_loadu_ps(g + 3 * h + j);
            __m256 tc = tanh8(_mm256_loadu_ps(cr + j)), d = _mm256_loadu_ps(dhr + j);
            __m256 dct = _mm256_add_ps(_mm256_loadu_ps(dcr + j),
                                       _mm256_mul_ps(_mm256_mul_ps(d, o), _mm256_sub_ps(one, _mm256_mul_ps(tc, tc))));
            __m256 dO = _mm256_mul_ps(d, tc), dI = _mm256_mul_ps(dct, gg);
            __m256 dF = _mm256_mul_ps(dct, _mm256_loadu_ps(cpr + j)), dG = _mm256_mul_ps(dct, i);
            _mm256_storeu_ps(dcr + j, _mm256_mul_ps(dct, f));
            _mm256_storeu_ps(dp + j, _mm256_mul_ps(_mm256_mul_ps(dI, i), _mm256_sub_ps(one, i)));
            _mm256_storeu_ps(dp + h + j, _mm256_mul_ps(_mm256_mul_ps(dF, f), _mm256_sub_ps(one, f)));
            _mm256_storeu_ps(dp + 2 * h + j, _mm256_mul_ps(dG, _mm256_sub_ps(one, _mm256_mul_ps(gg, gg))));
            _mm256_storeu_ps(dp + 3 * h + j, _mm256_mul_ps(_mm256_mul_ps(dO, o), _mm256_sub_ps(one, o)));
        }
        lstm_backward_scalar(h, j, g, cpr, cr, dhr, dcr, dp);
    }
}
#endif

void rk_lstm_forward(long rows, long h, float *gates, const float *c_prev, float *c_new, float *h_new) {
#ifdef RK_X86
    if (rk_uses_avx2()) { lstm_forward_avx2(rows, h, gates, c_prev, c_new, h_new); return; }
#endif
    for (long r = 0; r < rows; r++)
        lstm_forward_scalar(h, 0, gates + r * 4 * h, c_prev + r * h, c_new + r * h, h_new + r * h);
}

void rk_lstm_backward(long rows, long h, const float *gates, const float *c_prev, const float *c_new,
                      const float *dh, float *dc, float *dpre) {
#ifdef RK_X86
    if (rk_uses_avx2()) { lstm_backward_avx2(rows, h, gates, c_prev, c_new, dh, dc, dpre); return; }
#endif
    for (long r = 0; r < rows; r++)
        lstm_backward_scalar(h, 0, gates + r * 4 * h, c_prev + r * h, c_new + r * h, dh + r * h, dc + r * h, dpre + r * 4 * h);
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
static RK_AVX2 void gru_forward_avx2(long rows, long h, const float *x, const float *hh, const float *hp,
                                     float *gates, float *hn) {
    const __m256 one = _mm256_set1_ps(1.0f);
    for (long row = 0; row < rows; row++) {
        const float *xr = x + row * 3 * h, *hr = hh + row * 3 * h, *pr = hp + row * h;
        float *g = gates + row * 3 * h, *out = hn + row * h;
        long j = 0;
        for (; j + 8 <= h; j += 8) {
            __m256 r = sigmoid8(_mm256_add_ps(_mm256_loadu_ps(xr + j), _mm256_loadu_ps(hr + j)));
            __m256 z = sigmoid8(_mm256_add_ps(_mm256_loadu_ps(xr + h + j), _mm256_loadu_ps(hr + h + j)));
            __m256 n = tanh8(_mm256_add_ps(_mm256_loadu_ps(xr + 2 * h + j),
                                           _mm256_mul_ps(r, _mm256_loadu_ps(hr + 2 * h + j))));
            _mm256_storeu_ps(g + j, r); _mm256_storeu_ps(g + h + j, z); _mm256_storeu_ps(g + 2 * h + j, n);
            _mm256_storeu_ps(out + j, _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(one, z), n),
                                                    _mm256_mul_ps(z, _mm256_loadu_ps(pr + j))));
        }
        gru_forward_scalar(h, j, xr, hr, pr, g, out);
    }
}

static RK_AVX2 void gru_backward_avx2(long rows, long h, const float *hh, const float *gates, const float *hp,
                                      const float *dh, float *din, float *dhh, float *direct) {
    const __m256 one = _mm256_set1_ps(1.0f);
    for (long row = 0; row < rows; row++) {
        const float *hr = hh + row * 3 * h, *g = gates + row * 3 * h, *pr = hp + row * h, *d = dh + row * h;
        float *di = din + row * 3 * h, *dr = dhh + row * 3 * h, *dir = direct + row * h;
        long j = 0;
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
    if (rk_uses_avx2()) { gru_forward_avx2(rows, h, x, hh, h_prev, gates, h_new); return; }
#endif
    for (long r = 0; r < rows; r++)
        gru_forward_scalar(h, 0, x + r * 3 * h, hh + r * 3 * h, h_prev + r * h, gates + r * 3 * h, h_new + r * h);
}

void rk_gru_backward(long rows, long h, const float *hh, const float *gates, const float *h_prev,
                     const float *dh, float *d_in, float *d_hh, float *direct) {
#ifdef RK_X86
    if (rk_uses_avx2()) { gru_backward_avx2(rows, h, hh, gates, h_prev, dh, d_in, d_hh, direct); return; }
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

// MARK: - Recurrent step (product, bias, input and activation in one pass)
//
// net = x + (b + h_prev W_hhᵀ) [rows, n] and, for the simple RNN, h = f(net), tile by
// tile: a 6x16 register tile starts at b and runs the same fma chain over p as rk_sgemm
// with C = b (a k-block store and reload is exact, so one long loop gives the same bits);
// the epilogue adds x and applies f to whole vectors (masked at the edge), so a value never
// depends on its position. The product itself (preHidden) is never stored.

typedef struct {
    long rows, n, k; const float *hp, *wt, *bias, *x; float *net, *hout; int act;
} step_t;

static void step_epilogue_scalar(const step_t *s, long i, long j, const float *acc, long w) {
    for (long q = 0; q < w; q++) {
        float v = s->x[i * s->n + j + q] + acc[q];
        s->net[i * s->n + j + q] = v;
        if (s->act == 1) s->hout[i * s->n + j + q] = v < 0 ? 0.0f : v;   // = max_ps(0, v): NaN stays NaN
        else if (s->act == 2) s->hout[i * s->n + j + q] = tanhf(v);
    }
}

#ifdef RK_X86
RK_INLINE_AVX2 void micro_step(const int MR, const int NV, const int masked, const int act, int nr, long k,
                               const float *a, long lda, const float *b, long ldb, const float *bias,
                               const float *x, float *net, float *hout, long ld) {
    __m256 x0[6], x1[6];
    __m256i m0 = _mm256_set1_epi32(-1), m1 = m0;
    if (masked) edge_masks(nr, &m0, &m1);
    __m256 bias0 = masked ? _mm256_maskload_ps(bias, m0) : _mm256_loadu_ps(bias), bias1 = _mm256_setzero_ps();
    if (NV == 2) bias1 = masked ? _mm256_maskload_ps(bias + 8, m1) : _mm256_loadu_ps(bias + 8);
    for (int r = 0; r < MR; r++) { x0[r] = bias0; x1[r] = bias1; }
    fma_tile(MR, NV, masked, m0, m1, k, a, lda, 1, b, ldb, x0, x1);
    const __m256 zero = _mm256_setzero_ps();
    for (int r = 0; r < MR; r++) {
        const float *xr = x + r * ld; float *nr_ = net + r * ld, *hr = hout + r * ld;
        for (int v = 0; v < NV; v++) {
            __m256i m = v == 0 ? m0 : m1;
            __m256 xv = masked ? _mm256_maskload_ps(xr + 8 * v, m) : _mm256_loadu_ps(xr + 8 * v);
            __m256 nv = _mm256_add_ps(xv, v == 0 ? x0[r] : x1[r]);
            if (masked) _mm256_maskstore_ps(nr_ + 8 * v, m, nv); else _mm256_storeu_ps(nr_ + 8 * v, nv);
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
        micro_step(MR, NV, MASK, ACT, nr, k, a, lda, b, ldb, bias, x, net, hout, ld); break;
#define RK_STEP_ACTS(MR, NV, MASK) RK_STEP_CASE(MR, NV, MASK, 0) RK_STEP_CASE(MR, NV, MASK, 1) RK_STEP_CASE(MR, NV, MASK, 2)
#define RK_STEP_ROW(MR) RK_STEP_ACTS(MR, 1, 0) RK_STEP_ACTS(MR, 1, 1) RK_STEP_ACTS(MR, 2, 0) RK_STEP_ACTS(MR, 2, 1)

static RK_AVX2 void micro_step_any(int mr, int nr, int act, long k, const float *a, long lda, const float *b,
                                   long ldb, const float *bias, const float *x, float *net, float *hout, long ld) {
    int nv = nr > 8 ? 2 : 1, masked = nr != 8 * nv;
    switch (((mr * 2 + nv - 1) * 2 + masked) * 3 + act) {
        RK_STEP_ROW(1) RK_STEP_ROW(2) RK_STEP_ROW(3) RK_STEP_ROW(4) RK_STEP_ROW(5) RK_STEP_ROW(6)
        default: break;
    }
}

static RK_AVX2 void step_avx2(const step_t *s, long j0, long j1) {
    long n = s->n, k = s->k, ni = (s->rows + 5) / 6;
    for (long j = j0; j < j1; j += 16) {           // a 16-column panel of W_hhᵀ stays in L1
        int nr = (int)(j1 - j < 16 ? j1 - j : 16);
        for (long ti = 0; ti < ni; ti++) {         // balanced row tiles (8 rows: 4 + 4)
            long i = s->rows * ti / ni, iEnd = s->rows * (ti + 1) / ni;
            micro_step_any((int)(iEnd - i), nr, s->act, k, s->hp + i * k, k, s->wt + j, n, s->bias + j,
                           s->x + i * n + j, s->net + i * n + j, s->hout ? s->hout + i * n + j : NULL, n);
        }
    }
}
#endif

static void step_generic(const step_t *s, long j0, long j1) {
    float acc[16];
    for (long i = 0; i < s->rows; i++)
        for (long j = j0; j < j1; j += 16) {
            long w = j1 - j < 16 ? j1 - j : 16;
            for (long q = 0; q < w; q++) {
                float a = s->bias[j + q];
                for (long p = 0; p < s->k; p++) a = fmaf(s->hp[i * s->k + p], s->wt[p * s->n + j + q], a);
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
    if (rk_uses_avx2()) { step_avx2(s, j0, j1); return; }
#endif
    step_generic(s, j0, j1);
}

void rk_recurrent_step(long rows, long n, long k, const float *h_prev, const float *wt, const float *bias,
                       const float *x, float *net, float *h_new, int activation, int threads) {
    if (rows <= 0 || n <= 0) return;
    step_t s = { rows, n, k, h_prev, wt, bias, x, net, activation == 0 ? NULL : h_new, activation };
    int parts = threads;
    if ((double)rows * (double)n * (double)k < 100000.0) parts = 1;
    if (parts > (n + 15) / 16) parts = (int)((n + 15) / 16);
    if (parts <= 1) step_task(&s, 0, 1);
    else parallel_run(step_task, &s, parts);
}

// MARK: - CPU affinity

int rk_pin_first_cpus(int n) {
#if defined(__linux__) && defined(CPU_SET)
    cpu_set_t have, want;
    if (sched_getaffinity(0, sizeof have, &have) != 0) return -1;
    CPU_ZERO(&want);
    int taken = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && taken < n; cpu++)
        if (CPU_ISSET(cpu, &have)) { CPU_SET(cpu, &want); taken++; }
    if (taken < CPU_COUNT(&have) && sched_setaffinity(0, sizeof want, &want) != 0) return -1;
    cpu_set_t now;
    if (sched_getaffinity(0, sizeof now, &now) != 0) return -1;
    return CPU_COUNT(&now);
#else
    (void)n;
    return -1;
#endif
}

int rk_retain_freed_memory(void) {
#if defined(__GLIBC__)
    return mallopt(M_TRIM_THRESHOLD, 1 << 30) && mallopt(M_MMAP_THRESHOLD, 1 << 30) ? 1 : 0;
#else
    return 0;
#endif
}
