/// Stochastic gradient descent with PyTorch's `torch.optim.SGD` rule:
///
///     g = ∇ + λ p
///     b = g (first step), b = μ b + (1 - τ) g (after)      if μ ≠ 0
///     g = g + μ b (Nesterov) or g = b
///     p = p - η g
///
/// η learning rate, μ momentum, τ dampening, λ weight decay.
public struct SGD<Scalar: NeuralScalar>: Optimizer {
    public var learningRate: Double
    public var momentum: Double
    public var dampening: Double
    public var nesterov: Bool
    public var weightDecay: Double
    public var state = OptimizerState<Scalar>()

    public init(learningRate: Double, momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum requires a momentum and zero dampening")
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public mutating func update(_ parameter: inout Matrix<Scalar>, gradient: Matrix<Scalar>, index: Int) {
        let lr = Scalar(learningRate), mu = Scalar(momentum), wd = Scalar(weightDecay), damp = Scalar(1 - dampening)
        var g = gradient
        if weightDecay != 0 { for i in g.storage.indices { g.storage[i] += wd * parameter.storage[i] } }
        if momentum != 0 {
            var buf: Matrix<Scalar>
            if let existing = state.slots["momentum_buffer"]?[index] {
                buf = existing
                for i in buf.storage.indices { buf.storage[i] = mu * buf.storage[i] + damp * g.storage[i] }
            } else {
                buf = g
            }
            state.set("momentum_buffer", index, buf)
            if nesterov {
                for i in g.storage.indices { g.storage[i] += mu * buf.storage[i] }
            } else {
                g = buf
            }
        }
        for i in parameter.storage.indices { parameter.storage[i] -= lr * g.storage[i] }
    }
}
