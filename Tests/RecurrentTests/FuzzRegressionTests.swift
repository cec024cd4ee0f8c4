import Foundation
import Testing
@testable import Recurrent

// MARK: - Inputs

/// One file of `Fixtures/regressions/<target>/`: a crashing input found by fuzzing (kept after
/// the fix), or one of the reported findings; see `Fixtures/regressions/make_findings.py`.
struct RegressionInput: Sendable, CustomTestStringConvertible {
    let target: String
    let name: String
    let bytes: [UInt8]
    var testDescription: String { "\(target)/\(name)" }

    /// Every file of the target's folder, sorted by name.
    static func all(_ target: String) -> [RegressionInput] {
        guard let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else { return [] }
        let folder = fixtures.appendingPathComponent("regressions/\(target)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().compactMap { name in
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else { return nil }
            return RegressionInput(target: target, name: name, bytes: [UInt8](data))
        }
    }
}

// MARK: - Replays

/// Every kept input goes through the entry point its fuzz target (Fuzz/<target>.swift) calls,
/// with the same checks where they need no system library: a thrown error or a consistent
/// success, never a crash. `swift test` thereby replays all fuzzing findings.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {

    @Test("every target has regression inputs", arguments: ["SafeTensors", "NumPy", "IDX", "Gzip", "InflateDifferential", "Text", "CheckpointMetadata", "Specs"])
    func folderIsPresent(_ target: String) {
        #expect(!RegressionInput.all(target).isEmpty, "no files in Fixtures/regressions/\(target)")
    }

    @Test(arguments: RegressionInput.all("SafeTensors"))
    func safeTensors(_ input: RegressionInput) throws {
        guard let file = try? SafeTensorsFile(bytes: input.bytes) else { return }
        #expect(SafeTensorsFile.declaredFileSize(input.bytes[...]) == input.bytes.count)
        for (_, tensor) in file.tensors {
            if let values = try? tensor.floats() { #expect(values.count == tensor.elementCount) }
        }
        #expect(try SafeTensorsFile(bytes: file.serialized()) == file)
    }

    @Test(arguments: RegressionInput.all("NumPy"))
    func numPy(_ input: RegressionInput) throws {
        guard let array = try? NumPy.parse(input.bytes, path: input.name) else { return }
        #expect(try NumPy.parse(NumPy.encode(array), path: "again.npy").shape == array.shape)
    }

    @Test(arguments: RegressionInput.all("IDX"))
    func idx(_ input: RegressionInput) throws {
        guard let array = try? IDX.parse(input.bytes, path: input.name) else { return }
        #expect(try IDX.encode(array) == input.bytes)
    }

    @Test(arguments: RegressionInput.all("Gzip"))
    func gzip(_ input: RegressionInput) throws {
        do {
            _ = try IDX.decode(input.bytes, path: input.name, maximumSize: 1 << 24)
        } catch {
            #expect(!error.description.isEmpty)
        }
    }

    /// Files end in `.reject` (zlib refuses the stream) or `.accept` (zlib decodes it; the
    /// expected output is in the file `<name>.out` beside it).
    @Test(arguments: RegressionInput.all("InflateDifferential").filter { !$0.name.hasSuffix(".out") })
    func inflateDifferential(_ input: RegressionInput) throws {
        let result = try? Inflate.decode(input.bytes, maximumSize: 1 << 20, path: input.name)
        if input.name.hasSuffix(".reject") {
            #expect(result == nil, "zlib refuses this stream; Inflate decoded \(result?.bytes.count ?? 0) bytes")
        } else {
            let expected = RegressionInput.all("InflateDifferential").first { $0.name == input.name + ".out" }
            #expect(result?.bytes == expected?.bytes)
        }
    }

    @Test(arguments: RegressionInput.all("Text"))
    func text(_ input: RegressionInput) throws {
        let reference = String(validating: input.bytes, as: UTF8.self)
        let scalars = try? UTF8Decoding.scalars(input.bytes, path: input.name)
        #expect((scalars == nil) == (reference == nil))
        guard let text = try? CharacterText(bytes: input.bytes, source: input.name, maximumVocabulary: 64) else { return }
        let ids = (text.train + text.validation + text.test).map(Int.init)
        #expect(try Array(text.vocabulary.decode(ids).unicodeScalars) == scalars)
    }

    @Test(arguments: RegressionInput.all("CheckpointMetadata"))
    func checkpointMetadata(_ input: RegressionInput) throws {
        let pieces = input.bytes.split(separator: 0x0A, maxSplits: 3, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        var metadata: [String: String] = [:]
        for (key, value) in zip([Checkpoint.configurationKey, "activation", "readout", "cell"], pieces) where !value.isEmpty {
            metadata[key] = value
        }
        let file = SafeTensorsFile(tensors: SmallCheckpoint.tensors, metadata: metadata)
        _ = try? Checkpoint.configuration(of: file)
        #expect(try SafeTensorsFile(bytes: file.serialized()).metadata == metadata)
    }

    @Test(arguments: RegressionInput.all("Specs"))
    func specs(_ input: RegressionInput) throws {
        let task = try AddingTask(length: 5, testSize: 1)
        let text = String(decoding: input.bytes, as: UTF8.self)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if let activation = try? Activation(parsing: line) { #expect(try Activation(parsing: activation.name) == activation) }
            if let initializer = try? Initializer(parsing: line) { #expect(try Initializer(parsing: initializer.name) == initializer) }
            _ = try? LearningRateSchedule(parsing: line, totalSteps: 100)
            if let spec = try? ModelSpec(parsing: line) {
                #expect(try ModelSpec(parsing: spec.description) == spec)
                _ = try? spec.configuration(for: task, hidden: 8)
            }
        }
    }
}

/// The tensors of a 1-layer RNN with I = 2, H = 3, O = 1 (the fuzz target's checkpoint).
enum SmallCheckpoint {
    static let tensors: [String: SafeTensor] = [
        "rnn.weight_ih_l0": SafeTensor(floats: [Float](repeating: 0.5, count: 6), shape: [3, 2]),
        "rnn.weight_hh_l0": SafeTensor(floats: [Float](repeating: 0.1, count: 9), shape: [3, 3]),
        "rnn.bias_ih_l0": SafeTensor(floats: [0, 0, 0], shape: [3]),
        "rnn.bias_hh_l0": SafeTensor(floats: [0, 0, 0], shape: [3]),
        "head.weight": SafeTensor(floats: [1, 1, 1], shape: [1, 3]),
        "head.bias": SafeTensor(floats: [0], shape: [1]),
    ]
}
