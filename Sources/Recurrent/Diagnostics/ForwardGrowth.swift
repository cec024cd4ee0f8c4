// MARK: - Forward growth of the recurrence (equation 10.11, claim 1 of the seed)

/// How the hidden state and the net input of a simple RNN grow with t, measured on a
/// forward pass:
///
///     net_t = U x_t + W h_{t-1} + b,   h_t = f(net_t)          (10.9, 10.10)
///
/// Unrolled, net_t holds a product of t copies of W (10.11): unless W is near the identity,
/// ||h_t|| and ||net_t|| go to 0 or to infinity. All series are indexed t = 1 ... T.
///
/// Norms are Euclidean over the H units of one sequence, then the mean and the maximum over
/// the B sequences of the batch, accumulated in Double from the trace's scalars. When the
/// trace is Float32 (as in training), overflow and underflow are Float32's.
public struct ForwardGrowth: Sendable, Equatable {
    /// T
    public var steps: Int
    /// B
    public var batch: Int
    /// mean_b ||h_t^(b)||_2, t = 1 ... T
    public var stateNormMean: [Double]
    /// max_b ||h_t^(b)||_2
    public var stateNormMax: [Double]
    /// mean_b ||net_t^(b)||_2
    public var netNormMean: [Double]
    /// max_b ||net_t^(b)||_2
    public var netNormMax: [Double]
    /// The fraction of the B*H units with net_t > 0 (the active units of a ReLU).
    public var activeFraction: [Double]
    /// The first t at which any entry of net_t or h_t is infinite or NaN (nil: none).
    public var overflowStep: Int?
    /// The first t before any overflow at which every entry of h_t is exactly 0 (nil: none):
    /// a decaying state that underflowed, or (ReLU) every unit inactive. `netNormMax[t-1] == 0` tells the two apart.
    public var underflowStep: Int?

    /// Measures a trace of any cell whose `gates` buffer holds net_t (RNN, IndRNN).
    public init<Scalar: NeuralScalar>(trace: SequenceTrace<Scalar>) {
        let t = trace.steps, b = trace.batch, h = trace.hidden.cols
        steps = t
        batch = b
        stateNormMean = []; stateNormMax = []; netNormMean = []; netNormMax = []; activeFraction = []
        for step in 0..<t {
            var stateSum = 0.0, stateMax = 0.0, netSum = 0.0, netMax = 0.0
            var active = 0
            var finite = true, allZero = true
            for seq in 0..<b {
                let net = trace.gates.row(step * b + seq)
                let state = trace.hidden.row((step + 1) * b + seq)
                var s2 = 0.0, n2 = 0.0
                for j in 0..<h {
                    let hv = Double(state[j]), nv = Double(net[j])
                    if !hv.isFinite || !nv.isFinite { finite = false }
                    if hv != 0 { allZero = false }
                    if nv > 0 { active += 1 }
                    s2 += hv * hv
                    n2 += nv * nv
                }
                let sn = s2.squareRoot(), nn = n2.squareRoot()
                stateSum += sn; netSum += nn
                stateMax = Self.maxPropagatingNaN(stateMax, sn)
                netMax = Self.maxPropagatingNaN(netMax, nn)
            }
            stateNormMean.append(stateSum / Double(max(b, 1)))
            stateNormMax.append(stateMax)
            netNormMean.append(netSum / Double(max(b, 1)))
            netNormMax.append(netMax)
            activeFraction.append(Double(active) / Double(max(b * h, 1)))
            if !finite && overflowStep == nil { overflowStep = step + 1 }
            if allZero && finite && underflowStep == nil && overflowStep == nil { underflowStep = step + 1 }
        }
    }

    /// Runs `cell` over `inputs` ([T*B, I], time-major) from h_0 = 0 and measures the trace.
    public init<Scalar: NeuralScalar>(cell: RNNCell<Scalar>, inputs: Matrix<Scalar>, steps: Int, batch: Int) {
        let trace = cell.forward(inputs, steps: steps, batch: batch,
                                 initial: .zeros(batch: batch, hiddenSize: cell.hiddenSize, hasMemory: false))
        self.init(trace: trace)
    }

    // MARK: - Summaries

    /// The last step before the state overflowed or vanished: the end of the usable series.
    public var lastFiniteStep: Int {
        let stops = [overflowStep, underflowStep].compactMap { $0 }
        return (stops.min() ?? (steps + 1)) - 1
    }

    /// The growth factor of ||h_t|| per step: exp of the least-squares slope of
    /// ln(mean_b ||h_t||) over the second half of 1 ... `lastFiniteStep` (past the transient
    /// from h_0 = 0). Nil with fewer than 2 usable steps.
    public var growthPerStep: Double? {
        ForwardGrowth.fittedGrowth(stateNormMean, through: lastFiniteStep)
    }

    /// exp(slope) of ln(values[t-1]) against t for t in (last/2, last], positive finite values only.
    static func fittedGrowth(_ values: [Double], through last: Int) -> Double? {
        let first = last / 2 + 1
        guard last <= values.count, last - first >= 1 else { return nil }
        var xs: [Double] = [], ys: [Double] = []
        for t in first...last where values[t - 1] > 0 && values[t - 1].isFinite {
            xs.append(Double(t)); ys.append(Double.log(values[t - 1]))
        }
        guard xs.count >= 2 else { return nil }
        let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
        var sxy = 0.0, sxx = 0.0
        for i in xs.indices { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) * (xs[i] - mx) }
        return Double.exp(sxy / sxx)
    }

    static func maxPropagatingNaN(_ a: Double, _ b: Double) -> Double {
        if a.isNaN || b.isNaN { return .nan }
        return Swift.max(a, b)
    }
}
