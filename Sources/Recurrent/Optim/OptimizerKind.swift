/// The optimizers a run can use (`OptimizerChoice`); stored by these names in checkpoints
/// (`recurrent.train`, the sidecar) and accepted by `--optimizer` and compare's `optimizer=`.
public enum OptimizerKind: String, NamedCase, Codable {
    case sgd, rmsprop, adam, adamw

    public static let noun = "optimizer"

    public var summary: String {
        switch self {
        case .sgd: return "needs a learning rate"
        case .rmsprop: return "lr 0.01"
        case .adam: return "lr 0.001"
        case .adamw: return "lr 0.001, decoupled weight decay 0.01"
        }
    }

    /// PyTorch's default learning rate (nil for SGD, which has none).
    public var defaultLearningRate: Double? {
        switch self {
        case .sgd: return nil
        case .rmsprop: return 0.01
        case .adam, .adamw: return 1e-3
        }
    }

    /// PyTorch's default weight decay (AdamW's decoupled 0.01, 0 for the others).
    public var defaultWeightDecay: Double { self == .adamw ? 0.01 : 0 }

    /// Whether `momentum` applies (SGD and RMSProp; Adam's β1 is fixed at 0.9).
    public var takesMomentum: Bool { self == .sgd || self == .rmsprop }
}
