// AVX2 bodies of the per-step products of large layers (k > 256, W_hh packed once per pass into
// rk_pack_b's 16-column panels [k][16]), for rk_uses_avx2() without AVX-512: the recurrent step
// (step.c's step_avx2 on panels) and the relu RNN's backward product with relu' in its epilogue
// (avx2_step.c's rk_avx2_relu_dnet on panels).
//
// Why: at H = 512 a panel is k * 64 B = 32 KiB, L1's size, so step_avx2's full-k tiles read each
// panel from L2 again for every row tile. Here k runs in blocks of LARGE_KC (a 16 KiB block of a
// panel stays in L1 while every row tile of the batch passes over it; the batch's [rows, LARGE_KC]
// block of A, 64 KiB at B = 64, stays in L2): kc blocks outer, panels, balanced row tiles of up to
// 6 inner, gemm.c's 6x16 tile (fma_tile, internal.h).
//
// Same bits as the bodies they replace: every value is the same chain (start at the bias or 0,
// then fma over q = 0 ..< k in order); between k blocks the partial sums are stored into the
// output (net, dnet_prev) and reloaded, which is exact; the epilogue (x + acc and f for the step;
// + dout and relu' for the backward product) runs after the last block on the same operands.
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF

#ifdef RK_X86

#ifndef RK_LARGE_KC
#define RK_LARGE_KC 256
#endif
enum { LARGE_KC = RK_LARGE_KC };   // k block: 16 KiB of a panel in L1

/// One MR x (8*NV) tile, kc steps: acc = start + a [MR, kc] (rows lda apart) x b [kc][16], stored
/// into c (rows ldc apart). start: MR rows of s (lds apart: a later k block's partial sums), one
/// row for all (lds = 0: the bias, the step's first block) or 0 (s NULL: the backward product's).
RK_INLINE_AVX2 void large_tile(const int MR, const int NV, const int masked, int nr, long kc, const float *a,
                               long lda, const float *b, const float *s, long lds, float *c, long ldc) {
    __m256 x0[6], x1[6];
    __m256i m0 = _mm256_set1_epi32(-1), m1 = m0;
    if (masked) edge_masks(nr, &m0, &m1);
    if (s) {
        for (int r = 0; r < MR; r++) {
            const float *sr = s + r * lds;
            x0[r] = masked && NV == 1 ? _mm256_maskload_ps(sr, m0) : _mm256_loadu_ps(sr);
            x1[r] = _mm256_setzero_ps();
            if (NV == 2) x1[r] = masked ? _mm256_maskload_ps(sr + 8, m1) : _mm256_loadu_ps(sr + 8);
        }
    } else {
        for (int r = 0; r < MR; r++) { x0[r] = _mm256_setzero_ps(); x1[r] = x0[r]; }
    }
    fma_tile(MR, NV, masked, 1, m0, m1, kc, a, lda, 1, b, 16, x0, x1);
    for (int r = 0; r < MR; r++) {
        float *cr = c + r * ldc;
        if (masked && NV == 1) _mm256_maskstore_ps(cr, m0, x0[r]); else _mm256_storeu_ps(cr, x0[r]);
        if (NV == 2) { if (masked) _mm256_maskstore_ps(cr + 8, m1, x1[r]); else _mm256_storeu_ps(cr + 8, x1[r]); }
    }
}

#define RK_LARGE_CASE(MR, NV, MASK) \
    case ((MR) * 2 + (NV) - 1) * 2 + (MASK): large_tile(MR, NV, MASK, nr, kc, a, lda, b, s, lds, c, ldc); break;
#define RK_LARGE_ROW(MR) RK_LARGE_CASE(MR, 1, 0) RK_LARGE_CASE(MR, 1, 1) RK_LARGE_CASE(MR, 2, 0) RK_LARGE_CASE(MR, 2, 1)

static RK_AVX2 void large_tile_any(int mr, int nr, long kc, const float *a, long lda, const float *b, const float *s,
                                   long lds, float *c, long ldc) {
    int nv = nr > 8 ? 2 : 1, masked = nr != 8 * nv;
    switch ((mr * 2 + nv - 1) * 2 + masked) {
        RK_LARGE_ROW(1) RK_LARGE_ROW(2) RK_LARGE_ROW(3) RK_LARGE_ROW(4) RK_LARGE_ROW(5) RK_LARGE_ROW(6)
        default: break;
    }
}

/// The epilogue of a finished tile, rows [MR, nr] (row stride ld) on whole 8-lane vectors (masked at
/// the edge: masked stores are slow on AMD, so only there), so a value never depends on its position.
/// Step (dnet_prev NULL): net = x + acc (acc in net), h = f(net) as step.c's micro_step. Backward:
/// d = acc (+ dout), dnet_prev = NLE_UQ(net_prev, 0) & d (acc in dnet_prev; a NaN net passes d) as
/// avx2_step.c's relu_dnet_tile.
RK_INLINE_AVX2 void large_vector(const int masked, __m256i m, const float *x, float *net, float *hout, int act,
                                 const float *dout, const float *net_prev, float *dnet_prev) {
#define LOAD(p) (masked ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p))
#define STORE(p, v) do { if (masked) _mm256_maskstore_ps(p, m, v); else _mm256_storeu_ps(p, v); } while (0)
    const __m256 zero = _mm256_setzero_ps();
    if (dnet_prev) {
        __m256 d = LOAD(dnet_prev);
        if (dout) d = _mm256_add_ps(d, LOAD(dout));
        STORE(dnet_prev, _mm256_and_ps(_mm256_cmp_ps(LOAD(net_prev), zero, _CMP_NLE_UQ), d));
        return;
    }
    __m256 nv = _mm256_add_ps(LOAD(x), LOAD(net));
    STORE(net, nv);
    // relu as max_ps(0, net): the second operand is returned for NaN (and for -0.0),
    // which is Activation.relu's `x < 0 ? 0 : x` exactly.
    if (act) STORE(hout, act == 1 ? _mm256_max_ps(zero, nv) : tanh8(nv));
#undef LOAD
#undef STORE
}

static RK_AVX2 void large_epilogue(int mr, int nr, long ld, const float *x, float *net, float *hout, int act,
                                   const float *dout, const float *net_prev, float *dnet_prev) {
    const __m256i all = _mm256_set1_epi32(-1);
    for (int r = 0; r < mr; r++)
        for (int v = 0; v < nr; v += 8) {
            const long o = r * ld + v;
            const float *xo = x ? x + o : NULL, *doo = dout ? dout + o : NULL, *npo = net_prev ? net_prev + o : NULL;
            float *no = net ? net + o : NULL, *ho = hout ? hout + o : NULL, *dpo = dnet_prev ? dnet_prev + o : NULL;
            if (nr - v >= 8) large_vector(0, all, xo, no, ho, act, doo, npo, dpo);
            else large_vector(1, lanes8(nr - v), xo, no, ho, act, doo, npo, dpo);
        }
}

/// The driver of both products: out [rows, n] (row stride ld) = start + a [rows, k] (row stride k)
/// x panels, kc blocks outer, 16-column panels, balanced row tiles (8 rows: 4 + 4); the partial sums
/// between blocks in this thread's scratch [rows, n] (in L2 at every step, where out is a new row
/// of a [T*B, H] stream), then after the last block large_epilogue on each tile while it is in L1.
static RK_AVX2 void large_product(long rows, long n, long k, const float *a, const float *panels, const float *bias,
                                  float *out, long ld, const float *x, float *hout, int act, const float *dout,
                                  const float *net_prev, float *dnet_prev) {
    long ni = (rows + 5) / 6;
    float *part = k > LARGE_KC ? rk_scratch_floats(rows * n) : NULL;   // [rows, n]
    if (k > LARGE_KC && !part) abort();
    for (long q0 = 0; q0 < k; q0 += LARGE_KC) {
        long kc = k - q0 < LARGE_KC ? k - q0 : LARGE_KC;
        int last = q0 + kc == k;
        for (long j = 0; j < n; j += 16) {
            int nr = (int)(n - j < 16 ? n - j : 16);
            const float *b = panels + j * k + q0 * 16;
            for (long ti = 0; ti < ni; ti++) {
                long i = rows * ti / ni, iEnd = rows * (ti + 1) / ni, o = i * ld + j;
                if (last && dnet_prev)   // net_prev and dout ([T*B, H] streams) arrive while the tile runs
                    for (long r = i; r < iEnd; r++) {
                        _mm_prefetch((const char *)(net_prev + r * ld + j), _MM_HINT_T0);
                        if (dout) _mm_prefetch((const char *)(dout + r * ld + j), _MM_HINT_T0);
                    }
                float *p = part ? part + i * n + j : NULL;
                large_tile_any((int)(iEnd - i), nr, kc, a + i * k + q0, k, b, q0 > 0 ? p : bias ? bias + j : NULL,
                               q0 > 0 ? n : 0, last ? out + o : p, last ? ld : n);
                if (last)
                    large_epilogue((int)(iEnd - i), nr, ld, x ? x + o : NULL, out + o, hout ? hout + o : NULL, act,
                                   dout ? dout + o : NULL, net_prev ? net_prev + o : NULL, dnet_prev ? out + o : NULL);
            }
        }
    }
}

void RK_AVX2 rk_avx2_large_step(long rows, long n, long k, const float *h_prev, const float *panels, const float *bias,
                                const float *x, float *net, float *h_new, long ld, int act) {
    large_product(rows, n, k, h_prev, panels, bias, net, ld, x, h_new, act, NULL, NULL, NULL);
}

void RK_AVX2 rk_avx2_large_relu_dnet(long rows, long n, long k, const float *dnet, const float *panels,
                                     const float *dout, const float *net_prev, float *dnet_prev) {
    large_product(rows, n, k, dnet, panels, NULL, dnet_prev, n, NULL, NULL, 0, dout, net_prev, dnet_prev);
}

#endif
