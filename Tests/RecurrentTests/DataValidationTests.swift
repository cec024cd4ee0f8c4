import Foundation
import Testing
@testable import Recurrent

/// Numbers inside data files are checked before anything sized by them is allocated, and a
/// task whose evaluation split would be empty is refused before training.
@Suite("Validation: class ids and empty splits")
struct DataValidationTests {
    func inputs(_ n: Int, steps: Int = 3) throws(DataError) -> NDArray {
        try NDArray(shape: [n, steps, 2], elements: .float32([Float](repeating: 0.5, count: n * steps * 2)))
    }

    /// The findings: 2^63 - 1 overflowed `max + 1` (a trap), 1e9 sized a 64 GB output layer.
    @Test(arguments: [Int64.max, 1_000_000_000, Int64(SequenceDataset<Float>.classLimit), -1])
    func classIdsOutsideTheLimitAreRefusedWithIndexAndValue(_ bad: Int64) throws {
        let targets = try NDArray(shape: [4], elements: .int64([0, 1, bad, 1]))
        let x = try inputs(4)
        let error = expectDataError { () throws(DataError) in _ = try SequenceDataset<Float>(inputs: x, targets: targets, targetsPath: "y.npy") }
        #expect(error?.path == "y.npy" && error?.recordIndex == 2, "\(String(describing: error))")
        #expect(error?.what.contains("class id \(bad) at index 2 is outside 0..<1048576") == true, "\(String(describing: error))")
    }

    @Test func perStepClassIdsAreBoundedToo() throws {
        let big = try NDArray(shape: [2, 3], elements: .int64([0, -1, 2, 1, Int64.max, 0]))
        let x = try inputs(2)
        let error = expectDataError { () throws(DataError) in _ = try SequenceDataset<Float>(inputs: x, targets: big, targetsPath: "y.npy") }
        #expect(error?.recordIndex == 1 && error?.what.contains("class id \(Int64.max) at index 4 (step 1)") == true, "\(String(describing: error))")
        let none = try NDArray(shape: [2, 3], elements: .int64([Int64](repeating: -1, count: 6)))
        let empty = expectDataError { () throws(DataError) in _ = try SequenceDataset<Float>(inputs: x, targets: none, targetsPath: "y.npy") }
        #expect(empty?.what.contains("every per-step class id is -1") == true)
    }

    @Test func theLargestAllowedClassIdIsAccepted() throws {
        let top = Int64(SequenceDataset<Float>.classLimit - 1)
        let data = try SequenceDataset<Float>(inputs: try inputs(2), targets: try NDArray(shape: [2], elements: .int64([0, top])))
        #expect(data.taskShape.2 == SequenceDataset<Float>.classLimit)
    }

    // MARK: - Empty splits

    func dataset(_ n: Int) throws -> SequenceDataset<Float> {
        try SequenceDataset(inputs: try inputs(n), targets: try NDArray(shape: [n], elements: .float32([Float](repeating: 1, count: n))))
    }

    @Test func aValidationFractionThatHoldsOutNothingOrEverythingIsRefused() throws {
        let none = catchMessage { _ = try DatasetTask.tensors(try dataset(20), validationFraction: 0.01, source: "data/") }
        #expect(none.contains("data/") && none.contains("the validation split would be empty")
                && none.contains("0.01 of 20 sequences holds out 0"), "\(none)")
        let all = catchMessage { _ = try DatasetTask.tensors(try dataset(3), validationFraction: 0.9, source: "data/") }
        #expect(all.contains("the training split would be empty") && all.contains("leaves 0 for training"), "\(all)")
        let task = try DatasetTask.tensors(try dataset(20), validationFraction: 0.1)
        #expect(task.evaluationSplits == [.validation] && task.validation?.count == 2)
        #expect(try DatasetTask.tensors(try dataset(20), validationFraction: 0).evaluationSplits.isEmpty)
    }

    @Test func aTextTooShortForItsSplitsIsRefusedBeforeTraining() throws {
        let short = try CharacterText(text: "hello world, a short text\n", source: "short.txt")
        let message = catchMessage { _ = try CharacterLMTask(text: short, bptt: 8) }
        #expect(message.contains("short.txt") && message.contains("the validation split would be empty")
                && message.contains("26 characters") && message.contains("validation 1"), "\(message)")
        let enough = try CharacterText(text: String(repeating: "abcd", count: 10), source: "ok.txt")
        let task = try CharacterLMTask(text: enough, bptt: 8)
        #expect(try task.evaluationBatches(.validation, batchSize: 8).count >= 1 && task.evaluationBatches(.test, batchSize: 8).count >= 1)
    }

    /// A saved charlm position is for one window length; another would silently keep the old T.
    @Test func aCharacterPositionForAnotherWindowLengthIsRefused() throws {
        let text = try CharacterText(text: String(repeating: "abcdefgh", count: 20), source: "t.txt")
        var trained = try CharacterLMTask(text: text, bptt: 4)
        var rng = SeededGenerator(seed: 1)
        _ = try trained.nextTrainingBatch(size: 2, using: &rng)
        var other = try CharacterLMTask(text: text, bptt: 8)
        let message = catchMessage { try other.restore(position: trained.position) }
        #expect(message.contains("windows of 4 steps, this task uses 8"), "\(message)")
        var same = try CharacterLMTask(text: text, bptt: 4)
        try same.restore(position: trained.position)
        #expect(same.position == trained.position)
    }

    @Test func mnistWithTooFewImagesForItsValidationSplitIsRefused() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        try MNISTTests.writeFakeMNIST(in: dir, labels: (0..<9).map { UInt8($0) }, imageCount: 9)
        let message = catchMessage { _ = try DatasetTask.mnist(.rows, directory: dir, validationFraction: 0.05) }
        #expect(message.contains(dir) && message.contains("the validation split would be empty")
                && message.contains("0.05 of 9 training images holds out 0"), "\(message)")
        let task = try DatasetTask.mnist(.rows, directory: dir, validationFraction: 0.2, limit: 1)
        #expect(task.evaluationSplits == [.validation, .test] && task.train.count == 1)
        #expect(try DatasetTask.mnist(.rows, directory: dir, validationFraction: 0).evaluationSplits == [.test])
    }

    @Test func aGeneratedTestSetMustHoldASequence() {
        #expect(throws: ConfigurationError.self) { try AddingTask(length: 5, testSize: 0) }
        #expect(throws: ConfigurationError.self) { try CopyTask(length: 5, testSize: -1) }
    }
}
