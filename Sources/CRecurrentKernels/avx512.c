// AVX-512 bodies of the GEMM tiles and the fused recurrent step (rk_uses_avx512(): system.c).
//
// A tile is up to 8 rows x 32 columns: two zmm accumulators per row (16 of the 32 registers),
// two 16-float loads of op(B) and one broadcast of op(A) per row and k step, so 16 FMAs per
// 10 loads (the AVX2 6x16 tile: 12 FMAs of half the width per 8 loads). op(B) is read as the
// AVX2 path reads it: rows in place (unit column stride) or 16-column panels [k][16] (rk_pack_b's
// layout, or packed here per k block); a 32-wide tile reads two adjacent panels. Column edges use
// k-masks (H = 100: 32 + 32 + 32 + a masked 4).
//
// Same bits as gemm.c and step.c: every element of C is the same chain, started at 0 (or C, or
// the bias), then one fma(op(A)(i, q), op(B)(q, j), acc) per q in order (stored and reloaded
// exactly between k blocks); the step's epilogue adds x and applies relu as max(0, net) or
// tanh16, tanh8's operations lane for lane. Tile shapes and thread splits never change a value.
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF

#ifdef RK_X86

enum {
    KC5 = 256,   // k block: two 16 x 256 panels of B (32 KiB) and an 8 x 256 panel of A in L1 (48 KiB)
    MR5 = 8,     // rows per tile (16 accumulators: twice the 2 ports x 4 cycles of FMA latency)
};

// MARK: - The tile's fma chain

/// One k step: x0[r] += op(A)(r, q) op(B)(q, 0 ..< 16) and, NV = 2, x1[r] += op(A)(r, q)
/// op(B)(q, 16 ..< 32); op(A)(r, q) is ar[r][off], op(B)(q, ·) starts at bq, its columns 16-31
/// at bq + hi (the next panel, or bq + 16 for rows read in place).
RK_INLINE_AVX512 void fma_k16(const int MR, const int NV, const int masked, __mmask16 m0, __mmask16 m1,
                              const float *const *ar, long off, const float *bq, long hi, __m512 *x0, __m512 *x1) {
    __m512 b0 = masked && NV == 1 ? _mm512_maskz_loadu_ps(m0, bq) : _mm512_loadu_ps(bq);
    __m512 b1 = _mm512_setzero_ps();
    if (NV == 2) b1 = masked ? _mm512_maskz_loadu_ps(m1, bq + hi) : _mm512_loadu_ps(bq + hi);
    for (int r = 0; r < MR; r++) {
        __m512 av = _mm512_set1_ps(ar[r][off]);
        x0[r] = _mm512_fmadd_ps(av, b0, x0[r]);
        if (NV == 2) x1[r] = _mm512_fmadd_ps(av, b1, x1[r]);
    }
}

/// fma_tile (internal.h) at 512 bits: acc[r] += op(A)(r, q) op(B)(q, ·) for q < kc in order,
/// k unrolled by 4. CA is op(A)'s k stride when known (1: rows in place; 8: packed A panels
/// [kc][8], ra = 1), else 0; PB = 1 when B is panels (rb = 16).
RK_INLINE_AVX512 void fma_tile16(const int MR, const int NV, const int masked, const int CA, const int PB,
                                 __mmask16 m0, __mmask16 m1, long kc, const float *a, long ra, long ca,
                                 const float *b, long rb, long hi, __m512 *x0, __m512 *x1) {
    if (CA == 8) ra = 1;
    if (PB) rb = 16;
    const float *ar[MR5];
    for (int r = 0; r < MR; r++) {
        ar[r] = a + r * ra;
        if (CA != 8) __asm__("" : "+r"(ar[r]));   // opaque: keep one pointer per row (no a + r*ra in the loop)
    }
    const long cs = CA ? CA : ca;
    const float *bq = b;
    long off = 0, q4 = kc >> 2;
    for (; q4 > 0; q4--, bq += 4 * rb, off += 4 * cs) {
        fma_k16(MR, NV, masked, m0, m1, ar, off, bq, hi, x0, x1);
        fma_k16(MR, NV, masked, m0, m1, ar, off + cs, bq + rb, hi, x0, x1);
        fma_k16(MR, NV, masked, m0, m1, ar, off + 2 * cs, bq + 2 * rb, hi, x0, x1);
        fma_k16(MR, NV, masked, m0, m1, ar, off + 3 * cs, bq + 3 * rb, hi, x0, x1);
    }
    for (long q = kc & ~3L; q < kc; q++, bq += rb, off += cs) fma_k16(MR, NV, masked, m0, m1, ar, off, bq, hi, x0, x1);
}

/// The masks of an nr-column tile (nr <= 32): m0 for columns 0-15, m1 for 16-31.
RK_INLINE_AVX512 void tile_masks(const int NV, const int masked, int nr, __mmask16 *m0, __mmask16 *m1) {
    *m0 = 0xFFFF; *m1 = 0xFFFF;
    if (masked) { if (NV == 1) *m0 = lanes16(nr); else *m1 = lanes16(nr - 16); }
}

// MARK: - GEMM tile

/// One MR x (16*NV) tile of C (unit column stride) over kc steps (nr valid columns), started
/// at 0 or at C: one masked load either way (a zero mask loads zeros and reads nothing), so the
/// accumulators stay in registers (branches around the start made clang keep them on the stack).
RK_INLINE_AVX512 void micro16(const int MR, const int NV, const int masked, const int CA, const int PB, int nr, long kc,
                              const float *a, long ra, long ca, const float *b, long rb, long hi,
                              float *c, long rc, int loadC) {
    __m512 x0[MR5], x1[MR5];
    __mmask16 m0, m1;
    tile_masks(NV, masked, nr, &m0, &m1);
    __mmask16 l0 = loadC ? m0 : 0, l1 = loadC ? m1 : 0;
    for (int r = 0; r < MR; r++) {
        x0[r] = _mm512_maskz_loadu_ps(l0, c + r * rc);
        x1[r] = _mm512_setzero_ps();
        if (NV == 2) x1[r] = _mm512_maskz_loadu_ps(l1, c + r * rc + 16);
    }
    fma_tile16(MR, NV, masked, CA, PB, m0, m1, kc, a, ra, ca, b, rb, hi, x0, x1);
    for (int r = 0; r < MR; r++) {
        _mm512_mask_storeu_ps(c + r * rc, m0, x0[r]);
        if (NV == 2) _mm512_mask_storeu_ps(c + r * rc + 16, m1, x1[r]);
    }
}

#define RK5_CASE(MR, NV, MASK, CA, PB) \
    case (MR) * 4 + ((NV) - 1) * 2 + (MASK): \
        micro16(MR, NV, MASK, CA, PB, nr, kc, a, ra, ca, b, rb, hi, c, rc, loadC); break;
#define RK5_ROW(MR, CA, PB) RK5_CASE(MR, 1, 0, CA, PB) RK5_CASE(MR, 1, 1, CA, PB) \
                            RK5_CASE(MR, 2, 0, CA, PB) RK5_CASE(MR, 2, 1, CA, PB)
/// micro16 for an mr x nr tile (mr <= 8, nr <= 32), op(A)'s k stride CA, B panels or not (PB).
#define RK5_ANY(NAME, CA, PB) \
static RK_AVX512 void NAME##_c1(int mr, int nr, long kc, const float *a, long ra, long ca, const float *b, long rb, \
                               long hi, float *c, long rc, int loadC) { \
    int nv = nr > 16 ? 2 : 1, masked = nr != 16 * nv; \
    switch (mr * 4 + (nv - 1) * 2 + masked) { \
        RK5_ROW(1, CA, PB) RK5_ROW(2, CA, PB) RK5_ROW(3, CA, PB) RK5_ROW(4, CA, PB) \
        RK5_ROW(5, CA, PB) RK5_ROW(6, CA, PB) RK5_ROW(7, CA, PB) RK5_ROW(8, CA, PB) \
        default: break; \
    } \
} \
static RK_AVX512 void NAME(int mr, int nr, long kc, const float *a, long ra, long ca, const float *b, long rb, \
                           long hi, float *c, long rc, long cc, int loadC) { \
    if (cc == 1) { NAME##_c1(mr, nr, kc, a, ra, ca, b, rb, hi, c, rc, loadC); return; } \
    float t[MR5 * 32];   /* C with column stride cc (the transposed C of a thin TN product) */ \
    for (int r = 0; r < mr; r++) for (int j = 0; j < nr; j++) t[r * 32 + j] = loadC ? c[r * rc + j * cc] : 0.0f; \
    NAME##_c1(mr, nr, kc, a, ra, ca, b, rb, hi, t, 32, loadC); \
    for (int r = 0; r < mr; r++) for (int j = 0; j < nr; j++) c[r * rc + j * cc] = t[r * 32 + j]; \
}
RK5_ANY(micro16_rows, 1, 0)      // op(A) rows in place, op(B) rows in place (rb any)
RK5_ANY(micro16_rows_pb, 1, 1)   // op(A) rows in place, op(B) panels [k][16]
RK5_ANY(micro16_panels, 8, 1)    // both packed: A [kc][8], B [kc][16]
RK5_ANY(micro16_strided, 0, 0)   // op(A) any strides (transposed A read in place), op(B) rows in place

// MARK: - GEMM drivers

/// Row tile ti of ni balanced tiles over m rows (tiles of 8 rows or fewer, e.g. 16 = 8 + 8).
static inline long tile_row(long m, long ti, long ni) { return m * ti / ni; }

/// op(B) read in place (unit column stride): k blocks, then tiles, the smaller operand outer.
static RK_AVX512 void tiles(long m, long n, long k, const float *a, long ra, long ca, const float *b, long rb,
                            float *c, long rc, long cc, int accumulate) {
    long ni = (m + MR5 - 1) / MR5, nj = (n + 31) / 32;
    int rowsOuter = m > n;
    for (long q0 = 0; q0 < k; q0 += KC5) {
        long kc = k - q0 < KC5 ? k - q0 : KC5;
        int loadC = q0 > 0 || accumulate;
        for (long outer = 0; outer < (rowsOuter ? ni : nj); outer++)
            for (long inner = 0; inner < (rowsOuter ? nj : ni); inner++) {
                long ti = rowsOuter ? outer : inner, j = 32 * (rowsOuter ? inner : outer);
                long i = tile_row(m, ti, ni), iEnd = tile_row(m, ti + 1, ni);
                int mr = (int)(iEnd - i), nr = (int)(n - j < 32 ? n - j : 32);
                const float *at = a + i * ra + q0 * ca, *bt = b + q0 * rb + j;
                float *ct = c + i * rc + j * cc;
                if (ca == 1) micro16_rows(mr, nr, kc, at, ra, 1, bt, rb, 16, ct, rc, cc, loadC);
                else micro16_strided(mr, nr, kc, at, ra, ca, bt, rb, 16, ct, rc, cc, loadC);
            }
    }
}

/// Rows of packed A per block: about 192 KiB of 8-row panels, so a block stays in L2 while
/// every pair of B panels of the k block passes over it.
static long row_block8(long rows, long kc) {
    long cap = (192L * 1024 / 4) / (kc > 0 ? kc : 1) / MR5 * MR5;
    if (cap < MR5) cap = MR5;
    long blocks = (rows + cap - 1) / cap;
    return ((rows + blocks - 1) / blocks + MR5 - 1) / MR5 * MR5;
}

/// One k block (kc deep, from q0) of a packed product, B's panels already in bp: op(A) in row
/// blocks of mc rows, packed as [8-row panel][kc][8] into ap unless its rows are contiguous
/// (ca == 1: read in place), then pairs of B panels outer (in L1), A panels inner (the block in L2).
static RK_AVX512 void packed_block(long m, long n, long kc, long q0, long mc, const float *a, long ra, long ca,
                                   const float *bp, float *ap, float *c, long rc, long cc, int loadC) {
    int inPlace = ca == 1;
    for (long ib0 = 0; ib0 < m; ib0 += mc) {
        long ib1 = m - ib0 < mc ? m : ib0 + mc, ni = (ib1 - ib0 + MR5 - 1) / MR5;
        for (long t = 0; t < ni && !inPlace; t++) {
            float *dst = ap + t * kc * MR5;
            long ib = ib0 + MR5 * t, h = ib1 - ib < MR5 ? ib1 - ib : MR5;
            __mmask8 rowsIn = (__mmask8)((1u << h) - 1);
            for (long q = 0; q < kc; q++) {
                const float *src = a + ib * ra + (q0 + q) * ca;
                if (ra == 1) { _mm256_store_ps(dst + q * MR5, _mm256_maskz_loadu_ps(rowsIn, src)); continue; }
                for (long ii = 0; ii < h; ii++) dst[q * MR5 + ii] = src[ii * ra];
                for (long ii = h; ii < MR5; ii++) dst[q * MR5 + ii] = 0.0f;
            }
        }
        for (long j = 0; j < n; j += 32) {
            int nr = (int)(n - j < 32 ? n - j : 32);
            const float *bt = bp + j * kc;   // panel j / 16
            for (long ti = 0; ti < ni; ti++) {
                long i = ib0 + MR5 * ti;
                int mr = (int)(ib1 - i < MR5 ? ib1 - i : MR5);
                float *ct = c + i * rc + j * cc;
                if (inPlace) micro16_rows_pb(mr, nr, kc, a + i * ra + q0, ra, 1, bt, 16, 16 * kc, ct, rc, cc, loadC);
                else micro16_panels(mr, nr, kc, ap + ti * kc * MR5, 1, MR5, bt, 16, 16 * kc, ct, rc, cc, loadC);
            }
        }
    }
}

/// Packed panels per k block: op(B) as [16-column panel][kc][16] (zero-padded), then
/// `packed_block` (op(A) packed unless its rows are contiguous, and the tiles).
static RK_AVX512 void packed(long m, long n, long k, const float *a, long ra, long ca, const float *b, long rb,
                             long cb, float *c, long rc, long cc, int accumulate) {
    long kc0 = k < KC5 ? k : KC5, nb = (n + 15) / 16, mc = row_block8(m, kc0);
    int inPlace = ca == 1;
    float *bp = rk_scratch_floats(nb * 16 * kc0 + (inPlace ? 0 : mc * kc0));
    if (!bp) abort();
    float *ap = bp + nb * 16 * kc0;
    for (long q0 = 0; q0 < k; q0 += KC5) {
        long kc = k - q0 < KC5 ? k - q0 : KC5;
        int loadC = q0 > 0 || accumulate;
        for (long t = 0; t < nb; t++) {
            float *dst = bp + t * kc * 16;
            long j0 = 16 * t, w = n - j0 < 16 ? n - j0 : 16;
            __mmask16 m = lanes16(w);
            for (long q = 0; q < kc; q++) {
                const float *src = b + (q0 + q) * rb + j0 * cb;
                if (cb == 1) _mm512_store_ps(dst + q * 16, _mm512_maskz_loadu_ps(m, src));
                else {
                    for (long jj = 0; jj < w; jj++) dst[q * 16 + jj] = src[jj * cb];
                    for (long jj = w; jj < 16; jj++) dst[q * 16 + jj] = 0.0f;
                }
            }
        }
        packed_block(m, n, kc, q0, mc, a, ra, ca, bp, ap, c, rc, cc, loadC);
    }
}

void rk_avx512_gemm(long m, long n, long k, const float *a, long ra, long ca, const float *b, long rb, long cb,
                    float *c, long rc, long cc, int accumulate, int pack) {
    if (pack || cb != 1) packed(m, n, k, a, ra, ca, b, rb, cb, c, rc, cc, accumulate);
    else tiles(m, n, k, a, ra, ca, b, rb, c, rc, cc, accumulate);
}

/// k blocks outer (two 16 x kc panel blocks stay in L1 while the row tiles pass), then pairs
/// of panels, then balanced row tiles reading A in place.
void RK_AVX512 rk_avx512_gemm_packed_b(long m, long n, long k, const float *a, long lda, const float *panels,
                                       float *c, long ldc, int accumulate) {
    long ni = (m + MR5 - 1) / MR5;
    for (long q0 = 0; q0 < k; q0 += KC5) {
        long kc = k - q0 < KC5 ? k - q0 : KC5;
        int loadC = q0 > 0 || accumulate;
        for (long j = 0; j < n; j += 32) {
            int nr = (int)(n - j < 32 ? n - j : 32);
            const float *bt = panels + j * k + q0 * 16;
            for (long ti = 0; ti < ni; ti++) {
                long i = tile_row(m, ti, ni), iEnd = tile_row(m, ti + 1, ni);
                micro16_rows_pb((int)(iEnd - i), nr, kc, a + i * lda + q0, lda, 1, bt, 16, 16 * k,
                                c + i * ldc + j, ldc, 1, loadC);
            }
        }
    }
}

// MARK: - A layer's weight gradients in one product

/// rk_weight_gradients' product for the columns j0 ..< j1 (j0 a multiple of 16) of
/// C [m, nh + nx + 2] (row stride ldc) += dnetᵀ [h | x | 1 1]: op(A) = dnetᵀ (dnet [k, m], row
/// stride ldd) packed as `packed` packs a transposed A, and op(B)'s panels gathered from h [k, nh]
/// (row stride ldh), x [k, nx] (ldx) and two columns of ones, so that one pass over dnet forms
/// dW_hh, dW_ih and both bias gradients (fma(d, 1, acc) is acc + d exactly). Every element is
/// `packed`'s chain (start at C; fma over q in order, k blocks of KC5): rk_sgemm's bits.
void RK_AVX512 rk_avx512_weight_gradients(long m, long k, const float *dnet, long ldd, const float *h, long nh, long ldh,
                                          const float *x, long nx, long ldx, long j0, long j1, float *c, long ldc) {
    long n = j1 - j0, kc0 = k < KC5 ? k : KC5, nb = (n + 15) / 16, mc = row_block8(m, kc0);
    float *bp = rk_scratch_floats(nb * 16 * kc0 + mc * kc0);
    if (!bp) abort();
    float *ap = bp + nb * 16 * kc0;
    const __m512 one = _mm512_set1_ps(1.0f);
    for (long q0 = 0; q0 < k; q0 += KC5) {
        long kc = k - q0 < KC5 ? k - q0 : KC5;
        for (long t = 0; t < nb; t++) {             // panel t: columns c0 ..< c0 + 16 of [h | x | 1 1]
            long c0 = j0 + 16 * t, end = nh + nx + 2;
            long hEnd = nh < c0 + 16 ? nh : c0 + 16;                        // h's columns in the panel
            long xLo = c0 > nh ? c0 : nh, xHi = nh + nx < c0 + 16 ? nh + nx : c0 + 16;
            long oLo = c0 > nh + nx ? c0 : nh + nx, oHi = end < c0 + 16 ? end : c0 + 16;
            __mmask16 hm = c0 < hEnd ? lanes16(hEnd - c0) : 0;
            __mmask16 xm = xLo < xHi ? (__mmask16)(lanes16(xHi - c0) & ~lanes16(xLo - c0)) : 0;
            __mmask16 om = oLo < oHi ? (__mmask16)(lanes16(oHi - c0) & ~lanes16(oLo - c0)) : 0;
            const float *hs = hm ? h + c0 : h, *xs = xm ? x + (xLo - nh) : x;   // xs: x's first column in the panel
            float *dst = bp + t * kc * 16;
            for (long q = 0; q < kc; q++) {
                __m512 v = _mm512_maskz_loadu_ps(hm, hs + (q0 + q) * ldh);
                if (xm) v = _mm512_mask_expandloadu_ps(v, xm, xs + (q0 + q) * ldx);   // into lanes xLo - c0 ...
                v = _mm512_mask_mov_ps(v, om, one);
                _mm512_store_ps(dst + q * 16, v);
            }
        }
        packed_block(m, n, kc, q0, mc, dnet, 1, ldd, bp, ap, c + j0, ldc, 1, 1);
    }
}

// MARK: - The fused recurrent step

/// One MR x (16*NV) tile of the step: acc = bias, the fma chain over k, then net = x + acc and
/// h = f(net) (act 1 relu as max(0, net): NaN and -0 as Activation.relu; 2 tanh; 0 net only).
RK_INLINE_AVX512 void micro16_step(const int MR, const int NV, const int masked, const int PB, const int act, int nr,
                                   long k, const float *a, long lda, const float *b, long ldb, long hi,
                                   const float *bias, const float *x, float *net, float *hout, long ld) {
    __m512 x0[MR5], x1[MR5];
    __mmask16 m0, m1;
    tile_masks(NV, masked, nr, &m0, &m1);
    __m512 bias0 = _mm512_maskz_loadu_ps(m0, bias), bias1 = _mm512_setzero_ps();
    if (NV == 2) bias1 = _mm512_maskz_loadu_ps(m1, bias + 16);
    for (int r = 0; r < MR; r++) { x0[r] = bias0; x1[r] = bias1; }
    fma_tile16(MR, NV, masked, 1, PB, m0, m1, k, a, lda, 1, b, ldb, hi, x0, x1);
    const __m512 zero = _mm512_setzero_ps();
    for (int r = 0; r < MR; r++) {
        const float *xr = x + r * ld; float *netr = net + r * ld, *hr = hout + r * ld;
        for (int v = 0; v < NV; v++) {
            __mmask16 m = v == 0 ? m0 : m1;
            __m512 nv = _mm512_add_ps(_mm512_maskz_loadu_ps(m, xr + 16 * v), v == 0 ? x0[r] : x1[r]);
            _mm512_mask_storeu_ps(netr + 16 * v, m, nv);
            if (act == 0) continue;
            __m512 hv = act == 1 ? _mm512_max_ps(zero, nv) : tanh16(nv);
            _mm512_mask_storeu_ps(hr + 16 * v, m, hv);
        }
    }
}

#define RK5_STEP_CASE(MR, NV, MASK, ACT) \
    case (((MR) * 2 + (NV) - 1) * 2 + (MASK)) * 3 + (ACT): \
        micro16_step(MR, NV, MASK, PB, ACT, nr, k, a, lda, b, ldb, hi, bias, x, net, hout, ld); break;
#define RK5_STEP_ACTS(MR, NV, MASK) RK5_STEP_CASE(MR, NV, MASK, 0) RK5_STEP_CASE(MR, NV, MASK, 1) \
                                    RK5_STEP_CASE(MR, NV, MASK, 2)
#define RK5_STEP_ROW(MR) RK5_STEP_ACTS(MR, 1, 0) RK5_STEP_ACTS(MR, 1, 1) RK5_STEP_ACTS(MR, 2, 0) \
                         RK5_STEP_ACTS(MR, 2, 1)
#define RK5_STEP_ANY(NAME, PBV) \
static RK_AVX512 void NAME(int mr, int nr, int act, long k, const float *a, long lda, const float *b, long ldb, \
                           long hi, const float *bias, const float *x, float *net, float *hout, long ld) { \
    enum { PB = PBV }; \
    int nv = nr > 16 ? 2 : 1, masked = nr != 16 * nv; \
    switch (((mr * 2 + nv - 1) * 2 + masked) * 3 + act) { \
        RK5_STEP_ROW(1) RK5_STEP_ROW(2) RK5_STEP_ROW(3) RK5_STEP_ROW(4) \
        RK5_STEP_ROW(5) RK5_STEP_ROW(6) RK5_STEP_ROW(7) RK5_STEP_ROW(8) \
        default: break; \
    } \
}
RK5_STEP_ANY(micro16_step_rows, 0)   // W_hhᵀ [k, ld] read in place
RK5_STEP_ANY(micro16_step_pb, 1)     // W_hhᵀ as panels [k][16]

/// acc[r][v] += A(r, q) op(B)(q, 16 v ..< 16 v + 16) for q < k in order, three vectors per row (the
/// third masked by m2): A rows in place (row stride lda), op(B) rows in place (ldb) or panels
/// (PB; ldb 16), the second and third 16 columns at hi and 2 hi past the first. 24 accumulators,
/// 3 loads of B and MR broadcasts per k step.
RK_INLINE_AVX512 void fma_tile3(const int MR, const int PB, __mmask16 m2, long k, const float *a, long lda,
                                const float *b, long ldb, long hi, __m512 (*acc)[3]) {
    const float *ar[MR5];
    for (int r = 0; r < MR; r++) { ar[r] = a + r * lda; __asm__("" : "+r"(ar[r])); }
    if (PB) ldb = 16;
    const float *bq = b;
    for (long q = 0; q < k; q++, bq += ldb) {
        const __m512 b0 = _mm512_loadu_ps(bq), b1 = _mm512_loadu_ps(bq + hi), b2 = _mm512_maskz_loadu_ps(m2, bq + 2 * hi);
        for (int r = 0; r < MR; r++) {
            const __m512 av = _mm512_set1_ps(ar[r][q]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(av, b2, acc[r][2]);
        }
    }
}

/// micro16_step with three vectors per row (33-48 columns, the third masked): the last 32 columns
/// and the edge of n = 32 q + 1 ... 16 (H = 100: 64 + 36) in one tile, so the edge's 4 columns
/// share the 8 broadcasts of the 32 before them instead of repeating them for 8 FMAs (24
/// accumulators, 3 panel loads, one broadcast live). The same chain and epilogue per value.
RK_INLINE_AVX512 void micro16_step3(const int MR, const int PB, const int act, int nr, long k, const float *a, long lda,
                                    const float *b, long ldb, long hi, const float *bias, const float *x, float *net,
                                    float *hout, long ld) {
    __m512 acc[MR5][3];
    const __mmask16 m2 = lanes16(nr - 32);
    const __m512 bias0 = _mm512_loadu_ps(bias), bias1 = _mm512_loadu_ps(bias + 16),
                 bias2 = _mm512_maskz_loadu_ps(m2, bias + 32);
    for (int r = 0; r < MR; r++) { acc[r][0] = bias0; acc[r][1] = bias1; acc[r][2] = bias2; }
    fma_tile3(MR, PB, m2, k, a, lda, b, ldb, hi, acc);
    const __m512 zero = _mm512_setzero_ps();
    for (int r = 0; r < MR; r++) {
        const float *xr = x + r * ld; float *netr = net + r * ld, *hr = hout + r * ld;
        for (int v = 0; v < 3; v++) {
            __mmask16 m = v == 2 ? m2 : 0xFFFF;
            __m512 nv = _mm512_add_ps(_mm512_maskz_loadu_ps(m, xr + 16 * v), acc[r][v]);
            _mm512_mask_storeu_ps(netr + 16 * v, m, nv);
            if (act == 0) continue;
            __m512 hv = act == 1 ? _mm512_max_ps(zero, nv) : tanh16(nv);
            _mm512_mask_storeu_ps(hr + 16 * v, m, hv);
        }
    }
}

#define RK5_STEP3_CASE(MR, ACT) \
    case (MR) * 3 + (ACT): micro16_step3(MR, PB, ACT, nr, k, a, lda, b, ldb, hi, bias, x, net, hout, ld); break;
#define RK5_STEP3_ROW(MR) RK5_STEP3_CASE(MR, 0) RK5_STEP3_CASE(MR, 1) RK5_STEP3_CASE(MR, 2)
#define RK5_STEP3_ANY(NAME, PBV) \
static RK_AVX512 void NAME(int mr, int nr, int act, long k, const float *a, long lda, const float *b, long ldb, \
                           long hi, const float *bias, const float *x, float *net, float *hout, long ld) { \
    enum { PB = PBV }; \
    switch (mr * 3 + act) { \
        RK5_STEP3_ROW(1) RK5_STEP3_ROW(2) RK5_STEP3_ROW(3) RK5_STEP3_ROW(4) \
        RK5_STEP3_ROW(5) RK5_STEP3_ROW(6) RK5_STEP3_ROW(7) RK5_STEP3_ROW(8) \
        default: break; \
    } \
}
RK5_STEP3_ANY(micro16_step3_rows, 0)   // W_hhᵀ [k, ld] read in place
RK5_STEP3_ANY(micro16_step3_pb, 1)     // W_hhᵀ as panels [k][16]

void RK_AVX512 rk_avx512_step(long rows, long n, long k, const float *h_prev, const float *wt, int packed,
                              const float *bias, const float *x, float *net, float *h_new, long ld, int act) {
    long ni = (rows + MR5 - 1) / MR5;
    long tail = n > 32 && n % 32 != 0 && n % 32 <= 16 ? n - n % 32 - 32 : n;   // the last 32 + edge: one tile
    typedef void step_tile(int, int, int, long, const float *, long, const float *, long, long, const float *,
                           const float *, float *, float *, long);
    for (long j = 0; j < n; j += 32) {            // a pair of W_hhᵀ's 16-column panels stays in cache
        int nr = (int)(j == tail || n - j < 32 ? n - j : 32);
        step_tile *tile = j == tail ? (packed ? micro16_step3_pb : micro16_step3_rows)
                                    : (packed ? micro16_step_pb : micro16_step_rows);
        const float *b = packed ? wt + j * k : wt + j;
        long ldb = packed ? 16 : ld, hi = packed ? 16 * k : 16;
        for (long ti = 0; ti < ni; ti++) {        // balanced row tiles (16 rows: 8 + 8)
            long i = tile_row(rows, ti, ni), iEnd = tile_row(rows, ti + 1, ni);
            tile((int)(iEnd - i), nr, act, k, h_prev + i * k, k, b, ldb, hi, bias + j, x + i * ld + j, net + i * ld + j,
                 h_new ? h_new + i * ld + j : NULL, ld);
        }
        if (j == tail) break;
    }
}

// MARK: - The relu RNN's backward step, fused

/// One MR x (16*NV) tile of the relu RNN's step backward: acc = dnet_t W_hh (start 0, the fma
/// chain over k), then d = acc (+ dout, with OUT: the loss's dL/dh_{t-1}, added as the unroller
/// adds it) and dnet_{t-1} = net_{t-1} <= 0 ? 0 : d (rk_relu_backward's predicate: a NaN net
/// passes d). dL/dh_{t-1} itself is not stored.
RK_INLINE_AVX512 void micro16_relu_dnet(const int MR, const int NV, const int masked, const int OUT, const int PB, int nr,
                                        long k, const float *a, long lda, const float *b, long ldb, long hi,
                                        const float *dout, const float *net, float *dnet, long ld) {
    __m512 x0[MR5], x1[MR5];
    __mmask16 m0, m1;
    tile_masks(NV, masked, nr, &m0, &m1);
    for (int r = 0; r < MR; r++) { x0[r] = _mm512_setzero_ps(); x1[r] = x0[r]; }
    fma_tile16(MR, NV, masked, 1, PB, m0, m1, k, a, lda, 1, b, ldb, hi, x0, x1);
    const __m512 zero = _mm512_setzero_ps();
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++) {
            __mmask16 m = v == 0 ? m0 : m1;
            __m512 d = v == 0 ? x0[r] : x1[r];
            if (OUT) d = _mm512_add_ps(d, _mm512_maskz_loadu_ps(m, dout + r * ld + 16 * v));
            __mmask16 pass = _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(m, net + r * ld + 16 * v), zero, _CMP_NLE_UQ);
            _mm512_mask_storeu_ps(dnet + r * ld + 16 * v, m, _mm512_maskz_mov_ps(pass, d));
        }
}

#define RK5_DNET_CASE(MR, NV, MASK, OUT) \
    case (((MR) * 2 + (NV) - 1) * 2 + (MASK)) * 2 + (OUT): \
        micro16_relu_dnet(MR, NV, MASK, OUT, PB, nr, k, a, lda, b, ldb, hi, dout, net, dnet, ld); break;
#define RK5_DNET_OUTS(MR, NV, MASK) RK5_DNET_CASE(MR, NV, MASK, 0) RK5_DNET_CASE(MR, NV, MASK, 1)
#define RK5_DNET_ROW(MR) RK5_DNET_OUTS(MR, 1, 0) RK5_DNET_OUTS(MR, 1, 1) RK5_DNET_OUTS(MR, 2, 0) RK5_DNET_OUTS(MR, 2, 1)
#define RK5_DNET_ANY(NAME, PBV) \
static RK_AVX512 void NAME(int mr, int nr, long k, const float *a, long lda, const float *b, long ldb, long hi, \
                           const float *dout, const float *net, float *dnet, long ld) { \
    enum { PB = PBV }; \
    int nv = nr > 16 ? 2 : 1, masked = nr != 16 * nv; \
    switch (((mr * 2 + nv - 1) * 2 + masked) * 2 + (dout != NULL)) { \
        RK5_DNET_ROW(1) RK5_DNET_ROW(2) RK5_DNET_ROW(3) RK5_DNET_ROW(4) \
        RK5_DNET_ROW(5) RK5_DNET_ROW(6) RK5_DNET_ROW(7) RK5_DNET_ROW(8) \
        default: break; \
    } \
}
RK5_DNET_ANY(micro16_relu_dnet_any, 0)   // W_hh [k, ldw] read in place
RK5_DNET_ANY(micro16_relu_dnet_pb, 1)    // W_hh as panels [k][16] (rk_pack_b(0, ...))

/// micro16_relu_dnet with three vectors per row (33-48 columns, the third masked), as
/// micro16_step3: the last 32 columns and the edge in one tile. The same chain, addition and
/// selection per value.
RK_INLINE_AVX512 void micro16_relu_dnet3(const int MR, const int OUT, const int PB, int nr, long k, const float *a,
                                         long lda, const float *b, long ldb, long hi, const float *dout,
                                         const float *net, float *dnet, long ld) {
    __m512 acc[MR5][3];
    const __mmask16 m2 = lanes16(nr - 32);
    for (int r = 0; r < MR; r++) for (int v = 0; v < 3; v++) acc[r][v] = _mm512_setzero_ps();
    fma_tile3(MR, PB, m2, k, a, lda, b, ldb, hi, acc);
    const __m512 zero = _mm512_setzero_ps();
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < 3; v++) {
            __mmask16 m = v == 2 ? m2 : 0xFFFF;
            __m512 d = acc[r][v];
            if (OUT) d = _mm512_add_ps(d, _mm512_maskz_loadu_ps(m, dout + r * ld + 16 * v));
            __mmask16 pass = _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(m, net + r * ld + 16 * v), zero, _CMP_NLE_UQ);
            _mm512_mask_storeu_ps(dnet + r * ld + 16 * v, m, _mm512_maskz_mov_ps(pass, d));
        }
}

#define RK5_DNET3_CASE(MR, OUT) \
    case (MR) * 2 + (OUT): micro16_relu_dnet3(MR, OUT, PB, nr, k, a, lda, b, ldb, hi, dout, net, dnet, ld); break;
#define RK5_DNET3_ANY(NAME, PBV) \
static RK_AVX512 void NAME(int mr, int nr, long k, const float *a, long lda, const float *b, long ldb, long hi, \
                           const float *dout, const float *net, float *dnet, long ld) { \
    enum { PB = PBV }; \
    switch (mr * 2 + (dout != NULL)) { \
        RK5_DNET3_CASE(1, 0) RK5_DNET3_CASE(1, 1) RK5_DNET3_CASE(2, 0) RK5_DNET3_CASE(2, 1) \
        RK5_DNET3_CASE(3, 0) RK5_DNET3_CASE(3, 1) RK5_DNET3_CASE(4, 0) RK5_DNET3_CASE(4, 1) \
        RK5_DNET3_CASE(5, 0) RK5_DNET3_CASE(5, 1) RK5_DNET3_CASE(6, 0) RK5_DNET3_CASE(6, 1) \
        RK5_DNET3_CASE(7, 0) RK5_DNET3_CASE(7, 1) RK5_DNET3_CASE(8, 0) RK5_DNET3_CASE(8, 1) \
        default: break; \
    } \
}
RK5_DNET3_ANY(micro16_relu_dnet3_rows, 0)   // W_hh [k, ldw] read in place
RK5_DNET3_ANY(micro16_relu_dnet3_pb, 1)     // W_hh as panels [k][16]

/// dnet_prev [rows, n] = relu'(net_prev) ⊙ (dnet W + dout) for dnet [rows, k], W [k, n] (row
/// stride ldw), dout, net_prev, dnet_prev [rows, n] (row stride n; dout may be NULL); k <= KC5.
/// Tiles as `tiles` runs the product (columns outer, balanced row tiles inner): each sum is
/// rk_sgemm's chain, then the unroller's addition and rk_relu_backward's selection.
void RK_AVX512 rk_avx512_relu_dnet(long rows, long n, long k, const float *dnet, const float *w, long ldw,
                                   const float *dout, const float *net_prev, float *dnet_prev) {
    long ni = (rows + MR5 - 1) / MR5;
    long tail = n > 32 && n % 32 != 0 && n % 32 <= 16 ? n - n % 32 - 32 : n;   // the last 32 + edge: one tile
    typedef void dnet_tile(int, int, long, const float *, long, const float *, long, long, const float *, const float *,
                           float *, long);
    for (long j = 0; j < n; j += 32) {
        int nr = (int)(j == tail || n - j < 32 ? n - j : 32);
        // ldw 0: w is rk_pack_b(0, k, n, W_hh, ...)'s panels, a 32-wide tile reads two adjacent ones
        dnet_tile *tile = j == tail ? (ldw == 0 ? micro16_relu_dnet3_pb : micro16_relu_dnet3_rows)
                                    : (ldw == 0 ? micro16_relu_dnet_pb : micro16_relu_dnet_any);
        const float *b = ldw == 0 ? w + j * k : w + j;
        long ldb = ldw == 0 ? 16 : ldw, hi = ldw == 0 ? 16 * k : 16;
        for (long ti = 0; ti < ni; ti++) {
            long i = tile_row(rows, ti, ni), iEnd = tile_row(rows, ti + 1, ni);
            tile((int)(iEnd - i), nr, k, dnet + i * k, k, b, ldb, hi, dout ? dout + i * n + j : NULL, net_prev + i * n + j,
                 dnet_prev + i * n + j, n);
        }
        if (j == tail) break;
    }
}

#endif
