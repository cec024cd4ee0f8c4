// The kernels' products of one training step of configs a, b, e (T cut to 100 / 10) and of the
// B = 500 forward, without Swift: for instruction counts per kernel and bit checks (prints an FNV
// hash of the hidden states, dh and dW_hh: equal hashes before and after a kernel change mean
// the same bits). Build with SwiftPM's release flags, run under callgrind:
//   S=Sources/CRecurrentKernels
//   clang -O2 -fno-omit-frame-pointer -fPIC -I$S/include $S/*.c \
//       benchmarks/kernels/products.c -o /tmp/products -lpthread -lm
//   /tmp/products e 2                       # case a|b|e|inf, threads
//   valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file=/tmp/cg.e /tmp/products e
//   benchmarks/kernels/fmas_per_function.py /tmp/products /tmp/cg.e
#include "CRecurrentKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static float *rnd(long n) { float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64); for (long i = 0; i < n; i++) p[i] = (float)((i * 7919 % 2001) - 1000) / 20000.0f; return p; }
static unsigned long long sum(const float *p, long n) { unsigned long long h = 1469598103934665603ULL; const unsigned char *b = (const unsigned char *)p; for (long i = 0; i < 4 * n; i++) { h ^= b[i]; h *= 1099511628211ULL; } return h; }
int main(int argc, char **argv) {
    const char *c = argv[1];
    long B, H, T, I; int threads = argc > 2 ? atoi(argv[2]) : 1;
    if (!strcmp(c, "a")) { B = 16; H = 100; T = 100; I = 1; }
    else if (!strcmp(c, "b")) { B = 128; H = 100; T = 100; I = 1; }
    else if (!strcmp(c, "e")) { B = 64; H = 512; T = 10; I = 64; }
    else { B = 500; H = 128; T = 28; I = 28; }
    int packed = H > 256;
    float *w = rnd(H * H), *wt = rnd(H * H), *bias = rnd(H), *x = rnd(T * B * H), *hs = rnd((T + 1) * B * H), *net = rnd(T * B * H);
    float *pk = rnd(rk_packed_b_floats(H, H)); rk_pack_b(1, H, H, w, H, pk);
    float *dW = rnd(H * H), *dh = rnd(B * H), *wi = rnd(H * I), *xin = rnd(T * B * I), *proj = rnd(T * B * H);
    // forward: input projection (NT: x W_ihᵀ), then T fused steps
    rk_sgemm(0, 1, T * B, H, I, xin, I, wi, I, proj, H, 0, threads);
    for (long t = 0; t < T; t++) {
        if (packed) rk_recurrent_step_packed(B, H, H, hs + t * B * H, pk, bias, proj + t * B * H, net + t * B * H, hs + (t + 1) * B * H, 1, threads);
        else rk_recurrent_step(B, H, H, hs + t * B * H, wt, bias, proj + t * B * H, net + t * B * H, hs + (t + 1) * B * H, 1, threads);
    }
    if (strcmp(c, "inf")) {
        // backward: T products dh = dnet W_hh, then dW_hh = dnetᵀ h (one TN product)
        for (long t = T - 1; t >= 0; t--) {
            if (packed) { rk_sgemm_packed_b(B, H, H, net + t * B * H, H, pk, dh, H, 0, threads); }
            else rk_sgemm(0, 0, B, H, H, net + t * B * H, H, w, H, dh, H, 0, threads);
        }
        rk_sgemm(1, 0, H, H, T * B, net, H, hs, H, dW, H, 0, threads);
    }
    printf("%s %016llx %016llx %016llx\n", c, sum(hs, (T + 1) * B * H), sum(dh, B * H), sum(dW, H * H));
    return 0;
}
