// Batch 1, the recurrent steps of configs a (H 100, T 784) and e (H 512, T 100) without Swift:
// the per-step matrix-vector kernel (rk_recurrent_step_row, one call per step) against the
// fused time loop (rk_rnn_forward_row, one call per sequence). Prints an FNV hash of the
// states and nets (equal hashes: the same bits), or with `ab` an interleaved timing of both in
// one process (an indication only, never a result). Build with SwiftPM's release flags:
//   S=Sources/CRecurrentKernels
//   clang -O2 -fno-omit-frame-pointer -fPIC -I$S/include $S/*.c benchmarks/kernels/row_sequence.c \
//       -o /tmp/row_sequence -lpthread -lm
//   /tmp/row_sequence a steps 1; /tmp/row_sequence a loop 1          # same hash
//   valgrind --tool=callgrind /tmp/row_sequence e loop 1               # instructions
//   /tmp/row_sequence e ab 2 200                                       # A/B: 200 rounds
#include "CRecurrentKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static float *rnd(long n, int seed) {
    float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64);
    for (long i = 0; i < n; i++) p[i] = (float)(((i + seed) * 7919 % 2001) - 1000) / 20000.0f;
    return p;
}
static unsigned long long fnv(unsigned long long h, const float *p, long n) {
    const unsigned char *b = (const unsigned char *)p;
    for (long i = 0; i < 4 * n; i++) { h ^= b[i]; h *= 1099511628211ULL; }
    return h;
}
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s a|e steps|loop|ab [threads] [rounds]\n", argv[0]); return 64; }
    long H = !strcmp(argv[1], "e") ? 512 : 100, T = !strcmp(argv[1], "e") ? 100 : 784;
    int threads = argc > 3 ? atoi(argv[3]) : 1, rounds = argc > 4 ? atoi(argv[4]) : 1;
    int packed = H > 256;
    float *w = rnd(H * H, 1), *wt = malloc(H * H * 4), *bias = rnd(H, 2), *x = rnd(T * H, 3);
    for (long i = 0; i < H * H; i++) w[i] *= 2.0f;
    for (long p = 0; p < H; p++) for (long j = 0; j < H; j++) wt[p * H + j] = w[j * H + p];   // W_hhᵀ
    float *pk = malloc(rk_packed_b_floats(H, H) * 4); rk_pack_b(1, H, H, w, H, pk);
    const float *weight = packed ? pk : wt;
    float *hs = calloc((T + 1) * H, 4), *net = calloc(T * H, 4);
    double tSteps = 0, tLoop = 0;
    int ab = !strcmp(argv[2], "ab");
    for (int r = 0; r < rounds; r++) {
        for (int which = 0; which < 2; which++) {
            int loop = ab ? (which ^ (r & 1)) : !strcmp(argv[2], "loop");
            if (!ab && which == 1) break;
            double t0 = now();
            if (loop) rk_rnn_forward_row(T, H, H, weight, packed, bias, x, net, hs, 1, threads);
            else for (long t = 0; t < T; t++)
                rk_recurrent_step_row(H, H, hs + t * H, weight, packed, bias, x + t * H, net + t * H, hs + (t + 1) * H, 1, threads);
            double dt = now() - t0;
            if (loop) tLoop += dt; else tSteps += dt;
        }
    }
    long live = 0;
    for (long j = 0; j < H; j++) live += hs[T * H + j] > 0;
    printf("%s %s threads %d, %ld of %ld units > 0 at step T, hash %016llx\n", argv[1], argv[2], threads, live, H, fnv(fnv(1469598103934665603ULL, hs, (T + 1) * H), net, T * H));
    if (ab) printf("interleaved %d rounds: steps %.1f us/sequence, loop %.1f us/sequence, steps/loop %.2f (an indication, not a result)\n",
                   rounds, tSteps / rounds * 1e6, tLoop / rounds * 1e6, tSteps / tLoop);
    return 0;
}
