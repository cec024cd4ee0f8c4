import Foundation
import Testing

@testable import Recurrent

/// `TrainingTask.evaluationSet`, `TaskSpec.exportEvaluationSets` and `recurrent export-data`:
/// the files hold exactly what the evaluator scores, and `--task tensors` reads them back.
@Suite("Evaluation set export")
struct EvaluationSetExportTests {
    /// The adding and copy test sets are the generators' own seeded sets, bit for bit, whatever
    /// the evaluation batch size that cut them.
    @Test(arguments: [TaskKind.adding, .copy])
    func syntheticTestSetIsTheGeneratorsSeededSet(kind: TaskKind) throws {
        let task = try TaskSpec(name: kind, length: 7, limit: 23).makeTask()
        let set = try task.evaluationSet(.test)
        let (x, y): (SequenceBatch<Float>, Targets<Float>) = kind == .adding
            ? try AddingProblem(steps: 7).testSet(size: 23, seed: AddingProblem.defaultTestSeed)
            : try CopyMemory(length: 7).testSet(size: 23, seed: CopyMemory.defaultTestSeed)
        #expect(set.count == 23 && set.steps == x.steps && set.features == x.features)
        #expect(set.inputs == x.values)
        #expect(set.targets == y)
        #expect(set.lengths == nil)
        // The evaluator's batches of 5 are consecutive slices of the set.
        let batches = try task.evaluationBatches(.test, batchSize: 5)
        #expect(batches.flatMap(\.inputs.values) == set.inputs)
    }

    /// Row MNIST: the validation split is the last images of the training files, pixel / 255,
    /// one row per step; the test split is t10k. Written and read back through `--task tensors`.
    @Test func rowMNISTSplitsRoundTripThroughTheTensorsForm() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        try MNISTTests.writeFakeMNIST(in: directory)
        let spec = TaskSpec(name: .rowmnist, data: directory, validationFraction: 0.4)
        let out = URL(fileURLWithPath: directory).appendingPathComponent("export")
        let written = try spec.exportEvaluationSets(to: out)
        #expect(written.map(\.split) == [.validation, .test])
        #expect(written.map(\.sequences) == [2, 2])

        let validation = try TaskSpec.loadTensors(out.appendingPathComponent("val.safetensors").path)
        #expect(validation.count == 2 && validation.steps == 28 && validation.features == 28)
        // Images 3 and 4 of the 5 training images; pixel p of image i is MNISTTests.pixel(i, p).
        let expected = (3...4).flatMap { i in (0..<784).map { Float(MNISTTests.pixel(i, $0)) / 255 } }
        #expect(validation.inputs == expected)
        #expect(validation.targets == .classes([1, 5]))
        let test = try TaskSpec.loadTensors(out.appendingPathComponent("test.safetensors").path)
        #expect(test.targets == .classes([9, 2]))
        #expect(test.inputs == (100...101).flatMap { i in (0..<784).map { Float(MNISTTests.pixel(i, $0)) / 255 } })

        let file = try SafeTensorsFile(contentsOf: out.appendingPathComponent("test.safetensors"))
        #expect(file.tensors["targets"]?.dtype == .i64)
        #expect(file.metadata["recurrent.split"] == "test")
        #expect(file.metadata["recurrent.task"]?.contains("rowmnist") == true)
    }

    /// Sequences of uneven length keep their lengths.
    @Test func unevenLengthsAreWritten() throws {
        let x = SequenceBatch<Float>(batch: 3, steps: 4, features: 1, values: (0..<12).map(Float.init), lengths: [4, 2, 3])
        let set = SequenceDataset(batch: x, targets: .values([1, 2, 3], columns: 1))
        let file = set.safeTensors()
        #expect(try file.tensors["lengths"]?.int64s() == [4, 2, 3])
        #expect(file.tensors["targets"]?.shape == [3, 1])
    }

    @Test func aSplitTheTaskDoesNotHaveIsRefused() throws {
        let task = try TaskSpec(name: .adding, length: 5, limit: 3).makeTask()
        #expect(throws: ConfigurationError.self) { try task.evaluationSet(.validation) }
    }

    // MARK: - Through the binary

    @Test func exportDataWritesTheAddingTestSet() throws {
        let directory = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let r = try CLI.run(["export-data", "--task", "adding", "--length", "6", "--limit", "9", "--out", "sets"], in: directory)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains("test: 9 sequences"), "\(r.stdout)")
        let file = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("sets/test.safetensors"))
        let (x, y) = try AddingProblem(steps: 6).testSet(size: 9, seed: AddingProblem.defaultTestSeed)
        #expect(file.tensors["inputs"]?.shape == [9, 6, 2])
        #expect(try file.tensors["inputs"]?.floats() == x.values)
        guard case .values(let values, columns: 1) = y else { Issue.record("adding targets are one value per sequence"); return }
        #expect(try file.tensors["targets"]?.floats() == values)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("sets/val.safetensors").path))
    }

    @Test func exportDataRefusesAStreamTask() throws {
        let directory = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try String(repeating: "hello world. ", count: 200).write(to: directory.appendingPathComponent("text.txt"), atomically: true, encoding: .utf8)
        let r = try CLI.run(["export-data", "--task", "charlm", "--data", "text.txt", "--out", "sets"], in: directory)
        #expect(r.status != 0)
        #expect(r.stderr.contains("charlm") && r.stderr.contains("carried"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("sets").path))
    }
}
