#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Ctrl-C (SIGINT) as a flag that long runs poll between steps: the step finishes,
/// a checkpoint is written, and the command exits cleanly. A second Ctrl-C kills.
enum Interrupt {
    static let requested = Atomic<Bool>(false)

    static func install() {
        signal(SIGINT) { _ in
            if Interrupt.requested.load(ordering: .relaxed) { _exit(130) }
            Interrupt.requested.store(true, ordering: .relaxed)
        }
    }

    static var wasRequested: Bool { requested.load(ordering: .relaxed) }
}
