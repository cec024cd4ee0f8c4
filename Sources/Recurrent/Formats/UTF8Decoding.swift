// MARK: - Strict UTF-8 decoding with error offsets

/// Decodes UTF-8 to Unicode scalars, reporting the byte offset of the first ill-formed sequence.
///
/// Well-formedness follows The Unicode Standard, Table 3-7 "Well-Formed UTF-8 Byte Sequences":
/// overlong forms (`C0`, `C1`, `E0 80…9F`, `F0 80…8F`), surrogates (`ED A0…BF`), code points
/// above U+10FFFF (`F4 90…`, `F5…FF`), stray continuation bytes and sequences cut short (by the
/// end of the data or by a non-continuation byte) are all errors. The reported offset is that of
/// the first byte of the ill-formed sequence — the same position as Python's
/// `UnicodeDecodeError.start`. A byte-order mark (U+FEFF) is kept as an ordinary scalar.
enum UTF8Decoding {
    static func scalars(_ bytes: [UInt8], path: String) throws(DataError) -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(bytes.count)
        var i = 0
        let n = bytes.count
        while i < n {
            let lead = bytes[i]
            if lead < 0x80 {
                scalars.append(Unicode.Scalar(lead))
                i += 1
                continue
            }
            let length: Int
            var secondRange: ClosedRange<UInt8> = 0x80...0xBF
            var value: UInt32
            switch lead {
            case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
            case 0xE0: length = 3; value = 0; secondRange = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3; value = UInt32(lead & 0x0F)
            case 0xED: length = 3; value = 0x0D; secondRange = 0x80...0x9F
            case 0xF0: length = 4; value = 0; secondRange = 0x90...0xBF
            case 0xF1...0xF3: length = 4; value = UInt32(lead & 0x07)
            case 0xF4: length = 4; value = 4; secondRange = 0x80...0x8F
            default: throw invalid(bytes, at: i, path: path, reason: leadReason(lead))
            }
            for k in 1..<length {
                guard i + k < n else {
                    throw invalid(bytes, at: i, path: path, reason: "the file ends inside a \(length)-byte sequence")
                }
                let byte = bytes[i + k]
                guard (k == 1 ? secondRange : 0x80...0xBF).contains(byte) else {
                    throw invalid(
                        bytes, at: i, path: path,
                        reason: "byte \(k + 1) of a \(length)-byte sequence is 0x\(String(byte, radix: 16)), outside \(k == 1 ? "0x\(String(secondRange.lowerBound, radix: 16))…0x\(String(secondRange.upperBound, radix: 16))" : "0x80…0xbf")")
                }
                value = value << 6 | UInt32(byte & 0x3F)
            }
            guard let scalar = Unicode.Scalar(value) else {
                throw invalid(bytes, at: i, path: path, reason: "not a Unicode scalar value")
            }
            scalars.append(scalar)
            i += length
        }
        return scalars
    }

    private static func leadReason(_ lead: UInt8) -> String {
        switch lead {
        case 0x80...0xBF: "continuation byte 0x\(String(lead, radix: 16)) without a lead byte"
        case 0xC0, 0xC1: "byte 0x\(String(lead, radix: 16)) only starts overlong encodings"
        default: "byte 0x\(String(lead, radix: 16)) never occurs in UTF-8"
        }
    }

    private static func invalid(_ bytes: [UInt8], at offset: Int, path: String, reason: String) -> DataError {
        let line = 1 + bytes[..<offset].lazy.filter { $0 == 0x0A }.count
        return DataError(
            .invalidText, "invalid UTF-8 (line \(line)): \(reason)", path: path, byteOffset: offset,
            fix: "convert the file to UTF-8 (e.g. `iconv -f latin1 -t utf-8`) or remove the bad bytes")
    }
}
