/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019) with PyTorch's rules
/// and defaults (η = 1e-3, β = (0.9, 0.999), ε = 1e-8; weight decay 0 for Adam, 0.01
/// for AdamW):
///
///     AdamW: p = p (1 - η λ);   Adam: g = ∇ + λ p
///     m = β1 m + (1 - β1) g;    v = β2 v + (1 - β2) g²
///     p = p - (η / (1 - β1^t)) m / (sqrt(v) / sqrt(1 - β2^t) + ε)
public struct Adam<Scalar: NeuralScalar>: Optimizer {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var weightDecay: Double
    /// True for AdamW: decoupled weight decay.
    public var decoupledWeightDecay: Bool
    public var state = OptimizerState<Scalar>()

    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                weightDecay: Double = 0, decoupledWeightDecay: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW with PyTorch's default weight decay 0.01.
    public static func adamW(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                             epsilon: Double = 1e-8, weightDecay: Double = 0.01) -> Adam {
        Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
             weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public mutating func update(_ parameter: inout Matrix<Scalar>, gradient: Matrix<Scalar>, index: Int) {
        let t = Double(max(1, state.step))
        let stepSize = Scalar(learningRate / (1 - Double.power(beta1, t)))
        let correction2 = Scalar((1 - Double.power(beta2, t)).squareRoot())
        let b1 = Scalar(beta1), b2 = Scalar(beta2), eps = Scalar(epsilon), wd = Scalar(weightDecay)
        let decay = Scalar(1 - learningRate * weightDecay)
        var m = state.buffer("exp_avg", index, like: parameter)
        var v = state.buffer("exp_avg_sq", index, like: parameter)
        for i in parameter.storage.indices {
            var g = gradient.storage[i]
            if decoupledWeightDecay { parameter.storage[i] *= decay } else if weightDecay != 0 { g += wd * parameter.storage[i] }
            m.storage[i] = b1 * m.storage[i] + (1 - b1) * g
            v.storage[i] = b2 * v.storage[i] + (1 - b2) * g * g
            let denom = v.storage[i].squareRoot() / correction2 + eps
            parameter.storage[i] -= stepSize * m.storage[i] / denom
        }
        state.set("exp_avg", index, m)
        state.set("exp_avg_sq", index, v)
    }
}
