// The LSTM's training step at the adding problem's shape (B = 50, H = 100, I = 2, T = 150, chunks
// of 5 steps; -DSHAPE_C: config c, B = 16, I = 1, T = 784, chunks of 16) as the kernels run it,
// without Swift: per phase min-of-N times (forward: input projection, fused step product, gates
// keeping tanh(c_t); backward: gates, dh = dgates W_hh, weight gradients per chunk), or (mode
// "ab") the backward alone, alternating the two calls (rk_lstm_backward_kept + rk_sgemm) and the
// one-pass rk_lstm_backward_step (avx2_lstm.c), after checking that both give the same bits.
// Wall-clock minima on a shared machine: an indication only.
//   S=Sources/CRecurrentKernels
//   clang -O2 -I$S/include $S/*.c benchmarks/kernels/lstm_backward_step.c -o /tmp/lbs -lpthread -lm
//   /tmp/lbs 20 0          # per phase, two calls;   /tmp/lbs 20 1: per phase, one pass
//   /tmp/lbs 30 0 ab       # backward alone, A/B
#include "CRecurrentKernels.h"
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifndef SHAPE_C
enum { B = 50, H = 100, I = 2, T = 150, G = 4 * H, CH = 5 };
#else
enum { B = 16, H = 100, I = 1, T = 784, G = 4 * H, CH = 16 };
#endif
static float *rnd(long n, long salt) {
    float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64);
    for (long i = 0; i < n; i++) p[i] = (float)(((i + salt) * 7919 % 2001) - 1000) / 4000.0f;
    return p;
}
static unsigned long long fnv(const float *p, long n, unsigned long long h) {
    const unsigned char *b = (const unsigned char *)p;
    for (long i = 0; i < 4 * n; i++) { h ^= b[i]; h *= 1099511628211ULL; }
    return h;
}
static float *x, *wih, *bih, *whh, *wt, *bhh, *pre, *gates, *tcb, *hs, *cs, *dpre, *dh, *dc, *cgrad;
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + 1e-9 * ts.tv_nsec; }
static double ph[8]; static int fused;
static unsigned long long step(void) {
    memset(hs, 0, sizeof(float) * B * H); memset(cs, 0, sizeof(float) * B * H);
    double a;
    for (long t = 0; t < T; t++) {
        float *xt = pre, *gt = gates + t * B * G;
        a = now(); rk_input_projection(B, G, I, x + t * B * I, I, wih, bih, xt, 1); ph[0] += now() - a;
        a = now(); rk_recurrent_step(B, G, H, hs + t * B * H, wt, bhh, xt, gt, NULL, 0, 1); ph[1] += now() - a;
        a = now(); rk_lstm_forward_keep(B, H, gt, cs + t * B * H, cs + (t + 1) * B * H, hs + (t + 1) * B * H, tcb + t * B * G, G); ph[2] += now() - a;
    }
    return 0;
}
static unsigned long long backward(void) {
    double a;
    for (long i = 0; i < B * H; i++) dh[i] = 1e-2f * (float)(i % 7);
    memset(dc, 0, sizeof(float) * B * H);
    memset(cgrad, 0, sizeof(float) * G * (H + I + 2));
    for (long t0 = (T - 1) / CH * CH; t0 >= 0; t0 -= CH) {
        long t1 = t0 + CH < T ? t0 + CH : T;
        for (long t = t1 - 1; t >= t0; t--) {
            float *dp = dpre + (t - t0) * B * G;
            if (fused) {
                a = now();
                if (!rk_lstm_backward_step(B, H, gates + t * B * G, cs + t * B * H, tcb + t * B * G, G, dh, dc, dp, whh,
                                           t ? gates + (t - 1) * B * G : NULL, t ? cs + (t - 1) * B * H : NULL,
                                           t ? tcb + (t - 1) * B * G : NULL, 1)) abort();
                ph[4] += now() - a;
                continue;
            }
            a = now(); rk_lstm_backward_kept(B, H, gates + t * B * G, cs + t * B * H, tcb + t * B * G, G, dh, dc, dp); ph[3] += now() - a;
            a = now(); rk_sgemm(0, 0, B, H, G, dp, G, whh, H, dh, H, 0, 1); ph[4] += now() - a;
        }
        a = now();
        rk_weight_gradients_into((t1 - t0) * B, G, dpre, hs + t0 * B * H, H, H, x + t0 * B * I, I, I, cgrad, 1);
        ph[5] += now() - a;
    }
    return fnv(cgrad, G * (H + I + 2), fnv(dh, B * H, fnv(dc, B * H, fnv(hs + T * B * H, B * H, 1469598103934665603ULL))));
}
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 20; fused = argc > 2 ? atoi(argv[2]) : 0;
    x = rnd(T * B * I, 1); wih = rnd(G * I, 2); bih = rnd(G, 3); whh = rnd(G * H, 4); bhh = rnd(G, 5);
    wt = malloc(sizeof(float) * G * H);
    for (long i = 0; i < G; i++) for (long j = 0; j < H; j++) wt[j * G + i] = whh[i * H + j];
    pre = rnd(B * G, 6); gates = rnd(T * B * G, 7); tcb = rnd(T * B * G, 8); hs = rnd((T + 1) * B * H, 9);
    cs = rnd((T + 1) * B * H, 10); dpre = rnd(CH * B * G, 11); dh = rnd(B * H, 12); dc = rnd(B * H, 13);
    cgrad = rnd(G * (H + I + 2), 14);
    if (argc > 3) {   // ab: backward only, old and new alternating
        step(); fused = 0; unsigned long long h0 = backward(); fused = 1; unsigned long long h1 = backward();
        if (h0 != h1) { printf("bits differ\n"); return 1; }
        double m0 = 1e9, m1 = 1e9;
        for (int r = 0; r < n; r++) {
            fused = 0; double a = now(); backward(); double e = now() - a; if (e < m0) m0 = e;
            fused = 1; a = now(); backward(); e = now() - a; if (e < m1) m1 = e;
        }
        printf("backward min: old %.3f ms, new %.3f ms, ratio %.3f\n", 1e3 * m0, 1e3 * m1, m1 / m0);
        return 0;
    }
    double best[8] = {1e9, 1e9, 1e9, 1e9, 1e9, 1e9, 1e9, 1e9}, tot = 1e9;
    step(); unsigned long long h0 = backward();
    for (int r = 0; r < n; r++) {
        memset(ph, 0, sizeof ph);
        double a = now(); step(); unsigned long long h = backward(); double e = now() - a;
        if (h != h0) { printf("bits differ\n"); return 1; }
        if (e < tot) tot = e;
        for (int i = 0; i < 6; i++) if (ph[i] < best[i]) best[i] = ph[i];
    }
    const char *names[] = {"inproj", "fwd product", "fwd gates", "bwd gates", "bwd product", "wgrad"};
    double fl[] = {2.0 * T * B * G * I, 2.0 * T * B * G * H, 0, 0, 2.0 * T * B * G * H, 2.0 * T * B * G * (H + I + 2)};
    printf("hash %016llx  total min %.2f ms\n", h0, 1e3 * tot);
    for (int i = 0; i < 6; i++) printf("%-12s %7.3f ms  %6.1f GFLOP/s\n", names[i], 1e3 * best[i], fl[i] / best[i] * 1e-9);
    return 0;
}
