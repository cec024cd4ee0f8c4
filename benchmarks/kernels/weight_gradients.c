// rk_weight_gradients (one TN product on [h | x | 1 1], AVX-512) against the four calls BPTT made
// before (dW_ih and dW_hh by rk_sgemm, db_ih and db_hh by rk_column_sums): bits on several shapes,
// thread counts and instruction sets, and an in-process interleaved A/B (indicative only); and the
// relu RNN's backward loop (rk_relu_rnn_backward_rows: relu' in the product's epilogue) against the
// per-step calls the unroller made (rk_relu_backward, then rk_sgemm), bits and A/B.
//   S=Sources/CRecurrentKernels
//   clang -O2 -fno-omit-frame-pointer -fPIC -I$S/include $S/*.c benchmarks/kernels/weight_gradients.c \
//       -o /tmp/weight_gradients -lpthread -lm
//   /tmp/weight_gradients check            # bit-for-bit, exit 1 on a difference
//   /tmp/weight_gradients ab 12544 100 1 41 [4]   # rows H nx reps [gates: m = G*H]: median and min us of each
//   With -DWITH_OPENBLAS (and NumPy's OpenBLAS, as vs_openblas.c links it), ab also times OpenBLAS's
//   sgemm on the same product, C [m, nh + nx + 2] += dnetᵀ [h | x | 1 1], B gathered beforehand (untimed).
//   /tmp/weight_gradients backward 784 16 100 41   # steps batch H reps: bits, then median and min us of each
//   /tmp/weight_gradients projection 12544 100 1 41   # rows n k reps: rk_input_projection against the bias
//                                                     # copied into every row, then rk_sgemm NT; bits, A/B
#define _GNU_SOURCE
#include "CRecurrentKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef WITH_OPENBLAS
#include "numpy_openblas.h"
#endif

static float *rnd(long n, unsigned seed) {
    float *p = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    for (long i = 0; i < n; i++) { seed = seed * 1664525u + 1013904223u; p[i] = (float)((int)(seed >> 9) % 20001 - 10000) / 7919.0f; }
    return p;
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec * 1e9 + t.tv_nsec; }

static int cmp(const void *p, const void *q) { double u = *(const double *)p, v = *(const double *)q; return (u > v) - (u < v); }

typedef struct { float *whh, *wih, *bhh, *bih; } grads_t;
static grads_t start(long m, long nh, long nx) {
    grads_t g = { rnd(m * nh, 11), rnd(m * nx, 12), rnd(m, 13), rnd(m, 14) };
    return g;
}
__attribute__((noinline)) static void separate(long rows, long m, const float *d, const float *h, long nh, const float *x, long nx, grads_t g, int threads) {
    if (nx > 0) rk_sgemm(1, 0, m, nx, rows, d, m, x, nx, g.wih, nx, 1, threads);
    rk_column_sums(d, rows, m, g.bih, 1);
    rk_sgemm(1, 0, m, nh, rows, d, m, h, nh, g.whh, nh, 1, threads);
    rk_column_sums(d, rows, m, g.bhh, 1);
}
__attribute__((noinline)) static void fused(long rows, long m, const float *d, const float *h, long nh, const float *x, long nx, grads_t g, int threads) {
    rk_weight_gradients(rows, m, d, h, nh, nh, x, nx, nx, g.whh, g.wih, g.bhh, g.bih, threads);
}
static int same(grads_t a, grads_t b, long m, long nh, long nx) {
    return !memcmp(a.whh, b.whh, 4 * m * nh) && !memcmp(a.wih, b.wih, 4 * m * nx) && !memcmp(a.bhh, b.bhh, 4 * m)
        && !memcmp(a.bih, b.bih, 4 * m);
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "check")) {
        long shapes[][3] = { {1, 1, 1}, {7, 3, 1}, {100, 16, 0}, {515, 17, 2}, {1600, 100, 1}, {600, 400, 1}, {257, 33, 28},
                             {12544, 100, 1}, {700, 64, 64}, {300, 15, 16}, {40, 128, 3} };
        int bad = 0, cases = 0;
        for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            long rows = shapes[s][0], h = shapes[s][1], nx = shapes[s][2];
            for (long gates = 1; gates <= 4; gates *= 4) {
                long m = gates * h;
                float *d = rnd(rows * m, 1), *hs = rnd(rows * h, 2), *x = rnd(rows * nx, 3);
                if (rows * m > 20) { d[5] = 0.0f / 0.0f; d[17] = -0.0f; hs[3] = 1.0f / 0.0f; }
                rk_set_isa(RK_ISA_GENERIC);
                grads_t want = start(m, h, nx);
                separate(rows, m, d, hs, h, x, nx, want, 1);
                for (int isa = RK_ISA_GENERIC; isa <= rk_isa_available(); isa++)
                    for (int threads = 1; threads <= 3; threads++) {
                        rk_set_isa(isa);
                        grads_t got = start(m, h, nx);
                        fused(rows, m, d, hs, h, x, nx, got, threads);
                        cases++;
                        if (!same(got, want, m, h, nx)) { bad++; printf("DIFF rows %ld m %ld nh %ld nx %ld isa %d threads %d\n", rows, m, h, nx, isa, threads); }
                        free(got.whh); free(got.wih); free(got.bhh); free(got.bih);
                    }
                free(want.whh); free(want.wih); free(want.bhh); free(want.bih); free(d); free(hs); free(x);
            }
        }
        printf("%d cases, %d differ\n", cases, bad);
        return bad != 0;
    }
    if (argc >= 6 && !strcmp(argv[1], "ab")) {
        long rows = atol(argv[2]), h = atol(argv[3]), nx = atol(argv[4]), reps = atol(argv[5]);
        long m = (argc >= 7 ? atol(argv[6]) : 1) * h;   // G gates: dnet [rows, G*H]
        float *d = rnd(rows * m, 1), *hs = rnd(rows * h, 2), *x = rnd(rows * nx, 3);
        grads_t a = start(m, h, nx), b = start(m, h, nx);
        double *ta = malloc(sizeof(double) * reps), *tb = malloc(sizeof(double) * reps);
        for (long r = 0; r < reps; r++) {
            double t0 = now(); separate(rows, m, d, hs, h, x, nx, a, 1);
            double t1 = now(); fused(rows, m, d, hs, h, x, nx, b, 1);
            double t2 = now(); ta[r] = t1 - t0; tb[r] = t2 - t1;
        }
#ifdef WITH_OPENBLAS
        long n = h + nx + 2;
        float *bg = malloc(sizeof(float) * (size_t)(rows * n)), *cg = rnd(m * n, 15);
        double *tc = malloc(sizeof(double) * reps);
        for (long r = 0; r < rows; r++) {
            memcpy(bg + r * n, hs + r * h, 4 * h); memcpy(bg + r * n + h, x + r * nx, 4 * nx);
            bg[r * n + h + nx] = 1; bg[r * n + h + nx + 1] = 1;
        }
        for (long r = 0; r < reps; r++) {
            double t0 = now();
            scipy_cblas_sgemm64_(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, rows, 1.0f, d, m, bg, n, 1.0f, cg, n);
            tc[r] = now() - t0;
        }
        qsort(tc, reps, sizeof(double), cmp);
        printf("OpenBLAS (%s) sgemm TN on the gathered B: median %.1f us (min %.1f)\n", scipy_openblas_get_corename64_(),
               tc[reps / 2] / 1e3, tc[0] / 1e3);
#endif
        qsort(ta, reps, sizeof(double), cmp); qsort(tb, reps, sizeof(double), cmp);
        printf("rows %ld m %ld nh %ld nx %ld: four calls median %.1f us (min %.1f), one pass median %.1f us (min %.1f): %.2fx (min %.2fx)\n",
               rows, m, h, nx, ta[reps / 2] / 1e3, ta[0] / 1e3, tb[reps / 2] / 1e3, tb[0] / 1e3, ta[reps / 2] / tb[reps / 2], ta[0] / tb[0]);
        return 0;
    }
    if (argc >= 6 && !strcmp(argv[1], "backward")) {
        long steps = atol(argv[2]), batch = atol(argv[3]), h = atol(argv[4]), reps = atol(argv[5]), n = steps * batch * h;
        float *w = rnd(h * h, 1), *net = rnd(n, 2), *dout = rnd(n, 3), *d0 = rnd(batch * h, 4);
        for (long i = 0; i < h * h; i++) w[i] *= 0.1f;
        float *dh[2] = { malloc(4 * batch * h), malloc(4 * batch * h) }, *dnet[2] = { malloc(4 * n), malloc(4 * n) };
        double *t[2] = { malloc(sizeof(double) * reps), malloc(sizeof(double) * reps) };
        for (long r = 0; r < reps; r++)
            for (int v = 0; v < 2; v++) {
                const float *out = r % 2 ? dout : NULL;   // with and without a loss on every step
                memcpy(dh[v], d0, 4 * batch * h);
                double t0 = now();
                if (v == 1) rk_relu_rnn_backward_rows(steps, 0, steps, batch, 0, batch, h, w, 0, net, out, dh[1], dnet[1], 1);
                else for (long s = steps - 1; s >= 0; s--) {   // the unroller's loop around RNNCell.backwardStep
                    if (out) for (long i = 0; i < batch * h; i++) dh[0][i] += out[s * batch * h + i];
                    rk_relu_backward(batch * h, net + s * batch * h, dh[0], dnet[0] + s * batch * h);
                    rk_sgemm(0, 0, batch, h, h, dnet[0] + s * batch * h, h, w, h, dh[0], h, 0, 1);
                }
                t[v][r] = now() - t0;
            }
        int equal = !memcmp(dh[0], dh[1], 4 * batch * h) && !memcmp(dnet[0], dnet[1], 4 * n);
        qsort(t[0], reps, sizeof(double), cmp); qsort(t[1], reps, sizeof(double), cmp);
        printf("T %ld B %ld H %ld (%s): per-step calls median %.1f us (min %.1f), one loop median %.1f us (min %.1f): %.2fx (min %.2fx)\n",
               steps, batch, h, equal ? "same bits" : "BITS DIFFER", t[0][reps / 2] / 1e3, t[0][0] / 1e3, t[1][reps / 2] / 1e3,
               t[1][0] / 1e3, t[0][reps / 2] / t[1][reps / 2], t[0][0] / t[1][0]);
        return !equal;
    }
    if (argc >= 6 && !strcmp(argv[1], "projection")) {
        long rows = atol(argv[2]), n = atol(argv[3]), k = atol(argv[4]), reps = atol(argv[5]);
        float *x = rnd(rows * k, 1), *w = rnd(n * k, 2), *bias = rnd(n, 3), *out[2] = { malloc(4 * rows * n), malloc(4 * rows * n) };
        double *t[2] = { malloc(sizeof(double) * reps), malloc(sizeof(double) * reps) };
        for (long r = 0; r < reps; r++)
            for (int v = 0; v < 2; v++) {
                double t0 = now();
                if (v == 1) rk_input_projection(rows, n, k, x, k, w, bias, out[1], 1);
                else {   // what BPTT's projectInputs did: the bias into every row, then the product onto it
                    for (long i = 0; i < rows; i++) memcpy(out[0] + i * n, bias, 4 * n);
                    rk_sgemm(0, 1, rows, n, k, x, k, w, k, out[0], n, 1, 1);
                }
                t[v][r] = now() - t0;
            }
        int equal = !memcmp(out[0], out[1], 4 * rows * n);
        qsort(t[0], reps, sizeof(double), cmp); qsort(t[1], reps, sizeof(double), cmp);
        printf("rows %ld n %ld k %ld (%s): bias copy + product median %.1f us (min %.1f), one pass median %.1f us (min %.1f): %.2fx (min %.2fx)\n",
               rows, n, k, equal ? "same bits" : "BITS DIFFER", t[0][reps / 2] / 1e3, t[0][0] / 1e3, t[1][reps / 2] / 1e3,
               t[1][0] / 1e3, t[0][reps / 2] / t[1][reps / 2], t[0][0] / t[1][0]);
        return !equal;
    }
    fprintf(stderr, "usage: %s check | ab ROWS H NX REPS [GATES] | backward STEPS BATCH H REPS | projection ROWS N K REPS\n", argv[0]);
    return 64;
}
