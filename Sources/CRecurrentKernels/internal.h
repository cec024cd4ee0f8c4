// Shared by the kernel files (not part of the public header): the platform macros, the
// thread pool's entry point, and the inline AVX2 helpers that GEMM, the recurrent step and the
// cells' fused kernels share (edge masks, the fma chain of a tile, e^x, sigmoid, tanh).
#ifndef CRECURRENT_KERNELS_INTERNAL_H
#define CRECURRENT_KERNELS_INTERNAL_H
#define _GNU_SOURCE 1
#include "CRecurrentKernels.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RK_X86 1
#define RK_AVX2 __attribute__((target("avx2,fma")))
#define RK_INLINE_AVX2 static inline __attribute__((always_inline, target("avx2,fma")))
#define RK_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#define RK_INLINE_AVX512 static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#endif

// MARK: - Floating-point mode (denormal handling)

/// The calling thread's denormal-control bits: x86 MXCSR FTZ (bit 15) | DAZ (bit 6);
/// AArch64 FPCR.FZ (bit 24). RK_FP_FLUSH is both set; 0 is IEEE gradual underflow.
#if defined(RK_X86)
enum { RK_FP_FLUSH = 0x8040 };
static inline unsigned rk_fp_mode_get(void) { return _mm_getcsr() & RK_FP_FLUSH; }
static inline void rk_fp_mode_set(unsigned mode) {
    unsigned csr = _mm_getcsr();
    if ((csr & RK_FP_FLUSH) != mode) _mm_setcsr((csr & ~(unsigned)RK_FP_FLUSH) | mode);
}
#elif defined(__aarch64__)
enum { RK_FP_FLUSH = 1u << 24 };
static inline unsigned rk_fp_mode_get(void) {
    unsigned long fpcr; __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr)); return (unsigned)fpcr & RK_FP_FLUSH;
}
static inline void rk_fp_mode_set(unsigned mode) {
    unsigned long fpcr; __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    if (((unsigned)fpcr & RK_FP_FLUSH) != mode) {
        fpcr = (fpcr & ~(unsigned long)RK_FP_FLUSH) | mode;
        __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
    }
}
#else
enum { RK_FP_FLUSH = 1 };
static inline unsigned rk_fp_mode_get(void) { return 0; }
static inline void rk_fp_mode_set(unsigned mode) { (void)mode; }
#endif

// MARK: - Thread pool (pool.c)

/// The calling thread's own instruction-set choice (-1: the process's), and adopting one: the
/// pool hands the caller's to every thread that runs a piece of its job (system.c).
__attribute__((visibility("hidden"))) int rk_isa_of_thread(void);
__attribute__((visibility("hidden"))) void rk_isa_adopt(int chosen);

typedef void (*task_fn)(void *ctx, int part, int parts);

/// Runs fn(ctx, part, parts) for every part, on the caller and up to parts - 1
/// workers. Runs everything on the caller when another thread holds the pool.
__attribute__((visibility("hidden"))) void rk_parallel_run(task_fn fn, void *ctx, int parts);

/// The calling thread's packing buffer (gemm.c), at least `count` floats, 64-byte aligned, or NULL
/// when the allocation fails; grown, never shrunk, and reused by every product the thread runs
/// (one at a time: a product's packing is finished with before the next product starts).
__attribute__((visibility("hidden"))) float *rk_scratch_floats(long count);

// MARK: - AVX-512 bodies (avx512.c), called when rk_uses_avx512()

#ifdef RK_X86
/// C = op(A) op(B) (+ C when accumulate) for C [m, n]: op(A)(i, q) = a[i*ra + q*ca],
/// op(B)(q, j) = b[q*rb + j*cb], C(i, j) = c[i*rc + j*cc]; `pack` copies op(B) (and op(A)
/// when ca != 1) into panels first. Each element is rk_sgemm's chain: the same bits.
__attribute__((visibility("hidden"))) void rk_avx512_gemm(long m, long n, long k, const float *a, long ra, long ca,
    const float *b, long rb, long cb, float *c, long rc, long cc, int accumulate, int pack);
/// rk_sgemm_packed_b's columns 0 ..< n of C, from the panels of rk_pack_b that start at `panels`.
__attribute__((visibility("hidden"))) void rk_avx512_gemm_packed_b(long m, long n, long k, const float *a, long lda,
    const float *panels, float *c, long ldc, int accumulate);
/// rk_weight_gradients' product for the columns j0 ..< j1 (j0 a multiple of 16) of
/// C [m, nh + nx + 2] += dnetᵀ [h | x | 1 1] (C's row stride ldc).
__attribute__((visibility("hidden"))) void rk_avx512_weight_gradients(long m, long k, const float *dnet, long ldd,
    const float *h, long nh, long ldh, const float *x, long nx, long ldx, long j0, long j1, float *c, long ldc);
/// The same at 256 bits (avx2_gradients.c: 6 x 16 tiles), for rk_uses_avx2() without AVX-512.
__attribute__((visibility("hidden"))) void rk_avx2_weight_gradients(long m, long k, const float *dnet, long ldd,
    const float *h, long nh, long ldh, const float *x, long nx, long ldx, long j0, long j1, float *c, long ldc);
/// The relu RNN's backward step with relu' in the product's epilogue (k <= 256):
/// dnet_prev = net_prev <= 0 ? 0 : dnet W (+ dout) [rows, n], dout may be NULL. W is [k, n] with
/// row stride ldw, or (ldw = 0) the panels of rk_pack_b(0, k, n, W, ...): the same bits.
__attribute__((visibility("hidden"))) void rk_avx512_relu_dnet(long rows, long n, long k, const float *dnet,
    const float *w, long ldw, const float *dout, const float *net_prev, float *dnet_prev);
/// rk_input_projection in two parts, for a caller that projects many row blocks with one W_ih:
/// W_ihᵀ [k, n] where the one-pass AVX-512 or AVX2 body applies (malloc'd: free it), else NULL; then
/// the rows with it (wt NULL: the portable product from w [n, k]). The bits of rk_input_projection.
__attribute__((visibility("hidden"))) float *rk_input_projection_weight(long n, long k, const float *w);
__attribute__((visibility("hidden"))) void rk_input_projection_rows(long rows, long n, long k, const float *x, long ldx,
    const float *w, const float *wt, const float *bias, float *out, int threads);
/// rk_input_projection for k <= 8 (avx512_elementwise.c): out = bias + x wt, wt = W_ihᵀ [k, n].
__attribute__((visibility("hidden"))) void rk_avx512_input_projection(long rows, long n, long k, const float *x, long ldx,
    const float *wt, const float *bias, float *out);
/// The same at 8 lanes (avx2_elementwise.c), for rk_uses_avx2() without AVX-512: the same bits.
__attribute__((visibility("hidden"))) void rk_avx2_input_projection(long rows, long n, long k, const float *x, long ldx,
    const float *wt, const float *bias, float *out);
/// rk_recurrent_step(_packed)'s columns 0 ..< n (row stride ld): wt points at column 0 of
/// W_hhᵀ [k, ld] (packed = 0) or at its first panel [k][16] (packed = 1).
__attribute__((visibility("hidden"))) void rk_avx512_step(long rows, long n, long k, const float *h_prev,
    const float *wt, int packed, const float *bias, const float *x, float *net, float *h_new, long ld, int act);

/// gemm.c's AVX2 tile (mr <= 6, nr <= 16) with A's rows read in place, for the fused kernels:
/// c [mr, nr] (row stride rc) = (loadC ? c : 0) + a [mr, kc] (rows ra apart) b [kc, nr] (rows rb apart).
__attribute__((visibility("hidden"))) void rk_avx2_tile_rows(int mr, int nr, long kc, const float *a, long ra,
    const float *b, long rb, float *c, long rc, int loadC);

// MARK: - AVX2 body of the relu backward product (avx2_step.c), rk_uses_avx2()

/// rk_avx512_relu_dnet at 8 lanes in 6x16 tiles, any k: the same arguments, the same bits.
__attribute__((visibility("hidden"))) void rk_avx2_relu_dnet(long rows, long n, long k, const float *dnet,
    const float *w, long ldw, const float *dout, const float *net_prev, float *dnet_prev);
/// Its tile (mr <= 6, nr <= 16) over one k block, for it and avx2_large.c's k blocks: c [mr, nr] =
/// (first ? 0 : c) + a [mr, kc] (rows lda apart) b [kc, nr] (rows rb apart); in the last block then
/// d = c (+ dout) and c = relu'(net) ⊙ d (NLE_UQ(net, 0): a NaN net passes d). c, dout, net: rows ld apart.
__attribute__((visibility("hidden"))) void rk_avx2_relu_dnet_tile(int mr, int nr, long kc, const float *a, long lda,
    const float *b, long rb, int first, int last, const float *dout, const float *net, float *c, long ld);

// MARK: - AVX2 body of the large layers' recurrent step (avx2_large.c), k > 256, W_hhᵀ as panels

/// step.c's step_avx2 on panels in another loop order (columns 0 ..< n, row stride ld, panels at
/// column 0's; net is written before x is read: x must not be net): the same bits. With x NULL, x =
/// b_ih + u W_ihᵀ is formed in the epilogue (u [rows, ku]; wih: rk_pack_b(1, ku, n, W_ih, ku, ·)'s
/// panels at column 0's; bih [n]), rk_sgemm_packed_b's chain from C = b_ih: the same bits.
__attribute__((visibility("hidden"))) void rk_avx2_large_step(long rows, long n, long k, const float *h_prev,
    const float *panels, const float *bias, const float *x, const float *u, long ku, const float *wih,
    const float *bih, float *net, float *h_new, long ld, int act);
/// One tile of a product from a bias (mr <= 6, nr <= 16): c [mr, nr] (row stride ldc) = bias [nr] +
/// a [mr, kc] (rows lda apart) b, b one of rk_pack_b's panels [kc][16]; each value starts at the bias
/// and takes fma over q = 0 ..< kc in order, rk_sgemm_packed_b's chain from C = bias.
__attribute__((visibility("hidden"))) void rk_avx2_bias_tile(int mr, int nr, long kc, const float *a, long lda,
    const float *b, const float *bias, float *c, long ldc);
/// rk_avx2_relu_dnet for W_hh as panels (ldw = 0) in rk_sgemm_packed_b's k blocks, for k > 256
/// (dnet_prev holds the partial sums between k blocks: it must not be dnet; net_prev may be h_prev =
/// max(0, net_prev), the same selection): the same bits.
__attribute__((visibility("hidden"))) void rk_avx2_large_relu_dnet(long rows, long n, long k, const float *dnet,
    const float *panels, const float *dout, const float *net_prev, float *dnet_prev);

// The gate kernels' 16-lane bodies (avx512_gates.c): one row's units 0 ..< 16*floor(h/16),
// each with the operations of the AVX2 body in cells.c lane for lane (exp16, tanh16,
// sigmoid16 above), so the same bits; they return where they stopped, and cells.c runs the
// rest of the row as before (one 8-lane step where h % 16 >= 8, then the masked 8-lane tail), so
// every unit goes through the same operations as on AVX2.
/// LSTM forward, one row: g [4h] pre-activations in, activated gates out; cp, c, hn [h]; tc [h] or NULL.
__attribute__((visibility("hidden"))) long rk_avx512_lstm_forward_row(long h, float *g, const float *cp, float *c,
    float *hn, float *tc);
/// LSTM backward, one row: tanh(c_t) from tc, or recomputed from c when tc is NULL.
__attribute__((visibility("hidden"))) long rk_avx512_lstm_backward_row(long h, const float *g, const float *cp,
    const float *c, const float *tc, const float *dh, float *dc, float *dp);
/// GRU forward, one row (rk_gru_forward's x, hh [3h], h_prev [h] in; gates [3h], h_new [h] out).
__attribute__((visibility("hidden"))) long rk_avx512_gru_forward_row(long h, const float *x, const float *hh,
    const float *hp, float *g, float *hn);
/// GRU backward, one row (rk_gru_backward's arguments).
__attribute__((visibility("hidden"))) long rk_avx512_gru_backward_row(long h, const float *hh, const float *g,
    const float *hp, const float *dh, float *din, float *dhh, float *direct);
#endif

// MARK: - Shared AVX2 + FMA helpers

#ifdef RK_X86
/// The first n of 8 lanes (n <= 0: none, n >= 8: all), as a maskload/maskstore mask.
RK_INLINE_AVX2 __m256i lanes8(long n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }

/// The first w of 16 lanes (w >= 16: all).
RK_INLINE_AVX512 __mmask16 lanes16(long w) { return w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1); }

/// Lane masks for a tile edge of nr < 16 columns: m0 for columns 0-7, m1 for 8-15.
RK_INLINE_AVX2 void edge_masks(int nr, __m256i *m0, __m256i *m1) {
    *m0 = lanes8(nr);
    *m1 = lanes8(nr - 8);
}

/// One k step of a tile: acc[r] += op(A)(r, q) op(B)(q, 0 ..< 8*NV), where op(A)(r, q) is
/// ar[r][off] and op(B)(q, ·) starts at bq: 1-2 loads of B, MR broadcasts, MR*NV fmas.
RK_INLINE_AVX2 void fma_k(const int MR, const int NV, const int masked, __m256i m0, __m256i m1,
                          const float *const *ar, long off, const float *bq, __m256 *x0, __m256 *x1) {
    // A masked 16-wide tile has nr > 8: its first 8 columns load whole (m0 is all ones), which
    // frees a register (12 accumulators, 2 of B, a broadcast and m1: all 16 ymm).
    __m256 b0v = masked && NV == 1 ? _mm256_maskload_ps(bq, m0) : _mm256_loadu_ps(bq);
    __m256 b1v = _mm256_setzero_ps();
    if (NV == 2) b1v = masked ? _mm256_maskload_ps(bq + 8, m1) : _mm256_loadu_ps(bq + 8);
    for (int r = 0; r < MR; r++) {
        __m256 av = _mm256_broadcast_ss(ar[r] + off);
        x0[r] = _mm256_fmadd_ps(av, b0v, x0[r]);
        if (NV == 2) x1[r] = _mm256_fmadd_ps(av, b1v, x1[r]);
    }
}

/// The product loop of a tile: acc[r] += op(A)(r, q) op(B)(q, 0 ..< 8*NV) for q < kc, one
/// fma per q in order (the chain every kernel here shares). CA is op(A)'s stride along k when
/// it is known at compile time, else 0 (the strides ra, ca, rb as given): 1 for rows of A read
/// in place (row stride ra), 6 for packed panels of both operands (A [kc][6]: ra = 1, ca = 6;
/// B [kc][16]: rb = 16; the arguments ra, ca and rb are then not read). k is unrolled by 4: with CA known, the 4 steps' broadcasts address
/// base + offset + constant, so the loop costs 2 adds, a compare and a branch per 4 steps
/// (about 84 instructions per 48 fmas for a 6x16 tile, against 24 per 12 unrolled by 1). The
/// unrolling only interleaves independent accumulators: each chain keeps its order over q.
RK_INLINE_AVX2 void fma_tile(const int MR, const int NV, const int masked, const int CA, __m256i m0, __m256i m1,
                             long kc, const float *a, long ra, long ca, const float *b, long rb,
                             __m256 *x0, __m256 *x1) {
    // One pointer per row and one running offset along k: each broadcast is base + offset
    // (+ a constant), with no per-row address arithmetic in the loop.
    if (CA == 6) { ra = 1; rb = 16; }
    const float *ar[6];
    for (int r = 0; r < MR; r++) {
        ar[r] = a + r * ra;
        if (CA != 6) __asm__("" : "+r"(ar[r]));   // opaque: the compiler would fold them back into a + r*ra
    }
    const long cs = CA ? CA : ca;
    const float *bq = b, *bq2 = b + 2 * rb;   // B rows q and q + 2: 4 rows from 2 pointers and rb
    long off = 0, q4 = kc >> 2;
    for (; q4 > 0; q4--, bq += 4 * rb, bq2 += 4 * rb, off += 4 * cs) {
        fma_k(MR, NV, masked, m0, m1, ar, off, bq, x0, x1);
        fma_k(MR, NV, masked, m0, m1, ar, off + cs, bq + rb, x0, x1);
        fma_k(MR, NV, masked, m0, m1, ar, off + 2 * cs, bq2, x0, x1);
        fma_k(MR, NV, masked, m0, m1, ar, off + 3 * cs, bq2 + rb, x0, x1);
    }
    for (long q = kc & ~3L; q < kc; q++, bq += rb, off += cs) fma_k(MR, NV, masked, m0, m1, ar, off, bq, x0, x1);
}

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
#endif

// MARK: - Shared AVX-512 helpers (avx512.c's step epilogue, avx512_gates.c)

#ifdef RK_X86
/// exp8 at 512 bits: the same operations lane for lane.
RK_INLINE_AVX512 __m512 exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_set1_ps(88.3f), _mm512_max_ps(_mm512_set1_ps(-87.3f), x));
    __m512 fx = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), x);
    x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(-2.12194440e-4f), x);
    __m512 y = _mm512_set1_ps(1.9875691500E-4f);
    y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.3981999507E-3f));
    y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(8.3334519073E-3f));
    y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(4.1665795894E-2f));
    y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(1.6666665459E-1f));
    y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(5.0000001201E-1f));
    y = _mm512_fmadd_ps(y, _mm512_mul_ps(x, x), _mm512_add_ps(x, _mm512_set1_ps(1.0f)));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(fx), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(y, _mm512_castsi512_ps(e));
}

/// tanh8 at 512 bits: the same operations lane for lane.
RK_INLINE_AVX512 __m512 tanh16(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f), signBit = _mm512_set1_ps(-0.0f);
    __m512 ax = _mm512_andnot_ps(signBit, x);
    __m512 e = exp16(_mm512_mul_ps(ax, _mm512_set1_ps(-2.0f)));
    __m512 big = _mm512_div_ps(_mm512_sub_ps(one, e), _mm512_add_ps(one, e));
    big = _mm512_or_ps(big, _mm512_and_ps(signBit, x));
    __m512 z = _mm512_mul_ps(x, x);
    __m512 y = _mm512_set1_ps(-5.70498872745E-3f);
    y = _mm512_fmadd_ps(y, z, _mm512_set1_ps(2.06390887954E-2f));
    y = _mm512_fmadd_ps(y, z, _mm512_set1_ps(-5.37397155531E-2f));
    y = _mm512_fmadd_ps(y, z, _mm512_set1_ps(1.33314422036E-1f));
    y = _mm512_fmadd_ps(y, z, _mm512_set1_ps(-3.33332819422E-1f));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(y, z), x, x);
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ), big, small);
}

/// sigmoid8 at 512 bits: the same operations lane for lane.
RK_INLINE_AVX512 __m512 sigmoid16(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f);
    return _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}
#endif
#endif
