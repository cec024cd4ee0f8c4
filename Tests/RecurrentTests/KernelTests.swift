import Testing
@testable import Recurrent

/// The fast Float kernels against the plain loops (`NaiveKernels`), on odd and tiny
/// shapes, every transpose combination, with and without accumulation; the threaded
/// paths against one thread (bit for bit); and a whole training step fast vs naive.
@Suite("Fast kernels vs the naive oracle")
struct KernelTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        var m: Int, n: Int, k: Int
        var testDescription: String { "\(m)x\(n)x\(k)" }
    }

    static let shapes: [Shape] = [
        Shape(m: 1, n: 1, k: 1), Shape(m: 3, n: 5, k: 7), Shape(m: 17, n: 100, k: 13), Shape(m: 16, n: 100, k: 100),
        Shape(m: 5, n: 1, k: 37), Shape(m: 1, n: 9, k: 300), Shape(m: 40, n: 3, k: 600), Shape(m: 7, n: 17, k: 260),
        Shape(m: 33, n: 2, k: 9), Shape(m: 2, n: 33, k: 1), Shape(m: 13, n: 24, k: 513), Shape(m: 23, n: 37, k: 700),
    ]

    /// A row-major buffer with `pad` extra columns, so that leading dimensions differ from widths.
    static func random(_ rows: Int, _ cols: Int, pad: Int, seed: UInt64) -> (values: [Float], ld: Int) {
        var rng = SeededGenerator(seed: seed)
        let ld = cols + pad
        return ((0..<(rows * ld)).map { _ in Float(Draw.uniform(-1, 1, &rng)) }, ld)
    }

    /// C from `Kernels.gemm` under the given backend and thread count.
    static func product(_ s: Shape, transA: Bool, transB: Bool, accumulate: Bool,
                        backend: Compute.Backend, threads: Int = 1) -> [Float] {
        let (ar, ac) = transA ? (s.k, s.m) : (s.m, s.k)
        let (br, bc) = transB ? (s.n, s.k) : (s.k, s.n)
        let a = random(ar, ac, pad: 3, seed: 1), b = random(br, bc, pad: 2, seed: 2)
        var c = random(s.m, s.n, pad: 1, seed: 3)
        Compute.$backend.withValue(backend) {
            Compute.$threads.withValue(threads) {
                a.values.withUnsafeBufferPointer { ap in
                    b.values.withUnsafeBufferPointer { bp in
                        c.values.withUnsafeMutableBufferPointer { cp in
                            Kernels.gemm(transA: transA, transB: transB, m: s.m, n: s.n, k: s.k,
                                         a: ap.baseAddress!, lda: a.ld, b: bp.baseAddress!, ldb: b.ld,
                                         c: cp.baseAddress!, ldc: c.ld, accumulate: accumulate)
                        }
                    }
                }
            }
        }
        return c.values
    }

    @Test(arguments: shapes)
    func gemmMatchesNaive(_ s: Shape) {
        for transA in [false, true] {
            for transB in [false, true] {
                for accumulate in [false, true] {
                    let fast = Self.product(s, transA: transA, transB: transB, accumulate: accumulate, backend: .fast)
                    let slow = Self.product(s, transA: transA, transB: transB, accumulate: accumulate, backend: .naive)
                    // Entries are U(-1, 1): a sum of k products is off by at most ~k ulps of 1.
                    let tolerance = Float(s.k + 2) * 4 * Float.ulpOfOne
                    let worst = zip(fast, slow).map { abs($0 - $1) }.max() ?? 0
                    #expect(worst <= tolerance, "\(s.testDescription) tA=\(transA) tB=\(transB) acc=\(accumulate): \(worst)")
                }
            }
        }
    }

    static let largeShapes: [Shape] = [
        Shape(m: 16, n: 100, k: 100), Shape(m: 16, n: 400, k: 100), Shape(m: 300, n: 50, k: 40),
        Shape(m: 100, n: 100, k: 700), Shape(m: 101, n: 7, k: 2000), Shape(m: 2000, n: 1, k: 100),
    ]

    @Test(arguments: largeShapes)
    func threadsAreBitIdentical(_ s: Shape) {
        for transA in [false, true] {
            for transB in [false, true] {
                for accumulate in [false, true] {
                    let one = Self.product(s, transA: transA, transB: transB, accumulate: accumulate, backend: .fast, threads: 1)
                    for threads in [2, 3] {
                        let many = Self.product(s, transA: transA, transB: transB, accumulate: accumulate, backend: .fast, threads: threads)
                        #expect(one == many, "\(s.testDescription) tA=\(transA) tB=\(transB) acc=\(accumulate) threads=\(threads)")
                    }
                }
            }
        }
    }

    @Test func zeroInnerDimension() {
        var c: [Float] = [1, 2, 3, 4]
        let a: [Float] = [0], b: [Float] = [0]
        Kernels.gemm(transA: false, transB: false, m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2, c: &c, ldc: 2, accumulate: true)
        #expect(c == [1, 2, 3, 4])
        Kernels.gemm(transA: false, transB: false, m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2, c: &c, ldc: 2, accumulate: false)
        #expect(c == [0, 0, 0, 0])
    }

    /// Bit for bit, for widths with and without the 32-column blocks, 8-column vectors and a tail.
    @Test(arguments: [13, 40, 77, 128]) func columnSumsMatchNaive(_ cols: Int) {
        let a = Self.random(37, cols, pad: 0, seed: 5).values
        for accumulate in [false, true] {
            var fast = [Float](repeating: 0.5, count: cols), slow = fast
            Kernels.columnSums(a, rows: 37, cols: cols, into: &fast, accumulate: accumulate)
            NaiveKernels.columnSums(a, rows: 37, cols: cols, into: &slow, accumulate: accumulate)
            #expect(fast == slow)
        }
    }

    // MARK: - A whole training step

    struct CellCase: CustomTestStringConvertible, Sendable {
        var kind: CellKind
        var activation: Activation
        var testDescription: String { "\(kind.rawValue)/\(activation.name)" }
    }

    static let cells: [CellCase] = [
        CellCase(kind: .rnn, activation: .relu), CellCase(kind: .rnn, activation: .tanh),
        CellCase(kind: .lstm, activation: .tanh), CellCase(kind: .gru, activation: .tanh),
        CellCase(kind: .indrnn, activation: .relu), CellCase(kind: .cornn, activation: .tanh),
    ]

    @Test(arguments: cells)
    func trainingStepFastMatchesNaive(_ c: CellCase) throws {
        switch c.kind {
        case .rnn: try compareStep(RNNCell<Float>.self, c)
        case .lstm: try compareStep(LSTMCell<Float>.self, c)
        case .gru: try compareStep(GRUCell<Float>.self, c)
        case .indrnn: try compareStep(IndRNNCell<Float>.self, c)
        case .cornn: try compareStep(CoRNNCell<Float>.self, c)
        default: Issue.record("no case for \(c.kind)")
        }
    }

    func compareStep<Cell: RecurrentCell>(_ type: Cell.Type, _ c: CellCase) throws where Cell.Scalar == Float {
        // H = 37 (odd), T*B = 120 rows: the weight-gradient products are threaded.
        let (b, t, i, h, o) = (8, 15, 3, 37, 4)
        for readout in [Readout.lastStep, .everyStep] {
            let config = ModelConfiguration(cell: c.kind, activation: c.activation, inputSize: i, hiddenSize: h, layers: 2,
                                            outputs: o, readout: readout, inputInit: .uniform(bound: 0.5),
                                            recurrentInit: .uniform(bound: 0.3), biasInit: .uniform(bound: 0.2))
            let model = try makeModel(Cell.self, config, seed: 3)
            let x = randomBatch(batch: b, steps: t, features: i, seed: 4, as: Float.self)
            var rng = SeededGenerator(seed: 5)
            let y: Targets<Float> = readout == .lastStep
                ? .classes((0..<b).map { _ in Draw.index(below: o, &rng) })
                : .classesPerStep((0..<(b * t)).map { _ in Draw.index(below: o, &rng) })
            func run(_ backend: Compute.Backend, threads: Int) throws -> [[Float]] {
                let r = try Compute.$backend.withValue(backend) {
                    try Compute.$threads.withValue(threads) { try model.gradients(x, y, loss: .crossEntropy) }
                }
                var out: [[Float]] = []
                r.gradients.forEachTensor { _, _, g in out.append(g.storage) }
                out.append(r.inputGradient.values)
                out.append(r.pass.outputs.storage)
                return out
            }
            let naive = try run(.naive, threads: 1), fast = try run(.fast, threads: 1), fast2 = try run(.fast, threads: 2)
            #expect(fast == fast2, "\(c.testDescription) \(readout): 1 vs 2 threads differ")
            // 3 threads split the batch of 8 unevenly (2, 3, 3 rows): still the same bits.
            #expect(fast == (try run(.fast, threads: 3)), "\(c.testDescription) \(readout): 1 vs 3 threads differ")
            for (tensor, (f, n)) in zip(fast, naive).enumerated() {
                let scale = n.map { abs($0) }.max() ?? 0
                let worst = zip(f, n).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-4 * max(scale, 1e-3), "\(c.testDescription) \(readout) tensor \(tensor): \(worst) (scale \(scale))")
            }
        }
    }

    // MARK: - Fused RNN step

    /// The fused step (product, bias, + x, f in one pass) gives exactly the bits of the
    /// unfused one: `gemm` onto b_hh, then + x, then f (tanh through the same vector
    /// polynomial as `Kernels.tanhStep`); on odd widths, with more than one k block (130),
    /// one and two threads.
    @Test(arguments: [(1, 1), (5, 3), (7, 17), (16, 100), (3, 130)])
    func fusedRNNStepEqualsUnfused(_ rows: Int, _ h: Int) {
        let hPrev = Self.random(rows, h, pad: 0, seed: 11).values, wt = Self.random(h, h, pad: 0, seed: 12).values
        let bias = Self.random(1, h, pad: 0, seed: 13).values, x = Self.random(rows, h, pad: 0, seed: 14).values
        for activation in [Kernels.StepActivation.relu, .tanh] {
            var product = [Float](repeating: 0, count: rows * h), netA = product, hA = product
            for r in 0..<rows { for j in 0..<h { product[r * h + j] = bias[j] } }
            Kernels.gemm(transA: false, transB: false, m: rows, n: h, k: h, a: hPrev, lda: h, b: wt, ldb: h,
                         c: &product, ldc: h, accumulate: true)
            if case .relu = activation {
                for i in 0..<(rows * h) { netA[i] = x[i] + product[i]; hA[i] = netA[i] > 0 ? netA[i] : 0 }
            } else {
                #expect(Kernels.tanhStep(count: rows * h, x: x, r: product, net: &netA, h: &hA))
            }
            for threads in [1, 2] {
                var netB = [Float](repeating: .nan, count: rows * h), hB = netB
                let fused = Compute.$threads.withValue(threads) {
                    Kernels.recurrentStep(rows: rows, width: h, hidden: h, hPrev: hPrev, transposedWeight: wt, bias: bias,
                                          x: x, net: &netB, hNew: &hB, activation: activation)
                }
                #expect(fused)
                #expect(netB == netA && hB == hA, "\(rows)x\(h) \(activation), \(threads) thread(s)")
            }
        }
    }

    /// The LSTM's form (no activation, n = 4k wide): net = x + (b + h W_hhᵀ) equals the
    /// unfused `gemm` onto b, then + x, bit for bit.
    @Test(arguments: [(1, 1), (5, 3), (8, 37), (16, 100), (3, 130)])
    func fusedGateProductEqualsUnfused(_ rows: Int, _ k: Int) {
        let n = 4 * k
        let hPrev = Self.random(rows, k, pad: 0, seed: 21).values, wt = Self.random(k, n, pad: 0, seed: 22).values
        let bias = Self.random(1, n, pad: 0, seed: 23).values, x = Self.random(rows, n, pad: 0, seed: 24).values
        var product = [Float](repeating: 0, count: rows * n), expected = product
        for r in 0..<rows { for j in 0..<n { product[r * n + j] = bias[j] } }
        Kernels.gemm(transA: false, transB: false, m: rows, n: n, k: k, a: hPrev, lda: k, b: wt, ldb: n,
                     c: &product, ldc: n, accumulate: true)
        for i in 0..<(rows * n) { expected[i] = x[i] + product[i] }
        for threads in [1, 2] {
            var net = [Float](repeating: .nan, count: rows * n)
            let fused = Compute.$threads.withValue(threads) {
                Kernels.recurrentStep(rows: rows, width: n, hidden: k, hPrev: hPrev, transposedWeight: wt, bias: bias,
                                      x: x, net: &net)
            }
            #expect(fused && net == expected, "\(rows)x\(k), \(threads) thread(s)")
        }
    }

    // MARK: - Batch slices    // MARK: - Batch slices

    @Test(arguments: [(1, 1), (7, 2), (8, 3), (2, 5), (100, 2)])
    func slicesCoverEveryRowOnceWithTheCallersBackend(_ count: Int, _ parts: Int) {
        let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
        let backends = UnsafeMutableBufferPointer<Compute.Backend>.allocate(capacity: count)
        defer { hits.deallocate(); backends.deallocate() }
        hits.initialize(repeating: 0)
        backends.initialize(repeating: .fast)
        var sizes: [Int] = []
        Compute.$backend.withValue(.naive) {
            Compute.forEachSlice(of: count, parts: parts) { rows in
                for r in rows { hits[r] += 1; backends[r] = Compute.backend }
                #expect(Compute.threads == 1)
            }
        }
        for p in 0..<min(parts, count) { sizes.append(count * (p + 1) / min(parts, count) - count * p / min(parts, count)) }
        #expect(hits.allSatisfy { $0 == 1 }, "every row exactly once")
        #expect(backends.allSatisfy { $0 == .naive }, "slices run under the caller's backend")
        #expect(sizes.max()! - sizes.min()! <= 1, "near-equal slices")
    }

    // MARK: - Workspace reuse

    @Test(arguments: cells)
    func workspaceReuseMatchesFreshBuffers(_ c: CellCase) throws {
        switch c.kind {
        case .rnn: try compareWorkspace(RNNCell<Float>.self, c)
        case .lstm: try compareWorkspace(LSTMCell<Float>.self, c)
        case .gru: try compareWorkspace(GRUCell<Float>.self, c)
        case .indrnn: try compareWorkspace(IndRNNCell<Float>.self, c)
        case .cornn: try compareWorkspace(CoRNNCell<Float>.self, c)
        default: Issue.record("no case for \(c.kind)")
        }
    }

    /// Steps through one workspace (same shape twice, then another batch size, then the
    /// first again) give the bits of fresh buffers, and a result still held is not overwritten.
    func compareWorkspace<Cell: RecurrentCell>(_ type: Cell.Type, _ c: CellCase) throws where Cell.Scalar == Float {
        let (t, i, h, o) = (9, 3, 21, 4)
        let config = ModelConfiguration(cell: c.kind, activation: c.activation, inputSize: i, hiddenSize: h, layers: 2,
                                        outputs: o, readout: .lastStep, inputInit: .uniform(bound: 0.5),
                                        recurrentInit: .uniform(bound: 0.3), biasInit: .uniform(bound: 0.2))
        let model = try makeModel(Cell.self, config, seed: 7)
        func batch(_ b: Int, seed: UInt64) -> (SequenceBatch<Float>, Targets<Float>) {
            var rng = SeededGenerator(seed: seed + 100)
            return (randomBatch(batch: b, steps: t, features: i, seed: seed, as: Float.self),
                    .classes((0..<b).map { _ in Draw.index(below: o, &rng) }))
        }
        func flat(_ r: RecurrentModel<Cell>.StepResult) -> [[Float]] {
            var out: [[Float]] = []
            r.gradients.forEachTensor { _, _, g in out.append(g.storage) }
            return out + [r.inputGradient.values, r.pass.outputs.storage, r.pass.traces[0].hidden.matrix().storage]
        }
        var workspace = ModelWorkspace<Float>()
        // step 1 reuses step 0's buffers; step 1's result is kept, so steps 2-4 must not write into it
        let plan: [(Int, UInt64)] = [(5, 1), (5, 2), (3, 3), (5, 4), (5, 5)]
        var held: (RecurrentModel<Cell>.StepResult, [[Float]])?
        for (n, (b, seed)) in plan.enumerated() {
            let (x, y) = batch(b, seed: seed)
            let reused = try model.gradients(x, y, loss: .crossEntropy, workspace: &workspace)
            let fresh = try model.gradients(x, y, loss: .crossEntropy)
            #expect(flat(reused) == flat(fresh), "\(c.testDescription) B=\(b) seed=\(seed)")
            if n == 1 { held = (reused, flat(reused)) }
        }
        #expect(flat(held!.0) == held!.1, "\(c.testDescription): a result still held was overwritten")
    }
}
