import Testing
@testable import Recurrent

/// The simple RNN's time loops in C (`RNNCell.forwardSequence` above batch 1,
/// `RNNCell.backwardSequence` for relu, with relu' fused into the product's epilogue under
/// AVX-512), the layer's weight gradients in one pass (`Kernels.weightGradients`) and its input
/// projection in one pass (`Kernels.inputProjection`): each gives the bits of the unroller's
/// per-step path and of the separate products, on every instruction set and thread count.
@Suite("RNN time loops and one-pass weight gradients equal the per-step path, bit for bit")
struct RNNSequenceTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var batch: Int, hidden: Int, steps: Int, inputs: Int
        var testDescription: String { "B\(batch) H\(hidden) T\(steps) I\(inputs)" }
    }

    static let sets = Compute.InstructionSet.allCases.filter { $0 <= Compute.availableInstructionSet }

    /// Everything a pass gives, as bit patterns: h_1 ... h_T, net, the four gradients, dL/dx and dL/dh_0.
    /// `keepsNet` false: net is left out (`SequenceTrace.keepsNet`), its place in the result holds
    /// the bits the trace's `gates` had before the pass (`gates`, written into a trace of this shape first).
    static func pass(_ cell: RNNCell<Float>, _ c: Case, everyRowLive: Bool, seed: UInt64, keepsNet: Bool = true,
                     gates: Float? = nil) -> [[UInt32]] {
        let rows = c.steps * c.batch
        var x = Matrix<Float>(rows: rows, cols: c.inputs, randomFloats(rows * c.inputs, seed: seed))
        if rows * c.inputs > 7 { x.storage[5] = .nan }                   // one sequence carries a NaN throughout
        let h0 = Matrix<Float>(rows: c.batch, cols: c.hidden, randomFloats(c.batch * c.hidden, seed: seed + 1))
        let initial = LayerState(hidden: h0, memory: Matrix(rows: 0, cols: c.hidden))
        let live = everyRowLive ? [Int](repeating: c.batch, count: c.steps) : nil   // forces the per-step loops
        var cache: SequenceTrace<Float>?
        if let gates {   // a trace of this shape whose gates hold `gates`, for the pass to write over
            cache = cell.forward(x, steps: c.steps, batch: c.batch, initial: initial, liveRows: live)
            cache!.gates.base.update(repeating: gates, count: cache!.gates.rows * cache!.gates.cols)
        }
        let trace = cell.forward(x, steps: c.steps, batch: c.batch, initial: initial, liveRows: live, keepsNet: keepsNet,
                                 reusing: &cache)
        let dOut = Matrix<Float>(rows: rows, cols: c.hidden, randomFloats(rows * c.hidden, seed: seed + 2))
        let dFinal = LayerState(hidden: Matrix(rows: c.batch, cols: c.hidden, randomFloats(c.batch * c.hidden, seed: seed + 3)),
                                memory: Matrix(rows: 0, cols: c.hidden))
        var gradients = CellParameters<Float>(cell.parameters.tensors.enumerated().map { k, t in
            Matrix(rows: t.rows, cols: t.cols, randomFloats(t.count, seed: seed + 10 + UInt64(k)))    // accumulated into
        })
        let (dx, dInitial) = cell.backward(trace, outputGradient: dOut, finalStateGradient: dFinal, into: &gradients)
        return [trace.hidden.matrix().storage, trace.gates.matrix().storage, dx.storage, dInitial.hidden.storage]
            .map { $0.map(\.bitPattern) } + gradients.tensors.map { $0.storage.map(\.bitPattern) }
    }

    static func cell(_ c: Case, activation: Activation) -> RNNCell<Float> {
        let g = c.hidden
        return RNNCell(weightIH: Matrix(rows: g, cols: c.inputs, randomFloats(g * c.inputs, seed: 31)),
                       weightHH: Matrix(rows: g, cols: c.hidden, randomFloats(g * c.hidden, seed: 32).map { $0 * 0.3 }),
                       biasIH: Matrix(rows: 1, cols: g, randomFloats(g, seed: 33)),
                       biasHH: Matrix(rows: 1, cols: g, randomFloats(g, seed: 34)), activation: activation)
    }

    /// a's shape (H = 100: 32 + 32 + 32 + 4 columns), odd tiles and slices, batch 1, and H > 256
    /// (W_hh packed; AVX2: avx2_large.c's step and, one thread, relu' in the k-blocked backward
    /// product; I > 8: x = b_ih + u W_ihᵀ formed in the step's epilogue from W_ihᵀ's panels).
    @Test(arguments: [Case(batch: 16, hidden: 100, steps: 9, inputs: 1), Case(batch: 5, hidden: 17, steps: 6, inputs: 3),
                      Case(batch: 11, hidden: 40, steps: 5, inputs: 2), Case(batch: 1, hidden: 9, steps: 4, inputs: 2),
                      Case(batch: 3, hidden: 300, steps: 3, inputs: 2), Case(batch: 7, hidden: 300, steps: 3, inputs: 20),
                      // T*B past one chunk of the weight-gradient sums: the C loop run chunk by chunk
                      Case(batch: 16, hidden: 100, steps: 40, inputs: 1), Case(batch: 7, hidden: 33, steps: 50, inputs: 2),
                      // b's shape (AVX-512: W_hh's panels, chunks of 2 steps, the 64 + 36 column tiles) and
                      // n = 48 (one tile of three full vectors)
                      Case(batch: 128, hidden: 100, steps: 4, inputs: 1), Case(batch: 9, hidden: 48, steps: 5, inputs: 2)])
    func loopsEqualThePerStepPath(_ c: Case) {
        for activation in [Activation.relu, .tanh] {
            let cell = Self.cell(c, activation: activation)
            for set in Self.sets {
                // The generic bodies differ from the vector ones in tanh (libm's) and in the n <= 2 dot
                // product (dL/dx at I <= 2): each set is compared with itself.
                let want = Compute.withInstructionSet(set) { Self.pass(cell, c, everyRowLive: true, seed: 40) }!
                #expect(want[1].contains { Float(bitPattern: $0) < 0 } && want[1].contains { Float(bitPattern: $0) > 0 },
                        "both signs of net")
                for threads in [1, 2, 3] {
                    let got = Compute.withInstructionSet(set) {
                        Compute.$threads.withValue(threads) { Self.pass(cell, c, everyRowLive: false, seed: 40) }
                    }
                    let differing = (0..<want.count).filter { got?[$0] != want[$0] }   // which of the pass's outputs
                    let first = differing.first.map { k in (0..<want[k].count).first { got?[k][$0] != want[k][$0] } }
                    #expect(differing.isEmpty,
                            "\(c.testDescription) \(activation.name) \(set.name) threads=\(threads): \(differing) from \(String(describing: first))")
                }
            }
        }
    }

    /// The relu RNN without net in its trace (`keepsNet` false, as `RecurrentModel.forward` runs
    /// it): h, dL/dx, dL/dh_0 and the four gradients have the bits of the per-step path that keeps
    /// net (relu'(net) read off h = max(0, net)), with a NaN throughout one sequence, on every
    /// instruction set and thread count; where the AVX2 or portable step runs the loop (no AVX-512,
    /// B > 1, H <= 256) `gates` is not written at all.
    @Test(arguments: [Case(batch: 128, hidden: 100, steps: 4, inputs: 1), Case(batch: 16, hidden: 100, steps: 40, inputs: 1),
                      Case(batch: 5, hidden: 17, steps: 6, inputs: 3), Case(batch: 1, hidden: 9, steps: 4, inputs: 2),
                      Case(batch: 3, hidden: 300, steps: 3, inputs: 2), Case(batch: 7, hidden: 33, steps: 50, inputs: 2),
                      Case(batch: 9, hidden: 48, steps: 5, inputs: 9), Case(batch: 2, hidden: 1, steps: 7, inputs: 1)])
    func reluWithoutNetEqualsThePerStepPath(_ c: Case) {
        let cell = Self.cell(c, activation: .relu), sentinel = Float(bitPattern: 0x7fc0_1234)
        for set in Self.sets {
            let want = Compute.withInstructionSet(set) { Self.pass(cell, c, everyRowLive: true, seed: 60) }!
            for threads in [1, 2] {
                let got = Compute.withInstructionSet(set) {
                    Compute.$threads.withValue(threads) {
                        Self.pass(cell, c, everyRowLive: false, seed: 60, keepsNet: false, gates: sentinel)
                    }
                }!
                let context = "\(c.testDescription) \(set.name) threads=\(threads)"
                for k in want.indices where k != 1 { #expect(got[k] == want[k], "\(context): output \(k)") }
                if c.batch > 1 && c.hidden <= 256 && set <= .avx2 {
                    #expect(got[1].allSatisfy { $0 == sentinel.bitPattern }, "\(context): net left unwritten")
                }
            }
        }
    }

    /// relu'(net) read off h = max(0, net) (`Activation.relu`: x < 0 ? 0 : x) selects as net does:
    /// h <= 0 exactly where net <= 0, for both zeros, subnormals, infinities and NaN (h = net: not <= 0).
    @Test func reluSelectionFromTheOutput() {
        for net: Float in [-0.0, 0.0, -1, 1, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .infinity, -.infinity, .nan,
                           -.nan, .greatestFiniteMagnitude] {
            let h = Activation.relu.value(net)
            #expect((h <= 0) == (net <= 0), "net \(net), h \(h)")
            #expect(net.isNaN == h.isNaN)
        }
    }

    /// dW_hh, dW_ih, db_hh, db_ih in one pass = the two TN products and two column sums, on
    /// every instruction set and thread count, with a NaN, a -0 and an infinity among the operands,
    /// for I = 0, a panel that holds h, x and both ones, x spanning panels, and k past a block.
    @Test(arguments: [(rows: 7, m: 3, h: 3, i: 1), (rows: 515, m: 17, h: 17, i: 2), (rows: 1600, m: 100, h: 100, i: 1),
                      (rows: 300, m: 64, h: 16, i: 0), (rows: 257, m: 33, h: 33, i: 28), (rows: 40, m: 512, h: 128, i: 3)])
    func weightGradientsInOnePass(_ s: (rows: Int, m: Int, h: Int, i: Int)) {
        var dnet = randomFloats(s.rows * s.m, seed: 51)
        let hidden = randomFloats(s.rows * s.h, seed: 52).enumerated().map { $0 == 3 ? .infinity : $1 }
        let x = randomFloats(s.rows * s.i, seed: 53)
        dnet[5] = .nan; dnet[s.m + 1] = -0.0
        let start = [randomFloats(s.m * s.h, seed: 54), randomFloats(s.m * s.i, seed: 55), randomFloats(s.m, seed: 56),
                     randomFloats(s.m, seed: 57)]
        var want = start
        MicroKernelTests.chain(transA: true, transB: false, m: s.m, n: s.h, k: s.rows, a: dnet, lda: s.m, b: hidden, ldb: s.h,
                               c: &want[0], ldc: s.h, accumulate: true)
        MicroKernelTests.chain(transA: true, transB: false, m: s.m, n: s.i, k: s.rows, a: dnet, lda: s.m, b: x, ldb: s.i,
                               c: &want[1], ldc: s.i, accumulate: true)
        NaiveKernels.columnSums(dnet, rows: s.rows, cols: s.m, into: &want[2], accumulate: true)
        NaiveKernels.columnSums(dnet, rows: s.rows, cols: s.m, into: &want[3], accumulate: true)
        for set in Self.sets {
            for threads in [1, 2, 3] {
                var (dWhh, dWih, dbhh, dbih) = (start[0], start[1], start[2], start[3])
                let done = Compute.withInstructionSet(set) {
                    Compute.$threads.withValue(threads) {
                        Kernels.weightGradients(rows: s.rows, width: s.m, dnet: dnet, hidden: hidden, hiddenSize: s.h, inputs: x,
                                                inputSize: s.i, dWhh: &dWhh, dWih: &dWih, dbhh: &dbhh, dbih: &dbih)
                    }
                }
                #expect(done == true)
                #expect([dWhh, dWih, dbhh, dbih].map { $0.map(\.bitPattern) } == want.map { $0.map(\.bitPattern) },
                        "\(s) \(set.name) threads=\(threads)")
            }
        }
    }

    /// The input projection in one pass (`Kernels.inputProjection`) = the bias copied into every
    /// row, then the NT product onto it, bit for bit, on every instruction set and thread count;
    /// for k <= 8 and n > 2 (the one-pass body) also = the fma chain started at the bias. k = 0, the
    /// n <= 2 dot-product shapes and k > 8 take the two-step path.
    @Test(arguments: [(rows: 12544, n: 100, k: 1), (rows: 37, n: 17, k: 3), (rows: 9, n: 3, k: 8), (rows: 20, n: 2, k: 1),
                      (rows: 11, n: 40, k: 0), (rows: 64, n: 33, k: 9), (rows: 5, n: 400, k: 2)])
    func inputProjectionInOnePass(_ s: (rows: Int, n: Int, k: Int)) {
        var x = randomFloats(s.rows * s.k, seed: 81)
        if x.count > 4 { x[3] = .nan; x[4] = -0.0 }
        let w = randomFloats(s.n * s.k, seed: 82), bias = randomFloats(s.n, seed: 83)
        var chain = [Float](repeating: 0, count: s.rows * s.n)
        for r in 0..<s.rows { for j in 0..<s.n { chain[r * s.n + j] = bias[j] } }
        MicroKernelTests.chain(transA: false, transB: true, m: s.rows, n: s.n, k: s.k, a: x, lda: s.k, b: w, ldb: s.k,
                               c: &chain, ldc: s.n, accumulate: true)
        for set in Self.sets {
            for threads in [1, 2, 3] {
                let (want, got) = Compute.withInstructionSet(set) {
                    Compute.$threads.withValue(threads) {
                        var want = [Float](repeating: .nan, count: s.rows * s.n), got = want
                        for r in 0..<s.rows { for j in 0..<s.n { want[r * s.n + j] = bias[j] } }
                        Kernels.gemm(transA: false, transB: true, m: s.rows, n: s.n, k: s.k, a: x, lda: s.k, b: w, ldb: s.k,
                                     c: &want, ldc: s.n, accumulate: true)
                        Kernels.inputProjection(rows: s.rows, width: s.n, inputs: s.k, x: x, weight: w, bias: bias, into: &got)
                        return (want, got)
                    }
                }!
                #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "\(s) \(set.name) threads=\(threads)")
                if s.n > 2 && s.k <= 8 {
                    #expect(got.map(\.bitPattern) == chain.map(\.bitPattern), "\(s) \(set.name): the chain")
                }
            }
        }
    }

    /// The same over the step's edge shapes: width H (not a multiple of 8 or 16, 1 = the dot
    /// product's shape), batch rows, and I = 1, 2, 8 (the one-pass body) and 9 (the two-step path).
    @Test(arguments: [1, 7, 17, 100, 128, 256], [1, 5, 16, 128])
    func inputProjectionEdgeShapes(width: Int, rows: Int) {
        for k in [1, 2, 8, 9] { inputProjectionInOnePass((rows: rows, n: width, k: k)) }
    }

    /// Every registered cell that forms its weight gradients in one pass gets from it what its
    /// own `recurrentWeightGradients` and the input products give (a cell that overrides them
    /// must not claim the pass), on a trained-shape trace.
    @Test func cellsClaimingTheOnePassAgreeWithTheirOwnGradients() throws {
        struct Check: CellTypeVisitor {
            var claimed: [String] = []
            mutating func visit<Cell: RecurrentCell>(_ type: Cell.Type) throws where Cell.Scalar == Float {
                guard Cell.formsWeightGradientsInOnePass else { return }
                claimed.append(Cell.kind.rawValue)
                let (b, t, i, h) = (4, 6, 3, 20)
                var rng = SeededGenerator(seed: 3)
                let settings = Cell.presets[0].settings
                let cell = Cell(parameters: Cell.initialParameters(inputSize: i, hiddenSize: h, settings: settings, using: &rng),
                                settings: settings)
                let x = Matrix<Float>(rows: t * b, cols: i, randomFloats(t * b * i, seed: 61))
                let trace = cell.forward(x, steps: t, batch: b, initial: .zeros(batch: b, hiddenSize: h, hasMemory: Cell.hasMemory))
                var cache: BackwardBuffers<Float>?
                var scratch = cell.parameters.zerosLike
                let dOut = Matrix<Float>(rows: t * b, cols: h, randomFloats(t * b * h, seed: 62))
                _ = cell.backward(trace, outputGradient: dOut, finalStateGradient: nil, into: &scratch, reusing: &cache)
                let grad = try #require(cache)
                let start = CellParameters(cell.parameters.tensors.enumerated().map { k, m in
                    Matrix(rows: m.rows, cols: m.cols, randomFloats(m.count, seed: 70 + UInt64(k)))
                })
                var fused = start, separate = start
                #expect(cell.weightGradientsInOnePass(trace, grad, into: &fused), "\(Cell.kind)")
                let rows = t * b, width = Cell.gateCount * h
                separate[0].storage.withUnsafeMutableBufferPointer { dW in
                    Kernels.gemm(transA: true, transB: false, m: width, n: i, k: rows, a: grad.dPreInput.base, lda: width,
                                 b: trace.inputs.base, ldb: i, c: dW.baseAddress!, ldc: i, accumulate: true)
                }
                separate[Cell.inputBiasIndex].storage.withUnsafeMutableBufferPointer { db in
                    Kernels.columnSums(grad.dPreInput.base, rows: rows, cols: width, into: db.baseAddress!, accumulate: true)
                }
                cell.recurrentWeightGradients(trace, grad, into: &separate)
                #expect(fused.tensors.map { $0.storage.map(\.bitPattern) } == separate.tensors.map { $0.storage.map(\.bitPattern) },
                        "\(Cell.kind)")
            }
        }
        var check = Check()
        try CellRegistry.forEachCell(&check)
        #expect(check.claimed.contains("rnn") && check.claimed.contains("lstm") && !check.claimed.contains("gru"), "\(check.claimed)")
    }
}
