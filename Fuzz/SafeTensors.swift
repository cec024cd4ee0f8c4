// libFuzzer target: safetensors bytes -> SafeTensorsFile(bytes:), then every tensor read.
// Built and run by scripts/fuzz.sh (not part of the package build).
//
// Properties checked beyond "no crash": a file that parses re-serialises to bytes that parse to
// the same contents; every tensor's element reads agree with its shape; the size the header
// declares (used to bound reads from pipes) is the file size for every accepted file.
@testable import Recurrent

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let declared = SafeTensorsFile.declaredFileSize(bytes[...])
    let file: SafeTensorsFile
    do { file = try SafeTensorsFile(bytes: bytes) } catch {
        precondition(!error.description.isEmpty)  // the message is built (its formatting is code too)
        return 0
    }
    precondition(declared == bytes.count, "declared size \(String(describing: declared)) for an accepted file of \(bytes.count) bytes")
    for (_, tensor) in file.tensors {
        let count = tensor.elementCount
        if let values = try? tensor.floats() { precondition(values.count == count) }
        if let values = try? tensor.doubles() { precondition(values.count == count) }
        if let values = try? tensor.int64s() { precondition(values.count == count) }
    }
    guard let again = try? file.serialized() else { preconditionFailure("an accepted file does not serialise") }
    guard let reparsed = try? SafeTensorsFile(bytes: again), reparsed == file else {
        preconditionFailure("an accepted file does not survive a round trip")
    }
    return 0
}
