import Foundation
import Testing
@testable import Recurrent

/// The training adapter: which scalars a run's events become, the layers' spectral radii,
/// and the committed fixture that TensorBoard's own reader read (make_tensorboard_fixture.py).
@Suite("TensorBoard: training scalars and the fixture TensorBoard read")
struct TensorBoardTrainingLogTests {
    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-tb-\(UInt64.random(in: 0...UInt64.max))")
    }

    static func step(_ step: Int, loss: Double, seconds: Double) -> StepRecord {
        StepRecord(step: step, loss: loss, metric: 1 - loss / 10, gradientNorm: loss * 2, clipped: loss > 0.5, learningRate: 0.001,
                   maxAbsHidden: 3 * loss, deadFraction: 0.125, seconds: seconds)
    }

    static func evaluation(_ split: EvaluationSplit, _ step: Int, loss: Double, seconds: Double) -> EvaluationRecord {
        EvaluationRecord(step: step, split: split, loss: loss, metric: 1 - loss / 10, metricName: .accuracy, seconds: seconds)
    }

    // MARK: Scalars

    @Test func aStepBecomesTheTrainGradLrHiddenAndThroughputScalars() throws {
        let log = try TensorBoardTrainingLog(directory: temporaryDirectory(), metricName: .accuracy, batchSize: 32, startStep: 100,
                                             hostname: "h", clock: { 1 })
        let first = log.scalars(Self.step(110, loss: 0.75, seconds: 0.5))
        #expect(first == [TensorBoardScalar("train/loss", 0.75), TensorBoardScalar("train/accuracy", 0.925),
                          TensorBoardScalar("grad/norm", 1.5), TensorBoardScalar("lr", 0.001), TensorBoardScalar("hidden/max_abs", 2.25),
                          TensorBoardScalar("hidden/dead_fraction", 0.125),
                          TensorBoardScalar("throughput/seq_per_s", 640)])   // 10 steps of 32 in 0.5 s, counted from the resumed step
        // An evaluation's time does not count: 10 steps in 2.5 - 2.0 s.
        try log.record(.evaluation(Self.evaluation(.validation, 110, loss: 0.5, seconds: 2.0)))
        let second = log.scalars(Self.step(120, loss: 0.5, seconds: 2.5))
        #expect(second.last == TensorBoardScalar("throughput/seq_per_s", 640))
        // No time passed (a frozen clock): no throughput rather than infinity.
        #expect(!log.scalars(Self.step(130, loss: 0.5, seconds: 2.5)).contains { $0.tag.hasPrefix("throughput") })
    }

    @Test func evaluationsAndSpectralRadiiAreGroupedBySplitAndLayer() {
        #expect(TensorBoardTrainingLog.scalars(Self.evaluation(.validation, 5, loss: 1, seconds: 0))
                == [TensorBoardScalar("val/loss", 1), TensorBoardScalar("val/accuracy", 0.9)])
        #expect(TensorBoardTrainingLog.scalars(Self.evaluation(.test, 5, loss: 2, seconds: 0)).map(\.tag) == ["test/loss", "test/accuracy"])
        let radii = SpectralRadiusRecord(step: 5, layers: [LayerSpectralRadius(layer: 0, gate: nil, value: 1.5),
                                                           LayerSpectralRadius(layer: 1, gate: "f", value: 0.25)])
        #expect(TensorBoardTrainingLog.scalars(radii) == [TensorBoardScalar("spectral_radius/l0", 1.5), TensorBoardScalar("spectral_radius/l1/f", 0.25)])
    }

    // MARK: Spectral radii

    func options() -> TrainingOptions {
        var o = TrainingOptions(steps: 6, batchSize: 4)
        o.logEvery = 2
        o.evaluateEvery = 3
        o.evaluationBatchSize = 50
        return o
    }

    func trainer<Cell: RecurrentCell>(_ preset: String, _ cell: Cell.Type, hidden: Int, layers: Int = 1) throws -> Trainer<Cell> where Cell.Scalar == Float {
        let config = try ModelConfiguration.preset(preset, inputSize: 2, hiddenSize: hidden, layers: layers, outputs: 1)
        var rng = SeededGenerator(seed: 3)
        let model = try RecurrentModel<Cell>(config, using: &rng)
        return try Trainer(model: model, optimizer: try OptimizerChoice(.adam, learningRate: 0.01, momentum: nil, weightDecay: nil),
                           task: try AddingTask(length: 4, testSize: 50), options: options(), configuration: config, seed: 3)
    }

    @Test func eachGateBlockOfAnLSTMHasItsOwnRadius() throws {
        var t = try trainer("lstm", LSTMCell<Float>.self, hidden: 2)
        // Blocks [2, 2] with known spectra: 0.5 I; diag(2, -3); a rotation (eigenvalues ±i); a nilpotent matrix.
        t.model.layers[0].weightHH = Matrix(rows: 8, cols: 2, [0.5, 0, 0, 0.5, 2, 0, 0, -3, 0, 1, -1, 0, 0, 5, 0, 0])
        let radii = t.recurrentSpectralRadii()
        #expect(radii.map(\.gate) == ["i", "f", "g", "o"] && radii.allSatisfy { $0.layer == 0 })
        let expected = [0.5, 3, 1, 0]
        for (r, e) in zip(radii, expected) { #expect(abs(r.value - e) < 1e-9, "gate \(r.gate ?? ""): \(r.value), expected \(e)") }
    }

    @Test func everyLayerOfAnIRNNAndAnIndRNNIsReported() throws {
        let irnn = try trainer("irnn", RNNCell<Float>.self, hidden: 5, layers: 2)
        #expect(irnn.recurrentSpectralRadii().map(\.layer) == [0, 1])
        for r in irnn.recurrentSpectralRadii() { #expect(abs(r.value - 1) < 1e-9 && r.gate == nil) }   // W = I
        var indrnn = try trainer("indrnn", IndRNNCell<Float>.self, hidden: 3)
        indrnn.model.layers[0].weightHH = Matrix(rows: 1, cols: 3, [0.5, -1.25, 1])
        #expect(indrnn.recurrentSpectralRadii() == [LayerSpectralRadius(layer: 0, gate: nil, value: 1.25)])   // W = diag(u)
    }

    @Test func aRunReportsRadiiAtTheStartAndAfterEachEvaluationOnlyWhenAsked() throws {
        for asked in [false, true] {
            var t = try trainer("irnn", RNNCell<Float>.self, hidden: 4)
            t.reportsSpectralRadii = asked
            var steps: [Int] = []
            _ = try t.run(checkpoint: nil, observer: { if case .spectralRadii(let r) = $0 { steps.append(r.step) } })
            #expect(steps == (asked ? [0, 3, 6] : []))
        }
    }

    // MARK: The fixture TensorBoard read

    @Test func theFixtureIsWhatOurWriterWritesTodayByteForByte() throws {
        let dir = temporaryDirectory()
        let files = try TensorBoardFixture.write(to: dir)
        if let out = ProcessInfo.processInfo.environment["TENSORBOARD_FIXTURE_OUT"] {
            // Regenerating: TENSORBOARD_FIXTURE_OUT=Tests/RecurrentTests/Fixtures/tensorboard_run swift test --filter TensorBoard
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for f in files { try Data(contentsOf: f).write(to: URL(fileURLWithPath: out).appendingPathComponent(f.lastPathComponent)) }
        }
        #expect(files.map(\.lastPathComponent) == TensorBoardFixture.fileNames)
        for f in files {
            let committed = try Data(contentsOf: URL(fileURLWithPath: try fixturePath("tensorboard_run/\(f.lastPathComponent)")))
            #expect(try Data(contentsOf: f) == committed, "\(f.lastPathComponent) differs from the fixture (new file left in \(dir.path))")
        }
    }

    /// What TensorBoard's reader found in the fixture files (tensorboard_read.json).
    func tensorBoardsReading() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: try fixturePath("tensorboard_read.json")))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func tensorBoardReadEveryEventWeWroteAndOnlyThose() throws {
        let reading = try tensorBoardsReading()
        let files = try #require(reading["files"] as? [[String: Any]])
        #expect(files.map { $0["name"] as? String } == TensorBoardFixture.fileNames)
        for (file, name) in zip(files, TensorBoardFixture.fileNames) {
            let ours = try TensorBoardEventFile.events(atPath: try fixturePath("tensorboard_run/\(name)"))
            let theirs = try #require(file["events"] as? [[String: Any]])
            #expect(theirs.count == ours.count, "\(name): TensorBoard read \(theirs.count) events, we wrote \(ours.count)")
            for (t, o) in zip(theirs, ours) {
                #expect(t["wall_time"] as? Double == o.wallTime && (t["step"] as? NSNumber)?.int64Value == o.step, "\(t) vs \(o)")
                switch o.content {
                case .fileVersion(let v): #expect(t["file_version"] as? String == v)
                case .sessionStart: #expect(t["session_log"] as? String == "START")
                case .scalars(let scalars):
                    let read = try #require(t["scalars"] as? [[String: Any]])
                    #expect(read.map { $0["tag"] as? String } == scalars.map(\.tag))
                    // Compared as Float, the type stored: Foundation's JSON parser on Linux can be a
                    // unit in the last place off on the widened Double that Python printed.
                    #expect(read.map { ($0["value"] as? Double).map { Float($0) } } == scalars.map(\.value))
                case .other: Issue.record("we never write other events")
                }
            }
        }
        #expect(try TensorBoardFixture.expectedEvents() == TensorBoardFixture.fileNames.map {
            try TensorBoardEventFile.events(atPath: try fixturePath("tensorboard_run/\($0)"))
        })
    }

    @Test func tensorBoardMergedTheResumedRunByStep() throws {
        let reading = try tensorBoardsReading()
        let curves = try #require(reading["scalars"] as? [String: [[Double]]])
        // The resumed run (from the checkpoint at step 20) replaces the first process's step 30.
        let expected = TensorBoardFixture.expectedCurves()
        #expect(Set(curves.keys) == Set(expected.keys))
        for (tag, points) in expected {
            let read = curves[tag] ?? []
            #expect(read.map { Int($0[0]) } == points.map(\.step), "\(tag) steps")
            #expect(read.map { $0[1] } == points.map(\.wallTime), "\(tag) wall times")
            #expect(read.map { Float($0[2]) } == points.map(\.value), "\(tag) values")
        }
        #expect(curves["train/loss"]?.map { Int($0[0]) } == [10, 20, 30, 40])
        #expect(curves["train/loss"]?[2][2] == 0.375, "step 30 comes from the resumed run")
    }
}

/// The committed TensorBoard fixture: a run of 30 steps that died after its checkpoint at
/// step 20, then resumed to step 40, written by `TensorBoardTrainingLog` with fixed clocks.
enum TensorBoardFixture {
    static let hostname = "fixture-host"
    static let fileNames = ["events.out.tfevents.1700000000.fixture-host", "events.out.tfevents.1700000100.fixture-host"]

    /// A clock that starts at `start` and advances 0.25 s per reading.
    static func clock(from start: Double) -> () -> Double {
        var t = start - 0.25
        return { t += 0.25; return t }
    }

    typealias T = TensorBoardTrainingLogTests

    /// (start step, clock start, events) of each process.
    static let processes: [(Int, Double, [TrainingEvent])] = [
        (0, 1_700_000_000, [
            .spectralRadii(SpectralRadiusRecord(step: 0, layers: [LayerSpectralRadius(layer: 0, gate: nil, value: 1),
                                                                   LayerSpectralRadius(layer: 1, gate: nil, value: 0.1)])),
            .step(T.step(10, loss: 2.25, seconds: 0.5)),
            .warning(TrainingWarning(message: "not a scalar")),
            .step(T.step(20, loss: 1.5, seconds: 1.0)),
            .evaluation(T.evaluation(.validation, 20, loss: 1.75, seconds: 1.5)),
            .evaluation(T.evaluation(.test, 20, loss: 1.8, seconds: 2.0)),
            .spectralRadii(SpectralRadiusRecord(step: 20, layers: [LayerSpectralRadius(layer: 0, gate: nil, value: 1.0625),
                                                                    LayerSpectralRadius(layer: 1, gate: nil, value: 0.3)])),
            .checkpoint(URL(fileURLWithPath: "/tmp/x.safetensors")),
            .step(T.step(30, loss: 1.25, seconds: 2.75)),   // orphaned: the process dies before its next checkpoint
        ]),
        (20, 1_700_000_100, [
            .step(T.step(30, loss: 0.375, seconds: 0.5)),
            .step(T.step(40, loss: 0.25, seconds: 1.25)),
            .evaluation(T.evaluation(.validation, 40, loss: 0.3, seconds: 1.5)),
            .evaluation(T.evaluation(.test, 40, loss: 0.35, seconds: 2.0)),
            .spectralRadii(SpectralRadiusRecord(step: 40, layers: [LayerSpectralRadius(layer: 0, gate: nil, value: 1.125),
                                                                    LayerSpectralRadius(layer: 1, gate: nil, value: 0.5)])),
        ]),
    ]

    /// Writes each process's event file into `directory`, in order.
    static func write(to directory: URL) throws -> [URL] {
        try processes.map { start, clockStart, events in
            let log = try TensorBoardTrainingLog(directory: directory, metricName: .accuracy, batchSize: 32, startStep: start,
                                                 hostname: hostname, clock: clock(from: clockStart))
            for e in events { try log.record(e) }
            return log.writer.url
        }
    }

    /// The events each file should hold, built here from the records (not by the adapter).
    static func expectedEvents() throws -> [[TensorBoardEvent]] {
        processes.map { start, clockStart, events in
            let now = clock(from: clockStart)
            var out = [TensorBoardEvent(wallTime: now(), step: 0, content: .fileVersion("brain.Event:2")),
                       TensorBoardEvent(wallTime: now(), step: Int64(start == 0 ? 0 : start + 1), content: .sessionStart)]
            var mark = (step: start, seconds: 0.0)
            for e in events {
                var scalars: [(String, Double)] = []
                let step: Int
                switch e {
                case .step(let r):
                    step = r.step
                    scalars = [("train/loss", r.loss), ("train/accuracy", r.metric), ("grad/norm", r.gradientNorm), ("lr", r.learningRate),
                               ("hidden/max_abs", r.maxAbsHidden), ("hidden/dead_fraction", r.deadFraction),
                               ("throughput/seq_per_s", Double((r.step - mark.step) * 32) / (r.seconds - mark.seconds))]
                    mark = (r.step, r.seconds)
                case .evaluation(let r):
                    step = r.step
                    let split = r.split == .validation ? "val" : "test"
                    scalars = [("\(split)/loss", r.loss), ("\(split)/accuracy", r.metric)]
                    mark.seconds = r.seconds
                case .spectralRadii(let r):
                    step = r.step
                    scalars = r.layers.map { ("spectral_radius/l\($0.layer)", $0.value) }
                default:
                    continue
                }
                out.append(TensorBoardEvent(wallTime: now(), step: Int64(step),
                                            content: .scalars(scalars.map { TensorBoardScalar($0.0, Float($0.1)) })))
            }
            return out
        }
    }

    /// Each tag's points as TensorBoard should show them: a session start at step s drops
    /// the earlier points at steps ≥ s.
    static func expectedCurves() -> [String: [(step: Int, wallTime: Double, value: Float)]] {
        var curves: [String: [(step: Int, wallTime: Double, value: Float)]] = [:]
        for file in (try? expectedEvents()) ?? [] {
            for e in file {
                switch e.content {
                case .sessionStart:
                    for tag in curves.keys { curves[tag]?.removeAll { $0.step >= Int(e.step) } }
                case .scalars(let scalars):
                    for s in scalars { curves[s.tag, default: []].append((Int(e.step), e.wallTime, s.value)) }
                default: break
                }
            }
        }
        return curves
    }
}
