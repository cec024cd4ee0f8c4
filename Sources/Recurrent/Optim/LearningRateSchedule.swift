/// The learning rate as a function of the step, PyTorch's schedulers' formulas.
public enum LearningRateSchedule: Sendable, Hashable, Codable {
    /// η_t = η.
    case constant
    /// StepLR: η_t = η γ^⌊t / every⌋.
    case step(every: Int, factor: Double)
    /// CosineAnnealingLR: η_t = η_min + (η - η_min)(1 + cos(π t / T)) / 2 for t <= T, η_min after.
    case cosine(totalSteps: Int, minimum: Double)

    /// The rate for step `t` (0-based: the first update uses t = 0).
    public func rate(base: Double, step t: Int) -> Double {
        switch self {
        case .constant:
            return base
        case .step(let every, let factor):
            return base * Double.power(factor, Double(t / max(1, every)))
        case .cosine(let total, let minimum):
            let progress = min(1, Double(t) / Double(max(1, total)))
            return minimum + (base - minimum) * (1 + Double.cos(Double.pi * progress)) / 2
        }
    }

    /// Parses `constant`, `step:EVERY:FACTOR`, `cosine` (over the run) or `cosine:MIN`.
    /// Texts longer than ``ConfigurationError/maximumSpecLength`` and non-finite numbers are refused.
    public init(parsing text: String, totalSteps: Int) throws(ConfigurationError) {
        try ConfigurationError.checkLength(text, of: "schedule")
        let parts = text.lowercased().split(separator: ":").map(String.init)
        switch parts.first ?? "" {
        case "constant" where parts.count == 1: self = .constant
        case "step" where parts.count == 3:
            guard let every = Int(parts[1]), every > 0, let factor = Double(parts[2]), factor > 0, factor.isFinite else {
                throw ConfigurationError("schedule '\(text)': expected step:EVERY:FACTOR with an integer EVERY > 0 and a finite FACTOR > 0, e.g. step:1000:0.5")
            }
            self = .step(every: every, factor: factor)
        case "cosine" where parts.count <= 2:
            let minimum = parts.count == 2 ? Double(parts[1]) : 0
            guard let m = minimum, m >= 0, m.isFinite else { throw ConfigurationError("schedule '\(text)': cosine:MIN needs a finite MIN >= 0") }
            self = .cosine(totalSteps: totalSteps, minimum: m)
        default:
            throw ConfigurationError("unknown schedule '\(text)'. Accepted: constant, step:EVERY:FACTOR, cosine, cosine:MIN.")
        }
    }
}
