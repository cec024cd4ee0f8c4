// The relu RNN's time loops (step.c) without net in the trace against main's, which keep it: the
// forward loop with gates = NULL (net not stored) against main's writing gates, and the backward
// loop reading relu'(net_t) off h_t (hidden) against main's reading gates. Bits compared (h, dnet,
// dL/dh_0), then thread CPU time, min over reps (robust to a loaded machine), interleaved
// old, new, new, old. At b's shape the trace is 40 MB a stream, far beyond the caches.
//   S=Sources/CRecurrentKernels; git show main:$S/step.c > /tmp/step_old.c
//   R="-Drk_recurrent_step=old_rk_recurrent_step -Drk_recurrent_step_packed=old_rk_recurrent_step_packed \
//      -Drk_rnn_forward_rows=old_rk_rnn_forward_rows -Drk_relu_rnn_backward_rows=old_rk_relu_rnn_backward_rows"
//   clang -O2 -fPIC -I$S -I$S/include $R -c /tmp/step_old.c -o /tmp/step_old.o
//   clang -O2 -fPIC -I$S -I$S/include $S/*.c /tmp/step_old.o benchmarks/kernels/relu_trace_ab.c -o /tmp/relu_trace_ab -lpthread -lm
//   /tmp/relu_trace_ab H B T reps [CHUNK]   # b: 100 128 784 10 2 (the backward in chunks of CHUNK steps, as BPTT)
#define _GNU_SOURCE 1
#include "internal.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

int old_rk_rnn_forward_rows(long steps, long batch, long row0, long rows, long h, const float *wt, int packed,
                            const float *bias, long in, const float *inputs, const float *w_ih, const float *bias_ih,
                            float *pre_input, float *gates, float *hidden, int activation, int threads);
void old_rk_relu_rnn_backward_rows(long steps, long t0, long t1, long batch, long row0, long rows, long h, const float *w,
                                   int packed, const float *gates, const float *d_out, float *dh, float *dnet, int threads);

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

typedef struct { long h, b, T, chunk; int onechunk; float *ring, *wt, *w, *bias, *inputs, *wih, *bih, *pre, *gates, *hidden, *dout, *dh, *dnet; } run_t;

static void fwd(const run_t *r, int old) {
    if (old) old_rk_rnn_forward_rows(r->T, r->b, 0, r->b, r->h, r->wt, 0, r->bias, 1, r->inputs, r->wih, r->bih, r->pre,
                                     r->gates, r->hidden, 1, 1);
    else rk_rnn_forward_rows(r->T, r->b, 0, r->b, r->h, r->wt, 0, r->bias, 1, r->inputs, r->wih, r->bih, r->pre, NULL,
                             r->hidden, 1, 1);
}
static void bwd(const run_t *r, int old) {   // chunk after chunk, last first (BPTT's chunks of the weight gradients)
    for (long t0 = (r->T - 1) / r->chunk * r->chunk; t0 >= 0; t0 -= r->chunk) {
        long t1 = t0 + r->chunk < r->T ? t0 + r->chunk : r->T;
        if (old) old_rk_relu_rnn_backward_rows(r->T, t0, t1, r->b, 0, r->b, r->h, r->w, 0, r->gates, r->dout, r->dh, r->dnet, 1);
        else if (!r->onechunk) rk_relu_rnn_backward_rows(r->T, t0, t1, r->b, 0, r->b, r->h, r->w, 0, r->hidden, r->dout, r->dh, r->dnet, 1);
        else {   // estimate: dnet in one chunk of rows (+ one block in front for dnet_{t0-1}), moved to the next chunk's last block
            long blk = r->b * r->h;
            rk_relu_rnn_backward_rows(r->T, t0, t1, r->b, 0, r->b, r->h, r->w, 0, r->hidden, r->dout, r->dh,
                                      r->ring + blk - t0 * blk, 1);
            memcpy(r->ring + blk + (r->chunk - 1) * blk, r->ring, sizeof(float) * blk);
        }
    }
}

int main(int argc, char **argv) {
    long h = argc > 1 ? atol(argv[1]) : 100, b = argc > 2 ? atol(argv[2]) : 128, T = argc > 3 ? atol(argv[3]) : 784;
    int reps = argc > 4 ? atoi(argv[4]) : 10;
    long chunk = argc > 5 ? atol(argv[5]) : T;
    const char *mode = argc > 6 ? argv[6] : "";   // "nodout": no loss on the steps (b: the last step's readout only)
    run_t r = { h, b, T, chunk };
    r.w = rnd(h * h, 1, 1.0f / sqrtf((float)h));
    r.wt = malloc(sizeof(float) * h * h);
    for (long i = 0; i < h; i++) for (long j = 0; j < h; j++) r.wt[j * h + i] = r.w[i * h + j];
    r.bias = rnd(h, 2, 0.1f); r.inputs = rnd(T * b, 3, 1.0f); r.wih = rnd(h, 4, 0.5f); r.bih = rnd(h, 5, 0.1f);
    r.inputs[7] = NAN;   // one sequence carries a NaN throughout
    r.pre = rnd(T * b * h, 6, 1.0f); r.gates = rnd(T * b * h, 7, 1.0f); r.hidden = rnd((T + 1) * b * h, 8, 0.5f);
    r.dout = rnd(T * b * h, 9, 0.01f); r.dh = rnd(b * h, 10, 0.01f); r.dnet = rnd(T * b * h, 11, 0.0f);
    if (strstr(mode, "nodout")) r.dout = NULL;
    size_t nh = sizeof(float) * (T + 1) * b * h, nd = sizeof(float) * T * b * h, n1 = sizeof(float) * b * h;
    float *h0 = malloc(nh), *d0 = malloc(nd), *dh0 = malloc(n1), *dhIn = malloc(n1);
    memcpy(dhIn, r.dh, n1);
    fwd(&r, 1); memcpy(h0, r.hidden, nh);
    fwd(&r, 0);
    printf("forward h: %s\n", memcmp(h0, r.hidden, nh) ? "DIFFERENT" : "same bits");
    bwd(&r, 1); memcpy(d0, r.dnet, nd); memcpy(dh0, r.dh, n1);
    memcpy(r.dh, dhIn, n1);
    bwd(&r, 0);
    printf("backward dnet, dh_0: %s\n", memcmp(d0, r.dnet, nd) || memcmp(dh0, r.dh, n1) ? "DIFFERENT" : "same bits");
    double best[4] = { 1e9, 1e9, 1e9, 1e9 };
    for (int rep = 0; rep < 2 * reps; rep++)
        for (int i = 0; i < 4; i++) {
            int old = i == 0 || i == 3, back = rep & 1;
            memcpy(r.dh, dhIn, n1);
            double t0 = now();
            if (back) bwd(&r, old); else fwd(&r, old);
            double t = now() - t0;
            int slot = back * 2 + !old;
            if (t < best[slot]) best[slot] = t;
        }
    if (strstr(mode, "ring")) {   // the new backward again with dnet in one chunk (an estimate, bits not compared)
        r.onechunk = 1; r.ring = rnd((chunk + 1) * b * h, 12, 0.0f);
        double bestRing = 1e9;
        for (int rep = 0; rep < reps; rep++) {
            memcpy(r.dh, dhIn, n1);
            double t0 = now(); bwd(&r, 0); double t = now() - t0;
            if (t < bestRing) bestRing = t;
        }
        printf("backward with dnet in one chunk: %.2f ms\n", 1e3 * bestRing);
    }
    printf("H %ld B %ld T %ld chunk %ld: forward old %.2f new %.2f ms (new/old %.3f); backward old %.2f new %.2f ms (new/old %.3f)\n",
           h, b, T, chunk, 1e3 * best[0], 1e3 * best[1], best[1] / best[0], 1e3 * best[2], 1e3 * best[3], best[3] / best[2]);
    return 0;
}
