/// RMSProp (Tieleman & Hinton 2012) with PyTorch's `torch.optim.RMSprop` rule and defaults
/// (η = 0.01, α = 0.99, ε = 1e-8):
///
///     g = ∇ + λ p;   v = α v + (1 - α) g²
///     d = sqrt(v - ḡ²) + ε  (centered, ḡ = α ḡ + (1 - α) g)   or   d = sqrt(v) + ε
///     b = μ b + g / d, p = p - η b  (momentum)   or   p = p - η g / d
public struct RMSProp<Scalar: NeuralScalar>: Optimizer {
    public var learningRate: Double
    public var alpha: Double
    public var epsilon: Double
    public var momentum: Double
    public var centered: Bool
    public var weightDecay: Double
    public var state = OptimizerState<Scalar>()

    public init(learningRate: Double = 0.01, alpha: Double = 0.99, epsilon: Double = 1e-8, momentum: Double = 0,
                centered: Bool = false, weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.momentum = momentum
        self.centered = centered
        self.weightDecay = weightDecay
    }

    public mutating func update(_ parameter: inout Matrix<Scalar>, gradient: Matrix<Scalar>, index: Int) {
        let a = Scalar(alpha), eps = Scalar(epsilon), lr = Scalar(learningRate), wd = Scalar(weightDecay), mu = Scalar(momentum)
        var v = state.buffer("square_avg", index, like: parameter)
        var gAvg = centered ? state.buffer("grad_avg", index, like: parameter) : parameter.zerosLike
        var buf = momentum > 0 ? state.buffer("momentum_buffer", index, like: parameter) : parameter.zerosLike
        for i in parameter.storage.indices {
            let g = gradient.storage[i] + wd * parameter.storage[i]
            v.storage[i] = a * v.storage[i] + (1 - a) * g * g
            var avg: Scalar
            if centered {
                gAvg.storage[i] = a * gAvg.storage[i] + (1 - a) * g
                avg = (v.storage[i] - gAvg.storage[i] * gAvg.storage[i]).squareRoot() + eps
            } else {
                avg = v.storage[i].squareRoot() + eps
            }
            if momentum > 0 {
                buf.storage[i] = mu * buf.storage[i] + g / avg
                parameter.storage[i] -= lr * buf.storage[i]
            } else {
                parameter.storage[i] -= lr * g / avg
            }
        }
        state.set("square_avg", index, v)
        if centered { state.set("grad_avg", index, gAvg) }
        if momentum > 0 { state.set("momentum_buffer", index, buf) }
    }
}
