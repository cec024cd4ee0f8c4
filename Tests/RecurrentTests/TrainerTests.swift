import Foundation
import Testing
@testable import Recurrent

@Suite("Training: learning, resume, divergence")
struct TrainerTests {
    func trainer(_ preset: String = "irnn", length: Int = 8, hidden: Int = 16, steps: Int, lr: Double = 0.01,
                 recurrentInit: Initializer? = nil, clipNorm: Double? = 1, seed: UInt64 = 1) throws -> Trainer<RNNCell<Float>> {
        var config = try ModelConfiguration.preset(preset, inputSize: 2, hiddenSize: hidden, outputs: 1)
        if let r = recurrentInit { config.recurrentInit = r }
        var rng = SeededGenerator(seed: seed)
        let model = try RecurrentModel<RNNCell<Float>>(config, using: &rng)
        var options = TrainingOptions(steps: steps, batchSize: 16)
        options.clipNorm = clipNorm
        options.logEvery = 10
        options.evaluationBatchSize = 250
        return try Trainer(model: model, optimizer: try OptimizerChoice(.adam, learningRate: lr, momentum: nil, weightDecay: nil),
                           task: try AddingTask(length: length, testSize: 500), options: options, configuration: config, seed: seed)
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-train-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func irnnLearnsAShortAddingProblem() throws {
        var t = try trainer(hidden: 32, steps: 1000, lr: 0.003)
        let before = try t.evaluate(.test).metric
        let summary = try t.run(checkpoint: nil)
        let after = try #require(summary.test).metric
        #expect(before > 0.1, "an untrained model is near the 1/6 baseline, got \(before)")
        #expect(after < 0.02, "IRNN should get well below the 1/6 baseline on T = 8 in 1000 steps; test MSE \(after)")
    }

    @Test func interruptedAndResumedRunEndsWithTheSameBits() throws {
        let dir = try temporaryDirectory()
        var straight = try trainer(steps: 30)
        _ = try straight.run(checkpoint: dir.appendingPathComponent("straight.safetensors"))

        var first = try trainer(steps: 30)
        var calls = 0
        let interrupted = try first.run(checkpoint: dir.appendingPathComponent("resumed.safetensors"), shouldStop: {
            calls += 1
            return calls == 13          // "Ctrl-C" after step 13
        })
        #expect(interrupted.reason == .interrupted && interrupted.steps == 13)
        var second = try trainer(steps: 30, seed: 99)   // a different seed: everything must come from the checkpoint
        try TrainingCheckpoint.restore(&second, from: dir.appendingPathComponent("resumed.safetensors"))
        #expect(second.step == 13)
        _ = try second.run(checkpoint: dir.appendingPathComponent("resumed.safetensors"))
        #expect(second.step == 30)
        #expect(second.model.layers[0].parameters == straight.model.layers[0].parameters)
        #expect(second.model.head == straight.model.head)
        #expect(second.optimizer.state == straight.optimizer.state)
    }

    @Test func divergenceStopsBeforeTheWeightsAndSavesTheLastGoodState() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("diverge.safetensors")
        // W = 3 I with ReLU over 100 steps: h_t ~ 3^t overflows Float32 near t = 80.
        var t = try trainer(length: 100, steps: 50, recurrentInit: .identity(scale: 3), clipNorm: nil)
        let good = t.model
        do {
            _ = try t.run(checkpoint: url)
            Issue.record("a run with h ~ 3^t did not diverge")
        } catch let error as TrainingDivergence {
            #expect(error.step == 1)
            #expect(error.explodedAtTimeStep != nil)
            #expect(error.description.contains("clip") && error.description.contains("identity"))
        }
        #expect(t.model.layers[0].parameters == good.layers[0].parameters, "the weights must not have been touched")
        let saved = try Checkpoint.load(from: url)
        let m = try #require(saved.model.model(as: RNNCell<Float>.self), "wrong cell")
        #expect(m.layers[0].parameters == good.layers[0].parameters)
    }

    @Test func warnsBeforeARunThatWillExplode() throws {
        var t = try trainer(steps: 1, recurrentInit: .identity(scale: 1.5))
        let warnings = t.warnings(after: nil)
        #expect(warnings.contains { $0.message.contains("spectral radius") })
        #expect(t.warnings(after: nil).isEmpty, "each warning is given once")
    }

    @Test(arguments: [nil, 1.0] as [Double?])
    func radiusWarningAdvisesClippingOnlyWhenItIsOff(_ clipNorm: Double?) throws {
        var t = try trainer(steps: 1, recurrentInit: .identity(scale: 1.5), clipNorm: clipNorm)
        let warning = try #require(t.warnings(after: nil).first { $0.message.contains("spectral radius") })
        #expect(warning.remedies.contains(.clipGradients(norm: 1)) == (clipNorm == nil), "\(warning)")
        #expect(warning.remedies.contains(.useIdentityInit), "\(warning)")
    }

    @Test func aResumedRunIsNotWarnedAboutItsTrainedW() throws {
        var t = try trainer(steps: 1, recurrentInit: .identity(scale: 1.5))
        t.step = 6000                                   // as after --resume
        #expect(!t.warnings(after: nil).contains { $0.message.contains("spectral radius") })
    }

    @Test func targetStopsTheRunEarly() throws {
        var t = try trainer(steps: 2000)
        t.options.evaluateEvery = 50
        t.options.target = 0.05
        let summary = try t.run(checkpoint: nil)
        #expect(summary.reason == .targetReached)
        #expect(summary.steps < 2000 && summary.targetReachedStep == summary.steps)
        #expect(try #require(summary.test).metric <= 0.05)
    }

    @Test func taskAndModelMustAgree() throws {
        let config = try ModelConfiguration.preset("irnn", inputSize: 3, hiddenSize: 4, outputs: 1)
        var rng = SeededGenerator(seed: 1)
        let model = try RecurrentModel<RNNCell<Float>>(config, using: &rng)
        #expect(throws: ConfigurationError.self) {
            try Trainer(model: model, optimizer: try OptimizerChoice(.sgd, learningRate: 0.1, momentum: nil, weightDecay: nil),
                        task: try AddingTask(length: 5), options: TrainingOptions(steps: 1, batchSize: 1), configuration: config, seed: 1)
        }
    }
}
