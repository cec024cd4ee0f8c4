import Foundation
import Testing
@testable import Recurrent

/// Warm-up, exponential and plateau schedules against PyTorch's schedulers: the rate before
/// each of the first steps, and ReduceLROnPlateau's rate after each evaluation of a fixed
/// metric sequence. Fixture: `Fixtures/schedule_reference.json`, written once by
/// `Tests/RecurrentTests/Fixtures/make_schedule_fixture.py` (torch 2.15).
@Suite struct ScheduleParityTests {
    struct Reference: Decodable {
        struct Stepped: Decodable { var schedule: String; var total: Int; var rates: [Double] }
        struct Plateau: Decodable { var schedule: String; var mode: String; var metrics: [Double?]; var rates: [Double] }
        var base: Double
        var stepped: [Stepped]
        var plateau: [Plateau]
    }

    static func reference() throws -> Reference {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/schedule_reference", withExtension: "json"))
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    @Test func steppedSchedulesGivePyTorchsRates() throws {
        let r = try Self.reference()
        #expect(r.stepped.count == 6)
        for c in r.stepped {
            let schedule = try LearningRateSchedule(parsing: c.schedule, totalSteps: c.total)
            for (t, expected) in c.rates.enumerated() {
                let got = schedule.rate(base: r.base, step: t)
                #expect(isClose(got, expected, rtol: 1e-12, atol: 1e-15), "\(c.schedule) step \(t): \(got) vs PyTorch \(expected)")
            }
        }
    }

    @Test func plateauGivesReduceLROnPlateausRates() throws {
        let r = try Self.reference()
        #expect(r.plateau.count == 3)
        for c in r.plateau {
            let schedule = try LearningRateSchedule(parsing: c.schedule, totalSteps: 100)
            let (patience, factor) = try #require(schedule.plateau)
            var state = PlateauState()
            for (i, (metric, expected)) in zip(c.metrics, c.rates).enumerated() {
                let rate = schedule.rate(base: r.base, step: i, reductions: state.reductions)
                state.observe(metric ?? .nan, higherIsBetter: c.mode == "max", patience: patience, factor: factor, rate: rate)
                let got = schedule.rate(base: r.base, step: i, reductions: state.reductions)
                #expect(isClose(got, expected, rtol: 1e-12, atol: 1e-18), "\(c.schedule) (\(c.mode)) after evaluation \(i + 1): \(got) vs PyTorch \(expected)")
            }
        }
    }

    @Test func warmupComposesAndDefaultsToPyTorchsStartFactor() throws {
        #expect(try LearningRateSchedule(parsing: "warmup:500,cosine", totalSteps: 2000)
                == .warmup(steps: 500, startFactor: 1.0 / 3.0, then: .cosine(totalSteps: 1500, minimum: 0)))
        #expect(try LearningRateSchedule(parsing: "warmup:10:0.5", totalSteps: 100) == .warmup(steps: 10, startFactor: 0.5, then: .constant))
        #expect(try LearningRateSchedule(parsing: "warmup:10,plateau:3:0.5", totalSteps: 100).plateau! == (3, 0.5))
        #expect(try LearningRateSchedule(parsing: "exponential:0.99", totalSteps: 100) == .exponential(gamma: 0.99))
    }

    @Test(arguments: [
        ("warmup:0,cosine", "integer N > 0"), ("warmup:5:0", "START factor"), ("warmup:5:1.5", "START factor"),
        ("cosine,warmup:5", "only a warm-up"), ("warmup:5,warmup:3", "comes first"), ("warmup:5,cosine,step:1:2", "at most"),
        ("plateau:2:1.5", "0 < FACTOR < 1"), ("plateau:-1:0.5", "PATIENCE >= 0"), ("plateau:2", "unknown schedule"),
        ("exponential:0", "GAMMA > 0"), ("exponential:nan", "GAMMA > 0"), ("warmup:5,", "unknown schedule"),
    ])
    func badSchedulesAreRefusedWithTheForm(_ text: String, _ expected: String) {
        #expect {
            _ = try LearningRateSchedule(parsing: text, totalSteps: 100)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func plateauAndPatienceNeedPeriodicEvaluations() {
        var o = TrainingOptions(steps: 100, batchSize: 4)
        o.schedule = .plateau(patience: 2, factor: 0.5)
        #expect(throws: ConfigurationError.self) { try o.validate() }
        o.schedule = .constant
        o.patience = 3
        #expect(throws: ConfigurationError.self) { try o.validate() }
        o.evaluateEvery = 10
        #expect(throws: Never.self) { try o.validate() }
        o.patience = 0
        #expect(throws: ConfigurationError.self) { try o.validate() }
    }

    /// Options of runs that use none of the new settings encode as before (no `patience`,
    /// `keepBest` keys), and old training states decode.
    @Test func trainingOptionsWithoutTheNewSettingsEncodeAsBefore() throws {
        let o = TrainingOptions(steps: 10, batchSize: 2)
        let text = String(decoding: try JSONEncoder().encode(o), as: UTF8.self)
        #expect(!text.contains("patience") && !text.contains("keepBest"))
        #expect(try JSONDecoder().decode(TrainingOptions.self, from: Data(text.utf8)) == o)
        var p = o
        p.patience = 4
        p.keepBest = true
        #expect(try JSONDecoder().decode(TrainingOptions.self, from: JSONEncoder().encode(p)) == p)
    }
}

/// Early stopping and the best checkpoint through `Trainer.run`.
@Suite struct EarlyStoppingTests {
    @Test func patienceStopsAndTheBestCheckpointHoldsTheBestWeights() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-best-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // A learning rate far too high: the test metric stops improving early.
        var spec = TrainSpec(task: TaskSpec(name: .adding, length: 5, limit: 40),
                             optimizer: OptimizerSpec(learningRate: 0.3),
                             run: RunSpec(steps: 2000, batch: 8, seed: 2, evalEvery: 10, logEvery: 10, checkpointEvery: 0))
        spec.run.patience = 3
        spec.run.keepBest = true
        let session = try TrainingSession(spec)
        let configuration = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 4, outputs: 1)
        var evaluations: [EvaluationRecord] = []
        let outcome = try session.run(configuration, files: RunFiles(folder: dir), observer: { event in
            if case .evaluation(let r) = event { evaluations.append(r) }
        })
        let s = outcome.summary
        #expect(s.reason == .earlyStopped && s.steps < 2000)
        let best = try #require(s.best)
        // The best is the lowest test MSE so far, and the last `patience` evaluations came after it without improving.
        #expect(best.metric == evaluations.map(\.metric).min())
        #expect(evaluations.suffix(3).allSatisfy { $0.metric >= best.metric } && evaluations.last!.step == s.steps)
        #expect(evaluations.dropLast(3).last!.metric == best.metric || evaluations.dropLast(3).contains { $0.step == best.step })
        // The file holds the weights of that step: evaluating it gives the best record's numbers.
        let bestFile = TrainingCheckpoint.bestURL(for: RunFiles(folder: dir).checkpoint)
        #expect(s.bestCheckpoint == bestFile.path)
        let loaded = try Checkpoint.load(from: bestFile)
        #expect(loaded.metadata["step"] == String(best.step))
        let again = try loaded.model.evaluate(on: session.task, step: best.step)
        #expect(again.first?.metric == best.metric)

        // Resumed, it has nothing left to train (its patience is used up).
        var started: SessionStart?
        let resumed = try session.run(configuration, files: RunFiles(folder: dir), started: { started = $0 })
        #expect(started?.finishedBecause == .earlyStopped && resumed.summary.reason == .earlyStopped)
        #expect(resumed.summary.best?.step == best.step && resumed.summary.bestCheckpoint == bestFile.path)
    }
}

/// The evaluation state in a training state is checked before a resume uses it.
@Suite struct EvaluationProgressSidecarTests {
    @Test func negativeCountsAreRefusedNamingTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-progress-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var spec = TrainSpec(task: TaskSpec(name: .adding, length: 4, limit: 10), run: RunSpec(steps: 4, batch: 4, seed: 1, evalEvery: 2, logEvery: 2))
        spec.run.patience = 5
        let session = try TrainingSession(spec)
        let configuration = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 3, outputs: 1)
        let files = RunFiles(folder: dir)
        _ = try session.run(configuration, files: files)
        var state = try SafeTensorsFile(contentsOf: files.trainingState)
        let trainer = try #require(state.metadata["trainer"])
        #expect(trainer.contains("\"sinceBest\":"))
        state.metadata["trainer"] = trainer.replacingOccurrences(of: #""sinceBest":[0-9]+"#, with: "\"sinceBest\":-3", options: .regularExpression)
        try state.write(to: files.trainingState)
        var extended = spec
        extended.run.steps = 8
        #expect {
            _ = try TrainingSession(extended).run(configuration, files: files)
        } throws: { error in
            "\(error)".contains("-3 since the best") && "\(error)".contains(files.trainingState.path)
        }
    }
}
