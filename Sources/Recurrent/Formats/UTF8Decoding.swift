// MARK: - Strict UTF-8 decoding with error offsets

/// Strict UTF-8 decoding on the standard library's decoder (`Unicode.UTF8.ForwardParser`), with
/// the byte offset of the first ill-formed sequence: the library's one UTF-8 validator, for text
/// files and safetensors headers alike.
///
/// Well-formedness is The Unicode Standard's (Table 3-7 "Well-Formed UTF-8 Byte Sequences"):
/// overlong forms, surrogates, code points above U+10FFFF, stray continuation bytes and
/// sequences cut short are errors. The reported offset is that of the first byte of the
/// ill-formed sequence — the same position as Python's `UnicodeDecodeError.start` — and the
/// sequence is the standard library's "maximal subpart" (one to three bytes). A byte-order mark
/// (U+FEFF) is kept as an ordinary scalar.
enum UTF8Decoding {
    /// The first ill-formed sequence in `bytes`: its offset and length, or `nil` if all is UTF-8.
    static func firstError(in bytes: some Collection<UInt8>) -> (offset: Int, length: Int)? {
        decode(bytes) { _ in }
    }

    /// The scalars of `bytes`, or a ``DataError`` (`.invalidText`) naming `path`, the line and
    /// the byte offset of the first ill-formed sequence.
    static func scalars(_ bytes: [UInt8], path: String) throws(DataError) -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(bytes.count)
        guard let (offset, length) = decode(bytes, { scalars.append($0) }) else { return scalars }
        let line = 1 + bytes[..<offset].lazy.filter { $0 == 0x0A }.count
        let sequence = bytes[offset..<(offset + length)].map { "0x" + String($0, radix: 16) }.joined(separator: " ")
        let lead = bytes[offset]
        let reason = offset + length == bytes.count && (0xC2...0xF4).contains(lead)
            ? "the file ends inside a \(lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2)-byte sequence (\(sequence))"
            : "\(sequence) is not a well-formed sequence (a stray continuation byte, an overlong form, "
                + "a surrogate, a code point above U+10FFFF or a sequence cut short)"
        throw DataError(
            .invalidText, "invalid UTF-8 (line \(line)): \(reason)", path: path, byteOffset: offset,
            fix: "convert the file to UTF-8 (e.g. `iconv -f latin1 -t utf-8`) or remove the bad bytes")
    }

    /// Passes each scalar of `bytes` to `body` and stops at the first ill-formed sequence,
    /// returning its offset and length.
    private static func decode(
        _ bytes: some Collection<UInt8>, _ body: (Unicode.Scalar) -> Void
    ) -> (offset: Int, length: Int)? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                body(Unicode.UTF8.decode(encoded))
                offset += encoded.count
            case .error(let length): return (offset, length)
            case .emptyInput: return nil
            }
        }
    }
}
