/// An optimizer chosen at run time (`OptimizerKind`), with the state it
/// carries, so that training code needs no generic parameter for it.
public enum OptimizerChoice<Scalar: NeuralScalar>: Sendable {
    case sgd(SGD<Scalar>)
    case rmsprop(RMSProp<Scalar>)
    case adam(Adam<Scalar>)

    /// The optimizer `kind` with PyTorch's defaults where an option is nil.
    public init(_ kind: OptimizerKind, learningRate: Double?, momentum: Double?, nesterov: Bool = false,
                weightDecay: Double?) throws(ConfigurationError) {
        if let lr = learningRate, !(lr > 0) || !lr.isFinite {
            throw ConfigurationError("the learning rate must be a positive number, got \(lr)")
        }
        if let m = momentum, !(m >= 0 && m < 1) {
            throw ConfigurationError("momentum must be in [0, 1), got \(m)")
        }
        if let wd = weightDecay, !(wd >= 0) || !wd.isFinite {
            throw ConfigurationError("weight decay must be a finite number >= 0, got \(wd)")
        }
        if momentum != nil && !kind.takesMomentum {
            throw ConfigurationError("\(kind) takes no momentum (its β1 is 0.9)")
        }
        if nesterov && (kind != .sgd || (momentum ?? 0) == 0) {
            throw ConfigurationError("Nesterov momentum applies to sgd with a momentum > 0")
        }
        let weightDecay = weightDecay ?? kind.defaultWeightDecay
        switch kind {
        case .sgd:
            guard let lr = learningRate else { throw ConfigurationError("sgd needs a learning rate (it has no default)", remedies: [.setLearningRate(0.01)]) }
            self = .sgd(SGD(learningRate: lr, momentum: momentum ?? 0, nesterov: nesterov, weightDecay: weightDecay))
        case .rmsprop:
            self = .rmsprop(RMSProp(learningRate: learningRate ?? kind.defaultLearningRate!, momentum: momentum ?? 0, weightDecay: weightDecay))
        case .adam:
            self = .adam(Adam(learningRate: learningRate ?? kind.defaultLearningRate!, weightDecay: weightDecay))
        case .adamw:
            self = .adam(Adam.adamW(learningRate: learningRate ?? kind.defaultLearningRate!, weightDecay: weightDecay))
        }
    }

    /// Which optimizer this is (AdamW is Adam with decoupled weight decay).
    public var kind: OptimizerKind {
        switch self {
        case .sgd: return .sgd
        case .rmsprop: return .rmsprop
        case .adam(let a): return a.decoupledWeightDecay ? .adamw : .adam
        }
    }

    public var learningRate: Double {
        get {
            switch self {
            case .sgd(let o): return o.learningRate
            case .rmsprop(let o): return o.learningRate
            case .adam(let o): return o.learningRate
            }
        }
        set {
            switch self {
            case .sgd(var o): o.learningRate = newValue; self = .sgd(o)
            case .rmsprop(var o): o.learningRate = newValue; self = .rmsprop(o)
            case .adam(var o): o.learningRate = newValue; self = .adam(o)
            }
        }
    }

    public var state: OptimizerState<Scalar> {
        get {
            switch self {
            case .sgd(let o): return o.state
            case .rmsprop(let o): return o.state
            case .adam(let o): return o.state
            }
        }
        set {
            switch self {
            case .sgd(var o): o.state = newValue; self = .sgd(o)
            case .rmsprop(var o): o.state = newValue; self = .rmsprop(o)
            case .adam(var o): o.state = newValue; self = .adam(o)
            }
        }
    }
}

extension RecurrentModel {
    /// One step of whichever optimizer was chosen. The optimizer is moved out of `choice`
    /// (`consume`), not copied: a copy left behind would share the state buffers, and the
    /// update's first write to each would copy the whole buffer.
    public mutating func apply(_ gradients: ModelGradients<Scalar>, using choice: inout OptimizerChoice<Scalar>) {
        switch consume choice {
        case .sgd(var o): apply(gradients, using: &o); choice = .sgd(o)
        case .rmsprop(var o): apply(gradients, using: &o); choice = .rmsprop(o)
        case .adam(var o): apply(gradients, using: &o); choice = .adam(o)
        }
    }
}
