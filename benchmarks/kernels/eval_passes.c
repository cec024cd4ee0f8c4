// The evaluation of rowfmnist-irnn (relu RNN, H = 128, I = 28, T = 28) as `RecurrentCell.forwardOnly`
// runs one pass of R rows, without Swift: per window of C steps (C from the 1 MiB window of
// `ForwardOnlyTrace.chunkSteps`, or given) the input projection of its C*R rows (rk_input_projection),
// the relu RNN over its C steps (rk_rnn_forward_rows, W_hhᵀ in place), then h of its last step
// moved to the window's step 0. A batch of 500 rows (the evaluation batch) runs as passes of R
// rows. Prints, per R, the FNV hash of every row's h_T in batch order (equal hashes: rows per pass
// do not change the bits), the thread CPU time of the fastest of `reps` batches, and GFLOP/s of
// the recurrent product alone (2 R T H² a pass) and of both products (+ 2 R T H I).
//   S=Sources/CRecurrentKernels
//   clang -O2 -fno-omit-frame-pointer -fPIC -I$S/include $S/*.c benchmarks/kernels/eval_passes.c \
//       -o /tmp/eval_passes -lpthread -lm
//   /tmp/eval_passes 30                  # every R of the list below, 30 batches each, C from the window
//   /tmp/eval_passes 30 250 28           # R = 250 only, C = 28 (the whole sequence in one window)
//   valgrind --tool=callgrind /tmp/eval_passes 1 250   # instructions of one batch at R = 250
#define _GNU_SOURCE 1
#include "CRecurrentKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { H = 128, I = 28, T = 28, B = 500 };
static float *rnd(long n, int seed, float scale) {
    float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64);
    for (long i = 0; i < n; i++) p[i] = scale * (float)(((i + seed) * 7919 % 2001) - 1000) / 1000.0f;
    return p;
}
static unsigned long long fnv(unsigned long long h, const float *p, long n) {
    const unsigned char *b = (const unsigned char *)p;
    for (long i = 0; i < 4 * n; i++) { h ^= b[i]; h *= 1099511628211ULL; }
    return h;
}
static double cpu(void) { struct timespec ts; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }

// One batch of B rows as passes of R rows, windows of C steps; h_T of row b into last[b].
__attribute__((noinline)) static void batch(long R, long C, const float *x, const float *w_ih, const float *b_ih, const float *wt, const float *b_hh,
                  float *pre, float *gates, float *hidden, float *last) {
    for (long r0 = 0; r0 < B; r0 += R) {
        long r = B - r0 < R ? B - r0 : R;
        const float *xp = x + r0 * T * I;                  // the pass's inputs, time-major [T*r, I]
        memset(hidden, 0, r * H * 4);                      // h_0 = 0
        for (long t0 = 0; t0 < T; t0 += C) {
            long n = T - t0 < C ? T - t0 : C;
            rk_input_projection(n * r, H, I, xp + t0 * r * I, I, w_ih, b_ih, pre, 1);
            rk_rnn_forward_rows(n, r, 0, r, H, wt, 0, b_hh, 0, NULL, NULL, NULL, pre, gates, hidden, 1, 1);
            memmove(hidden, hidden + n * r * H, r * H * 4);
        }
        memcpy(last + r0 * H, hidden, r * H * 4);
    }
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 10;
    long only = argc > 2 ? atol(argv[2]) : 0, fixedC = argc > 3 ? atol(argv[3]) : 0;
    long list[] = {16, 32, 50, 64, 84, 100, 125, 167, 250, 500};
    float *x = rnd((long)B * T * I, 3, 1.0f), *w_ih = rnd(H * I, 1, 0.05f), *b_ih = rnd(H, 2, 0.01f);
    float *wt = rnd(H * H, 4, 0.02f), *b_hh = rnd(H, 5, 0.01f), *last = calloc(B * H, 4);
    for (long i = 0; i < H; i++) wt[i * H + i] = 1.0f;    // IRNN: W_hh near the identity
    float *pre = aligned_alloc(64, (long)T * B * H * 4), *gates = aligned_alloc(64, (long)T * B * H * 4);
    float *hidden = aligned_alloc(64, (long)(T + 1) * B * H * 4);
    for (unsigned k = 0; k < sizeof list / sizeof *list; k++) {
        long R = list[k];
        if (only && R != only) continue;
        long perStep = R * (I + 3 * H + H), C = fixedC ? fixedC : (1 << 18) / perStep;
        if (C < 1) C = 1;
        if (C > T) C = T;
        // rows of a pass are consecutive batch rows: relay x so pass p's rows are time-major within it
        float *xt = malloc((long)B * T * I * 4);
        for (long r0 = 0; r0 < B; r0 += R) {
            long r = B - r0 < R ? B - r0 : R;
            for (long t = 0; t < T; t++)
                for (long s = 0; s < r; s++) memcpy(xt + r0 * T * I + (t * r + s) * I, x + ((r0 + s) * T + t) * I, I * 4);
        }
        double best = 1e30;
        for (int rep = 0; rep < reps; rep++) {
            double t0 = cpu();
            batch(R, C, xt, w_ih, b_ih, wt, b_hh, pre, gates, hidden, last);
            double dt = cpu() - t0;
            if (dt < best) best = dt;
        }
        double rec = 2.0 * B * T * H * H, proj = 2.0 * B * T * H * I;
        printf("R %4ld C %2ld  hash %016llx  best %.3f ms  recurrent %.1f GFLOP/s  both %.1f GFLOP/s\n", R, C,
               fnv(1469598103934665603ULL, last, B * H), best * 1e3, rec / best / 1e9, (rec + proj) / best / 1e9);
        free(xt);
    }
    return 0;
}
