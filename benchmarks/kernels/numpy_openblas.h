// NumPy's own OpenBLAS (numpy.libs/libscipy_openblas64_*.so in the peers' venv): the library the
// NumPy peer runs, which knows this CPU. ILP64 (64-bit sizes) with prefixed names, so it is
// declared here rather than through <cblas.h>. Harness only: the package never links it.
#pragma once
enum { CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112 };
void scipy_cblas_sgemm64_(int order, int ta, int tb, long m, long n, long k, float alpha, const float *a, long lda,
                          const float *b, long ldb, float beta, float *c, long ldc);
char *scipy_openblas_get_corename64_(void);
