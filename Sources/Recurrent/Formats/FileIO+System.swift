#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - The system calls under FileIO

/// Whole-file reads and crash-safe (atomic) writes on top of POSIX calls, so that failures
/// carry the system's exact reason (`errno`). ``FileIO/read(_:limit:what:fix:declaredSize:)`` and
/// ``FileIO/write(_:to:)`` turn a ``Failure`` into a ``DataError``; readers with their own error
/// type (safetensors) call these directly.
extension FileIO {

    /// A failed system call: which step, on which path, and the `errno` value; or a file
    /// larger than the reader's limit (`step == .tooLarge`, `code == 0`).
    struct Failure: Error {
        enum Step: Equatable {
            case read, writeTemporary, sync, replace
            /// The file holds more than `limit` bytes; `size` is its size when the system knows
            /// it (regular files), `nil` for pipes and devices, where reading stopped at the limit.
            case tooLarge(limit: Int, size: Int?)
        }
        var step: Step
        /// The path the failing call was made on.
        var target: String
        var code: Int32
        /// The system's explanation of `code`, e.g. "No such file or directory".
        var reason: String {
            if case .tooLarge(let limit, let size) = step {
                return size.map { "the file has \($0) bytes, above the \(limit)-byte limit" }
                    ?? "more than \(limit) bytes arrived, the limit for this kind of file"
            }
            return String(cString: strerror(code))
        }
    }

    // MARK: - Reading

    /// Reads the whole file at `path`, at most `limit` bytes.
    ///
    /// A regular file larger than `limit` is refused before anything is read. Pipes, character
    /// devices (`/dev/zero`) and `/proc` files, whose size the system does not know, are read
    /// in growing pieces and refused as soon as more than `limit` bytes arrived, so memory never
    /// exceeds about `limit`. For those, `declaredSize` (called on the bytes read so far) may
    /// return the total size the content's own header announces; reading then stops one byte
    /// past it (enough for the parser to see trailing data), so an endless stream with a bad
    /// or small header costs no more than its header. It is not used for regular files, whose
    /// whole content is read so that errors can count trailing bytes exactly.
    static func readAll(
        path: String, limit: Int = Int.max - 1, declaredSize: (ArraySlice<UInt8>) -> Int? = { _ in nil }
    ) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(step: .read, target: path, code: errno) }
        defer { _ = close(fd) }

        var status = stat()
        guard fstat(fd, &status) == 0 else { throw Failure(step: .read, target: path, code: errno) }
        let kind = status.st_mode & S_IFMT
        guard kind != S_IFDIR else { throw Failure(step: .read, target: path, code: EISDIR) }
        let regularSize: Int? = kind == S_IFREG ? max(Int(status.st_size), 0) : nil
        if let regularSize, regularSize > limit {
            throw Failure(step: .tooLarge(limit: limit, size: regularSize), target: path, code: 0)
        }

        // Stop after `stop` bytes: one past the limit (to detect an over-long stream) or, once
        // known, one past the size the header declares.
        var stop = limit < Int.max ? limit + 1 : Int.max
        var declared: Int?
        // One spare byte lets a regular file reach end-of-file without growing.
        var bytes = [UInt8](repeating: 0, count: min(stop, (regularSize ?? (1 << 16) - 1) + 1))
        var filled = 0
        while filled < stop {
            if filled == bytes.count {
                bytes += repeatElement(0, count: min(max(bytes.count, 1 << 16), stop - bytes.count))
            }
            let count = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return systemRead(fd, base + filled, buffer.count - filled)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(step: .read, target: path, code: errno)
            }
            if count == 0 { break }
            filled += count
            if regularSize == nil, declared == nil, let size = declaredSize(bytes[..<filled]) {
                declared = size
                stop = min(stop, size < Int.max ? max(size, 0) + 1 : Int.max)  // a header may claim Int.max
            }
        }
        if min(filled, stop) > limit {
            // A regular file that grew while being read (or a /proc file, whose size reads as 0).
            throw Failure(step: .tooLarge(limit: limit, size: regularSize.flatMap { $0 > limit ? $0 : nil }),
                          target: path, code: 0)
        }
        bytes.removeSubrange(min(filled, stop)...)
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
                return systemWrite(fd, base + written, buffer.count - written)
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

/// POSIX `read(2)`, named apart from ``FileIO/read(_:limit:what:fix:declaredSize:)``.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }

/// POSIX `write(2)`, named apart from ``FileIO/write(_:to:)``.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
