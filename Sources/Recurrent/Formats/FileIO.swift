import Foundation

// MARK: - File access

/// The library's file access: whole-file reads with a size limit and atomic writes, reporting
/// failures as ``DataError`` naming the path. The system calls are in `FileIO+System.swift`.
enum FileIO {
    /// Reads the whole file at `path`, at most `limit` bytes.
    ///
    /// Regular files above the limit are refused before reading; pipes and devices are read
    /// until the limit, or until one byte past the size their header announces when
    /// `declaredSize` can tell it from the bytes read so far (see ``readAll(path:limit:declaredSize:)``).
    /// - Parameters:
    ///   - what: the kind of file, for the too-large message, e.g. "text files".
    ///   - fix: how to get under the limit, for the too-large message.
    static func read(
        _ path: String, limit: Int, what: String, fix: String,
        declaredSize: (ArraySlice<UInt8>) -> Int? = { _ in nil }
    ) throws(DataError) -> [UInt8] {
        do {
            return try readAll(path: path, limit: limit, declaredSize: declaredSize)
        } catch {
            switch (error.step, error.code) {
            case (.tooLarge(let limit, _), _):
                throw DataError(
                    .tooLarge, "\(error.reason): \(what) are read whole into memory and may hold at most \(sizeText(limit))",
                    path: path, fix: fix)
            case (_, ENOENT):
                throw DataError(
                    .fileNotFound, "file does not exist", path: path,
                    fix: "check the path (current directory: \(FileManager.default.currentDirectoryPath))")
            case (_, EISDIR):
                throw DataError(.io, "path is a directory, expected a file", path: path, fix: "pass the path of a file")
            default:
                throw DataError(
                    .io, "cannot read file (\(error.reason))", path: path, fix: "check the file permissions")
            }
        }
    }

    /// `n` bytes in words: "4294967296 bytes (4 GiB)", "1000 bytes".
    static func sizeText(_ n: Int) -> String {
        for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] where n >= 1 << shift && n % (1 << shift) == 0 {
            return "\(n) bytes (\(n >> shift) \(unit))"
        }
        return "\(n) byte\(n == 1 ? "" : "s")"
    }

    /// Writes `bytes` to `path` atomically (``writeAtomically(_:to:)``: a temporary file in the
    /// same directory, fsynced, renamed over `path`), replacing any existing file.
    static func write(_ bytes: [UInt8], to path: String) throws(DataError) {
        do {
            try writeAtomically(bytes, to: path)
        } catch {
            throw DataError(
                .io, "cannot write file (\(error.reason))", path: path,
                fix: "check that the directory exists and is writable")
        }
    }

    /// Whether a regular file exists at `path`.
    static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}
