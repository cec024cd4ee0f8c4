import Testing
@testable import Recurrent

/// The Evaluator runs a batch through the model a few rows at a time (`Evaluator.passRows`:
/// a step's gates and input projection stay in the cache) and scores the whole batch at once:
/// the same loss and metric, bit for bit, as one pass over the batch.
@Suite struct EvaluatorPassTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var preset: String
        var perStep: Bool              // class per step, sequences of uneven length; else one class, equal lengths
        var bidirectional = false
        var layers = 1
        var testDescription: String { "\(preset)\(perStep ? ", per step, uneven" : "")\(bidirectional ? ", bidirectional" : "")\(layers > 1 ? ", \(layers) layers" : "")" }
    }

    static let cases: [Case] = ["lstm", "gru", "irnn", "indrnn", "cornn"].flatMap { [Case(preset: $0, perStep: false), Case(preset: $0, perStep: true)] }
        + [Case(preset: "lstm", perStep: true, bidirectional: true, layers: 2), Case(preset: "gru", perStep: false, bidirectional: true)]

    /// A tensors task of 90 sequences of T = 6 steps of 3 features, 4 classes, 54 held out.
    static func task(perStep: Bool) throws -> any TrainingTask {
        let n = 90, t = 6, f = 3
        let values = randomFloats(n * t * f, seed: 5)
        let lengths = perStep ? (0..<n).map { 1 + ($0 * 7) % t } : nil
        let x = SequenceBatch(batch: n, steps: t, features: f, values: values, lengths: lengths)
        let targets: Targets<Float> = perStep ? .classesPerStep((0..<(n * t)).map { ($0 * 5) % 4 }) : .classes((0..<n).map { ($0 * 3) % 4 })
        return try DatasetTask.tensors(SequenceDataset(batch: x, targets: targets), validationFraction: 0.6)
    }

    struct Compare: ModelVisitor {
        var task: any TrainingTask
        func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> [[EvaluationRecord]] where Cell.Scalar == Float {
            // batch 40: the 54 held-out sequences (validation; no test split) in batches of 40 and 14
            var evaluator = try Evaluator(model: model, task: task, batchSize: 40)
            return try [(Int.max / 2, 1), (8 * 20 * Cell.gateCount * model.hiddenSize, 2), (1, 3)].map { bytes, passes in
                evaluator.passBytes = bytes                  // one pass per batch of 40; 2 of 20 rows; 3 of 13-14
                let ranges = evaluator.passRows(batch: 40)
                #expect(ranges.count == passes && ranges.map(\.count).reduce(0, +) == 40)
                return try evaluator.evaluateAll(step: 1)
            }
        }
    }

    @Test(arguments: cases) func passesOfFewRowsGiveTheBitsOfOnePass(_ c: Case) throws {
        let task = try Self.task(perStep: c.perStep)
        var config = try ModelConfiguration.preset(c.preset, inputSize: 3, hiddenSize: 5, layers: c.layers, outputs: 4,
                                                   readout: c.perStep ? .everyStep : .lastStep)
        config.bidirectional = c.bidirectional
        var rng = SeededGenerator(seed: 3)
        let model = try AnyRecurrentModel(config, using: &rng)
        let records = try model.visit(Compare(task: task))
        #expect(records[0].count == 1 && records[0].allSatisfy { $0.loss.isFinite && $0.loss > 0 })
        #expect(records[1] == records[0], "\(c)")
        #expect(records[2] == records[0], "\(c)")
    }

    /// The evaluation's batches scored at once on the kernel pool (8 batches of at most 7 of the
    /// 54 held-out sequences): the loss and metric of 1, 2 and 3 threads are the bits of the
    /// batches scored one by one, in order, by the model's training forward pass and the loss.
    /// Two threads split the passes (one a batch of 7 rows; 4 each: `Evaluator.passesPerThread`);
    /// three split each pass's rows instead (8 passes are fewer than 4 a thread).
    struct Threads: ModelVisitor {
        var task: any TrainingTask
        func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> (byThreads: [EvaluationRecord], inOrder: EvaluationRecord)
            where Cell.Scalar == Float {
            let evaluator = try Evaluator(model: model, task: task, batchSize: 7)
            let byThreads = try [1, 2, 3].map { threads in try Compute.$threads.withValue(threads) { try evaluator.evaluate(.validation, step: 1) } }
            var totalLoss = 0.0, totalCorrect = 0.0, counted = 0.0
            let batches = try task.evaluationBatches(.validation, batchSize: 7)
            #expect(batches.count == 8 && Evaluator<Cell>.passesPerThread == 4 && evaluator.passRows(batch: 7) == [0..<7])
            for batch in batches {
                let outputs = model.forward(batch.inputs).outputs
                let target = try batch.targets.lossTarget(batch: batch.inputs.batch, steps: batch.inputs.steps,
                                                          lengths: batch.inputs.unevenLengths)
                let n: Double
                switch target {
                case .classes(let ids): n = Double(ids.filter { $0 >= 0 }.count)
                case .valuesOnRows(_, let counted): n = Double(counted.filter { $0 }.count)
                case .values: n = Double(outputs.rows)
                }
                totalLoss += try task.loss.evaluate(outputs, target).value * n
                totalCorrect += (task.loss.accuracy(outputs, target) ?? 0) * n
                counted += n
            }
            let loss = totalLoss / counted
            let inOrder = EvaluationRecord(step: 1, split: .validation, loss: loss,
                                           metric: task.metric(loss: loss, accuracy: totalCorrect / counted),
                                           metricName: task.metricName, seconds: 0)
            return (byThreads, inOrder)
        }
    }

    @Test(arguments: cases) func batchesOnThreadsGiveTheBitsOfBatchesInOrder(_ c: Case) throws {
        let task = try Self.task(perStep: c.perStep)
        var config = try ModelConfiguration.preset(c.preset, inputSize: 3, hiddenSize: 5, layers: c.layers, outputs: 4,
                                                   readout: c.perStep ? .everyStep : .lastStep)
        config.bidirectional = c.bidirectional
        var rng = SeededGenerator(seed: 4)
        let model = try AnyRecurrentModel(config, using: &rng)
        let (byThreads, inOrder) = try model.visit(Threads(task: task))
        #expect(inOrder.loss.isFinite && inOrder.loss > 0)
        #expect(byThreads.allSatisfy { $0 == inOrder }, "\(c): \(byThreads) against \(inOrder)")
    }

    /// A pass's inputs, read time-major straight from its batch: row t*R + r of
    /// `timeMajorCopy(range)` is x_t of sequence `range.lowerBound + r`, on 1 and 2 threads
    /// (40 sequences x 30 steps x 30 features: above `Compute.copyValuesPerThread`, so two
    /// threads split the copy), and the whole range is `timeMajor`.
    @Test(arguments: [0..<40, 0..<1, 13..<27, 39..<40, 5..<5]) func passInputsAreTheTimeMajorRowsOfTheirSequences(_ range: Range<Int>) {
        let (b, t, f) = (40, 30, 30)
        let x = SequenceBatch(batch: b, steps: t, features: f, values: randomFloats(b * t * f, seed: 9))
        for threads in [1, 2] {
            let m = Compute.$threads.withValue(threads) { x.timeMajorCopy(range) }
            #expect(m.rows == t * range.count && m.cols == f)
            let expected = (0..<t).flatMap { step in range.flatMap { s in (0..<f).map { x[s, step, $0] } } }
            #expect(m.storage == expected, "\(range), \(threads) threads")
        }
        #expect(x.timeMajorCopy(0..<b) == x.timeMajor && x.timeMajorCopy(range) == x.sequences(range).timeMajor)
    }

    /// The row ranges: balanced, in order, covering the batch; one range for a small batch.
    @Test func passRowsSplitsTheBatchEvenly() {
        // An LSTM with H = 128 (gates [R, 512]): 256 KiB / (8 bytes x 512) = 64 rows at most,
        // so B = 500 runs as 8 passes of 62 or 63 rows.
        let split = Evaluator<LSTMCell<Float>>.passRows(batch: 500, width: 512, bytes: 256 << 10)
        #expect(split.map(\.count) == [62, 63, 62, 63, 62, 63, 62, 63])
        #expect(zip(split, split.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound } && split.first?.lowerBound == 0 && split.last?.upperBound == 500)
        #expect(Evaluator<LSTMCell<Float>>.passRows(batch: 64, width: 512, bytes: 256 << 10) == [0..<64])
        #expect(Evaluator<LSTMCell<Float>>.passRows(batch: 65, width: 512, bytes: 256 << 10).map(\.count) == [32, 33])
        #expect(Evaluator<LSTMCell<Float>>.passRows(batch: 40, width: 512, bytes: 1).map(\.count) == [13, 13, 14])
        // The IRNN at H = 128 (gates [R, 128]): 256 rows by the budget, 64 at most (`maxPassRows`).
        #expect(Evaluator<RNNCell<Float>>.passRows(batch: 500, width: 128, bytes: 256 << 10).map(\.count) == [62, 63, 62, 63, 62, 63, 62, 63])
        #expect(Evaluator<RNNCell<Float>>.passRows(batch: 64, width: 128, bytes: Int.max / 2) == [0..<64])
    }
}
