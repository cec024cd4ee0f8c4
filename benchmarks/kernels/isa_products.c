// The AVX2 and AVX-512 bodies on the products of configs a, b, e (and an LSTM H = 100 step):
// instructions per call counted by single-stepping under ptrace (valgrind 3.19 cannot run
// AVX-512, and this KVM guest has no PMU for perf), and an in-process interleaved A/B timing
// (the same operands through each body, alternating; indicative only on a loaded machine).
// Build with SwiftPM's release flags:
//   S=Sources/CRecurrentKernels
//   clang -O2 -fno-omit-frame-pointer -fPIC -I$S/include $S/*.c \
//       $S/avx512.c benchmarks/kernels/isa_products.c -o /tmp/isa_products -lpthread -lm
//   /tmp/isa_products count e-step 1      # instructions of one call, 1 = avx2, 2 = avx512
//   /tmp/isa_products ab e-step 41        # median and min ns per call of each, 41 alternations
//   /tmp/isa_products loop e-step 1 3     # 3 calls (for callgrind, AVX2 only)
// Products: a-step a-dh a-dW b-step b-dh b-dW e-step e-dh e-dW e-xproj lstm-step lstm-dh (dW with
// k cut to 1600 / 640; 1 thread).
#define _GNU_SOURCE
#include "CRecurrentKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include "single_step.h"
static float *rnd(long n) { float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64); for (long i = 0; i < n; i++) p[i] = (float)((i * 7919 % 2001) - 1000) / 20000.0f; return p; }
typedef struct { const char *name; int kind; long m, n, k; } prod_t;   // kind 0 step, 1 step packed, 2 NN, 3 TN, 4 packed-B, 5 NT
static prod_t prods[] = {
    {"a-step", 0, 16, 100, 100}, {"a-dh", 2, 16, 100, 100}, {"a-dW", 3, 100, 100, 1600},
    {"b-step", 0, 128, 100, 100}, {"b-dh", 2, 128, 100, 100}, {"b-dW", 3, 100, 100, 1600},
    {"e-step", 1, 64, 512, 512}, {"e-dh", 4, 64, 512, 512}, {"e-dW", 3, 512, 512, 640}, {"e-xproj", 5, 640, 512, 64},
    {"lstm-step", 0, 16, 400, 100}, {"lstm-dh", 2, 16, 100, 400},
};
static float *A, *B, *C, *PK, *X, *BI, *NET;
static prod_t P;
static void setup(prod_t p) {
    P = p;
    long big = (p.m > p.n ? p.m : p.n) * (p.k > p.n ? p.k : p.n) + p.m * p.k + 64;
    A = rnd(big); B = rnd(big); C = rnd(p.m * p.n + 64); X = rnd(p.m * p.n + 64); BI = rnd(p.n + 64); NET = rnd(p.m * p.n + 64);
    PK = rnd(rk_packed_b_floats(p.k, p.n) + 64); rk_pack_b(1, p.k, p.n, B, p.k, PK);
}
static void run(void) {
    prod_t p = P;
    switch (p.kind) {
    case 0: rk_recurrent_step(p.m, p.n, p.k, A, B, BI, X, NET, C, 1, 1); break;
    case 1: rk_recurrent_step_packed(p.m, p.n, p.k, A, PK, BI, X, NET, C, 1, 1); break;
    case 2: rk_sgemm(0, 0, p.m, p.n, p.k, A, p.k, B, p.n, C, p.n, 0, 1); break;
    case 3: rk_sgemm(1, 0, p.m, p.n, p.k, A, p.m, B, p.n, C, p.n, 0, 1); break;
    case 4: rk_sgemm_packed_b(p.m, p.n, p.k, A, p.k, PK, C, p.n, 0, 1); break;
    case 5: rk_sgemm(0, 1, p.m, p.n, p.k, A, p.k, B, p.k, C, p.n, 0, 1); break;
    }
}
static long long count(int empty) { return single_step_count(run, NULL, empty); }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
    prod_t *p = NULL;
    for (unsigned i = 0; i < sizeof prods / sizeof *prods; i++) if (!strcmp(prods[i].name, argv[2])) p = &prods[i];
    if (!p) { fprintf(stderr, "unknown product\n"); return 2; }
    setup(*p);
    if (!strcmp(argv[1], "loop")) {   // for callgrind: run N calls under ISA
        if (rk_set_isa(atoi(argv[3])) < 0) { fprintf(stderr, "isa unavailable\n"); return 2; }
        for (int r = 0; r < atoi(argv[4]); r++) run();
        return 0;
    }
    if (!strcmp(argv[1], "count")) {
        if (rk_set_isa(atoi(argv[3])) < 0) { fprintf(stderr, "isa unavailable\n"); return 2; }
        long long full = count(0), empty = count(1);
        printf("%s isa=%s instructions=%lld (macs %ld)\n", p->name, atoi(argv[3]) == 2 ? "avx512" : "avx2", full - empty, p->m * p->n * p->k);
    } else {
        int reps = atoi(argv[3]);
        double *t1 = malloc(sizeof(double) * reps), *t2 = malloc(sizeof(double) * reps);
        rk_set_isa(1); run(); rk_set_isa(2); run();
        for (int r = 0; r < reps; r++) {
            rk_set_isa(1); double s = now(); run(); t1[r] = now() - s;
            rk_set_isa(2); s = now(); run(); t2[r] = now() - s;
        }
        qsort(t1, reps, sizeof(double), cmp); qsort(t2, reps, sizeof(double), cmp);
        double macs = (double)p->m * p->n * p->k;
        printf("%-9s %4ldx%4ldx%5ld  avx2 median %9.0f ns (min %9.0f)  avx512 median %9.0f ns (min %9.0f)  ratio median %.2f min %.2f  avx512 %.1f GFLOP/s (min)\n",
               p->name, p->m, p->n, p->k, t1[reps / 2], t1[0], t2[reps / 2], t2[0], t1[reps / 2] / t2[reps / 2], t1[0] / t2[0], 2 * macs / t2[0]);
    }
    return 0;
}
