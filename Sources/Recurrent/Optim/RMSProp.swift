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

    /// One update of `parameter` over raw buffers, the buffers taken out of `state` and
    /// written in place (see `Adam.update`); specialised for Float.
    @_specialize(where Scalar == Float)
    public mutating func update(_ parameter: inout Matrix<Scalar>, gradient: Matrix<Scalar>, index: Int) {
        let a = Scalar(alpha), eps = Scalar(epsilon), lr = Scalar(learningRate), wd = Scalar(weightDecay), mu = Scalar(momentum)
        let centered = self.centered, usesMomentum = momentum > 0
        var v = state.take("square_avg", index, like: parameter)
        var gAvg = centered ? state.take("grad_avg", index, like: parameter) : Matrix(rows: 0, cols: 0)
        var buf = usesMomentum ? state.take("momentum_buffer", index, like: parameter) : Matrix(rows: 0, cols: 0)
        requireSameShape(parameter, gradient, v)
        if centered { requireSameShape(parameter, gAvg) }
        if usesMomentum { requireSameShape(parameter, buf) }
        parameter.storage.withUnsafeMutableBufferPointer { p in
            v.storage.withUnsafeMutableBufferPointer { v in
                gAvg.storage.withUnsafeMutableBufferPointer { gAvg in
                    buf.storage.withUnsafeMutableBufferPointer { buf in
                        gradient.storage.withUnsafeBufferPointer { grad in
                            for i in 0..<p.count {
                                let g = grad[i] + wd * p[i]
                                v[i] = a * v[i] + (1 - a) * g * g
                                var avg: Scalar
                                if centered {
                                    gAvg[i] = a * gAvg[i] + (1 - a) * g
                                    avg = (v[i] - gAvg[i] * gAvg[i]).squareRoot() + eps
                                } else {
                                    avg = v[i].squareRoot() + eps
                                }
                                if usesMomentum {
                                    buf[i] = mu * buf[i] + g / avg
                                    p[i] -= lr * buf[i]
                                } else {
                                    p[i] -= lr * g / avg
                                }
                            }
                        }
                    }
                }
            }
        }
        state.set("square_avg", index, v)
        if centered { state.set("grad_avg", index, gAvg) }
        if usesMomentum { state.set("momentum_buffer", index, buf) }
    }
}
