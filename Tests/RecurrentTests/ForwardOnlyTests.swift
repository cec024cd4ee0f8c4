import Testing
@testable import Recurrent

/// The forward-only pass (`RecurrentModel.forwardOnly`, behind evaluation, `predict` and
/// `bench --inference`) gives the bits of the training forward pass (`forward`) for every
/// cell: one-way and bidirectional, equal and uneven lengths (packed semantics), last-step
/// and per-step readouts, a given initial state, windows of 1, 3 and all steps, 1 and 2
/// threads. The training forward is the oracle.
@Suite struct ForwardOnlyTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var kind: CellKind
        var readout: Readout
        var bidirectional: Bool
        var uneven: Bool
        var testDescription: String {
            "\(kind.rawValue) \(readout.rawValue)\(bidirectional ? " bidirectional" : "")\(uneven ? " uneven" : "")"
        }
    }

    static let cases: [Case] = CellRegistry.cells.map { $0.kind }.flatMap { kind in
        [Readout.lastStep, .everyStep].flatMap { readout in
            [false, true].flatMap { bidirectional in
                [false, true].map { Case(kind: kind, readout: readout, bidirectional: bidirectional, uneven: $0) }
            }
        }
    }

    static func configuration(_ c: Case, hidden: Int = 19, layers: Int = 2) -> ModelConfiguration {
        var config = ModelConfiguration(cell: c.kind, activation: CellRegistry.cell(c.kind).fixedActivation ?? .relu,
                                        inputSize: 3, hiddenSize: hidden, layers: layers, outputs: 4, readout: c.readout,
                                        inputInit: .uniform(bound: 0.5), recurrentInit: .uniform(bound: 0.3),
                                        biasInit: .uniform(bound: 0.2))
        config.bidirectional = c.bidirectional
        return config
    }

    /// Bits of (outputs, final state) of both passes, per thread count and window.
    struct Compare: ModelVisitor {
        var inputs: SequenceBatch<Float>
        var initial: Bool
        var chunks: [Int?]

        func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> [String] where Cell.Scalar == Float {
            var failures: [String] = []
            let state: RecurrentState<Float>? = initial ? RecurrentState(layers: model.zeroState(batch: inputs.batch).layers.enumerated().map { k, s in
                var rng = SeededGenerator(seed: 40 + UInt64(k))
                var out = s
                for i in out.hidden.storage.indices { out.hidden.storage[i] = Float(Draw.uniform(-0.5, 0.5, &rng)) }
                for i in out.memory.storage.indices { out.memory.storage[i] = Float(Draw.uniform(-0.5, 0.5, &rng)) }
                return out
            }) : nil
            let oracle = Compute.$threads.withValue(1) { model.forward(inputs, initial: state) }
            let expected = (oracle.outputs.storage, oracle.finalState.layers.map { $0.hidden.storage + $0.memory.storage })
            for threads in [1, 2] {
                for chunk in chunks {
                    var workspace = ModelWorkspace<Float>()
                    workspace.forwardOnlyChunkSteps = chunk
                    for run in 0..<2 {                              // the second run reuses the workspace's traces
                        let got = Compute.$threads.withValue(threads) { model.forwardOnly(inputs, initial: state, workspace: &workspace) }
                        let finals = got.finalState.layers.map { $0.hidden.storage + $0.memory.storage }
                        if got.outputs.storage != expected.0 || got.outputs.shape != oracle.outputs.shape {
                            failures.append("outputs differ: \(threads) threads, window \(chunk.map(String.init) ?? "auto"), run \(run)")
                        }
                        if finals != expected.1 {
                            failures.append("final states differ: \(threads) threads, window \(chunk.map(String.init) ?? "auto"), run \(run)")
                        }
                    }
                }
            }
            return failures
        }
    }

    @Test(arguments: cases)
    func forwardOnlyGivesTheTrainingForwardsBits(_ c: Case) throws {
        var rng = SeededGenerator(seed: 3)
        let model = try AnyRecurrentModel(Self.configuration(c), using: &rng)
        var x = randomBatch(batch: 5, steps: 7, features: 3, seed: 4, as: Float.self)
        if c.uneven { x.lengths = [3, 7, 1, 5, 7] }
        for initial in [false, true] {
            let failures = try model.visit(Compare(inputs: x, initial: initial, chunks: [nil, 1, 3]))
            #expect(failures.isEmpty, "\(c.testDescription), initial state \(initial): \(failures.joined(separator: "; "))")
        }
    }

    /// H = 260: W_hh packed into panels (above 256), the other step kernels; one layer, B = 2.
    @Test(arguments: [CellKind.rnn, .lstm])
    func largeLayersToo(_ kind: CellKind) throws {
        var rng = SeededGenerator(seed: 5)
        let c = Case(kind: kind, readout: .lastStep, bidirectional: false, uneven: false)
        let model = try AnyRecurrentModel(Self.configuration(c, hidden: 260, layers: 1), using: &rng)
        let x = randomBatch(batch: 2, steps: 4, features: 3, seed: 6, as: Float.self)
        let failures = try model.visit(Compare(inputs: x, initial: false, chunks: [nil, 3]))
        #expect(failures.isEmpty, "\(kind): \(failures.joined(separator: "; "))")
    }

    /// The window: all T steps while they fit in 1 MiB (B = 1, T = 500, H = 100), else fewer (at least 1); and the
    /// evaluation of B = 500 sequences of T = 784 (sequential pixels, LSTM H = 100) needs a
    /// window of one step, a few MB, where the training trace holds about 2 GB.
    @Test func theWindowIsBounded() {
        #expect(ForwardOnlyTrace<Float>.chunkSteps(steps: 500, batch: 1, inputSize: 1, hiddenSize: 100, gateCount: 1,
                                                   hasMemory: false, requested: nil) == 500)
        let c = ForwardOnlyTrace<Float>.chunkSteps(steps: 784, batch: 500, inputSize: 1, hiddenSize: 100, gateCount: 4,
                                                   hasMemory: true, requested: nil)
        #expect(c == 1)
        let pass = ForwardOnlyTrace<Float>(steps: 784, batch: 500, inputSize: 1, hiddenSize: 100, gateCount: 4, hasMemory: true,
                                           keepOutputs: false)
        let w = pass.window
        let floats = w.inputs.rows * w.inputs.cols + 3 * w.preInput.rows * w.preInput.cols
            + w.hidden.rows * w.hidden.cols + w.memory.rows * w.memory.cols
        #expect(floats * 4 < 4_000_000, "window of \(floats) floats")
        #expect(pass.kept == nil)
        #expect(ForwardOnlyTrace<Float>.chunkSteps(steps: 5, batch: 1, inputSize: 1, hiddenSize: 1, gateCount: 1,
                                                   hasMemory: false, requested: 9) == 5)
    }
}

/// The memory estimate of evaluation and `predict` counts the forward-only pass's buffers:
/// exactly the `ForwardOnlyTrace`s a pass made, plus the next layer's input [T*B, D*H] per
/// layer that keeps its outputs.
@Suite struct ForwardOnlyMemoryTests {
    struct TraceBytes: ModelVisitor {
        var x: SequenceBatch<Float>
        func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> Double where Cell.Scalar == Float {
            var workspace = ModelWorkspace<Float>()
            _ = model.forwardOnly(x, workspace: &workspace)
            return workspace.forwardOnlyTraces.reduce(0.0) { sum, pass in
                guard let pass else { return sum }
                let w = pass.window
                let buffers = [w.inputs, w.preInput, w.preHidden, w.gates, w.hidden, w.memory, pass.first] + (pass.kept.map { [$0] } ?? [])
                return sum + 4 * Double(buffers.reduce(0) { $0 + $1.rows * $1.cols })
            }
        }
    }

    @Test(arguments: [("irnn", 1, Readout.lastStep), ("lstm", 2, .everyStep), ("gru", 3, .lastStep)])
    func theEstimateCountsTheWindows(_ preset: String, _ layers: Int, _ readout: Readout) throws {
        var config = try ModelConfiguration.preset(preset, inputSize: 5, hiddenSize: 30, outputs: 2)
        config.layers = layers
        config.readout = readout
        var rng = SeededGenerator(seed: 1)
        let model = try AnyRecurrentModel(config, using: &rng)
        let (b, t) = (300, 40)                                   // windows of fewer than T steps
        let actual = try model.visit(TraceBytes(x: randomBatch(batch: b, steps: t, features: 5, seed: 2, as: Float.self)))
        let part = try #require(MemoryEstimate.prediction(config, sequences: b, steps: t, batch: b).parts.first { $0.kind == .trace })
        let keeping = readout == .everyStep ? layers : layers - 1
        #expect(part.bytes - 4 * Double(keeping * t * b * 30) == actual, "estimated \(part.bytes), the pass made \(actual)")
        let full = try #require(MemoryEstimate.model(config, steps: t, batch: b, training: false).parts.first { $0.kind == .trace })
        #expect(part.bytes < full.bytes / 2, "forward-only \(part.bytes), training forward \(full.bytes)")
    }
}
