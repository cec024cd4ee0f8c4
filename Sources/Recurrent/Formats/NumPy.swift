// MARK: - NumPy .npy files
//
// Reader and writer for the NPY format (NumPy Enhancement Proposal 1, "A Simple File Format for
// NumPy Arrays", and `numpy.lib.format`):
//
//     "\x93NUMPY"  6-byte magic
//     major, minor format version: 1.0, 2.0 or 3.0
//     HEADER_LEN   little-endian UInt16 (1.0) or UInt32 (2.0, 3.0)
//     header       HEADER_LEN bytes: a Python dict literal (ASCII/latin-1 in 1.0 and 2.0, UTF-8 in
//                  3.0) padded with spaces and ended by '\n', e.g.
//                  {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//     data         product(shape) elements of `descr`, with no padding
//
// Supported dtypes: `<f4`, `<f8`, `<i2`, `<i4`, `<i8`, `|i1`, `|u1` (also `<u1`, `>u1`, `=`-prefixed
// native little-endian forms) and the big-endian `>f4`, `>f8`, `>i2`, `>i4`, `>i8`, converted to the
// host order when read into an ``NDArray``. Only C (row-major) order is supported: a file with
// `'fortran_order': True` is an error that says how to re-save it. The file must hold exactly the
// announced data (truncated or over-long files are errors with expected and actual byte counts).
//
// Limits, each refused with an error naming the file and the limit: headers longer than
// ``NumPy/maxHeaderLength`` (like `numpy.load`'s `max_header_size`), values nested deeper than
// ``NumPy/maxHeaderDepth`` (the header parser keeps an explicit stack: no recursion on input),
// shapes of more than ``NumPy/maxDimensions`` dimensions (NumPy's own `NPY_MAXDIMS`), files
// larger than ``NumPy/maximumFileSize``. Pipes and devices are read no further than the size
// the header declares.
//
// The writer produces the same bytes as `numpy.save` (NumPy ≥ 1.23): keys sorted, 21 − len(repr
// of the first dimension) spare spaces, padding to a multiple of 64 bytes, version 1.0 unless
// the header needs 2.0.

// MARK: - Reading and writing

/// Reader and writer for `.npy` files (see the format description at the top of this file).
public enum NumPy {
    /// Largest accepted header, in bytes.
    public static let maxHeaderLength = 1 << 20

    /// Deepest nesting of tuples and lists accepted in a header (a plain header nests 1 deep; a
    /// structured dtype, which is refused anyway, a few levels).
    public static let maxHeaderDepth = 32

    /// Most dimensions accepted: NumPy's own limit (`NPY_MAXDIMS`, 64 since NumPy 2.0).
    public static let maxDimensions = 64

    /// Largest file accepted, in bytes (4 GiB): arrays are read whole into memory.
    public static let maximumFileSize = 1 << 32

    private static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// Reads a `.npy` file.
    public static func read(path: String) throws(DataError) -> NDArray {
        try read(path: path, maximumSize: maximumFileSize)
    }

    /// ``read(path:)`` with another size limit (tests use small ones).
    static func read(path: String, maximumSize: Int) throws(DataError) -> NDArray {
        let bytes = try FileIO.read(
            path, limit: maximumSize, what: ".npy files",
            fix: "arrays this large do not fit the in-memory reader; save a subset (e.g. array[:n]) in several files"
        ) { prefix in declaredFileSize(prefix) }
        return try parse(bytes, path: path)
    }

    /// The file size the preamble and header at the start of `prefix` announce; `nil` while
    /// `prefix` ends inside the header, `prefix.count` if the header is invalid (reading can stop:
    /// `parse` reports the problem).
    static func declaredFileSize(_ prefix: ArraySlice<UInt8>) -> Int? {
        guard prefix.count >= 12 else { return nil }
        let bytes = Array(prefix.prefix(12))
        guard Array(bytes[0..<6]) == magic, [1, 2, 3].contains(bytes[6]) else { return prefix.count }
        let lengthSize = bytes[6] == 1 ? 2 : 4
        var headerLength = 0
        for k in 0..<lengthSize { headerLength |= Int(bytes[8 + k]) << (8 * k) }
        guard headerLength <= maxHeaderLength else { return prefix.count }
        let dataStart = 8 + lengthSize + headerLength
        guard prefix.count >= dataStart else { return nil }
        var parser = HeaderParser(bytes: Array(prefix.prefix(dataStart)), position: 8 + lengthSize, end: dataStart, path: "")
        guard let header = try? parser.parseHeader(), let dtype = try? decodeDescr(header.descr, path: "", offset: 0),
              let size = dataSize(header.shape, width: dtype.width, dataStart: dataStart)
        else { return prefix.count }
        return dataStart + size
    }

    /// The byte size of `shape` elements of `width` bytes, if a file starting its data at
    /// `dataStart` can hold them without overflowing `Int`.
    private static func dataSize(_ shape: [Int], width: Int, dataStart: Int) -> Int? {
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= (Int.max - dataStart) / width else { return nil }
            count = product
        }
        return count * width
    }

    /// Parses the bytes of a `.npy` file; `path` is used in errors only.
    public static func parse(_ bytes: [UInt8], path: String) throws(DataError) -> NDArray {
        func truncated(_ what: String, expected: Int) -> DataError {
            DataError(
                .truncated, "npy file is truncated in the \(what): expected at least \(expected) bytes, found \(bytes.count)",
                path: path, byteOffset: bytes.count, fix: "the file is incomplete; write or copy it again")
        }
        guard bytes.count >= 8 else { throw truncated("8-byte preamble", expected: 8) }
        guard Array(bytes[0..<6]) == magic else {
            throw DataError(
                .badMagic, "not a .npy file: it does not start with \"\\x93NUMPY\"", path: path, byteOffset: 0,
                fix: "save the array with numpy.save (an .npz archive must be unzipped first)")
        }
        let major = bytes[6]
        let minor = bytes[7]
        guard [1, 2, 3].contains(major), minor == 0 else {
            throw DataError(
                .unsupported, "npy format version \(major).\(minor) is not supported (1.0, 2.0, 3.0 are)",
                path: path, byteOffset: 6, fix: "re-save the array with numpy.save")
        }
        let lengthSize = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthSize else { throw truncated("header length", expected: 8 + lengthSize) }
        var headerLength = 0
        for k in 0..<lengthSize { headerLength |= Int(bytes[8 + k]) << (8 * k) }
        let headerStart = 8 + lengthSize
        guard headerLength <= maxHeaderLength else {
            throw DataError(
                .malformed, "npy header length \(headerLength) exceeds \(maxHeaderLength) bytes", path: path,
                byteOffset: 8, fix: "the file is corrupted, or its dtype is too complex; save a plain numeric array")
        }
        let dataStart = headerStart + headerLength
        guard bytes.count >= dataStart else { throw truncated("header", expected: dataStart) }

        var parser = HeaderParser(bytes: bytes, position: headerStart, end: dataStart, path: path)
        let header = try parser.parseHeader()
        guard !header.fortranOrder else {
            throw DataError(
                .unsupported, "the array is stored in Fortran (column-major) order; only C order is supported",
                path: path, byteOffset: header.fortranOrderOffset,
                fix: "re-save it in C order: numpy.save(path, numpy.ascontiguousarray(array))")
        }
        let dtype = try decodeDescr(header.descr, path: path, offset: header.descrOffset)
        guard let dataSize = dataSize(header.shape, width: dtype.width, dataStart: dataStart) else {
            throw DataError(
                .malformed, "shape \(header.shape) has more elements than any file can hold", path: path,
                byteOffset: header.shapeOffset, fix: "the header is corrupted; save the array again")
        }
        let count = dataSize / dtype.width
        let expected = dataStart + dataSize
        guard bytes.count >= expected else {
            throw DataError(
                .truncated,
                "npy file is truncated: expected \(expected) bytes (header + shape \(header.shape) of '\(header.descr)'), found \(bytes.count)",
                path: path, byteOffset: bytes.count, fix: "the file is incomplete; write or copy it again")
        }
        guard bytes.count == expected else {
            throw DataError(
                .malformed,
                "npy file has \(bytes.count - expected) unexpected bytes after the data: shape \(header.shape) of '\(header.descr)' needs exactly \(expected) bytes",
                path: path, byteOffset: expected, fix: "the header does not match the data; save the array again")
        }
        return NDArray(unchecked: header.shape,
                       elements: NDArray.decode(dtype.type, bytes[dataStart...], count: count, bigEndian: dtype.bigEndian))
    }

    /// The bytes of a `.npy` file holding `array`, identical to `numpy.save`'s output.
    public static func encode(_ array: NDArray) -> [UInt8] {
        let shape: String
        switch array.shape.count {
        case 0: shape = "()"
        case 1: shape = "(\(array.shape[0]),)"
        default: shape = "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '\(descr(of: array.elementType))', 'fortran_order': False, 'shape': \(shape), }"
        if let first = array.shape.first {
            header += String(repeating: " ", count: max(0, 21 - String(first).utf8.count))
        }
        var headerBytes = Array(header.utf8)
        var version: UInt8 = 1
        var lengthSize = 2
        var padding = 64 - (8 + lengthSize + headerBytes.count + 1) % 64
        if headerBytes.count + 1 + padding > Int(UInt16.max) {
            version = 2
            lengthSize = 4
            padding = 64 - (8 + lengthSize + headerBytes.count + 1) % 64
        }
        headerBytes += [UInt8](repeating: 0x20, count: padding) + [0x0A]
        var bytes = magic + [version, 0]
        for k in 0..<lengthSize { bytes.append(UInt8(truncatingIfNeeded: headerBytes.count >> (8 * k))) }
        bytes += headerBytes
        array.appendElements(to: &bytes, bigEndian: false)
        return bytes
    }

    /// Writes `array` as a `.npy` file.
    public static func write(_ array: NDArray, to path: String) throws(DataError) {
        try FileIO.write(encode(array), to: path)
    }

    // MARK: dtype

    /// The type string the writer uses, as `numpy.save` on a little-endian machine: `<f4`, `<f8`,
    /// `<i2`, `<i4`, `<i8`, `|i1` or `|u1`.
    public static func descr(of type: NDArray.ElementType) -> String {
        switch type {
        case .uint8: "|u1"
        case .int8: "|i1"
        case .int16: "<i2"
        case .int32: "<i4"
        case .int64: "<i8"
        case .float32: "<f4"
        case .float64: "<f8"
        }
    }

    private static func decodeDescr(
        _ descr: String, path: String, offset: Int
    ) throws(DataError) -> (type: NDArray.ElementType, width: Int, bigEndian: Bool) {
        let supported = "'<f4', '<f8', '<i2', '<i4', '<i8', '|i1', '|u1' and their big-endian '>' forms"
        let scalars = Array(descr.unicodeScalars)
        guard scalars.count == 3, "<>|=".unicodeScalars.contains(scalars[0]) else {
            throw DataError(
                .unsupported, "dtype '\(descr)' is not supported (supported: \(supported))", path: path,
                byteOffset: offset, fix: "convert the array first, e.g. array.astype(numpy.float32)")
        }
        let bigEndian = scalars[0] == ">"
        let type: NDArray.ElementType
        switch String(String.UnicodeScalarView(scalars[1...])) {
        case "f4": type = .float32
        case "f8": type = .float64
        case "i1": type = .int8
        case "i2": type = .int16
        case "i4": type = .int32
        case "i8": type = .int64
        case "u1": type = .uint8
        default:
            throw DataError(
                .unsupported, "dtype '\(descr)' is not supported (supported: \(supported))", path: path,
                byteOffset: offset, fix: "convert the array first, e.g. array.astype(numpy.float32)")
        }
        let width = type.byteWidth
        if scalars[0] == "|" && width != 1 {
            throw DataError(
                .malformed, "dtype '\(descr)' has no byte order ('|') but is \(width) bytes wide", path: path,
                byteOffset: offset, fix: "save the array with numpy.save")
        }
        return (type, width, bigEndian)
    }
}

// MARK: - Header dict literal

/// The three header entries, with the byte offsets of their values for error messages.
private struct NumPyHeader {
    var descr: String
    var descrOffset: Int
    var fortranOrder: Bool
    var fortranOrderOffset: Int
    var shape: [Int]
    var shapeOffset: Int
}

/// A parser for the subset of Python literal syntax that `.npy` headers use: a dict with string
/// keys whose values are strings, `True`/`False`, integers (an old `L` suffix allowed) and tuples
/// or lists of these.
private struct HeaderParser {
    indirect enum Value {
        case string(String)
        case bool(Bool)
        case int(Int)
        case sequence([Value])
        case none
    }

    let bytes: [UInt8]
    var position: Int
    let end: Int
    let path: String

    func error(_ what: String, at offset: Int? = nil) -> DataError {
        DataError(
            .malformed, "malformed npy header: \(what)", path: path, byteOffset: offset ?? position,
            fix: "save the array with numpy.save; the header must be a dict like {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }")
    }

    mutating func skipSpace() {
        while position < end, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    mutating func expect(_ character: UInt8) throws(DataError) {
        skipSpace()
        guard position < end, bytes[position] == character else {
            throw error("expected '\(Character(Unicode.Scalar(character)))'\(position < end ? ", found '\(Character(Unicode.Scalar(bytes[position])))'" : " before the end of the header")")
        }
        position += 1
    }

    /// Consumes `character` if it is next.
    mutating func accept(_ character: UInt8) -> Bool {
        skipSpace()
        if position < end, bytes[position] == character {
            position += 1
            return true
        }
        return false
    }

    mutating func parseHeader() throws(DataError) -> NumPyHeader {
        var descr: (String, Int)?
        var fortran: (Bool, Int)?
        var shape: ([Int], Int)?
        try expect(UInt8(ascii: "{"))
        while !accept(UInt8(ascii: "}")) {
            let keyOffset = position
            guard case .string(let key) = try parseValue() else { throw error("dict keys must be strings", at: keyOffset) }
            try expect(UInt8(ascii: ":"))
            skipSpace()
            let valueOffset = position
            let value = try parseValue()
            switch key {
            case "descr":
                guard case .string(let s) = value else {
                    throw DataError(
                        .unsupported, "structured dtype (a list of fields) is not supported", path: path,
                        byteOffset: valueOffset, fix: "save each field as its own plain numeric array")
                }
                descr = (s, valueOffset)
            case "fortran_order":
                guard case .bool(let b) = value else { throw error("'fortran_order' must be True or False", at: valueOffset) }
                fortran = (b, valueOffset)
            case "shape":
                guard case .sequence(let items) = value else { throw error("'shape' must be a tuple of integers", at: valueOffset) }
                guard items.count <= NumPy.maxDimensions else {
                    throw DataError(
                        .tooLarge, "'shape' has \(items.count) dimensions, more than NumPy's limit of \(NumPy.maxDimensions)",
                        path: path, byteOffset: valueOffset, fix: "save the array with numpy.save (which cannot write more dimensions)")
                }
                var sizes: [Int] = []
                for item in items {
                    guard case .int(let n) = item, n >= 0 else {
                        throw error("'shape' must be a tuple of non-negative integers", at: valueOffset)
                    }
                    sizes.append(n)
                }
                shape = (sizes, valueOffset)
            default:
                throw error("unexpected key '\(key)' (expected 'descr', 'fortran_order', 'shape')", at: keyOffset)
            }
            if !accept(UInt8(ascii: ",")) {
                try expect(UInt8(ascii: "}"))
                break
            }
        }
        skipSpace()
        guard position == end else { throw error("unexpected text after the closing '}'") }
        guard let descr, let fortran, let shape else {
            throw error(
                "missing key \(descr == nil ? "'descr'" : fortran == nil ? "'fortran_order'" : "'shape'")",
                at: end)
        }
        return NumPyHeader(
            descr: descr.0, descrOffset: descr.1, fortranOrder: fortran.0, fortranOrderOffset: fortran.1,
            shape: shape.0, shapeOffset: shape.1)
    }

    /// Parses one value. Tuples and lists are parsed with an explicit stack of open sequences
    /// (no recursion), at most ``NumPy/maxHeaderDepth`` deep.
    mutating func parseValue() throws(DataError) -> Value {
        // Open sequences, innermost last: their closing byte and the items so far.
        var open: [(close: UInt8, items: [Value])] = []
        while true {
            skipSpace()
            guard position < end else { throw error("value expected before the end of the header") }
            let c = bytes[position]
            var value: Value
            if c == UInt8(ascii: "(") || c == UInt8(ascii: "[") {
                guard open.count < NumPy.maxHeaderDepth else {
                    throw DataError(
                        .tooLarge, "npy header nests tuples or lists deeper than \(NumPy.maxHeaderDepth) levels",
                        path: path, byteOffset: position,
                        fix: "save the array with numpy.save; a plain array's header nests one level deep")
                }
                position += 1
                let close = c == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "]")
                if accept(close) {
                    value = .sequence([])
                } else {
                    open.append((close, []))
                    continue
                }
            } else {
                value = try parseScalar(c)
            }
            // Hand the finished value to the innermost open sequence, closing sequences as they end.
            while let last = open.indices.last {
                open[last].items.append(value)
                let close = open[last].close
                if accept(UInt8(ascii: ",")) {
                    if !accept(close) { break }  // another item follows
                } else {
                    try expect(close)
                }
                value = .sequence(open.removeLast().items)
            }
            if open.isEmpty { return value }
        }
    }

    /// Parses a string, number, `True`, `False` or `None` starting with byte `c`.
    mutating func parseScalar(_ c: UInt8) throws(DataError) -> Value {
        switch c {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            let start = position
            position += 1
            var content: [UInt8] = []
            while position < end, bytes[position] != c {
                if bytes[position] == UInt8(ascii: "\\") { position += 1 }
                if position < end { content.append(bytes[position]) }
                position += 1
            }
            guard position < end else { throw error("unterminated string", at: start) }
            position += 1
            return .string(String(decoding: content, as: UTF8.self))
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
            let start = position
            if c == UInt8(ascii: "-") { position += 1 }
            var value = 0
            var digits = 0
            while position < end, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(bytes[position] - UInt8(ascii: "0")))
                guard !o1, !o2 else { throw error("integer too large", at: start) }
                value = sum
                digits += 1
                position += 1
            }
            guard digits > 0 else { throw error("malformed number", at: start) }
            if position < end, bytes[position] == UInt8(ascii: "L") || bytes[position] == UInt8(ascii: "l") {
                position += 1
            }
            return .int(c == UInt8(ascii: "-") ? -value : value)
        default:
            for (word, value) in [("True", Value.bool(true)), ("False", .bool(false)), ("None", .none)] {
                let w = Array(word.utf8)
                if position + w.count <= end, Array(bytes[position..<(position + w.count)]) == w {
                    position += w.count
                    return value
                }
            }
            throw error("unexpected character '\(Character(Unicode.Scalar(c)))'")
        }
    }
}
