import Foundation
import Testing
@testable import Recurrent

/// A checkpoint and its training state are one unit: a save cut short at any point (a
/// kill -9 between two system calls) leaves a pair that resumes with the same bits, and
/// what the kill left behind is cleaned up. The kills are simulated by writing the files a
/// save would have reached at each point; `scripts/kill_test.sh` kills the real binary.
@Suite("Kill-safe checkpoints: the pair is one unit")
struct KillSafeCheckpointTests {
    func trainer(steps: Int, seed: UInt64 = 1) throws -> Trainer<RNNCell<Float>> {
        let config = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 6, outputs: 1)
        var rng = SeededGenerator(seed: seed)
        let model = try RecurrentModel<RNNCell<Float>>(config, using: &rng)
        var options = TrainingOptions(steps: steps, batchSize: 8)
        options.logEvery = 5
        options.evaluationBatchSize = 50
        return try Trainer(model: model, optimizer: try OptimizerChoice(.adam, learningRate: 0.01, momentum: nil, weightDecay: nil),
                           task: try AddingTask(length: 5, testSize: 50), options: options, configuration: config, seed: seed)
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-killsafe-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A trainer advanced to `step` (no checkpoint).
    func trained(to step: Int) throws -> Trainer<RNNCell<Float>> {
        var t = try trainer(steps: step)
        _ = try t.run(checkpoint: nil)
        return t
    }

    /// The two files a save of `t` writes, in memory.
    func savedFiles(_ t: Trainer<RNNCell<Float>>) throws -> (model: SafeTensorsFile, state: SafeTensorsFile) {
        let model = Checkpoint.stateDict(t.model, configuration: t.configuration,
                                         metadata: t.checkpointMetadata.merging(["step": String(t.step), "task": t.task.name.rawValue]) { $1 })
        return (model, try TrainingCheckpoint.trainingState(t, model: model))
    }

    /// Restores a fresh trainer (another seed: everything must come from the files), runs it
    /// to 30 steps and checks it ends with the bits of an uninterrupted 30-step run.
    func expectResumesToTheSameBits(_ url: URL, at expectedStep: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var resumed = try trainer(steps: 30, seed: 99)
        try TrainingCheckpoint.restore(&resumed, from: url)
        #expect(resumed.step == expectedStep, sourceLocation: sourceLocation)
        _ = try resumed.run(checkpoint: url)
        let straight = try trained(to: 30)
        #expect(resumed.model.layers[0].parameters == straight.model.layers[0].parameters, sourceLocation: sourceLocation)
        #expect(resumed.model.head == straight.model.head, sourceLocation: sourceLocation)
        #expect(resumed.optimizer.state == straight.optimizer.state, sourceLocation: sourceLocation)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.metadata["step"] == "30", sourceLocation: sourceLocation)
    }

    /// Where a save of step 20 over a complete pair of step 10 can be cut short. A save is:
    /// open the state's temporary, write, fsync, rename, fsync the folder; the same for the
    /// model file. Every kill point lands between two of these calls.
    enum KillPoint: String, CaseIterable, Sendable {
        case beforeTheSave, stateTemporaryHalfWritten, stateTemporaryComplete, stateRenamed
        case modelTemporaryHalfWritten, modelTemporaryComplete, modelRenamed
    }

    @Test(arguments: KillPoint.allCases)
    func aSaveCutShortAnywhereLeavesAPairThatResumesWithTheSameBits(_ point: KillPoint) throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("run.safetensors")
        let stateURL = TrainingCheckpoint.sidecarURL(for: url)
        try TrainingCheckpoint.save(try trained(to: 10), to: url)
        let (model20, state20) = try savedFiles(try trained(to: 20))
        let stateBytes = try state20.serialized(), modelBytes = try model20.serialized()
        let stateTemporary = dir.appendingPathComponent(".run.state.safetensors.tmp-3fa9")
        let modelTemporary = dir.appendingPathComponent(".run.safetensors.tmp-c0ffee")
        switch point {
        case .beforeTheSave: break
        case .stateTemporaryHalfWritten: try Data(stateBytes.prefix(stateBytes.count / 2)).write(to: stateTemporary)
        case .stateTemporaryComplete: try Data(stateBytes).write(to: stateTemporary)
        case .stateRenamed: try Data(stateBytes).write(to: stateURL)
        case .modelTemporaryHalfWritten:
            try Data(stateBytes).write(to: stateURL)
            try Data(modelBytes.prefix(modelBytes.count / 2)).write(to: modelTemporary)
        case .modelTemporaryComplete:
            try Data(stateBytes).write(to: stateURL)
            try Data(modelBytes).write(to: modelTemporary)
        case .modelRenamed:
            try Data(stateBytes).write(to: stateURL)
            try Data(modelBytes).write(to: url)
        }
        let stateWasWritten = [.stateRenamed, .modelTemporaryHalfWritten, .modelTemporaryComplete, .modelRenamed].contains(point)
        let expectedStep = stateWasWritten ? 20 : 10

        // The model file a person loads is complete at every point (an old or a new one).
        let before = try SafeTensorsFile(contentsOf: url)
        #expect(before.metadata["step"] == (point == .modelRenamed ? "20" : "10"))

        let recovery = try TrainingCheckpoint.recover(url)
        #expect(recovery.step == expectedStep)
        let leftTemporaries = [.stateTemporaryHalfWritten, .stateTemporaryComplete, .modelTemporaryHalfWritten, .modelTemporaryComplete].contains(point)
        #expect(recovery.notes.contains { $0.contains("temporary file") } == leftTemporaries, "\(recovery.notes)")
        let modelBehind = stateWasWritten && point != .modelRenamed
        #expect(recovery.notes.contains { $0.contains("was at step 10 but its training state is at step 20") } == modelBehind, "\(recovery.notes)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(!names.contains { $0.contains(".tmp-") }, "\(names)")
        // After recovery the pair matches: the model file records the training state's step, bit for bit.
        let model = try SafeTensorsFile(contentsOf: url)
        #expect(model.metadata["step"] == String(expectedStep))
        if expectedStep == 20 { #expect(model == model20) }
        try expectResumesToTheSameBits(url, at: expectedStep)
    }

    @Test func aModelFileWrittenWithoutItsTrainingStateGivesWayToTheLastCompletePair() throws {
        // The order the issue saw (model at N, training state at N-1): resume takes the last
        // complete unit, says so, and the model file is put back in step with it.
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("run.safetensors")
        try TrainingCheckpoint.save(try trained(to: 10), to: url)
        try savedFiles(try trained(to: 20)).model.write(to: url)
        let recovery = try TrainingCheckpoint.recover(url)
        #expect(recovery.step == 10)
        #expect(recovery.notes == ["\(url.path) was at step 20 but its training state is at step 10 (a save was cut short): "
            + "rewrote the model file from the training state, the last complete save"])
        #expect(try SafeTensorsFile(contentsOf: url).metadata["step"] == "10")
        try expectResumesToTheSameBits(url, at: 10)
    }

    @Test func restoreWithoutRecoverReadsTheWeightsFromTheTrainingState() throws {
        // A library caller that skips recover() still resumes the complete unit.
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("run.safetensors")
        try TrainingCheckpoint.save(try trained(to: 10), to: url)
        try savedFiles(try trained(to: 20)).state.write(to: TrainingCheckpoint.sidecarURL(for: url))
        try expectResumesToTheSameBits(url, at: 20)
    }

    @Test(arguments: ["missing", "garbage", "empty"])
    func aBrokenModelFileIsRewrittenFromTheTrainingState(_ damage: String) throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("run.safetensors")
        try TrainingCheckpoint.save(try trained(to: 10), to: url)
        switch damage {
        case "missing": try FileManager.default.removeItem(at: url)
        case "garbage": try Data("not a safetensors file".utf8).write(to: url)
        default: try Data().write(to: url)
        }
        let recovery = try TrainingCheckpoint.recover(url)
        let expected = damage == "missing" ? "was missing" : "was unreadable"
        #expect(recovery.notes.count == 1 && recovery.notes[0].contains(expected), "\(recovery.notes)")
        let loaded = try Checkpoint.load(from: url)
        #expect(loaded.metadata["step"] == "10" && loaded.metadata["task"] == "adding")
        try expectResumesToTheSameBits(url, at: 10)
    }

    @Test func aMissingTrainingStateIsAnErrorThatPointsToInitFrom() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("run.safetensors")
        try TrainingCheckpoint.save(try trained(to: 10), to: url)
        try FileManager.default.removeItem(at: TrainingCheckpoint.sidecarURL(for: url))
        let error = try #require(throws: CheckpointError.self) { try TrainingCheckpoint.recover(url) }
        #expect(error.path == url.path && error.message.contains("run.state.safetensors") && error.remedies == [.startFromWeights])
        #expect(try Checkpoint.load(from: url).metadata["step"] == "10", "the model file is untouched and still loads")
    }

    @Test(arguments: ["truncated", "garbage"])
    func anUnreadableTrainingStateIsAnErrorNamingItAndTheFallback(_ damage: String) throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("run.safetensors")
        let stateURL = TrainingCheckpoint.sidecarURL(for: url)
        try TrainingCheckpoint.save(try trained(to: 10), to: url)
        let bytes = try Data(contentsOf: stateURL)
        try (damage == "truncated" ? bytes.prefix(bytes.count - 7) : Data("{}".utf8)).write(to: stateURL)
        for attempt in [{ _ = try TrainingCheckpoint.recover(url) }, {
            var t = try trainer(steps: 30)
            try TrainingCheckpoint.restore(&t, from: url)
        }] {
            let error = try #require(throws: CheckpointError.self) { try attempt() }
            #expect(error.path == stateURL.path && error.message.contains("cannot be read") && error.remedies == [.startFromWeights], "\(error)")
        }
        #expect(try Checkpoint.load(from: url).metadata["step"] == "10", "the model file is untouched and still loads")
    }

    @Test func aTrainingStateWithABadModelSnapshotIsRefusedByName() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("run.safetensors")
        var state = try savedFiles(try trained(to: 10)).state
        state.metadata[TrainingCheckpoint.modelMetadataKey] = "[1, 2"
        try state.write(to: TrainingCheckpoint.sidecarURL(for: url))
        var t = try trainer(steps: 30)
        let error = try #require(throws: CheckpointError.self) { try TrainingCheckpoint.restore(&t, from: url) }
        #expect(error.path == TrainingCheckpoint.sidecarURL(for: url).path && error.message.contains("'model' metadata"))
    }

    @Test func aSidecarWrittenBeforeSnapshotsStillResumesFromItsMatchingModelFile() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("run.safetensors")
        let (model, state) = try savedFiles(try trained(to: 10))
        var legacy = state
        legacy.tensors = legacy.tensors.filter { !$0.key.hasPrefix(TrainingCheckpoint.modelPrefix) }
        legacy.metadata[TrainingCheckpoint.modelMetadataKey] = nil
        try legacy.write(to: TrainingCheckpoint.sidecarURL(for: url))
        try model.write(to: url)
        #expect(try TrainingCheckpoint.recover(url) == .init(step: 10, notes: []))
        try expectResumesToTheSameBits(url, at: 10)
        // A mismatched legacy pair has nothing to repair from: the old refusal stands.
        try legacy.write(to: TrainingCheckpoint.sidecarURL(for: url))
        var t = try trainer(steps: 40)
        let error = try #require(throws: CheckpointError.self) { try TrainingCheckpoint.restore(&t, from: url) }
        #expect(error.message.contains("different steps"))
    }

    @Test func onlyThisCheckpointsTemporaryFilesAreRemoved() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("run.safetensors")
        let ours = [".run.safetensors.tmp-1f", ".run.state.safetensors.tmp-abc0123456789def"]
        let others = [".other.safetensors.tmp-1f", ".run.safetensors.tmp-", ".run.safetensors.tmp-xyz", "run.safetensors.tmp-1f",
                      ".run.safetensors.tmp-1f.bak", ".run2.safetensors.tmp-1f", ".run.npy.tmp-1f"]
        for name in ours + others { try Data("x".utf8).write(to: dir.appendingPathComponent(name)) }
        let removed = TrainingCheckpoint.removeLeftoverTemporaries(of: url)
        #expect(Set(removed.map(\.lastPathComponent)) == Set(ours))
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == Set(others))
        #expect(TrainingCheckpoint.removeLeftoverTemporaries(of: dir.appendingPathComponent("absent/run.safetensors")).isEmpty)
    }

    @Test func aResumedLogKeepsEachStepOnce() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("log.jsonl")
        let lines = [#"{"kind":"step","step":5,"loss":1}"#, #"{"kind":"step","step":10,"loss":1}"#,
                     #"{"kind":"evaluation","step":10,"split":"test"}"#, #"{"kind":"step","step":15,"loss":1}"#,
                     #"{"kind":"evaluation","step":20,"split":"test"}"#, #"{"kind":"step","st"#]
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
        #expect(try TrainingCheckpoint.discardLogRecords(after: 10, in: url) == 3)
        #expect(try String(contentsOf: url, encoding: .utf8) == lines[0..<3].joined(separator: "\n") + "\n")
        #expect(try TrainingCheckpoint.discardLogRecords(after: 10, in: url) == 0)
        #expect(try TrainingCheckpoint.discardLogRecords(after: 10, in: dir.appendingPathComponent("none.jsonl")) == 0)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("none.jsonl").path))
    }

    // MARK: - Comparisons

    func comparisonSettings() throws -> ComparisonSettings {
        var s = ComparisonSettings(task: TaskSpec(name: .adding, length: 5),
                                   models: [try ModelSpec(parsing: "irnn"), try ModelSpec(parsing: "lstm:hidden=4")], steps: 30, seeds: 1)
        s.hidden = 6
        s.batchSize = 8
        s.evaluateEvery = 10
        s.checkpointEvery = 4
        s.learningRate = 0.01
        return s
    }

    /// A run's result without its wall-clock times (which differ between any two runs).
    func timeless(_ r: RunResult) -> RunResult {
        var r = r
        r.seconds = 0
        r.secondsPerStep = 0
        r.targetSeconds = r.targetSeconds.map { _ in 0 }
        r.curve = r.curve.map { var p = $0; p.seconds = 0; return p }
        return r
    }

    @Test func aComparisonKilledMidRunResumesToTheSameResults() throws {
        let s = try comparisonSettings()
        let straight = try Comparison(settings: s, directory: try temporaryDirectory()).run()
        let dir = try temporaryDirectory()
        let comparison = try Comparison(settings: s, directory: dir)
        // shouldStop is polled before each run and after each step. The first run finishes
        // (1 + 30 polls); the second stops after its step 16, then (resumed) after step 20.
        var polls = 0
        _ = try comparison.run(shouldStop: { polls += 1; return polls == 31 + 1 + 16 })
        let run = comparison.runDirectory(s.models[1], seed: 1)
        let checkpoint = run.appendingPathComponent("checkpoint.safetensors")
        let behind = try Data(contentsOf: checkpoint)
        polls = 0
        _ = try comparison.run(shouldStop: { polls += 1; return polls == 1 + 1 + 4 })
        #expect(try SafeTensorsFile(contentsOf: checkpoint).metadata["step"] == "20")
        // What a kill -9 in the save of step 24 leaves: records logged after the save of step
        // 20 (one cut mid-line), a model file one save behind its training state, and a
        // temporary file of the save.
        try behind.write(to: checkpoint)
        try Data("partial".utf8).write(to: run.appendingPathComponent(".checkpoint.state.safetensors.tmp-9e"))
        let log = try FileHandle(forWritingTo: run.appendingPathComponent("log.jsonl"))
        try log.seekToEnd()
        try log.write(contentsOf: Data(#"{"kind":"evaluation","step":30,"split":"test","loss":9,"metric":9,"metricName":"mse","seconds":1}"#.utf8 + [0x0A] + #"{"kind":"st"#.utf8))
        try log.close()

        var notes: [String] = [], resumedAt: Int?
        let resumed = try comparison.run(observer: { event in
            if case .runRecovered(_, _, let note) = event { notes.append(note) }
            if case .runStarted(_, _, let at?) = event { resumedAt = at }
        })
        #expect(resumedAt == 20)
        #expect(notes.count == 2 && notes.contains { $0.contains("temporary file") } && notes.contains { $0.contains("was at step 16") }, "\(notes)")
        #expect(resumed.map(timeless) == straight.map(timeless))
    }

    @Test func aComparisonKilledBetweenItsFinalSaveAndItsResultDoesNotTrainAgain() throws {
        let s = try comparisonSettings()
        let dir = try temporaryDirectory()
        let comparison = try Comparison(settings: s, directory: dir)
        let first = try comparison.run()
        let run = comparison.runDirectory(s.models[0], seed: 1)
        try FileManager.default.removeItem(at: run.appendingPathComponent("result.json"))
        var resumedAt: Int?, trained = false
        let again = try comparison.run(observer: { event in
            if case .runStarted(_, _, let at?) = event { resumedAt = at }
            if case .training = event { trained = true }
        })
        #expect(resumedAt == 30 && !trained)
        #expect(again.map(timeless) == first.map(timeless), "no second evaluation at the last step")
    }
}
