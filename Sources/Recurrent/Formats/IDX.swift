// MARK: - IDX file format
//
// The IDX format of the MNIST database (Y. LeCun, C. Cortes, C. J. C. Burges, "The MNIST database
// of handwritten digits", 1998) and of Fashion-MNIST (H. Xiao, K. Rasul, R. Vollgraf, 2017,
// arXiv:1708.07747):
//
//     offset 0: 0x00 0x00            magic, two zero bytes
//     offset 2: type                 0x08 UInt8, 0x09 Int8, 0x0B Int16, 0x0C Int32,
//                                    0x0D Float32, 0x0E Float64
//     offset 3: ndims                number of dimensions (1 for labels, 3 for images)
//     offset 4: dims                 ndims × 32-bit big-endian sizes, outermost first
//     then:     data                 product(dims) elements, big-endian, C (row-major) order
//
// A file starting with the gzip magic `1F 8B` is decompressed first (whatever its name), so both
// `train-images-idx3-ubyte` and `train-images-idx3-ubyte.gz` read the same way. The file must hold
// exactly the announced data: a shorter file is reported as truncated (with the expected and
// actual byte counts), a longer one as having trailing bytes.
//
// Limits (each refused with an error naming the file and the limit): at most `IDX.maxDimensions`
// dimensions; at most `IDX.maximumFileSize` bytes, raw or after gunzip. A gzip file is never
// decompressed further than the size its IDX header declares plus `IDX.decompressionSlack`
// bytes, so a small file that inflates to gigabytes (a "gzip bomb") costs no more than its
// header's claim; pipes and devices are read no further than the header's claim either.

// MARK: - Reading and writing

/// Reader and writer for IDX files (see the format description at the top of this file).
public enum IDX {
    /// Largest accepted number of dimensions; real files use 1 to 4.
    public static let maxDimensions = 16

    /// Largest IDX content accepted, in bytes (4 GiB), raw or after gunzip: the data are read
    /// whole into memory. The largest MNIST-like sets (EMNIST ByClass, 0.55 GB) fit.
    public static let maximumFileSize = 1 << 32

    /// The element type of a type code (byte 2 of the file): 0x08 uint8, 0x09 int8, 0x0B int16,
    /// 0x0C int32, 0x0D float32, 0x0E float64.
    static func elementType(code: UInt8) -> NDArray.ElementType? {
        switch code {
        case 0x08: .uint8
        case 0x09: .int8
        case 0x0B: .int16
        case 0x0C: .int32
        case 0x0D: .float32
        case 0x0E: .float64
        default: nil
        }
    }

    /// The type code of `type`, `nil` for `int64` (IDX has no 64-bit integers).
    static func code(of type: NDArray.ElementType) -> UInt8? {
        switch type {
        case .uint8: 0x08
        case .int8: 0x09
        case .int16: 0x0B
        case .int32: 0x0C
        case .float32: 0x0D
        case .float64: 0x0E
        case .int64: nil
        }
    }

    /// How many bytes beyond the size its header declares a gzip file may decompress to before
    /// decompression stops (up to this, the error counts the unexpected trailing bytes exactly).
    public static let decompressionSlack = 1 << 16

    /// Reads an IDX file, raw or gzip-compressed (detected by the `1F 8B` magic).
    public static func read(path: String) throws(DataError) -> NDArray {
        try read(path: path, maximumSize: maximumFileSize)
    }

    /// ``read(path:)`` with another size limit (tests use small ones).
    static func read(path: String, maximumSize: Int) throws(DataError) -> NDArray {
        let fix = "IDX data sets this large do not fit the in-memory reader; use a subset of the examples"
        let raw = try FileIO.read(path, limit: maximumSize, what: "IDX files", fix: fix) { prefix in
            if prefix.count >= 2 && prefix[0] == 0x1F && prefix[1] == 0x8B { return nil }  // compressed: size unknown
            do throws(DataError) {
                return try header(Array(prefix.prefix(headerMaximumSize)), path: path, compressed: false).expectedSize
            } catch {
                return error.kind == .truncated ? nil : prefix.count
            }
        }
        return try decode(raw, path: path, maximumSize: maximumSize)
    }

    /// The array in the bytes of an IDX file, raw or gzip-compressed, decompressing no further
    /// than its header declares (plus ``decompressionSlack``) nor past `maximumSize` bytes.
    /// `path` is used in errors only.
    static func decode(_ raw: [UInt8], path: String, maximumSize: Int) throws(DataError) -> NDArray {
        let fix = "IDX data sets this large do not fit the in-memory reader; use a subset of the examples"
        guard Gzip.hasMagic(raw) else { return try parse(raw, path: path) }

        // Read the header first, then decompress no further than it says (plus a slack).
        let prefix = try Gzip.decompressPrefix(raw, count: headerMaximumSize, path: path)
        var declared: Header?
        do throws(DataError) {
            declared = try header(prefix, path: path, compressed: true)
        } catch where error.kind == .truncated {
            declared = nil  // the stream ends inside the header: `parse` below says so
        }
        let expected = declared?.expectedSize ?? prefix.count
        if let declared, expected > maximumSize {
            throw DataError(
                .tooLarge,
                "the IDX header (after gunzip) declares shape \(declared.shape) of \(declared.type), \(expected) bytes, above the \(FileIO.sizeText(maximumSize)) limit of the in-memory reader",
                path: path, byteOffset: 4, fix: fix)
        }
        let bytes: [UInt8]
        do throws(DataError) {
            bytes = try Gzip.decompress(raw, path: path, maximumSize: expected.addingReportingOverflow(decompressionSlack).overflow
                                        ? Int.max : expected + decompressionSlack)
        } catch where error.kind == .tooLarge {
            var reworded = error
            let claim = declared.map { "shape \($0.shape) of \($0.type), \(expected) bytes" } ?? "\(expected) bytes"
            reworded.what = "the file decompresses to more than \(expected + decompressionSlack) bytes, while its IDX header declares \(claim) (decompression stopped there)"
            reworded.fix = "the file holds more than its header says (or is a decompression bomb); download or re-create it"
            throw reworded
        }
        return try parse(bytes, path: path, compressed: true)
    }

    /// Bytes needed to read any valid header: 4 + 4 × `maxDimensions`.
    static let headerMaximumSize = 4 + 4 * maxDimensions

    /// What an IDX header announces.
    struct Header {
        var type: NDArray.ElementType
        var shape: [Int]
        var headerSize: Int
        var count: Int
        /// Header plus data, in bytes.
        var expectedSize: Int { headerSize + count * type.byteWidth }
    }

    /// Decodes the header at the start of `bytes` (which may hold only its beginning); throws the
    /// errors ``parse(_:path:compressed:)`` reports for a bad header, and `.truncated` if `bytes`
    /// ends inside it.
    static func header(_ bytes: [UInt8], path: String, compressed: Bool) throws(DataError) -> Header {
        let stream = compressed ? " (after gunzip)" : ""
        let contentNote = compressed ? "decompressed data" : "file"
        func truncated(_ what: String, expected: Int) -> DataError {
            DataError(
                .truncated,
                "IDX \(contentNote) is truncated in the \(what): expected \(expected) bytes, found \(bytes.count)\(stream)",
                path: path, byteOffset: bytes.count,
                fix: "the file is incomplete; download or copy it again")
        }
        guard bytes.count >= 4 else { throw truncated("4-byte header", expected: 4) }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw DataError(
                .badMagic,
                "not an IDX file: the first two bytes are \(bytes[0]), \(bytes[1]), expected 0, 0\(stream)",
                path: path, byteOffset: 0,
                fix: "pass an IDX file such as train-images-idx3-ubyte (optionally .gz)")
        }
        guard let type = elementType(code: bytes[2]) else {
            throw DataError(
                .unsupported,
                "unsupported IDX element type 0x\(String(bytes[2], radix: 16))\(stream); supported: 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double",
                path: path, byteOffset: 2, fix: "check that the file is an IDX file and not corrupted")
        }
        let rank = Int(bytes[3])
        guard rank >= 1, rank <= maxDimensions else {
            throw DataError(
                .malformed, "IDX file declares \(rank) dimensions; expected 1...\(maxDimensions)\(stream)",
                path: path, byteOffset: 3, fix: "check that the file is an IDX file and not corrupted")
        }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else { throw truncated("dimension sizes", expected: headerSize) }
        var shape: [Int] = []
        var count = 1
        for d in 0..<rank {
            let o = 4 + 4 * d
            let size = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            shape.append(size)
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= (Int.max - headerSize) / type.byteWidth else {
                throw DataError(
                    .malformed,
                    "IDX dimensions \(shape)… multiply to more elements than any file can hold\(stream)",
                    path: path, byteOffset: o, fix: "the header is corrupted; download or copy the file again")
            }
            count = product
        }
        return Header(type: type, shape: shape, headerSize: headerSize, count: count)
    }

    /// Parses the bytes of an uncompressed IDX file. `path` is used in errors only.
    /// - Parameter compressed: set when `bytes` were gunzipped from `path`, so that errors say
    ///   that byte offsets refer to the decompressed data.
    public static func parse(_ bytes: [UInt8], path: String, compressed: Bool = false) throws(DataError) -> NDArray {
        let stream = compressed ? " (after gunzip)" : ""
        let contentNote = compressed ? "decompressed data" : "file"
        let header = try header(bytes, path: path, compressed: compressed)
        let (type, shape, headerSize, count) = (header.type, header.shape, header.headerSize, header.count)
        let expected = header.expectedSize
        guard bytes.count >= expected else {
            throw DataError(
                .truncated,
                "IDX \(contentNote) is truncated: expected \(expected) bytes (header + shape \(shape) of \(type)), found \(bytes.count)\(stream)",
                path: path, byteOffset: bytes.count,
                fix: "the file is incomplete; download or copy it again")
        }
        guard bytes.count == expected else {
            throw DataError(
                .malformed,
                "IDX \(contentNote) has \(bytes.count - expected) unexpected bytes after the data: shape \(shape) of \(type) needs exactly \(expected) bytes\(stream)",
                path: path, byteOffset: expected,
                fix: "the header does not match the data; check that this is the right file")
        }
        return NDArray(unchecked: shape, elements: NDArray.decode(type, bytes[headerSize...], count: count, bigEndian: true))
    }

    /// The bytes of an uncompressed IDX file holding `array`.
    /// - Throws: `.unsupported` for `int64` elements (IDX has no such type), `.invalidArgument`
    ///   for more than ``maxDimensions`` dimensions or a size above 2³² − 1.
    public static func encode(_ array: NDArray) throws(DataError) -> [UInt8] {
        guard let code = code(of: array.elementType) else {
            throw DataError(
                .unsupported, "IDX has no \(array.elementType) element type (it stores uint8, int8, int16, int32, float32, float64)",
                path: "<memory>", fix: "convert the elements to int32 or float64 first")
        }
        guard array.shape.count <= maxDimensions, array.shape.allSatisfy({ $0 <= Int(UInt32.max) }) else {
            throw DataError(
                .invalidArgument, "IDX stores at most \(maxDimensions) dimensions of at most \(UInt32.max) each, not shape \(array.shape)",
                path: "<memory>", fix: "reshape the array")
        }
        var bytes: [UInt8] = [0, 0, code, UInt8(array.shape.count)]
        for size in array.shape {
            for k in stride(from: 3, through: 0, by: -1) { bytes.append(UInt8(truncatingIfNeeded: size >> (8 * k))) }
        }
        array.appendElements(to: &bytes, bigEndian: true)
        return bytes
    }

    /// Writes `array` as an uncompressed IDX file (compress it with `gzip` if wanted).
    public static func write(_ array: NDArray, to path: String) throws(DataError) {
        try FileIO.write(try encode(array), to: path)
    }
}
