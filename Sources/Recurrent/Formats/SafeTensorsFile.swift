/// The contents of a safetensors file (Hugging Face's format): named tensors plus
/// optional string metadata.
///
/// Layout: an 8-byte little-endian header length `N`; `N` bytes of UTF-8 JSON
/// mapping each tensor name to `{"dtype", "shape", "data_offsets"}` (plus an
/// optional `"__metadata__"` object of strings), padded with spaces; then the
/// data section, in which the tensors are stored contiguously, row-major and
/// little-endian.
///
/// Reading validates everything and throws a ``SafeTensorsError`` instead of
/// crashing on malformed or hostile input. Writing is deterministic and
/// byte-identical to the reference Python writer for the same tensors and (at
/// most one key of) metadata.
public struct SafeTensorsFile: Sendable, Equatable {
    /// The tensors by name.
    public var tensors: [String: SafeTensor]
    /// Free-form string metadata (the header's `"__metadata__"` object).
    public var metadata: [String: String]

    /// The largest header accepted, as in the reference library (100 MB).
    public static let maximumHeaderLength = 100_000_000

    /// The largest file read from disk (4 GiB): files are read whole into memory.
    public static let maximumFileSize = 1 << 32

    /// The file size the length prefix and header at the start of `prefix` announce; `nil`
    /// while `prefix` ends inside the header, `prefix.count` if the header is invalid (reading
    /// can stop: parsing reports the problem).
    static func declaredFileSize(_ prefix: ArraySlice<UInt8>) -> Int? {
        guard prefix.count >= 8 else { return nil }
        var headerLength: UInt64 = 0
        for index in (0..<8).reversed() { headerLength = headerLength << 8 | UInt64(prefix[prefix.startIndex + index]) }
        guard headerLength <= UInt64(maximumHeaderLength) else { return prefix.count }
        let dataStart = 8 + Int(headerLength)
        guard prefix.count >= dataStart else { return nil }
        let start = prefix.startIndex
        guard let header = try? SafeTensorsHeader.parse(
            prefix[(start + 8)..<(start + dataStart)], headerFileOffset: 8, dataSize: Int.max - dataStart, checkLayout: false)
        else { return prefix.count }
        return dataStart + (header.entries.map(\.end).max() ?? 0)
    }

    // MARK: - Initialisers

    /// Creates a file from tensors and metadata.
    public init(tensors: [String: SafeTensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Parses and validates the bytes of a safetensors file.
    /// - Throws: ``SafeTensorsError`` describing the first problem found.
    public init(bytes: [UInt8]) throws(SafeTensorsError) {
        guard bytes.count >= 8 else { throw SafeTensorsError(.tooShort(byteCount: bytes.count)) }
        var headerLength: UInt64 = 0
        for index in (0..<8).reversed() {
            headerLength = headerLength << 8 | UInt64(bytes[index])
        }
        guard headerLength <= UInt64(Self.maximumHeaderLength) else {
            throw SafeTensorsError(.headerTooLarge(headerLength: headerLength, limit: Self.maximumHeaderLength))
        }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw SafeTensorsError(.headerExceedsInput(headerLength: headerLength, available: bytes.count - 8))
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = bytes.count - dataStart

        let header: SafeTensorsHeader
        do {
            header = try SafeTensorsHeader.parse(bytes[8..<dataStart], headerFileOffset: 8, dataSize: dataSize)
        } catch {
            var located = error
            located.dataSectionStart = dataStart
            throw located
        }

        var tensors: [String: SafeTensor] = [:]
        tensors.reserveCapacity(header.entries.count)
        for entry in header.entries {
            tensors[entry.name] = SafeTensor(
                dtype: entry.dtype, shape: entry.shape,
                bytes: Array(bytes[(dataStart + entry.begin)..<(dataStart + entry.end)]))
        }
        self.init(tensors: tensors, metadata: header.metadata)
    }

    // MARK: - Serialisation

    /// The file's bytes: header length, space-padded header, then the tensors
    /// contiguously, ordered like the reference writer (by descending dtype size,
    /// then by name). The same contents always give the same bytes.
    /// - Throws: ``SafeTensorsError`` if a tensor is named `__metadata__` or its
    ///   bytes do not match its dtype and shape.
    public func serialized() throws(SafeTensorsError) -> [UInt8] {
        var entries: [SafeTensorsHeader.Entry] = []
        entries.reserveCapacity(tensors.count)
        for (name, tensor) in tensors {
            if name == SafeTensorsHeader.metadataKey { throw SafeTensorsError(.reservedTensorName(name)) }
            _ = try tensor.validatedElementCount(name: name)
            entries.append(.init(name: name, dtype: tensor.dtype, shape: tensor.shape, begin: 0, end: 0))
        }
        entries.sort {
            $0.dtype.referenceWriteRank != $1.dtype.referenceWriteRank
                ? $0.dtype.referenceWriteRank < $1.dtype.referenceWriteRank
                : SafeTensorsHeader.utf8Precedes($0.name, $1.name)
        }
        var offset = 0
        for index in entries.indices {
            entries[index].begin = offset
            offset += tensors[entries[index].name]?.bytes.count ?? 0
            entries[index].end = offset
        }

        let header = SafeTensorsHeader.encode(entries, metadata: metadata)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes += header
        for entry in entries {
            bytes += tensors[entry.name]?.bytes ?? []
        }
        return bytes
    }
}
