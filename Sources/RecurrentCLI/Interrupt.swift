#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Stop signals during long runs: Ctrl-C (SIGINT), SIGTERM (what Slurm, systemd, Kubernetes
/// and `kill` send before a SIGKILL) and SIGHUP (the terminal went away). The first asks the
/// run to finish its step, save and stop (exit status 130 for all three); a second one quits
/// at once with status 130, without saving (the last complete checkpoint stays resumable).
/// Runs poll `isRequested` between steps.
enum Interrupt {
    /// The signals that stop a run cleanly.
    static let signals: [(number: Int32, name: String)] = [(SIGINT, "SIGINT (Ctrl-C)"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")]

    /// The exit status of a run stopped by any of `signals` (the shell's 128 + SIGINT).
    static let exitStatus: Int32 = 130

    /// Set by the signal handler (a lock-free atomic store is async-signal-safe).
    static let requested = Atomic<Bool>(false)
    /// The first stop signal's number (0 before any).
    static let signalNumber = Atomic<Int32>(0)
    /// One notice per entry of `signals`, written by the handler with write(2), which is
    /// async-signal-safe; prepared in `install` so the handler allocates nothing.
    nonisolated(unsafe) static var notices: [[UInt8]] = []

    static func install() {
        notices = signals.map { Array("\n\($0.name): stopping after this step and saving (a second signal quits without saving)\n".utf8) }
        // A parent may have started us with these signals blocked (Foundation's Process does,
        // from some threads): unblock them, or Ctrl-C and `kill` would never arrive.
        var set = sigset_t()
        sigemptyset(&set)
        for (number, _) in signals { sigaddset(&set, number) }
        sigprocmask(SIG_UNBLOCK, &set, nil)
        for (number, _) in signals {
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = Interrupt.handle
            #else
            action.__sigaction_u.__sa_handler = Interrupt.handle
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART   // interrupted reads and writes continue (a save in progress completes)
            sigaction(number, &action, nil)
        }
    }

    /// The handler: async-signal-safe calls only (atomics, write(2), _exit(2)).
    private static let handle: @convention(c) (Int32) -> Void = { number in
        if Interrupt.requested.exchange(true, ordering: .relaxed) { _exit(Interrupt.exitStatus) }
        Interrupt.signalNumber.store(number, ordering: .relaxed)
        for i in Interrupt.signals.indices where Interrupt.signals[i].number == number {
            Interrupt.notices[i].withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count) }
        }
    }

    static var isRequested: Bool { requested.load(ordering: .relaxed) }

    /// The name of the signal that stopped the run ("SIGINT (Ctrl-C)", "SIGTERM", "SIGHUP"), if any.
    static var signalName: String? {
        let number = signalNumber.load(ordering: .relaxed)
        return signals.first { $0.number == number }?.name
    }
}
