// The kernels' thread pool (see rk_parallel_for in include/CRecurrentKernels.h).
#include "internal.h"
// No implicit fused multiply-adds: a*b + c is rounded twice everywhere, so debug and release
// builds (and machines with and without FMA) give the same bits; the kernels' FMAs are explicit.
#pragma STDC FP_CONTRACT OFF
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>

// MARK: - Thread pool (spin, then sleep)
//
// A job is `parts` fixed pieces of work. The caller and the workers claim pieces from
// one atomic ticket (generation << 20 | next piece), so a worker that the OS has not
// scheduled never holds anyone up: the caller simply runs the unclaimed pieces itself.
// Which thread runs a piece never changes its result.

static pthread_mutex_t poolLock = PTHREAD_MUTEX_INITIALIZER;    // sleeping workers
static pthread_cond_t poolWake = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t poolOwner = PTHREAD_MUTEX_INITIALIZER;   // one caller at a time
static atomic_long ticket = 0;
static atomic_int completed = 0, sleeping = 0;
static _Atomic(task_fn) jobFn; static _Atomic(void *) jobCtx; static atomic_int jobParts;
static atomic_uint jobFPMode;   // the caller's denormal mode, taken by every thread that runs a piece
static atomic_int jobISA;       // the caller's own instruction set (-1: the process's), taken likewise
static int workerCount = 0;
enum { TICKET_SHIFT = 20 };

static inline void cpu_relax(void) {
#ifdef RK_X86
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Claims and runs pieces of generation `gen` until none is left.
static void run_pieces(long gen) {
    task_fn fn = atomic_load_explicit(&jobFn, memory_order_relaxed);
    void *ctx = atomic_load_explicit(&jobCtx, memory_order_relaxed);
    int parts = atomic_load_explicit(&jobParts, memory_order_relaxed);
    rk_fp_mode_set(atomic_load_explicit(&jobFPMode, memory_order_relaxed));
    rk_isa_adopt(atomic_load_explicit(&jobISA, memory_order_relaxed));
    long v = atomic_load_explicit(&ticket, memory_order_acquire);
    for (;;) {
        if ((v >> TICKET_SHIFT) != gen || (v & ((1L << TICKET_SHIFT) - 1)) >= parts) return;
        if (atomic_compare_exchange_weak_explicit(&ticket, &v, v + 1, memory_order_acq_rel, memory_order_acquire)) {
            fn(ctx, (int)(v & ((1L << TICKET_SHIFT) - 1)), parts);
            atomic_fetch_add_explicit(&completed, 1, memory_order_release);
            v = atomic_load_explicit(&ticket, memory_order_acquire);
        }
    }
}

static void *worker_main(void *raw) {
    long seen = (long)(intptr_t)raw;
    for (;;) {
        long g; int spins = 0;
        while ((g = atomic_load_explicit(&ticket, memory_order_acquire) >> TICKET_SHIFT) == seen) {
            if (++spins < 20000) { cpu_relax(); continue; }
            pthread_mutex_lock(&poolLock);
            atomic_fetch_add(&sleeping, 1);
            while ((atomic_load(&ticket) >> TICKET_SHIFT) == seen) pthread_cond_wait(&poolWake, &poolLock);
            atomic_fetch_sub(&sleeping, 1);
            pthread_mutex_unlock(&poolLock);
            spins = 0;
        }
        seen = g;
        run_pieces(g);
    }
    return NULL;
}

/// Runs fn(ctx, part, parts) for every part, on the caller and up to parts - 1
/// workers. Runs everything on the caller when another thread holds the pool.
void rk_parallel_run(task_fn fn, void *ctx, int parts) {
    if (parts <= 1 || pthread_mutex_trylock(&poolOwner) != 0) {
        for (int i = 0; i < parts; i++) fn(ctx, i, parts);
        return;
    }
    while (workerCount < parts - 1) {
        pthread_t t;
        long gen = atomic_load(&ticket) >> TICKET_SHIFT;
        if (pthread_create(&t, NULL, worker_main, (void *)(intptr_t)gen) != 0) break;
        pthread_detach(t);
        workerCount++;
    }
    atomic_store_explicit(&completed, 0, memory_order_relaxed);
    atomic_store_explicit(&jobFn, fn, memory_order_relaxed);
    atomic_store_explicit(&jobCtx, ctx, memory_order_relaxed);
    atomic_store_explicit(&jobParts, parts, memory_order_relaxed);
    atomic_store_explicit(&jobFPMode, rk_fp_mode_get(), memory_order_relaxed);
    atomic_store_explicit(&jobISA, rk_isa_of_thread(), memory_order_relaxed);
    long gen = (atomic_load(&ticket) >> TICKET_SHIFT) + 1;
    atomic_store(&ticket, gen << TICKET_SHIFT);          // publish (seq_cst)
    if (atomic_load(&sleeping) > 0) {
        pthread_mutex_lock(&poolLock);
        pthread_cond_broadcast(&poolWake);
        pthread_mutex_unlock(&poolLock);
    }
    run_pieces(gen);
    for (long spins = 0; atomic_load_explicit(&completed, memory_order_acquire) < parts; spins++) {
        if (spins > 2000) sched_yield(); else cpu_relax();
    }
    pthread_mutex_unlock(&poolOwner);
}

void rk_parallel_for(int parts, void (*fn)(void *ctx, int part, int parts), void *ctx) {
    if (parts < 1) return;
    rk_parallel_run(fn, ctx, parts);
}
