/// An optimizer chosen at run time (the command line's `--optimizer`), with the state it
/// carries, so that training code needs no generic parameter for it.
public enum OptimizerChoice<Scalar: NeuralScalar>: Sendable {
    case sgd(SGD<Scalar>)
    case rmsprop(RMSProp<Scalar>)
    case adam(Adam<Scalar>)

    /// `sgd`, `rmsprop`, `adam` or `adamw` with PyTorch's defaults where an option is nil.
    public init(name: String, learningRate: Double?, momentum: Double?, nesterov: Bool = false,
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
        switch name.lowercased() {
        case "sgd":
            guard let lr = learningRate else { throw ConfigurationError("sgd needs a learning rate (--lr), e.g. --lr 0.01") }
            if nesterov && (momentum ?? 0) == 0 { throw ConfigurationError("Nesterov momentum needs --momentum > 0") }
            self = .sgd(SGD(learningRate: lr, momentum: momentum ?? 0, nesterov: nesterov, weightDecay: weightDecay ?? 0))
        case "rmsprop":
            self = .rmsprop(RMSProp(learningRate: learningRate ?? 0.01, momentum: momentum ?? 0, weightDecay: weightDecay ?? 0))
        case "adam":
            if momentum != nil { throw ConfigurationError("adam takes no --momentum (its β1 is 0.9)") }
            self = .adam(Adam(learningRate: learningRate ?? 1e-3, weightDecay: weightDecay ?? 0))
        case "adamw":
            if momentum != nil { throw ConfigurationError("adamw takes no --momentum (its β1 is 0.9)") }
            self = .adam(Adam.adamW(learningRate: learningRate ?? 1e-3, weightDecay: weightDecay ?? 0.01))
        default:
            throw ConfigurationError("unknown optimizer '\(name)'. Accepted: sgd, rmsprop, adam, adamw.")
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
