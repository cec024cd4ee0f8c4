// Config e's forward and backward time loops as the library runs them (rk_rnn_forward_rows,
// rk_relu_rnn_backward_rows: T steps over [T*B, H] buffers that move through memory), against
// the NumPy peer's loops written with OpenBLAS (benchmarks/rnn_peer_bench.py's build_numpy:
// the projection in one sgemm, then per step sgemm + add + max; backward: mask, sgemm), in one
// process, interleaved (ours, OpenBLAS, OpenBLAS, ours, ...), thread CPU time, median. Unlike
// vs_openblas.c's per-product loop (the same h_prev and W every call, all in cache), this
// counts what a pass costs in place: x, net and h of every step written to or read from memory.
// An indication under load, never a result.
//   S=Sources/CRecurrentKernels; NP=~/.cache/recurrent-peers-venv/lib/python3.11/site-packages/numpy.libs
//   clang -O2 -fno-omit-frame-pointer -fPIC -I$S/include $S/*.c benchmarks/kernels/big_passes.c \
//       -o /tmp/big_passes $NP/libscipy_openblas64_-*.so -Wl,-rpath,$NP -lpthread -lm
//   OPENBLAS_NUM_THREADS=1 /tmp/big_passes 512 [reps]      # H = 256, 512, 1024 (B 64, I 64, T 100)
//   /tmp/big_passes 512 10 align     # ours on 64-byte-aligned buffers against ours on buffers 16 bytes past
// The OpenBLAS here is NumPy's own (scipy-openblas, ILP64, prefixed names), the library the NumPy
// peer runs, which knows this CPU (its core: SkylakeX or newer).
#define _GNU_SOURCE 1
#include "CRecurrentKernels.h"
#undef I
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>

#include "numpy_openblas.h"

static long misalign = 0;   // floats past a 64-byte boundary (glibc's mmap-backed malloc: 16 bytes past a page)
static float *rnd(long n, long seed, float scale) {
    float *p = (float *)aligned_alloc(64, ((n * 4 + 63) / 64) * 64 + 64) + misalign;
    unsigned long long z = 0x9E3779B97F4A7C15ull * (unsigned long long)(seed + 1);
    for (long i = 0; i < n; i++) {   // uniform in [-scale, scale): no periodic pattern, no denormals
        z = z * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = scale * ((float)(z >> 40) / 8388608.0f - 1.0f);
    }
    return p;
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

enum { B = 64, I = 64, T = 100 };
static long H;
static float *W, *Wt, *Wpk, *Wtpk, *Wih, *bias, *bih, *xs, *pre, *gates, *hidden, *dout, *dh, *dnet, *tmp;
typedef struct { float *Wpk, *Wtpk, *pre, *gates, *hidden, *dh, *dnet; } set_t;
static set_t sets[2];
static int alignMode = 0;   // 1: who 0 = ours on 64-byte-aligned buffers, who 1 = ours on buffers 16 bytes past
static void use(int s) {
    Wpk = sets[s].Wpk; Wtpk = sets[s].Wtpk; pre = sets[s].pre; gates = sets[s].gates; hidden = sets[s].hidden;
    dh = sets[s].dh; dnet = sets[s].dnet;
}

/// The forward pass, ours (who 0: the library's time loop with its step-by-step projection) or
/// the NumPy peer's structure on OpenBLAS (who 1). Returns the products' FLOPs.
static double forward(int who) {
    if (alignMode) use(who);
    if (who == 0 || alignMode) {
        rk_rnn_forward_rows(T, B, 0, B, H, Wtpk, 1, bias, I, xs, Wih, bih, pre, gates, hidden, 1, 1);
    } else {
        scipy_cblas_sgemm64_(CblasRowMajor, CblasNoTrans, CblasTrans, T * B, H, I, 1, xs, I, Wih, I, 0, pre, H);
        for (long r = 0; r < T * B; r++) for (long j = 0; j < H; j++) pre[r * H + j] += bias[j] + bih[j];
        for (long t = 0; t < T; t++) {
            const float *hp = hidden + t * B * H, *x = pre + t * B * H;
            float *g = gates + t * B * H, *hn = hidden + (t + 1) * B * H;
            scipy_cblas_sgemm64_(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, H, 1, hp, H, Wt, H, 0, tmp, H);
            for (long i = 0; i < B * H; i++) { float v = tmp[i] + x[i]; g[i] = v; hn[i] = v < 0 ? 0 : v; }
        }
    }
    return 2.0 * T * B * H * (H + I);
}

/// The backward pass through time (dL/dh_T given, no per-step loss), ours or the peer's.
static double backward(int who) {
    if (alignMode) use(who);
    for (long i = 0; i < B * H; i++) dh[i] = dout[i];
    if (who == 0 || alignMode) {
        rk_relu_rnn_backward_rows(T, B, 0, B, H, Wpk, 1, gates, NULL, dh, dnet, 1);
        return 2.0 * T * B * H * H;
    }
    for (long t = T - 1; t >= 0; t--) {
        const float *h1 = hidden + (t + 1) * B * H;
        float *dz = dnet + t * B * H;
        for (long i = 0; i < B * H; i++) dz[i] = h1[i] > 0 ? dh[i] : 0;
        if (t) scipy_cblas_sgemm64_(CblasRowMajor, CblasNoTrans, CblasTrans, B, H, H, 1, dz, H, Wt, H, 0, dh, H);
    }
    return 2.0 * (T - 1) * B * H * H;
}

int main(int argc, char **argv) {
    H = argc > 1 ? atol(argv[1]) : 512;
    int reps = argc > 2 ? atoi(argv[2]) : 10;
    alignMode = argc > 3 && !strcmp(argv[3], "align");
    float s = sqrtf(6.0f / (float)H);   // W_hh's gain about 1 through relu (half the units pass): no decay to denormals
    W = rnd(H * H, 1, s); Wih = rnd(H * I, 2, 0.1f); bias = rnd(H, 3, 0.01f); bih = rnd(H, 4, 0.01f);
    xs = rnd(T * B * I, 5, 1); pre = rnd(T * B * H, 6, 1); gates = rnd(T * B * H, 7, 1);
    hidden = rnd((T + 1) * B * H, 8, 1); dout = rnd(B * H, 9, 0.01f); dh = rnd(B * H, 10, 1);
    dnet = rnd(T * B * H, 11, 1); tmp = rnd(B * H, 12, 1);
    Wt = rnd(H * H, 13, 1);                                   // W_hhᵀ, as the peer holds it (w_hh [H_in, H_out])
    for (long i = 0; i < H; i++) for (long j = 0; j < H; j++) Wt[j * H + i] = W[i * H + j];
    Wpk = rnd(rk_packed_b_floats(H, H), 14, 1); rk_pack_b(0, H, H, W, H, Wpk);     // W_hh as op(B) of dh
    Wtpk = rnd(rk_packed_b_floats(H, H), 15, 1); rk_pack_b(1, H, H, W, H, Wtpk);   // W_hhᵀ, the step's
    memset(hidden, 0, sizeof(float) * B * H);
    sets[0] = (set_t){ Wpk, Wtpk, pre, gates, hidden, dh, dnet };
    if (alignMode) {   // the same contents 16 bytes past a 64-byte boundary
        misalign = 4;
        set_t m = { rnd(rk_packed_b_floats(H, H), 14, 1), rnd(rk_packed_b_floats(H, H), 15, 1), rnd(T * B * H, 6, 1),
                    rnd(T * B * H, 7, 1), rnd((T + 1) * B * H, 8, 1), rnd(B * H, 10, 1), rnd(T * B * H, 11, 1) };
        memcpy(m.Wpk, Wpk, sizeof(float) * rk_packed_b_floats(H, H));
        memcpy(m.Wtpk, Wtpk, sizeof(float) * rk_packed_b_floats(H, H));
        memset(m.hidden, 0, sizeof(float) * B * H);
        sets[1] = m;
        printf("align mode: ours on 64-byte-aligned buffers (the first column) against ours 16 bytes past (the second)\n");
    }
    printf("H = %ld, B = %d, I = %d, T = %d; OpenBLAS core %s; %d interleaved repetitions, median, thread CPU time\n",
           H, B, I, T, scipy_openblas_get_corename64_(), reps);
    printf("| pass | ours ms | OpenBLAS ms | ours GFLOP/s | OpenBLAS GFLOP/s | ours / OpenBLAS (speed) |\n|---|---|---|---|---|---|\n");
    const char *names[] = { "forward", "backward" };
    for (int pass = 0; pass < 2; pass++) {
        double *ms[2] = { malloc(sizeof(double) * reps), malloc(sizeof(double) * reps) }, fl[2] = { 0, 0 };
        for (int who = 0; who < 2; who++) { forward(who); if (pass) backward(who); }   // warm-up (and gates for backward)
        for (int r = 0; r < reps; r++)
            for (int o = 0; o < 2; o++) {
                int who = (o + r) & 1;
                if (pass) forward(who);   // the backward reads its own forward's gates and hidden (from memory)
                double t0 = now();
                fl[who] = pass ? backward(who) : forward(who);
                ms[who][r] = 1e3 * (now() - t0);
            }
        qsort(ms[0], reps, sizeof(double), cmp); qsort(ms[1], reps, sizeof(double), cmp);
        double a = ms[0][reps / 2], b = ms[1][reps / 2];
        printf("| %s | %.2f | %.2f | %.1f | %.1f | %.2f |\n", names[pass], a, b, fl[0] / a / 1e6, fl[1] / b / 1e6, b / a);
        fflush(stdout);
        free(ms[0]); free(ms[1]);
    }
    return 0;
}
