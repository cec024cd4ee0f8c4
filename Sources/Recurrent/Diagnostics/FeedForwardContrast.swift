// MARK: - The CNN contrast: one matrix reused against independent draws (claim 3)

/// The seed's explanation of why a feed-forward stack (a CNN) does not suffer what an RNN
/// does: the RNN multiplies n copies of one W, the stack n matrices drawn independently
/// from the same distribution, "so their effects largely cancel". Measured, not asserted:
///
///     shared       P_n = W^n                 (one draw, reused: the RNN, linear regime)
///     independent  P_n = W_n W_{n-1} ... W_1 (n independent draws: a linear feed-forward stack)
///
/// for n = 1 ... N, over several seeds (seed s draws W_1 = W first, so n = 1 agrees). For
/// each n: the mean and the standard deviation over the seeds of log10 ||P_n||_2, and the
/// growth per layer 10^(mean log10 ||P_n||_2 / n).
///
/// What random-matrix theory says to expect (and the numbers show): for Gaussian entries
/// of standard deviation s at size H, both grow by about s sqrt(H) per layer (the circular
/// law puts rho(W) near s sqrt(H); an independent product grows at its top Lyapunov
/// exponent, also near s sqrt(H)). Independence does not cancel the scale; it makes the
/// rate the same for every draw (a small spread over seeds), whereas W^n follows the
/// largest eigenvalue of the one draw (a wider spread). CNNs stay in range because their
/// initialisers (He, Xavier) set s sqrt(H) near 1, not because the draws are independent.
public struct FeedForwardContrast: Sendable, Equatable {
    /// The distribution of W.
    public var initializer: Initializer
    /// H
    public var hiddenSize: Int
    /// n = 1 ... N
    public var layers: [Int]
    /// The seeds, one product of each kind per seed.
    public var seeds: [UInt64]
    /// [seed][n-1]: log10 ||W^n||_2
    public var sharedLog10: [[Double]]
    /// [seed][n-1]: log10 ||W_n ... W_1||_2
    public var independentLog10: [[Double]]

    /// Draws and multiplies. Cost: 2 * seeds * N products of [H, H] matrices.
    public init(initializer: Initializer, hiddenSize n: Int, layers count: Int, seeds: [UInt64]) {
        self.initializer = initializer
        hiddenSize = n
        layers = count > 0 ? Array(1...count) : []
        self.seeds = seeds
        var shared: [[Double]] = [], independent: [[Double]] = []
        // A deterministic initialiser draws the same W every time: W_n ... W_1 = W^n for every
        // seed, so one product serves all.
        let deterministic: Bool = switch initializer {
        case .identity, .zeros, .constant: true
        default: false
        }
        for seed in seeds {
            if deterministic, let first = shared.first {
                shared.append(first); independent.append(first); continue
            }
            var rng = SeededGenerator(seed: seed)
            let w: Matrix<Double> = initializer.matrix(rows: n, cols: n, using: &rng)
            var power = ScaledProduct(identity: n)
            var stack = ScaledProduct(identity: n)
            var sharedRow: [Double] = [], independentRow: [Double] = []
            for layer in 0..<count {
                power.multiply(left: w.storage)
                sharedRow.append(power.log10SpectralNorm())
                if deterministic {
                    independentRow.append(sharedRow[layer])
                } else {
                    let draw: Matrix<Double> = layer == 0 ? w : initializer.matrix(rows: n, cols: n, using: &rng)
                    stack.multiply(left: draw.storage)
                    independentRow.append(stack.log10SpectralNorm())
                }
            }
            shared.append(sharedRow)
            independent.append(independentRow)
        }
        sharedLog10 = shared
        independentLog10 = independent
    }

    // MARK: - Summaries over the seeds

    /// Mean over seeds of log10 ||W^n||_2, n = 1 ... N.
    public var sharedMeanLog10: [Double] { Self.mean(sharedLog10) }
    /// Standard deviation over seeds of log10 ||W^n||_2.
    public var sharedSpreadLog10: [Double] { Self.spread(sharedLog10) }
    /// Mean over seeds of log10 ||W_n ... W_1||_2.
    public var independentMeanLog10: [Double] { Self.mean(independentLog10) }
    /// Standard deviation over seeds of log10 ||W_n ... W_1||_2.
    public var independentSpreadLog10: [Double] { Self.spread(independentLog10) }
    /// Growth per layer of W^n: 10^(mean log10 ||W^n|| / n).
    public var sharedRate: [Double] { zip(layers, sharedMeanLog10).map { power10($1 / Double($0)) } }
    /// Growth per layer of the independent stack.
    public var independentRate: [Double] { zip(layers, independentMeanLog10).map { power10($1 / Double($0)) } }

    static func mean(_ rows: [[Double]]) -> [Double] {
        guard let count = rows.first?.count else { return [] }
        return (0..<count).map { i in rows.reduce(0.0) { $0 + $1[i] } / Double(rows.count) }
    }

    /// Sample standard deviation (n - 1); 0 for a single seed.
    static func spread(_ rows: [[Double]]) -> [Double] {
        let m = mean(rows)
        guard rows.count > 1 else { return m.map { _ in 0 } }
        return m.indices.map { i in
            (rows.reduce(0.0) { $0 + ($1[i] - m[i]) * ($1[i] - m[i]) } / Double(rows.count - 1)).squareRoot()
        }
    }
}
