import Foundation

// MARK: - Reading and writing files

extension SafeTensorsFile {

    /// Reads and validates the safetensors file at `url`.
    ///
    /// At most ``maximumFileSize`` bytes are read; a pipe or device (e.g. `/dev/zero`) is read
    /// no further than the size its header declares.
    /// - Throws: ``SafeTensorsError`` whose ``SafeTensorsError/path`` is the file's path.
    public init(contentsOf url: URL) throws(SafeTensorsError) {
        try self.init(contentsOf: url, maximumSize: Self.maximumFileSize)
    }

    /// ``init(contentsOf:)`` with another size limit (tests use small ones).
    init(contentsOf url: URL, maximumSize: Int) throws(SafeTensorsError) {
        let path = url.path
        guard url.isFileURL else {
            throw SafeTensorsError(
                .fileSystem(operation: .read, target: url.absoluteString, detail: "not a file URL"), path: url.absoluteString)
        }
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(path: path, limit: maximumSize) { Self.declaredFileSize($0) }
        } catch {
            if case .tooLarge(let limit, let size) = error.step {
                throw SafeTensorsError(.fileTooLarge(size: size, limit: limit), path: path)
            }
            throw SafeTensorsError(.fileSystem(operation: .read, target: error.target, detail: error.reason), path: path)
        }
        do {
            try self.init(bytes: bytes)
        } catch {
            var located = error
            located.path = path
            throw located
        }
    }

    /// Writes the file to `url` atomically: the bytes go to a temporary file in
    /// the same directory, which is flushed to disk and then renamed over `url`.
    /// On failure nothing is left behind and an existing file at `url` is untouched.
    /// - Throws: ``SafeTensorsError`` naming the path (e.g. a missing directory).
    public func write(to url: URL) throws(SafeTensorsError) {
        let path = url.path
        guard url.isFileURL else {
            throw SafeTensorsError(
                .fileSystem(operation: .writeTemporary, target: url.absoluteString, detail: "not a file URL"),
                path: url.absoluteString)
        }
        let bytes: [UInt8]
        do {
            bytes = try serialized()
        } catch {
            var located = error
            located.path = path
            throw located
        }
        do {
            try FileIO.writeAtomically(bytes, to: path)
        } catch {
            let operation: SafeTensorsError.FileOperation = switch error.step {
            case .read: .read
            case .writeTemporary: .writeTemporary
            case .sync: .sync
            case .replace: .replace
            case .tooLarge: .read  // not raised by writes
            }
            throw SafeTensorsError(.fileSystem(operation: operation, target: error.target, detail: error.reason), path: path)
        }
    }
}
