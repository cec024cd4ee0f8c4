// AVX2 + FMA body of a layer's weight gradients in one pass (rk_weight_gradients_into, gemm.c),
// called when rk_uses_avx2() and not rk_uses_avx512() (avx512.c has the 512-bit body).
//
//     C [m, nh + nx + 2] += dnetᵀ [h | x | 1 1]     (C = [dW_hh | dW_ih | db_hh db_ih])
//
// Per k block of KCG rows: [h | x | 1 1] is gathered into 16-column panels [kc][16] (zero-padded),
// dnetᵀ into 6-row panels [kc][6] (zero-padded) in row blocks that stay in L2, and every 6 x 16
// tile of C runs internal.h's fma_tile on the two panels (12 ymm accumulators, 2 loads of B and
// 6 broadcasts of A per k step: 16 ymm registers). The padding makes every tile a full 6 x 16
// product; C's loads and stores are whole for a whole tile and masked to the tile's rows and
// columns only at C's edges. Each tile prefetches the next tile's rows of C: C [m, H + I + 2] is
// beyond L2 at large H (1.18 MiB at H = 512, I = 64) and every tile would otherwise wait for its
// 12 lines from L3 before its first fma (at H = 512: 1.4x faster, in-process min of 60).
//
// Same bits as the four products it replaces (rk_sgemm(1, 0, ..., accumulate 1) for dW_hh and
// dW_ih, rk_column_sums(..., 1) for db_hh and db_ih): every element starts at C and takes one
// fma(dnet(q, i), B(q, j), acc) per row q in order, stored and reloaded exactly between k blocks;
// a bias column is B = 1, and fma(d, 1, acc) = acc + d exactly (column_sums' addition). Tile,
// block and thread boundaries never change a chain.
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF

#ifdef RK_X86

enum {
    KCG = 256,   // k block: a 16 x 256 panel of B (16 KiB) and a 6 x 256 panel of A (6 KiB) in L1 (32 KiB)
    MRG = 6,     // rows per tile: 6 x 2 accumulators, 2 of B, 1 broadcast (+ 1 spare) of 16 ymm
};

/// Rows of dnetᵀ per packed block: about 192 KiB of 6-row panels, so that a block stays in
/// Zen 3's 512 KiB L2 (next to the B panel passing over it) while every B panel of the k block runs.
static long row_block6(long rows, long kc) {
    long cap = (192L * 1024 / 4) / (kc > 0 ? kc : 1) / MRG * MRG;
    if (cap < MRG) cap = MRG;
    long blocks = (rows + cap - 1) / cap;
    return ((rows + blocks - 1) / blocks + MRG - 1) / MRG * MRG;
}

/// C [mr, nr] (row stride ldc; mr <= 6, nr <= 8 * NV) += A panel [kc][6] · B panel [kc][16]
/// (NV = 1: its first 8 columns, for a last panel of 8 columns or fewer: half the fmas). FULL: a
/// whole 6 x 16 tile, C loaded and stored whole; else rows of C past mr and columns past nr are
/// neither read nor written (a zero mask loads zeros and touches no memory; the stores stop at
/// row mr).
RK_INLINE_AVX2 void tile6(const int NV, const int FULL, int mr, int nr, long kc, const float *ap, const float *bp,
                          float *c, long ldc) {
    const __m256i m0 = lanes8(nr), m1 = lanes8(nr - 8);
    __m256 x0[MRG], x1[MRG];
    for (int r = 0; r < MRG; r++) {
        if (FULL) { x0[r] = _mm256_loadu_ps(c + r * ldc); x1[r] = _mm256_loadu_ps(c + r * ldc + 8); continue; }
        x0[r] = _mm256_maskload_ps(c + r * ldc, r < mr ? m0 : _mm256_setzero_si256());
        x1[r] = NV == 2 ? _mm256_maskload_ps(c + r * ldc + 8, r < mr ? m1 : _mm256_setzero_si256()) : _mm256_setzero_ps();
    }
    fma_tile(MRG, NV, 0, MRG, m0, m1, kc, ap, 1, MRG, bp, 16, x0, x1);
    for (int r = 0; r < MRG; r++) {
        if (FULL) { _mm256_storeu_ps(c + r * ldc, x0[r]); _mm256_storeu_ps(c + r * ldc + 8, x1[r]); continue; }
        if (r >= mr) break;
        _mm256_maskstore_ps(c + r * ldc, m0, x0[r]);
        if (NV == 2) _mm256_maskstore_ps(c + r * ldc + 8, m1, x1[r]);
    }
}

/// One tile of C (mr x nr at c), after prefetching the next tile's C (nmr rows of nnr columns at
/// next; nmr = 0: none): the first and last line of each row, while this tile's kc x 12 fmas run.
static RK_AVX2 void tile6x16(int mr, int nr, long kc, const float *ap, const float *bp, float *c, long ldc,
                             const float *next, int nmr, int nnr) {
    for (int r = 0; r < nmr; r++) {
        _mm_prefetch((const char *)(next + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(next + r * ldc + nnr - 1), _MM_HINT_T0);
    }
    if (mr == MRG && nr == 16) tile6(2, 1, mr, nr, kc, ap, bp, c, ldc);
    else if (nr > 8) tile6(2, 0, mr, nr, kc, ap, bp, c, ldc);
    else tile6(1, 0, mr, nr, kc, ap, bp, c, ldc);
}

/// Panel t of [h | x | 1 1]'s columns j0 + 16t ..< j0 + 16t + 16 (zeros past `end`), rows
/// q0 ..< q0 + kc, into dst [kc][16].
static RK_AVX2 void pack_b_panel(long q0, long kc, long c0, const float *h, long nh, long ldh, const float *x,
                                 long nx, long ldx, float *dst) {
    long end = nh + nx + 2;
    if (c0 + 16 <= nh) {                                  // all h
        for (long q = 0; q < kc; q++) {
            const float *src = h + (q0 + q) * ldh + c0;
            _mm256_store_ps(dst + q * 16, _mm256_loadu_ps(src));
            _mm256_store_ps(dst + q * 16 + 8, _mm256_loadu_ps(src + 8));
        }
        return;
    }
    if (c0 >= nh && c0 + 16 <= nh + nx) {                 // all x
        for (long q = 0; q < kc; q++) {
            const float *src = x + (q0 + q) * ldx + (c0 - nh);
            _mm256_store_ps(dst + q * 16, _mm256_loadu_ps(src));
            _mm256_store_ps(dst + q * 16 + 8, _mm256_loadu_ps(src + 8));
        }
        return;
    }
    // The panel where h, x and the ones meet: h's lanes by masked loads, the rest lane by lane.
    long hw = nh - c0 > 0 ? nh - c0 : 0;                  // h's lanes 0 ..< hw
    const __m256i h0 = lanes8(hw), h1 = lanes8(hw - 8);
    const float *hs = hw > 0 ? h + c0 : h;
    for (long q = 0; q < kc; q++) {
        float *d = dst + q * 16;
        const float *hr = hs + (q0 + q) * ldh, *xr = x + (q0 + q) * ldx;
        _mm256_store_ps(d, _mm256_maskload_ps(hr, h0));
        _mm256_store_ps(d + 8, _mm256_maskload_ps(hr + 8, h1));
        for (long j = c0 + hw; j < c0 + 16 && j < end; j++) d[j - c0] = j < nh + nx ? xr[j - nh] : 1.0f;
    }
}

/// dnetᵀ's rows ib ..< ib + hgt (hgt <= 6; dnet's columns), k rows q0 ..< q0 + kc, into dst [kc][6].
static RK_AVX2 void pack_a_panel(long q0, long kc, long ib, long hgt, const float *dnet, long ldd, float *dst) {
    const float *src = dnet + q0 * ldd + ib;
    if (hgt == MRG) {   // 6 floats as 4 + 2 (no read past column ib + 6)
        for (long q = 0; q < kc; q++, src += ldd) {
            _mm_storeu_ps(dst + q * MRG, _mm_loadu_ps(src));
            _mm_storel_pi((__m64 *)(dst + q * MRG + 4), _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(src + 4)));
        }
        return;
    }
    for (long q = 0; q < kc; q++, src += ldd)
        for (long ii = 0; ii < MRG; ii++) dst[q * MRG + ii] = ii < hgt ? src[ii] : 0.0f;
}

/// rk_weight_gradients' product for the columns j0 ..< j1 (j0 a multiple of 16) of
/// C [m, nh + nx + 2] (row stride ldc) += dnetᵀ [h | x | 1 1], dnet [k, m] with row stride ldd,
/// h [k, nh] (ldh), x [k, nx] (ldx). Per k block: B's panels first (all of j0 ..< j1), then
/// dnetᵀ in row blocks (L2), B panels outer (one in L1), A panels inner.
void RK_AVX2 rk_avx2_weight_gradients(long m, long k, const float *dnet, long ldd, const float *h, long nh, long ldh,
                                      const float *x, long nx, long ldx, long j0, long j1, float *c, long ldc) {
    long n = j1 - j0, kc0 = k < KCG ? k : KCG, nb = (n + 15) / 16, mc = row_block6(m, kc0);
    float *bp = rk_scratch_floats(nb * 16 * kc0 + mc * kc0);   // [nb][kc][16], then [mc / 6][kc][6]
    if (!bp) abort();
    float *ap = bp + nb * 16 * kc0;
    for (long q0 = 0; q0 < k; q0 += KCG) {
        long kc = k - q0 < KCG ? k - q0 : KCG;
        for (long t = 0; t < nb; t++) pack_b_panel(q0, kc, j0 + 16 * t, h, nh, ldh, x, nx, ldx, bp + t * kc * 16);
        for (long ib0 = 0; ib0 < m; ib0 += mc) {
            long ib1 = m - ib0 < mc ? m : ib0 + mc, ni = (ib1 - ib0 + MRG - 1) / MRG;
            for (long t = 0; t < ni; t++) {
                long ib = ib0 + MRG * t;
                pack_a_panel(q0, kc, ib, ib1 - ib < MRG ? ib1 - ib : MRG, dnet, ldd, ap + t * kc * MRG);
            }
            for (long tj = 0; tj < nb; tj++) {
                long j = j0 + 16 * tj;
                int nr = (int)(j1 - j < 16 ? j1 - j : 16);
                for (long ti = 0; ti < ni; ti++) {
                    long i = ib0 + MRG * ti;
                    // The next tile (in, jn): down this panel, else the top of the next (none after the last).
                    long in = ti + 1 < ni ? i + MRG : ib0, jn = ti + 1 < ni ? j : j + 16;
                    int nmr = jn < j1 ? (int)(ib1 - in < MRG ? ib1 - in : MRG) : 0;
                    int nnr = (int)(j1 - jn < 16 ? j1 - jn : 16);
                    tile6x16((int)(ib1 - i < MRG ? ib1 - i : MRG), nr, kc, ap + ti * kc * MRG, bp + tj * kc * 16,
                             c + i * ldc + j, ldc, nmr ? c + in * ldc + jn : c, nmr, nnr);
                }
            }
        }
    }
}

#endif
