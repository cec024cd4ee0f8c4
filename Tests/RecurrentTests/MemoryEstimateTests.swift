import Foundation
import Testing
@testable import Recurrent

/// The memory estimate follows the buffers the code really allocates, and refuses what
/// would not fit before anything is allocated.
@Suite("Validation: memory estimate")
struct MemoryEstimateTests {
    /// The forward trace part equals, byte for byte, the buffers of the `SequenceTrace`s a
    /// real forward pass keeps (inputs, pre-activations, gates, h_0...h_T, c_0...c_T).
    @Test(arguments: CellKind.allCases)
    func theForwardTraceEstimateIsTheTraceTheCodeAllocates(_ kind: CellKind) throws {
        let (t, b) = (7, 3)
        var config = try ModelConfiguration.preset(CellRegistry.cell(kind).presets[0].name, inputSize: 5, hiddenSize: 4, layers: 2, outputs: 2)
        config.readout = .everyStep
        var rng = SeededGenerator(seed: 1)
        let model = try AnyRecurrentModel(config, using: &rng)
        let x = randomBatch(batch: b, steps: t, features: 5, seed: 2, as: Float.self)
        struct TraceBytes: ModelVisitor {
            var x: SequenceBatch<Float>
            func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> Double where Cell.Scalar == Float {
                model.forward(x).traces.reduce(0.0) { sum, trace in
                    sum + 4 * Double([trace.inputs, trace.preInput, trace.preHidden, trace.gates, trace.hidden, trace.memory]
                        .reduce(0) { $0 + $1.rows * $1.cols })
                }
            }
        }
        let actual = try model.visit(TraceBytes(x: x))
        let estimate = MemoryEstimate.model(config, steps: t, batch: b, training: false)
        let trace = try #require(estimate.parts.first { $0.kind == .trace })
        #expect(trace.bytes == actual, "estimated \(trace.bytes) bytes, the forward pass kept \(actual)")
        let weights = try #require(estimate.parts.first { $0.kind == .weights })
        #expect(weights.bytes == 4 * Double(try model.visit(ParameterCount())))
    }

    struct ParameterCount: ModelVisitor {
        func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> Int where Cell.Scalar == Float { model.parameterCount }
    }

    /// Every part by hand for a 1-layer RNN, I = 2, H = 3, O = 1, T = 4, B = 5, Adam.
    @Test func aTrainingEstimateByHand() throws {
        let config = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 3, outputs: 1)
        #expect(config.parameterCount == 25)   // 3x2 + 3x3 + 3 + 3 + 1x3 + 1
        let e = MemoryEstimate.model(config, steps: 4, batch: 5, training: true, optimizerBuffers: 2)
        let weights = 4.0 * 4 * 25                        // weights, gradients, exp_avg, exp_avg_sq
        let forward: Double = 20 * 14 + 15                // T*B*(I + 3GH + H) + B*H
        let backward: Double = 20 * 5 + 15                // T*B*(GH + I) + B*H: dPreInput, dInputs, dHidden (an RNN has no dMemory)
        let trace = 4 * (forward + backward)
        let inputs: Double = 2 * 5 * 4 * 2                // batch-first and time-major
        let head: Double = 5 * 4 * 2                      // B*(H + O), with gradients
        let batch = 4 * (inputs + head)
        #expect(e.parts.map(\.bytes) == [weights, trace, batch])
        #expect(e.bytes == weights + trace + batch)
        #expect(e.parts[0].what == "the weights, gradients and optimizer state (4 x 25 parameters: 1 layer of 3 units, 2 inputs, 1 outputs)")
    }

    /// Above H = 256 a forward pass also keeps W_hh packed twice (panels of W_hhᵀ and of W_hh),
    /// counted as a part of its own (kind .weights): exactly the packed buffers a pass made.
    @Test func largeLayersCountThePackedWeights() throws {
        var rng = SeededGenerator(seed: 1)
        for (cell, h) in [("irnn", 256), ("irnn", 257), ("lstm", 300)] {
            let config = try ModelConfiguration.preset(cell, inputSize: 2, hiddenSize: h, outputs: 1)
            let model = try AnyRecurrentModel(config, using: &rng)
            struct Packed: ModelVisitor {
                var x: SequenceBatch<Float>
                func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> Double where Cell.Scalar == Float {
                    model.forward(x).traces.reduce(0.0) { sum, trace in
                        sum + 4 * Double((trace.packedRecurrentWeights.map { $0.transposed.cols + $0.plain.cols }) ?? 0)
                    }
                }
            }
            let packed = try model.visit(Packed(x: randomBatch(batch: 3, steps: 2, features: 2, seed: 1, as: Float.self)))
            #expect((packed > 0) == (h > 256), "\(cell) H = \(h): \(packed) bytes packed")
            let estimate = MemoryEstimate.model(config, steps: 2, batch: 3, training: false)
            let weights = estimate.parts.filter { $0.kind == .weights }.map(\.bytes)
            #expect(weights == [4 * Double(try model.visit(ParameterCount()))] + (h > 256 ? [packed] : []), "\(cell) H = \(h): \(weights)")
        }
    }

    @Test func theRefusalSaysWhatItWouldNeedAndWhy() throws {
        let config = try ModelConfiguration.preset("irnn", inputSize: 1, hiddenSize: 100_000, outputs: 10)
        let task = try AddingTask(length: 784, testSize: 10)
        var options = TrainingOptions(steps: 10, batchSize: 100_000_000)
        options.evaluationBatchSize = 10
        let estimate = MemoryEstimate.training(config, task: task, options: options, optimizer: .adam(Adam(learningRate: 1e-3)))
        #expect(estimate.largest?.kind == .trace)
        do {
            try estimate.check()
            Issue.record("\(MemoryEstimate.format(estimate.bytes)) fitted")
        } catch {
            let text = error.description
            #expect(text.hasPrefix("would need ") && text.contains("PB") && text.contains("of memory this machine has"), "\(text)")
            #expect(text.contains("the BPTT trace of 784 steps x 100000000 sequences x 100000 units"), "\(text)")
        }
        // Small runs pass, whatever the machine.
        try MemoryEstimate.training(try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 8, outputs: 1), task: try AddingTask(length: 10),
                                    options: TrainingOptions(steps: 1, batchSize: 4), optimizer: .adam(Adam(learningRate: 1e-3))).check()
    }

    @Test func theLimitIsThePhysicalMemoryUnlessOverridden() throws {
        let physical = try #require(MemoryLimit.physical)
        #expect(physical > 100e6 && MemoryLimit.current == physical)
        #expect(MemoryLimit.$override.withValue(1e6) { MemoryLimit.current } == 1e6)
        let e = MemoryEstimate(parts: [.init(kind: .batches, bytes: 2e6, what: "two megabytes")])
        #expect(throws: MemoryError.self) { try MemoryLimit.$override.withValue(1e6) { try e.check() } }
        #expect(throws: MemoryError.self) { try e.check(limit: 1e6) }
        try e.check(limit: 3e6)
    }

    /// AnyRecurrentModel refuses weights that alone would not fit, before drawing them.
    @Test func aModelTooLargeForTheLimitIsRefusedBeforeAllocation() throws {
        let config = try ModelConfiguration.preset("irnn", inputSize: 1, hiddenSize: 20_000, outputs: 1)   // 1.6 GB of weights
        var rng = SeededGenerator(seed: 1)
        let message = MemoryLimit.$override.withValue(100e6) { catchMessage { _ = try AnyRecurrentModel(config, using: &rng) } }
        #expect(message.contains("would need 1.6 GB") && message.contains("weights"), "\(message)")
    }

    /// predict keeps every sequence's outputs and final states besides one batch's forward-only pass.
    @Test func aPredictionEstimateCountsEveryOutput() throws {
        var config = try ModelConfiguration.preset("lstm", inputSize: 2, hiddenSize: 3, layers: 2, outputs: 4)
        config.readout = .everyStep
        let e = MemoryEstimate.prediction(config, sequences: 1000, steps: 50, batch: 256)
        let outputs = try #require(e.parts.first { $0.kind == .outputs })
        #expect(outputs.bytes == 4 * (1000 * 50 * 4 + 2 * 2 * 1000 * 3))   // [N, T, O], then h_n and c_n [L, N, H]
        #expect(e.parts.contains { $0.what.hasPrefix("the forward-only pass of 50 steps x 256 sequences x 3 units x 4 gate blocks x 2 layers") })
        #expect(MemoryEstimate.prediction(config, sequences: 10, steps: 50, batch: 256).parts.contains { $0.what.contains("x 10 sequences") })
    }

    @Test(arguments: [(83.2e9, "83.2 GB"), (512, "512 bytes"), (1500, "1.5 kB"), (3.14e16, "31.4 PB"), (1.5e21, "1.5e+21 bytes")])
    func bytesAreWrittenInDecimalUnits(_ bytes: Double, _ text: String) {
        #expect(MemoryEstimate.format(bytes) == text)
    }
}
