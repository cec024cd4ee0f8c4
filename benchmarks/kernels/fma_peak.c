// The core's arithmetic ceiling and what a second thread does to it: float FMA throughput of
// register-only loops (no memory traffic), 256-bit (AVX2) and 512-bit (AVX-512F), on 1 thread
// and on 2 threads at once (each pinned to its own CPU), and the same for a loop that streams a
// buffer of a given size (L1, L2 or memory resident) through FMAs. It answers, for issue #12:
// how many GFLOP/s one core can do with each instruction width (the ceiling the products are
// measured against), and whether two threads get twice one thread's rate (two physical cores)
// or not (shared core, clock, shared cache or memory bandwidth).
//   clang -O2 -pthread benchmarks/kernels/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak [seconds]
// Prints one line per measurement: the kind, the threads, GFLOP/s per thread and in total (wall
// clock), and per CPU second of each thread (the core's rate even when the machine is busy).
// Run it on an idle machine; each figure covers `seconds` (default 1.5) of work per thread. The
// streams also print their fastest burst of 100 passes on one thread (the figure least disturbed
// by other processes), and the 512-bit stream is the bound of the batch-1 row loop (seqrow.c).
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
// The calling thread's CPU time: on a busy machine the rate per CPU second is still the core's
// rate (for register-only loops), while the wall-clock rate shows only the share the thread got.
static double cpu_now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

// 12 (AVX2) or 24 (AVX-512) independent FMA chains: enough to cover 4-cycle latency on 2 ports.
__attribute__((target("avx2,fma"))) static double fma256(long n) {
    __m256 a[12], x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(-1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
    for (long k = 0; k < n; k++)
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], x, y);
    float s = 0, b[8];
    for (int i = 0; i < 12; i++) { _mm256_storeu_ps(b, a[i]); s += b[0]; }
    return s;
}
__attribute__((target("avx512f"))) static double fma512(long n) {
    __m512 a[24], x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(-1e-7f);
    for (int i = 0; i < 24; i++) a[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < n; k++)
        for (int i = 0; i < 24; i++) a[i] = _mm512_fmadd_ps(a[i], x, y);
    float s = 0, b[16];
    for (int i = 0; i < 24; i++) { _mm512_storeu_ps(b, a[i]); s += b[0]; }
    return s;
}
// One FMA per 8 floats loaded from a buffer of `floats` (cycled): a load-bound stream whose rate
// depends on where the buffer lives (L1, L2, memory).
__attribute__((target("avx2,fma"))) static double stream256(long n, const float *buf, long floats) {
    __m256 a[8], x = _mm256_set1_ps(1.0000001f);
    for (int i = 0; i < 8; i++) a[i] = _mm256_setzero_ps();
    for (long k = 0; k < n; k++)
        for (long j = 0; j < floats; j += 64)
            for (int i = 0; i < 8; i++) a[i] = _mm256_fmadd_ps(_mm256_loadu_ps(buf + j + 8 * i), x, a[i]);
    float s = 0, b[8];
    for (int i = 0; i < 8; i++) { _mm256_storeu_ps(b, a[i]); s += b[0]; }
    return s;
}
// The same at 512 bits: one FMA per 16 floats (a 64-byte line per load), 8 independent chains
// over 128 floats a pass (the row loop's shape: zmm FMAs with a memory operand, one line each).
// An L2-resident buffer gives the rate at which one core's FMAs can take operands from L2: the
// bound of seqrow.c's batch-1 loop, which reads all of W_hhᵀ from L2 once per step.
__attribute__((target("avx512f"))) static double stream512(long n, const float *buf, long floats) {
    __m512 a[8], x = _mm512_set1_ps(1.0000001f);
    for (int i = 0; i < 8; i++) a[i] = _mm512_setzero_ps();
    for (long k = 0; k < n; k++)
        for (long j = 0; j < floats; j += 128)
            for (int i = 0; i < 8; i++) a[i] = _mm512_fmadd_ps(_mm512_loadu_ps(buf + j + 16 * i), x, a[i]);
    float s = 0, b[16];
    for (int i = 0; i < 8; i++) { _mm512_storeu_ps(b, a[i]); s += b[0]; }
    return s;
}

typedef struct { int kind, cpu; long n, floats; const float *buf; double seconds, cpu_seconds, sink; pthread_barrier_t *bar; } job_t;

static double flops(const job_t *j) {
    if (j->kind == 0) return 2.0 * 8 * 12 * j->n;
    if (j->kind == 1) return 2.0 * 16 * 24 * j->n;
    return 2.0 * j->floats * j->n;
}
static void *run(void *arg) {
    job_t *j = arg;
    cpu_set_t set; CPU_ZERO(&set); CPU_SET(j->cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    pthread_barrier_wait(j->bar);
    double t0 = now(), c0 = cpu_now();
    j->sink = j->kind == 0 ? fma256(j->n) : j->kind == 1 ? fma512(j->n)
            : j->kind == 2 ? stream256(j->n, j->buf, j->floats) : stream512(j->n, j->buf, j->floats);
    j->seconds = now() - t0;
    j->cpu_seconds = cpu_now() - c0;
    return NULL;
}
// Calibrates n on one thread so that a run lasts about `span` seconds, then runs 1 and 2 threads.
static void measure(const char *name, int kind, long floats, double span) {
    float *bufs[2] = {0, 0};
    if (kind >= 2)
        for (int t = 0; t < 2; t++) {
            bufs[t] = aligned_alloc(64, (size_t)floats * 4);
            for (long i = 0; i < floats; i++) bufs[t][i] = 1e-3f * (float)(i % 17);
        }
    long n = 1000;
    for (;;) {
        pthread_barrier_t bar; pthread_barrier_init(&bar, NULL, 1);
        job_t j = {kind, 0, n, floats, bufs[0], 0, 0, 0, &bar};
        run(&j);
        pthread_barrier_destroy(&bar);
        if (j.seconds > span / 8) { n = (long)(n * span / j.seconds); break; }
        n *= 4;
    }
    for (int threads = 1; threads <= 2; threads++) {
        pthread_barrier_t bar; pthread_barrier_init(&bar, NULL, (unsigned)threads);
        job_t jobs[2]; pthread_t tid[2];
        for (int t = 0; t < threads; t++) {
            jobs[t] = (job_t){kind, t, n, floats, bufs[t], 0, 0, 0, &bar};
            pthread_create(&tid[t], NULL, run, &jobs[t]);
        }
        double per = 0, total = 0, per_cpu = 0;
        for (int t = 0; t < threads; t++) {
            pthread_join(tid[t], NULL);
            double g = flops(&jobs[t]) / jobs[t].seconds / 1e9;
            per += g / threads; total += g;
            per_cpu += flops(&jobs[t]) / jobs[t].cpu_seconds / 1e9 / threads;
        }
        printf("%-36s threads %d  GFLOP/s per thread %7.1f  total %7.1f  per CPU second %7.1f", name, threads, per, total,
               per_cpu);
        // A stream's FMA takes one float (4 bytes) per 2 flops: GB/s read = 2 x GFLOP/s.
        if (kind >= 2) printf("  (GB/s read per thread %6.1f, per CPU second %6.1f)", 2 * per, 2 * per_cpu);
        printf("\n");
        pthread_barrier_destroy(&bar);
    }
    // The fastest of many short bursts on one thread (each 100 passes over the buffer: for 1 MiB,
    // what one sequence of config e at batch 1 reads of W_hhᵀ): on a busy machine the best burst
    // is the rate of a core that was not interrupted, the figure to hold the row loop's best
    // call (benchmarks/kernels/seqrow_ab.c) against.
    if (kind >= 2 && floats <= (1L << 19)) {                  // cache-resident buffers only
        double best = 1e30;
        for (int burst = 0; burst < 400; burst++) {
            double t0 = now();
            volatile double sink = kind == 2 ? stream256(100, bufs[0], floats) : stream512(100, bufs[0], floats);
            (void)sink;
            double dt = now() - t0;
            if (dt < best) best = dt;
        }
        printf("%-36s best of 400 bursts of 100 passes: %.1f us a burst, GB/s read %6.1f\n", name, best * 1e6,
               100.0 * floats * 4 / best / 1e9);
    }
    free(bufs[0]); free(bufs[1]);
}

int main(int argc, char **argv) {
    double span = argc > 1 ? atof(argv[1]) : 1.5;
    measure("fma 256-bit (AVX2)", 0, 0, span);
    if (__builtin_cpu_supports("avx512f")) measure("fma 512-bit (AVX-512F)", 1, 0, span);
    else printf("fma 512-bit (AVX-512F): not supported by this CPU\n");
    measure("stream 256-bit, 32 KiB (L1)", 2, 8192, span);
    measure("stream 256-bit, 1 MiB (L2)", 2, 262144, span);
    measure("stream 256-bit, 64 MiB (memory)", 2, 16777216, span);
    if (__builtin_cpu_supports("avx512f")) {
        measure("stream 512-bit, 32 KiB (L1)", 3, 8192, span);
        measure("stream 512-bit, 512 KiB (L2, half W_hh)", 3, 131072, span);
        measure("stream 512-bit, 1 MiB (L2, W_hh H=512)", 3, 262144, span);
    }
    return 0;
}
