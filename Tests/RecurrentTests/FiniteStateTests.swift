import Foundation
import Testing
@testable import Recurrent

/// Finite or nothing, in the library: a step that leaves anything non-finite is undone
/// exactly; checkpoints holding NaN or infinity are neither written nor (by default) read;
/// the divergence report formats any number without trapping.
@Suite("Finite or nothing: training state and checkpoints")
struct FiniteStateTests {
    static func adding() throws -> Trainer<RNNCell<Float>> {
        let config = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 12, outputs: 1)
        var rng = SeededGenerator(seed: 1)
        var options = TrainingOptions(steps: 100, batchSize: 8)
        options.clipNorm = 1
        return try Trainer(model: try RecurrentModel<RNNCell<Float>>(config, using: &rng),
                           optimizer: try OptimizerChoice(.adam, learningRate: 0.01, momentum: nil, weightDecay: nil),
                           task: try AddingTask(length: 6, testSize: 50), options: options, configuration: config, seed: 7)
    }

    /// A task with a data position and a carried state (truncated BPTT).
    static func charlm() throws -> Trainer<RNNCell<Float>> {
        var rng = SeededGenerator(seed: 3)
        let words = ["the", "cat", "sat", "on", "a", "mat"]
        let text = try CharacterText(text: (0..<300).map { _ in words[Draw.index(below: words.count, &rng)] }.joined(separator: " "))
        let task = try CharacterLMTask(text: text, bptt: 5)
        let config = ModelConfiguration(cell: .rnn, activation: .tanh, inputSize: task.inputSize, hiddenSize: 10, layers: 1,
                                        outputs: task.outputSize, readout: .everyStep)
        var options = TrainingOptions(steps: 100, batchSize: 3)
        options.clipNorm = 1
        return try Trainer(model: try RecurrentModel<RNNCell<Float>>(config, using: &rng),
                           optimizer: try OptimizerChoice(.adam, learningRate: 0.01, momentum: nil, weightDecay: nil),
                           task: task, options: options, configuration: config, seed: 7)
    }

    /// AdamW with lr = decay = 1e20: p (1 - lr λ) = p · (-inf) for every weight, from a finite
    /// loss and finite gradients, so only the check after the update can see it.
    static func sabotage(_ t: inout Trainer<RNNCell<Float>>, _ on: Bool) {
        guard case .adam(var a) = t.optimizer else { return }
        a.decoupledWeightDecay = on
        a.weightDecay = on ? 1e20 : 0
        t.optimizer = .adam(a)
        t.baseLearningRate = on ? 1e20 : 0.01
    }

    struct State: Equatable {
        var layers: [CellParameters<Float>]
        var head: Linear<Float>
        var optimizer: OptimizerState<Float>
        var rng: SeededGenerator
        var step: Int
        var position: [String: Int]
        var carried: RecurrentState<Float>?
        init(_ t: Trainer<RNNCell<Float>>) {
            layers = t.model.layers.map(\.parameters)
            head = t.model.head
            optimizer = t.optimizer.state
            rng = t.rng
            step = t.step
            position = t.task.position
            carried = t.carried
        }
    }

    @Test(arguments: ["adding", "charlm"])
    func aStepThatLeavesNonFiniteWeightsIsUndoneExactly(_ task: String) throws {
        let make = task == "adding" ? Self.adding : Self.charlm
        var reference = try make()
        for _ in 0..<6 { _ = try reference.trainStep() }

        var t = try make()
        for _ in 0..<5 { _ = try t.trainStep() }
        let before = State(t)
        if task == "charlm" { #expect(before.carried != nil && !before.position.isEmpty, "the charlm task carries a state and a position") }
        Self.sabotage(&t, true)
        do {
            _ = try t.trainStep()
            Issue.record("an update to -inf weights was not caught")
        } catch let d as TrainingDivergence {
            #expect(d.step == 6 && d.keptStep == 5)
            guard case .state(let tensors) = d.cause else { Issue.record("cause \(d.cause)"); return }
            #expect(tensors.map(\.name).contains("rnn.weight_hh_l0") && tensors.map(\.name).contains("head.bias"), "\(tensors)")
            #expect(d.description.contains("diverged at step 6") && d.description.contains("step 5")
                    && d.description.contains("rnn.weight_hh_l0"), "\(d)")
        }
        #expect(State(t) == before, "weights, optimizer state, generator, step, data position and carried state are those of step 5")
        #expect(t.nonFiniteState().isEmpty)

        // The same step again with the original settings: the bits of a run that never failed.
        Self.sabotage(&t, false)
        _ = try t.trainStep()
        #expect(State(t) == State(reference))
    }

    @Test func lossAndGradientDivergencesAlsoRestoreGeneratorAndPosition() throws {
        // W = 3 I with ReLU over 100 steps overflows in the forward pass: the batch was drawn
        // (the generator moved) before the loss was seen; the kept state is from before it.
        let config = ModelConfiguration(cell: .rnn, activation: .relu, inputSize: 2, hiddenSize: 6, layers: 1, outputs: 1,
                                        recurrentInit: .identity(scale: 3))
        var rng = SeededGenerator(seed: 1)
        var t = try Trainer(model: try RecurrentModel<RNNCell<Float>>(config, using: &rng),
                            optimizer: try OptimizerChoice(.sgd, learningRate: 0.1, momentum: nil, weightDecay: nil),
                            task: try AddingTask(length: 100, testSize: 10), options: TrainingOptions(steps: 5, batchSize: 4),
                            configuration: config, seed: 1)
        let before = State(t)
        #expect(throws: TrainingDivergence.self) { try t.trainStep() }
        #expect(State(t) == before)
    }

    @Test func aRunSavesTheLastFiniteStateAndNamesTheFile() throws {
        let dir = try CLI.directory()
        let url = dir.appendingPathComponent("run.safetensors")
        var t = try Self.adding()
        t.options.steps = 3
        _ = try t.run(checkpoint: nil)
        t.options.steps = 10
        let kept = State(t)
        Self.sabotage(&t, true)
        do {
            _ = try t.run(checkpoint: url)
            Issue.record("did not diverge")
        } catch let d as TrainingDivergence {
            #expect(d.checkpoint == url.path && d.keptStep == 3)
            #expect(d.description.contains("The last finite state (step 3") && d.description.contains(url.path), "\(d)")
        }
        let saved = try Checkpoint.load(from: url)
        #expect(saved.metadata["step"] == "3")
        let m = try #require(saved.model.model(as: RNNCell<Float>.self), "cell")
        #expect(m.layers.map(\.parameters) == kept.layers && m.head == kept.head)
        var resumed = try Self.adding()
        try TrainingCheckpoint.restore(&resumed, from: url)
        #expect(State(resumed) == kept)
    }

    // MARK: - Saving

    @Test func savingRefusesNonFiniteWeightsAndOptimizerState() throws {
        let dir = try CLI.directory()
        let url = dir.appendingPathComponent("c.safetensors")
        var t = try Self.adding()
        _ = try t.trainStep()
        try TrainingCheckpoint.save(t, to: url)
        let bytes = try Data(contentsOf: url), sidecar = try Data(contentsOf: TrainingCheckpoint.sidecarURL(for: url))

        var weights = t
        weights.model.layers[0].weightHH.storage[3] = .nan
        do {
            try TrainingCheckpoint.save(weights, to: url)
            Issue.record("a NaN weight was saved")
        } catch let e as NonFiniteTensorsError {
            #expect(e.operation == .saving && e.path == url.path)
            #expect(e.tensors.map(\.name) == ["rnn.weight_hh_l0"] && e.tensors[0].count == 1 && e.tensors[0].firstIndex == 3)
            #expect(e.description.contains("not written"))
        }
        #expect(throws: NonFiniteTensorsError.self) { try Checkpoint.save(weights.model, to: dir.appendingPathComponent("m.safetensors")) }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.safetensors").path))

        var optimizer = t
        var state = optimizer.optimizer.state
        var v = try #require(state.slots["exp_avg_sq"]?[1])
        v.storage[7] = .infinity
        state.set("exp_avg_sq", 1, v)
        optimizer.optimizer.state = state
        do {
            try TrainingCheckpoint.save(optimizer, to: url)
            Issue.record("an infinite optimizer buffer was saved")
        } catch let e as NonFiniteTensorsError {
            #expect(e.tensors.map(\.name) == ["optimizer.exp_avg_sq.rnn.weight_hh_l0"] && e.tensors[0].firstValue == .infinity)
        }
        #expect(try Data(contentsOf: url) == bytes && (try Data(contentsOf: TrainingCheckpoint.sidecarURL(for: url))) == sidecar,
                "a refused save leaves the files as they were")
    }

    // MARK: - Loading

    /// Rewrites one tensor of a safetensors file with NaN at 3 and -inf at 5.
    static func poison(_ url: URL, tensor: String) throws {
        var file = try SafeTensorsFile(contentsOf: url)
        let t = try #require(file.tensors[tensor])
        var values = try t.floats()
        values[3] = .nan
        values[5] = -.infinity
        file.tensors[tensor] = SafeTensor(floats: values, shape: t.shape)
        try file.write(to: url)
    }

    @Test func loadingRefusesNonFiniteWeightsUnlessAllowed() throws {
        let dir = try CLI.directory()
        let url = dir.appendingPathComponent("c.safetensors")
        var t = try Self.adding()
        _ = try t.trainStep()
        try TrainingCheckpoint.save(t, to: url)
        try Self.poison(url, tensor: "rnn.weight_hh_l0")
        do {
            _ = try Checkpoint.load(from: url)
            Issue.record("a NaN checkpoint loaded")
        } catch let e as NonFiniteTensorsError {
            #expect(e.operation == .loading && e.path == url.path)
            let bad = try #require(e.tensors.first)
            #expect(e.tensors.count == 1 && bad.name == "rnn.weight_hh_l0" && bad.count == 2 && bad.total == 144 && bad.firstIndex == 3)
            #expect(bad.firstValue.isNaN)
            #expect(e.description.contains("rnn.weight_hh_l0 (2 of 144 values; the first, at flat index 3, is nan)"), "\(e)")
        }
        let allowed = try Checkpoint.load(from: url, allowNonFinite: true)
        let m = try #require(allowed.model.model(as: RNNCell<Float>.self), "cell")
        #expect(m.layers[0].weightHH.storage[3].isNaN)
        #expect(m.predict(randomBatch(batch: 2, steps: 6, features: 2, seed: 1)).outputs.storage.allSatisfy { $0.isNaN },
                "the NaN shows in the outputs")
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(throws: NonFiniteTensorsError.self) { try Checkpoint.fill(t.model, from: file) }
        // Resuming reads the model from the training state (the resumable unit): poison its copy.
        try Self.poison(TrainingCheckpoint.sidecarURL(for: url), tensor: "model.rnn.weight_hh_l0")
        var resumed = try Self.adding()
        #expect(throws: NonFiniteTensorsError.self) { try TrainingCheckpoint.restore(&resumed, from: url) }
        #expect(resumed.step == 0)
    }

    @Test func resumingRefusesANonFiniteOptimizerState() throws {
        let dir = try CLI.directory()
        let url = dir.appendingPathComponent("c.safetensors")
        var t = try Self.adding()
        _ = try t.trainStep()
        try TrainingCheckpoint.save(t, to: url)
        try Self.poison(TrainingCheckpoint.sidecarURL(for: url), tensor: "optimizer.exp_avg_sq.rnn.weight_ih_l0")
        var resumed = try Self.adding()
        do {
            try TrainingCheckpoint.restore(&resumed, from: url)
            Issue.record("an infinite optimizer state was resumed")
        } catch {
            // The sidecar's own validation (SidecarValidation.swift) names the buffer first.
            let text = "\(error)"
            #expect(text.contains(TrainingCheckpoint.sidecarURL(for: url).path), "\(text)")
            #expect(text.contains("optimizer.exp_avg_sq.rnn.weight_ih_l0") && text.contains("must be finite"), "\(text)")
        }
        #expect(resumed.step == 0)
        _ = try Checkpoint.load(from: url)                     // the model file alone is fine
    }

    // MARK: - The report's numbers

    @Test(arguments: [7.6e35, -3.4e38, 1e300, 1.7976931348623157e308, 5e-324, -2.5e-310, 1e15, 123.456, 0, Double.nan, -Double.infinity] as [Double])
    func numbersFormatWithoutTrapping(_ x: Double) {
        let fixed = NumberText.fixed(x, digits: 3), scientific = NumberText.scientific(x)
        #expect(!fixed.isEmpty && !scientific.isEmpty)
        if x.isFinite && x != 0 {
            #expect(!scientific.contains("inf") && !scientific.contains("nan"), "\(x) -> \(scientific)")
            let back = Double(scientific) ?? .nan            // "1.80e+308" reads back as inf: rounded past the largest Double
            #expect(back.isInfinite ? abs(x) > 1.79e308 : abs(back - x) <= 0.006 * abs(x), "\(x) -> \(scientific)")
        }
        if abs(x) >= 1e15 && x.isFinite { #expect(fixed == scientific) }
    }

    @Test func theDivergenceReportFormatsHugeValues() {
        let d = TrainingDivergence(step: 2, cause: .loss, explodedAtTimeStep: 1, maxAbsHidden: .infinity,
                                   spectralRadius: 7.61e35, checkpoint: "/tmp/x.safetensors")
        #expect(d.description.contains("spectral radius of W is 7.61e+35") && d.description.contains("(step 1"), "\(d)")
        #expect(d.description.contains("/tmp/x.safetensors"))
    }
}
