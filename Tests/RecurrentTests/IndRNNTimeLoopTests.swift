import Foundation
import Testing
@testable import Recurrent

/// IndRNN's fused time loop (`IndRNNCell.forwardSequence` / `backwardSequence`, one C call per
/// batch slice over all T steps) against the per-step loop it replaces (`forwardStep` /
/// `backwardStep` per t, the oracle): the same bits in every buffer, NaN and -0 included, on
/// whole batches and on slices; the recurrent gradients' C pass against the plain loop; and
/// whole training steps on 1, 2 and 3 threads, with equal and uneven lengths.
@Suite("IndRNN time loop")
struct IndRNNTimeLoopTests {
    /// A relu IndRNN with u of both signs and |u| > 1 in places, and its trace of `x`.
    static func layer(hidden h: Int, input i: Int, seed: UInt64) -> IndRNNCell<Float> {
        var rng = SeededGenerator(seed: seed)
        func draw(_ rows: Int, _ cols: Int, _ bound: Double) -> Matrix<Float> {
            Matrix(rows: rows, cols: cols, (0..<(rows * cols)).map { _ in Float(Draw.uniform(-bound, bound, &rng)) })
        }
        return IndRNNCell(parameters: CellParameters(weightIH: draw(h, i, 1), weightHH: draw(1, h, 1.3),
                                                     biasIH: draw(1, h, 0.3), biasHH: draw(1, h, 0.3)),
                          activation: .relu)
    }

    /// [rows, cols] uniform in [-1, 1].
    static func random(_ rows: Int, _ cols: Int, seed: UInt64) -> Matrix<Float> {
        Matrix(rows: rows, cols: cols, randomBatch(batch: rows, steps: 1, features: cols, seed: seed, as: Float.self).values)
    }

    static func bits(_ buffer: RowBuffer<Float>) -> [UInt32] { buffer.matrix().storage.map(\.bitPattern) }

    /// nil when `a` and `b` hold the same bits, else where and what first differs (a short
    /// message instead of two whole buffers).
    static func difference(_ a: RowBuffer<Float>, _ b: RowBuffer<Float>) -> String? {
        let x = bits(a), y = bits(b)
        guard x.count == y.count else { return "sizes \(x.count) and \(y.count)" }
        guard let i = x.indices.first(where: { x[$0] != y[$0] }) else { return nil }
        return "element \(i) (row \(i / a.cols)): \(Float(bitPattern: x[i])) vs \(Float(bitPattern: y[i]))"
    }

    /// (B, T, H, I): H not a multiple of 8 (the vector tail), one row, and a long sequence.
    static let shapes: [(Int, Int, Int, Int)] = [(5, 7, 13, 2), (1, 3, 8, 1), (16, 40, 100, 1), (3, 9, 3, 4)]

    /// The fused forward (from a stored input projection, as the forward-only windows run it)
    /// writes gates and h_1 ... h_T with the bits of the per-step loop, for the whole batch and
    /// for two slices (the second starting at row > 0); a NaN and a -0 in the input projection
    /// travel the same way.
    @Test(arguments: shapes)
    func forwardEqualsPerStepLoop(_ b: Int, _ t: Int, _ h: Int, _ i: Int) throws {
        let cell = Self.layer(hidden: h, input: i, seed: 1)
        let x = Self.random(t * b, i, seed: 2)
        let initial = LayerState(hidden: Self.random(b, h, seed: 3),
                                 memory: Matrix(rows: 0, cols: h))
        let fused = cell.forward(x, steps: t, batch: b, initial: initial)
        cell.projectInputs(fused.inputs.base, rows: t * b, into: fused.preInput.base)   // left unwritten by a small I's forward
        // Poke a NaN and a -0 into the projection and run both loops again from there.
        fused.preInput.row(0)[h - 1] = .nan
        fused.preInput.row(t * b - 1)[0] = -0.0
        let reference = cell.forward(x, steps: t, batch: b, initial: initial)
        reference.preInput.copy(from: fused.preInput.matrix())
        for buffer in [reference.preHidden, reference.gates] { buffer.base.update(repeating: 7, count: buffer.rows * buffer.cols) }
        for t0 in 0..<t { cell.forwardStep(t0, reference, rows: 0..<b) }
        #expect(cell.forwardSequence(fused, rows: 0..<b))
        #expect(Self.difference(fused.hidden, reference.hidden) == nil)
        #expect(Self.difference(fused.gates, reference.gates) == nil)
        #expect(fused.hidden.row(b)[h - 1].isNaN, "the NaN reaches h_1")
        // Two slices give the bits of the whole batch.
        let sliced = cell.forward(x, steps: t, batch: b, initial: initial)
        sliced.preInput.copy(from: fused.preInput.matrix())
        let cut = b / 2
        #expect(cell.forwardSequence(sliced, rows: 0..<cut) && cell.forwardSequence(sliced, rows: cut..<b))
        #expect(Self.difference(sliced.hidden, fused.hidden) == nil)
    }

    /// The fused backward (with and without a gradient at every step) leaves dL/dh_0 and
    /// dL/dnet of every step with the bits of the unroller's per-step loop (dh += dOut[t],
    /// then `backwardStep`); the recurrent gradients' fast pass equals the plain loop.
    @Test(arguments: shapes)
    func backwardEqualsPerStepLoop(_ b: Int, _ t: Int, _ h: Int, _ i: Int) throws {
        let cell = Self.layer(hidden: h, input: i, seed: 4)
        let x = Self.random(t * b, i, seed: 5)
        let trace = cell.forward(x, steps: t, batch: b, initial: .zeros(batch: b, hiddenSize: h, hasMemory: false))
        let dOut = Self.random(t * b, h, seed: 6)   // [T*B, H]
        let dFinal = Self.random(b, h, seed: 7)      // [B, H]
        for outputGradient in [dOut, nil] {
            func buffers() -> BackwardBuffers<Float> {
                let g = BackwardBuffers<Float>(steps: t, batch: b, hiddenSize: h, gateCount: 1, separateHiddenGradient: false,
                                               hasMemory: false, scratch: false)
                g.dHidden.copy(from: dFinal)
                return g
            }
            let fused = buffers(), reference = buffers(), sliced = buffers()
            #expect(cell.backwardSequence(trace, fused, outputGradient: outputGradient, rows: 0..<b))
            let cut = (b + 1) / 2
            #expect(cell.backwardSequence(trace, sliced, outputGradient: outputGradient, rows: cut..<b)
                    && cell.backwardSequence(trace, sliced, outputGradient: outputGradient, rows: 0..<cut))
            for t0 in stride(from: t - 1, through: 0, by: -1) {
                if let d = outputGradient {
                    for k in 0..<(b * h) { reference.dHidden.base[k] += d.storage[t0 * b * h + k] }
                }
                cell.backwardStep(t0, trace, reference, rows: 0..<b)
            }
            for g in [fused, sliced] {
                #expect(Self.difference(g.dHidden, reference.dHidden) == nil, "dL/dh_0, dOut \(outputGradient != nil)")
                #expect(Self.difference(g.dPreInput, reference.dPreInput) == nil, "dL/dnet, dOut \(outputGradient != nil)")
            }
            var fast = cell.parameters.zerosLike, plain = cell.parameters.zerosLike
            cell.recurrentWeightGradients(trace, fused, into: &fast)
            Compute.$backend.withValue(.naive) { cell.recurrentWeightGradients(trace, fused, into: &plain) }
            #expect(fast[1].storage.map(\.bitPattern) == plain[1].storage.map(\.bitPattern), "du")   // [H]: short
            #expect(fast[3].storage.map(\.bitPattern) == plain[3].storage.map(\.bitPattern), "db_hh")
            #expect(fast[1].storage.contains { $0 != 0 })
        }
    }

    // MARK: - The input product and the weight gradients inside the loops (1 <= I <= 8)

    /// The instruction sets this machine can run (each gives the same bits).
    static let instructionSets = Compute.InstructionSet.allCases.filter { $0 <= Compute.availableInstructionSet }

    /// (B, T, H, I) for the input product in the loop: I from 1 to 8 (the limit) and 9 (beyond:
    /// the product), H below, at and past a vector's width.
    static let projectingShapes: [(Int, Int, Int, Int)] = [(5, 7, 13, 2), (1, 3, 8, 1), (16, 40, 100, 1), (3, 9, 37, 8),
                                                           (4, 6, 17, 9)]

    /// The forward with U x_t + b_ih formed in the loop (`forwardSequenceProjecting`, what
    /// `forward` runs for relu with I <= 8) against the unroller's product followed by
    /// `forwardStep` for each t (the oracle): the same bits of net and h under every
    /// instruction set, for the whole batch and for two slices; a NaN and a -0 in x travel the same way.
    @Test(arguments: projectingShapes)
    func projectingForwardEqualsProductThenSteps(_ b: Int, _ t: Int, _ h: Int, _ i: Int) throws {
        let cell = Self.layer(hidden: h, input: i, seed: 21)
        var x = Self.random(t * b, i, seed: 22)
        x.storage[0] = .nan
        x.storage[x.storage.count - 1] = -0.0
        let initial = LayerState(hidden: Self.random(b, h, seed: 23), memory: Matrix(rows: 0, cols: h))
        let reference = SequenceTrace<Float>(steps: t, batch: b, inputSize: i, hiddenSize: h, gateCount: 1, hasMemory: false)
        reference.inputs.copy(from: x)
        reference.hidden.copy(from: initial.hidden)
        cell.projectInputs(reference.inputs.base, rows: t * b, into: reference.preInput.base)
        for t0 in 0..<t { cell.forwardStep(t0, reference, rows: 0..<b) }
        #expect(reference.hidden.row(b)[0].isNaN, "the NaN of x reaches h_1")
        for set in Self.instructionSets {
            Compute.withInstructionSet(set) {
                #expect(cell.projectsInputsInSequence(reference) == (i <= Kernels.fusedInputLimit))
                let fused = cell.forward(x, steps: t, batch: b, initial: initial)
                #expect(Self.difference(fused.hidden, reference.hidden) == nil, "h under \(set.name)")
                #expect(Self.difference(fused.gates, reference.gates) == nil, "net under \(set.name)")
                guard cell.projectsInputsInSequence(fused) else { return }
                let sliced = cell.forward(x, steps: t, batch: b, initial: initial)
                sliced.hidden.base.update(repeating: 7, count: sliced.hidden.rows * sliced.hidden.cols)
                sliced.hidden.copy(from: initial.hidden)
                let cut = b / 2
                cell.forwardSequenceProjecting(sliced, rows: cut..<b)
                cell.forwardSequenceProjecting(sliced, rows: 0..<cut)
                #expect(Self.difference(sliced.hidden, reference.hidden) == nil, "slices under \(set.name)")
            }
        }
    }

    /// dW_ih, db_ih, du and db_hh in one pass (`weightGradientsInOnePass`) against the
    /// unroller's products and `recurrentWeightGradients` (the oracle), accumulating onto
    /// nonzero gradients: the same bits under every instruction set on 1, 2 and 3 threads
    /// (the units split in blocks of 16 from T*B*H = 65536 on), a NaN in dnet included.
    @Test(arguments: [(5, 7, 13, 2), (16, 50, 100, 1), (3, 9, 37, 8), (7, 40, 300, 3), (4, 6, 17, 9)])
    func gradientsInOnePassEqualProducts(_ b: Int, _ t: Int, _ h: Int, _ i: Int) throws {
        let cell = Self.layer(hidden: h, input: i, seed: 24)
        let trace = cell.forward(Self.random(t * b, i, seed: 25), steps: t, batch: b,
                                 initial: LayerState(hidden: Self.random(b, h, seed: 26), memory: Matrix(rows: 0, cols: h)))
        let grad = BackwardBuffers<Float>(steps: t, batch: b, hiddenSize: h, gateCount: 1, separateHiddenGradient: false,
                                          hasMemory: false, scratch: false)
        grad.dPreInput.copy(from: Self.random(t * b, h, seed: 27))
        grad.dPreInput.row(t * b / 2)[h / 2] = .nan
        let start = CellParameters(cell.parameters.tensors.enumerated().map { k, m in Self.random(m.rows, m.cols, seed: 30 + UInt64(k)) })
        var reference = start
        cell.inputAndRecurrentWeightGradients(trace, grad, masked: false, into: &reference)
        let fuses = i <= Kernels.fusedInputLimit
        for set in Self.instructionSets {
            for threads in [1, 2, 3] {
                Compute.withInstructionSet(set) {
                    Compute.$threads.withValue(threads) {
                        var g = start
                        #expect(cell.weightGradientsInOnePass(trace, grad, into: &g) == fuses)
                        guard fuses else { return }
                        for k in 0..<4 {
                            #expect(g[k].storage.map(\.bitPattern) == reference[k].storage.map(\.bitPattern),
                                    "tensor \(k) under \(set.name) on \(threads) threads")
                        }
                        #expect(g[1].storage[h / 2].isNaN && g[0].storage[(h / 2) * i].isNaN, "the NaN reaches du and dW_ih")
                    }
                }
            }
        }
    }

    /// The backward loop that sums the weight gradients as it goes
    /// (`backwardSequenceSummingGradients`, what `backward` runs for relu, equal lengths, I <= 8)
    /// against an oracle written here in the same order (per batch row, t descending: dW by fma,
    /// db, du; then rows in order): the same bits under every instruction set on 1, 2 and 3
    /// threads, with and without a gradient at every step, dnet stored or not; dL/dh_0 and dnet
    /// with the per-step loop's bits; and every gradient within rounding of the products'
    /// (`inputAndRecurrentWeightGradients`, the other order).
    @Test(arguments: [(5, 7, 13, 2), (16, 30, 100, 1), (3, 9, 37, 8), (1, 4, 8, 1)])
    func backwardSummingEqualsItsOracle(_ b: Int, _ t: Int, _ h: Int, _ i: Int) throws {
        let cell = Self.layer(hidden: h, input: i, seed: 40)
        let trace = cell.forward(Self.random(t * b, i, seed: 41), steps: t, batch: b,
                                 initial: LayerState(hidden: Self.random(b, h, seed: 42), memory: Matrix(rows: 0, cols: h)))
        let dFinal = Self.random(b, h, seed: 43)
        let start = CellParameters(cell.parameters.tensors.enumerated().map { k, m in Self.random(m.rows, m.cols, seed: 44 + UInt64(k)) })
        func buffers() -> BackwardBuffers<Float> {
            let g = BackwardBuffers<Float>(steps: t, batch: b, hiddenSize: h, gateCount: 1, separateHiddenGradient: false,
                                           hasMemory: false, scratch: false)
            g.dHidden.copy(from: dFinal)
            return g
        }
        let x = trace.inputs.matrix().storage, hs = trace.hidden.matrix().storage
        for outputGradient in [Self.random(t * b, h, seed: 48), nil] {
            // The oracle: the per-step loop for dnet and dL/dh_0, then each row's sums over t descending.
            let stepped = buffers()
            for t0 in stride(from: t - 1, through: 0, by: -1) {
                if let d = outputGradient { for k in 0..<(b * h) { stepped.dHidden.base[k] += d.storage[t0 * b * h + k] } }
                cell.backwardStep(t0, trace, stepped, rows: 0..<b)
            }
            let dnet = stepped.dPreInput.matrix().storage
            var oracle = start
            var pw = [Float](repeating: 0, count: b * i * h), pb = [Float](repeating: 0, count: b * h), pu = pb
            for r in 0..<b {
                for t0 in stride(from: t - 1, through: 0, by: -1) {
                    let row = t0 * b + r
                    for j in 0..<h {
                        let d = dnet[row * h + j]
                        for q in 0..<i { pw[(r * i + q) * h + j] = pw[(r * i + q) * h + j].addingProduct(d, x[row * i + q]) }
                        pb[r * h + j] += d
                        pu[r * h + j] += d * hs[row * h + j]
                    }
                }
            }
            for r in 0..<b {
                for j in 0..<h {
                    for q in 0..<i { oracle[0].storage[j * i + q] += pw[(r * i + q) * h + j] }
                    oracle[1].storage[j] += pu[r * h + j]
                    oracle[2].storage[j] += pb[r * h + j]
                    oracle[3].storage[j] += pb[r * h + j]
                }
            }
            var products = start
            cell.inputAndRecurrentWeightGradients(trace, stepped, masked: false, into: &products)
            for set in Self.instructionSets {
                for threads in [1, 2, 3] {
                    for store in [true, false] {
                        Compute.withInstructionSet(set) {
                            Compute.$threads.withValue(threads) {
                                let g = buffers()
                                var sums = start
                                #expect(cell.backwardSequenceSummingGradients(trace, g, outputGradient: outputGradient,
                                                                               storeInputGradient: store, into: &sums))
                                let what = "\(set.name), \(threads) threads, dnet stored \(store), dOut \(outputGradient != nil)"
                                for k in 0..<4 {
                                    #expect(sums[k].storage.map(\.bitPattern) == oracle[k].storage.map(\.bitPattern), "tensor \(k): \(what)")
                                    let scale = products[k].storage.map { abs($0) }.max() ?? 0
                                    let worst = zip(sums[k].storage, products[k].storage).map { abs($0 - $1) }.max() ?? 0
                                    #expect(worst <= 1e-5 * max(scale, 1), "tensor \(k) against the products: \(what)")
                                }
                                #expect(Self.difference(g.dHidden, stepped.dHidden) == nil, "dL/dh_0: \(what)")
                                if store { #expect(Self.difference(g.dPreInput, stepped.dPreInput) == nil, "dnet: \(what)") }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Where the fused loop does not apply it says so and writes nothing: other activations,
    /// Double, the naive backend (the per-step loop is then the only path).
    @Test func fusedLoopOnlyForFloatReluOnTheFastBackend() throws {
        let (b, t, h) = (2, 3, 5)
        var tanh = Self.layer(hidden: h, input: 1, seed: 8)
        tanh.activation = .tanh
        let x = Self.random(t * b, 1, seed: 9)
        let zero = LayerState<Float>.zeros(batch: b, hiddenSize: h, hasMemory: false)
        let trace = tanh.forward(x, steps: t, batch: b, initial: zero)
        let before = Self.bits(trace.hidden)
        #expect(!tanh.forwardSequence(trace, rows: 0..<b))
        #expect(!tanh.projectsInputsInSequence(trace))
        var none = tanh.parameters.zerosLike
        let g = BackwardBuffers<Float>(steps: t, batch: b, hiddenSize: h, gateCount: 1, separateHiddenGradient: false,
                                       hasMemory: false, scratch: false)
        #expect(!tanh.backwardSequenceSummingGradients(trace, g, outputGradient: nil, storeInputGradient: true, into: &none))
        #expect(none[1].storage.allSatisfy { $0 == 0 }, "nothing written")
        let relu = Self.layer(hidden: h, input: 1, seed: 8)
        #expect(!Compute.$backend.withValue(.naive) { relu.forwardSequence(trace, rows: 0..<b) })
        #expect(!Compute.$backend.withValue(.naive) { relu.projectsInputsInSequence(trace) })
        #expect(Self.bits(trace.hidden) == before, "nothing written")
        let double = IndRNNCell<Double>(parameters: CellParameters(relu.parameters.tensors.map { $0.converted(to: Double.self) }),
                                        activation: .relu)
        let dTrace = double.forward(x.converted(to: Double.self), steps: t, batch: b,
                                    initial: .zeros(batch: b, hiddenSize: h, hasMemory: false))
        #expect(!double.forwardSequence(dTrace, rows: 0..<b))
        #expect(!double.projectsInputsInSequence(dTrace))
    }

    /// Whole training steps of a 2-layer IndRNN (T = 30, B = 7, H = 20), both readouts, equal
    /// lengths (the fused loop) and uneven ones (the per-step loop): the same bits on 1, 2 and
    /// 3 threads (slices of 7, 4+3, 3+2+2 rows), and within 1e-4 of the naive backend (the
    /// per-step loop with the plain kernels).
    @Test(arguments: [Readout.lastStep, .everyStep])
    func trainingStepIsThreadInvariant(_ readout: Readout) throws {
        let (b, t, i, h, o) = (7, 30, 2, 20, 3)
        let config = ModelConfiguration(cell: .indrnn, activation: .relu, inputSize: i, hiddenSize: h, layers: 2,
                                        outputs: o, readout: readout, inputInit: .uniform(bound: 0.5),
                                        recurrentInit: .uniform(bound: 1.1), biasInit: .uniform(bound: 0.2))
        let model = try makeModel(IndRNNCell<Float>.self, config, seed: 10)
        var rng = SeededGenerator(seed: 11)
        for lengths in [nil, [30, 4, 17, 30, 1, 29, 12]] {
            var x = randomBatch(batch: b, steps: t, features: i, seed: 12, as: Float.self)
            x.lengths = lengths
            let y: Targets<Float> = readout == .lastStep
                ? .classes((0..<b).map { _ in Draw.index(below: o, &rng) })
                : .classesPerStep((0..<(b * t)).map { _ in Draw.index(below: o, &rng) })
            func run(_ backend: Compute.Backend, threads: Int) throws -> [[UInt32]] {
                let r = try Compute.$backend.withValue(backend) {
                    try Compute.$threads.withValue(threads) { try model.gradients(x, y, loss: .crossEntropy) }
                }
                var out: [[UInt32]] = []
                r.gradients.forEachTensor { _, _, g in out.append(g.storage.map(\.bitPattern)) }
                out.append(r.inputGradient.values.map(\.bitPattern))
                out.append(r.pass.outputs.storage.map(\.bitPattern))
                return out
            }
            let one = try run(.fast, threads: 1)
            for threads in [2, 3] {
                let other = try run(.fast, threads: threads)
                #expect(other.count == one.count && zip(other, one).allSatisfy { $0 == $1 }, "lengths \(lengths.map { "\($0)" } ?? "equal"): 1 vs \(threads) threads")
            }
            let naive = try run(.naive, threads: 1)
            for (f, n) in zip(one, naive) {
                let fv = f.map(Float.init(bitPattern:)), nv = n.map(Float.init(bitPattern:))
                let scale = nv.map { abs($0) }.max() ?? 0, worst = zip(fv, nv).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-4 * max(scale, 1e-3))
            }
        }
    }

    /// The portable C bodies (`RECURRENT_NO_AVX2`) of the fused loop give the AVX2 bodies'
    /// bits, through the binary: the same training loss after three steps with a large
    /// learning rate (so that the gradients shape it), readout on the last step and on every one.
    @Test(arguments: ["last", "every"])
    func portableBodiesGiveTheSameBits(_ readout: String) throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["bench", "--cell", "indrnn", "--hidden", "13", "--input", "3", "--seq-len", "6", "--batch", "5",
                    "--classes", "3", "--steps", "3", "--warmup", "0", "--lr", "0.5", "--readout", readout, "--no-pin", "--json"]
        let fast = try CLIBenchTests.record(try CLI.run(args, in: dir))
        let portable = try CLIBenchTests.record(try CLI.run(args, in: dir, environment: ["RECURRENT_NO_AVX2": "1"]))
        #expect(portable["kernels"] as? String == "c-portable")
        let loss = try #require(fast["final_loss"] as? Double)
        #expect(loss.isFinite && portable["final_loss"] as? Double == loss, "avx2 \(loss), portable \(portable["final_loss"] ?? "nil")")
    }
}
