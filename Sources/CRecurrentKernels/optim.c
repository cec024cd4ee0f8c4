// Adam's element-wise update (rk_adam_update): PyTorch's formula, one pass over the four buffers.
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the operations are explicit.
#pragma STDC FP_CONTRACT OFF

// Both bodies run the operations of Adam.update's Swift loop in its order, one rounding each
// (sqrt and division are correctly rounded in every lane), so every element has the same bits
// in the portable loop, the AVX2 body and its tail, for any split of the elements.

static inline void adam_one(float *p, float *m, float *v, float gi, const rk_adam_t *a) {
    float pi = *p, g = gi;
    if (a->decoupled) pi = pi * a->decay; else if (a->coupled) g = g + a->wd * pi;
    float mi = a->b1 * *m + a->omb1 * g;
    float vi = a->b2 * *v + (a->omb2 * g) * g;
    float denom = sqrtf(vi) / a->correction2 + a->eps;
    *m = mi; *v = vi;
    *p = pi - (a->step * mi) / denom;
}

#ifdef RK_X86
static RK_AVX2 void adam_avx2(long n, float *p, float *m, float *v, const float *g, const rk_adam_t *a) {
    const __m256 b1 = _mm256_set1_ps(a->b1), omb1 = _mm256_set1_ps(a->omb1), b2 = _mm256_set1_ps(a->b2);
    const __m256 omb2 = _mm256_set1_ps(a->omb2), c2 = _mm256_set1_ps(a->correction2), eps = _mm256_set1_ps(a->eps);
    const __m256 step = _mm256_set1_ps(a->step), decay = _mm256_set1_ps(a->decay), wd = _mm256_set1_ps(a->wd);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 pi = _mm256_loadu_ps(p + i), gi = _mm256_loadu_ps(g + i);
        if (a->decoupled) pi = _mm256_mul_ps(pi, decay); else if (a->coupled) gi = _mm256_add_ps(gi, _mm256_mul_ps(wd, pi));
        __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(omb1, gi));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(omb2, gi), gi));
        __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), c2), eps);
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        _mm256_storeu_ps(p + i, _mm256_sub_ps(pi, _mm256_div_ps(_mm256_mul_ps(step, mi), denom)));
    }
    for (; i < n; i++) adam_one(p + i, m + i, v + i, g[i], a);
}
#endif

void rk_adam_update(long n, float *p, float *m, float *v, const float *g, const rk_adam_t *a) {
#ifdef RK_X86
    if (rk_uses_avx2()) { adam_avx2(n, p, m, v, g, a); return; }
#endif
    for (long i = 0; i < n; i++) adam_one(p + i, m + i, v + i, g[i], a);
}
