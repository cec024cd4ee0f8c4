// Config g's IndRNN training passes (relu, H = 100, I = 1, T = 784, B = 16), the session 7
// pipeline against the session 8 one, interleaved in one process (old, new, old, ...; the
// order flips every repetition), on one thread, each under the AVX2 and the AVX-512 bodies:
//   old: preInput = b_ih (copy) + X W_ihᵀ (rk_sgemm), rk_indrnn_forward (stores u*h+b_hh, net,
//        h), rk_indrnn_backward, dW_ih (rk_sgemm TN), db_ih (rk_column_sums), du and db_hh
//        (rk_indrnn_weight_gradients): 7 passes over [T*B, H] buffers;
//   new: rk_indrnn_forward_projecting (net, h), rk_indrnn_backward, rk_indrnn_gradients;
//   summed: rk_indrnn_forward_projecting, rk_indrnn_backward_sum (no dnet), rk_indrnn_sum_partials
//        (the library's path since the second session 8 commit; other bits: another order of the sums).
// old and new compute the same bits (checked here on every gradient and on h before timing). CPU times
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

/// The session 8 pipeline with the gradients summed in the backward loop (rk_indrnn_backward_sum,
/// no dnet stored: layer 0 needs no dL/dx): other bits than old/new (another order of the sums).
static float *partials;
static void summed_pass(void) {
    rk_indrnn_forward_projecting(T, B, 0, B, H, I, x, w, bi, u, bh, net, hid);
    for (long i = 0; i < B * H; i++) dh[i] = 0.01f * (float)(i % 7);
    memset(partials, 0, B * (I + 2) * H * 4);
    rk_indrnn_backward_sum(T, B, 0, B, H, I, u, net, 0, x, hid, dh, 0, partials);
    zero_grads();
    rk_indrnn_sum_partials(B, H, I, partials, dw, dbi, du, dbh);
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
    free(tf); free(tb); free(tg);
}

/// old, new and summed interleaved (the order rotates every repetition) under the best bodies.
static void three_way(int reps) {
    double *t3[3]; for (int k = 0; k < 3; k++) t3[k] = malloc(reps * sizeof(double));
    void (*fn[3])(void) = { old_pass, new_pass, summed_pass };
    for (int r = 0; r < reps; r++)
        for (int k0 = 0; k0 < 3; k0++) { int k = (k0 + r) % 3; double t0 = now(); fn[k](); t3[k][r] = now() - t0; }
    for (int k = 0; k < 3; k++) qsort(t3[k], reps, sizeof(double), cmp);
    printf("three-way (medians): old %.3f ms, new %.3f ms, summed %.3f ms; old/summed %.2fx, new/summed %.2fx\n",
           1e3 * t3[0][reps / 2], 1e3 * t3[1][reps / 2], 1e3 * t3[2][reps / 2],
           t3[0][reps / 2] / t3[2][reps / 2], t3[1][reps / 2] / t3[2][reps / 2]);
    for (int k = 0; k < 3; k++) free(t3[k]);
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
    partials = rnd(B * (I + 2) * H, 19, 1);
    new_pass(); float ref = du[7]; summed_pass();
    printf("summed: du[7] %.9g against the products' %.9g (another order of the same sum)\n", du[7], ref);
    three_way(reps);
    return 0;
}
