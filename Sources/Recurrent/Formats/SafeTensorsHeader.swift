/// The JSON header of a safetensors file: parsing with full validation, and
/// deterministic encoding in the reference writer's byte format.
///
/// Parsing never trusts a number from the file: every offset and size is range-
/// and overflow-checked against the actual input before any bytes are touched.
struct SafeTensorsHeader {

    /// One tensor's header entry, already validated against the data section.
    struct Entry {
        var name: String
        var dtype: SafeTensorsDType
        var shape: [Int]
        /// Data-section offsets, `begin <= end <= dataSize`.
        var begin: Int
        var end: Int
    }

    static let metadataKey = "__metadata__"

    /// Deepest nesting of arrays and objects accepted in a header: serde_json's recursion limit,
    /// which the reference loader inherits. A valid header nests 3 deep (extra fields may nest more).
    static let maximumDepth = 128

    var entries: [Entry]
    var metadata: [String: String]

    // MARK: - Parsing

    /// Parses and validates `header` (the JSON bytes after the length prefix) against a data
    /// section of `dataSize` bytes, reading it in one pass with ``JSONReader`` (no tree of JSON
    /// objects: memory is the entries themselves). Tensor names must be unique; unknown fields
    /// of an entry are skipped, as by the reference library.
    /// - Parameters:
    ///   - headerFileOffset: where `header` starts in the file, for messages.
    ///   - checkLayout: whether to check that the tensors tile the data section exactly (off
    ///     when only the entries are wanted, e.g. to learn the data size a header declares).
    static func parse(
        _ header: ArraySlice<UInt8>, headerFileOffset: Int, dataSize: Int, checkLayout: Bool = true
    ) throws(SafeTensorsError) -> SafeTensorsHeader {
        if let bad = UTF8Decoding.firstError(in: header) {
            throw SafeTensorsError(.headerNotUTF8(fileOffset: headerFileOffset + bad.offset))
        }
        var reader = JSONReader(header, maximumDepth: maximumDepth)
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        do {
            guard try reader.peek() == .object else {
                throw SafeTensorsError(.headerNotObject(found: try reader.describeNext()))
            }
            try reader.beginObject()
            var names = Set<String>()
            var sawMetadata = false
            while let name = try reader.nextKey() {
                if name == metadataKey {
                    guard !sawMetadata else { throw SafeTensorsError(.duplicateTensor(name: name)) }
                    sawMetadata = true
                    metadata = try parseMetadata(&reader)
                } else {
                    guard names.insert(name).inserted else { throw SafeTensorsError(.duplicateTensor(name: name)) }
                    entries.append(try parseEntry(name: name, reader: &reader, dataSize: dataSize))
                }
            }
            try reader.finish()
        } catch let error as SafeTensorsError {
            throw error
        } catch let error as JSONReader.Failure {
            let offset = headerFileOffset + error.offset
            throw error.isDepthLimit
                ? SafeTensorsError(.headerTooDeep(limit: maximumDepth, fileOffset: offset))
                : SafeTensorsError(.headerNotJSON(reason: "\(error.reason) at file offset \(offset)"))
        } catch {
            throw SafeTensorsError(.headerNotJSON(reason: "\(error)"))  // not reached: only the two above are thrown
        }
        if checkLayout { try checkContiguous(entries, dataSize: dataSize) }
        return SafeTensorsHeader(entries: entries, metadata: metadata)
    }

    private static func parseMetadata(_ reader: inout JSONReader) throws -> [String: String] {
        switch try reader.peek() {
        case .null:
            try reader.readNull()
            return [:]
        case .object:
            break
        default:
            throw SafeTensorsError(.invalidMetadata(key: nil, found: try reader.describeNext()))
        }
        try reader.beginObject()
        var metadata: [String: String] = [:]
        while let key = try reader.nextKey() {
            guard try reader.peek() == .string else {
                throw SafeTensorsError(.invalidMetadata(key: key, found: try reader.describeNext()))
            }
            metadata[key] = try reader.readString()
        }
        return metadata
    }

    /// A field of an entry as read: its value, or the description of a value of the wrong type.
    private enum Field<Value> {
        case missing
        case value(Value)
        case wrongType(found: String)
    }

    private static func parseEntry(
        name: String, reader: inout JSONReader, dataSize: Int
    ) throws -> Entry {
        guard try reader.peek() == .object else {
            throw SafeTensorsError(.entryNotObject(tensor: name, found: try reader.describeNext()))
        }
        // Read the fields in any order (the last of a repeated field wins, as in a JSON object
        // read into a dictionary), then check them in a fixed order.
        var dtypeField = Field<String>.missing
        var shapeField = Field<[Int]>.missing
        var offsetsField = Field<[Int]>.missing
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "dtype":
                dtypeField = try reader.peek() == .string ? .value(try reader.readString()) : .wrongType(found: try reader.describeNext())
            case "shape":
                shapeField = try integerArray(&reader, lengthRequired: nil)
            case "data_offsets":
                offsetsField = try integerArray(&reader, lengthRequired: 2)
            default:
                try reader.skipValue()
            }
        }
        return try checkEntry(name: name, dtypeField, shapeField, offsetsField, dataSize: dataSize)
    }

    /// Reads an array of integers; a value of another type (or an array whose length is not
    /// `lengthRequired`) is returned described, for the error.
    private static func integerArray(
        _ reader: inout JSONReader, lengthRequired: Int?
    ) throws(JSONReader.Failure) -> Field<[Int]> {
        guard try reader.peek() == .array else { return .wrongType(found: try reader.describeNext()) }
        try reader.beginArray()
        var values: [Int] = []
        var wrong: String?  // the first element that is not an integer, described
        var count = 0
        while try reader.nextElement() {
            count += 1
            if try reader.peek() != .number {
                if wrong == nil { wrong = try reader.describeNext() } else { try reader.skipValue() }
                continue
            }
            switch try reader.readNumber() {
            case .integer(let value):
                if wrong == nil, lengthRequired.map({ values.count < $0 }) ?? true { values.append(value) }
            case .other(let text):
                if wrong == nil { wrong = "the number \(text.count > 40 ? String(text.prefix(40)) + "…" : text)" }
            }
        }
        if let lengthRequired, count != lengthRequired {
            return .wrongType(found: "an array of \(count) element\(count == 1 ? "" : "s")")
        }
        if let wrong { return .wrongType(found: wrong) }
        return .value(values)
    }

    private static func checkEntry(
        name: String, _ dtypeField: Field<String>, _ shapeField: Field<[Int]>, _ offsetsField: Field<[Int]>,
        dataSize: Int
    ) throws(SafeTensorsError) -> Entry {
        func wrongType(_ key: String, _ expected: String, _ found: String) -> SafeTensorsError {
            SafeTensorsError(.wrongFieldType(tensor: name, field: key, expected: expected, found: found))
        }

        // dtype
        let dtypeName: String
        switch dtypeField {
        case .missing: throw SafeTensorsError(.missingField(tensor: name, field: "dtype"))
        case .wrongType(let found): throw wrongType("dtype", "a string such as \"F32\"", found)
        case .value(let value): dtypeName = value
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw SafeTensorsDType.unsupportedFormatNames.contains(dtypeName)
                ? SafeTensorsError(.unsupportedDType(tensor: name, dtype: dtypeName))
                : SafeTensorsError(.unknownDType(tensor: name, dtype: dtypeName))
        }

        // shape
        let shape: [Int]
        switch shapeField {
        case .missing: throw SafeTensorsError(.missingField(tensor: name, field: "shape"))
        case .wrongType(let found): throw wrongType("shape", "an array of integers", found)
        case .value(let value): shape = value
        }
        if shape.contains(where: { $0 < 0 }) {
            throw SafeTensorsError(.negativeDimension(tensor: name, shape: shape))
        }
        guard let count = elementCount(of: shape),
              case let (byteSize, overflow) = count.multipliedReportingOverflow(by: dtype.byteCount), !overflow
        else {
            throw SafeTensorsError(.elementCountOverflow(tensor: name, shape: shape))
        }

        // data_offsets
        let expectedOffsets = "an array of two non-negative integers [begin, end]"
        let offsets: [Int]
        switch offsetsField {
        case .missing: throw SafeTensorsError(.missingField(tensor: name, field: "data_offsets"))
        case .wrongType(let found): throw wrongType("data_offsets", expectedOffsets, found)
        case .value(let value): offsets = value
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0 else { throw wrongType("data_offsets", expectedOffsets, "the number \(begin)") }
        guard end >= 0 else { throw wrongType("data_offsets", expectedOffsets, "the number \(end)") }
        guard begin <= end else { throw SafeTensorsError(.offsetsReversed(tensor: name, begin: begin, end: end)) }
        guard end <= dataSize else {
            throw SafeTensorsError(.offsetsOutOfBounds(tensor: name, begin: begin, end: end, dataSize: dataSize))
        }
        guard end - begin == byteSize else {
            throw SafeTensorsError(.sizeMismatch(
                tensor: name, dtype: dtypeName, shape: shape, expected: byteSize, actual: end - begin))
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// Checks that the tensors tile the data section exactly: no overlaps, no gaps,
    /// no trailing bytes (the reference library enforces the same).
    private static func checkContiguous(_ entries: [Entry], dataSize: Int) throws(SafeTensorsError) {
        let ordered = entries.sorted {
            ($0.begin, $0.end) != ($1.begin, $1.end)
                ? ($0.begin, $0.end) < ($1.begin, $1.end)
                : utf8Precedes($0.name, $1.name)
        }
        var cursor = 0
        var previous: String?
        for entry in ordered {
            if entry.begin < cursor, let previous {
                throw SafeTensorsError(.overlap(tensor: entry.name, other: previous, begin: entry.begin, otherEnd: cursor))
            }
            if entry.begin > cursor {
                throw SafeTensorsError(.gap(before: entry.name, begin: cursor, end: entry.begin))
            }
            cursor = entry.end
            previous = entry.name
        }
        if cursor < dataSize {
            throw SafeTensorsError(.trailingBytes(begin: cursor, end: dataSize))
        }
    }

    // MARK: - Encoding

    /// Encodes the header JSON exactly as the reference writer does: compact,
    /// `__metadata__` first (omitted when empty, keys sorted by UTF-8 bytes), then
    /// the entries in the given order with keys `dtype`, `shape`, `data_offsets`;
    /// padded with spaces to a multiple of 8 bytes.
    static func encode(_ entries: [Entry], metadata: [String: String]) -> [UInt8] {
        var json = "{"
        var first = true
        func separator() {
            if !first { json += "," }
            first = false
        }
        if !metadata.isEmpty {
            separator()
            json += "\(quoted(metadataKey)):{"
            json += metadata.keys.sorted(by: utf8Precedes)
                .map { "\(quoted($0)):\(quoted(metadata[$0] ?? ""))" }
                .joined(separator: ",")
            json += "}"
        }
        for entry in entries {
            separator()
            let shape = entry.shape.map(String.init).joined(separator: ",")
            json += "\(quoted(entry.name)):{\"dtype\":\(quoted(entry.dtype.rawValue)),"
            json += "\"shape\":[\(shape)],\"data_offsets\":[\(entry.begin),\(entry.end)]}"
        }
        json += "}"
        var bytes = Array(json.utf8)
        bytes += repeatElement(UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8)
        return bytes
    }

    /// A JSON string literal escaped like serde_json (see `JSONText.quoted`).
    static func quoted(_ string: String) -> String { JSONText.quoted(string) }

    // MARK: - Helpers

    /// The product of `shape`, or `nil` for a negative dimension or overflow.
    static func elementCount(of shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// Byte-wise UTF-8 ordering (the reference writer's name order), which unlike
    /// `String.<` does not depend on Unicode normalisation.
    static func utf8Precedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}
