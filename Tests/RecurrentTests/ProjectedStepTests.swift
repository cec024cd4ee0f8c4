import Foundation
import Testing
@testable import Recurrent

/// The input projection formed step by step, just before the step that reads it (for more than
/// one sequence: the relu and tanh RNN's C time loop, `RNNCell.forwardSequenceProjecting`, for any
/// I; the unroller's own loop for LSTM, GRU, coRNN and other RNNs for 1 <= I <= `Kernels.fusedInputLimit`),
/// against the oracle it replaces: one product for all T*B rows (`projectInputs`) followed by
/// `forwardStep` for each t. The same bits in gates, h (and the LSTM's c) under every
/// instruction set on 1, 2 and 3 threads; a NaN and a -0 in x travel the same way. preInput:
/// the same bits too, but step by step it holds one block (rows 0 ..< B, the last step's).
@Suite("Input projection step by step")
struct ProjectedStepTests {
    /// Every registered cell but IndRNN (its own loop: `IndRNNTimeLoopTests`), the RNN with
    /// both fused activations and one that is not fused (leaky relu: the per-step loop).
    enum Kind: String, CaseIterable { case relu, tanh, leakyRelu, lstm, gru, cornn }

    /// (B, T, H, I): H below, at and past a vector's width; I = 1 (pixels), 3, 8 (the limit)
    /// and 9, 28, 64 (past it: the one product, except in the relu and tanh RNN's loop, where the
    /// AVX2 step forms x from W_ihᵀ's panels); B = 1 (one sequence: the one product too); H = 1, 2
    /// (no packed W_ihᵀ in the RNN's loop), 128 with I = 28 (row-MNIST), 256 with I = 64 (config e256).
    static let shapes: [(Int, Int, Int, Int)] = [(5, 7, 13, 1), (4, 6, 100, 3), (3, 9, 37, 8), (4, 6, 17, 9),
                                                 (1, 5, 20, 2), (16, 12, 40, 1), (5, 4, 7, 2), (128, 3, 100, 1),
                                                 (16, 3, 256, 8), (5, 3, 1, 1), (16, 3, 128, 9), (64, 4, 128, 28),
                                                 (7, 5, 1, 28), (6, 4, 2, 9), (3, 5, 300, 28), (8, 3, 256, 64)]

    static let instructionSets = Compute.InstructionSet.allCases.filter { $0 <= Compute.availableInstructionSet }

    static func random(_ rows: Int, _ cols: Int, seed: UInt64) -> Matrix<Float> {
        Matrix(rows: rows, cols: cols, randomBatch(batch: rows, steps: 1, features: cols, seed: seed, as: Float.self).values)
    }

    /// nil when `a` and `b` hold the same bits, else where and what first differs.
    static func difference(_ a: RowBuffer<Float>, _ b: RowBuffer<Float>) -> String? {
        let x = a.matrix().storage.map(\.bitPattern), y = b.matrix().storage.map(\.bitPattern)
        guard x.count == y.count else { return "sizes \(x.count) and \(y.count)" }
        guard let i = x.indices.first(where: { x[$0] != y[$0] }) else { return nil }
        return "element \(i) (row \(i / a.cols)): \(Float(bitPattern: x[i])) vs \(Float(bitPattern: y[i]))"
    }

    /// `difference` for the rows `rows` of `a` against as many rows of `b` from row `first`.
    static func difference(_ a: RowBuffer<Float>, _ b: RowBuffer<Float>, rows: Range<Int>, against first: Int) -> String? {
        let x = a.matrix(rows: rows).storage.map(\.bitPattern)
        let y = b.matrix(rows: first..<(first + rows.count)).storage.map(\.bitPattern)
        guard let i = x.indices.first(where: { x[$0] != y[$0] }) else { return nil }
        return "element \(i) (row \(i / a.cols)): \(Float(bitPattern: x[i])) vs \(Float(bitPattern: y[i]))"
    }

    @Test(arguments: Kind.allCases, shapes)
    func stepByStepEqualsOneProduct(_ kind: Kind, _ shape: (Int, Int, Int, Int)) {
        let (b, t, h, i) = shape
        switch kind {
        case .relu: check(RNNCell<Float>.self, .relu, b, t, h, i)
        case .tanh: check(RNNCell<Float>.self, .tanh, b, t, h, i)
        case .leakyRelu: check(RNNCell<Float>.self, .leakyRelu(slope: 0.01), b, t, h, i)
        case .lstm: check(LSTMCell<Float>.self, .tanh, b, t, h, i)
        case .gru: check(GRUCell<Float>.self, .tanh, b, t, h, i)
        case .cornn: check(CoRNNCell<Float>.self, .tanh, b, t, h, i)
        }
    }

    func check<Cell: RecurrentCell>(_ type: Cell.Type, _ activation: Activation, _ b: Int, _ t: Int, _ h: Int,
                                    _ i: Int) where Cell.Scalar == Float {
        var rng = SeededGenerator(seed: 41)
        let settings = CellSettings(activation: activation)
        let cell = Cell(parameters: Cell.initialParameters(inputSize: i, hiddenSize: h, settings: settings, using: &rng),
                        settings: settings)
        var x = Self.random(t * b, i, seed: 42)
        x.storage[0] = .nan                                         // row 0 of step 0: reaches h_1 of sequence 0
        x.storage[x.storage.count - 1] = -0.0
        let initial = LayerState(hidden: Self.random(b, h, seed: 43),
                                 memory: Cell.hasMemory ? Self.random(b, h, seed: 44) : Matrix(rows: 0, cols: h))
        // The oracle: one product for all rows, then the cell's step for each t (under each
        // instruction set: tanh and σ differ between the portable and vector bodies).
        func oracle() -> SequenceTrace<Float> {
            let reference = SequenceTrace<Float>(steps: t, batch: b, inputSize: i, hiddenSize: h, gateCount: Cell.gateCount,
                                                 hasMemory: Cell.hasMemory)
            reference.inputs.copy(from: x)
            reference.hidden.copy(from: initial.hidden)
            if Cell.hasMemory { reference.memory.copy(from: initial.memory) }
            cell.projectInputs(reference.inputs.base, rows: t * b, into: reference.preInput.base)
            cell.prepare(reference)
            for t0 in 0..<t { cell.forwardStep(t0, reference, rows: 0..<b) }
            return reference
        }
        #expect(oracle().hidden.row(b)[0].isNaN, "the NaN of x reaches h_1")
        let fusedActivation = activation == .relu || activation == .tanh
        let expected: InputProjectionPlace = b == 1 ? .allSteps
            : Cell.self == RNNCell<Float>.self && fusedActivation ? .inCellLoop
            : i > Kernels.fusedInputLimit ? .allSteps : .stepByStep
        for set in Self.instructionSets {
            guard let reference = Compute.withInstructionSet(set, { oracle() }) else { continue }
            for threads in [1, 2, 3] {
                Compute.withInstructionSet(set) {
                    Compute.$threads.withValue(threads) {
                        let trace = cell.forward(x, steps: t, batch: b, initial: initial)
                        let context = "\(Cell.kind) \(activation) B \(b) T \(t) H \(h) I \(i) under \(set.name) on \(threads) threads"
                        #expect(cell.inputProjection(trace) == expected, "\(context): where the projection is formed")
                        if expected == .stepByStep {   // one block, written over step by step: the last step's is left
                            #expect(trace.projectsInputsStepByStep, "\(context): the trace says where step t's projection is")
                            #expect(Self.difference(trace.preInput, reference.preInput, rows: 0..<b, against: (t - 1) * b) == nil,
                                    "\(context): preInput's one block against the last step's")
                        } else {
                            #expect(!trace.projectsInputsStepByStep)
                            // In the cell's loop the AVX2 step forms x_t W_ihᵀ + b_ih in its epilogue for
                            // H > 2 (I <= 8: W_ihᵀ in place; I > 8: its panels, tile by tile), and leaves
                            // preInput unwritten (rk_rnn_forward_rows); nothing reads it after the step.
                            let formedInEpilogue = set == .avx2 && h > 2
                            if expected == .allSteps || !formedInEpilogue {
                                #expect(Self.difference(trace.preInput, reference.preInput) == nil, "\(context): preInput")
                            }
                        }
                        #expect(Self.difference(trace.hidden, reference.hidden) == nil, "\(context): h")
                        if Cell.hasMemory { #expect(Self.difference(trace.memory, reference.memory) == nil, "\(context): c") }
                        // gates: the activated gates (LSTM, GRU), net (RNN) or σ(a) (coRNN), as forwardStep leaves them.
                        #expect(Self.difference(trace.gates, reference.gates) == nil, "\(context): gates")
                    }
                }
            }
        }
    }
}
