// Float GEMM of Recurrent (see include/CRecurrentKernels.h).
//
// GEMM: one register-blocked micro-kernel (6 rows x 16 columns, 12 ymm accumulators,
// FMA). Small products (the per-step ones) read op(A) through arbitrary strides and
// op(B) rows directly; long-k, NT and TT products pack kc-blocks of B (16-column panels) and,
// when op(A)'s rows are not contiguous (TN, TT), of A (6-row panels) first; n <= 2 uses a
// dot-product kernel. The tile loop runs k unrolled by 4 (internal.h, fma_tile).
// Every element of C is one fixed chain: start at 0 (or C), then fma over p = 0..k-1
// in order (stored and reloaded exactly between k blocks). Tile and thread
// boundaries therefore never change a result: splitting C among threads is
// bit-identical to one thread.
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF

enum { KC = 256 };   // k block: a 16 x 256 panel of B (16 KiB) and a 6 x 256 panel of A stay in L1

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

/// One MR x (8*NV) tile over kc steps; `masked` limits the columns to nr.
RK_INLINE_AVX2 void micro(const int MR, const int NV, const int masked, const int CA, int nr, long kc,
                          const float *a, long ra, long ca, const float *b, long rb,
                          float *c, long rc, long cc, int loadC) {
    __m256 x0[6], x1[6];
    __m256i m0 = _mm256_set1_epi32(-1), m1 = m0;
    if (masked) edge_masks(nr, &m0, &m1);
    // The three starts as separate loops (not one loop with branches inside): each unrolls
    // over the constant MR and the accumulators stay in registers.
    if (!loadC) {
        for (int r = 0; r < MR; r++) { x0[r] = _mm256_setzero_ps(); x1[r] = x0[r]; }
    } else if (cc == 1) {
        for (int r = 0; r < MR; r++) {
            const float *cr = c + r * rc;
            x0[r] = masked && NV == 1 ? _mm256_maskload_ps(cr, m0) : _mm256_loadu_ps(cr);
            x1[r] = _mm256_setzero_ps();
            if (NV == 2) x1[r] = masked ? _mm256_maskload_ps(cr + 8, m1) : _mm256_loadu_ps(cr + 8);
        }
    } else {
        for (int r = 0; r < MR; r++) {
            float t[16] = {0};
            for (int j = 0; j < nr; j++) t[j] = c[r * rc + j * cc];
            x0[r] = _mm256_loadu_ps(t); x1[r] = _mm256_loadu_ps(t + 8);
        }
    }
    fma_tile(MR, NV, masked, CA, m0, m1, kc, a, ra, ca, b, rb, x0, x1);
    if (cc == 1) {
        for (int r = 0; r < MR; r++) {
            float *cr = c + r * rc;
            if (masked && NV == 1) _mm256_maskstore_ps(cr, m0, x0[r]); else _mm256_storeu_ps(cr, x0[r]);
            if (NV == 2) { if (masked) _mm256_maskstore_ps(cr + 8, m1, x1[r]); else _mm256_storeu_ps(cr + 8, x1[r]); }
        }
    } else {
        for (int r = 0; r < MR; r++) {
            float t[16];
            _mm256_storeu_ps(t, x0[r]); _mm256_storeu_ps(t + 8, x1[r]);
            for (int j = 0; j < nr; j++) c[r * rc + j * cc] = t[j];
        }
    }
}

#define RK_MICRO_CASE(MR, NV, MASK, CA) \
    case (MR) * 4 + ((NV) - 1) * 2 + (MASK): \
        micro(MR, NV, MASK, CA, nr, kc, a, ra, ca, b, rb, c, rc, cc, loadC); break;
#define RK_MICRO_ROW(MR, CA) RK_MICRO_CASE(MR, 1, 0, CA) RK_MICRO_CASE(MR, 1, 1, CA) \
                             RK_MICRO_CASE(MR, 2, 0, CA) RK_MICRO_CASE(MR, 2, 1, CA)
/// micro for an mr x nr tile (mr <= 6, nr <= 16), with op(A)'s stride along k fixed at CA.
#define RK_MICRO_ANY(NAME, CA) \
static RK_AVX2 void NAME(int mr, int nr, long kc, const float *a, long ra, long ca, \
                         const float *b, long rb, float *c, long rc, long cc, int loadC) { \
    int nv = nr > 8 ? 2 : 1, masked = nr != 8 * nv; \
    switch (mr * 4 + (nv - 1) * 2 + masked) { \
        RK_MICRO_ROW(1, CA) RK_MICRO_ROW(2, CA) RK_MICRO_ROW(3, CA) \
        RK_MICRO_ROW(4, CA) RK_MICRO_ROW(5, CA) RK_MICRO_ROW(6, CA) \
        default: break; \
    } \
}
RK_MICRO_ANY(micro_rows, 1)     // op(A) rows read in place (ca = 1)
RK_MICRO_ANY(micro_panel, 6)    // packed panels: A [kc][6] (ra = 1, ca = 6), B [kc][16] (rb = 16)
RK_MICRO_ANY(micro_strided, 0)  // any other stride (transposed A read in place)

/// micro_rows for the fused kernels of other files (avx2_lstm.c): c [mr, nr] (row stride rc) =
/// (loadC ? c : 0) + a [mr, kc] (rows ra apart) b [kc, nr] (rows rb apart, read in place).
void RK_AVX2 rk_avx2_tile_rows(int mr, int nr, long kc, const float *a, long ra, const float *b, long rb, float *c,
                               long rc, int loadC) {
    micro_rows(mr, nr, kc, a, ra, 1, b, rb, c, rc, 1, loadC);
}

static RK_AVX2 void micro_any(int mr, int nr, long kc, const float *a, long ra, long ca,
                              const float *b, long rb, float *c, long rc, long cc, int loadC) {
    if (ca == 1) micro_rows(mr, nr, kc, a, ra, ca, b, rb, c, rc, cc, loadC);
    else if (ca == 6 && ra == 1 && rb == 16) micro_panel(mr, nr, kc, a, ra, ca, b, rb, c, rc, cc, loadC);
    else micro_strided(mr, nr, kc, a, ra, ca, b, rb, c, rc, cc, loadC);
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
            // Rows of op(A) contiguous (ca = 1): the tiles read them in place (micro_rows);
            // packing would only copy them. Otherwise A is packed into 6-row panels.
            int inPlace = p->ca == 1;
            long fullA = inPlace ? 0 : p->ra == 1 ? (ib1 - ib0) / 6 : 0;   // op(A) columns contiguous: sweep rows q
            for (long q = 0; q < kc && fullA > 0; q++) {   // 6 floats as 4 + 2 (no read past row ib1)
                const float *src = p->a + ib0 + (q0 + q) * p->ca;
                for (long t = 0; t < fullA; t++) {
                    float *dst = ap + t * kc * 6 + q * 6;
                    _mm_storeu_ps(dst, _mm_loadu_ps(src + 6 * t));
                    _mm_storel_pi((__m64 *)(dst + 4), _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(src + 6 * t + 4)));
                }
            }
            for (long t = fullA; t < ni && !inPlace; t++) {
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
                    if (inPlace)
                        micro_rows(mr, nr, kc, p->a + i * p->ra + q0, p->ra, 1, bp + tj * kc * 16, 16,
                                   p->c + i * p->rc + j * p->cc, p->rc, p->cc, loadC);
                    else
                        micro_panel(mr, nr, kc, ap + ti * kc * 6, 1, 6, bp + tj * kc * 16, 16,
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

// MARK: - One thread's share

static _Thread_local float *scratch = NULL;
static _Thread_local long scratchCapacity = 0;

float *rk_scratch_floats(long count) {
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
#ifdef RK_X86
    if (p->variant != V_DOT && rk_uses_avx512()) {   // avx512.c: the same chains in 8x32 tiles
        rk_avx512_gemm(i1 - i0, j1 - j0, p->k, p->a + i0 * p->ra, p->ra, p->ca, p->b + j0 * p->cb, p->rb, p->cb,
                       p->c + i0 * p->rc + j0 * p->cc, p->rc, p->cc, p->accumulate, p->variant == V_PACK);
        return;
    }
#endif
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
            float *s = rk_scratch_floats(na + nb);
            if (!s) abort();
            packed_avx2(p, i0, i1, j0, j1, s, s + na);
            return;
        }
#endif
        // portable: op(B)(p, j0..<j1) -> scratch [k, j1 - j0], then the plain loops
        long w = j1 - j0;
        float *s = rk_scratch_floats(p->k * w);
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
    else rk_parallel_run(gemm_task, &p, parts);
}

// MARK: - Pre-packed op(B): the recurrent weights, packed once per pass

long rk_packed_b_floats(long k, long n) { return k > 0 && n > 0 ? (n + 15) / 16 * 16 * k : 0; }

void rk_pack_b(int transB, long k, long n, const float *b, long ldb, float *packed) {
    long rb = transB ? 1 : ldb, cb = transB ? ldb : 1;
    for (long j0 = 0; j0 < n; j0 += 16) {
        float *dst = packed + j0 * k;                       // panel j0 / 16: [k][16]
        long w = n - j0 < 16 ? n - j0 : 16;
        if (!transB && w == 16) {   // a whole panel of rows read in place: 16 floats at a time
            for (long q = 0; q < k; q++) memcpy(dst + q * 16, b + q * ldb + j0, 16 * sizeof(float));
            continue;
        }
        for (long q = 0; q < k; q++) {
            for (long jj = 0; jj < w; jj++) dst[q * 16 + jj] = b[q * rb + (j0 + jj) * cb];
            for (long jj = w; jj < 16; jj++) dst[q * 16 + jj] = 0.0f;
        }
    }
}

typedef struct {
    long m, n, k; const float *a; long lda; const float *packed; float *c; long ldc; int accumulate;
} packed_problem_t;

static void packed_b_generic(const packed_problem_t *p, long j0, long j1) {
    for (long i = 0; i < p->m; i++)
        for (long j = j0; j < j1; j++) {
            const float *panel = p->packed + (j / 16) * 16 * p->k;
            float s = p->accumulate ? p->c[i * p->ldc + j] : 0.0f;
            for (long q = 0; q < p->k; q++) s = fmaf(p->a[i * p->lda + q], panel[q * 16 + j % 16], s);
            p->c[i * p->ldc + j] = s;
        }
}

#ifdef RK_X86
/// kc blocks outer (a 16 x kc block of a panel is 8 KiB: it stays in L1 while the row tiles
/// pass), panels, then balanced row tiles reading A in place.
static RK_AVX2 void packed_b_avx2(const packed_problem_t *p, long j0, long j1) {
    long ni = (p->m + 5) / 6;
    for (long q0 = 0; q0 < p->k; q0 += KC) {
        long kc = p->k - q0 < KC ? p->k - q0 : KC;
        int loadC = q0 > 0 || p->accumulate;
        for (long j = j0; j < j1; j += 16) {
            int nr = (int)(j1 - j < 16 ? j1 - j : 16);
            const float *panel = p->packed + j * p->k + q0 * 16;
            for (long ti = 0; ti < ni; ti++) {
                long i = p->m * ti / ni, iEnd = p->m * (ti + 1) / ni;
                micro_any((int)(iEnd - i), nr, kc, p->a + i * p->lda + q0, p->lda, 1, panel, 16,
                          p->c + i * p->ldc + j, p->ldc, 1, loadC);
            }
        }
    }
}
#endif

static void packed_b_task(void *ctx, int part, int parts) {
    const packed_problem_t *p = (const packed_problem_t *)ctx;
    long panels = (p->n + 15) / 16;
    long j0 = 16 * (panels * part / parts), j1 = 16 * (panels * (part + 1) / parts);
    if (j1 > p->n) j1 = p->n;
    if (j0 >= j1) return;
#ifdef RK_X86
    if (rk_uses_avx512()) { rk_avx512_gemm_packed_b(p->m, j1 - j0, p->k, p->a, p->lda, p->packed + j0 * p->k, p->c + j0, p->ldc, p->accumulate); return; }
    if (rk_uses_avx2()) { packed_b_avx2(p, j0, j1); return; }
#endif
    packed_b_generic(p, j0, j1);
}

void rk_sgemm_packed_b(long m, long n, long k, const float *a, long lda, const float *packed,
                       float *c, long ldc, int accumulate, int threads) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate) for (long i = 0; i < m; i++) memset(c + i * ldc, 0, sizeof(float) * (size_t)n);
        return;
    }
    packed_problem_t p = { m, n, k, a, lda, packed, c, ldc, accumulate };
    int parts = threads;
    if ((double)m * (double)n * (double)k < 100000.0) parts = 1;
    if (parts > (n + 15) / 16) parts = (int)((n + 15) / 16);
    if (parts <= 1) packed_b_task(&p, 0, 1);
    else rk_parallel_run(packed_b_task, &p, parts);
}

// MARK: - A layer's weight gradients (dW_hh, dW_ih, db_hh, db_ih) in one pass

typedef struct {
    long rows, m, nh, nx, ldd, ldh, ldx, n; const float *dnet, *h, *x; float *c; int splitRows;
} weight_gradients_t;

#ifdef RK_X86
/// One thread's share of C [m, n] += dnetᵀ [h | x | 1 1]: a block of C's rows (dnet's columns) where
/// `splitRows` (rk_weight_gradients_into), so that each thread packs only its columns of dnet, else
/// a block of 16-column panels. Row blocks are multiples of the body's tile: 16 rows with AVX-512,
/// avx2_gradients.c's 6 with AVX2. Every element's chain is the same whichever thread holds it.
static void weight_gradients_task(void *ctx, int part, int parts) {
    const weight_gradients_t *w = (const weight_gradients_t *)ctx;
    // avx512.c's 8 x 32 tiles or avx2_gradients.c's 6 x 16: the same chains.
    void (*body)(long, long, const float *, long, const float *, long, long, const float *, long, long, long, long,
                 float *, long) = rk_uses_avx512() ? rk_avx512_weight_gradients : rk_avx2_weight_gradients;
    if (w->splitRows) {
        long unit = rk_uses_avx512() ? 16 : 6, blocks = (w->m + unit - 1) / unit;
        long i0 = unit * (blocks * part / parts), i1 = unit * (blocks * (part + 1) / parts);
        if (i1 > w->m) i1 = w->m;
        if (i0 < i1) body(i1 - i0, w->rows, w->dnet + i0, w->ldd, w->h, w->nh, w->ldh, w->x, w->nx, w->ldx, 0, w->n,
                          w->c + i0 * w->n, w->n);
        return;
    }
    long panels = (w->n + 15) / 16;
    long j0 = 16 * (panels * part / parts), j1 = 16 * (panels * (part + 1) / parts);
    if (j1 > w->n) j1 = w->n;
    if (j0 < j1) body(w->m, w->rows, w->dnet, w->ldd, w->h, w->nh, w->ldh, w->x, w->nx, w->ldx, j0, j1, w->c, w->n);
}
#endif

int rk_weight_gradients_gathered(void) {
#ifdef RK_X86
    return rk_uses_avx2();
#else
    return 0;
#endif
}

void rk_weight_gradients_gather(long m, long nh, long nx, const float *dw_hh, const float *dw_ih, const float *db_hh,
                                const float *db_ih, float *c) {
    long n = nh + nx + 2;
    for (long i = 0; i < m; i++) {
        float *ci = c + i * n;
        memcpy(ci, dw_hh + i * nh, sizeof(float) * (size_t)nh);
        if (nx > 0) memcpy(ci + nh, dw_ih + i * nx, sizeof(float) * (size_t)nx);
        ci[nh + nx] = db_hh[i]; ci[nh + nx + 1] = db_ih[i];
    }
}

void rk_weight_gradients_scatter(long m, long nh, long nx, const float *c, float *dw_hh, float *dw_ih, float *db_hh,
                                 float *db_ih) {
    long n = nh + nx + 2;
    for (long i = 0; i < m; i++) {
        const float *ci = c + i * n;
        memcpy(dw_hh + i * nh, ci, sizeof(float) * (size_t)nh);
        if (nx > 0) memcpy(dw_ih + i * nx, ci + nh, sizeof(float) * (size_t)nx);
        db_hh[i] = ci[nh + nx]; db_ih[i] = ci[nh + nx + 1];
    }
}

void rk_weight_gradients_into(long rows, long m, const float *dnet, const float *h, long nh, long ldh, const float *x,
                              long nx, long ldx, float *c, int threads) {
    if (rows <= 0 || m <= 0) return;
#ifdef RK_X86
    long n = nh + nx + 2;
    int parts = threads;   // as rk_sgemm: threads from ~100k multiply-adds
    if ((double)m * (double)n * (double)rows < 100000.0) parts = 1;
    // Split C's rows when m > n (LSTM's 4H against H + I + 2: each thread packs only its columns of
    // dnet, the larger operand) and, with AVX2, also when the parts' largest share of 6-row tiles is
    // no larger than of 16-column panels: at H = 100 (C [100, 103]) 9 of 17 tiles against 4 of 7
    // panels, and each thread then packs only its part of dnet instead of all of it.
    long tiles = (m + 5) / 6, panels = (n + 15) / 16, p = parts;
    int splitRows = m > n || (!rk_uses_avx512() && (tiles + p - 1) / p * panels <= (panels + p - 1) / p * tiles);
    weight_gradients_t w = { rows, m, nh, nx, m, ldh, ldx, n, dnet, h, x, c, splitRows };
    long span = !splitRows ? panels : rk_uses_avx512() ? (m + 15) / 16 : tiles;
    if (parts > span) parts = (int)span;
    if (parts <= 1) weight_gradients_task(&w, 0, 1);
    else rk_parallel_run(weight_gradients_task, &w, parts);
#else
    (void)dnet; (void)h; (void)nh; (void)ldh; (void)x; (void)nx; (void)ldx; (void)c; (void)threads;
    abort();   // only where rk_weight_gradients_gathered() says so
#endif
}

void rk_weight_gradients(long rows, long m, const float *dnet, const float *h, long nh, long ldh,
                         const float *x, long nx, long ldx, float *dw_hh, float *dw_ih, float *db_hh, float *db_ih,
                         int threads) {
    if (rows <= 0 || m <= 0) return;
    long n = nh + nx + 2;   // C = [dW_hh | dW_ih | db_hh db_ih] [m, n], gathered, accumulated, scattered back
    float *c = rk_weight_gradients_gathered() && (size_t)m <= SIZE_MAX / sizeof(float) / (size_t)n
        ? (float *)malloc(sizeof(float) * (size_t)m * (size_t)n) : NULL;
    if (c) {
        rk_weight_gradients_gather(m, nh, nx, dw_hh, dw_ih, db_hh, db_ih, c);
        rk_weight_gradients_into(rows, m, dnet, h, nh, ldh, x, nx, ldx, c, threads);
        rk_weight_gradients_scatter(m, nh, nx, c, dw_hh, dw_ih, db_hh, db_ih);
        free(c);
        return;
    }
    // The four products as BPTT formed them before (a failed allocation lands here too: the same bits).
    if (nx > 0) rk_sgemm(1, 0, m, nx, rows, dnet, m, x, ldx, dw_ih, nx, 1, threads);
    rk_column_sums(dnet, rows, m, db_ih, 1);
    rk_sgemm(1, 0, m, nh, rows, dnet, m, h, ldh, dw_hh, nh, 1, threads);
    rk_column_sums(dnet, rows, m, db_hh, 1);
}

// MARK: - A layer's input projection: bias and product in one pass

float *rk_input_projection_weight(long n, long k, const float *w) {
#ifdef RK_X86
    if (rk_uses_avx2() && k >= 1 && k <= 8 && n > 2) {   // n <= 2: rk_sgemm's dot product, another sum
        float *wt = (float *)malloc(sizeof(float) * (size_t)(k * n));   // W_ihᵀ [k, n]: at most 8 n floats
        if (wt) for (long j = 0; j < n; j++) for (long q = 0; q < k; q++) wt[q * n + j] = w[j * k + q];
        return wt;
    }
#else
    (void)n; (void)k; (void)w;
#endif
    return NULL;
}

void rk_input_projection_rows(long rows, long n, long k, const float *x, long ldx, const float *w, const float *wt,
                              const float *bias, float *out, int threads) {
    if (rows <= 0 || n <= 0) return;
#ifdef RK_X86
    if (wt) { (rk_uses_avx512() ? rk_avx512_input_projection : rk_avx2_input_projection)(rows, n, k, x, ldx, wt, bias, out); return; }
#endif
    // The portable product (also where W_ihᵀ could not be allocated: the same bits).
    for (long r = 0; r < rows; r++) memcpy(out + r * n, bias, sizeof(float) * (size_t)n);
    rk_sgemm(0, 1, rows, n, k, x, ldx, w, k, out, n, 1, threads);
}

void rk_input_projection(long rows, long n, long k, const float *x, long ldx, const float *w, const float *bias,
                         float *out, int threads) {
    if (rows <= 0 || n <= 0) return;
    float *wt = rk_input_projection_weight(n, k, w);
    rk_input_projection_rows(rows, n, k, x, ldx, w, wt, bias, out, threads);
    free(wt);
}
