import Testing
@testable import Recurrent

/// A NaN in gives NaN out, as in PyTorch: every activation, every cell, the fast kernels
/// and the naive oracle, Float and Double, losses and argmax. A comparison such as
/// `x > 0 ? x : 0` or an AVX `max_ps(x, 0)` turns NaN into 0 and hides a diverged model.
@Suite("NaN propagates as in PyTorch")
struct NaNPropagationTests {
    static let activations: [Activation] = Activation.allCases + [.leakyRelu(slope: 0.2), .clippedRelu(max: 1)]

    // MARK: - Activations

    @Test(arguments: activations)
    func activationOfNaNIsNaN(_ f: Activation) {
        #expect(f.value(Float.nan).isNaN, "\(f.name)(NaN) in Float")
        #expect(f.value(Double.nan).isNaN, "\(f.name)(NaN) in Double")
        #expect(f.value(Float.signalingNaN).isNaN && f.value(-Double.nan).isNaN, "\(f.name) of other NaNs")
    }

    /// f'(NaN) is PyTorch's backward: threshold_backward (relu) and hardtanh_backward
    /// (clipped relu) test `x <= 0`, so the gradient passes; leaky_relu_backward scales it
    /// by the slope; the smooth ones compute NaN.
    @Test func derivativesAtNaNFollowPyTorchBackward() {
        func d(_ f: Activation) -> Double { f.derivative(input: .nan, output: f.value(Double.nan)) }
        #expect(d(.relu) == 1)
        #expect(d(.clippedRelu(max: 6)) == 1)
        #expect(d(.leakyRelu(slope: 0.1)) == 0.1)
        #expect(d(.identity) == 1)
        #expect(d(.tanh).isNaN && d(.sigmoid).isNaN && d(.softplus).isNaN)
        // Away from NaN nothing changed: the kinks keep PyTorch's values.
        #expect(Activation.relu.derivative(input: 0.0, output: 0) == 0 && Activation.relu.derivative(input: 2.0, output: 2) == 1)
        #expect(Activation.clippedRelu(max: 6).derivative(input: 6.0, output: 6) == 0)
        #expect(Activation.clippedRelu(max: 6).derivative(input: 0.0, output: 0) == 0)
    }

    /// relu is `x < 0 ? 0 : x`, the AVX kernel's `max_ps(0, x)`: NaN and -0.0 pass unchanged.
    @Test func reluOfSpecialValues() {
        let f = Activation.relu
        #expect(f.value(Float(-0.0)).bitPattern == Float(-0.0).bitPattern)
        #expect(f.value(Float(0)).bitPattern == Float(0).bitPattern)
        #expect(f.value(-Float.infinity) == 0 && f.value(Float.infinity) == .infinity)
        #expect(f.value(Float(-3)) == 0 && f.value(Float(3)) == 3)
        #expect(Activation.clippedRelu(max: 6).value(Double.infinity) == 6)
        #expect(Activation.softplus.value(-Double.infinity) == 0)
    }

    // MARK: - Fast kernels against the Swift expressions, bit for bit

    /// NaN, ±infinity, ±0, the extremes and ordinary values, cycled to `count`.
    static func specials(_ count: Int) -> [Float] {
        let base: [Float] = [.nan, 1.5, -0.0, .infinity, -2.5, 0, -.infinity, .greatestFiniteMagnitude,
                             -.greatestFiniteMagnitude, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, -.nan, 0.25]
        return (0..<count).map { base[$0 % base.count] }
    }

    static func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.isNaN ? $1.isNaN : $0.bitPattern == $1.bitPattern }
    }

    /// The fused step's relu epilogue (AVX2 `max_ps(0, net)`, masked tail) equals
    /// `Activation.relu.value` on every special value, on 1 and 2 threads. With h_{t-1} = 0,
    /// W_hhᵀ = -1 and b_hh = -0.0 every product chain is exactly -0.0, so net = x + (-0.0) = x.
    @Test(arguments: [(1, 19), (3, 8), (2, 37)])
    func fusedReluStepKeepsNaNAndSignedZero(_ rows: Int, _ h: Int) {
        let hPrev = [Float](repeating: 0, count: rows * h), wt = [Float](repeating: -1, count: h * h)
        let bias = [Float](repeating: -0.0, count: h), x = Self.specials(rows * h)
        for threads in [1, 2] {
            var net = [Float](repeating: 7, count: rows * h), out = net
            let fused = Compute.$threads.withValue(threads) {
                Kernels.recurrentStep(rows: rows, width: h, hidden: h, hPrev: hPrev, transposedWeight: wt, bias: bias,
                                      x: x, net: &net, hNew: &out, activation: .relu)
            }
            #expect(fused)
            #expect(Self.sameBits(net, x), "net = x + (-0.0) must be x, \(threads) thread(s)")
            #expect(Self.sameBits(out, x.map { Activation.relu.value($0) }), "relu epilogue, \(rows)x\(h), \(threads) thread(s)")
            #expect(out.enumerated().allSatisfy { x[$0.offset].isNaN == $0.element.isNaN })
        }
    }

    /// relu backward (AVX2 and tail) equals the Swift loop `net <= 0 ? 0 : dh`: a NaN net
    /// passes dh through, as PyTorch's threshold_backward does.
    @Test(arguments: [5, 8, 19, 40])
    func reluBackwardMatchesTheSwiftLoop(_ n: Int) {
        let net = Self.specials(n)
        let dh = (0..<n).map { Float($0) * 0.5 - 3 }
        var fast = [Float](repeating: 9, count: n)
        #expect(Kernels.reluBackward(count: n, net: net, dh: dh, into: &fast))
        let swift = (0..<n).map { net[$0] <= 0 ? 0 : dh[$0] }
        #expect(Self.sameBits(fast, swift))
        #expect(fast[0] == dh[0], "net = NaN passes dh")
        var naive = [Float](repeating: 9, count: n)
        Compute.$backend.withValue(.naive) { #expect(!Kernels.reluBackward(count: n, net: net, dh: dh, into: &naive)) }
    }

    /// The vector tanh (and through exp8 the vector sigmoid of the LSTM and GRU kernels):
    /// NaN in, NaN out; ±infinity saturates to ±1.
    @Test func vectorTanhKeepsNaN() {
        let n = 21
        let x = Self.specials(n), zero = [Float](repeating: 0, count: n)
        var net = zero, h = zero
        #expect(Kernels.tanhStep(count: n, x: x, r: zero, net: &net, h: &h))
        for i in 0..<n {
            if x[i].isNaN { #expect(h[i].isNaN, "tanh(NaN) at \(i)") } else { #expect(h[i].isFinite && abs(h[i]) <= 1) }
            if x[i].isInfinite { #expect(h[i] == (x[i] > 0 ? 1 : -1)) }
        }
    }

    // MARK: - Every cell, fast and naive, Float and Double

    struct CellCase: CustomTestStringConvertible, Sendable {
        var kind: CellKind
        var activation: Activation
        var testDescription: String { "\(kind.rawValue)/\(activation.name)" }
    }

    static let cells: [CellCase] = activations.map { CellCase(kind: .rnn, activation: $0) } + [
        CellCase(kind: .lstm, activation: .tanh), CellCase(kind: .gru, activation: .tanh),
        CellCase(kind: .indrnn, activation: .relu), CellCase(kind: .indrnn, activation: .tanh),
        CellCase(kind: .indrnn, activation: .clippedRelu(max: 2)), CellCase(kind: .cornn, activation: .tanh),
    ]

    /// Where a NaN goes, and what the rest computes.
    struct Outcome {
        var outputs: [Double]
        var loss: Double
        var gradients: [Double]
    }

    static func run<Cell: RecurrentCell>(_ type: Cell.Type, _ c: CellCase, poison: (inout RecurrentModel<Cell>, inout SequenceBatch<Cell.Scalar>) -> Void,
                                         backend: Compute.Backend, threads: Int = 1) throws -> Outcome {
        // H = 19: a vector body of 16 and a tail of 3 in every AVX kernel; two layers.
        let config = ModelConfiguration(cell: c.kind, activation: c.activation, inputSize: 3, hiddenSize: 19, layers: 2,
                                        outputs: 2, readout: .lastStep, inputInit: .uniform(bound: 0.5),
                                        recurrentInit: .uniform(bound: 0.3), biasInit: .uniform(bound: 0.2))
        var model = try makeModel(Cell.self, config, seed: 3)
        var x = randomBatch(batch: 3, steps: 6, features: 3, seed: 4, as: Cell.Scalar.self)
        poison(&model, &x)
        let y = Targets<Cell.Scalar>.classes([0, 1, 1])
        let r = try Compute.$backend.withValue(backend) {
            try Compute.$threads.withValue(threads) { try model.gradients(x, y, loss: .crossEntropy) }
        }
        var gradients: [Double] = []
        r.gradients.forEachTensor { _, _, g in gradients += g.storage.map(Double.init) }
        return Outcome(outputs: r.pass.outputs.storage.map(Double.init), loss: r.loss, gradients: gradients)
    }

    static func outcomes(_ c: CellCase, poison: PoisonSite) throws -> [(String, Outcome)] {
        switch c.kind {
        case .rnn: return try outcomes(RNNCell<Float>.self, RNNCell<Double>.self, c, poison)
        case .lstm: return try outcomes(LSTMCell<Float>.self, LSTMCell<Double>.self, c, poison)
        case .gru: return try outcomes(GRUCell<Float>.self, GRUCell<Double>.self, c, poison)
        case .indrnn: return try outcomes(IndRNNCell<Float>.self, IndRNNCell<Double>.self, c, poison)
        case .cornn: return try outcomes(CoRNNCell<Float>.self, CoRNNCell<Double>.self, c, poison)
        default: Issue.record("no case for \(c.kind)"); return []
        }
    }

    enum PoisonSite { case input, recurrentWeight }

    static func outcomes<F: RecurrentCell, D: RecurrentCell>(_ f: F.Type, _ d: D.Type, _ c: CellCase, _ site: PoisonSite) throws
        -> [(String, Outcome)] where F.Scalar == Float, D.Scalar == Double {
        func poison<Cell: RecurrentCell>(_ m: inout RecurrentModel<Cell>, _ x: inout SequenceBatch<Cell.Scalar>) {
            switch site {
            case .input: x[1, 2, 0] = .nan                                   // sequence 1, step 3
            case .recurrentWeight: m.layers[0].parameters[Cell.tensorIndex(.recurrentWeight)!].storage[5] = .nan
            }
        }
        let fast = try run(F.self, c, poison: poison, backend: .fast)
        let fast2 = try run(F.self, c, poison: poison, backend: .fast, threads: 2)
        #expect(Self.sameBits(fast.outputs.map(Float.init), fast2.outputs.map(Float.init))
                && Self.sameBits(fast.gradients.map(Float.init), fast2.gradients.map(Float.init)),
                "\(c.testDescription): 1 and 2 threads differ")
        return [("fast", fast), ("naive", try run(F.self, c, poison: poison, backend: .naive)),
                ("double", try run(D.self, c, poison: poison, backend: .naive))]
    }

    /// A NaN input reaches that sequence's outputs and nothing else (batch rows never mix
    /// in the forward pass); the loss is NaN, so are gradients; fast, naive and Double agree on
    /// where the NaN is and, elsewhere, on the values.
    @Test(arguments: cells)
    func nanInputReachesItsSequenceOnly(_ c: CellCase) throws {
        let results = try Self.outcomes(c, poison: .input)
        for (name, r) in results {
            #expect(r.outputs.count == 6)
            #expect(r.outputs[2...3].allSatisfy { $0.isNaN }, "\(c.testDescription) \(name): sequence 1's outputs \(r.outputs)")
            #expect(r.outputs[0...1].allSatisfy { $0.isFinite } && r.outputs[4...5].allSatisfy { $0.isFinite },
                    "\(c.testDescription) \(name): the other sequences must stay finite: \(r.outputs)")
            #expect(r.loss.isNaN, "\(c.testDescription) \(name): loss \(r.loss)")
            #expect(r.gradients.contains { $0.isNaN }, "\(c.testDescription) \(name): no NaN gradient")
        }
        let reference = results[2].1.outputs
        for (name, r) in results.dropLast() {
            #expect(zip(r.outputs, reference).allSatisfy { $0.isNaN == $1.isNaN }, "\(c.testDescription) \(name): NaN pattern")
            #expect(zip(r.outputs, reference).allSatisfy { $0.isNaN || abs($0 - $1) <= 1e-4 }, "\(c.testDescription) \(name) vs Double")
        }
    }

    /// One NaN in layer 0's recurrent weights (the diverged checkpoint of the issue) makes
    /// every output NaN after a few steps, where `max(x, 0)` used to print a finite number.
    @Test(arguments: cells)
    func nanRecurrentWeightMakesEveryOutputNaN(_ c: CellCase) throws {
        for (name, r) in try Self.outcomes(c, poison: .recurrentWeight) {
            #expect(r.outputs.allSatisfy { $0.isNaN }, "\(c.testDescription) \(name): outputs \(r.outputs)")
            #expect(r.loss.isNaN, "\(c.testDescription) \(name)")
        }
    }

    // MARK: - Losses and argmax

    @Test func lossesPropagateNaNRowByRow() throws {
        let z = Matrix<Double>([[1, 2, 3], [0.5, .nan, 0], [2, 1, 0]])
        let (ce, g) = try Loss.crossEntropy.evaluate(z, .classes([2, 0, 0]))
        #expect(ce.isNaN)
        #expect(g.row(1).allSatisfy { $0.isNaN } && g.row(0).allSatisfy { $0.isFinite } && g.row(2).allSatisfy { $0.isFinite })
        let (ignored, _) = try Loss.crossEntropy.evaluate(z, .classes([2, -1, 0]))
        #expect(ignored.isFinite, "a row without a class is not in the loss (ignore_index)")
        let (mse, gm) = try Loss.meanSquaredError.evaluate(z, .values(Matrix(rows: 3, cols: 3)))
        #expect(mse.isNaN && gm[1, 1].isNaN && gm[1, 0].isFinite)
    }

    /// PyTorch's argmax: the first NaN wins; otherwise the first of equal maxima.
    @Test func argmaxPicksNaN() {
        #expect([1.0, .nan, 3, .nan].argmax() == 1)
        #expect([1.0, 3, 3].argmax() == 1)
        #expect([-Float.infinity].argmax() == 0)
        #expect([Double]().argmax() == nil)
        #expect([5.0, 1, 2][1...].argmax() == 1, "an offset from the slice's start")
        let z = Matrix<Float>([[0, 9, 1], [.nan, 9, 1], [0, 1, .nan]])
        #expect(Loss.crossEntropy.accuracy(z, .classes([1, 0, 2])) == 1)
        #expect(Loss.crossEntropy.accuracy(z, .classes([1, 1, 1])) == Double(1) / 3)
    }
}
