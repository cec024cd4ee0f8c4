// Instruction counts by ptrace single-stepping, for code valgrind cannot run (AVX-512): a forked
// child runs `run` once to warm up (scratch allocated, pages touched), calls `warmed` (may be
// NULL), stops, runs `run` again unless `empty`, and stops; the parent counts the instructions
// between the two stops. The count of a call is count(0) - count(1) (the stop itself cancels).
// Included by isa_products.c and isa_gates.c.
#include <signal.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

static long long single_step_count(void (*run)(void), void (*warmed)(void), int empty) {
    pid_t pid = fork();
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        run();
        if (warmed) warmed();
        raise(SIGSTOP);
        if (!empty) run();
        raise(SIGSTOP);
        _exit(0);
    }
    int st; long long n = 0;
    waitpid(pid, &st, 0);
    for (;;) {
        ptrace(PTRACE_SINGLESTEP, pid, 0, 0);
        waitpid(pid, &st, 0);
        if (WIFEXITED(st)) break;
        n++;
        if (WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP) break;
    }
    kill(pid, SIGKILL); waitpid(pid, &st, 0);
    return n;
}
