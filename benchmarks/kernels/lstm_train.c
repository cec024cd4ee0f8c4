// Config c's LSTM training step as the kernels run it, without Swift (B = 16, H = 100, I = 1,
// T = 784): forward per step the input projection (rk_input_projection), the fused product
// (rk_recurrent_step) and the gates keeping tanh(c_t) (rk_lstm_forward_keep); backward per
// step the gates (rk_lstm_backward_kept) and dh = dgates W_hh (rk_sgemm), the weight gradients
// summed per chunk of 16 steps (rk_weight_gradients_into). Variants, bit for bit the same
// results (checked): where step t's input projection goes (the [T*B, 4H] preInput or one
// [B, 4H] block: "ring"), where dgates goes (the [T*B, 4H] buffer or one chunk's rows:
// "dring"), software prefetch of step t-1's backward operands ("pf"), and whether tanh(c_t) is
// kept by the forward (rk_lstm_forward_keep) or recomputed by the backward from c_t ("recompute"). "ab V1 V2 N"
// alternates two variants N times in one process and prints the ratio of their CPU times:
// an indication only (the machine is shared), never a result.
//   S=Sources/CRecurrentKernels
//   clang -O2 -fno-omit-frame-pointer -fPIC -I$S/include $S/*.c benchmarks/kernels/lstm_train.c -o /tmp/lstm_train -lpthread -lm
//   /tmp/lstm_train ab 0 1 20      # variant bits: 1 ring, 2 dring, 4 pf, 8 recompute
#include "CRecurrentKernels.h"
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { B = 16, H = 100, I = 1, T = 784, G = 4 * H, CH = 16 };
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

static void prefetch_rows(const float *p, long floats) {
    for (long i = 0; i < floats; i += 16) _mm_prefetch((const char *)(p + i), _MM_HINT_T1);
}

static unsigned long long step(int v) {
    int ring = v & 1, dring = v & 2, pf = v & 4, keep = !(v & 8);
    memset(hs, 0, sizeof(float) * B * H); memset(cs, 0, sizeof(float) * B * H);
    for (long t = 0; t < T; t++) {
        float *xt = pre + (ring ? 0 : t * B * G), *gt = gates + t * B * G;
        rk_input_projection(B, G, I, x + t * B * I, I, wih, bih, xt, 1);
        rk_recurrent_step(B, G, H, hs + t * B * H, wt, bhh, xt, gt, NULL, 0, 1);
        if (keep) rk_lstm_forward_keep(B, H, gt, cs + t * B * H, cs + (t + 1) * B * H, hs + (t + 1) * B * H, tcb + t * B * G, G);
        else rk_lstm_forward(B, H, gt, cs + t * B * H, cs + (t + 1) * B * H, hs + (t + 1) * B * H);
    }
    memset(dh, 0, sizeof(float) * B * H); memset(dc, 0, sizeof(float) * B * H);
    memset(cgrad, 0, sizeof(float) * G * (H + I + 2));
    for (long t0 = (T - 1) / CH * CH; t0 >= 0; t0 -= CH) {
        long t1 = t0 + CH < T ? t0 + CH : T;
        for (long t = t1 - 1; t >= t0; t--) {
            for (long i = 0; i < B * H; i++) dh[i] += 1e-3f;   // the loss's part at every step
            float *dp = dpre + (dring ? (t - t0) : t) * B * G;
            if (keep) rk_lstm_backward_kept(B, H, gates + t * B * G, cs + t * B * H, tcb + t * B * G, G, dh, dc, dp);
            else rk_lstm_backward(B, H, gates + t * B * G, cs + t * B * H, cs + (t + 1) * B * H, dh, dc, dp);
            if (pf && t > 0) {
                prefetch_rows(gates + (t - 1) * B * G, B * G);
                prefetch_rows(cs + (t - 1) * B * H, B * H);
                for (long r = 0; r < B; r++) prefetch_rows(tcb + ((t - 1) * B + r) * G, H);
            }
            rk_sgemm(0, 0, B, H, G, dp, G, whh, H, dh, H, 0, 1);
        }
        rk_weight_gradients_into((t1 - t0) * B, G, dpre + (dring ? 0 : t0 * B * G), hs + t0 * B * H, H, H,
                                 x + t0 * B * I, I, I, cgrad, 1);
    }
    return fnv(cgrad, G * (H + I + 2), fnv(dh, B * H, fnv(hs + T * B * H, B * H, 1469598103934665603ULL)));
}
static double now(void) { struct timespec ts; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); return ts.tv_sec + 1e-9 * ts.tv_nsec; }

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "run";
    x = rnd(T * B * I, 1); wih = rnd(G * I, 2); bih = rnd(G, 3); whh = rnd(G * H, 4); bhh = rnd(G, 5);
    wt = malloc(sizeof(float) * G * H);
    for (long i = 0; i < G; i++) for (long j = 0; j < H; j++) wt[j * G + i] = whh[i * H + j];
    pre = rnd(T * B * G, 6); gates = rnd(T * B * G, 7); tcb = rnd(T * B * G, 8); hs = rnd((T + 1) * B * H, 9);
    cs = rnd((T + 1) * B * H, 10); dpre = rnd(T * B * G, 11); dh = rnd(B * H, 12); dc = rnd(B * H, 13);
    cgrad = rnd(G * (H + I + 2), 14);
    if (!strcmp(mode, "run")) { int v = argc > 2 ? atoi(argv[2]) : 0; printf("%d %016llx\n", v, step(v)); return 0; }
    int va = atoi(argv[2]), vb = atoi(argv[3]), n = argc > 4 ? atoi(argv[4]) : 10;
    unsigned long long a = step(va), b = step(vb);
    if (a != b) { printf("bits differ: %016llx %016llx\n", a, b); return 1; }
    double ta = 0, tb = 0, ma = 1e9, mb = 1e9;
    for (int i = 0; i < n; i++) {
        double t0 = now(); step(va); double t1 = now(); step(vb); double t2 = now();
        ta += t1 - t0; tb += t2 - t1; if (t1 - t0 < ma) ma = t1 - t0; if (t2 - t1 < mb) mb = t2 - t1;
    }
    printf("same bits; CPU ms per step: %d %.2f (min %.2f), %d %.2f (min %.2f), ratio %.3f (min %.3f) (indication only)\n",
           va, 1e3 * ta / n, 1e3 * ma, vb, 1e3 * tb / n, 1e3 * mb, tb / ta, mb / ma);
    return 0;
}
