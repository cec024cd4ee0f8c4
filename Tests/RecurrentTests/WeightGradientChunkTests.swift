import Testing
@testable import Recurrent

/// The weight gradients of the RNN and the LSTM summed chunk by chunk of the backward loop
/// (`BPTT.backwardSummingByChunks`, `WeightGradientSums`): chunks of `Kernels.weightGradientChunkSteps`
/// steps, the last chunk first, each chunk's rows in order. These tests pin that order (the fma
/// chain of each chunk, bit for bit, on every instruction set, backend and thread count), show that
/// it is another order than one pass over all rows once there are two chunks, and compare the Float
/// gradients with Double ones from the naive backend (the oracle, which sums in the same order).
@Suite("Weight gradients summed chunk by chunk of the backward loop")
struct WeightGradientChunkTests {
    static let sets = RNNSequenceTests.sets

    /// The chunks of `rows` rows of `steps` steps of `batch` rows each, last first.
    static func chunks(steps: Int, batch: Int) -> [Range<Int>] {
        let c = Kernels.weightGradientChunkSteps(batch: batch)
        return stride(from: (steps - 1) / c * c, through: 0, by: -c).map { t0 in (t0 * batch)..<(Swift.min(t0 + c, steps) * batch) }
    }

    /// `start` [dW_hh, dW_ih, db_hh, db_ih] + the chain of each chunk's rows, chunk after chunk (the
    /// naive backend's products where `backend` is .naive: a*b + c rounded twice, not fma).
    static func reference(_ chunks: [Range<Int>], m: Int, h: Int, i: Int, dnet: [Float], hidden: [Float], x: [Float],
                          start: [[Float]], backend: Compute.Backend = .fast) -> [[Float]] {
        var want = start
        for r in chunks {
            let d = Array(dnet[(r.lowerBound * m)..<(r.upperBound * m)])
            let hh = Array(hidden[(r.lowerBound * h)..<(r.upperBound * h)]), xx = Array(x[(r.lowerBound * i)..<(r.upperBound * i)])
            if backend == .naive {
                NaiveKernels.gemm(transA: true, transB: false, m: m, n: h, k: r.count, a: d, lda: m, b: hh, ldb: h,
                                  c: &want[0], ldc: h, accumulate: true)
                if i > 0 {
                    NaiveKernels.gemm(transA: true, transB: false, m: m, n: i, k: r.count, a: d, lda: m, b: xx, ldb: i,
                                      c: &want[1], ldc: i, accumulate: true)
                }
            } else {
                MicroKernelTests.chain(transA: true, transB: false, m: m, n: h, k: r.count, a: d, lda: m, b: hh, ldb: h,
                                       c: &want[0], ldc: h, accumulate: true)
                MicroKernelTests.chain(transA: true, transB: false, m: m, n: i, k: r.count, a: d, lda: m, b: xx, ldb: i,
                                       c: &want[1], ldc: i, accumulate: true)
            }
            NaiveKernels.columnSums(d, rows: r.count, cols: m, into: &want[2], accumulate: true)
            NaiveKernels.columnSums(d, rows: r.count, cols: m, into: &want[3], accumulate: true)
        }
        return want
    }

    /// `WeightGradientSums` over chunks = the chain chunk after chunk, for the LSTM's m = 4H > H + I + 2
    /// (threads split C's rows), the RNN's m = H (column panels), I = 0 and odd sizes, with a NaN and a -0.
    @Test(arguments: [(steps: 37, batch: 16, m: 400, h: 100, i: 1), (steps: 20, batch: 16, m: 100, h: 100, i: 1),
                      (steps: 9, batch: 70, m: 17, h: 33, i: 0), (steps: 80, batch: 7, m: 48, h: 8, i: 3)])
    func sumsFollowTheChunkOrder(_ s: (steps: Int, batch: Int, m: Int, h: Int, i: Int)) {
        let rows = s.steps * s.batch
        var dnet = randomFloats(rows * s.m, seed: 91)
        dnet[7] = .nan; dnet[s.m + 2] = -0.0
        let hidden = randomFloats(rows * s.h, seed: 92), x = randomFloats(rows * s.i, seed: 93)
        let start = [randomFloats(s.m * s.h, seed: 94), randomFloats(s.m * s.i, seed: 95), randomFloats(s.m, seed: 96),
                     randomFloats(s.m, seed: 97)]
        let chunks = Self.chunks(steps: s.steps, batch: s.batch)
        #expect(chunks.count >= 2 && chunks.last?.lowerBound == 0 && chunks.first?.upperBound == rows)
        let want = Self.reference(chunks, m: s.m, h: s.h, i: s.i, dnet: dnet, hidden: hidden, x: x, start: start)
        let naive = Self.reference(chunks, m: s.m, h: s.h, i: s.i, dnet: dnet, hidden: hidden, x: x, start: start, backend: .naive)
        let onePass = Self.reference([0..<rows], m: s.m, h: s.h, i: s.i, dnet: dnet, hidden: hidden, x: x, start: start)
        let otherBits = want.map { $0.map(\.bitPattern) } != onePass.map { $0.map(\.bitPattern) }
        #expect(otherBits, "another order: other bits")
        for backend in Compute.Backend.allCases {
            for set in Self.sets {
                for threads in [1, 2, 3] {
                    var (dWhh, dWih, dbhh, dbih) = (start[0], start[1], start[2], start[3])
                    let xs = x + [0]                                                // never empty (I = 0)
                    func run(_ dn: UnsafePointer<Float>, _ hd: UnsafePointer<Float>, _ xp: UnsafePointer<Float>) {
                        dWhh.withUnsafeMutableBufferPointer { whh in
                            dWih.withUnsafeMutableBufferPointer { wih in
                                dbhh.withUnsafeMutableBufferPointer { bhh in
                                    dbih.withUnsafeMutableBufferPointer { bih in
                                        let sums = WeightGradientSums(width: s.m, hiddenSize: s.h, inputSize: s.i,
                                                                      dWhh: whh.baseAddress!, dWih: wih.baseAddress,
                                                                      dbhh: bhh.baseAddress!, dbih: bih.baseAddress!)
                                        for r in chunks {
                                            sums.add(rows: r.count, dnet: dn + r.lowerBound * s.m, hidden: hd + r.lowerBound * s.h,
                                                     inputs: xp + r.lowerBound * s.i)
                                        }
                                        sums.finish()
                                    }
                                }
                            }
                        }
                    }
                    _ = Compute.withInstructionSet(set) {
                        Compute.$backend.withValue(backend) {
                            Compute.$threads.withValue(threads) { run(dnet, hidden, xs) }
                        }
                    }
                    let same = [dWhh, dWih, dbhh, dbih].map { $0.map(\.bitPattern) } == (backend == .naive ? naive : want).map { $0.map(\.bitPattern) }
                    #expect(same,
                            "\(s) \(backend) \(set.name) threads=\(threads)")
                }
            }
        }
    }

    // MARK: - A layer's backward pass

    /// A layer's backward pass: the four gradients (accumulated onto `start`), dL/dx, dL/dh_0, and
    /// what the sums read (dnet, h_0 ... h_{T-1}, x).
    static func pass<Cell: RecurrentCell>(_ cell: Cell, steps: Int, batch: Int, liveRows: [Int]?,
                                          start: [[Cell.Scalar]]) -> (gradients: [[Cell.Scalar]], dx: [Cell.Scalar],
                                                                     dInitial: [Cell.Scalar], dnet: [Cell.Scalar],
                                                                     hidden: [Cell.Scalar], inputs: [Cell.Scalar]) {
        let rows = steps * batch, h = cell.hiddenSize, i = cell.inputSize
        let x = Matrix<Cell.Scalar>(rows: rows, cols: i, randomFloats(rows * i, seed: 101).map { Cell.Scalar($0) })
        let trace = cell.forward(x, steps: steps, batch: batch, initial: .zeros(batch: batch, hiddenSize: h, hasMemory: Cell.hasMemory),
                                 liveRows: liveRows)
        let dOut = Matrix<Cell.Scalar>(rows: rows, cols: h, randomFloats(rows * h, seed: 102).map { Cell.Scalar($0) })
        var gradients = CellParameters<Cell.Scalar>(zip(cell.parameters.tensors, start).map { t, s in
            Matrix(rows: t.rows, cols: t.cols, s)
        })
        var cache: BackwardBuffers<Cell.Scalar>?
        let (dx, dInitial) = cell.backward(trace, outputGradient: dOut, finalStateGradient: nil, into: &gradients, reusing: &cache)
        return (gradients.tensors.map(\.storage), dx.storage, dInitial.hidden.storage, cache!.dPreInput.matrix().storage,
                Array(trace.hidden.matrix().storage.prefix(rows * h)), x.storage)
    }

    static func floatCell<Cell: RecurrentCell>(_ type: Cell.Type, activation: Activation, inputs: Int, hidden: Int) -> Cell
    where Cell.Scalar == Float {
        var rng = SeededGenerator(seed: 5)
        let settings = CellSettings(activation: activation)
        return Cell(parameters: Cell.initialParameters(inputSize: inputs, hiddenSize: hidden, settings: settings, using: &rng),
                    settings: settings)
    }

    /// The same parameters in Double.
    static func doubleCell<Cell: RecurrentCell, D: RecurrentCell>(_ cell: Cell, as: D.Type) -> D
    where Cell.Scalar == Float, D.Scalar == Double {
        D(parameters: CellParameters(cell.parameters.tensors.map { Matrix(rows: $0.rows, cols: $0.cols, $0.storage.map(Double.init)) }),
          settings: CellSettings(activation: cell.activation))
    }

    struct LayerCase: CustomTestStringConvertible, Sendable {
        var cell: CellKind, activation: Activation, steps: Int, batch: Int, varied: Bool
        var testDescription: String { "\(cell.rawValue)/\(activation.name) T\(steps) B\(batch)" + (varied ? " varied lengths" : "") }
    }

    static let layerCases = [
        LayerCase(cell: .rnn, activation: .relu, steps: 40, batch: 16, varied: false),   // the relu C loop, 3 chunks of 16 steps
        LayerCase(cell: .rnn, activation: .tanh, steps: 70, batch: 8, varied: false),
        LayerCase(cell: .rnn, activation: .relu, steps: 70, batch: 8, varied: true),     // the per-step loop, rows finishing
        LayerCase(cell: .lstm, activation: .tanh, steps: 40, batch: 16, varied: false),
        LayerCase(cell: .lstm, activation: .tanh, steps: 70, batch: 8, varied: true),
    ]

    /// A layer's gradients are the chunk order's chain over the dnet its loop wrote, on every
    /// instruction set and 1-3 threads (the same bits for every thread count), and, from zero, within
    /// 1e-4 of the tensor's largest magnitude of Double's from the naive backend (same parameters and data).
    @Test(arguments: layerCases)
    func layerSumsInTheChunkOrder(_ c: LayerCase) {
        switch c.cell {
        case .rnn: check(Self.floatCell(RNNCell<Float>.self, activation: c.activation, inputs: 2, hidden: 20), RNNCell<Double>.self, c)
        default: check(Self.floatCell(LSTMCell<Float>.self, activation: c.activation, inputs: 2, hidden: 20), LSTMCell<Double>.self, c)
        }
    }

    func check<Cell: RecurrentCell, D: RecurrentCell>(_ cell: Cell, _ double: D.Type, _ c: LayerCase)
    where Cell.Scalar == Float, D.Scalar == Double {
        let live = c.varied ? (0..<c.steps).map { $0 < c.steps / 2 ? c.batch : c.batch - 3 } : nil
        let start = cell.parameters.tensors.enumerated().map { k, t in randomFloats(t.count, seed: 110 + UInt64(k)) }
        let (h, i, m) = (cell.hiddenSize, cell.inputSize, Cell.gateCount * cell.hiddenSize)
        let chunks = Self.chunks(steps: c.steps, batch: c.batch)
        #expect(chunks.count >= 2)
        // PyTorch's four: weight_ih 0, weight_hh 1, bias_ih 2, bias_hh 3
        func four(_ g: [[Float]]) -> [[Float]] { [g[1], g[0], g[3], g[2]] }
        for set in Self.sets {
            var first: [[UInt32]]?
            for threads in [1, 2, 3] {
                let got = Compute.withInstructionSet(set) {
                    Compute.$threads.withValue(threads) { Self.pass(cell, steps: c.steps, batch: c.batch, liveRows: live, start: start) }
                }!
                let want = Self.reference(chunks, m: m, h: h, i: i, dnet: got.dnet, hidden: got.hidden, x: got.inputs,
                                          start: four(start))
                let same = four(got.gradients).map { $0.map(\.bitPattern) } == want.map { $0.map(\.bitPattern) }
                #expect(same, "\(c.testDescription) \(set.name) threads=\(threads): the chunk order's chain")
                let bits = (got.gradients + [got.dx, got.dInitial]).map { $0.map(\.bitPattern) }
                if let first { let same = bits == first; #expect(same, "\(c.testDescription) \(set.name) threads=\(threads) vs 1") } else { first = bits }
            }
        }
        let zeros = start.map { [Float](repeating: 0, count: $0.count) }
        let f = Compute.$threads.withValue(2) { Self.pass(cell, steps: c.steps, batch: c.batch, liveRows: live, start: zeros) }
        let d = Compute.$backend.withValue(.naive) {
            Self.pass(Self.doubleCell(cell, as: D.self), steps: c.steps, batch: c.batch, liveRows: live,
                      start: zeros.map { $0.map(Double.init) })
        }
        for (k, (a, b)) in zip(f.gradients, d.gradients).enumerated() {
            let scale = b.map(abs).max() ?? 0
            let worst = zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst <= 1e-4 * scale, "\(c.testDescription) tensor \(k): |Float - Double| \(worst) vs max \(scale)")
        }
    }

    // MARK: - One chunk of dPreInput (no dL/dx wanted)

    /// Where nothing reads dL/dx (`inputGradient: false`, layer 0 in training) the LSTM keeps only
    /// one chunk of steps of dPreInput (`BackwardBuffers.chunkSteps`, written over chunk after chunk):
    /// the same gradients and dL/dh_0, dL/dc_0 bit for bit as with every step's rows, on every
    /// instruction set and 1-3 threads, equal lengths or not, with a NaN in x; the RNN (its own C
    /// loop writes every step's rows) never takes it.
    @Test(arguments: layerCases)
    func oneChunkOfGradientsGivesTheSameBits(_ c: LayerCase) {
        switch c.cell {
        case .rnn: oneChunk(Self.floatCell(RNNCell<Float>.self, activation: c.activation, inputs: 2, hidden: 20), c)
        default: oneChunk(Self.floatCell(LSTMCell<Float>.self, activation: c.activation, inputs: 2, hidden: 20), c)
        }
    }

    func oneChunk<Cell: RecurrentCell>(_ cell: Cell, _ c: LayerCase) where Cell.Scalar == Float {
        let live = c.varied ? (0..<c.steps).map { $0 < c.steps / 2 ? c.batch : c.batch - 3 } : nil
        let rows = c.steps * c.batch, h = cell.hiddenSize, i = cell.inputSize
        var xs = randomFloats(rows * i, seed: 121)
        xs[5] = .nan                                            // reaches some rows' gradients
        let x = Matrix<Float>(rows: rows, cols: i, xs)
        let dOut = Matrix<Float>(rows: rows, cols: h, randomFloats(rows * h, seed: 122))
        let final = LayerState(hidden: Matrix(rows: c.batch, cols: h, randomFloats(c.batch * h, seed: 123)),
                               memory: Matrix(rows: Cell.hasMemory ? c.batch : 0, cols: h, randomFloats(Cell.hasMemory ? c.batch * h : 0, seed: 124)))
        func run(_ inputGradient: Bool) -> (bits: [[UInt32]], chunkSteps: Int) {
            let trace = cell.forward(x, steps: c.steps, batch: c.batch,
                                     initial: .zeros(batch: c.batch, hiddenSize: h, hasMemory: Cell.hasMemory), liveRows: live)
            var gradients = CellParameters<Float>(cell.parameters.tensors.map { Matrix(rows: $0.rows, cols: $0.cols) })
            var cache: BackwardBuffers<Float>?
            let (_, initial) = cell.backward(trace, outputGradient: dOut, finalStateGradient: final, into: &gradients,
                                             reusing: &cache, inputGradient: inputGradient)
            let bits = (gradients.tensors.map(\.storage) + [initial.hidden.storage, initial.memory.storage]).map { $0.map(\.bitPattern) }
            return (bits, cache!.chunkSteps)
        }
        let chunk = Kernels.weightGradientChunkSteps(batch: c.batch)
        for set in Self.sets {
            for threads in [1, 2, 3] {
                let (all, one) = Compute.withInstructionSet(set) {
                    Compute.$threads.withValue(threads) { (run(true), run(false)) }
                }!
                let context = "\(c.testDescription) \(set.name) threads=\(threads)"
                #expect(all.chunkSteps == 0, "\(context): dL/dx wanted, every step's rows")
                #expect(one.chunkSteps == (Cell.keepsOneChunkOfGradients ? chunk : 0), "\(context): one chunk where the cell keeps one")
                #expect(one.bits == all.bits, "\(context): the same gradients and dL/d(initial state)")
            }
        }
    }
}
