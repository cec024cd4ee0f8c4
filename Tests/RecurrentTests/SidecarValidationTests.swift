import Foundation
import Testing
@testable import Recurrent

/// A damaged or foreign training state is an error naming the sidecar and what is wrong,
/// never a trap or NaN weights later.
@Suite("Validation: the training state on resume")
struct SidecarValidationTests {
    /// A tiny adding-problem trainer (or, with `tensors`, one over a data set with a shuffle position).
    func trainer(steps: Int, tensors: Bool = false) throws -> Trainer<RNNCell<Float>> {
        let task: any TrainingTask
        if tensors {
            let x = randomBatch(batch: 12, steps: 3, features: 2, seed: 5, as: Float.self)
            task = try DatasetTask.tensors(SequenceDataset(batch: x, targets: .values((0..<12).map { Float($0) / 12 }, columns: 1)),
                                           validationFraction: 0)
        } else {
            task = try AddingTask(length: 5, testSize: 20)
        }
        let config = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 4, outputs: 1)
        var rng = SeededGenerator(seed: 1)
        var options = TrainingOptions(steps: steps, batchSize: 4)
        options.clipNorm = 1
        return try Trainer(model: try RecurrentModel(config, using: &rng), optimizer: try OptimizerChoice(.adam, learningRate: 0.01, momentum: nil, weightDecay: nil),
                           task: task, options: options, configuration: config, seed: 1)
    }

    /// Saves a 3-step run, applies `damage` to its sidecar, and returns what `restore` throws.
    func restoreError(tensors: Bool = false, _ damage: (inout SafeTensorsFile, inout TrainingCheckpoint.SidecarInfo) throws -> Void) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-sidecar-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("run.safetensors")
        var first = try trainer(steps: 3, tensors: tensors)
        _ = try first.run(checkpoint: url)
        let sidecarURL = TrainingCheckpoint.sidecarURL(for: url)
        var sidecar = try SafeTensorsFile(contentsOf: sidecarURL)
        var info = try JSONDecoder().decode(TrainingCheckpoint.SidecarInfo.self, from: Data(try #require(sidecar.metadata["trainer"]).utf8))
        try damage(&sidecar, &info)
        sidecar.metadata["trainer"] = String(decoding: try JSONEncoder().encode(info), as: UTF8.self)
        try sidecar.write(to: sidecarURL)
        var second = try trainer(steps: 6, tensors: tensors)
        do {
            try TrainingCheckpoint.restore(&second, from: url)
            return "(restored)"
        } catch let error as CheckpointError {
            #expect(error.path == sidecarURL.path, "\(error)")
            return error.message
        }
    }

    func float(_ values: [Float], _ shape: [Int]) -> SafeTensor { SafeTensor(floats: values, shape: shape) }

    @Test func anUntouchedStateRestores() throws {
        #expect(try restoreError { _, _ in } == "(restored)")
        #expect(try restoreError(tensors: true) { _, _ in } == "(restored)")
    }

    /// The findings: 3 rng words and a wrongly shaped exp_avg crashed --resume (exit 132).
    @Test func theGeneratorStateMustBeFourWordsNotAllZero() throws {
        #expect(try restoreError { _, info in info.rng = [1, 2, 3] }.contains("'rng': a generator state has 4 words (xoshiro256**), found 3"))
        #expect(try restoreError { _, info in info.rng = [0, 0, 0, 0] }.contains("four zero words"))
    }

    @Test func optimizerBuffersMustHaveTheirParametersShape() throws {
        let message = try restoreError { file, _ in file.tensors["optimizer.exp_avg.rnn.weight_hh_l0"] = float(.init(repeating: 0, count: 12), [3, 4]) }
        #expect(message.contains("'optimizer.exp_avg.rnn.weight_hh_l0' has shape [3, 4], but rnn.weight_hh_l0 is [4, 4]"), "\(message)")
        let unknown = try restoreError { file, _ in file.tensors["optimizer.exp_avg.rnn.weight_hh_l7"] = float([0], [1, 1]) }
        #expect(unknown.contains("no parameter 'rnn.weight_hh_l7'"), "\(unknown)")
        let slot = try restoreError { file, _ in file.tensors["optimizer.velocity.head.bias"] = float([0], [1, 1]) }
        #expect(slot.contains("'velocity' is not an optimizer buffer"), "\(slot)")
    }

    @Test(arguments: [Float.nan, .infinity, -1])
    func squareAveragesMustBeFiniteAndNonNegative(_ bad: Float) throws {
        let message = try restoreError { file, _ in
            var t = try #require(file.tensors["optimizer.exp_avg_sq.rnn.weight_ih_l0"])
            var values = try t.floats()
            values[3] = bad
            t = float(values, t.shape)
            file.tensors["optimizer.exp_avg_sq.rnn.weight_ih_l0"] = t
        }
        #expect(message.contains("'optimizer.exp_avg_sq.rnn.weight_ih_l0' holds \(bad) at element 3"), "\(message)")
        if bad < 0 { #expect(message.contains(">= 0")) }
        // A momentum-like buffer may be negative, not NaN.
        let momentum = try restoreError { file, _ in
            let t = try #require(file.tensors["optimizer.exp_avg.head.bias"])
            file.tensors["optimizer.exp_avg.head.bias"] = float([bad], t.shape)
        }
        #expect(bad < 0 ? momentum == "(restored)" : momentum.contains("must be finite"), "\(momentum)")
    }

    @Test func stepsAndLearningRateMustBeSane() throws {
        #expect(try restoreError { _, info in info.optimizerStep = -3 }.contains("optimizer step -3 must be >= 0"))
        #expect(try restoreError { _, info in info.baseLearningRate = -0.1 }.contains("base learning rate -0.1"))
    }

    @Test func aCarriedStateMustFitTheModel() throws {
        let width = try restoreError { file, _ in file.tensors["carried.h.l0"] = float(.init(repeating: 0, count: 10), [2, 5]) }
        #expect(width.contains("'carried.h.l0' has shape [2, 5], expected [B, 4]"), "\(width)")
        let layer = try restoreError { file, _ in file.tensors["carried.h.l3"] = float(.init(repeating: 0, count: 8), [2, 4]) }
        #expect(layer.contains("unexpected tensor 'carried.h.l3'"), "\(layer)")
        let memory = try restoreError { file, _ in
            file.tensors["carried.h.l0"] = float(.init(repeating: 0, count: 8), [2, 4])
            file.tensors["carried.c.l0"] = float(.init(repeating: 0, count: 8), [2, 4])
        }
        #expect(memory.contains("carries no cell state"), "\(memory)")
        let nan = try restoreError { file, _ in file.tensors["carried.h.l0"] = float([0, 0, .nan, 0], [1, 4]) }
        #expect(nan.contains("must be finite"), "\(nan)")
    }

    @Test func theTaskPositionMustFitTheTask() throws {
        let message = try restoreError(tensors: true) { _, info in
            #expect(info.taskPosition["batchIndex"] != nil)
            info.taskPosition["batchIndex"] = 99
        }
        #expect(message.contains("does not fit the task 'tensors'") && message.contains("batchIndex=99"), "\(message)")
        let negative = try restoreError(tensors: true) { _, info in
            info.taskPosition["epoch"] = -1
        }
        #expect(negative.contains("'epoch' = -1 is negative"), "\(negative)")
    }
}
