// Config g's IndRNN training passes (relu, H = 100, I = 1, T = 784, B = 16), the session 7
// pipeline against the session 8 one, interleaved in one process (old, new, old, ...; the
// order flips every repetition), on one thread, each under the AVX2 and the AVX-512 bodies:
//   old: preInput = b_ih (copy) + X W_ihᵀ (rk_sgemm), rk_indrnn_forward (stores u*h+b_hh, net,
//        h), rk_indrnn_backward, dW_ih (rk_sgemm TN), db_ih (rk_column_sums), du and db_hh
//        (rk_indrnn_weight_gradients): 7 passes over [T*B, H] buffers;
//   new: rk_indrnn_forward_projecting (net, h), rk_indrnn_backward, rk_indrnn_gradients.
// Both compute the same bits (checked here on every gradient and on h before timing). CPU times
// of this thread under load are indications, never results.
//   S=Sources/CRecurrentKernels
//   clang -O2 -fPIC -I$S/include $S/*.c benchmarks/kernels/indrnn_passes.c -o /tmp/indrnn_passes -lpthread -lm
//   /tmp/indrnn_passes [reps=200]      # then the new pipeline's three passes timed apart
#define _GNU_SOURCE 1
#include "CRecurrentKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <immintrin.h>

enum { B = 16, T = 784, H = 100, I = 1 };
static float *rnd(long n, long seed, float scale) {
    float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64);
    for (long i = 0; i < n; i++) p[i] = scale * (float)(((i + seed) * 7919 % 2001) - 1000) / 1000.0f;
    return p;
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

static float *x, *w, *bi, *u, *bh, *pre, *rec, *net, *hid, *dh, *dnet, *dw, *dbi, *du, *dbh;
static void zero_grads(void) { memset(dw, 0, H * I * 4); memset(dbi, 0, H * 4); memset(du, 0, H * 4); memset(dbh, 0, H * 4); }

static void old_pass(void) {
    const long rows = (long)T * B;
    for (long r = 0; r < rows; r++) memcpy(pre + r * H, bi, H * 4);
    rk_sgemm(0, 1, rows, H, I, x, I, w, I, pre, H, 1, 1);
    rk_indrnn_forward(T, B, 0, B, H, u, bh, pre, rec, net, hid);
    memset(dh, 0, B * H * 4);
    for (long i = 0; i < B * H; i++) dh[i] = 0.01f * (float)(i % 7);
    rk_indrnn_backward(T, B, 0, B, H, u, net, 0, dh, dnet);
    zero_grads();
    rk_sgemm(1, 0, H, I, rows, dnet, H, x, I, dw, I, 1, 1);
    rk_column_sums(dnet, rows, H, dbi, 1);
    rk_indrnn_weight_gradients(rows, H, dnet, hid, du, dbh);
}
static void new_pass(void) {
    const long rows = (long)T * B;
    rk_indrnn_forward_projecting(T, B, 0, B, H, I, x, w, bi, u, bh, net, hid);
    for (long i = 0; i < B * H; i++) dh[i] = 0.01f * (float)(i % 7);
    rk_indrnn_backward(T, B, 0, B, H, u, net, 0, dh, dnet);
    zero_grads();
    rk_indrnn_gradients(rows, H, 0, H, I, dnet, x, hid, dw, dbi, du, dbh);   // dW_ihᵀ = dW_ih at I = 1
}
static unsigned long hash(void) {
    unsigned long s = 1469598103934665603ul;
    float *parts[] = { dw, dbi, du, dbh, hid + (long)T * B * H, dh }; long n[] = { H * I, H, H, H, B * H, B * H };
    for (int k = 0; k < 6; k++) for (long i = 0; i < n[k]; i++) { unsigned v; memcpy(&v, parts[k] + i, 4); s = (s ^ v) * 1099511628211ul; }
    return s;
}

// MARK: - Prototype (not in the library): the gradients summed inside the backward loop

/// What idea 3 of session 8 would run: the backward pass accumulates dW_ih, db, du per batch
/// row (partials [B, H] each, so any split of the rows among threads gives the same bits)
/// while it walks t downwards, and stores no dnet (layer 0 needs no dL/dx); the partials are
/// then summed over rows in order. The sums run in another order than the products' (t
/// descending within a row, then rows), so the bits differ from the library's: timed only.
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
static void fused_backward_prototype(float *pdw, float *pdb, float *pdu) {
    memset(pdw, 0, B * H * 4); memset(pdb, 0, B * H * 4); memset(pdu, 0, B * H * 4);
    const __m512 zero = _mm512_setzero_ps();
    for (long t = T - 1; t >= 0; t--)
        for (long r = 0; r < B; r++) {
            const long o = (t * B + r) * H;
            const float *nt = net + o, *hp = hid + o; float *d_h = dh + r * H;
            const __m512 xv = _mm512_set1_ps(x[t * B + r]);
            for (long j = 0; j < H; j += 16) {
                const __mmask16 m = H - j >= 16 ? 0xFFFF : (__mmask16)((1u << (H - j)) - 1);
                __m512 g = _mm512_maskz_loadu_ps(m, d_h + j);
                __m512 d = _mm512_maskz_mov_ps(_mm512_mask_cmp_ps_mask(m, _mm512_maskz_loadu_ps(m, nt + j), zero, _CMP_NLE_UQ), g);
                _mm512_mask_storeu_ps(d_h + j, m, _mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, u + j)));
                float *a = pdw + r * H + j, *c = pdb + r * H + j, *e = pdu + r * H + j;
                _mm512_mask_storeu_ps(a, m, _mm512_fmadd_ps(d, xv, _mm512_maskz_loadu_ps(m, a)));
                _mm512_mask_storeu_ps(c, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, c), d));
                _mm512_mask_storeu_ps(e, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, e), _mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, hp + j))));
            }
        }
    for (long r = 0; r < B; r++)
        for (long j = 0; j < H; j++) { dw[j] += pdw[r * H + j]; dbi[j] += pdb[r * H + j]; dbh[j] += pdb[r * H + j]; du[j] += pdu[r * H + j]; }
}

/// The new pipeline's three passes timed apart (medians), under the best bodies.
static void phases(int reps) {
    const long rows = (long)T * B;
    double *tf = malloc(reps * sizeof(double)), *tb = malloc(reps * sizeof(double)), *tg = malloc(reps * sizeof(double));
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        rk_indrnn_forward_projecting(T, B, 0, B, H, I, x, w, bi, u, bh, net, hid);
        double t1 = now();
        rk_indrnn_backward(T, B, 0, B, H, u, net, 0, dh, dnet);
        double t2 = now();
        zero_grads();
        rk_indrnn_gradients(rows, H, 0, H, I, dnet, x, hid, dw, dbi, du, dbh);
        tf[r] = t1 - t0; tb[r] = t2 - t1; tg[r] = now() - t2;
    }
    qsort(tf, reps, sizeof(double), cmp); qsort(tb, reps, sizeof(double), cmp); qsort(tg, reps, sizeof(double), cmp);
    printf("new passes (medians): forward %.3f ms, backward %.3f ms, gradients %.3f ms\n",
           1e3 * tf[reps / 2], 1e3 * tb[reps / 2], 1e3 * tg[reps / 2]);
    if (rk_isa_available() < RK_ISA_AVX512) return;
    float *pdw = rnd(B * H, 16, 1), *pdb = rnd(B * H, 17, 1), *pdu = rnd(B * H, 18, 1);
    for (int r = 0; r < reps; r++) {            // interleaved: backward + gradients, then the prototype
        double t0 = now();
        rk_indrnn_backward(T, B, 0, B, H, u, net, 0, dh, dnet);
        zero_grads();
        rk_indrnn_gradients(rows, H, 0, H, I, dnet, x, hid, dw, dbi, du, dbh);
        double t1 = now();
        zero_grads();
        fused_backward_prototype(pdw, pdb, pdu);
        tb[r] = t1 - t0; tg[r] = now() - t1;
    }
    qsort(tb, reps, sizeof(double), cmp); qsort(tg, reps, sizeof(double), cmp);
    printf("backward + gradients %.3f ms, prototype fused backward %.3f ms (medians, interleaved): %.2fx\n",
           1e3 * tb[reps / 2], 1e3 * tg[reps / 2], tb[reps / 2] / tg[reps / 2]);
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 200;
    const long rows = (long)T * B;
    x = rnd(rows * I, 1, 1); w = rnd(H * I, 2, 1); bi = rnd(H, 3, 0.1f); u = rnd(H, 4, 1.0f); bh = rnd(H, 5, 0.1f);
    for (long j = 0; j < H; j++) u[j] = 0.5f + 0.5f * u[j] * u[j];          // in [0.5, 1]: no blow-up over 784 steps
    pre = rnd(rows * H, 6, 1); rec = rnd(rows * H, 7, 1); net = rnd(rows * H, 8, 1); hid = rnd((rows + B) * H, 9, 0.1f);
    dh = rnd(B * H, 10, 1); dnet = rnd(rows * H, 11, 1);
    dw = rnd(H * I, 12, 1); dbi = rnd(H, 13, 1); du = rnd(H, 14, 1); dbh = rnd(H, 15, 1);
    memset(hid, 0, B * H * 4);
    int sets[2] = { RK_ISA_AVX2, RK_ISA_AVX512 };
    for (int s = 0; s < 2; s++) {
        if (sets[s] > rk_isa_available()) continue;
        rk_set_isa(sets[s]);
        old_pass(); unsigned long ho = hash(); new_pass(); unsigned long hn = hash();
        if (ho != hn) { printf("isa %d: old and new differ (%016lx vs %016lx)\n", sets[s], ho, hn); return 1; }
        double *to = malloc(reps * sizeof(double)), *tn = malloc(reps * sizeof(double));
        for (int r = 0; r < reps; r++) {
            double t0, t1;
            if (r & 1) { t0 = now(); new_pass(); t1 = now(); tn[r] = t1 - t0; t0 = now(); old_pass(); to[r] = now() - t0; }
            else { t0 = now(); old_pass(); t1 = now(); to[r] = t1 - t0; t0 = now(); new_pass(); tn[r] = now() - t0; }
        }
        qsort(to, reps, sizeof(double), cmp); qsort(tn, reps, sizeof(double), cmp);
        printf("%s: same bits (%016lx); old median %.3f ms (min %.3f), new median %.3f ms (min %.3f), old/new %.2fx (min %.2fx)\n",
               sets[s] == RK_ISA_AVX512 ? "avx512" : "avx2", hn, 1e3 * to[reps / 2], 1e3 * to[0], 1e3 * tn[reps / 2], 1e3 * tn[0],
               to[reps / 2] / tn[reps / 2], to[0] / tn[0]);
        free(to); free(tn);
    }
    phases(reps);
    return 0;
}
