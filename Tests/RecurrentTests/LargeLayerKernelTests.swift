import Testing
@testable import Recurrent

/// Large layers (H > 256): W_hh packed into 16-column panels once per pass gives the bits of
/// the unpacked products (the GEMM on the packed B against `Kernels.gemm`, the packed
/// recurrent step against the unpacked one), a whole training step with packed weights agrees
/// with the naive oracle and is bit-identical across thread counts, and turning off layer
/// 0's dL/dx changes no weight gradient.
@Suite("Large layers: packed recurrent weights, no dL/dx for layer 0")
struct LargeLayerKernelTests {

    /// op(B) [k, n] packed from B (row-major [k, n], or [n, k] when transposed, row stride ld).
    static func packed(_ b: [Float], transposed: Bool, k: Int, n: Int, ld: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: Kernels.packedPanelFloats(k: k, n: n))
        #expect(Kernels.packPanels(transposed: transposed, k: k, n: n, b: b, ldb: ld, into: &out))
        return out
    }

    struct Shape: CustomTestStringConvertible, Sendable {
        var m: Int, n: Int, k: Int
        var testDescription: String { "\(m)x\(n)x\(k)" }
    }

    /// n not a multiple of 16, k across several 128-deep blocks and past 512 (where `gemm`
    /// packs), m of one row, of a partial row tile and of many tiles.
    static let shapes = [Shape(m: 1, n: 3, k: 1), Shape(m: 5, n: 17, k: 130), Shape(m: 64, n: 257, k: 300),
                         Shape(m: 13, n: 40, k: 513), Shape(m: 7, n: 520, k: 600)]

    /// Every RowBuffer (a trace's [T*B, H] caches, the packed weights) starts on a cache line,
    /// small or large (glibc's mmap-backed blocks are 16 bytes past a page), zeroed or not.
    @Test(arguments: [1, 3, 100, 4096, 262_144, 1_048_576])
    func rowBuffersStartOnACacheLine(_ count: Int) {
        for zeroed in [false, true] {
            let buffers = (0..<4).map { _ in RowBuffer<Float>(rows: 1, cols: count, zeroed: zeroed) }
            for b in buffers { #expect(Int(bitPattern: b.base) % RowBuffer<Float>.alignment == 0, "\(count) floats") }
            if zeroed { #expect(buffers[0].base[count - 1] == 0) }
        }
        #expect(Int(bitPattern: RowBuffer<Double>(rows: 3, cols: 5).base) % 64 == 0)
    }

    @Test(arguments: shapes)
    func packedProductEqualsGemm(_ s: Shape) {
        let lda = s.k + 3, ldc = s.n + 1
        let a = randomFloats(s.m * lda, seed: 1)
        for transposed in [false, true] {
            let ldb = (transposed ? s.k : s.n) + 2
            let b = randomFloats((transposed ? s.n : s.k) * ldb, seed: 2)
            let panels = Self.packed(b, transposed: transposed, k: s.k, n: s.n, ld: ldb)
            for accumulate in [false, true] {
                var want = randomFloats(s.m * ldc, seed: 3), naive = want
                Kernels.gemm(transA: false, transB: transposed, m: s.m, n: s.n, k: s.k, a: a, lda: lda, b: b, ldb: ldb,
                             c: &want, ldc: ldc, accumulate: accumulate)
                Compute.$backend.withValue(.naive) {
                    Kernels.gemm(transA: false, transB: transposed, m: s.m, n: s.n, k: s.k, a: a, lda: lda, b: b, ldb: ldb,
                                 c: &naive, ldc: ldc, accumulate: accumulate)
                }
                for threads in [1, 2, 3] {
                    var got = randomFloats(s.m * ldc, seed: 3)
                    Compute.$threads.withValue(threads) {
                        Kernels.gemm(m: s.m, n: s.n, k: s.k, a: a, lda: lda, packedB: panels, c: &got, ldc: ldc, accumulate: accumulate)
                    }
                    #expect(got == want, "\(s.testDescription) transposed=\(transposed) accumulate=\(accumulate) threads=\(threads)")
                }
                // and the oracle: U(-1, 1) entries, a sum of k products is off by at most ~k ulps
                let worst = zip(want, naive).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= Float(s.k + 2) * 4 * Float.ulpOfOne, "\(s.testDescription): \(worst) from the naive product")
            }
        }
    }

    /// The packed step (relu, tanh: n = k; the LSTM's gate form: n = 4k, no activation) writes
    /// exactly what the unpacked step writes, on 1 and 2 threads.
    /// (k > 256 on AVX2: avx2_large.c's k-blocked step against step.c's in place.)
    @Test(arguments: [(1, 1), (5, 17), (64, 300), (3, 257), (1, 512), (64, 512), (7, 1024)])
    func packedStepEqualsUnpacked(_ rows: Int, _ k: Int) {
        for (n, activation) in [(k, Kernels.StepActivation?.some(.relu)), (k, .tanh), (4 * k, nil)] {
            let hPrev = randomFloats(rows * k, seed: 11), w = randomFloats(n * k, seed: 12)      // W_hh [n, k]
            let bias = randomFloats(n, seed: 13), x = randomFloats(rows * n, seed: 14)
            var wt = [Float](repeating: 0, count: k * n)                                      // W_hhᵀ [k, n]
            for r in 0..<n { for c in 0..<k { wt[c * n + r] = w[r * k + c] } }
            let panels = Self.packed(w, transposed: true, k: k, n: n, ld: k)
            /// One step into fresh buffers (NaN-filled): net and, with an activation, h.
            func step(_ call: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?) -> Bool) -> (Bool, [Float], [Float]) {
                var net = [Float](repeating: .nan, count: rows * n), h = [Float](repeating: .nan, count: rows * k)
                let done = net.withUnsafeMutableBufferPointer { net in
                    h.withUnsafeMutableBufferPointer { h in call(net.baseAddress!, activation == nil ? nil : h.baseAddress!) }
                }
                return (done, net, h)
            }
            let (doneA, netA, hA) = step { net, h in
                Kernels.recurrentStep(rows: rows, width: n, hidden: k, hPrev: hPrev, transposedWeight: wt, bias: bias,
                                      x: x, net: net, hNew: h, activation: activation)
            }
            #expect(doneA)
            for threads in [1, 2] {
                let (done, netB, hB) = Compute.$threads.withValue(threads) {
                    step { net, h in
                        Kernels.recurrentStep(rows: rows, width: n, hidden: k, hPrev: hPrev, packedTransposedWeight: panels,
                                              bias: bias, x: x, net: net, hNew: h, activation: activation)
                    }
                }
                #expect(done && netB == netA, "\(rows)x\(n)x\(k) \(String(describing: activation)), \(threads) thread(s): net")
                if activation != nil { #expect(hB == hA, "\(rows)x\(k) \(String(describing: activation)): h") }
            }
        }
    }

    /// The relu RNN's backward loop on W_hh's panels (H > 256, one thread, AVX2: relu' in the epilogue
    /// of the k-blocked product, avx2_large.c) writes exactly what the loop on W_hh in place writes
    /// (rk_relu_backward after rk_sgemm), whole and in chunks (last first), on 1 and 2 threads; a NaN,
    /// -0 and 0 among the pre-activations (the loops read h_t = relu(net_t)).
    @Test(arguments: [(1, 257), (7, 300), (64, 512), (7, 1024)])
    func packedReluBackwardEqualsUnpacked(_ batch: Int, _ h: Int) {
        let steps = 3
        let w = randomFloats(h * h, seed: 21), dOut = randomFloats(steps * batch * h, seed: 23)
        var gates = randomFloats(steps * batch * h, seed: 22)
        gates[1] = .nan; gates[2] = -0.0; gates[3] = 0
        let states = randomFloats(batch * h, seed: 25) + gates.map { Activation.relu.value($0) }   // h_0, then h_t = relu(net_t)
        let panels = Self.packed(w, transposed: false, k: h, n: h, ld: h)
        func run(packed: Bool, threads: Int, chunks: [Range<Int>]) -> [UInt32] {
            var dHidden = randomFloats(batch * h, seed: 24), dPre = [Float](repeating: .nan, count: steps * batch * h)
            Compute.$threads.withValue(threads) {
                for c in chunks {
                    #expect(Kernels.reluRNNBackwardRows(steps: steps, only: c, batch: batch, rows: 0..<batch, hidden: h,
                                                        weight: packed ? panels : w, packed: packed, states: states,
                                                        outputGradient: dOut, dHidden: &dHidden, dPreInput: &dPre))
                }
            }
            return (dHidden + dPre).map(\.bitPattern)
        }
        let want = run(packed: false, threads: 1, chunks: [0..<steps])
        for threads in [1, 2] {
            for chunks in [[0..<steps], [2..<steps, 0..<2]] {
                #expect(run(packed: true, threads: threads, chunks: chunks) == want, "B \(batch) H \(h), \(threads) thread(s), chunks \(chunks)")
            }
        }
    }

    struct CellCase: CustomTestStringConvertible, Sendable {
        var kind: CellKind
        var activation: Activation
        var testDescription: String { "\(kind.rawValue)/\(activation.name)" }
    }

    /// H = 260 > 256: the packed weights are made (Float, fast) and used by every cell of
    /// PyTorch's layout; the step agrees with the naive oracle and is bit-identical on 1, 2
    /// and 3 threads.
    @Test(arguments: [CellCase(kind: .rnn, activation: .relu), CellCase(kind: .rnn, activation: .tanh),
                      CellCase(kind: .rnn, activation: .sigmoid), CellCase(kind: .lstm, activation: .tanh),
                      CellCase(kind: .gru, activation: .tanh)])
    func largeLayerStepMatchesNaive(_ c: CellCase) throws {
        switch c.kind {
        case .rnn: try compareLarge(RNNCell<Float>.self, c)
        case .lstm: try compareLarge(LSTMCell<Float>.self, c)
        case .gru: try compareLarge(GRUCell<Float>.self, c)
        default: Issue.record("no case for \(c.kind)")
        }
    }

    func compareLarge<Cell: RecurrentCell>(_ type: Cell.Type, _ c: CellCase) throws where Cell.Scalar == Float {
        let (b, t, i, h, o) = (5, 3, 3, 260, 4)
        let config = ModelConfiguration(cell: c.kind, activation: c.activation, inputSize: i, hiddenSize: h, layers: 1,
                                        outputs: o, readout: .everyStep, inputInit: .uniform(bound: 0.5),
                                        recurrentInit: .uniform(bound: 0.06), biasInit: .uniform(bound: 0.2))
        let model = try makeModel(Cell.self, config, seed: 3)
        let x = randomBatch(batch: b, steps: t, features: i, seed: 4, as: Float.self)
        var rng = SeededGenerator(seed: 5)
        let y: Targets<Float> = .classesPerStep((0..<(b * t)).map { _ in Draw.index(below: o, &rng) })
        func run(_ backend: Compute.Backend, threads: Int) throws -> [[Float]] {
            let r = try Compute.$backend.withValue(backend) {
                try Compute.$threads.withValue(threads) {
                    var workspace = ModelWorkspace<Float>()
                    let r = try model.gradients(x, y, loss: .crossEntropy, workspace: &workspace)
                    #expect((workspace.traces[0]?.packedRecurrentWeights != nil) == (backend == .fast), "packed weights only for the fast kernels")
                    #expect((workspace.traces[0]?.transposedRecurrentWeight != nil) == (backend != .fast),
                            "W_hhᵀ transposed only where no panels replace it")
                    return r
                }
            }
            var out: [[Float]] = []
            r.gradients.forEachTensor { _, _, g in out.append(g.storage) }
            return out + [r.inputGradient.values, r.pass.outputs.storage]
        }
        let naive = try run(.naive, threads: 1), fast = try run(.fast, threads: 1)
        let fast2 = try run(.fast, threads: 2), fast3 = try run(.fast, threads: 3)
        #expect(fast == fast2 && fast == fast3, "\(c.testDescription): threads differ")
        for (tensor, (f, n)) in zip(fast, naive).enumerated() {
            let scale = n.map { abs($0) }.max() ?? 0
            let worst = zip(f, n).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-4 * max(scale, 1e-3), "\(c.testDescription) tensor \(tensor): \(worst) (scale \(scale))")
        }
    }

    /// `ModelWorkspace(inputGradient: false)`: every weight gradient, the loss and the
    /// initial-state gradient are the same bits; dL/dx comes back empty ([B, T, 0]); layer 1
    /// still gets layer 0's h gradient (two layers).
    @Test func skippingTheInputGradientChangesNoWeightGradient() throws {
        let config = ModelConfiguration(cell: .rnn, activation: .relu, inputSize: 3, hiddenSize: 7, layers: 2, outputs: 2,
                                        readout: .lastStep, inputInit: .uniform(bound: 0.5), recurrentInit: .uniform(bound: 0.3),
                                        biasInit: .uniform(bound: 0.2))
        let model = try makeModel(RNNCell<Float>.self, config, seed: 1)
        let x = randomBatch(batch: 4, steps: 5, features: 3, seed: 2, as: Float.self)
        let y: Targets<Float> = .classes([0, 1, 1, 0])
        var on = ModelWorkspace<Float>(), off = ModelWorkspace<Float>(inputGradient: false)
        let a = try model.gradients(x, y, loss: .crossEntropy, workspace: &on)
        let b = try model.gradients(x, y, loss: .crossEntropy, workspace: &off)
        var ga: [[Float]] = [], gb: [[Float]] = []
        a.gradients.forEachTensor { _, _, g in ga.append(g.storage) }
        b.gradients.forEachTensor { _, _, g in gb.append(g.storage) }
        #expect(ga == gb && a.loss == b.loss)
        #expect(a.initialStateGradient == b.initialStateGradient)
        #expect(a.inputGradient.features == 3 && a.inputGradient.values.contains { $0 != 0 })
        #expect(b.inputGradient.features == 0 && b.inputGradient.values.isEmpty)
        #expect(b.inputGradient.batch == 4 && b.inputGradient.steps == 5)
    }

    /// The inference mode of the benchmark times `predict`: its record's first output is
    /// the model's, for the peer mode's model and inputs.
    @Test func inferenceBenchmarkTimesPredict() throws {
        var o = TrainingBenchmark.Options()
        o.mode = "inference"
        (o.hidden, o.input, o.seqLen, o.batch, o.classes, o.steps, o.warmup, o.pin) = (9, 2, 6, 3, 4, 2, 1, false)
        let record = try TrainingBenchmark.run(o)
        let model = try TrainingBenchmark.model(RNNCell<Float>.self, o)
        var rng = SeededGenerator(seed: o.seed)
        let x = SequenceBatch<Float>(batch: 3, steps: 6, features: 2, values: (0..<36).map { _ in Float(Draw.uniform01(&rng)) })
        #expect(record.finalLoss == Double(model.predict(x, chunkSize: 3).outputs[0]))
        #expect(record.flopsPerStep == TrainingBenchmark.flops(o).forward)
        #expect(record.json.contains("\"mode\": \"inference\""))
        o.mode = "other"
        #expect(throws: ConfigurationError.self) { try TrainingBenchmark.run(o) }
    }
}
