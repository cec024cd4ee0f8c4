// In-process A/B of the batch-1 row loop (rk_rnn_forward_row, seqrow.c) against an earlier
// version of the same file: calls alternate (before, after, before, ...) on the same operands so
// both see the same machine load, and the bits of every h_t and net_t are compared. On a busy
// machine the ratio of medians is an indication, not a timing; run it idle for numbers.
//   S=Sources/CRecurrentKernels
//   git show proj9:$S/seqrow.c > /tmp/seqrow_before.c
//   clang -O2 -fPIC -I$S/include -I$S -Drk_rnn_forward_row=rk_rnn_forward_row_before -c /tmp/seqrow_before.c -o /tmp/before.o
//   clang -O2 -fPIC -I$S/include $S/*.c /tmp/before.o benchmarks/kernels/seqrow_ab.c -o /tmp/seqrow_ab -lpthread -lm
//   /tmp/seqrow_ab H THREADS [ISA 1|2] [CALLS]      # e: 512 (panels), a: 100 (W_hhᵀ rows); T = 100
// Prints the median and minimum microseconds per call (T steps) of each, their ratio, and whether
// the bits agree.
#include "CRecurrentKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
int rk_rnn_forward_row_before(long steps, long n, long k, const float *wt, int packed, const float *bias,
                              const float *x, float *net, float *hidden, int activation, int threads);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static float *rnd(long n, unsigned seed) {
    float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64);
    for (long i = 0; i < n; i++) { seed = seed * 1103515245u + 12345u; p[i] = (float)((seed >> 9) % 2001 - 1000) / 1000.0f; }
    return p;
}
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
    long H = argc > 1 ? atol(argv[1]) : 512, T = 100;
    int threads = argc > 2 ? atoi(argv[2]) : 1, calls = argc > 4 ? atoi(argv[4]) : 2000;
    if (argc > 3) rk_set_isa(atoi(argv[3]));
    int packed = H > 256;
    float *w = rnd(H * H, 1), *wt = rnd(H * H, 1), *bias = rnd(H, 2), *x = rnd(T * H, 3);
    for (long i = 0; i < H * H; i++) w[i] *= 1.2f / (float)H, wt[i] = 0;
    for (long p = 0; p < H; p++) for (long j = 0; j < H; j++) wt[p * H + j] = w[j * H + p];   // W_hhᵀ
    float *pk = rnd(rk_packed_b_floats(H, H), 4); rk_pack_b(1, H, H, w, H, pk);
    const float *weight = packed ? pk : wt;
    float *hs[2] = {rnd((T + 1) * H, 5), rnd((T + 1) * H, 5)}, *net[2] = {rnd(T * H, 6), rnd(T * H, 6)};
    double *us[2] = {malloc(sizeof(double) * calls), malloc(sizeof(double) * calls)};
    for (int c = 0; c < calls; c++)
        for (int which = 0; which < 2; which++) {
            double t0 = now();
            int ran = which == 0 ? rk_rnn_forward_row_before(T, H, H, weight, packed, bias, x, net[0], hs[0], 1, threads)
                                 : rk_rnn_forward_row(T, H, H, weight, packed, bias, x, net[1], hs[1], 1, threads);
            us[which][c] = (now() - t0) * 1e6;
            if (!ran) { fprintf(stderr, "kernel %d declined\n", which); return 1; }
        }
    int same = !memcmp(hs[0], hs[1], (size_t)(T + 1) * H * 4) && !memcmp(net[0], net[1], (size_t)T * H * 4);
    qsort(us[0], calls, sizeof(double), cmp); qsort(us[1], calls, sizeof(double), cmp);
    printf("H %ld T %ld threads %d isa %d: before median %.1f us (min %.1f), after median %.1f us (min %.1f): "
           "after/before %.3f (min %.3f); bits %s\n", H, T, threads, rk_isa(), us[0][calls / 2], us[0][0], us[1][calls / 2],
           us[1][0], us[1][calls / 2] / us[0][calls / 2], us[1][0] / us[0][0], same ? "same" : "DIFFER");
    return !same;
}
