// Where the relu RNN's training step at H = 100 (configs a and b) loses on two threads: each
// phase's kernel run on one thread alone against the same kernel on both threads at once (each its
// half of the batch rows, through the kernel pool as BPTT runs it), in thread CPU time (robust to
// preemption on a loaded machine) and wall time, min over many repetitions; and the cost of one
// fork-join of the pool with nothing to do.
//   S=Sources/CRecurrentKernels
//   clang -O2 -fno-omit-frame-pointer -fPIC -I$S/include $S/*.c benchmarks/kernels/two_threads.c \
//       -o /tmp/two_threads -lpthread -lm
//   /tmp/two_threads 16 784 40      # batch steps reps (a); 128 784 15 for b
//   valgrind --tool=callgrind /tmp/two_threads 16 784 1 f2   # f|k, 1|2: part 0 of 1 or 2, once;
//                                                            w2: W on 2 threads (--separate-threads=yes)
// Phases: F = rk_rnn_forward_rows over all steps (input projection inside, I = 1); K = the relu
// backward loop (rk_relu_rnn_backward_rows) over all steps; W = the chunked weight gradients
// (rk_weight_gradients_into, 256-row chunks, its own thread split). "alone": part 0's rows on the
// caller while the other core idles; "both": parts 0 and 1 at once on the pool (the caller is
// part 0 or 1, whichever claims first). CPU µs per part is the part's own thread CPU time.
#define _GNU_SOURCE
#include "CRecurrentKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double wall(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec * 1e-3; }
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec * 1e6 + t.tv_nsec * 1e-3; }
static float *rnd(long n, unsigned seed, float scale) {
    float *p = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    for (long i = 0; i < n; i++) { seed = seed * 1664525u + 1013904223u; p[i] = scale * (float)((int)(seed >> 9) % 20001 - 10000) / 10000.0f; }
    return p;
}

enum { H = 100 };
typedef struct {
    long steps, batch; int phase;                   // 0 forward, 1 backward
    float *wt, *w, *bias, *inputs, *wih, *bih, *pre, *gates, *hidden, *dout, *dh, *dnet;
    double cpuUs[2], wallUs[2];                     // per part, last run
} job_t;

static void run_part(job_t *j, int part, int parts) {
    long r0 = j->batch * part / parts, r1 = j->batch * (part + 1) / parts;
    double c0 = cpu(), w0 = wall();
    if (j->phase == 0)
        rk_rnn_forward_rows(j->steps, j->batch, r0, r1 - r0, H, j->wt, 0, j->bias, 1, j->inputs, j->wih, j->bih, j->pre,
                            j->gates, j->hidden, 1, 1);
    else
        rk_relu_rnn_backward_rows(j->steps, 0, j->steps, j->batch, r0, r1 - r0, H, j->w, 0, j->gates, j->dout, j->dh,
                                  j->dnet, 1);
    j->cpuUs[part] = cpu() - c0; j->wallUs[part] = wall() - w0;
}
static void task(void *ctx, int part, int parts) { run_part((job_t *)ctx, part, parts); }
static void nothing(void *ctx, int part, int parts) { (void)ctx; (void)part; (void)parts; }

static int cmpd(const void *p, const void *q) { double u = *(const double *)p, v = *(const double *)q; return (u > v) - (u < v); }
static double median(double *v, int n) { qsort(v, (size_t)n, sizeof(double), cmpd); return v[n / 2]; }
static double minimum(const double *v, int n) { double m = v[0]; for (int i = 1; i < n; i++) if (v[i] < m) m = v[i]; return m; }

int main(int argc, char **argv) {
    long batch = argc > 1 ? atol(argv[1]) : 16, steps = argc > 2 ? atol(argv[2]) : 784;
    int reps = argc > 3 ? atoi(argv[3]) : 40;
    long rows = steps * batch;
    job_t j = { steps, batch, 0, rnd(H * H, 1, 0.1f), rnd(H * H, 2, 0.1f), rnd(H, 3, 0.1f), rnd(rows, 4, 1), rnd(H, 5, 1),
                rnd(H, 6, 0.1f), calloc((size_t)(rows * H), 4), calloc((size_t)(rows * H), 4),
                calloc((size_t)((rows + batch) * H), 4), rnd(rows * H, 7, 0.01f), calloc((size_t)(batch * H), 4),
                calloc((size_t)(rows * H), 4), {0}, {0} };
    double *a = malloc(sizeof(double) * (size_t)reps * 8);
    if (argc > 4) {   // one kernel once, for instruction counts: f|k (phase) with rows 0 ..< batch / parts
        int parts = atoi(argv[4] + 1);
        if (argv[4][0] == 'w') {   // the chunked weight gradients on `parts` threads (callgrind --separate-threads=yes)
            float *c = calloc((size_t)(H * (H + 3)), 4);
            long chunk = 256 / batch < 1 ? batch : 256 / batch * batch;
            for (long r0 = 0; r0 < rows; r0 += chunk)
                rk_weight_gradients_into(rows - r0 < chunk ? rows - r0 : chunk, H, j.dnet + r0 * H, j.hidden + r0 * H, H, H,
                                         j.inputs + r0, 1, 1, c, parts);
            return 0;
        }
        j.phase = argv[4][0] == 'k';
        run_part(&j, 0, parts < 1 ? 1 : parts);
        return 0;
    }
    printf("batch %ld, steps %ld, H %d, %d reps (min / median)\n", batch, steps, H, reps);
    for (int phase = 0; phase < 2; phase++) {
        j.phase = phase;
        const char *name = phase == 0 ? "F forward rows" : "K backward rows";
        double *ac = a, *bc0 = a + reps, *bc1 = a + 2 * reps, *aw = a + 3 * reps, *bw = a + 4 * reps, *oc = a + 5 * reps;
        for (int r = 0; r < reps; r++) {   // interleaved: alone, both, one thread over all rows
            memset(j.dh, 0, sizeof(float) * (size_t)(batch * H));
            double w0 = wall(); run_part(&j, 0, 2); aw[r] = wall() - w0; ac[r] = j.cpuUs[0];
            memset(j.dh, 0, sizeof(float) * (size_t)(batch * H));
            w0 = wall(); rk_parallel_for(2, task, &j); bw[r] = wall() - w0; bc0[r] = j.cpuUs[0]; bc1[r] = j.cpuUs[1];
            memset(j.dh, 0, sizeof(float) * (size_t)(batch * H));
            run_part(&j, 0, 1); oc[r] = j.cpuUs[0];
        }
        printf("%s: all rows on 1 thread: cpu %.0f / %.0f us\n", name, minimum(oc, reps), median(oc, reps));
        printf("%s: half alone:  cpu %.0f / %.0f us, wall %.0f / %.0f\n", name, minimum(ac, reps), median(ac, reps),
               minimum(aw, reps), median(aw, reps));
        printf("%s: both halves: cpu part0 %.0f / %.0f, part1 %.0f / %.0f us, wall %.0f / %.0f\n", name, minimum(bc0, reps),
               median(bc0, reps), minimum(bc1, reps), median(bc1, reps), minimum(bw, reps), median(bw, reps));
    }
    // The weight gradients, chunk by chunk of 256 rows as BPTT sums them (C [H, H + 1 + 2]).
    long chunk = 256 / batch < 1 ? batch : 256 / batch * batch, n = H + 1 + 2;
    float *c = calloc((size_t)(H * n), 4);
    double *w1 = a, *w2 = a + reps;
    for (int r = 0; r < reps; r++) {
        for (int threads = 1; threads <= 2; threads++) {
            double w0 = wall();
            for (long r0 = 0; r0 < rows; r0 += chunk)
                rk_weight_gradients_into(rows - r0 < chunk ? rows - r0 : chunk, H, j.dnet + r0 * H, j.hidden + r0 * H, H, H,
                                         j.inputs + r0, 1, 1, c, threads);
            (threads == 1 ? w1 : w2)[r] = wall() - w0;
        }
    }
    printf("W weight gradients (%ld-row chunks): wall 1 thread %.0f / %.0f us, 2 threads %.0f / %.0f us\n", chunk,
           minimum(w1, reps), median(w1, reps), minimum(w2, reps), median(w2, reps));
    int forks = 20000;
    double *fk = malloc(sizeof(double) * (size_t)forks);
    for (int i = 0; i < forks; i++) { double w0 = wall(); rk_parallel_for(2, nothing, NULL); fk[i] = wall() - w0; }
    printf("fork-join with nothing to do: %.2f / %.2f us (min / median of %d)\n", minimum(fk, forks), median(fk, forks), forks);
    return 0;
}
