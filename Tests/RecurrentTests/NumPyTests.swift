import Foundation
import Testing

@testable import Recurrent

// MARK: - NumPy .npy files
//
// The fixtures in Fixtures/ were written once by NumPy with Fixtures/make_npy_fixtures.py.

@Suite("NumPy .npy")
struct NumPyTests {
    static let littleEndianFixtures = [
        "f4_2x3.npy", "f8_4.npy", "i8_2x2.npy", "i4_3.npy", "u1_2x2x2.npy", "f8_scalar.npy",
        "seq_inputs.npy", "seq_classes.npy", "seq_classes_per_step.npy", "seq_values.npy",
    ]

    @Test func readsNumPyFixtures() throws {
        let f4 = try NumPy.read(path: fixturePath("f4_2x3.npy"))
        #expect(f4.shape == [2, 3])
        #expect(f4.elements == .float32([-1, -0.5, 0, 0.5, 1, 1.5]))
        #expect(try NumPy.read(path: fixturePath("f8_4.npy")).elements == .float64([0.1, -2.5, 1e300, 3.0]))
        let i8 = try NumPy.read(path: fixturePath("i8_2x2.npy"))
        #expect(i8.shape == [2, 2] && i8.elements == .int64([1, -2, 3, -4]))
        #expect(try NumPy.read(path: fixturePath("i4_3.npy")).elements == .int32([7, -8, 9]))
        let u1 = try NumPy.read(path: fixturePath("u1_2x2x2.npy"))
        #expect(u1.shape == [2, 2, 2] && u1.elements == .uint8(Array(0..<8)))
        let scalar = try NumPy.read(path: fixturePath("f8_scalar.npy"))
        #expect(scalar.shape == [] && scalar.elements == .float64([3.5]))
    }

    @Test func bigEndianIsConverted() throws {
        let array = try NumPy.read(path: fixturePath("f4_be_2x2.npy"))
        #expect(array.shape == [2, 2])
        #expect(array.elements == .float32([1.5, -2, 3.25, 4]))
    }

    @Test(arguments: ["f4_v2.npy", "f4_v3.npy"])
    func formatVersions2And3(name: String) throws {
        #expect(try NumPy.read(path: fixturePath(name)) == NumPy.read(path: fixturePath("f4_2x3.npy")))
    }

    @Test func fortranOrderIsAClearError() throws {
        let path = try fixturePath("f4_fortran_2x3.npy")
        let error = expectDataError { () throws(DataError) in _ = try NumPy.read(path: path) }
        #expect(error?.kind == .unsupported)
        #expect(error?.path == path)
        #expect(error?.what.contains("Fortran") == true)
        #expect(error?.fix.contains("ascontiguousarray") == true)
        #expect(error?.byteOffset != nil)
    }

    /// The writer reproduces numpy.save byte for byte.
    @Test(arguments: littleEndianFixtures)
    func writerMatchesNumPyBytes(name: String) throws {
        let path = try fixturePath(name)
        #expect(try NumPy.encode(NumPy.read(path: path)) == readBytes(path))
    }

    @Test func roundTripThroughAFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        var rng = SeededGenerator(seed: 42)
        let arrays: [NDArray] = try [
            NDArray(shape: [3, 4, 5], elements: .float32((0..<60).map { _ in Float(Draw.uniform01(&rng)) - 0.5 })),
            NDArray(shape: [7], elements: .float64((0..<7).map { _ in Draw.uniform01(&rng) * 1e10 })),
            NDArray(shape: [2, 3], elements: .int64([Int64.min, -1, 0, 1, 2, Int64.max])),
            NDArray(shape: [1, 3], elements: .int32([Int32.min, 0, Int32.max])),
            NDArray(shape: [0, 4], elements: .uint8([])),
            NDArray(shape: [123_456_789_012, 0], elements: .float32([])),
        ]
        for (i, array) in arrays.enumerated() {
            let path = directory + "/a\(i).npy"
            try NumPy.write(array, to: path)
            #expect(try NumPy.read(path: path) == array)
            let headerEnd = 10 + Int(try readBytes(path)[8]) + Int(try readBytes(path)[9]) << 8
            #expect(headerEnd % 64 == 0)
        }
    }

    @Test(arguments: [0, 5, 8, 9, 10, 60, 127, 128, 151])
    func truncatedFilesAreErrors(length: Int) throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let bytes = try readBytes(fixturePath("f4_2x3.npy"))  // 128-byte header + 24 bytes
        let path = directory + "/cut.npy"
        try writeBytes(Array(bytes[..<length]), to: path)
        let error = expectDataError { () throws(DataError) in _ = try NumPy.read(path: path) }
        #expect(error?.path == path)
        #expect(error?.kind == .truncated || error?.kind == .malformed)
        #expect(error?.what.contains("found \(length)") == true)
        if length >= 128 { #expect(error?.what.contains("expected 152 bytes") == true) }
    }

    /// Random damage to the preamble and header gives errors (or valid arrays), never a trap.
    @Test func randomHeaderDamageNeverTraps() throws {
        let good = try readBytes(fixturePath("f4_2x3.npy"))
        var rng = SeededGenerator(seed: 123)
        for _ in 0..<500 {
            var bad = good
            for _ in 0..<(1 + Draw.index(below: 3, &rng)) {
                bad[Draw.index(below: 128, &rng)] = UInt8(truncatingIfNeeded: rng.next())
            }
            let length = Draw.index(below: 4, &rng) == 0 ? Draw.index(below: bad.count, &rng) : bad.count
            if let array = try? NumPy.parse(Array(bad[..<length]), path: "fuzz.npy") {
                #expect(array.count * 4 <= good.count)
            }
        }
    }

    @Test func malformedFiles() throws {
        let good = try readBytes(fixturePath("f4_2x3.npy"))
        func parse(_ bytes: [UInt8]) -> DataError? {
            expectDataError { () throws(DataError) in _ = try NumPy.parse(bytes, path: "bad.npy") }
        }
        func withHeader(_ header: String) -> [UInt8] {
            let h = Array(header.utf8) + [0x0A]
            return Array(good[0..<8]) + [UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + Array(good[128...])
        }
        var magic = good
        magic[1] = 0x4D
        #expect(parse(magic)?.kind == .badMagic)
        var version = good
        version[6] = 4
        #expect(parse(version)?.kind == .unsupported)
        #expect(parse(good + [0])?.byteOffset == good.count)
        #expect(parse(withHeader("{'descr': '<f4', 'shape': (2, 3), }"))?.what.contains("'fortran_order'") == true)
        let dtype = parse(withHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(dtype?.kind == .unsupported)
        #expect(dtype?.byteOffset == 20)
        #expect(parse(withHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }"))?.kind == .unsupported)
        #expect(parse(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }"))?.kind == .malformed)
        #expect(parse(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3) "))?.kind == .malformed)
        #expect(parse(withHeader("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3), }"))?.kind == .malformed)
        // Python 2 era long integers and double quotes are accepted.
        let legacy = withHeader("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2L, 3L)}")
        #expect(try NumPy.parse(legacy, path: "legacy.npy").shape == [2, 3])
    }

    @Test(arguments: [("seq_classes.npy", "classes"), ("seq_classes_per_step.npy", "perStep"), ("seq_values.npy", "values")])
    func userSequenceData(targetsFile: String, kind: String) throws {
        let data = try SequenceDataset<Float>.load(inputs: fixturePath("seq_inputs.npy"), targets: fixturePath(targetsFile))
        #expect(data.count == 4 && data.steps == 3 && data.features == 2)
        let (inputs, targets) = data.batch(indices: [2, 0])
        #expect(inputs.values == [12, 13, 14, 15, 16, 17, 0, 1, 2, 3, 4, 5].map { Float($0) / 10 })
        switch (kind, targets) {
        case ("classes", .classes(let ids)): #expect(ids == [1, 2])
        case ("perStep", .classesPerStep(let ids)): #expect(ids == [-1, -1, 2, 0, 1, -1])
        case ("values", .values(let v, let columns)): #expect(v == [-1, 0.5] && columns == 1)
        default: Issue.record("unexpected targets \(targets) for \(kind)")
        }
        let double = try SequenceDataset<Double>.load(inputs: fixturePath("seq_inputs.npy"), targets: fixturePath(targetsFile))
        #expect(double.inputs[3] == Double(Float(0.3)))
        var rng = SeededGenerator(seed: 1)
        var batches = try data.batches(batchSize: 3, using: &rng)
        #expect(batches.next()?.0.batch == 3)
        #expect(batches.next()?.0.batch == 1)
    }

    @Test func userDataMismatchesAreErrors() throws {
        let inputs = try NumPy.read(path: fixturePath("seq_inputs.npy"))
        let three = try NDArray(shape: [3], elements: .int64([0, 1, 2]))
        let count = expectDataError { () throws(DataError) in
            _ = try SequenceDataset<Float>(inputs: inputs, targets: three, targetsPath: "t.npy")
        }
        #expect(count?.kind == .mismatch && count?.path == "t.npy")
        let negative = try NDArray(shape: [4], elements: .int64([0, 1, -1, 2]))
        #expect(expectDataError { () throws(DataError) in _ = try SequenceDataset<Float>(inputs: inputs, targets: negative) }?.recordIndex == 2)
        let nan = try NDArray(shape: [1, 1, 2], elements: .float32([0, .nan]))
        #expect(expectDataError { () throws(DataError) in _ = try SequenceDataset<Float>(inputs: nan, targets: three) }?.recordIndex == 0)
        let flat = try NDArray(shape: [4, 6], elements: .float32([Float](repeating: 0, count: 24)))
        #expect(expectDataError { () throws(DataError) in _ = try SequenceDataset<Float>(inputs: flat, targets: three) }?.what.contains("[N, T, I]") == true)
    }
}
