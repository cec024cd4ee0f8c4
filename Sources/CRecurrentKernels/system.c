// The machine: which bodies run (AVX2+FMA or portable), CPU affinity, allocator tuning.
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF
#include <sched.h>
#include <stdatomic.h>
#ifdef RK_X86
#include <cpuid.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// MARK: - Dispatch

/// The process's bodies (RK_ISA_GENERIC, RK_ISA_AVX2 or RK_ISA_AVX512), -1 until first asked:
/// written once, at the first call (the CPU, capped by RECURRENT_ISA).
static _Atomic int isa = -1;

/// A thread's own choice (rk_set_isa), -1 for none: it overrides the process's for the kernels
/// this thread calls and for the pool pieces it hands out (pool.c passes it with every job, as
/// the denormal mode), so one thread's choice never reaches another thread's calls.
static _Thread_local int threadISA = -1;

int rk_isa_of_thread(void) { return threadISA; }
void rk_isa_adopt(int chosen) { threadISA = chosen; }

#ifdef RK_X86
/// XCR0 (XGETBV with ecx = 0): which register states the OS saves and restores.
static unsigned long long xcr0(void) {
    unsigned lo, hi;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

int rk_isa_available(void) {
#ifdef RK_X86
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return RK_ISA_GENERIC;
    // AVX-512 needs the instructions (CPUID leaf 7: F, BW, DQ, VL) and the OS saving the
    // ZMM state: XCR0 bits 1-2 (SSE, AVX) and 5-7 (opmask, ZMM0-15 upper halves, ZMM16-31).
    int cpu512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) cpu512 = 0;   // OSXSAVE: XGETBV usable
    if (cpu512 && (xcr0() & 0xE6) == 0xE6) return RK_ISA_AVX512;
    return RK_ISA_AVX2;
#else
    return RK_ISA_GENERIC;
#endif
}

int rk_isa(void) {
    if (threadISA >= 0) return threadISA;
    int now = isa;
    if (now >= 0) return now;
    int best = rk_isa_available(), chosen = best;
    // RECURRENT_ISA=generic|avx2|avx512 (read once) caps the bodies; asking for more than the
    // CPU has gives what it has. RECURRENT_NO_AVX2 (older name) is RECURRENT_ISA=generic.
    const char *want = getenv("RECURRENT_ISA");
    if (want && !strcmp(want, "generic")) chosen = RK_ISA_GENERIC;
    else if (want && !strcmp(want, "avx2")) chosen = best < RK_ISA_AVX2 ? best : RK_ISA_AVX2;
    if (getenv("RECURRENT_NO_AVX2")) chosen = RK_ISA_GENERIC;
    int expected = -1;
    atomic_compare_exchange_strong(&isa, &expected, chosen);   // a concurrent first call chose the same
    return isa;
}

int rk_set_isa(int wanted) {
    if (wanted < RK_ISA_GENERIC || wanted > rk_isa_available()) return -1;
    int before = rk_isa();
    threadISA = wanted;
    return before;
}

int rk_uses_avx2(void) { return rk_isa() >= RK_ISA_AVX2; }

int rk_uses_avx512(void) { return rk_isa() >= RK_ISA_AVX512; }

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
