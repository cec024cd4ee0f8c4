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

    /// One update of `parameter` over raw buffers, the momentum buffer taken out of
    /// `state` and written in place (see `Adam.update`); specialised for Float.
    @_specialize(where Scalar == Float)
    public mutating func update(_ parameter: inout Matrix<Scalar>, gradient: Matrix<Scalar>, index: Int) {
        let lr = Scalar(learningRate), mu = Scalar(momentum), wd = Scalar(weightDecay), damp = Scalar(1 - dampening)
        let decays = weightDecay != 0, nesterov = self.nesterov
        requireSameShape(parameter, gradient)
        guard momentum != 0 else {
            parameter.storage.withUnsafeMutableBufferPointer { p in
                gradient.storage.withUnsafeBufferPointer { grad in
                    for i in 0..<p.count {
                        var g = grad[i]
                        if decays { g += wd * p[i] }
                        p[i] -= lr * g
                    }
                }
            }
            return
        }
        // b = g on the first step (PyTorch's clone of the gradient), μ b + (1 - τ) g after.
        let first = state.slots["momentum_buffer"]?[index] == nil
        var buffer = state.take("momentum_buffer", index, like: parameter)
        requireSameShape(parameter, buffer)
        parameter.storage.withUnsafeMutableBufferPointer { p in
            buffer.storage.withUnsafeMutableBufferPointer { b in
                gradient.storage.withUnsafeBufferPointer { grad in
                    for i in 0..<p.count {
                        var g = grad[i]
                        if decays { g += wd * p[i] }
                        b[i] = first ? g : mu * b[i] + damp * g
                        if nesterov { g += mu * b[i] } else { g = b[i] }
                        p[i] -= lr * g
                    }
                }
            }
        }
        state.set("momentum_buffer", index, buffer)
    }
}
