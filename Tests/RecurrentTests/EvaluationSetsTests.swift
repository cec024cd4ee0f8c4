import Foundation
import Testing
@testable import Recurrent

/// A run lays its evaluation splits out once (`Evaluator.passes`, kept by `Trainer.run` when they
/// fit in memory) instead of at every evaluation: the same inputs, so the same results, bit for
/// bit; a run whose kept sets would not fit builds each split as before, with the same results.
@Suite struct EvaluationSetsTests {
    /// A tensors task: 60 training sequences (24 held out for validation) and 31 test sequences
    /// of T = 5 steps of 3 features, 4 classes; per step and of uneven lengths, or one class each.
    static func task(perStep: Bool) throws -> DatasetTask<SequenceDataset<Float>> {
        func data(_ n: Int, seed: UInt64) -> SequenceDataset<Float> {
            let t = 5, f = 3
            let lengths = perStep ? (0..<n).map { 1 + ($0 * 3) % t } : nil
            let x = SequenceBatch(batch: n, steps: t, features: f, values: randomFloats(n * t * f, seed: seed), lengths: lengths)
            return SequenceDataset(batch: x, targets: perStep ? .classesPerStep((0..<(n * t)).map { ($0 * 5) % 4 })
                                                              : .classes((0..<n).map { ($0 * 3) % 4 }))
        }
        return try DatasetTask.tensors(data(60, seed: 1), validationFraction: 0.4, test: data(31, seed: 2))
    }

    static func trainer(_ preset: String, perStep: Bool) throws -> Trainer<RNNCell<Float>> {
        let config = try ModelConfiguration.preset(preset, inputSize: 3, hiddenSize: 6, outputs: 4, readout: perStep ? .everyStep : .lastStep)
        var rng = SeededGenerator(seed: 7)
        var options = TrainingOptions(steps: 12, batchSize: 8)
        options.evaluateEvery = 4
        options.evaluationBatchSize = 10              // 24 = 10 + 10 + 4, 31 = 10 + 10 + 10 + 1
        return try Trainer(model: try RecurrentModel(config, using: &rng), optimizer: try OptimizerChoice(.adam, learningRate: 0.01,
                           momentum: nil, weightDecay: nil), task: try task(perStep: perStep), options: options,
                           configuration: config, seed: 3)
    }

    /// Passes of a few rows: row t*R + r of a pass's inputs is x_t of its batch's sequence
    /// `rows.lowerBound + r`, the passes cover each batch in order, the lengths are those rows'.
    @Test(arguments: [false, true]) func aPassHoldsItsRowsTimeMajor(_ perStep: Bool) throws {
        let task = try Self.task(perStep: perStep)
        var rng = SeededGenerator(seed: 1)
        let model = try RecurrentModel<RNNCell<Float>>(try ModelConfiguration.preset("irnn", inputSize: 3, hiddenSize: 6, outputs: 4,
                                                                                   readout: perStep ? .everyStep : .lastStep), using: &rng)
        var evaluator = try Evaluator(model: model, task: task, batchSize: 40)
        evaluator.passBytes = 1                       // passes of 16 rows at most: 24 as 12 + 12, 31 as 15 + 16
        for split in task.evaluationSplits {
            let set = try evaluator.passes(split)
            let batches = try task.evaluationBatches(split, batchSize: 40)
            #expect(set.batches.map { $0.passes.map(\.rows.count) } == [split == .validation ? [12, 12] : [15, 16]])
            #expect(set.split == split && set.batches.count == batches.count)
            for (laid, batch) in zip(set.batches, batches) {
                let x = batch.inputs
                #expect(laid.batch == x.batch && laid.steps == x.steps && laid.lengths == x.unevenLengths && laid.targets == batch.targets)
                #expect(laid.passes.map(\.rows) == evaluator.passRows(batch: x.batch))
                for pass in laid.passes {
                    #expect(pass.inputs == x.sequences(pass.rows).timeMajor)
                    #expect(pass.lengths == x.unevenLengths.map { Array($0[pass.rows]) })
                }
            }
            #expect(set.inputBytes == 4 * batches.reduce(0) { $0 + $1.inputs.values.count })
        }
    }

    /// A trainer's evaluation from the kept sets, after training changed the weights, is the
    /// evaluation that lays the split out again.
    @Test(arguments: [false, true]) func keptSetsGiveTheBitsOfSetsBuiltAgain(_ perStep: Bool) throws {
        var t = try Self.trainer("irnn", perStep: perStep)
        try t.keepEvaluationSets()
        #expect(t.evaluationSets.map(\.split) == [.validation, .test])
        for _ in 0..<3 { _ = try t.trainStep() }
        for split in [EvaluationSplit.validation, .test] {
            let kept = try t.evaluate(split)
            var fresh = t
            fresh.evaluationSets = []
            #expect(kept == (try fresh.evaluate(split)) && kept.loss.isFinite, "\(split)")
        }
    }

    /// The same for an LSTM's evaluator: sets laid out by one model serve another of its shape.
    @Test(arguments: [false, true]) func laidOutSetsServeOtherWeights(_ perStep: Bool) throws {
        let config = try ModelConfiguration.preset("lstm", inputSize: 3, hiddenSize: 5, outputs: 4, readout: perStep ? .everyStep : .lastStep)
        let task = try Self.task(perStep: perStep)
        func evaluator(seed: UInt64) throws -> Evaluator<LSTMCell<Float>> {
            var rng = SeededGenerator(seed: seed)
            return try Evaluator(model: try RecurrentModel(config, using: &rng), task: task, batchSize: 10)
        }
        let sets = try [EvaluationSplit.validation, .test].map { try evaluator(seed: 1).passes($0) }
        let other = try evaluator(seed: 2)
        for set in sets {
            let record = try other.evaluate(set, step: 2)
            #expect(record == (try other.evaluate(set.split, step: 2)) && record.loss.isFinite)
        }
    }

    /// A whole run keeps the sets when they fit, and builds them at every evaluation when the
    /// memory limit leaves no room for them: every event and the summary are the same bits.
    @Test(arguments: [false, true]) func aRunWithoutRoomForTheSetsGivesTheSameResults(_ perStep: Bool) throws {
        var kept = try Self.trainer("irnn", perStep: perStep), built = kept
        let estimate = MemoryEstimate.training(kept.configuration, task: kept.task, options: kept.options, optimizer: kept.optimizer)
        let keptPart = try #require(estimate.parts.first { $0.what.hasPrefix("the evaluation sets kept for the run") })
        #expect(keptPart.what.contains("(55 sequences x 5 steps x 3 inputs)") && keptPart.kind == .evaluation)
        #expect(keptPart.bytes == 4 * 55 * 5 * Double(3 + (perStep ? 1 : 0)))
        #expect(MemoryEstimate.keepsEvaluationSets(kept.configuration, task: kept.task, options: kept.options, optimizer: kept.optimizer))
        // A limit between the estimate without the kept sets and the one with them.
        let limit = estimate.bytes - keptPart.bytes / 2
        let (tight, keeps) = MemoryLimit.$override.withValue(limit) {
            (MemoryEstimate.training(built.configuration, task: built.task, options: built.options, optimizer: built.optimizer),
             MemoryEstimate.keepsEvaluationSets(built.configuration, task: built.task, options: built.options, optimizer: built.optimizer))
        }
        #expect(!keeps && abs(tight.bytes - (estimate.bytes - keptPart.bytes)) < 1 && tight.bytes <= limit)
        #expect(!tight.parts.contains { $0.what.hasPrefix("the evaluation sets kept") })
        try MemoryLimit.$override.withValue(limit) {
            try built.keepEvaluationSets()
            #expect(built.evaluationSets.isEmpty)
        }

        var keptEvents: [String] = [], builtEvents: [String] = []
        func text(_ event: TrainingEvent) -> String? {
            switch event {
            case .evaluation(let e): return "\(e.step) \(e.split) \(e.loss) \(e.metric)"
            case .step(let s): return "\(s.step) \(s.loss) \(s.gradientNorm)"
            default: return nil
            }
        }
        let keptSummary = try kept.run(checkpoint: nil, observer: { text($0).map { keptEvents.append($0) } }, clock: { 0 })
        let builtSummary = try MemoryLimit.$override.withValue(limit) {
            try built.run(checkpoint: nil, observer: { text($0).map { builtEvents.append($0) } }, clock: { 0 })
        }
        #expect(keptEvents.filter { $0.contains("validation") || $0.contains("test") }.count == 6)   // at steps 4, 8 and 12
        #expect(keptEvents == builtEvents)
        #expect(keptSummary.validation == builtSummary.validation && keptSummary.test == builtSummary.test)
        #expect(kept.evaluationSets.isEmpty)          // kept for the run only
    }
}
