import Foundation

// MARK: - File access

/// Whole-file reads and writes that report failures as ``DataError`` naming the path.
enum FileIO {
    /// Reads the whole file at `path`.
    static func read(_ path: String) throws(DataError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(
                .fileNotFound, "file does not exist", path: path,
                fix: "check the path (current directory: \(FileManager.default.currentDirectoryPath))")
        }
        guard !isDirectory.boolValue else {
            throw DataError(.io, "path is a directory, expected a file", path: path, fix: "pass the path of a file")
        }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
            return [UInt8](data)
        } catch {
            throw DataError(
                .io, "cannot read file (\(error.localizedDescription))", path: path,
                fix: "check the file permissions")
        }
    }

    /// Writes `bytes` to `path`, replacing any existing file.
    static func write(_ bytes: [UInt8], to path: String) throws(DataError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DataError(
                .io, "cannot write file (\(error.localizedDescription))", path: path,
                fix: "check that the directory exists and is writable")
        }
    }

    /// Whether a regular file exists at `path`.
    static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}
