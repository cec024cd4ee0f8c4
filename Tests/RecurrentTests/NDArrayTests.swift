import Foundation
import Testing
@testable import Recurrent

/// The one n-d array value (`NDArray`) that the IDX and NumPy readers produce and safetensors
/// tensors convert to.
@Suite struct NDArrayTests {
    /// `numpy.save` output for int8 and int16 arrays (bytes from NumPy 2.4: the 128-byte preamble
    /// and header, then the data), written and read here byte for byte.
    @Test(arguments: [
        (NDArray.Elements.int8([-128, 0, 127]), [3], "|i1", [0x80, 0x00, 0x7F]),
        (NDArray.Elements.int16([-32768, 1, 2, 32767]), [2, 2], "<i2", [0x00, 0x80, 0x01, 0x00, 0x02, 0x00, 0xFF, 0x7F]),
    ] as [(NDArray.Elements, [Int], String, [UInt8])])
    func numPyWritesSmallIntegersAsNumPyDoes(_ elements: NDArray.Elements, _ shape: [Int], _ descr: String, _ data: [UInt8]) throws {
        let array = try NDArray(shape: shape, elements: elements)
        let bytes = NumPy.encode(array)
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        header += [UInt8](repeating: 0x20, count: 117 - header.count) + [0x0A]
        #expect(bytes == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0x76, 0] + header + data)
        #expect(try NumPy.parse(bytes, path: "x.npy") == array)
    }

    @Test func bigEndianInt16IsConverted() throws {
        var header = Array("{'descr': '>i2', 'fortran_order': False, 'shape': (2, 2), }".utf8)
        header += [UInt8](repeating: 0x20, count: 117 - header.count) + [0x0A]
        let bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0x76, 0] + header + [0x80, 0x00, 0x00, 0x01, 0x00, 0x02, 0x7F, 0xFF]
        #expect(try NumPy.parse(bytes, path: "x.npy").elements == .int16([-32768, 1, 2, 32767]))
    }

    /// An array IDX cannot hold is refused by the writer with a reason, not trapped on.
    @Test func idxRefusesWhatItCannotStore() throws {
        let wide = try NDArray(shape: [2], elements: .int64([1, 2]))
        let type = expectDataError { () throws(DataError) in _ = try IDX.encode(wide) }
        #expect(type?.kind == .unsupported && type?.what.contains("no int64 element type") == true)
        let huge = try NDArray(shape: [1 << 33, 0], elements: .uint8([]))
        let shape = expectDataError { () throws(DataError) in _ = try IDX.encode(huge) }
        #expect(shape?.kind == .invalidArgument)
        let same = try NDArray(shape: [2, 2], elements: .int8([-1, 0, 1, 2]))
        #expect(try IDX.parse(IDX.encode(same), path: "x") == same)
    }

    /// The one conversion from a safetensors tensor: floats stay floats, integers become int64.
    @Test func safeTensorsBecomeArrays() throws {
        let file = SafeTensorsFile(tensors: [
            "f": SafeTensor(floats: [1.5, -2], shape: [2]),
            "d": SafeTensor(doubles: [0.1], shape: [1, 1]),
            "i": SafeTensor(dtype: .i16, shape: [2], bytes: [0xFF, 0xFF, 0x02, 0x00]),
        ])
        #expect(try file.array("f", path: "p").elements == .float32([1.5, -2]))
        #expect(try file.array("d", path: "p") == NDArray(shape: [1, 1], elements: .float64([0.1])))
        #expect(try file.array("i", path: "p").integers() == [-1, 2])
        #expect(throws: DataError.self) { try file.array("none", path: "p") }
    }
}
