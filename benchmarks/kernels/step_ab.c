// The AVX-512 forward step of config e's shapes, two builds of avx512.c in one process: the new
// one (this tree) against an old one compiled with its exported names prefixed `old_` (e.g. the
// base branch's file), over T steps that move through [T*B, H] buffers as the time loop does
// (h_prev = step t-1's h, x and net of step t), interleaved (new, old, old, new, ...), thread CPU
// time, median; and every output of both compared bit for bit. An indication under load.
//   S=Sources/CRecurrentKernels; git show proj9:$S/avx512.c > /tmp/avx512_old.c
//   R="-Drk_avx512_step=old_rk_avx512_step -Drk_avx512_gemm=old_rk_avx512_gemm \
//      -Drk_avx512_gemm_packed_b=old_rk_avx512_gemm_packed_b -Drk_avx512_relu_dnet=old_rk_avx512_relu_dnet \
//      -Drk_avx512_weight_gradients=old_rk_avx512_weight_gradients"
//   clang -O2 -fPIC -I$S -I$S/include $R -c /tmp/avx512_old.c -o /tmp/avx512_old.o
//   clang -O2 -fPIC -I$S -I$S/include $S/*.c /tmp/avx512_old.o benchmarks/kernels/step_ab.c -o /tmp/step_ab -lpthread -lm
//   (session 11 also renames old_ step.c's exported loops: BENCHMARKS.md, "Session 11", relu11)
//   /tmp/step_ab 512 [reps] [mode] [B]   # H (packed W_hhᵀ above 256, as the library packs it); B 64
//   /tmp/step_ab 512 10 netfixed   # new: net of every step into one cache-resident [B, H] buffer
//   /tmp/step_ab 100 15 passes 128 # both time loops (step.c) as a training step runs them (b's shape)
//   modes dnet, packed, dnetpacked, steppacked, dnetbothpacked: see main()
// Session 10 used it on step_kblock.patch (the step k-blocked by 256 inside each pair of panels,
// partial sums waiting in net: the same bits), applied to this tree as "new" against proj9's file
// as "old": old / new 0.96 (H 512), 0.92 (1024), 0.91 (300), 0.98 (256, unpacked: unchanged code),
// outputs bit-identical. Slower, so not merged (BENCHMARKS.md, session 10, "Large layers").
#define _GNU_SOURCE 1
#include "internal.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

void old_rk_avx512_step(long rows, long n, long k, const float *h_prev, const float *wt, int packed,
                        const float *bias, const float *x, float *net, float *h_new, long ld, int act);
int old_rk_rnn_forward_rows(long steps, long batch, long row0, long rows, long h, const float *wt, int packed,
                            const float *bias, long in, const float *inputs, const float *w_ih, const float *bias_ih,
                            float *pre_input, float *gates, float *hidden, int activation, int threads);
void old_rk_relu_rnn_backward_rows(long steps, long t0, long t1, long batch, long row0, long rows, long h, const float *w,
                                   int packed, const float *gates, const float *d_out, float *dh, float *dnet, int threads);
void old_rk_avx512_relu_dnet(long rows, long n, long k, const float *dnet, const float *w, long ldw,
                             const float *dout, const float *net_prev, float *dnet_prev);

static float *rnd(long n, unsigned long long seed, float scale) {
    float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64);
    unsigned long long z = 0x9E3779B97F4A7C15ull * (seed + 1);
    for (long i = 0; i < n; i++) {
        z = z * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = scale * ((float)(z >> 40) / 8388608.0f - 1.0f);
    }
    return p;
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

enum { T = 100 };

/// "passes": the library's two time loops (step.c with I = 1 projected step by step, then the relu
/// backward chunk by chunk of max(1, 256 / B) steps as BPTT runs it), the new tree's against the
/// old step.c + avx512.c (both with their exported names prefixed old_); h, net, dnet and dL/dh_0
/// compared bit for bit.
static int passes(long H, long B, int reps) {
    float *w = rnd(H * H, 1, sqrtf(2.0f / (float)H)), *bias = rnd(H, 2, 0.01f), *wt = rnd(H * H, 4, 1.0f);
    for (long i = 0; i < H; i++) for (long j = 0; j < H; j++) wt[j * H + i] = w[i * H + j];
    float *u = rnd(H, 10, 1.0f), *bi = rnd(H, 11, 0.1f), *in = rnd(T * B, 12, 1.0f), *dout = rnd(T * B * H, 8, 0.01f);
    float *pre[2], *net[2], *hid[2], *dn[2], *dh[2];
    for (int v = 0; v < 2; v++) {
        pre[v] = rnd(T * B * H, 0, 0.0f); net[v] = rnd(T * B * H, 0, 0.0f); hid[v] = rnd((T + 1) * B * H, 13, 0.5f);
        dn[v] = rnd(T * B * H, 0, 0.0f); dh[v] = rnd(B * H, 0, 0.0f);
    }
    long chunk = 256 / B > 1 ? 256 / B : 1;
    double *ms[2] = { malloc(sizeof(double) * reps), malloc(sizeof(double) * reps) };
    for (int r = -1; r < reps; r++)
        for (int o = 0; o < 2; o++) {
            int v = (o + r + 2) & 1;   // 0 new, 1 old
            float *d0 = rnd(B * H, 14, 0.1f);
            memcpy(dh[v], d0, sizeof(float) * B * H); free(d0);
            double t0 = now();
            if (v == 0) rk_rnn_forward_rows(T, B, 0, B, H, wt, 0, bias, 1, in, u, bi, pre[v], net[v], hid[v], 1, 1);
            else old_rk_rnn_forward_rows(T, B, 0, B, H, wt, 0, bias, 1, in, u, bi, pre[v], net[v], hid[v], 1, 1);
            for (long t1 = T; t1 > 0; t1 -= chunk) {
                long t0c = t1 - chunk > 0 ? t1 - chunk : 0;
                if (v == 0) rk_relu_rnn_backward_rows(T, t0c, t1, B, 0, B, H, w, 0, net[v], dout, dh[v], dn[v], 1);
                else old_rk_relu_rnn_backward_rows(T, t0c, t1, B, 0, B, H, w, 0, net[v], dout, dh[v], dn[v], 1);
            }
            if (r >= 0) ms[v][r] = 1e3 * (now() - t0);
        }
    int same = !memcmp(hid[0], hid[1], sizeof(float) * (T + 1) * B * H) && !memcmp(net[0], net[1], sizeof(float) * T * B * H)
               && !memcmp(dn[0], dn[1], sizeof(float) * T * B * H) && !memcmp(dh[0], dh[1], sizeof(float) * B * H);
    qsort(ms[0], reps, sizeof(double), cmp); qsort(ms[1], reps, sizeof(double), cmp);
    double a = ms[0][reps / 2], b = ms[1][reps / 2], fl = 4.0 * T * B * H * H;
    printf("passes H = %ld, B = %ld, T = %d (backward chunks of %ld), %d reps: new %.2f ms (%.1f GFLOP/s), old %.2f ms "
           "(%.1f GFLOP/s), old / new %.3f (min %.3f); outputs %s\n", H, B, T, chunk, reps, a, fl / a / 1e6, b,
           fl / b / 1e6, b / a, ms[1][0] / ms[0][0], same ? "bit-identical" : "DIFFER");
    return same ? 0 : 1;
}

int main(int argc, char **argv) {
    long H = argc > 1 ? atol(argv[1]) : 512;
    int reps = argc > 2 ? atoi(argv[2]) : 10;
    const char *mode = argc > 3 ? argv[3] : "step";
    long B = argc > 4 ? atol(argv[4]) : 64;
    // "step": new against old, the forward step. "netfixed": the new build writes every step's net
    // into one [B, H] buffer (in cache), the old one into the moving [T*B, H] trace: what storing
    // net costs in place (h compared only). "dnet": new against old, the relu backward step
    // (rk_avx512_relu_dnet, W_hh in place, T steps backwards as rk_relu_rnn_backward_rows runs them).
    // "packed": the new build's step with W_hhᵀ packed in panels against the same build in place.
    // "dnetpacked": the new build's backward step reading W_hh's panels (ldw = 0) against the old in place.
    // "steppacked": new against old, both reading W_hhᵀ's panels.
    int netFixed = !strcmp(mode, "netfixed"), packMode = !strcmp(mode, "packed"), bothPacked = !strcmp(mode, "steppacked");
    // "dnetbothpacked": new against old, both reading W_hh's panels.
    int dnetPacked = !strcmp(mode, "dnetpacked") || !strcmp(mode, "dnetbothpacked");
    int dnetMode = dnetPacked || !strcmp(mode, "dnet");
    if (!strcmp(mode, "dnetbothpacked")) bothPacked = 1;
    if (!rk_uses_avx512()) { printf("no AVX-512 here\n"); return 0; }
    if (!strcmp(mode, "passes")) return passes(H, B, reps);
    int packed = H > 256;
    float *w = rnd(H * H, 1, sqrtf(6.0f / (float)H)), *bias = rnd(H, 2, 0.01f), *x = rnd(T * B * H, 3, 1.0f);
    float *wt = rnd(rk_packed_b_floats(H, H) > H * H ? rk_packed_b_floats(H, H) : H * H, 4, 1.0f);
    float *wtp = rnd(rk_packed_b_floats(H, H), 4, 1.0f);
    rk_pack_b(1, H, H, w, H, wtp);
    float *wp = rnd(rk_packed_b_floats(H, H), 4, 1.0f);   // W_hh's panels, for the backward
    rk_pack_b(0, H, H, w, H, wp);
    if (bothPacked) packed = 1;
    if (packed) memcpy(wt, wtp, sizeof(float) * rk_packed_b_floats(H, H));
    else for (long i = 0; i < H; i++) for (long j = 0; j < H; j++) wt[j * H + i] = w[i * H + j];   // W_hhᵀ [k, n]
    float *hid[2], *net[2];
    for (int v = 0; v < 2; v++) { hid[v] = rnd((T + 1) * B * H, 5, 0.0f); net[v] = rnd(T * B * H, 6, 0.0f); }
    float *gates = rnd(T * B * H, 7, 1.0f), *dout = rnd(T * B * H, 8, 0.1f);
    if (dnetMode) for (int v = 0; v < 2; v++) memcpy(net[v] + (T - 1) * B * H, rnd(B * H, 9, 1.0f), sizeof(float) * B * H);
    double *ms[2] = { malloc(sizeof(double) * reps), malloc(sizeof(double) * reps) };
    for (int r = -1; r < reps; r++)
        for (int o = 0; o < 2; o++) {
            int v = (o + r + 2) & 1;   // 0 new, 1 old
            double t0 = now();
            if (dnetMode)   // net[v] holds dnet [T*B, H]: step t's rows form step t-1's
                for (long t = T - 1; t > 0; t--) {
                    const float *dn = net[v] + t * B * H; float *dp = net[v] + (t - 1) * B * H;
                    if (v == 0) rk_avx512_relu_dnet(B, H, H, dn, dnetPacked ? wp : w, dnetPacked ? 0 : H, dout + (t - 1) * B * H, gates + (t - 1) * B * H, dp);
                    else old_rk_avx512_relu_dnet(B, H, H, dn, bothPacked ? wp : w, bothPacked ? 0 : H, dout + (t - 1) * B * H, gates + (t - 1) * B * H, dp);
                }
            else
                for (long t = 0; t < T; t++) {
                    const float *hp = hid[v] + t * B * H;
                    float *hn = hid[v] + (t + 1) * B * H, *nt = net[v] + (netFixed && v == 0 ? 0 : t) * B * H;
                    if (v == 0 && packMode) rk_avx512_step(B, H, H, hp, wtp, 1, bias, x + t * B * H, nt, hn, H, 1);
                    else if (v == 1 && packMode) rk_avx512_step(B, H, H, hp, wt, 0, bias, x + t * B * H, nt, hn, H, 1);
                    else if (v == 0) rk_avx512_step(B, H, H, hp, wt, packed, bias, x + t * B * H, nt, hn, H, 1);
                    else old_rk_avx512_step(B, H, H, hp, wt, packed, bias, x + t * B * H, nt, hn, H, 1);
                }
            if (r >= 0) ms[v][r] = 1e3 * (now() - t0);
        }
    int same = !memcmp(hid[0], hid[1], sizeof(float) * (T + 1) * B * H) &&
               (netFixed || !memcmp(net[0], net[1], sizeof(float) * T * B * H));
    qsort(ms[0], reps, sizeof(double), cmp); qsort(ms[1], reps, sizeof(double), cmp);
    double a = ms[0][reps / 2], b = ms[1][reps / 2], fl = 2.0 * (dnetMode ? T - 1 : T) * B * H * H;
    printf("%s H = %ld (%s W_hhT), B = %ld, T = %d, %d reps: new %.2f ms (%.1f GFLOP/s), old %.2f ms (%.1f GFLOP/s), "
           "old / new %.3f (min %.3f); outputs %s\n", mode, H, packed || packMode ? "packed" : "unpacked", B, T, reps, a,
           fl / a / 1e6, b, fl / b / 1e6, b / a, ms[1][0] / ms[0][0], same ? "bit-identical" : "DIFFER");
    return same ? 0 : 1;
}
