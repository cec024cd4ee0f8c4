#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file binary reads and crash-safe (atomic) writes on top of POSIX calls,
/// so that failures carry the system's exact reason (`errno`).
enum BinaryFileIO {

    /// A failed system call: which step, on which path, and the `errno` value.
    struct Failure: Error {
        enum Step { case read, writeTemporary, sync, replace }
        var step: Step
        /// The path the failing call was made on.
        var target: String
        var code: Int32
        /// The system's explanation of `code`, e.g. "No such file or directory".
        var reason: String { String(cString: strerror(code)) }
    }

    // MARK: - Reading

    /// Reads the whole file at `path`.
    static func readAll(path: String) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(step: .read, target: path, code: errno) }
        defer { _ = close(fd) }

        var status = stat()
        let expected = fstat(fd, &status) == 0 ? max(Int(status.st_size), 0) : 0
        // One spare byte lets the usual case reach end-of-file without growing.
        var bytes = [UInt8](repeating: 0, count: expected + 1)
        var filled = 0
        while true {
            if filled == bytes.count {
                bytes += repeatElement(0, count: max(bytes.count, 1 << 16))
            }
            let count = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return read(fd, base + filled, buffer.count - filled)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(step: .read, target: path, code: errno)
            }
            if count == 0 { break }
            filled += count
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    // MARK: - Atomic writing

    /// Writes `bytes` to `path` atomically: into a new temporary file in the same
    /// directory (`.<name>.tmp-<random>`), flushed with `fsync`, then renamed over
    /// `path`. Readers see either the old file or the complete new one. On failure
    /// the temporary file is removed and an existing `path` is left untouched.
    /// An existing destination's permission bits are kept.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(Failure) {
        let (directory, name) = split(path)
        let suffix = String(UInt64.random(in: .min ... .max), radix: 16)
        let temporary = "\(directory)/\(temporaryPrefix(of: name))\(suffix)"

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(step: .writeTemporary, target: temporary, code: errno) }
        var isOpen = true
        var succeeded = false
        defer {
            if isOpen { _ = close(fd) }
            if !succeeded { _ = unlink(temporary) }
        }

        var existing = stat()
        if stat(path, &existing) == 0, (existing.st_mode & S_IFMT) == S_IFREG {
            _ = fchmod(fd, existing.st_mode & 0o7777)
        }
        try writeFully(fd, bytes, target: temporary)
        guard fsync(fd) == 0 else { throw Failure(step: .sync, target: temporary, code: errno) }
        isOpen = false
        guard close(fd) == 0 else { throw Failure(step: .sync, target: temporary, code: errno) }
        guard rename(temporary, path) == 0 else { throw Failure(step: .replace, target: path, code: errno) }
        succeeded = true
        syncDirectory(directory)
    }

    /// The name of `writeAtomically`'s temporary file for `name`, up to its random hex suffix.
    static func temporaryPrefix(of name: String) -> String { ".\(name).tmp-" }

    /// Removes the temporary files a `writeAtomically(_:to: path)` left behind when its
    /// process was killed between creating one and renaming it: exactly the entries
    /// `.<name>.tmp-<hex>` beside `path`, nothing else. Best effort; returns the paths removed.
    static func removeLeftoverTemporaries(of path: String) -> [String] {
        let (directory, name) = split(path)
        let prefix = temporaryPrefix(of: name)
        guard let dir = opendir(directory) else { return [] }
        var candidates: [String] = []
        while let entry = readdir(dir) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard entryName.hasPrefix(prefix) else { continue }
            let suffix = entryName.dropFirst(prefix.count)
            if !suffix.isEmpty && suffix.allSatisfy(\.isHexDigit) { candidates.append("\(directory)/\(entryName)") }
        }
        closedir(dir)
        return candidates.filter { unlink($0) == 0 }
    }

    private static func writeFully(_ fd: Int32, _ bytes: [UInt8], target: String) throws(Failure) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return write(fd, base + written, buffer.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(step: .writeTemporary, target: target, code: errno)
            }
            written += count
        }
    }

    /// Makes the rename durable; best effort, since not every file system allows it.
    private static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        _ = close(fd)
    }

    /// Splits a path into its directory ("." when there is none) and last component.
    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}
