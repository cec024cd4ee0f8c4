import Foundation
import Testing
@testable import Recurrent

/// `TrainingSession`, the one start-or-resume entry point: a run started, stopped and resumed
/// through it ends with the bits of one uninterrupted run, logs each step once, knows when a
/// resumed run has nothing left, and gives what `recurrent train` gives for the same spec.
@Suite struct TrainingSessionTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-session-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let text = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 40)

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var spec: TrainSpec
        var preset: String
        var hidden: Int
        var layers = 1
        var testDescription: String { name }
    }

    /// Both a task that draws fresh batches (adding, Adam, clipping) and one that carries its
    /// state and its text position across batches (charlm on an LSTM, SGD with momentum and
    /// a cosine schedule).
    static let cases: [Case] = [
        Case(name: "adding-irnn-adam", spec: TrainSpec(task: TaskSpec(name: .adding, length: 5, limit: 30),
                                                       run: RunSpec(steps: 30, batch: 8, seed: 3, evalEvery: 10, logEvery: 5, checkpointEvery: 7)),
             preset: "irnn", hidden: 6),
        Case(name: "charlm-lstm-sgd", spec: TrainSpec(task: TaskSpec(name: .charlm, data: "TEXT", bptt: 6, limit: 600),
                                                      optimizer: OptimizerSpec(kind: .sgd, learningRate: 0.1, momentum: 0.9, schedule: "cosine"),
                                                      run: RunSpec(steps: 30, batch: 4, seed: 5, evalEvery: 10, logEvery: 5, checkpointEvery: 7)),
             preset: "lstm", hidden: 5, layers: 2),
        // A warm-up into a plateau schedule (its state after every evaluation), and the best
        // checkpoint (whose file is compared too) with a patience that is not used up.
        Case(name: "adding-irnn-warmup-plateau-best", spec: TrainSpec(task: TaskSpec(name: .adding, length: 5, limit: 30),
                                                                      optimizer: OptimizerSpec(learningRate: 0.05, schedule: "warmup:4,plateau:0:0.5"),
                                                                      run: RunSpec(steps: 30, batch: 8, seed: 3, evalEvery: 2, logEvery: 5, checkpointEvery: 7,
                                                                                   patience: 100, keepBest: true)),
             preset: "irnn", hidden: 6),
    ]

    /// The case's spec with its text file written into `dir`, the session and the model.
    func prepared(_ c: Case, in dir: URL) throws -> (TrainingSession, ModelConfiguration) {
        var spec = c.spec
        if spec.task.data == "TEXT" {
            let url = dir.appendingPathComponent("text.txt")
            try Self.text.write(to: url, atomically: true, encoding: .utf8)
            spec.task.data = url.path
        }
        let session = try TrainingSession(spec)
        let configuration = try ModelConfiguration.preset(c.preset, inputSize: session.task.inputSize, hiddenSize: c.hidden, layers: c.layers,
                                                          outputs: session.task.outputSize, readout: session.task.readout)
        return (session, configuration)
    }

    /// The log's lines without their times (which differ between any two runs).
    func timeless(_ log: URL) throws -> [String] {
        try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map {
            $0.replacingOccurrences(of: #""seconds":[-0-9.e+]+"#, with: "", options: .regularExpression)
        }
    }

    @Test(arguments: cases)
    func aRunStoppedAndResumedEndsWithTheBitsOfOneRun(_ c: Case) throws {
        let straightDir = try temporaryDirectory(), stoppedDir = try temporaryDirectory()
        defer { for d in [straightDir, stoppedDir] { try? FileManager.default.removeItem(at: d) } }
        let (session, configuration) = try prepared(c, in: straightDir)
        let straight = try session.run(configuration, files: RunFiles(folder: straightDir.appendingPathComponent("run")))
        #expect(straight.summary.reason == .completed && straight.summary.steps == 30 && !straight.start.resumed)

        // Stopped after step 11 (between two saves: the stop saves), then after step 19 of
        // the resumed session; a third session finishes the run. `shouldStop` is polled once
        // after every step.
        let (session2, _) = try prepared(c, in: stoppedDir)
        let files = RunFiles(folder: stoppedDir.appendingPathComponent("run"))
        var polls = 0
        let first = try session2.run(configuration, files: files, shouldStop: { polls += 1; return polls == 11 })
        #expect(first.summary.reason == .interrupted && first.summary.steps == 11)
        var starts: [SessionStart] = []
        polls = 0
        let second = try session2.run(configuration, files: files, started: { starts.append($0) },
                                      shouldStop: { polls += 1; return polls == 8 })
        #expect(second.summary.reason == .interrupted && second.summary.steps == 19)
        let third = try session2.run(configuration, files: files, started: { starts.append($0) })
        #expect(third.summary.reason == .completed && third.summary.steps == 30)
        #expect(starts.map(\.step) == [11, 19] && starts.allSatisfy { $0.resumed && !$0.finished })

        let a = straightDir.appendingPathComponent("run/checkpoint.safetensors"), b = files.checkpoint
        #expect(try GoldenCheckpointTests.hash([a, TrainingCheckpoint.sidecarURL(for: a)])
                == GoldenCheckpointTests.hash([b, TrainingCheckpoint.sidecarURL(for: b)]))
        #expect(try timeless(files.log!) == timeless(straightDir.appendingPathComponent("run/log.jsonl")), "each step logged once")
        #expect(third.summary.test?.loss == straight.summary.test?.loss)
        #expect(third.summary.validation?.loss == straight.summary.validation?.loss)
        if c.spec.run.keepBest == true {
            let bestA = TrainingCheckpoint.bestURL(for: a), bestB = TrainingCheckpoint.bestURL(for: b)
            #expect(try GoldenCheckpointTests.hash([bestA]) == GoldenCheckpointTests.hash([bestB]))
            let x = try #require(third.summary.best), y = try #require(straight.summary.best)
            #expect(x.step == y.step && x.metric == y.metric && x.loss == y.loss)
            #expect(straight.summary.train?.learningRate != 0.05, "the plateau schedule reduced the rate")
        }
    }

    @Test func aFinishedRunIsNotTrainedAgain() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (session, configuration) = try prepared(Self.cases[0], in: dir)
        let files = RunFiles(folder: dir)
        _ = try session.run(configuration, files: files)
        let before = try Data(contentsOf: files.checkpoint)
        var start: SessionStart?, events = 0
        let again = try session.run(configuration, files: files, started: { start = $0 }, observer: { _ in events += 1 })
        #expect(start?.finished == true && start?.step == 30 && events == 0)
        #expect(again.summary.steps == 30 && again.summary.reason == .completed)
        #expect(try Data(contentsOf: files.checkpoint) == before, "nothing written")
    }

    @Test func aRunThatStoppedAtItsTargetIsNotTrainedAgain() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = Self.cases[0]
        c.spec.run.target = 100                            // any MSE reaches it: the first evaluation stops the run
        let (session, configuration) = try prepared(c, in: dir)
        let first = try session.run(configuration, files: RunFiles(folder: dir))
        #expect(first.summary.reason == .targetReached && first.summary.steps == 10)
        var start: SessionStart?
        let again = try session.run(configuration, files: RunFiles(folder: dir), started: { start = $0 })
        #expect(start?.finished == true && start?.step == 10 && again.summary.steps == 10)
    }

    @Test func resumingWithoutATrainingStateSaysToStartFromTheWeights() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var (session, configuration) = try prepared(Self.cases[0], in: dir)
        session.start = .resume
        let error = try #require(throws: CheckpointError.self) { try session.run(configuration, files: RunFiles(folder: dir)) }
        #expect(error.remedies == [.startFromWeights], "\(error)")
        #expect(!error.description.contains("--"), "the library names no flag: \(error)")
    }

    @Test func weightsStartAFreshRunFromACheckpoint() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var (session, configuration) = try prepared(Self.cases[0], in: dir)
        let first = RunFiles(folder: dir.appendingPathComponent("a"))
        _ = try session.run(configuration, files: first)
        let trained = try SafeTensorsFile(contentsOf: first.checkpoint)
        session.start = .weights(trained, path: first.checkpoint.path)
        var start: SessionStart?
        let outcome = try session.run(configuration, files: RunFiles(folder: dir.appendingPathComponent("b")), started: { start = $0 })
        #expect(start?.step == 0 && start?.resumed == false && outcome.summary.steps == 30)
        let wrong = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 7, outputs: 1)
        let error = try #require(throws: CheckpointError.self) { try session.run(wrong, files: RunFiles(folder: dir.appendingPathComponent("c"))) }
        #expect(error.path == first.checkpoint.path)
    }

    @Test func epochsBecomeStepsForDataSetTasksOnly() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = Self.cases[1]
        c.spec.run.epochs = 2
        let (session, _) = try prepared(c, in: dir)
        let perEpoch = try #require(try session.task.batchesPerEpoch(batchSize: 4))
        #expect(session.spec.run.steps == 2 * perEpoch && session.options.steps == 2 * perEpoch)
        var adding = Self.cases[0].spec
        adding.run.epochs = 1
        #expect(throws: ConfigurationError.self) { try TrainingSession(adding) }
    }

    /// `recurrent train` starts its runs through the session: the same spec and model give
    /// the same checkpoint bits.
    @Test func trainOnTheCommandLineIsTheSession() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["train", "--task", "adding", "--length", "5", "--limit", "30", "--hidden", "6", "--batch", "8", "--steps", "30",
                             "--seed", "3", "--eval-every", "10", "--log-every", "5", "--checkpoint-every", "7", "--name", "cli", "--json"], in: dir)
        try #require(r.status == 0, "\(r.output)")
        let (session, configuration) = try prepared(Self.cases[0], in: dir)
        let files = RunFiles(folder: dir.appendingPathComponent("lib"))
        _ = try session.run(configuration, files: files)
        let cli = dir.appendingPathComponent("checkpoints/cli.safetensors")
        #expect(try GoldenCheckpointTests.hash([cli, TrainingCheckpoint.sidecarURL(for: cli)])
                == GoldenCheckpointTests.hash([files.checkpoint, files.trainingState]))
        let stored = try SafeTensorsFile(contentsOf: cli).metadata
        #expect(TrainSpec.stored(in: stored) == session.spec)
    }

    /// One run as one JSON value: it round-trips, and run in a folder it is the comparison's run
    /// of the same model and seed (same bits), resumable in that folder.
    @Test func aRequestIsOneRunAsOneValue() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var settings = ComparisonSettings(task: TaskSpec(name: .adding, length: 5, limit: 30), models: [try ModelSpec(parsing: "irnn:lr=0.01")],
                                          steps: 20, seeds: 1)
        settings.hidden = 6
        settings.batchSize = 8
        settings.evaluateEvery = 10
        let results = try Comparison(settings: settings, directory: dir.appendingPathComponent("cmp")).run()
        let request = TrainingRequest(spec: try settings.spec(for: settings.models[0], seed: 1), model: settings.models[0], hidden: 6)
        let json = try JSONEncoder().encode(request)
        #expect(try JSONDecoder().decode(TrainingRequest.self, from: json) == request)
        var polls = 0
        let stopped = try request.run(in: dir.appendingPathComponent("shard"), shouldStop: { polls += 1; return polls == 7 })
        #expect(stopped.summary.reason == .interrupted && stopped.summary.steps == 7)
        let outcome = try request.run(in: dir.appendingPathComponent("shard"))
        #expect(outcome.start.resumed && outcome.summary.steps == 20 && outcome.summary.test?.metric == results[0].finalMetric)
        let a = dir.appendingPathComponent("cmp/runs/irnn_lr_0.01-seed1/checkpoint.safetensors")
        let b = dir.appendingPathComponent("shard/checkpoint.safetensors")
        #expect(try GoldenCheckpointTests.hash([a, TrainingCheckpoint.sidecarURL(for: a)]) == GoldenCheckpointTests.hash([b, TrainingCheckpoint.sidecarURL(for: b)]))
    }
}
