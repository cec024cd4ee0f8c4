import Foundation
import Testing
@testable import Recurrent

/// The coupled oscillatory RNN (Rusch & Mishra 2021) against the authors' update rule run in
/// NumPy (`Fixtures/make_cornn_fixture.py`: states, outputs, loss, gradients by central
/// differences and two SGD steps), and through checkpoints and the command line. The
/// finite-difference checks of its BPTT are among `GradientCheckTests`' cases.
@Suite("coRNN: the authors' rule, checkpoints, command line")
struct CoRNNTests {
    static func fixture() throws -> SafeTensorsFile {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/cornn_reference", withExtension: "safetensors"))
        return try SafeTensorsFile(contentsOf: url)
    }

    /// The fixture's state_dict part, as PyTorch would save it: tensors, `cell`, `dt`, `gamma`, `epsilon`.
    static func stateDict(_ file: SafeTensorsFile) -> SafeTensorsFile {
        SafeTensorsFile(tensors: file.tensors.filter { !$0.key.hasPrefix("ref.") }, metadata: file.metadata)
    }

    func expectClose(_ ours: [Double], _ theirs: [Double], rtol: Double, atol: Double, _ what: String) {
        #expect(ours.count == theirs.count, "\(what): \(ours.count) vs \(theirs.count) values")
        let worst = zip(ours, theirs).filter { !isClose($0, $1, rtol: rtol, atol: atol) }
        #expect(worst.count == 0, "\(what): values differ, e.g. \(worst.prefix(3))")
    }

    @Test func matchesTheAuthorsUpdateRuleInNumPy() throws {
        let file = try Self.fixture()
        func ref(_ name: String) throws -> [Double] { try #require(file.tensors["ref." + name], "ref.\(name)").doubles() }
        // Read as a file from PyTorch: the cell from the tensor names, dt, gamma, epsilon from the metadata.
        let config = try Checkpoint.configuration(of: Self.stateDict(file))
        #expect(config.cell == .cornn && config.inputSize == 2 && config.hiddenSize == 4 && config.layers == 1 && config.outputs == 1)
        #expect(config[.cornnStep] == 0.2 && config[.cornnGamma] == 2 && config[.cornnEpsilon] == 1.5)
        let model = try Checkpoint.fill(try makeModel(CoRNNCell<Double>.self, config, seed: 0), from: Self.stateDict(file))
        #expect(model.layers[0].dt == 0.2 && model.layers[0].gamma == 2 && model.layers[0].epsilon == 1.5)

        let (b, t, i) = (3, 6, 2)
        let x = SequenceBatch<Double>(batch: b, steps: t, features: i, values: try ref("inputs"))
        let y = Targets<Double>.values(try ref("targets"), columns: 1)
        let result = try model.gradients(x, y, loss: .meanSquaredError)
        let trace = result.pass.traces[0]
        // hy_0 ... hy_T and hz_0 ... hz_T, [T+1, B, H] in both (time-major rows t*B + b).
        expectClose(trace.hidden.matrix().storage, try ref("hy"), rtol: 1e-12, atol: 1e-14, "hy")
        expectClose(trace.memory.matrix().storage, try ref("hz"), rtol: 1e-12, atol: 1e-14, "hz")
        expectClose(result.pass.outputs.storage, try ref("outputs"), rtol: 1e-12, atol: 1e-14, "outputs")
        #expect(isClose(result.loss, try ref("loss")[0], rtol: 1e-12))
        // Our BPTT against the authors' loss differentiated numerically (step 1e-6: ~1e-10).
        result.gradients.forEachTensor { _, name, g in
            expectClose(g.storage, (try? ref("grad." + name)) ?? [], rtol: 1e-6, atol: 1e-9, "grad.\(name)")
        }
        // Two plain SGD steps on the same batch.
        var trained = model
        var sgd = SGD<Double>(learningRate: 0.5)
        for _ in 0..<2 {
            let r = try trained.gradients(x, y, loss: .meanSquaredError)
            trained.apply(r.gradients, using: &sgd)
        }
        trained.forEachParameter { _, name, m in
            expectClose(m.storage, (try? ref("sgd2." + name)) ?? [], rtol: 1e-8, atol: 1e-10, "after two SGD steps: \(name)")
        }
    }

    /// The Float model (fast kernels: the AVX2 tanh) within Float32's rounding of the reference.
    @Test(arguments: Compute.Backend.allCases)
    func floatModelIsWithinFloatRounding(_ backend: Compute.Backend) throws {
        let file = try Self.fixture()
        let config = try Checkpoint.configuration(of: Self.stateDict(file))
        let model = try Checkpoint.fill(try makeModel(CoRNNCell<Float>.self, config, seed: 0), from: Self.stateDict(file))
        let x = SequenceBatch<Float>(batch: 3, steps: 6, features: 2, values: try #require(file.tensors["ref.inputs"]).floats())
        let pass = Compute.$backend.withValue(backend) { model.forward(x) }
        let hy = try #require(file.tensors["ref.hy"]).doubles()
        expectClose(pass.traces[0].hidden.matrix().storage.map(Double.init), hy, rtol: 1e-5, atol: 1e-6, "hy (\(backend))")
    }

    @Test func checkpointsKeepTheWeightsAndTheHyperparameters() throws {
        var config = try ModelConfiguration.preset("cornn", inputSize: 3, hiddenSize: 5, layers: 2, outputs: 2, readout: .everyStep)
        #expect(config[.cornnStep] == 0.076 && config[.cornnGamma] == 0.4 && config[.cornnEpsilon] == 8)   // the authors' psMNIST values
        config[.cornnStep] = 0.05
        var rng = SeededGenerator(seed: 1)
        let model = try #require(try AnyRecurrentModel(config, using: &rng).model(as: CoRNNCell<Float>.self))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cornn-\(UInt64.random(in: 0...UInt64.max)).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.save(model, to: url, configuration: config)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.metadata["cell"] == "cornn" && file.metadata["dt"] == "0.05" && file.metadata["gamma"] == "0.4"
                && file.metadata["epsilon"] == "8.0")
        #expect(file.tensors.keys.sorted() == CoRNNCell<Float>.parameterNames(layers: 2).sorted())
        #expect(file.tensors["rnn.weight_hz_l1"]?.shape == [5, 5] && file.tensors["rnn.bias_ih_l0"]?.shape == [5])
        let loaded = try Checkpoint.load(from: url)
        #expect(loaded.configuration == config)
        let back = try #require(loaded.model.model(as: CoRNNCell<Float>.self))
        #expect(back.layers.map(\.parameters) == model.layers.map(\.parameters) && back.layers[1].dt == 0.05)
        let x = randomBatch(batch: 2, steps: 4, features: 3, seed: 2, as: Float.self)
        #expect(back.predict(x).outputs == model.predict(x).outputs)
        // Without the configuration JSON the metadata keys carry the hyper-parameters; a bad one is named.
        var bare = file
        bare.metadata[Checkpoint.configurationKey] = nil
        #expect(try Checkpoint.configuration(of: bare)[.cornnStep] == 0.05)
        bare.metadata["dt"] = "fast"
        #expect(catchMessage { _ = try Checkpoint.configuration(of: bare) }.contains("metadata 'dt' = 'fast' is not a number"))
    }

    /// The authors' default initialisation: every tensor U(-1/sqrt(I + 2H), 1/sqrt(I + 2H)).
    @Test func pytorchDefaultIsTheAuthorsLinearLayer() throws {
        let config = try ModelConfiguration.preset("cornn", inputSize: 3, hiddenSize: 40, outputs: 1)
        let model = try makeModel(CoRNNCell<Double>.self, config, seed: 5)
        let bound = 1 / Double(3 + 80).squareRoot()
        for m in model.layers[0].parameters.tensors {
            #expect(m.maxAbs <= bound && m.maxAbs > 0.8 * bound, "max |w| \(m.maxAbs), bound \(bound)")
        }
    }

    @Test func theDiagnosisReportsTheSpectraOfBothMatrices() throws {
        let config = try ModelConfiguration.preset("cornn", inputSize: 2, hiddenSize: 4, outputs: 1)
        var rng = SeededGenerator(seed: 3)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cornn-diag-\(UInt64.random(in: 0...UInt64.max)).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.save(try AnyRecurrentModel(config, using: &rng), to: url, configuration: config)
        let d = try Diagnosis(checkpoint: url, length: 10, batch: 2, seed: 1)
        #expect(d.runs.isEmpty && d.gateSpectra.map(\.gate) == ["y", "z"])
        #expect(d.notes.contains { $0.hasPrefix("coRNN:") && $0.contains("not diagnosed") })
    }

    // MARK: - Command line

    @Test func trainResumeEvalAndCellOptionsThroughTheBinary() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = CLI.tinyAdding + ["--cell", "cornn", "--cell-option", "dt=0.1,gamma=2", "--cell-option", "epsilon=3"]
        let first = try CLI.run(args + ["--steps", "10", "--name", "resumed"], in: dir)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.stdout.contains("1-layer cornn (dt 0.1, gamma 2.0, epsilon 3.0), I=2, H=6"), "\(first.stdout)")
        let second = try CLI.run(["train", "--resume", "checkpoints/resumed.safetensors", "--steps", "20"], in: dir)
        #expect(second.status == 0 && second.stdout.contains("resuming at step 10"), "\(second.output)")
        let straight = try CLI.run(args + ["--steps", "20", "--name", "straight"], in: dir)
        #expect(straight.status == 0, "\(straight.output)")
        let c = dir.appendingPathComponent("checkpoints")
        #expect(try CLI.sameTensors(c.appendingPathComponent("resumed.safetensors"), c.appendingPathComponent("straight.safetensors")))
        #expect(try CLI.sameTensors(c.appendingPathComponent("resumed.state.safetensors"), c.appendingPathComponent("straight.state.safetensors")))
        let meta = try SafeTensorsFile(contentsOf: c.appendingPathComponent("straight.safetensors")).metadata
        #expect(meta["dt"] == "0.1" && meta["gamma"] == "2.0" && meta["epsilon"] == "3.0")
        let eval = try CLI.run(["eval", "--checkpoint", "checkpoints/straight.safetensors"], in: dir)
        #expect(eval.status == 0 && eval.stdout.contains("cornn (dt 0.1"), "\(eval.output)")
        // Options that do not fit: another cell's hyper-parameter, a value out of range, an unknown name.
        let foreign = try CLI.run(CLI.tinyAdding + ["--cell", "lstm", "--cell-option", "dt=0.1"], in: dir)
        #expect(foreign.status == 64 && foreign.stderr.contains("applies to cornn only, not lstm"), "\(foreign.stderr)")
        let negative = try CLI.run(CLI.tinyAdding + ["--cell", "cornn", "--cell-option", "dt=-1"], in: dir)
        #expect(negative.status == 64 && negative.stderr.contains("--cell-option dt: the coRNN step dt must be a finite positive number"), "\(negative.stderr)")
        let unknown = try CLI.run(CLI.tinyAdding + ["--cell", "cornn", "--cell-option", "omega=1"], in: dir)
        #expect(unknown.status == 64 && unknown.stderr.contains("dt") && unknown.stderr.contains("epsilon"), "\(unknown.stderr)")
    }

    @Test func compareAndBenchTakeTheCell() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let compare = try CLI.run(["compare", "--task", "adding", "--length", "5", "--models", "cornn,cornn:dt=0.05", "--steps", "6",
                                   "--hidden", "4", "--batch", "4", "--report", "out"], in: dir)
        #expect(compare.status == 0, "\(compare.output)")
        let runs = try String(contentsOf: dir.appendingPathComponent("out/runs.jsonl"), encoding: .utf8)
        #expect(runs.contains("\"cornn\"") && runs.contains("cornn:dt=0.05"), "\(runs)")
        let bad = try CLI.run(["compare", "--models", "cornn:dt=0", "--report", "out2"], in: dir)
        #expect(bad.status == 64 && bad.stderr.contains("dt"), "\(bad.stderr)")
        let bench = try CLI.run(["bench", "--cell", "cornn", "--hidden", "8", "--input", "2", "--seq-len", "5", "--batch", "4",
                                 "--classes", "1", "--steps", "2", "--warmup", "0", "--json"], in: dir)
        #expect(bench.status == 0, "\(bench.output)")
        let record = try CLI.json(bench)
        #expect(record["cell"] as? String == "cornn")
        // forward FLOPs: 2 B T (H I + 2 H H) + 2 B H C = 2*4*5*(16 + 128) + 2*4*8*1
        #expect(record["fwd_flops_per_step"] as? Double == 5824)
    }
}
