#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Ctrl-C (SIGINT) during long runs: the first asks the run to finish its step, save and
/// stop; a second one quits at once (without saving). Runs poll `isRequested` between steps.
enum Interrupt {
    /// Set by the signal handler (a lock-free atomic store is async-signal-safe).
    static let requested = Atomic<Bool>(false)
    /// Written by the handler with write(2), which is async-signal-safe; prepared in `install`.
    nonisolated(unsafe) static var notice: [UInt8] = []

    static func install() {
        notice = Array("\nstopping after this step and saving (Ctrl-C again quits without saving)\n".utf8)
        // A parent may have started us with SIGINT blocked (Foundation's Process does, from
        // some threads): unblock it, or Ctrl-C and `kill -INT` would never arrive.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigprocmask(SIG_UNBLOCK, &set, nil)
        signal(SIGINT) { _ in
            if Interrupt.requested.load(ordering: .relaxed) { _exit(130) }
            Interrupt.requested.store(true, ordering: .relaxed)
            Interrupt.notice.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count) }
        }
    }

    static var isRequested: Bool { requested.load(ordering: .relaxed) }
}
