// The machine: which bodies run (AVX2+FMA or portable), CPU affinity, allocator tuning.
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF
#include <sched.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// MARK: - Dispatch

static int use_avx2 = -1;

int rk_uses_avx2(void) {
    if (use_avx2 < 0) {
#ifdef RK_X86
        __builtin_cpu_init();
        use_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
        if (getenv("RECURRENT_NO_AVX2")) use_avx2 = 0;
#else
        use_avx2 = 0;
#endif
    }
    return use_avx2;
}

// MARK: - CPU affinity

int rk_pin_first_cpus(int n) {
#if defined(__linux__) && defined(CPU_SET)
    cpu_set_t have, want;
    if (sched_getaffinity(0, sizeof have, &have) != 0) return -1;
    CPU_ZERO(&want);
    int taken = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && taken < n; cpu++)
        if (CPU_ISSET(cpu, &have)) { CPU_SET(cpu, &want); taken++; }
    if (taken < CPU_COUNT(&have) && sched_setaffinity(0, sizeof want, &want) != 0) return -1;
    cpu_set_t now;
    if (sched_getaffinity(0, sizeof now, &now) != 0) return -1;
    return CPU_COUNT(&now);
#else
    (void)n;
    return -1;
#endif
}

int rk_retain_freed_memory(void) {
#if defined(__GLIBC__)
    return mallopt(M_TRIM_THRESHOLD, 1 << 30) && mallopt(M_MMAP_THRESHOLD, 1 << 30) ? 1 : 0;
#else
    return 0;
#endif
}

// MARK: - Denormals

int rk_set_flush_denormals(int on) {
    int before = rk_flushes_denormals();
    if (before < 0) return -1;
    rk_fp_mode_set(on ? RK_FP_FLUSH : 0);
    return before;
}

int rk_flushes_denormals(void) {
#if defined(RK_X86) || defined(__aarch64__)
    return rk_fp_mode_get() == RK_FP_FLUSH ? 1 : 0;
#else
    return -1;
#endif
}
