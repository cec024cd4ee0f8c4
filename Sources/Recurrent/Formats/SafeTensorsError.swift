/// Everything that can go wrong reading, writing or converting safetensors data.
///
/// ``description`` is a complete message for a person: what is wrong, where
/// (file path when known, tensor name, byte offsets) and how to fix it. Code
/// that needs to react to a specific problem switches over ``kind``.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable, Sendable {

    // MARK: - Kinds

    /// A file-system step that failed.
    public enum FileOperation: String, Equatable, Sendable {
        /// Opening or reading the file to load.
        case read
        /// Creating or writing the temporary file next to the destination.
        case writeTemporary
        /// Flushing the temporary file to disk.
        case sync
        /// Renaming the temporary file over the destination.
        case replace
    }

    /// What went wrong. Offsets named `begin`/`end`/`offset` are relative to the
    /// start of the data section, as in the header's `data_offsets`.
    public enum Kind: Equatable, Sendable {
        /// The input is shorter than the 8-byte header-length prefix.
        case tooShort(byteCount: Int)
        /// The header-length prefix exceeds the 100 MB safety limit.
        case headerTooLarge(headerLength: UInt64, limit: Int)
        /// The header-length prefix points past the end of the input.
        case headerExceedsInput(headerLength: UInt64, available: Int)
        /// The header bytes are not UTF-8; `fileOffset` is the first bad byte.
        case headerNotUTF8(fileOffset: Int)
        /// The header is not parseable JSON.
        case headerNotJSON(reason: String)
        /// The header nests arrays and objects deeper than `limit` levels.
        case headerTooDeep(limit: Int, fileOffset: Int)
        /// Two header entries have the same tensor name (or `__metadata__` appears twice).
        case duplicateTensor(name: String)
        /// The file is larger than `limit` bytes; `size` is its size when the system knows it.
        case fileTooLarge(size: Int?, limit: Int)
        /// The header parsed, but its top-level value is not a JSON object.
        case headerNotObject(found: String)
        /// A tensor's header entry is not a JSON object.
        case entryNotObject(tensor: String, found: String)
        /// A tensor's header entry lacks `dtype`, `shape` or `data_offsets`.
        case missingField(tensor: String, field: String)
        /// A field of a tensor's header entry has the wrong JSON type.
        case wrongFieldType(tensor: String, field: String, expected: String, found: String)
        /// A dtype name that is not a safetensors dtype at all.
        case unknownDType(tensor: String, dtype: String)
        /// A safetensors dtype that Recurrent does not support.
        case unsupportedDType(tensor: String, dtype: String)
        /// A shape with a negative dimension.
        case negativeDimension(tensor: String, shape: [Int])
        /// A shape whose element or byte count does not fit in an `Int`.
        case elementCountOverflow(tensor: String, shape: [Int])
        /// `data_offsets` whose end lies before its begin.
        case offsetsReversed(tensor: String, begin: Int, end: Int)
        /// `data_offsets` reaching past the end of the data section.
        case offsetsOutOfBounds(tensor: String, begin: Int, end: Int, dataSize: Int)
        /// The byte range does not match dtype size times element count.
        case sizeMismatch(tensor: String, dtype: String, shape: [Int], expected: Int, actual: Int)
        /// Two tensors share bytes.
        case overlap(tensor: String, other: String, begin: Int, otherEnd: Int)
        /// Bytes between two tensors (or before the first) belong to no tensor.
        case gap(before: String, begin: Int, end: Int)
        /// Bytes after the last tensor belong to no tensor.
        case trailingBytes(begin: Int, end: Int)
        /// `__metadata__` is not an object, or `key` maps to a non-string.
        case invalidMetadata(key: String?, found: String)
        /// A tensor may not be named `__metadata__`.
        case reservedTensorName(String)
        /// An in-memory tensor whose byte count does not match its dtype and shape.
        case inconsistentTensor(tensor: String?, dtype: String, shape: [Int], byteCount: Int)
        /// A conversion that is not defined for the dtype (e.g. `BOOL` to `Float`).
        case unsupportedConversion(dtype: String, target: String)
        /// A file-system call failed; `detail` is the system's reason.
        case fileSystem(operation: FileOperation, target: String, detail: String)
    }

    // MARK: - Stored properties

    /// What went wrong.
    public var kind: Kind
    /// The file being read or written, when there is one.
    public var path: String?
    /// Offset in the file where the data section begins (8 + header length), when
    /// known; used to turn data-section offsets into file offsets in messages.
    public var dataSectionStart: Int?

    /// Creates an error.
    public init(_ kind: Kind, path: String? = nil, dataSectionStart: Int? = nil) {
        self.kind = kind
        self.path = path
        self.dataSectionStart = dataSectionStart
    }

    // MARK: - Message

    /// A complete sentence: what is wrong, where, and how to fix it.
    public var description: String {
        "\(prefix): \(problem) \(remedy)"
    }

    private static let reexport =
        "Re-export the file with safetensors.torch.save_file or safetensors.numpy.save_file, or re-download it if it came from elsewhere."

    private var prefix: String {
        let subject = path.map { "safetensors file '\($0)'" }
        switch kind {
        case .reservedTensorName, .fileSystem(operation: .writeTemporary, _, _),
            .fileSystem(operation: .sync, _, _), .fileSystem(operation: .replace, _, _):
            return "Cannot write \(subject ?? "safetensors data")"
        case .inconsistentTensor:
            return path == nil ? "Invalid tensor" : "Cannot write \(subject ?? "")"
        case .unsupportedConversion:
            return "Cannot convert tensor"
        default:
            return "Cannot read \(subject ?? "safetensors data")"
        }
    }

    /// Describes a data-section range, adding its file offsets when known.
    private func range(_ begin: Int, _ end: Int) -> String {
        let base = "data-section bytes \(begin)..<\(end)"
        guard let start = dataSectionStart else { return base }
        let (fileBegin, o1) = start.addingReportingOverflow(begin)
        let (fileEnd, o2) = start.addingReportingOverflow(end)
        return o1 || o2 ? base : "\(base) (file offsets \(fileBegin)..<\(fileEnd))"
    }

    private var problem: String {
        switch kind {
        case .tooShort(let count):
            return "the input is \(count) byte\(count == 1 ? "" : "s") long, but a safetensors file starts with an 8-byte little-endian header length, so it is truncated or not a safetensors file."
        case .headerTooLarge(let length, let limit):
            return "the header length stored in bytes 0..<8 is \(length), above the \(limit)-byte limit, so the file is corrupt or not a safetensors file."
        case .headerExceedsInput(let length, let available):
            return "the header length stored in bytes 0..<8 is \(length), but only \(available) bytes follow it, so the file is truncated or not a safetensors file."
        case .headerNotUTF8(let offset):
            return "the JSON header is not valid UTF-8 (first invalid byte at file offset \(offset))."
        case .headerNotJSON(let reason):
            return "the header is not valid JSON (\(reason))."
        case .headerTooDeep(let limit, let offset):
            return "the JSON header nests arrays and objects deeper than \(limit) levels (at file offset \(offset)), the limit of the reader (and of the reference library's JSON parser)."
        case .duplicateTensor(let name):
            return "the header names '\(name)' twice; every tensor name (and \"__metadata__\") must appear once."
        case .fileTooLarge(let size, let limit):
            return (size.map { "the file has \($0) bytes, " } ?? "more than \(limit) bytes arrived from it (a pipe or device), ")
                + "above the \(limit)-byte limit: safetensors files are read whole into memory."
        case .headerNotObject(let found):
            return "the header's top-level JSON value is \(found), but it must be an object mapping tensor names to entries."
        case .entryNotObject(let tensor, let found):
            return "the header entry for tensor '\(tensor)' is \(found), but it must be an object with \"dtype\", \"shape\" and \"data_offsets\"."
        case .missingField(let tensor, let field):
            return "the header entry for tensor '\(tensor)' has no \"\(field)\" field; every tensor needs \"dtype\", \"shape\" and \"data_offsets\"."
        case .wrongFieldType(let tensor, let field, let expected, let found):
            return "the \"\(field)\" of tensor '\(tensor)' is \(found), but it must be \(expected)."
        case .unknownDType(let tensor, let dtype):
            return "tensor '\(tensor)' has dtype \"\(dtype)\", which is not a safetensors dtype; supported dtypes are \(SafeTensorsDType.supportedNameList)."
        case .unsupportedDType(let tensor, let dtype):
            return "tensor '\(tensor)' has dtype \"\(dtype)\", a safetensors dtype that Recurrent does not support; supported dtypes are \(SafeTensorsDType.supportedNameList)."
        case .negativeDimension(let tensor, let shape):
            return "tensor '\(tensor)' has shape \(shape) with a negative dimension."
        case .elementCountOverflow(let tensor, let shape):
            return "tensor '\(tensor)' has shape \(shape), whose element count or byte size overflows a 64-bit integer."
        case .offsetsReversed(let tensor, let begin, let end):
            return "tensor '\(tensor)' has data_offsets [\(begin), \(end)], whose end is before its begin."
        case .offsetsOutOfBounds(let tensor, let begin, let end, let size):
            return "tensor '\(tensor)' has data_offsets [\(begin), \(end)], which reach past the end of the \(size)-byte data section\(dataSectionStart.map { " (file offset \($0 + size))" } ?? ""), so the file is truncated or its header is wrong."
        case .sizeMismatch(let tensor, let dtype, let shape, let expected, let actual):
            return "tensor '\(tensor)' (\(dtype), shape \(shape)) needs \(expected) bytes, but its data_offsets cover \(actual) bytes."
        case .overlap(let tensor, let other, let begin, let otherEnd):
            return "tensor '\(tensor)' starts at data-section byte \(begin), inside tensor '\(other)' which ends at \(otherEnd); tensors must not overlap."
        case .gap(let before, let begin, let end):
            return "\(range(begin, end)) before tensor '\(before)' belong to no tensor; the safetensors format requires tensors to be stored contiguously with no gaps."
        case .trailingBytes(let begin, let end):
            return "\(range(begin, end)) after the last tensor belong to no tensor; the safetensors format requires the data section to be exactly covered by the tensors."
        case .invalidMetadata(nil, let found):
            return "\"__metadata__\" is \(found), but it must be an object mapping strings to strings."
        case .invalidMetadata(let key?, let found):
            return "\"__metadata__\" maps key '\(key)' to \(found), but metadata values must be strings."
        case .reservedTensorName(let name):
            return "a tensor is named '\(name)', which is reserved for the file's metadata."
        case .inconsistentTensor(let tensor, let dtype, let shape, let byteCount):
            let name = tensor.map { "tensor '\($0)'" } ?? "a tensor"
            return "\(name) has dtype \(dtype) and shape \(shape), which do not match its \(byteCount) bytes of data."
        case .unsupportedConversion(let dtype, let target):
            return "a tensor of dtype \(dtype) cannot be read as \(target)."
        case .fileSystem(let operation, let target, let detail):
            switch operation {
            case .read: return "could not read '\(target)' (\(detail))."
            case .writeTemporary: return "could not write the temporary file '\(target)' (\(detail))."
            case .sync: return "could not flush the temporary file '\(target)' to disk (\(detail))."
            case .replace: return "could not rename the temporary file over '\(target)' (\(detail))."
            }
        }
    }

    private var remedy: String {
        switch kind {
        case .reservedTensorName:
            return "Rename the tensor; '__metadata__' cannot be used as a tensor name."
        case .inconsistentTensor:
            return "Make the byte count equal dtype size times the product of the shape (shape [] holds one element), with no negative dimensions."
        case .unsupportedConversion(let dtype, _):
            return dtype == SafeTensorsDType.bool.rawValue
                ? "Read the raw `bytes` (0 or 1 per element) instead."
                : "Use floats() or doubles() for floating-point tensors."
        case .unsupportedDType:
            return "Convert the tensor before saving, e.g. tensor.to(torch.float32) in PyTorch, then save again with safetensors.torch.save_file."
        case .fileSystem(.read, _, _):
            return "Check that the path exists, is a regular file and is readable."
        case .fileTooLarge:
            return "Split the tensors over several files, or save a subset."
        case .fileSystem(.writeTemporary, _, _):
            return "Check that the directory exists, is writable and has free space; any existing destination file was left untouched."
        case .fileSystem:
            return "Check the disk and directory permissions; any existing destination file was left untouched."
        default:
            return Self.reexport
        }
    }
}
