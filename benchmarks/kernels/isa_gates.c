// The LSTM and GRU gate kernels under the AVX2 and AVX-512 bodies (cells.c, avx512_gates.c):
// instructions per call counted by single-stepping under ptrace (as isa_products.c: valgrind
// cannot run AVX-512, and this KVM guest has no PMU), an in-process interleaved A/B timing
// (the same operands through each body, alternating; an indication only on a loaded machine),
// and a bit-for-bit comparison of the two bodies' outputs.
// Build with SwiftPM's release flags:
//   S=Sources/CRecurrentKernels
//   clang -O2 -fno-omit-frame-pointer -fPIC -I$S/include $S/*.c benchmarks/kernels/isa_gates.c \
//       -o /tmp/isa_gates -lpthread -lm
//   /tmp/isa_gates count lstm-c 1     # instructions of one call, 1 = avx2, 2 = avx512
//   /tmp/isa_gates ab lstm-c 201      # median and min ns per call of each, 201 alternations
//   /tmp/isa_gates same lstm-c        # the two bodies' outputs compared bit for bit
// Cases (one time step, forward with tanh(c_t) kept + backward reading it, unless "fwd"):
// lstm-c (B 16, H 100: config c; lstm-c-fwd its forward only, lstm-96 the same without a tail), lstm-row (B 64, H 128: row-FMNIST training), lstm-eval-fwd
// (B 500, H 128, forward only: the evaluation's batch), gru-f (B 16, H 100: config f).
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

typedef struct { const char *name; int kind; long rows, h; } case_t;   // kind 0 LSTM, 1 LSTM forward only, 2 GRU
static case_t cases[] = {
    {"lstm-c", 0, 16, 100}, {"lstm-c-fwd", 1, 16, 100}, {"lstm-row", 0, 64, 128}, {"lstm-eval-fwd", 1, 500, 128},
    {"gru-f", 2, 16, 100}, {"lstm-96", 0, 16, 96},
};
static case_t P;
static float *PRE, *G, *CP, *C, *HN, *TC, *DH, *DC0, *DC, *DP, *X, *HH;

static float *rnd(long n, int salt) {
    float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64);
    for (long i = 0; i < n; i++) p[i] = (float)(((i * 7919 + salt * 104729) % 2001) - 1000) / 250.0f;   // [-4, 4]
    return p;
}

static void setup(case_t c) {
    P = c;
    long n = c.rows * c.h, w = 4 * n;
    PRE = rnd(w, 1); G = rnd(w, 0); CP = rnd(n, 2); C = rnd(n, 0); HN = rnd(n, 0); TC = rnd(w, 0);
    DH = rnd(n, 3); DC0 = rnd(n, 4); DC = rnd(n, 0); DP = rnd(w, 0); X = rnd(w, 5); HH = rnd(w, 6);
}

static int refill = 1;   // 0 while counting: memcpy's `rep movsb` single-steps per chunk and would swamp the count

static void run(void) {
    long r = P.rows, h = P.h;
    switch (P.kind) {
    case 0: case 1:
        if (refill) memcpy(G, PRE, sizeof(float) * r * 4 * h);   // the forward overwrites the pre-activations
        rk_lstm_forward_keep(r, h, G, CP, C, HN, TC, 4 * h);
        if (P.kind == 1) break;
        if (refill) memcpy(DC, DC0, sizeof(float) * r * h);
        rk_lstm_backward_kept(r, h, G, CP, TC, 4 * h, DH, DC, DP);
        break;
    case 2:
        rk_gru_forward(r, h, X, HH, CP, G, HN);
        rk_gru_backward(r, h, HH, G, CP, DH, DP, TC, DC);   // d_hh into TC (compared by "same")
        break;
    }
}

static void stop_refill(void) { refill = 0; }
static long long count(int empty) { return single_step_count(run, stop_refill, empty); }

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }

/// Every output buffer of one call, concatenated (for the bit comparison).
static float *outputs(long *n) {
    long r = P.rows, h = P.h, w = 4 * r * h;
    *n = 3 * w + 3 * r * h;
    float *o = malloc(sizeof(float) * *n);
    memcpy(o, G, sizeof(float) * w); memcpy(o + w, TC, sizeof(float) * w); memcpy(o + 2 * w, DP, sizeof(float) * w);
    memcpy(o + 3 * w, C, sizeof(float) * r * h); memcpy(o + 3 * w + r * h, HN, sizeof(float) * r * h);
    memcpy(o + 3 * w + 2 * r * h, DC, sizeof(float) * r * h);
    return o;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: isa_gates count|ab|same CASE [ISA|REPS]\n"); return 2; }
    case_t *c = NULL;
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) if (!strcmp(cases[i].name, argv[2])) c = &cases[i];
    if (!c) { fprintf(stderr, "unknown case %s\n", argv[2]); return 2; }
    setup(*c);
    if (!strcmp(argv[1], "count")) {
        int isa = argc > 3 ? atoi(argv[3]) : 2;
        if (rk_set_isa(isa) < 0) { fprintf(stderr, "isa unavailable\n"); return 2; }
        long long full = count(0), empty = count(1);
        printf("%s isa=%s instructions=%lld (%ld unit-steps)\n", c->name, isa == 2 ? "avx512" : "avx2", full - empty, c->rows * c->h);
    } else if (!strcmp(argv[1], "same")) {
        long n;
        if (rk_set_isa(1) < 0 || (run(), 0)) return 2;
        float *a = outputs(&n);
        if (rk_set_isa(2) < 0) { fprintf(stderr, "no avx512\n"); return 2; }
        run();
        float *b = outputs(&n);
        long diff = 0;
        for (long i = 0; i < n; i++) diff += memcmp(a + i, b + i, 4) != 0;
        printf("%s: %ld of %ld output floats differ between avx2 and avx512\n", c->name, diff, n);
        return diff != 0;
    } else {
        int reps = argc > 3 ? atoi(argv[3]) : 201;
        double *t1 = malloc(sizeof(double) * reps), *t2 = malloc(sizeof(double) * reps);
        rk_set_isa(1); run(); rk_set_isa(2); run();
        for (int r = 0; r < reps; r++) {
            rk_set_isa(1); double s = now(); run(); t1[r] = now() - s;
            rk_set_isa(2); s = now(); run(); t2[r] = now() - s;
        }
        qsort(t1, reps, sizeof(double), cmp); qsort(t2, reps, sizeof(double), cmp);
        printf("%-13s B %3ld H %3ld  avx2 median %8.0f ns (min %8.0f)  avx512 median %8.0f ns (min %8.0f)  ratio median %.2f min %.2f\n",
               c->name, c->rows, c->h, t1[reps / 2], t1[0], t2[reps / 2], t2[0], t1[reps / 2] / t2[reps / 2], t1[0] / t2[0]);
    }
    return 0;
}
