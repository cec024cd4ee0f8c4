import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Writing an event file

/// Writes one new TensorBoard event file in a run folder: `file_version` first, then the
/// events it is given. Each `write` is one write(2) of whole records straight to the file
/// (no buffer in between), so a running `tensorboard --logdir` sees every batch at once and a
/// killed process leaves only whole records behind it (or, at worst, a cut last one, which
/// TensorBoard waits on and skips).
///
/// The wall time of every event comes from `clock` (seconds since 1970), injected so that
/// tests write the same bytes every time.
public final class TensorBoardEventWriter {
    /// The file: `<folder>/events.out.tfevents.<unix seconds, 10 digits>.<hostname>`, the name
    /// TensorBoard's own writer uses (minus its pid and counter). When that name is taken
    /// (two files in the same second), `.1`, `.2`, ... is appended: it still matches
    /// `*tfevents*` and sorts after the first.
    public let url: URL
    private let handle: FileHandle
    private let clock: () -> Double

    /// Creates `directory` if needed and a new event file in it, and writes the file version.
    public init(directory: URL, hostname: String = ProcessInfo.processInfo.hostName,
                clock: @escaping () -> Double = { Date().timeIntervalSince1970 }) throws(DataError) {
        self.clock = clock
        try Self.createFolder(directory)
        let now = clock()
        let seconds = now.isFinite ? Int64(now.rounded(.down)) : 0
        let digits = String(seconds)
        let host = String(hostname.map { $0 == "/" ? "_" : $0 })
        let base = "\(TensorBoardEventFile.namePrefix)\(String(repeating: "0", count: max(0, 10 - digits.count)))\(digits).\(host.isEmpty ? "localhost" : host)"
        var attempt = 0
        while true {
            let name = attempt == 0 ? base : "\(base).\(attempt)"
            let candidate = directory.appendingPathComponent(name)
            let fd = open(candidate.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 {
                url = candidate
                handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
                break
            }
            let code = errno
            guard code == EEXIST, attempt < 10_000 else {
                throw DataError(.io, "cannot create the event file (\(String(cString: strerror(code))))", path: candidate.path,
                                fix: "choose a writable folder")
            }
            attempt += 1
        }
        try write([TensorBoardEvent(wallTime: now, step: 0, content: .fileVersion(TensorBoardEvent.currentFileVersion))])
    }

    /// Creates `folder` and its missing parents (like `mkdir -p`); the error names the first
    /// path that could not be made a folder and the system's reason ("Not a directory", ...).
    public static func createFolder(_ folder: URL) throws(DataError) {
        var path = ""
        for component in folder.standardizedFileURL.path.split(separator: "/", omittingEmptySubsequences: true) {
            path += "/" + component
            if mkdir(path, 0o755) == 0 { continue }
            let code = errno
            var status = stat()
            if code == EEXIST && stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR { continue }
            let reason = code == EEXIST ? "it is a file, not a folder" : String(cString: strerror(code))
            throw DataError(.io, "cannot create the TensorBoard folder \(folder.path) (\(reason))", path: path,
                            fix: "choose another folder, or remove what is in the way")
        }
    }

    /// Seconds since 1970 by this writer's clock.
    public var now: Double { clock() }

    /// Appends `events` as records in one write.
    public func write(_ events: [TensorBoardEvent]) throws(DataError) {
        var bytes: [UInt8] = []
        for event in events { bytes += TensorBoardRecord.framed(event.encoded) }
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw DataError(.io, "cannot write to the event file (\(error.localizedDescription))", path: url.path,
                            fix: "check the free space and permissions of its folder")
        }
    }

    /// Appends one event holding `scalars` at `step`, stamped with the clock's time.
    public func write(_ scalars: [TensorBoardScalar], step: Int) throws(DataError) {
        guard !scalars.isEmpty else { return }
        try write([TensorBoardEvent(wallTime: clock(), step: Int64(step), content: .scalars(scalars))])
    }

    /// Marks a (re)start at `step`: TensorBoard's Python loader then drops this run folder's
    /// points at steps ≥ `step` written before (by a process that died after its last checkpoint).
    public func writeSessionStart(step: Int) throws(DataError) {
        try write([TensorBoardEvent(wallTime: clock(), step: Int64(step), content: .sessionStart)])
    }
}
