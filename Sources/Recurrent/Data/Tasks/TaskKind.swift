/// The tasks a run can train on (`TaskSpec.kind`); stored by these names in checkpoints
/// (`recurrent.train`, the sidecar's `taskName`), logs and reports.
public enum TaskKind: String, NamedCase, Codable {
    case adding, copy, smnist, pmnist, rowmnist, charlm, tensors

    public static let noun = "task"

    public var summary: String {
        switch self {
        case .adding: return "sum of two marked numbers, T steps"
        case .copy: return "recall 10 symbols after T blanks"
        case .smnist: return "MNIST pixel by pixel, 784 steps"
        case .pmnist: return "smnist under a fixed permutation"
        case .rowmnist: return "MNIST row by row, 28 steps"
        case .charlm: return "next character of a UTF-8 text"
        case .tensors: return "your own inputs and targets"
        }
    }

    /// The three pixel-MNIST variants, which read IDX files.
    public var isMNIST: Bool { self == .smnist || self == .pmnist || self == .rowmnist }

    /// Tasks that read a data set from `TaskSpec.data` (all but the synthetic ones).
    public var readsData: Bool { self != .adding && self != .copy }

    /// Tasks whose sequences are generated: their length is `TaskSpec.length`.
    public var isSynthetic: Bool { self == .adding || self == .copy }

    /// The threshold a comparison calls "solved" when none is given: test MSE 0.01 on the
    /// adding problem, 99% accuracy on copy memory; none for the others.
    public var solvedThreshold: Double? {
        switch self {
        case .adding: return 0.01
        case .copy: return 0.99
        default: return nil
        }
    }
}

/// What a task's `metric` reports; stored by these names in logs (`metricName`) and reports.
public enum TaskMetric: String, NamedCase, Codable {
    /// Mean squared error (the loss itself).
    case mse
    /// Fraction of the predicted class ids that are right.
    case accuracy
    /// Bits per character: the cross-entropy in bits (loss / ln 2).
    case bpc

    public static let noun = "metric"

    public var summary: String {
        switch self {
        case .mse: return "mean squared error, lower is better"
        case .accuracy: return "fraction right, higher is better"
        case .bpc: return "bits per character, lower is better"
        }
    }

    /// True for accuracy: a target is reached at or above it.
    public var higherIsBetter: Bool { self == .accuracy }

    /// The metric from a loss value and an accuracy: MSE is the loss itself, bits per
    /// character is the cross-entropy / ln 2.
    public func value(loss: Double, accuracy: Double?) -> Double {
        switch self {
        case .accuracy: return accuracy ?? 0
        case .bpc: return loss / Double.log(2)
        case .mse: return loss
        }
    }

    /// True when `metric` meets `target`: accuracy at or above, any loss at or below.
    public func reaches(_ metric: Double, target: Double) -> Bool {
        higherIsBetter ? metric >= target : metric <= target
    }
}
