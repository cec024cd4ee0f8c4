// Config e's per-step products on AVX2 at H > 256: the step (avx2_large.c) bit for bit against
// the body it replaces, and in-process rates of both per-step products against the old bodies and
// OpenBLAS's sgemm on the same shapes (min over repetitions, CPU time of this thread; each
// repetition runs T = 100 steps over [T*B, H] streams as a pass does). ONLY=014 times only those
// products (0-5 as in `pass`).
//   S=Sources/CRecurrentKernels; NP=~/.cache/recurrent-peers-venv/lib/python3.11/site-packages/numpy.libs
//   clang -O2 -fno-omit-frame-pointer -fPIC -DRK_NUMPY_OPENBLAS -I$S/include -I$S -Ibenchmarks/kernels $S/*.c \
//       benchmarks/kernels/large_step.c -o /tmp/large_step $NP/libscipy_openblas64_-*.so -Wl,-rpath,$NP -lpthread -lm
//   /tmp/large_step check                               # bits: 0 differ expected
//   OPENBLAS_CORETYPE=Zen OPENBLAS_NUM_THREADS=1 /tmp/large_step rate 512 [reps]
//   valgrind --tool=callgrind /tmp/large_step count 512 step|dnet|dnetk|old|projstep|stepproj   # one pass of T steps
// ours = the library's entry (rk_recurrent_step_packed; rk_avx2_relu_dnet on panels, relu' fused,
// full k), old = step_avx2 on W_hhᵀ in place and rk_sgemm_packed_b then dout and relu' (the H > 256
// backward loop), blas = cblas_sgemm (NumPy's OpenBLAS: the product alone, no epilogue).
#include "internal.h"
#ifdef RK_NUMPY_OPENBLAS
#include "numpy_openblas.h"
#define cblas_sgemm scipy_cblas_sgemm64_
#else
#include <cblas.h>
#endif
#include <stdio.h>
#include <time.h>

enum { T = 100 };

static float *rnd(long n, long seed) {
    float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64);
    for (long i = 0; i < n; i++) p[i] = (float)(((i + seed) * 7919 % 2001) - 1000) / 2000.0f;
    return p;
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

/// Bits: the new step against the in-place step (step_avx2, the same chain), and rk_avx2_relu_dnet on
/// panels against rk_sgemm_packed_b + dout + relu' (the H > 256 backward loop).
static int check(void) {
    long hs[] = { 257, 300, 512, 1024 }, rs[] = { 1, 7, 64 };
    int bad = 0, cases = 0;
    for (int hi = 0; hi < 4; hi++)
        for (int ri = 0; ri < 3; ri++)
            for (int g = 1; g <= 4; g += 3) {   // n = k (relu, tanh) and n = 4k (no activation, LSTM's gates)
                long k = hs[hi], n = g * k, rows = rs[ri];
                float *w = rnd(n * k, 1), *wt = rnd(k * n, 2), *pk = rnd(rk_packed_b_floats(k, n), 3);
                for (long r = 0; r < n; r++) for (long c = 0; c < k; c++) wt[c * n + r] = w[r * k + c];
                rk_pack_b(1, k, n, w, k, pk);
                float *hp = rnd(rows * k, 4), *bias = rnd(n, 5), *x = rnd(rows * n, 6);
                hp[0] = -0.0f; x[1] = NAN; bias[2] = INFINITY;
                for (int act = g == 1 ? 1 : 0; act <= (g == 1 ? 2 : 0); act++) {
                    float *n0 = rnd(rows * n, 7), *h0 = rnd(rows * n, 8), *n1 = rnd(rows * n, 9), *h1 = rnd(rows * n, 10);
                    rk_recurrent_step(rows, n, k, hp, wt, bias, x, n0, h0, act, 1);
                    rk_avx2_large_step(rows, n, k, hp, pk, bias, x, NULL, 0, NULL, NULL, n1, h1, n, act);
                    cases++;
                    if (memcmp(n0, n1, rows * n * 4) || (act && memcmp(h0, h1, rows * n * 4))) {
                        bad++; printf("step differs: k %ld n %ld rows %ld act %d\n", k, n, rows, act);
                    }
                    free(n0); free(h0); free(n1); free(h1);
                }
                for (long ku = 9; g == 1 && ku <= 64; ku += 55) {   // x formed in the epilogue (W_ihᵀ panels)
                    float *u = rnd(rows * ku, 18), *wih = rnd(n * ku, 19), *wihp = rnd(rk_packed_b_floats(ku, n), 20);
                    float *bih = rnd(n, 21), *xs = rnd(rows * n, 22), *n0 = rnd(rows * n, 7), *h0 = rnd(rows * n, 8);
                    float *n1 = rnd(rows * n, 9), *h1 = rnd(rows * n, 10);
                    u[1] = NAN; bih[3] = -0.0f;
                    rk_pack_b(1, ku, n, wih, ku, wihp);
                    for (long r = 0; r < rows; r++) memcpy(xs + r * n, bih, n * 4);
                    rk_sgemm_packed_b(rows, n, ku, u, ku, wihp, xs, n, 1, 1);
                    rk_avx2_large_step(rows, n, k, hp, pk, bias, xs, NULL, 0, NULL, NULL, n0, h0, n, 1);
                    rk_avx2_large_step(rows, n, k, hp, pk, bias, NULL, u, ku, wihp, bih, n1, h1, n, 1);
                    cases++;
                    if (memcmp(n0, n1, rows * n * 4) || memcmp(h0, h1, rows * n * 4)) {
                        bad++; printf("step with projection differs: k %ld rows %ld ku %ld\n", k, rows, ku);
                    }
                    free(u); free(wih); free(wihp); free(bih); free(xs); free(n0); free(h0); free(n1); free(h1);
                }
                if (g == 1) {   // backward: W_hh [k, n] as op(B) panels
                    float *pb = rnd(rk_packed_b_floats(k, n), 11);
                    rk_pack_b(0, k, n, w, n, pb);
                    float *dn = rnd(rows * k, 12), *dout = rnd(rows * n, 13), *np = rnd(rows * n, 14);
                    dn[3] = NAN; np[4] = NAN; np[5] = -0.0f; np[6] = 0.0f;
                    for (int o = 0; o < 2; o++) {
                        const float *d_out = o ? dout : NULL;
                        float *want = rnd(rows * n, 15), *fused = rnd(rows * n, 17);
                        rk_sgemm_packed_b(rows, n, k, dn, k, pb, want, n, 0, 1);
                        if (d_out) for (long i = 0; i < rows * n; i++) want[i] += d_out[i];
                        rk_relu_backward(rows * n, np, want, want);
                        rk_avx2_relu_dnet(rows, n, k, dn, pb, 0, d_out, np, fused);
                        cases++;
                        if (memcmp(want, fused, rows * n * 4)) {
                            bad++; printf("dnet differs: k %ld rows %ld dout %d\n", k, rows, o);
                        }
                        rk_avx2_large_relu_dnet(rows, n, k, dn, pb, d_out, np, fused);
                        cases++;
                        if (memcmp(want, fused, rows * n * 4)) {
                            bad++; printf("large dnet differs: k %ld rows %ld dout %d\n", k, rows, o);
                        }
                        free(want); free(fused);
                    }
                    free(pb); free(dn); free(dout); free(np);
                }
                free(w); free(wt); free(pk); free(hp); free(bias); free(x);
            }
    printf("%d cases, %d differ\n", cases, bad);
    return bad != 0;
}

static long H;
static float *W, *Wt, *Wpk, *Wtpk, *bias, *hs, *x, *net, *dnet, *dout, *dh, *u, *Wihpk;   // u [T*B, 64]

/// One pass of T steps of a product: 0 step (ours), 1 step on W_hhᵀ in place (old body), 2 OpenBLAS
/// NT; 3 backward, relu' fused (rk_avx2_relu_dnet), 4 rk_sgemm_packed_b + dout + relu' (old), 5 OpenBLAS NN,
/// 6 relu' fused in k blocks (rk_avx2_large_relu_dnet); 7 the input projection (I = 64) then the step,
/// 8 the step forming x in its epilogue (both: the input projection's FLOPs not counted in GFLOP/s).
static void pass(int who) {
    long B = 64, n = B * H;
    for (long t = 0; t < T; t++) {
        float *hp = hs + t * n, *xt = x + t * n, *nt = net + t * n;
        switch (who) {
        case 0: rk_recurrent_step_packed(B, H, H, hp, Wtpk, bias, xt, nt, hp + n, 1, 1); break;
        case 1: rk_recurrent_step(B, H, H, hp, Wt, bias, xt, nt, hp + n, 1, 1); break;
        case 2: cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, H, H, 1, hp, H, W, H, 0, nt, H); break;
        case 3: rk_avx2_relu_dnet(B, H, H, dnet + (T - t) * n, Wpk, 0, dout + (T - 1 - t) * n, net + (T - 1 - t) * n,
                                  dnet + (T - 1 - t) * n); break;
        case 4: rk_sgemm_packed_b(B, H, H, dnet + (T - t) * n, H, Wpk, dh, H, 0, 1);
                for (long i = 0; i < n; i++) dh[i] += dout[(T - 1 - t) * n + i];
                rk_relu_backward(n, net + (T - 1 - t) * n, dh, dnet + (T - 1 - t) * n); break;
        case 6: rk_avx2_large_relu_dnet(B, H, H, dnet + (T - t) * n, Wpk, dout + (T - 1 - t) * n, net + (T - 1 - t) * n,
                                        dnet + (T - 1 - t) * n); break;
        case 7: for (long r = 0; r < B; r++) memcpy(xt + r * H, bias, H * 4);
                rk_sgemm_packed_b(B, H, 64, u + t * B * 64, 64, Wihpk, xt, H, 1, 1);
                rk_recurrent_step_packed(B, H, H, hp, Wtpk, bias, xt, nt, hp + n, 1, 1); break;
        case 8: rk_avx2_large_step(B, H, H, hp, Wtpk, bias, NULL, u + t * B * 64, 64, Wihpk, bias, nt, hp + n, H, 1); break;
        case 5: cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, H, 1, dnet + (T - t) * n, H, W, H, 0,
                            dnet + (T - 1 - t) * n, H); break;
        }
    }
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "check";
    if (!strcmp(mode, "check")) return check();
    H = argc > 2 ? atol(argv[2]) : 512;
    long n = 64 * H;
    W = rnd(H * H, 1); Wt = rnd(H * H, 2); bias = rnd(H, 3); hs = rnd((T + 1) * n, 4); x = rnd(T * n, 5);
    net = rnd(T * n, 6); dnet = rnd((T + 1) * n, 7); dout = rnd(T * n, 8); dh = rnd(n, 9);
    for (long i = 0; i < H * H; i++) W[i] *= 0.05f;
    for (long r = 0; r < H; r++) for (long c = 0; c < H; c++) Wt[c * H + r] = W[r * H + c];
    Wpk = rnd(rk_packed_b_floats(H, H), 10); rk_pack_b(0, H, H, W, H, Wpk);
    Wtpk = rnd(rk_packed_b_floats(H, H), 11); rk_pack_b(1, H, H, W, H, Wtpk);
    u = rnd(T * 64 * 64, 12); Wihpk = rnd(rk_packed_b_floats(64, H), 13); rk_pack_b(1, 64, H, W, 64, Wihpk);
    if (!strcmp(mode, "count")) {   // one pass of one product, for callgrind
        const char *what = argc > 3 ? argv[3] : "step";
        pass(!strcmp(what, "step") ? 0 : !strcmp(what, "stepold") ? 1 : !strcmp(what, "dnet") ? 3 : !strcmp(what, "dnetk") ? 6 : !strcmp(what, "projstep") ? 7 : !strcmp(what, "stepproj") ? 8 : 4);
        return 0;
    }
    int reps = argc > 3 ? atoi(argv[3]) : 20;
    const char *names[] = { "step (ours)", "step, W_hhT in place (old body)", "step product, OpenBLAS sgemm NT",
                            "dnet, rk_avx2_relu_dnet on panels (relu' fused, full k)", "dnet, rk_sgemm_packed_b + relu' (old)", "dh product, OpenBLAS sgemm NN",
                            "dnet, rk_avx2_large_relu_dnet (relu' fused, k blocks)",
                            "x = b_ih + u W_ihT (I = 64, packed_b), then step (ours)", "step, x in its epilogue (I = 64)" };
    double best[9];
    for (int w = 0; w < 9; w++) { best[w] = 1e30; pass(w); }
    const char *only = getenv("ONLY");   // e.g. ONLY=0134: the products to time
    for (int r = 0; r < reps; r++)
        for (int w0 = 0; w0 < 9; w0++) {
            int w = (w0 + r) % 9;   // rotate the order
            if (only && !strchr(only, (char)('0' + w))) continue;
            double t0 = now(); pass(w); double dt = now() - t0;
            if (dt < best[w]) best[w] = dt;
        }
    printf("H = %ld, B = 64, T = %d; min over %d repetitions of a pass\n| product | us per step | GFLOP/s |\n|---|---|---|\n", H, T, reps);
    for (int w = 0; w < 9; w++)
        if (best[w] < 1e30) printf("| %s | %.1f | %.1f |\n", names[w], best[w] / T * 1e6, 2.0 * 64 * H * H * T / best[w] / 1e9);
    return 0;
}
