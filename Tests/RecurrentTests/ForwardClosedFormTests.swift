import Testing
@testable import Recurrent

/// Forward values against numbers computed independently of the library: the seed's
/// (10.11) in the regimes where it has a closed form.
@Suite("Forward pass: closed forms (10.9)-(10.11)")
struct ForwardClosedFormTests {
    /// An RNN layer with explicit U, W, b.
    func rnn(_ u: Matrix<Double>, _ w: Matrix<Double>, activation: Activation = .relu) -> RNNCell<Double> {
        RNNCell(parameters: CellParameters(weightIH: u, weightHH: w, biasIH: Matrix(rows: 1, cols: w.rows),
                                           biasHH: Matrix(rows: 1, cols: w.rows)), activation: activation)
    }

    @Test func identityReluIsARunningSumOfUx() {
        // W = I, ReLU active (U x >= 0): h_t = Σ_{s<=t} U x_s exactly.
        let (b, t, i, h) = (2, 30, 3, 4)
        var rng = SeededGenerator(seed: 3)
        let u = Matrix<Double>(rows: h, cols: i, (0..<(h * i)).map { _ in Draw.uniform(0, 1, &rng) })
        let x = SequenceBatch<Double>(batch: b, steps: t, features: i, values: (0..<(b * t * i)).map { _ in Draw.uniform(0, 1, &rng) })
        let cell = rnn(u, Initializer.identity(scale: 1).matrix(rows: h, cols: h, using: &rng))
        let trace = cell.forward(x.timeMajor, steps: t, batch: b, initial: .zeros(batch: b, hiddenSize: h, hasMemory: false))
        for seq in 0..<b {
            var sum = [Double](repeating: 0, count: h)
            for step in 0..<t {
                for r in 0..<h { for c in 0..<i { sum[r] += u[r, c] * x[seq, step, c] } }
                for r in 0..<h {
                    #expect(isClose(trace.hidden.row((step + 1) * b + seq)[r], sum[r], rtol: 1e-12), "h_\(step + 1)[\(seq), \(r)]")
                }
            }
        }
    }

    @Test(arguments: [1.1, 0.9, 1.0])
    func scaledIdentityGrowsAsAPower(_ s: Double) {
        // W = s I, one input at t = 1 then zeros: h_t = s^(t-1) U x_1.
        let (t, h) = (60, 3)
        var rng = SeededGenerator(seed: 5)
        let u = Matrix<Double>(rows: h, cols: 1, [0.5, 1.0, 2.0])
        var values = [Double](repeating: 0, count: t)
        values[0] = 1
        let cell = rnn(u, Initializer.identity(scale: s).matrix(rows: h, cols: h, using: &rng))
        let trace = cell.forward(SequenceBatch(batch: 1, steps: t, features: 1, values: values).timeMajor, steps: t, batch: 1,
                                 initial: .zeros(batch: 1, hiddenSize: h, hasMemory: false))
        for step in 1...t {
            for r in 0..<h {
                let expected = u[r, 0] * Double.exp(Double(step - 1) * Double.log(s))
                #expect(isClose(trace.hidden.row(step)[r], expected, rtol: 1e-12))
            }
        }
    }

    @Test func lstmOneStepByHand() {
        // H = 1, I = 1: every gate by hand with scalar formulas.
        let p = CellParameters<Double>(weightIH: Matrix(rows: 4, cols: 1, [0.1, 0.2, 0.3, 0.4]),
                                       weightHH: Matrix(rows: 4, cols: 1, [-0.5, 0.6, -0.7, 0.8]),
                                       biasIH: Matrix(row: [0.01, 0.02, 0.03, 0.04]),
                                       biasHH: Matrix(row: [0.05, -0.06, 0.07, -0.08]))
        let cell = LSTMCell(parameters: p)
        let (x, h0, c0) = (0.9, 0.3, -0.2)
        let sig = { (v: Double) in 1 / (1 + Double.exp(-v)) }
        let i = sig(0.1 * x + 0.01 - 0.5 * h0 + 0.05)
        let f = sig(0.2 * x + 0.02 + 0.6 * h0 - 0.06)
        let g = Double.tanh(0.3 * x + 0.03 - 0.7 * h0 + 0.07)
        let o = sig(0.4 * x + 0.04 + 0.8 * h0 - 0.08)
        let c1 = f * c0 + i * g, h1 = o * Double.tanh(c1)
        let trace = cell.forward(Matrix(rows: 1, cols: 1, [x]), steps: 1, batch: 1,
                                 initial: LayerState(hidden: Matrix(rows: 1, cols: 1, [h0]), memory: Matrix(rows: 1, cols: 1, [c0])))
        #expect(isClose(trace.hidden.row(1)[0], h1, rtol: 1e-14))
        #expect(isClose(trace.memory.row(1)[0], c1, rtol: 1e-14))
    }

    @Test func gruOneStepByHand() {
        let p = CellParameters<Double>(weightIH: Matrix(rows: 3, cols: 1, [0.1, 0.2, 0.3]),
                                       weightHH: Matrix(rows: 3, cols: 1, [-0.5, 0.6, -0.7]),
                                       biasIH: Matrix(row: [0.01, 0.02, 0.03]),
                                       biasHH: Matrix(row: [0.05, -0.06, 0.07]))
        let cell = GRUCell(parameters: p)
        let (x, h0) = (0.9, 0.3)
        let sig = { (v: Double) in 1 / (1 + Double.exp(-v)) }
        let r = sig(0.1 * x + 0.01 - 0.5 * h0 + 0.05)
        let z = sig(0.2 * x + 0.02 + 0.6 * h0 - 0.06)
        let n = Double.tanh(0.3 * x + 0.03 + r * (-0.7 * h0 + 0.07))
        let h1 = (1 - z) * n + z * h0
        let trace = cell.forward(Matrix(rows: 1, cols: 1, [x]), steps: 1, batch: 1,
                                 initial: LayerState(hidden: Matrix(rows: 1, cols: 1, [h0]), memory: Matrix(rows: 0, cols: 1)))
        #expect(isClose(trace.hidden.row(1)[0], h1, rtol: 1e-14))
    }

    @Test func indRNNIsElementwise() {
        // u = (1, 0.5), relu, input 1 at t = 1 only: h_t = u^(t-1) U x_1 per unit.
        let p = CellParameters<Double>(weightIH: Matrix(rows: 2, cols: 1, [1, 2]), weightHH: Matrix(row: [1, 0.5]),
                                       biasIH: Matrix(row: [0, 0]), biasHH: Matrix(row: [0, 0]))
        let cell = IndRNNCell(parameters: p, activation: .relu)
        var values = [Double](repeating: 0, count: 10)
        values[0] = 1
        let trace = cell.forward(Matrix(rows: 10, cols: 1, values), steps: 10, batch: 1,
                                 initial: .zeros(batch: 1, hiddenSize: 2, hasMemory: false))
        for t in 1...10 {
            #expect(trace.hidden.row(t)[0] == 1)
            #expect(isClose(trace.hidden.row(t)[1], 2 * Double.exp(Double(t - 1) * Double.log(0.5)), rtol: 1e-14))
        }
    }

    @Test func stackedLayersFeedEachOther() throws {
        // A 2-layer model equals running layer 0, then layer 1 on its outputs.
        let config = try ModelConfiguration.preset("rnn", inputSize: 2, hiddenSize: 3, layers: 2, outputs: 2)
        let model = try makeModel(RNNCell<Double>.self, config, seed: 1)
        let x = randomBatch(batch: 2, steps: 4, features: 2, seed: 2, as: Double.self)
        let pass = model.forward(x)
        let t0 = model.layers[0].forward(x.timeMajor, steps: 4, batch: 2, initial: .zeros(batch: 2, hiddenSize: 3, hasMemory: false))
        let t1 = model.layers[1].forward(t0.outputs, steps: 4, batch: 2, initial: .zeros(batch: 2, hiddenSize: 3, hasMemory: false))
        #expect(pass.traces[1].outputs == t1.outputs)
        #expect(pass.outputs == model.head.forward(t1.finalState.hidden))
    }
}
