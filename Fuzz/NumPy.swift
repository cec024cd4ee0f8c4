// libFuzzer target: .npy bytes -> NumPy.parse, then a round trip through NumPy.encode.
// Built and run by scripts/fuzz.sh (not part of the package build).
@testable import Recurrent

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let declared = NumPy.declaredFileSize(bytes[...])
    let array: NDArray
    do { array = try NumPy.parse(bytes, path: "fuzz.npy") } catch {
        precondition(!error.description.isEmpty)  // the message is built (its formatting is code too)
        return 0
    }
    precondition(declared == bytes.count, "declared size \(String(describing: declared)) for an accepted file of \(bytes.count) bytes")
    let product = array.shape.reduce(1, *)
    precondition(product == array.count, "shape \(array.shape) for \(array.count) elements")
    guard let again = try? NumPy.parse(NumPy.encode(array), path: "again.npy") else {
        preconditionFailure("the writer's output of an accepted array does not parse")
    }
    precondition(again.shape == array.shape)
    switch (again.elements, array.elements) {
    case (.float32(let a), .float32(let b)): precondition(a.map(\.bitPattern) == b.map(\.bitPattern))
    case (.float64(let a), .float64(let b)): precondition(a.map(\.bitPattern) == b.map(\.bitPattern))
    default: precondition(again.elements == array.elements)
    }
    return 0
}
