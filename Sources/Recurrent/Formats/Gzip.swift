// MARK: - gzip container

/// Reader for the gzip file format (RFC 1952, "GZIP file format specification version 4.3",
/// P. Deutsch, 1996) on top of the Swift DEFLATE decoder in `Inflate.swift`.
///
/// Each member is: `1F 8B`, method `08` (DEFLATE), flags, MTIME (4), XFL, OS, then the optional
/// FEXTRA (2-byte little-endian length + data), FNAME and FCOMMENT (zero-terminated) and FHCRC
/// (2 bytes) fields, the DEFLATE stream, and the trailer CRC32 and ISIZE (uncompressed size mod 2³²),
/// both little-endian. Both trailer fields are verified. Several concatenated members (as made by
/// `cat a.gz b.gz`) decode to the concatenation of their contents; zero bytes after the last
/// member (tape padding) are ignored, any other trailing data is an error.
enum Gzip {
    /// Whether `bytes` starts with the gzip magic number `1F 8B`.
    static func hasMagic(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Decompresses a whole gzip file. Byte offsets in errors are offsets into the compressed file.
    /// - Parameter maximumSize: the largest decompressed size accepted (all members together);
    ///   more is a ``DataError/Kind/tooLarge`` error, raised as soon as the output passes it.
    static func decompress(_ bytes: [UInt8], path: String, maximumSize: Int = Int.max) throws(DataError) -> [UInt8] {
        var output: [UInt8] = []
        var offset = 0
        var member = 0
        repeat {
            let start = try memberDataStart(bytes, at: offset, path: path)
            let (data, end) = try decompressMember(
                bytes, header: offset, data: start, maximumSize: maximumSize - output.count, path: path)
            if member == 0 { output = data } else { output += data }
            offset = end
            member += 1
        } while offset + 2 <= bytes.count && bytes[offset] == 0x1F && bytes[offset + 1] == 0x8B
        if let garbage = bytes[offset...].firstIndex(where: { $0 != 0 }) {
            throw DataError(
                .corrupt, "unexpected data after the end of the gzip stream", path: path,
                byteOffset: garbage,
                fix: "the file is not a clean gzip file; re-create it with `gzip` or remove the trailing bytes")
        }
        return output
    }

    /// The first `count` decompressed bytes of the first member (fewer if it is shorter), without
    /// decompressing the rest or checking the trailer: to read a header and learn how large the
    /// whole output may be before decompressing it.
    static func decompressPrefix(_ bytes: [UInt8], count: Int, path: String) throws(DataError) -> [UInt8] {
        try Inflate.prefix(bytes, from: memberDataStart(bytes, at: 0, path: path), count: count, path: path)
    }

    private static func truncated(_ what: String, at offset: Int, path: String) -> DataError {
        DataError(
            .truncated, "gzip file ends inside the \(what)", path: path, byteOffset: offset,
            fix: "the compressed file is incomplete; download or copy it again")
    }

    /// Checks the member header at `start` and returns the offset of its DEFLATE data.
    private static func memberDataStart(_ bytes: [UInt8], at start: Int, path: String) throws(DataError) -> Int {
        guard bytes.count - start >= 10 else { throw truncated("10-byte member header", at: start, path: path) }
        guard bytes[start] == 0x1F, bytes[start + 1] == 0x8B else {
            throw DataError(
                .badMagic,
                "not a gzip file: magic is \(hex(bytes[start])) \(hex(bytes[start + 1])), expected 1f 8b",
                path: path, byteOffset: start, fix: "pass an uncompressed file or a file made by `gzip`")
        }
        guard bytes[start + 2] == 8 else {
            throw DataError(
                .unsupported, "gzip compression method \(bytes[start + 2]) is not DEFLATE (8)",
                path: path, byteOffset: start + 2, fix: "re-compress the file with `gzip`")
        }
        let flags = bytes[start + 3]
        guard flags & 0xE0 == 0 else {
            throw DataError(
                .corrupt, "reserved gzip flag bits are set (flags \(hex(flags)))", path: path,
                byteOffset: start + 3, fix: "the file is corrupted; re-create it with `gzip`")
        }
        var offset = start + 10
        if flags & 0x04 != 0 {  // FEXTRA
            guard offset + 2 <= bytes.count else { throw truncated("FEXTRA length", at: offset, path: path) }
            let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
            offset += 2
            guard offset + length <= bytes.count else { throw truncated("FEXTRA field", at: offset, path: path) }
            offset += length
        }
        for (flag, name) in [(UInt8(0x08), "file name (FNAME)"), (UInt8(0x10), "comment (FCOMMENT)")]
        where flags & flag != 0 {
            guard let zero = bytes[offset...].firstIndex(of: 0) else { throw truncated(name, at: offset, path: path) }
            offset = zero + 1
        }
        if flags & 0x02 != 0 {  // FHCRC: low 16 bits of the CRC-32 of the header
            guard offset + 2 <= bytes.count else { throw truncated("header CRC", at: offset, path: path) }
            let stored = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
            let actual = CRC32.checksum(Array(bytes[start..<offset])) & 0xFFFF
            guard stored == actual else {
                throw DataError(
                    .corrupt, "gzip header CRC is \(hex32(stored)), computed \(hex32(actual))",
                    path: path, byteOffset: offset, fix: "the file is corrupted; download or copy it again")
            }
            offset += 2
        }
        return offset
    }

    /// Inflates the member whose header starts at `header` and data at `data`, and checks its trailer.
    private static func decompressMember(
        _ bytes: [UInt8], header: Int, data offset: Int, maximumSize: Int, path: String
    ) throws(DataError) -> ([UInt8], Int) {
        // ISIZE is in the last 4 bytes of a single-member file: use it as a size hint only.
        var hint = 0
        if bytes.count >= offset + 4 {
            let n = bytes.count
            hint = Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24
        }
        let (data, end) = try Inflate.decode(bytes, from: offset, expectedSize: hint, maximumSize: maximumSize, path: path)
        guard end + 8 <= bytes.count else {
            throw truncated("8-byte trailer (CRC32 and ISIZE)", at: end, path: path)
        }
        let storedCRC = readLE32(bytes, end)
        let storedSize = readLE32(bytes, end + 4)
        let actualCRC = CRC32.checksum(data)
        guard storedCRC == actualCRC else {
            throw DataError(
                .corrupt,
                "gzip CRC32 mismatch: trailer says \(hex32(storedCRC)), decompressed data has \(hex32(actualCRC))",
                path: path, byteOffset: end,
                fix: "the file is corrupted; download or copy it again (check with `gzip -t`)")
        }
        let actualSize = UInt32(truncatingIfNeeded: data.count)
        guard storedSize == actualSize else {
            throw DataError(
                .corrupt,
                "gzip ISIZE mismatch: trailer says \(storedSize) bytes, decompressed \(data.count) (mod 2^32: \(actualSize))",
                path: path, byteOffset: end + 4,
                fix: "the file is corrupted; download or copy it again (check with `gzip -t`)")
        }
        return (data, end + 8)
    }

    private static func readLE32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }

    private static func hex32(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
}
