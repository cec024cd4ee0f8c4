// libFuzzer target: the bytes of an IDX file, gzip-compressed or not, through the entry point
// IDX.read uses after reading the file (IDX.decode: header first, then decompression bounded by
// what the header declares). Built and run by scripts/fuzz.sh (not part of the package build).
@testable import Recurrent

/// Small, so that a decompression bomb is refused quickly and the fuzzer's memory stays low.
let maximumSize = 1 << 24

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let array = try IDX.decode(bytes, path: "fuzz.gz", maximumSize: maximumSize)
        precondition((try? IDX.encode(array))?.count ?? 0 <= maximumSize)
    } catch {
        precondition(!error.description.isEmpty)  // the message is built (its formatting is code too)
        if Gzip.hasMagic(bytes), error.kind != .tooLarge, let whole = try? Gzip.decompress(bytes, path: "fuzz.gz", maximumSize: maximumSize) {
            // The gzip layer accepted it, so the IDX layer must have refused the content.
            precondition((try? IDX.parse(whole, path: "fuzz.gz", compressed: true)) == nil,
                         "IDX.decode refused (\(error)) content that IDX.parse accepts")
        }
    }
    return 0
}
