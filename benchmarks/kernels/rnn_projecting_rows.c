// The relu RNN's forward time loop for I > 8 (rk_rnn_forward_rows, step.c): the input projection
// of all T*B rows first (rk_input_projection, what BPTT ran for I > 8: "all steps") against the
// projection of each step's rows inside the loop (`inputs` given: W_ihᵀ packed once per call, then
// b_ih and rk_sgemm_packed_b per step). Every output (pre_input, gates, hidden) is compared bit for
// bit, for the whole batch and for two slices of rows; then thread CPU time, min over reps (robust
// to a loaded machine), old and new interleaved.
//   S=Sources/CRecurrentKernels
//   clang -O2 -fPIC -I$S -I$S/include $S/*.c benchmarks/kernels/rnn_projecting_rows.c -o /tmp/rnn_proj -lpthread -lm
//   /tmp/rnn_proj H B T I reps [mode]   # row-FMNIST: 128 64 28 28 200; e: 512 64 100 64 5
//   mode: both (default), or for callgrind one pass once: old, new, e.g.
//   valgrind --tool=callgrind --toggle-collect=pass_old --toggle-collect=pass_new /tmp/rnn_proj 128 64 28 28 1 new
#define _GNU_SOURCE 1
#include "internal.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static unsigned long long rng = 88172645463325252ULL;
static float uniform(float scale) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return scale * ((float)(rng >> 40) / (float)(1ULL << 24) * 2.0f - 1.0f);
}

typedef struct { long h, b, t, i; float *x, *wih, *bih, *wt, *bias, *pre, *gates, *hidden; } problem;

static problem make(long h, long b, long t, long i) {
    problem p = { h, b, t, i };
    p.x = malloc(sizeof(float) * t * b * i); p.wih = malloc(sizeof(float) * h * i); p.bih = malloc(sizeof(float) * h);
    p.wt = malloc(sizeof(float) * h * h); p.bias = malloc(sizeof(float) * h);
    p.pre = malloc(sizeof(float) * t * b * h); p.gates = malloc(sizeof(float) * t * b * h);
    p.hidden = malloc(sizeof(float) * (t + 1) * b * h);
    for (long q = 0; q < t * b * i; q++) p.x[q] = uniform(1.0f);
    p.x[0] = NAN; p.x[t * b * i - 1] = -0.0f;
    for (long q = 0; q < h * i; q++) p.wih[q] = uniform(0.3f);
    for (long q = 0; q < h; q++) { p.bih[q] = uniform(0.1f); p.bias[q] = uniform(0.1f); }
    for (long q = 0; q < h * h; q++) p.wt[q] = uniform(1.0f / (float)h) + (q % (h + 1) == 0 ? 1.0f : 0.0f);
    return p;
}

static void reset(problem *p) {
    memset(p->pre, 0x7f, sizeof(float) * p->t * p->b * p->h);
    memset(p->gates, 0x7f, sizeof(float) * p->t * p->b * p->h);
    for (long q = 0; q < p->b * p->h; q++) p->hidden[q] = 0.01f * (float)(q % 7);
}

__attribute__((noinline)) void pass_old(problem *p) {
    rk_input_projection(p->t * p->b, p->h, p->i, p->x, p->i, p->wih, p->bih, p->pre, 1);
    rk_rnn_forward_rows(p->t, p->b, 0, p->b, p->h, p->wt, 0, p->bias, 0, NULL, NULL, NULL, p->pre, p->gates, p->hidden, 1, 1);
}

__attribute__((noinline)) void pass_new(problem *p, long row0, long rows) {
    rk_rnn_forward_rows(p->t, p->b, row0, rows, p->h, p->wt, 0, p->bias, p->i, p->x, p->wih, p->bih, p->pre, p->gates,
                        p->hidden, 1, 1);
}

static int same(const char *what, const float *a, const float *b, long n) {
    if (memcmp(a, b, sizeof(float) * (size_t)n) == 0) return 1;
    for (long q = 0; q < n; q++)
        if (memcmp(a + q, b + q, sizeof(float)) != 0) { printf("DIFFER %s at %ld: %a vs %a\n", what, q, a[q], b[q]); break; }
    return 0;
}

int main(int argc, char **argv) {
    long h = argc > 1 ? atol(argv[1]) : 128, b = argc > 2 ? atol(argv[2]) : 64, t = argc > 3 ? atol(argv[3]) : 28;
    long i = argc > 4 ? atol(argv[4]) : 28, reps = argc > 5 ? atol(argv[5]) : 100;
    const char *mode = argc > 6 ? argv[6] : "both";
    problem o = make(h, b, t, i); rng = 88172645463325252ULL; problem n = make(h, b, t, i);
    if (!strcmp(mode, "old")) { reset(&o); pass_old(&o); return 0; }
    if (!strcmp(mode, "new")) { reset(&n); pass_new(&n, 0, b); return 0; }
    reset(&o); pass_old(&o);
    long rowsN = t * b * h, ok = 1;
    for (int sliced = 0; sliced < 2; sliced++) {
        reset(&n);
        if (sliced) { pass_new(&n, b / 2, b - b / 2); if (b / 2 > 0) pass_new(&n, 0, b / 2); } else pass_new(&n, 0, b);
        ok &= same("pre_input", o.pre, n.pre, rowsN) & same("gates", o.gates, n.gates, rowsN)
            & same("hidden", o.hidden, n.hidden, rowsN + b * h);
    }
    printf("H %ld B %ld T %ld I %ld: %s (avx2 %d, avx512 %d)\n", h, b, t, i, ok ? "same bits" : "DIFFERENT BITS",
           rk_uses_avx2(), rk_uses_avx512());
    if (strcmp(mode, "both")) return !ok;
    double bo = 1e9, bn = 1e9;
    for (long r = 0; r < reps; r++) {
        double s = cpu_seconds(); pass_old(&o); double e = cpu_seconds(); if (e - s < bo) bo = e - s;
        s = cpu_seconds(); pass_new(&n, 0, b); e = cpu_seconds(); if (e - s < bn) bn = e - s;
    }
    printf("min thread CPU over %ld reps: old %.1f us, new %.1f us, new/old %.3f\n", reps, 1e6 * bo, 1e6 * bn, bn / bo);
    return !ok;
}
