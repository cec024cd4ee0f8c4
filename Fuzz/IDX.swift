// libFuzzer target: raw IDX bytes -> IDX.parse, then a round trip through IDX.encode.
// Built and run by scripts/fuzz.sh (not part of the package build).
@testable import Recurrent

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let array: NDArray
    do { array = try IDX.parse(bytes, path: "fuzz-idx") } catch {
        precondition(!error.description.isEmpty)  // the message is built (its formatting is code too)
        return 0
    }
    precondition((try? IDX.encode(array)) == bytes, "an accepted file does not encode back to its bytes")
    return 0
}
