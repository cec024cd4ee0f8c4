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

    /// The fewest elements of a tensor whose update is split among the threads (a few
    /// microseconds' work each).
    static var elementsPerThread: Int { 2048 }

    /// One update of `parameter`, element by element in one pass over raw buffers: the
    /// moment buffers are taken out of `state` (so this update holds the only reference and
    /// writes them in place, no copy) and put back. Specialised for Float, so that the
    /// generic entry point (reached through `Optimizer` from generic code) jumps to a body
    /// without a protocol-witness call per arithmetic operation.
    @_specialize(where Scalar == Float)
    public mutating func update(_ parameter: inout Matrix<Scalar>, gradient: Matrix<Scalar>, index: Int) {
        let t = Double(max(1, state.step))
        let stepSize = Scalar(learningRate / (1 - Double.power(beta1, t)))
        let correction2 = Scalar((1 - Double.power(beta2, t)).squareRoot())
        let b1 = Scalar(beta1), b2 = Scalar(beta2), eps = Scalar(epsilon), wd = Scalar(weightDecay)
        let decay = Scalar(1 - learningRate * weightDecay)
        let decoupled = decoupledWeightDecay, coupled = !decoupledWeightDecay && weightDecay != 0
        var m = state.take("exp_avg", index, like: parameter)
        var v = state.take("exp_avg_sq", index, like: parameter)
        requireSameShape(parameter, gradient, m, v)
        parameter.storage.withUnsafeMutableBufferPointer { p in
            m.storage.withUnsafeMutableBufferPointer { m in
                v.storage.withUnsafeMutableBufferPointer { v in
                    gradient.storage.withUnsafeBufferPointer { grad in
                        // Element by element, so split among the threads for a large tensor (W_hh
                        // at H = 128: 16,384 elements, ~40 µs on one thread; W_ih at I = 28: 3,584):
                        // the same bits.
                        let parts = p.count >= Self.elementsPerThread ? Compute.threads : 1
                        let constants = (b1: b1, b2: b2, eps: eps, stepSize: stepSize, correction2: correction2,
                                         decay: decay, wd: wd, decoupled: decoupled, coupled: coupled)
                        Compute.forEachSlice(of: p.count, parts: parts) { slice in
                            // Float on the fast backend: the same operations 8 lanes at a time (C, the same bits).
                            if let pb = p.baseAddress, let mb = m.baseAddress, let vb = v.baseAddress, let gb = grad.baseAddress,
                               Kernels.adamUpdate(pb + slice.lowerBound, mb + slice.lowerBound, vb + slice.lowerBound,
                                                  gradient: gb + slice.lowerBound, count: slice.count, constants) { return }
                            for i in slice {
                                var g = grad[i]
                                if decoupled { p[i] *= decay } else if coupled { g += wd * p[i] }
                                m[i] = b1 * m[i] + (1 - b1) * g
                                v[i] = b2 * v[i] + (1 - b2) * g * g
                                let denom = v[i].squareRoot() / correction2 + eps
                                p[i] -= stepSize * m[i] / denom
                            }
                        }
                    }
                }
            }
        }
        state.set("exp_avg", index, m)
        state.set("exp_avg_sq", index, v)
    }
}
