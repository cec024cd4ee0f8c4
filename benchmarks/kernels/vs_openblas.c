// Config e's products (relu, B = 64, I = 64, T = 100; H = 256, 512 or 1024), ours against
// OpenBLAS's cblas_sgemm on the same shapes, interleaved in one process (ours, then OpenBLAS,
// then ours ...; the order flips every repetition), plus the 1024³ square and a pure FMA loop
// (the core's sustained FMA rate, AVX2 and AVX-512). Harness only: the package never links
// OpenBLAS. GFLOP/s here are indications under load, never results; instruction and cache
// counts come from running one shape alone under callgrind / cachegrind (`count` mode).
//   apt-get install -y libopenblas-dev
//   S=Sources/CRecurrentKernels
//   clang -O2 -fno-omit-frame-pointer -fPIC -I$S/include $S/*.c \
//       benchmarks/kernels/vs_openblas.c -o /tmp/vs_openblas -lopenblas -lpthread -lm
//   OPENBLAS_NUM_THREADS=1 /tmp/vs_openblas rate 512 [reps [shapes]]   # GFLOP/s per shape, ours and OpenBLAS
//   OPENBLAS_NUM_THREADS=1 /tmp/vs_openblas peak                 # FMA loop: GFLOP/s of one core
//   OPENBLAS_NUM_THREADS=1 valgrind --tool=cachegrind --cache-sim=yes /tmp/vs_openblas count 512 dWhh ours
//       (shape: step | dh | proj | dWhh | dWih | square; who: ours | blas; the shape runs 3 times)
// Under valgrind the CPU has no AVX-512 (valgrind does not emulate it), so OpenBLAS picks its
// Haswell (AVX2) kernels there; the rates in `rate` mode are of whatever this CPU runs natively.
//   NumPy's own OpenBLAS (the library the NumPy peer runs, which knows this CPU; ILP64, prefixed names):
//   NP=~/.cache/recurrent-peers-venv/lib/python3.11/site-packages/numpy.libs
//   clang -O2 -fno-omit-frame-pointer -fPIC -DRK_NUMPY_OPENBLAS -I$S/include $S/*.c \
//       benchmarks/kernels/vs_openblas.c -o /tmp/vs_numpy $NP/libscipy_openblas64_-*.so -Wl,-rpath,$NP -lpthread -lm
#define _GNU_SOURCE 1
#include "CRecurrentKernels.h"
#ifdef RK_NUMPY_OPENBLAS
#include "numpy_openblas.h"
#define cblas_sgemm scipy_cblas_sgemm64_
#define openblas_get_corename scipy_openblas_get_corename64_
#else
#include <cblas.h>
#endif
#undef I
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef RK_NUMPY_OPENBLAS
char *openblas_get_corename(void);
#endif

static float *rnd(long n, long seed) {
    float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64);
    for (long i = 0; i < n; i++) p[i] = (float)(((i + seed) * 7919 % 2001) - 1000) / 20000.0f;
    return p;
}
// CPU time of this thread: under load the process is descheduled, and wall time would count that.
static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

enum { B = 64, I = 64, T = 100 };
static long H;
static float *W, *Wpk, *Wtpk, *bias, *hs, *x, *net, *dnet, *dh, *dW, *xin, *Wih, *proj, *dWih, *sqA, *sqB, *sqC;

/// One shape, ours (who = 0) or OpenBLAS (who = 1); returns its FLOPs.
static double run(const char *shape, int who) {
    if (!strcmp(shape, "step")) {   // forward: h_t = relu(x_t + b + h_{t-1} W_hhᵀ), [B, H] x [H, H]
        if (who == 0) rk_recurrent_step_packed(B, H, H, hs, Wtpk, bias, x, net, hs + B * H, 1, 1);
        else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, H, H, 1, hs, H, W, H, 0, net, H);
        return 2.0 * B * H * H;
    }
    if (!strcmp(shape, "dh")) {     // backward: dh = dnet W_hh, [B, H] x [H, H]
        if (who == 0) rk_sgemm_packed_b(B, H, H, dnet, H, Wpk, dh, H, 0, 1);
        else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, H, 1, dnet, H, W, H, 0, dh, H);
        return 2.0 * B * H * H;
    }
    if (!strcmp(shape, "proj")) {   // input projection: x W_ihᵀ, [T*B, I] x [I, H]
        if (who == 0) rk_sgemm(0, 1, T * B, H, I, xin, I, Wih, I, proj, H, 0, 1);
        else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T * B, H, I, 1, xin, I, Wih, I, 0, proj, H);
        return 2.0 * T * B * H * I;
    }
    if (!strcmp(shape, "dWhh")) {   // dW_hh = dnetᵀ h over all steps, [H, T*B] x [T*B, H]
        if (who == 0) rk_sgemm(1, 0, H, H, T * B, dnet, H, hs, H, dW, H, 0, 1);
        else cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, H, T * B, 1, dnet, H, hs, H, 0, dW, H);
        return 2.0 * H * H * T * B;
    }
    if (!strcmp(shape, "dWih")) {   // dW_ih = dnetᵀ x over all steps, [H, T*B] x [T*B, I]
        if (who == 0) rk_sgemm(1, 0, H, I, T * B, dnet, H, xin, I, dWih, I, 0, 1);
        else cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, I, T * B, 1, dnet, H, xin, I, 0, dWih, I);
        return 2.0 * H * I * T * B;
    }
    if (!strcmp(shape, "square")) { // the 1024³ NN square
        if (who == 0) rk_sgemm(0, 0, 1024, 1024, 1024, sqA, 1024, sqB, 1024, sqC, 1024, 0, 1);
        else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1024, 1024, 1024, 1, sqA, 1024, sqB, 1024, 0, sqC, 1024);
        return 2.0 * 1024 * 1024 * 1024;
    }
    fprintf(stderr, "unknown shape %s (step | dh | proj | dWhh | dWih | square)\n", shape);
    exit(2);
}

// MARK: - Pure FMA loops: 12 independent chains, no memory traffic

__attribute__((target("avx2,fma"), noinline)) static float fma_loop_avx2(long n) {
    __m256 a[12], m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int r = 0; r < 12; r++) a[r] = _mm256_set1_ps((float)r);
    for (long i = 0; i < n; i++)
        for (int r = 0; r < 12; r++) a[r] = _mm256_fmadd_ps(a[r], m, c);
    __m256 s = a[0];
    for (int r = 1; r < 12; r++) s = _mm256_add_ps(s, a[r]);
    float t[8]; _mm256_storeu_ps(t, s); return t[0];
}

__attribute__((target("avx512f"), noinline)) static float fma_loop_avx512(long n) {
    __m512 a[12], m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int r = 0; r < 12; r++) a[r] = _mm512_set1_ps((float)r);
    for (long i = 0; i < n; i++)
        for (int r = 0; r < 12; r++) a[r] = _mm512_fmadd_ps(a[r], m, c);
    __m512 s = a[0];
    for (int r = 1; r < 12; r++) s = _mm512_add_ps(s, a[r]);
    return _mm512_reduce_add_ps(s);
}

static void peak(void) {
    long n = 20000000;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now(); volatile float s1 = fma_loop_avx2(n); double t1 = now();
        double g2 = 12.0 * 8 * 2 * n / (t1 - t0) / 1e9;
        double g5 = 0;
        if (__builtin_cpu_supports("avx512f")) {
            t0 = now(); volatile float s2 = fma_loop_avx512(n); t1 = now(); (void)s2;
            g5 = 12.0 * 16 * 2 * n / (t1 - t0) / 1e9;
        }
        (void)s1;
        printf("peak rep %d: AVX2 %.1f GFLOP/s (%.2f G vector FMAs/s)   AVX-512 %.1f GFLOP/s\n", rep, g2, g2 / 16, g5);
    }
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "rate";
    if (!strcmp(mode, "peak")) { peak(); return 0; }
    H = argc > 2 ? atol(argv[2]) : 512;
    W = rnd(H * H, 1); bias = rnd(H, 2); hs = rnd((T + 1) * B * H, 3); x = rnd(B * H, 4); net = rnd(B * H, 5);
    dnet = rnd(T * B * H, 6); dh = rnd(B * H, 7); dW = rnd(H * H, 8); xin = rnd(T * B * I, 9); Wih = rnd(H * I, 10);
    proj = rnd(T * B * H, 11); dWih = rnd(H * I, 12);
    sqA = rnd(1024 * 1024, 13); sqB = rnd(1024 * 1024, 14); sqC = rnd(1024 * 1024, 15);
    Wpk = rnd(rk_packed_b_floats(H, H), 16); rk_pack_b(0, H, H, W, H, Wpk);    // W_hh as op(B) of dh
    Wtpk = rnd(rk_packed_b_floats(H, H), 17); rk_pack_b(1, H, H, W, H, Wtpk);  // W_hhᵀ as op(B) of the step
    if (!strcmp(mode, "count")) {   // one shape, one side, 3 runs: for callgrind / cachegrind
        const char *shape = argc > 3 ? argv[3] : "dWhh";
        int who = argc > 4 && !strcmp(argv[4], "blas");
        for (int i = 0; i < 3; i++) run(shape, who);
        printf("%s H=%ld %s done (OpenBLAS core %s)\n", shape, H, who ? "blas" : "ours", openblas_get_corename());
        return 0;
    }
    int reps = argc > 3 ? atoi(argv[3]) : 30;
    const char *shapes[] = { "step", "dh", "proj", "dWhh", "dWih", "square" };
    printf("H = %ld, B = %d, I = %d, T = %d; OpenBLAS core %s; %d interleaved repetitions, median\n",
           H, B, I, T, openblas_get_corename(), reps);
    printf("| shape | ours GFLOP/s | OpenBLAS GFLOP/s | ours / OpenBLAS |\n|---|---|---|---|\n");
    const char *only = argc > 4 ? argv[4] : NULL;   // optional: a comma-separated list of shapes
    for (int s = 0; s < 6; s++) {
        if (only && !strstr(only, shapes[s])) continue;
        double *g[2] = { malloc(sizeof(double) * reps), malloc(sizeof(double) * reps) };
        int inner = !strcmp(shapes[s], "step") || !strcmp(shapes[s], "dh") ? 100 : 1;   // per-step products: T calls
        for (int who = 0; who < 2; who++) run(shapes[s], who);   // warm-up
        for (int r = 0; r < reps; r++)
            for (int o = 0; o < 2; o++) {
                int who = (o + r) & 1;
                double flops = 0, t0 = now();
                for (int i = 0; i < inner; i++) flops += run(shapes[s], who);
                g[who][r] = flops / (now() - t0) / 1e9;
            }
        qsort(g[0], reps, sizeof(double), cmp); qsort(g[1], reps, sizeof(double), cmp);
        double a = g[0][reps / 2], b = g[1][reps / 2];
        printf("| %s | %.1f | %.1f | %.2f |\n", shapes[s], a, b, a / b);
        fflush(stdout);
        free(g[0]); free(g[1]);
    }
    return 0;
}
