import Foundation
import Testing
@testable import Recurrent

/// The library's names (tasks, metrics, optimizers, stop reasons, model presets): every case
/// parses from its stored name and writes it back unchanged, an unknown name is refused with
/// the accepted ones, and files written before the names became types still read.
@Suite struct NamedCaseTests {
    /// Parses its name (and the name in capitals), encodes as the bare name, decodes back.
    func roundTrips<T: NamedCase & Codable & Equatable>(_ value: T) throws {
        #expect(try T(parsing: value.rawValue) == value)
        #expect(try T(parsing: value.rawValue.uppercased()) == value)
        #expect(value.description == value.rawValue, "interpolation writes the stored name")
        let json = try JSONEncoder().encode([value])
        #expect(String(decoding: json, as: UTF8.self) == "[\(JSONText.quoted(value.rawValue))]")
        #expect(try JSONDecoder().decode([T].self, from: json) == [value])
        #expect(T.names.contains(value.rawValue) && T.accepted.contains(value.rawValue))
    }

    @Test(arguments: TaskKind.allCases) func taskKinds(_ k: TaskKind) throws { try roundTrips(k) }
    @Test(arguments: TaskMetric.allCases) func metrics(_ m: TaskMetric) throws { try roundTrips(m) }
    @Test(arguments: OptimizerKind.allCases) func optimizers(_ o: OptimizerKind) throws { try roundTrips(o) }
    @Test(arguments: StopReason.allCases) func stopReasons(_ r: StopReason) throws { try roundTrips(r) }
    @Test(arguments: ModelPreset.allCases) func presets(_ p: ModelPreset) throws {
        try roundTrips(p)
        _ = try ModelConfiguration.preset(p.rawValue, inputSize: 2, hiddenSize: 3, outputs: 1)   // every listed preset builds
    }

    @Test func theStoredNamesAreThoseOfTheFirstRelease() {
        #expect(TaskKind.names == ["adding", "copy", "smnist", "pmnist", "rowmnist", "charlm", "tensors"])
        #expect(TaskMetric.names == ["mse", "accuracy", "bpc"])
        #expect(OptimizerKind.names == ["sgd", "rmsprop", "adam", "adamw"])
        // The first release's stop reasons, then early stopping's (#15).
        #expect(StopReason.names == ["completed", "target reached", "interrupted", "diverged", "early stopped"])
        #expect(ModelPreset.names == ModelConfiguration.presetNames)
    }

    /// An unknown name: a `ConfigurationError` that quotes it and lists every accepted name.
    func refusesUnknown<T: NamedCase>(_ type: T.Type, _ text: String) {
        do {
            _ = try T(parsing: text)
            Issue.record("'\(text)' parsed as a \(T.noun)")
        } catch {
            #expect(error.message == "unknown \(T.noun) '\(text)'. Accepted: \(T.names.joined(separator: ", ")).")
        }
    }

    @Test func unknownNamesAreRefusedWithTheList() {
        refusesUnknown(TaskKind.self, "chess")
        refusesUnknown(TaskMetric.self, "f1")
        refusesUnknown(OptimizerKind.self, "adagrad")
        refusesUnknown(StopReason.self, "bored")
        refusesUnknown(ModelPreset.self, "transformer")
        refusesUnknown(TaskKind.self, "")
        #expect(throws: ConfigurationError.self) { try TaskKind(parsing: String(repeating: "x", count: 500)) }
    }

    /// A model spec's optimizer goes through the same list.
    @Test func aModelSpecsOptimizerIsAnOptimizerKind() throws {
        #expect(try ModelSpec(parsing: "irnn:optimizer=RMSProp").optimizerSpec(over: OptimizerSpec()).kind == .rmsprop)
        #expect(throws: ConfigurationError.self) { try ModelSpec(parsing: "irnn:optimizer=adagrad") }
    }

    /// `recurrent.train` as the binary of 9966136 wrote it (read from a checkpoint it made).
    static let firstReleaseSpec = #"{"optimizer":{"optimizer":"adam","schedule":"constant","nesterov":false,"clipNorm":1},"run":{"batch":8,"evalEvery":0,"checkpointEvery":1000,"logEvery":10,"seed":7,"steps":30},"task":{"limit":40,"length":6,"name":"adding"}}"#

    @Test func aSpecOfTheFirstReleaseReadsAndWritesTheSameKeys() throws {
        let spec = try #require(TrainSpec.stored(in: [TrainSpec.metadataKey: Self.firstReleaseSpec]))
        #expect(spec.task == TaskSpec(name: .adding, length: 6, limit: 40))
        #expect(spec.optimizer == OptimizerSpec(kind: .adam, clipNorm: 1))
        #expect(spec.run == RunSpec(steps: 30, batch: 8, seed: 7, evalEvery: 0, logEvery: 10, checkpointEvery: 1000))
        let written = try JSONSerialization.jsonObject(with: Data(spec.json.utf8)) as? NSDictionary
        let first = try JSONSerialization.jsonObject(with: Data(Self.firstReleaseSpec.utf8)) as? NSDictionary
        #expect(written == first, "no key added, renamed or dropped: \(spec.json)")
    }

    /// A checkpoint pair written by the binary of 9966136 (Fixtures/checkpoint-9966136: 30 steps
    /// of the adding problem) resumes, and ends with the bits of a run of today from step 0.
    @Test func aCheckpointOfTheFirstReleaseResumesToTheSameBits() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fixtures = try #require(Bundle.module.url(forResource: "Fixtures/checkpoint-9966136", withExtension: nil))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("old"), withIntermediateDirectories: true)
        for file in ["adding-irnn.safetensors", "adding-irnn.state.safetensors"] {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(file), to: dir.appendingPathComponent("old/\(file)"))
        }
        let resumed = try CLI.run(["train", "--resume", "old/adding-irnn.safetensors", "--steps", "40", "--json"], in: dir)
        #expect(resumed.status == 0, "\(resumed.output)")
        let fresh = try CLI.run(["train", "--task", "adding", "--length", "6", "--cell", "irnn", "--hidden", "6", "--batch", "8", "--limit", "40",
                                 "--seed", "7", "--steps", "40", "--name", "fresh", "--json"], in: dir)
        #expect(fresh.status == 0, "\(fresh.output)")
        let old = dir.appendingPathComponent("old/adding-irnn.safetensors"), new = dir.appendingPathComponent("checkpoints/fresh.safetensors")
        #expect(try CLI.sameTensors(old, new))
        #expect(try GoldenCheckpointTests.hash([old, TrainingCheckpoint.sidecarURL(for: old)])
                == GoldenCheckpointTests.hash([new, TrainingCheckpoint.sidecarURL(for: new)]))
    }

    @Test(arguments: [(["train", "--task", "chess"], "chess"), (["train", "--optimizer", "adagrad"], "adagrad"),
                      (["compare", "--task", "chess", "--report", "out"], "chess"), (["compare", "--models", "irnn:optimizer=adagrad", "--report", "out"], "adagrad")])
    func theCommandLineListsTheNamesItAccepts(_ arguments: [String], _ bad: String) throws {
        let r = try CLI.run(arguments, in: try CLI.directory())
        #expect(r.status == 64, "\(r.output)")
        let names = bad == "chess" ? TaskKind.names : OptimizerKind.names
        #expect(r.stderr.contains(bad) && names.allSatisfy { r.stderr.contains($0) }, "\(r.stderr)")
    }
}
