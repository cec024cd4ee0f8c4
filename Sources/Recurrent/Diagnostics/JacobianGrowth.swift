// MARK: - Backward growth: the Jacobian of the recurrence (equation 10.12, claim 2)

/// The Jacobian of net_t with respect to net_1 along an actual trajectory, and the gradient
/// of a last-step loss with respect to every h_k:
///
///     d net_t / d net_{t-1} = W diag(f'(net_{t-1}))                       (10.12)
///     J_t = d net_t / d net_1 = W D_{t-1} W D_{t-2} ... W D_1,  J_1 = I,  D_k = diag(f'(net_k))
///     g_T = dL/dh_T = r,   g_{k-1} = dL/dh_{k-1} = Wᵀ D_k g_k                 (L = r · h_T)
///
/// With ReLU and every unit active D_k = I, so J_t = W^(t-1): exactly 1 for W = I and
/// s^(t-1) for W = s I (tested). Products are kept as 2^e M (`ScaledProduct`), so the
/// log10 series are exact far beyond Double's range; the plain values are 10^log10
/// (infinite or 0 where that range is left). All series are indexed by lag t = 1 ... T
/// (`gradient*`: by k = 1 ... T, with ||g_T|| = ||r|| = 1).
///
/// Over several sequences, the log10 values are averaged (a geometric mean).
public struct JacobianGrowth: Sendable, Equatable {
    /// log10 ||J_t||_2 (spectral norm = largest singular value), t = 1 ... T.
    public var spectralNormLog10: [Double]
    /// log10 ||J_t||_F, t = 1 ... T.
    public var frobeniusNormLog10: [Double]
    /// log10 ||dL/dh_k||_2, k = 1 ... T, for L = r · h_T with ||r|| = 1.
    public var gradientNormLog10: [Double]
    /// How many sequences were averaged.
    public var sequences: Int

    /// ||J_t||_2
    public var spectralNorm: [Double] { spectralNormLog10.map(power10) }
    /// ||J_t||_F
    public var frobeniusNorm: [Double] { frobeniusNormLog10.map(power10) }
    /// ||dL/dh_k||_2
    public var gradientNorm: [Double] { gradientNormLog10.map(power10) }

    public init(spectralNormLog10: [Double], frobeniusNormLog10: [Double], gradientNormLog10: [Double], sequences: Int) {
        self.spectralNormLog10 = spectralNormLog10
        self.frobeniusNormLog10 = frobeniusNormLog10
        self.gradientNormLog10 = gradientNormLog10
        self.sequences = sequences
    }

    // MARK: - Measuring

    /// The series for one trajectory.
    ///
    /// - Parameters:
    ///   - weight: W, row-major [H, H].
    ///   - derivatives: f'(net_t) for t = 1 ... T, each [H] (the diagonal of D_t).
    ///   - readout: r [H] of the loss L = r · h_T; normalised to ||r|| = 1 here.
    public init(weight: [Double], hidden n: Int, derivatives: [[Double]], readout: [Double]) {
        precondition(weight.count == n * n, "JacobianGrowth: W must be [H, H] = [\(n), \(n)]")
        precondition(readout.count == n && derivatives.allSatisfy { $0.count == n }, "JacobianGrowth: vectors must have H = \(n) entries")
        let steps = derivatives.count
        var spectral: [Double] = [], frobenius: [Double] = []
        // J_t, t = 1 ... T
        var product = ScaledProduct(identity: n)
        for t in stride(from: 1, through: steps, by: 1) {
            if t > 1 {
                product.scaleRows(derivatives[t - 2])          // D_{t-1} J_{t-1}
                product.multiply(left: weight)                 // W D_{t-1} J_{t-1}
            }
            spectral.append(product.log10SpectralNorm())
            frobenius.append(product.log10FrobeniusNorm)
        }
        // g_k, k = T ... 1
        let wT = LinearAlgebra.transpose(weight, rows: n, cols: n)
        let rNorm = LinearAlgebra.frobeniusNorm(readout, rows: 1, cols: n)
        var g = readout.map { rNorm > 0 ? $0 / rNorm : 0 }
        var exponent = 0
        var gradient = [Double](repeating: 0, count: steps)
        if steps > 0 {
            gradient[steps - 1] = ScaledProduct.log10(LinearAlgebra.frobeniusNorm(g, rows: 1, cols: n), exponent: 0)
            for k in stride(from: steps, to: 1, by: -1) {      // g_{k-1} = Wᵀ D_k g_k
                let d = derivatives[k - 1]
                for i in 0..<n { g[i] *= d[i] }
                g = LinearAlgebra.matmul(wT, g, m: n, k: n, n: 1)
                let largest = g.reduce(0.0) { Swift.max($0, Swift.abs($1)) }
                if largest.isFinite, largest > 0, abs(Int(largest.exponent)) > 64 {
                    let e = Int(largest.exponent)
                    let factor = Double(sign: .plus, exponent: -e, significand: 1)
                    for i in 0..<n { g[i] *= factor }
                    exponent += e
                }
                gradient[k - 2] = ScaledProduct.log10(LinearAlgebra.frobeniusNorm(g, rows: 1, cols: n), exponent: exponent)
            }
        }
        self.init(spectralNormLog10: spectral, frobeniusNormLog10: frobenius, gradientNormLog10: gradient, sequences: 1)
    }

    /// The mean of the log10 series of several trajectories of equal length (geometric mean
    /// of the norms). A lag where any trajectory's product is exactly 0 averages to -inf.
    public init(averaging runs: [JacobianGrowth]) {
        precondition(!runs.isEmpty, "JacobianGrowth(averaging:) needs at least one run")
        func mean(_ path: KeyPath<JacobianGrowth, [Double]>) -> [Double] {
            let count = runs[0][keyPath: path].count
            return (0..<count).map { i in runs.reduce(0.0) { $0 + $1[keyPath: path][i] } / Double(runs.count) }
        }
        self.init(spectralNormLog10: mean(\.spectralNormLog10), frobeniusNormLog10: mean(\.frobeniusNormLog10),
                  gradientNormLog10: mean(\.gradientNormLog10), sequences: runs.reduce(0) { $0 + $1.sequences })
    }

    /// Measures sequences `0 ..< sequences` of a forward trace of an RNN cell (in Double, so
    /// that the trajectory is defined past the step where Float32 would overflow), with the
    /// loss L = r · h_T for each.
    public init(cell: RNNCell<Double>, trace: SequenceTrace<Double>, sequences: Int, readout: [Double]) {
        let n = cell.hiddenSize, b = trace.batch, f = cell.activation
        let w = cell.weightHH.storage
        let count = Swift.max(1, Swift.min(sequences, b))
        let runs = (0..<count).map { seq -> JacobianGrowth in
            let derivatives: [[Double]] = (0..<trace.steps).map { t in
                let net = trace.gates.row(t * b + seq), h = trace.hidden.row((t + 1) * b + seq)
                return (0..<n).map { j in f.derivative(input: net[j], output: h[j]) }
            }
            return JacobianGrowth(weight: w, hidden: n, derivatives: derivatives, readout: readout)
        }
        self.init(averaging: runs)
    }

    // MARK: - Summaries

    /// The growth factor of ||J_t||_2 per step, from the last lag: 10^(log10 ||J_T|| / (T - 1)).
    /// Nil when J_T is exactly 0 (see `lastNonzeroLag`) or not finite.
    public var growthPerStep: Double? {
        guard spectralNormLog10.count >= 2, let last = spectralNormLog10.last, last.isFinite else { return nil }
        return power10(last / Double(spectralNormLog10.count - 1))
    }

    /// The largest lag t at which J_t is not exactly 0 (once 0, the product stays 0: every
    /// path from net_1 passed through a unit with f' = 0, an inactive ReLU).
    public var lastNonzeroLag: Int {
        (spectralNormLog10.lastIndex { $0 != -.infinity } ?? -1) + 1       // NaN is not 0
    }

    /// The smallest step k at which dL/dh_k is not exactly 0 (1 when the gradient reaches t = 1).
    public var firstNonzeroGradientStep: Int {
        (gradientNormLog10.firstIndex { $0 != -.infinity } ?? gradientNormLog10.count) + 1   // NaN is not 0
    }

    /// log10 of ||dL/dh_1|| / ||dL/dh_T||: how much of the last step's gradient reaches t = 1.
    public var gradientRatioLog10: Double? {
        guard let first = gradientNormLog10.first, let last = gradientNormLog10.last else { return nil }
        return first - last
    }
}
