import Foundation

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

    var entries: [Entry]
    var metadata: [String: String]

    // MARK: - Parsing

    /// Parses and validates `header` (the JSON bytes after the length prefix)
    /// against a data section of `dataSize` bytes.
    /// - Parameter headerFileOffset: where `header` starts in the file, for messages.
    static func parse(
        _ header: ArraySlice<UInt8>, headerFileOffset: Int, dataSize: Int
    ) throws(SafeTensorsError) -> SafeTensorsHeader {
        if let bad = firstInvalidUTF8Offset(header) {
            throw SafeTensorsError(.headerNotUTF8(fileOffset: headerFileOffset + bad))
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(header), options: [.fragmentsAllowed])
        } catch {
            throw SafeTensorsError(.headerNotJSON(reason: jsonErrorReason(error)))
        }
        guard let object = json as? [String: Any] else {
            throw SafeTensorsError(.headerNotObject(found: describe(json)))
        }

        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        // Sorted so that the first error reported is the same on every run.
        for name in object.keys.sorted(by: utf8Precedes) {
            let value = object[name] ?? NSNull()
            if name == metadataKey {
                metadata = try parseMetadata(value)
            } else {
                entries.append(try parseEntry(name: name, value: value, dataSize: dataSize))
            }
        }
        try checkContiguous(entries, dataSize: dataSize)
        return SafeTensorsHeader(entries: entries, metadata: metadata)
    }

    private static func parseMetadata(_ value: Any) throws(SafeTensorsError) -> [String: String] {
        if value is NSNull { return [:] }
        guard let object = value as? [String: Any] else {
            throw SafeTensorsError(.invalidMetadata(key: nil, found: describe(value)))
        }
        var metadata: [String: String] = [:]
        for key in object.keys.sorted(by: utf8Precedes) {
            guard let string = object[key] as? String else {
                throw SafeTensorsError(.invalidMetadata(key: key, found: describe(object[key] ?? NSNull())))
            }
            metadata[key] = string
        }
        return metadata
    }

    private static func parseEntry(name: String, value: Any, dataSize: Int) throws(SafeTensorsError) -> Entry {
        guard let object = value as? [String: Any] else {
            throw SafeTensorsError(.entryNotObject(tensor: name, found: describe(value)))
        }
        func field(_ key: String) throws(SafeTensorsError) -> Any {
            guard let value = object[key] else { throw SafeTensorsError(.missingField(tensor: name, field: key)) }
            return value
        }
        func wrongType(_ key: String, _ expected: String, _ found: Any) -> SafeTensorsError {
            SafeTensorsError(.wrongFieldType(tensor: name, field: key, expected: expected, found: describe(found)))
        }

        // dtype
        let dtypeValue = try field("dtype")
        guard let dtypeName = dtypeValue as? String else { throw wrongType("dtype", "a string such as \"F32\"", dtypeValue) }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw SafeTensorsDType.unsupportedFormatNames.contains(dtypeName)
                ? SafeTensorsError(.unsupportedDType(tensor: name, dtype: dtypeName))
                : SafeTensorsError(.unknownDType(tensor: name, dtype: dtypeName))
        }

        // shape
        let shapeValue = try field("shape")
        guard let shapeArray = shapeValue as? [Any] else { throw wrongType("shape", "an array of integers", shapeValue) }
        var shape: [Int] = []
        for dimension in shapeArray {
            guard let value = integer(dimension) else { throw wrongType("shape", "an array of integers", dimension) }
            shape.append(value)
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
        let offsetsValue = try field("data_offsets")
        let expectedOffsets = "an array of two non-negative integers [begin, end]"
        guard let offsetsArray = offsetsValue as? [Any], offsetsArray.count == 2 else {
            throw wrongType("data_offsets", expectedOffsets, offsetsValue)
        }
        guard let begin = integer(offsetsArray[0]), begin >= 0 else { throw wrongType("data_offsets", expectedOffsets, offsetsArray[0]) }
        guard let end = integer(offsetsArray[1]), end >= 0 else { throw wrongType("data_offsets", expectedOffsets, offsetsArray[1]) }
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

    /// A JSON integer as `Int`; `nil` for booleans, non-integral numbers, values out
    /// of `Int` range and non-numbers.
    private static func integer(_ value: Any) -> Int? {
        guard !(value is String), let number = value as? NSNumber else { return nil }
        switch UInt8(bitPattern: number.objCType.pointee) {
        case UInt8(ascii: "s"), UInt8(ascii: "i"), UInt8(ascii: "l"), UInt8(ascii: "q"):
            return Int(exactly: number.int64Value)
        case UInt8(ascii: "S"), UInt8(ascii: "I"), UInt8(ascii: "L"), UInt8(ascii: "Q"):
            return Int(exactly: number.uint64Value)
        default:
            // "c" is a JSON boolean; "f"/"d" are floating-point numbers.
            return nil
        }
    }

    /// A short description of a JSON value for error messages.
    private static func describe(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let string as String:
            let shown = string.count > 40 ? String(string.prefix(40)) + "…" : string
            return "the string \(quoted(shown))"
        case let array as [Any]: return "an array of \(array.count) element\(array.count == 1 ? "" : "s")"
        case is [String: Any]: return "an object"
        case let number as NSNumber:
            if UInt8(bitPattern: number.objCType.pointee) == UInt8(ascii: "c") {
                return number.boolValue ? "true" : "false"
            }
            return "the number \(number)"
        default: return "an unexpected value"
        }
    }

    /// The parser's own explanation, without Foundation's generic wrapper text.
    private static func jsonErrorReason(_ error: any Error) -> String {
        let nsError = error as NSError
        let detail = nsError.userInfo[NSDebugDescriptionErrorKey] as? String ?? nsError.localizedDescription
        return detail.hasSuffix(".") ? String(detail.dropLast()) : detail
    }

    /// The offset of the first byte that is not part of a valid UTF-8 sequence.
    private static func firstInvalidUTF8Offset(_ bytes: ArraySlice<UInt8>) -> Int? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .error: return offset
            case .emptyInput: return nil
            }
        }
    }
}
