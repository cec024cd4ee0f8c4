// The AVX2 step and relu backward time loops (step.c) of this tree against an old step.c compiled
// with its exported loops prefixed `old_` (main's file: the 6x16 step tiles, relu backward then
// rk_sgemm per step): both loops over T steps on the same buffers, every output compared bit for
// bit, then thread CPU time, min over reps (robust to a loaded machine), interleaved old, new.
//   S=Sources/CRecurrentKernels; git show main:$S/step.c > /tmp/step_old.c
//   R="-Drk_recurrent_step=old_rk_recurrent_step -Drk_recurrent_step_packed=old_rk_recurrent_step_packed \
//      -Drk_rnn_forward_rows=old_rk_rnn_forward_rows -Drk_relu_rnn_backward_rows=old_rk_relu_rnn_backward_rows \
//      -Drk_input_projection_weight=old_rk_input_projection_weight -Drk_input_projection_rows=old_rk_input_projection_rows"
//   clang -O2 -fPIC -I$S -I$S/include $R -c /tmp/step_old.c -o /tmp/step_old.o
//   clang -O2 -fPIC -I$S -I$S/include $S/*.c /tmp/step_old.o benchmarks/kernels/avx2_step_ab.c -o /tmp/avx2_step_ab -lpthread -lm
//   /tmp/avx2_step_ab H B T reps [mode]   # a: 100 16 784 20; e: 512 64 100 5
//   mode: both (default), fwd (the forward loops only, old and new interleaved), or for callgrind one
//   loop once: fwd-old fwd-new bwd-old bwd-new, e.g.
//   valgrind --tool=callgrind --toggle-collect=rk_rnn_forward_rows /tmp/avx2_step_ab 100 16 784 1 fwd-new
// The old loop's input projection (I = 1 at H <= 256) is main's AVX2 path as of session 12 (below):
// the bias copied into every row, then rk_sgemm; the new one is this tree's rk_input_projection_rows.
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

// main's rk_input_projection_weight / _rows without AVX-512 (gemm.c before the AVX2 one-pass body)
float *old_rk_input_projection_weight(long n, long k, const float *w) {
    if (!rk_uses_avx512()) return NULL;
    return rk_input_projection_weight(n, k, w);
}
void old_rk_input_projection_rows(long rows, long n, long k, const float *x, long ldx, const float *w, const float *wt,
                                  const float *bias, float *out, int threads) {
    if (wt) { rk_input_projection_rows(rows, n, k, x, ldx, w, wt, bias, out, threads); return; }
    for (long r = 0; r < rows; r++) memcpy(out + r * n, bias, sizeof(float) * (size_t)n);
    rk_sgemm(0, 1, rows, n, k, x, ldx, w, k, out, n, 1, threads);
}

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

typedef struct {
    long h, b, T, in; int packed, act;
    float *wt, *w, *wp, *bias, *inputs, *wih, *bih, *pre, *gates, *hidden, *dout, *dh, *dnet;
} run_t;

static void fwd(const run_t *r, int old) {
    const float *w = r->packed ? r->wp : r->wt;
    (old ? old_rk_rnn_forward_rows : rk_rnn_forward_rows)(r->T, r->b, 0, r->b, r->h, w, r->packed, r->bias, r->in,
        r->inputs, r->wih, r->bih, r->pre, r->gates, r->hidden, r->act, 1);
}
static void bwd(const run_t *r, int old) {
    const float *w = r->packed ? r->wp : r->w;
    (old ? old_rk_relu_rnn_backward_rows : rk_relu_rnn_backward_rows)(r->T, 0, r->T, r->b, 0, r->b, r->h, w, r->packed,
        r->gates, r->dout, r->dh, r->dnet, 1);
}

int main(int argc, char **argv) {
    long h = argc > 1 ? atol(argv[1]) : 100, b = argc > 2 ? atol(argv[2]) : 16, T = argc > 3 ? atol(argv[3]) : 784;
    int reps = argc > 4 ? atoi(argv[4]) : 20;
    const char *mode = argc > 5 ? argv[5] : "both";
    long in = h == 512 ? 64 : 1;
    run_t r = { h, b, T, in, h > 256, 1 };
    r.w = rnd(h * h, 1, 1.0f / sqrtf((float)h));
    r.wt = malloc(sizeof(float) * h * h);
    for (long i = 0; i < h; i++) for (long j = 0; j < h; j++) r.wt[j * h + i] = r.w[i * h + j];
    r.wp = aligned_alloc(64, sizeof(float) * rk_packed_b_floats(h, h) + 64);
    r.bias = rnd(h, 2, 0.1f); r.inputs = rnd(T * b * in, 3, 1.0f); r.wih = rnd(h * in, 4, 0.5f); r.bih = rnd(h, 5, 0.1f);
    r.pre = rnd(T * b * h, 6, 1.0f); r.gates = rnd(T * b * h, 7, 1.0f); r.hidden = rnd((T + 1) * b * h, 8, 0.0f);
    r.dout = rnd(T * b * h, 9, 0.01f); r.dh = rnd(b * h, 10, 0.01f); r.dnet = rnd(T * b * h, 11, 0.0f);
    if (!strcmp(mode, "fwd")) {   // the forward loops only: bits, then min over reps, interleaved old, new, new, old
        float *g0 = malloc(sizeof(float) * T * b * h), *h0 = malloc(sizeof(float) * (T + 1) * b * h);
        fwd(&r, 1); memcpy(g0, r.gates, sizeof(float) * T * b * h); memcpy(h0, r.hidden, sizeof(float) * (T + 1) * b * h);
        fwd(&r, 0);
        int same = !memcmp(g0, r.gates, sizeof(float) * T * b * h) && !memcmp(h0, r.hidden, sizeof(float) * (T + 1) * b * h);
        double best[2] = { 1e9, 1e9 };
        for (int rep = 0; rep < reps; rep++)
            for (int i = 0; i < 4; i++) {
                int old = i == 0 || i == 3;
                double t0 = now();
                fwd(&r, old);
                double t = now() - t0;
                if (t < best[!old]) best[!old] = t;
            }
        printf("H %ld B %ld T %ld forward (%s): old %.3f new %.3f ms (new/old %.3f)\n", h, b, T,
               same ? "same bits" : "DIFFERENT", 1e3 * best[0], 1e3 * best[1], best[1] / best[0]);
        return 0;
    }
    if (!strcmp(mode, "both")) {
        // bits: forward (packed as the library packs above 256; unpacked below) and backward
        float *g0 = malloc(sizeof(float) * T * b * h), *h0 = malloc(sizeof(float) * (T + 1) * b * h);
        float *d0 = malloc(sizeof(float) * T * b * h), *dh0 = malloc(sizeof(float) * b * h);
        float *dhIn = malloc(sizeof(float) * b * h);
        memcpy(dhIn, r.dh, sizeof(float) * b * h);
        for (int act = 1; act <= 2; act++) {
            r.act = act;
            if (r.packed) rk_pack_b(1, h, h, r.w, h, r.wp);
            fwd(&r, 1); memcpy(g0, r.gates, sizeof(float) * T * b * h); memcpy(h0, r.hidden, sizeof(float) * (T + 1) * b * h);
            fwd(&r, 0);
            int same = !memcmp(g0, r.gates, sizeof(float) * T * b * h) && !memcmp(h0, r.hidden, sizeof(float) * (T + 1) * b * h);
            printf("forward act %d: %s\n", act, same ? "same bits" : "DIFFERENT");
        }
        r.act = 1;
        fwd(&r, 0);
        if (r.packed) rk_pack_b(0, h, h, r.w, h, r.wp);
        bwd(&r, 1); memcpy(d0, r.dnet, sizeof(float) * T * b * h); memcpy(dh0, r.dh, sizeof(float) * b * h);
        memcpy(r.dh, dhIn, sizeof(float) * b * h);
        bwd(&r, 0);
        int same = !memcmp(d0, r.dnet, sizeof(float) * T * b * h) && !memcmp(dh0, r.dh, sizeof(float) * b * h);
        printf("backward: %s\n", same ? "same bits" : "DIFFERENT");
        double best[4] = { 1e9, 1e9, 1e9, 1e9 };
        for (int rep = 0; rep < reps; rep++)
            for (int i = 0; i < 4; i++) {
                int old = i == 0 || i == 3, back = rep & 1;   // old, new, new, old
                if (r.packed) rk_pack_b(back ? 0 : 1, h, h, r.w, h, r.wp);
                memcpy(r.dh, dhIn, sizeof(float) * b * h);
                double t0 = now();
                if (back) bwd(&r, old); else fwd(&r, old);
                double t = now() - t0;
                int slot = back * 2 + !old;
                if (t < best[slot]) best[slot] = t;
            }
        printf("H %ld B %ld T %ld: forward old %.3f new %.3f ms (new/old %.3f); backward old %.3f new %.3f ms (new/old %.3f)\n",
               h, b, T, 1e3 * best[0], 1e3 * best[1], best[1] / best[0], 1e3 * best[2], 1e3 * best[3], best[3] / best[2]);
        return 0;
    }
    int old = strstr(mode, "old") != NULL;
    if (!strncmp(mode, "fwd", 3)) { if (r.packed) rk_pack_b(1, h, h, r.w, h, r.wp); fwd(&r, old); }
    else { fwd(&r, 0); if (r.packed) rk_pack_b(0, h, h, r.w, h, r.wp); bwd(&r, old); }
    return 0;
}
