import Foundation
import Recurrent
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Output helpers: unbuffered lines (so pipes and tests see them at once), stderr, and
/// whether standard output is a terminal. A failed write (the terminal went away, which is
/// also when SIGHUP comes) is ignored, so the run still saves and stops cleanly.
enum Terminal {
    static var isTTY: Bool { isatty(1) != 0 }

    /// Columns of the terminal on stdout (80 when unknown).
    static var columns: Int {
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    static func out(_ text: String, terminator: String = "\n") {
        try? FileHandle.standardOutput.write(contentsOf: Data((text + terminator).utf8))
    }

    static func err(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data((text + "\n").utf8))
    }
}

/// Fixed-point text: `fixed(0.16667, 4)` = "0.1667" (the library's `NumberText`).
func fixed(_ x: Double, _ digits: Int) -> String { NumberText.fixed(x, digits: digits) }

/// A metric for people: 4 significant figures (the library's `NumberText`).
func number(_ x: Double) -> String { NumberText.significant(x, digits: 4) }

/// "1:05" or "1:02:03".
func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "--:--" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}
