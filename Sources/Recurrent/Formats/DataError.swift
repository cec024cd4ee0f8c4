// MARK: - DataError

/// An error raised while reading or preparing training data.
///
/// Every error says **what** is wrong (`what`), **where** (`path`, and when known the
/// `byteOffset` into the file — or into the decompressed stream for gzip input — and/or the
/// `recordIndex`, i.e. the index of the image, sequence or label concerned) and **how** to fix it
/// (`fix`). `description` joins them into one line:
///
///     /data/train-images-idx3-ubyte at byte 4: expected 47040016 bytes, found 1000. Fix: …
public struct DataError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Broad category of the failure, for programmatic handling.
    public enum Kind: String, Sendable, Equatable {
        /// The file does not exist.
        case fileNotFound
        /// The file exists but could not be read or written.
        case io
        /// The file ends before the data that its header announces.
        case truncated
        /// The file does not start with the expected magic number.
        case badMagic
        /// A valid but unsupported feature (element type, Fortran order, ...).
        case unsupported
        /// Checksums or compressed data are corrupted.
        case corrupt
        /// A header or value is syntactically or semantically invalid.
        case malformed
        /// Two files or values that must agree do not.
        case mismatch
        /// An argument passed by the caller is out of range.
        case invalidArgument
        /// Text is not valid UTF-8 or contains characters outside the vocabulary.
        case invalidText
        /// The input exceeds a documented limit (file or decompressed size, header size,
        /// nesting depth, number of dimensions, vocabulary size).
        case tooLarge
    }

    public var kind: Kind
    /// What is wrong.
    public var what: String
    /// The file path (or a label such as `<memory>` for in-memory data) the error refers to.
    public var path: String
    /// Byte offset into the file (or decompressed stream) where the problem was found.
    public var byteOffset: Int?
    /// Index of the record (image, label, sequence, window, ...) the problem concerns.
    public var recordIndex: Int?
    /// How to fix it.
    public var fix: String

    public init(
        _ kind: Kind, _ what: String, path: String, byteOffset: Int? = nil, recordIndex: Int? = nil,
        fix: String
    ) {
        self.kind = kind
        self.what = what
        self.path = path
        self.byteOffset = byteOffset
        self.recordIndex = recordIndex
        self.fix = fix
    }

    public var description: String {
        var location = path
        if let byteOffset { location += " at byte \(byteOffset)" }
        if let recordIndex { location += (byteOffset == nil ? " at" : ",") + " record \(recordIndex)" }
        return "\(location): \(what). Fix: \(fix)"
    }
}
