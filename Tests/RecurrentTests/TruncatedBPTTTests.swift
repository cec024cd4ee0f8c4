import Foundation
import Testing
@testable import Recurrent

/// Truncated BPTT for every task (`TruncatedSequenceTask`, `--bptt K`): one window is no
/// truncation, a window's gradient is the finite-difference gradient with its incoming state
/// held fixed, a run stopped mid-sequence resumes with the same bits, and the binary does it
/// on pixel MNIST from IDX files written here.
@Suite("Truncated BPTT for every task")
struct TruncatedBPTTTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case adding, copy                                // one target per sequence; a target per step
        var testDescription: String { rawValue }
        func task(length: Int) throws -> any TrainingTask {
            self == .adding ? try AddingTask(length: length, testSize: 40) : try CopyTask(length: length, testSize: 40)
        }
    }

    func trainer(_ kind: Kind, bptt: Int?, steps: Int, seed: UInt64 = 1, dropout: Double = 0) throws -> Trainer<GRUCell<Float>> {
        var task = try kind.task(length: 10)
        if let k = bptt { task = try TruncatedSequenceTask(task, bptt: k) }
        var config = try ModelConfiguration.preset("gru", inputSize: task.inputSize, hiddenSize: 6, outputs: task.outputSize)
        config.readout = task.readout
        config.layers = 2
        config.dropout = dropout
        var rng = SeededGenerator(seed: seed)
        let model = try RecurrentModel<GRUCell<Float>>(config, using: &rng)
        var options = TrainingOptions(steps: steps, batchSize: 4)
        options.logEvery = 5
        options.evaluationBatchSize = 40
        return try Trainer(model: model, optimizer: try OptimizerChoice(.adam, learningRate: 0.01, momentum: nil, weightDecay: nil),
                           task: task, options: options, configuration: config, seed: seed)
    }

    func expectSameBits(_ a: Trainer<GRUCell<Float>>, _ b: Trainer<GRUCell<Float>>, _ label: String) {
        let same = (weights: a.model.layers.map(\.parameters) == b.model.layers.map(\.parameters), head: a.model.head == b.model.head,
                    optimizer: a.optimizer.state == b.optimizer.state)
        #expect(same.weights && same.head && same.optimizer, "\(label): \(same)")
    }

    @Test(arguments: Kind.allCases)
    func aWindowOfAtLeastTStepsIsNoTruncation(_ kind: Kind) throws {
        var plain = try trainer(kind, bptt: nil, steps: 8, dropout: 0.3)
        _ = try plain.run(checkpoint: nil)
        let t = try kind.task(length: 10).sequenceLength        // adding 10, copy 10 + 2·10 + ...
        for k in [t, t + 15] {
            var windowed = try trainer(kind, bptt: k, steps: 8, dropout: 0.3)
            _ = try windowed.run(checkpoint: nil)
            expectSameBits(plain, windowed, "\(kind) K = \(k)")
        }
        var truncated = try trainer(kind, bptt: 4, steps: 8, dropout: 0.3)
        _ = try truncated.run(checkpoint: nil)
        #expect(truncated.model.head != plain.model.head, "K = 4 < T = \(t) must change the run")
    }

    @Test func windowsCutTheBatchAndOnlyTheLastHoldsAOneTargetPerSequence() throws {
        var rng = SeededGenerator(seed: 5)
        var adding = try TruncatedSequenceTask(try AddingTask(length: 10, testSize: 40), bptt: 4)
        var copy = try TruncatedSequenceTask(try CopyTask(length: 10, testSize: 40), bptt: 4)
        let a = try (0..<3).map { _ in try adding.nextTrainingBatch(size: 3, using: &rng) }
        #expect(a.map(\.inputs.steps) == [4, 4, 2] && a.map(\.forwardOnly) == [true, true, false] && a.map(\.resetState) == [true, false, false])
        let n = copy.windows(steps: copy.base.sequenceLength)
        let c = try (0..<n).map { _ in try copy.nextTrainingBatch(size: 3, using: &rng) }
        #expect(c.map(\.inputs.steps).reduce(0, +) == copy.base.sequenceLength && c.allSatisfy { $0.targets.isPerStep })
        #expect(try adding.nextTrainingBatch(size: 3, using: &rng).resetState, "a new batch starts from zero")
        let eval = try adding.evaluationBatches(.test, batchSize: 16)
        #expect(eval.allSatisfy { $0.resetState && $0.inputs.steps == 10 }, "evaluation runs whole sequences")
    }

    /// Window 2 of 3 (T = 8, K = 3): the gradient the trainer uses equals central differences
    /// of that window's loss with the state it starts from (window 1's final state) held fixed,
    /// and differs from the full-BPTT gradient; the windows chained give the whole forward.
    @Test func aWindowsGradientIsTheFiniteDifferenceWithItsIncomingStateHeld() throws {
        let config = ModelConfiguration(cell: .gru, activation: .tanh, inputSize: 2, hiddenSize: 4, layers: 2, outputs: 1,
                                        readout: .lastStep, inputInit: .uniform(bound: 0.8), recurrentInit: .uniform(bound: 0.8),
                                        biasInit: .uniform(bound: 0.3))
        let model = try makeModel(GRUCell<Double>.self, config, seed: 3)
        let x = randomBatch(batch: 3, steps: 8, features: 2, seed: 4, as: Float.self)
        let y = Targets<Float>.values([0.3, -0.5, 0.9], columns: 1)
        let whole = TaskBatch(inputs: x, targets: y)
        let windows = try (0..<3).map { try TruncatedSequenceTask.window($0, of: whole, bptt: 3) }
        #expect(windows.map(\.inputs.steps) == [3, 3, 2])
        var state: RecurrentState<Double>?
        for w in windows.dropLast() { state = model.forward(w.inputs.converted(to: Double.self), initial: state).finalState }
        let last = windows[2].inputs.converted(to: Double.self)
        let yd = Targets<Double>.values([0.3, -0.5, 0.9], columns: 1)
        let chained = model.forward(last, initial: state)
        let full = model.forward(x.converted(to: Double.self))
        #expect(zip(chained.outputs.storage, full.outputs.storage).allSatisfy { isClose($0, $1, rtol: 1e-13, atol: 1e-15) },
                "the windows carry the state: the same outputs as the whole sequence")
        let result = try model.gradients(last, yd, loss: .meanSquaredError, initial: state)
        let fullResult = try model.gradients(x.converted(to: Double.self), yd, loss: .meanSquaredError)
        #expect(isClose(result.loss, fullResult.loss, rtol: 1e-13), "the last window's loss is the sequence's")
        func lossOf(_ m: RecurrentModel<GRUCell<Double>>) throws -> Double {
            try Loss.meanSquaredError.evaluate(m.forward(last, initial: state).outputs, yd.lossTarget(batch: 3, steps: 2)).value
        }
        var analytic: [[Double]] = [], whole_: [[Double]] = []
        result.gradients.forEachTensor { _, _, g in analytic.append(g.storage) }
        fullResult.gradients.forEachTensor { _, _, g in whole_.append(g.storage) }
        #expect(analytic != whole_, "truncation changes the recurrent gradients")
        let h = 1e-6
        for p in analytic.indices {
            for e in analytic[p].indices {
                var plus = model, minus = model
                plus.updateEachParameter { k, _, m in if k == p { m.storage[e] += h } }
                minus.updateEachParameter { k, _, m in if k == p { m.storage[e] -= h } }
                let numeric = (try lossOf(plus) - lossOf(minus)) / (2 * h)
                #expect(isClose(analytic[p][e], numeric, rtol: 1e-5, atol: 1e-8), "tensor \(p)[\(e)]: \(analytic[p][e]) vs \(numeric)")
            }
        }
    }

    /// Stopped after step 5: for copy (T = 30: 8 windows a batch) in the middle of a batch's windows,
    /// with the carried state and the window inside the sidecar; adding steps a batch at a time.
    @Test(arguments: Kind.allCases)
    func aRunStoppedMidSequenceResumesWithTheSameBits(_ kind: Kind) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-tbptt-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var straight = try trainer(kind, bptt: 4, steps: 12, dropout: 0.3)
        _ = try straight.run(checkpoint: nil)
        var first = try trainer(kind, bptt: 4, steps: 12, dropout: 0.3)
        var calls = 0
        let url = dir.appendingPathComponent("resumed.safetensors")
        let stopped = try first.run(checkpoint: url, shouldStop: { calls += 1; return calls == 5 })
        #expect(stopped.reason == .interrupted && stopped.steps == 5)
        if kind == .copy {
            let windows = (first.task as? TruncatedSequenceTask)?.windows(steps: first.task.sequenceLength) ?? 0
            #expect((1..<windows).contains(first.task.position["bpttWindow"] ?? 0), "copy stops inside a batch: \(first.task.position)")
        }
        var second = try trainer(kind, bptt: 4, steps: 12, seed: 77, dropout: 0.3)
        try TrainingCheckpoint.restore(&second, from: url)
        #expect(second.task.position == first.task.position)
        #expect(second.carried == first.carried)
        _ = try second.run(checkpoint: url)
        #expect(second.step == 12)
        expectSameBits(straight, second, "\(kind) resumed")
    }

    @Test func unevenLengthsWithOneTargetPerSequenceAreRefused() throws {
        let x = SequenceBatch<Float>(batch: 2, steps: 4, features: 1, values: [1, 2, 3, 4, 5, 6, 0, 0], lengths: [4, 2])
        let data = SequenceDataset(batch: x, targets: .values([1, 2], columns: 1))
        #expect { _ = try TruncatedSequenceTask(try DatasetTask.tensors(data, validationFraction: 0), bptt: 2) } throws: {
            ($0 as? DataError)?.what.contains("one target per sequence") == true
        }
        // A target per step: accepted.
        let perStep = SequenceDataset(batch: x, targets: .valuesPerStep([Float](repeating: 1, count: 8), columns: 1))
        _ = try TruncatedSequenceTask(try DatasetTask.tensors(perStep, validationFraction: 0), bptt: 2)
    }

    /// Uneven lengths, a target per step: each sequence runs its own steps of each window and
    /// its state stops at its own last step; a window past its end has no live steps for it
    /// and carries its state unchanged. Windowed forward passes, each from the state the one
    /// before ended with, give the bits of the whole sequences run at once.
    @Test func unevenWindowsCarryEachSequenceToItsOwnEnd() throws {
        let (b, t, k) = (3, 7, 3)
        var x = randomBatch(batch: b, steps: t, features: 2, seed: 3, as: Float.self)
        x.lengths = [7, 2, 5]
        var ids = [Int](repeating: -1, count: b * t)
        for s in 0..<b { for step in 0..<x.lengths![s] { ids[s * t + step] = (s + step) % 3 } }
        let batch = TaskBatch(inputs: x, targets: .classesPerStep(ids), resetState: true)
        let windows = try (0..<3).map { try TruncatedSequenceTask.window($0, of: batch, bptt: k) }
        #expect(windows.map { $0.inputs.lengths } == [[3, 2, 3], [3, 0, 2], [1, 0, 0]])
        #expect(windows.map(\.forwardOnly) == [false, false, false] && windows.map(\.resetState) == [true, false, false])
        var config = try ModelConfiguration.preset("lstm", inputSize: 2, hiddenSize: 5, outputs: 3)
        config.readout = .everyStep
        config.layers = 2
        let model = try makeModel(LSTMCell<Float>.self, config, seed: 4)
        let whole = model.forward(x)
        var state: RecurrentState<Float>? = nil
        for (w, window) in windows.enumerated() {
            let pass = model.forward(window.inputs, initial: state)
            for s in 0..<b {                                     // the live steps' outputs are the whole run's
                for step in 0..<window.inputs.length(s) {
                    let mine = pass.outputs.storage[((step * b + s) * 3)..<((step * b + s + 1) * 3)]
                    let theirs = whole.outputs.storage[(((w * k + step) * b + s) * 3)..<(((w * k + step) * b + s + 1) * 3)]
                    #expect(mine.map(\.bitPattern) == theirs.map(\.bitPattern), "window \(w), sequence \(s), step \(step)")
                }
                if window.inputs.length(s) == 0, let before = state {   // no live steps: carried unchanged
                    for l in 0..<2 {
                        #expect(pass.finalState.layers[l].hidden.storage[(s * 5)..<((s + 1) * 5)]
                                == before.layers[l].hidden.storage[(s * 5)..<((s + 1) * 5)])
                        #expect(pass.finalState.layers[l].memory.storage[(s * 5)..<((s + 1) * 5)]
                                == before.layers[l].memory.storage[(s * 5)..<((s + 1) * 5)])
                    }
                }
            }
            state = pass.finalState
        }
        #expect(state == whole.finalState, "each sequence's h_n, c_n at its own last step")
        // Per-step targets past a sequence's end never count; a window with none live runs forward only.
        var late = batch
        late.inputs.lengths = [2, 2, 1]
        let lateWindows = try (0..<3).map { try TruncatedSequenceTask.window($0, of: late, bptt: k) }
        #expect(lateWindows.map(\.forwardOnly) == [false, true, true])
        #expect(lateWindows.map { $0.inputs.lengths } == [[2, 2, 1], [0, 0, 0], [0, 0, 0]])
    }

    /// Through the training state: the error names the window and is not called damage.
    @Test func theTrainingStateRefusesAnotherWindowWithoutCallingItDamaged() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-tbptt-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("stopped.safetensors")
        var first = try trainer(.copy, bptt: 4, steps: 12)
        var calls = 0
        _ = try first.run(checkpoint: url, shouldStop: { calls += 1; return calls == 5 })
        #expect((first.task.position["bpttWindow"] ?? 0) > 0, "stopped inside a batch: \(first.task.position)")
        var other = try trainer(.copy, bptt: 5, steps: 12)
        do {
            try TrainingCheckpoint.restore(&other, from: url)
            Issue.record("a run stopped inside a batch resumed with another window")
        } catch let error as CheckpointError {
            #expect(error.message.contains("windows of 4 steps") && error.message.contains("uses 5"), "\(error.message)")
            #expect(!error.message.contains("damaged"), "\(error.message)")
        }
    }

    @Test func resumingMidBatchWithAnotherWindowIsRefused() throws {
        var t = try trainer(.copy, bptt: 4, steps: 3)
        _ = try t.run(checkpoint: nil)
        var other = try TruncatedSequenceTask(try CopyTask(length: 10, testSize: 40), bptt: 5)
        #expect(throws: ConfigurationError.self) { try other.restore(position: t.task.position) }
        var same = try TruncatedSequenceTask(try CopyTask(length: 10, testSize: 40), bptt: 4)
        try same.restore(position: t.task.position)
        #expect(same.position == t.task.position)
    }

    // MARK: - Through the binary

    /// Tiny IDX files of pixel MNIST's shape (28 x 28 images, 784 steps).
    func writeMNIST(in dir: URL) throws {
        let idx = dir.appendingPathComponent("idx")
        try FileManager.default.createDirectory(at: idx, withIntermediateDirectories: true)
        func header(_ words: [UInt32]) -> Data { Data(words.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (24 - 8 * $0)) } }) }
        var rng = SeededGenerator(seed: 8)
        func pixels(_ n: Int) -> Data { Data((0..<(n * 784)).map { _ in UInt8.random(in: 0...255, using: &rng) }) }
        try (header([2051, 12, 28, 28]) + pixels(12)).write(to: idx.appendingPathComponent("train-images-idx3-ubyte"))
        try (header([2049, 12]) + Data((0..<12).map { UInt8($0 % 10) })).write(to: idx.appendingPathComponent("train-labels-idx1-ubyte"))
        try (header([2051, 4, 28, 28]) + pixels(4)).write(to: idx.appendingPathComponent("t10k-images-idx3-ubyte"))
        try (header([2049, 4]) + Data([1, 2, 3, 4])).write(to: idx.appendingPathComponent("t10k-labels-idx1-ubyte"))
    }

    @Test func pixelMNISTThroughTheBinary() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeMNIST(in: dir)
        let base = ["train", "--task", "smnist", "--data", "idx", "--val-fraction", "0.25", "--hidden", "4", "--batch", "3", "--seed", "2"]
        func file(_ name: String) -> URL { dir.appendingPathComponent("checkpoints/\(name).safetensors") }
        // K >= T: the same bits as no truncation.
        #expect(try CLI.run(base + ["--steps", "2", "--name", "plain"], in: dir).status == 0)
        let whole = try CLI.run(base + ["--steps", "2", "--bptt", "784", "--name", "whole"], in: dir)
        #expect(whole.status == 0, "\(whole.output)")
        #expect(try CLI.sameTensors(file("plain"), file("whole")))
        // K = 300: 3 windows (300, 300, 184), the last holds the label; stopped and resumed.
        let straight = try CLI.run(base + ["--steps", "3", "--bptt", "300", "--name", "straight", "--json"], in: dir)
        #expect(straight.status == 0, "\(straight.output)")
        #expect(try CLI.json(straight)["reason"] as? String == "completed")
        #expect(try !CLI.sameTensors(file("plain"), file("straight")))
        #expect(try CLI.run(base + ["--steps", "1", "--bptt", "300", "--name", "resumed"], in: dir).status == 0)
        let resumed = try CLI.run(["train", "--resume", file("resumed").path, "--steps", "3"], in: dir)
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(try CLI.sameTensors(file("straight"), file("resumed")), "resumed with the window from the checkpoint")
        let info = try SafeTensorsFile(contentsOf: file("resumed")).metadata["recurrent.train"] ?? ""
        #expect(info.contains("\"bptt\":300"), "the window is stored with the run: \(info)")
        let bad = try CLI.run(base + ["--steps", "1", "--bptt", "0"], in: dir)
        #expect(bad.status != 0 && bad.stderr.contains("--bptt"), "\(bad.output)")
    }
}
