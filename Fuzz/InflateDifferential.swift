// libFuzzer target: raw DEFLATE bytes through the Swift decoder (Inflate.decode) and through
// zlib's inflate (raw mode, 32 KiB window, the system library, linked only here). Same bytes in:
// both must accept with the same output and the same end of stream, or both must refuse.
// The one documented difference: output beyond the caller's limit, which only the Swift decoder
// has (the comparison is skipped when zlib's output passes it).
// Built and run by scripts/fuzz.sh (not part of the package build).
import CZlib
@testable import Recurrent

let limit = 1 << 20
/// zlib's output buffer, allocated once (a fresh megabyte per input would dominate the run time).
nonisolated(unsafe) let zlibOutput = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: limit + 1)

/// zlib's output and the number of input bytes it consumed, or nil if it refused the stream
/// (error, or input ended before the final block).
func zlibInflate(_ input: [UInt8]) -> (bytes: [UInt8], consumed: Int)? {
    var stream = z_stream()
    guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        preconditionFailure("inflateInit2 failed")
    }
    defer { inflateEnd(&stream) }
    var input = input
    let status = input.withUnsafeMutableBufferPointer { inBuffer in
        stream.next_in = inBuffer.baseAddress
        stream.avail_in = UInt32(inBuffer.count)
        stream.next_out = zlibOutput.baseAddress
        stream.avail_out = UInt32(zlibOutput.count)
        return inflate(&stream, Z_FINISH)
    }
    guard status == Z_STREAM_END else { return nil }
    return (Array(zlibOutput[..<Int(stream.total_out)]), Int(stream.total_in))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let reference = zlibInflate(bytes)
    do {
        let (ours, end) = try Inflate.decode(bytes, maximumSize: limit, path: "fuzz.deflate")
        guard let reference else { preconditionFailure("zlib refuses a stream Inflate accepts (\(ours.count) bytes out)") }
        precondition(ours == reference.bytes, "outputs differ: \(ours.count) bytes against zlib's \(reference.bytes.count)")
        precondition(end == reference.consumed, "stream ends at byte \(end), zlib's at \(reference.consumed)")
    } catch {
        if let reference, !(error.kind == .tooLarge && reference.bytes.count > limit) {
            preconditionFailure("Inflate refuses a stream zlib accepts (\(reference.bytes.count) bytes out): \(error)")
        }
    }
    return 0
}
