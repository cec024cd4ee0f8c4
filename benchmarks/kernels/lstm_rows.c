// The LSTM forward of one evaluation batch (row-FMNIST: B = 500, H = 128, I = 28, T = 28) as
// the kernels run it, without Swift: the input projection, then per step the fused product
// (gates = x + b_hh + h W_hhᵀ) and the gate kernel. Mode "whole" runs every step over all B
// rows (what `forwardOnly` does on one thread); "slices R" runs all T steps for R rows at a
// time (rows are independent: the same operations per element, hence the same bits; the
// program checks it). "ab R N" alternates the two N times in one process and prints the
// ratio of their CPU times: an indication only (the machine is shared), never a result.
// Build with SwiftPM's release flags, count with callgrind/cachegrind:
//   S=Sources/CRecurrentKernels
//   clang -O2 -fno-omit-frame-pointer -fPIC -I$S/include $S/*.c \
//       benchmarks/kernels/lstm_rows.c -o /tmp/lstm_rows -lpthread -lm
//   valgrind --tool=cachegrind --cache-sim=yes --LL=2097152,16,64 /tmp/lstm_rows whole
//   valgrind --tool=cachegrind --cache-sim=yes --LL=2097152,16,64 /tmp/lstm_rows slices 64
//   /tmp/lstm_rows ab 64 20
#include "CRecurrentKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { B = 500, H = 128, I = 28, T = 28, G = 4 * H };
static float *rnd(long n, long salt) {
    float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64);
    for (long i = 0; i < n; i++) p[i] = (float)(((i + salt) * 7919 % 2001) - 1000) / 4000.0f;
    return p;
}
static unsigned long long fnv(const float *p, long n) {
    unsigned long long h = 1469598103934665603ULL; const unsigned char *b = (const unsigned char *)p;
    for (long i = 0; i < 4 * n; i++) { h ^= b[i]; h *= 1099511628211ULL; }
    return h;
}
static float *x, *wih, *bih, *wt, *bhh, *proj, *gates, *hs, *cs, *tc;

// All T steps for rows [r0, r0 + R): proj [T*B, 4H] time-major (row t*B + b), h and c ping-pong.
static void run_rows(long r0, long R) {
    float *h0 = hs + r0 * H, *h1 = hs + (B + r0) * H, *c0 = cs + r0 * H, *c1 = cs + (B + r0) * H;
    memset(h0, 0, sizeof(float) * R * H); memset(c0, 0, sizeof(float) * R * H);
    for (long t = 0; t < T; t++) {
        const float *xt = proj + (t * B + r0) * G;
        float *gt = gates + r0 * G;
        rk_recurrent_step(R, G, H, h0, wt, bhh, xt, gt, NULL, 0, 1);
        rk_lstm_forward_keep(R, H, gt, c0, c1, h1, tc + r0 * G, G);
        float *s = h0; h0 = h1; h1 = s; s = c0; c0 = c1; c1 = s;
    }
}
static void forward(long R) {
    for (long r = 0; r < B * T; r++) memcpy(proj + r * G, bih, sizeof(float) * G);
    rk_sgemm(0, 1, T * B, G, I, x, I, wih, I, proj, G, 1, 1);
    for (long r0 = 0; r0 < B; r0 += R) run_rows(r0, B - r0 < R ? B - r0 : R);
}
static double now(void) { struct timespec ts; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); return ts.tv_sec + 1e-9 * ts.tv_nsec; }

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "whole";
    long R = argc > 2 ? atol(argv[2]) : 64; int n = argc > 3 ? atoi(argv[3]) : 10;
    x = rnd(T * B * I, 1); wih = rnd(G * I, 2); bih = rnd(G, 3); wt = rnd(H * G, 4); bhh = rnd(G, 5);
    proj = rnd(T * B * G, 6); gates = rnd(B * G, 7); hs = rnd(2 * B * H, 8); cs = rnd(2 * B * H, 9); tc = rnd(B * G, 10);
    // T is even: the last h is in hs[0 ..< B*H]
    if (!strcmp(mode, "whole")) { forward(B); printf("whole %016llx\n", fnv(hs, B * H)); return 0; }
    if (!strcmp(mode, "slices")) { forward(R); printf("slices %ld %016llx\n", R, fnv(hs, B * H)); return 0; }
    forward(B); unsigned long long a = fnv(hs, B * H); forward(R);
    if (a != fnv(hs, B * H)) { printf("bits differ\n"); return 1; }
    double tw = 0, ts = 0;
    for (int i = 0; i < n; i++) {
        double t0 = now(); forward(B); double t1 = now(); forward(R); double t2 = now();
        tw += t1 - t0; ts += t2 - t1;
    }
    printf("same bits; CPU ms per batch: whole %.2f, slices of %ld %.2f, slices/whole %.3f (indication only)\n",
           1e3 * tw / n, R, 1e3 * ts / n, ts / tw);
    return 0;
}
