/// The learning rate as a function of the step (and, for `plateau`, of the evaluations so
/// far): PyTorch's schedulers' formulas.
///
/// `warmup` comes first and is followed by one of the others, as PyTorch's
/// `SequentialLR([LinearLR(start_factor=s, total_iters=N), after], milestones=[N])`: the
/// warm-up's N steps, then `after` started at its own step 0 (a cosine after a warm-up anneals
/// over the steps that remain).
public indirect enum LearningRateSchedule: Sendable, Hashable, Codable {
    /// η_t = η.
    case constant
    /// StepLR: η_t = η γ^⌊t / every⌋.
    case step(every: Int, factor: Double)
    /// CosineAnnealingLR: η_t = η_min + (η - η_min)(1 + cos(π t / T)) / 2 for t <= T, η_min after.
    case cosine(totalSteps: Int, minimum: Double)
    /// ExponentialLR: η_t = η γ^t.
    case exponential(gamma: Double)
    /// ReduceLROnPlateau (mode by the metric: min for mse and bpc, max for accuracy; relative
    /// threshold 1e-4, no cooldown, no floor): η_t = η γ^k after k reductions, one each time
    /// more than `patience` evaluations in a row fail to improve on the best by the
    /// threshold (`PlateauState`).
    case plateau(patience: Int, factor: Double)
    /// LinearLR(start_factor = s, end_factor = 1, total_iters = N) for t < N:
    /// η_t = η (s + (1 - s) t / N); then `after` at step t - N.
    case warmup(steps: Int, startFactor: Double, then: LearningRateSchedule)

    /// The start factor of `warmup:N` when none is given: PyTorch's `LinearLR` default, 1/3.
    public static let defaultWarmupStartFactor = 1.0 / 3.0

    /// The rate for step `t` (0-based: the first update uses t = 0) after `reductions`
    /// plateau reductions (`PlateauState.reductions`; 0 for the other schedules).
    public func rate(base: Double, step t: Int, reductions: Int = 0) -> Double {
        switch self {
        case .constant:
            return base
        case .step(let every, let factor):
            return base * Double.power(factor, Double(t / max(1, every)))
        case .cosine(let total, let minimum):
            let progress = min(1, Double(t) / Double(max(1, total)))
            return minimum + (base - minimum) * (1 + Double.cos(Double.pi * progress)) / 2
        case .exponential(let gamma):
            return base * Double.power(gamma, Double(t))
        case .plateau(_, let factor):
            return base * Double.power(factor, Double(reductions))
        case .warmup(let n, let s, let after):
            guard t < n else { return after.rate(base: base, step: t - n, reductions: reductions) }
            return base * (s + (1 - s) * Double(t) / Double(n))
        }
    }

    /// The plateau part of the schedule, if any: (patience, factor).
    public var plateau: (patience: Int, factor: Double)? {
        switch self {
        case .plateau(let p, let f): return (p, f)
        case .warmup(_, _, let after): return after.plateau
        default: return nil
        }
    }

    /// Parses `constant`, `step:EVERY:FACTOR`, `cosine` (over the run) or `cosine:MIN`,
    /// `exponential:GAMMA`, `plateau:PATIENCE:FACTOR`, each optionally after a warm-up:
    /// `warmup:N[:START],SCHEDULE` (or `warmup:N[:START]` alone, constant after it).
    /// Texts longer than ``ConfigurationError/maximumSpecLength`` and non-finite numbers are refused.
    public init(parsing text: String, totalSteps: Int) throws(ConfigurationError) {
        try ConfigurationError.checkLength(text, of: "schedule")
        let pieces = text.lowercased().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let accepted = "Accepted: constant, step:EVERY:FACTOR, cosine, cosine:MIN, exponential:GAMMA, plateau:PATIENCE:FACTOR, each optionally after warmup:N[:START] and a comma (e.g. warmup:500,cosine)."
        guard pieces.count <= 2 else { throw ConfigurationError("schedule '\(text)': at most a warm-up and one schedule, separated by a comma. \(accepted)") }
        let first = pieces[0].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if first.first == "warmup" {
            guard (2...3).contains(first.count), let n = Int(first[1]), n > 0 else {
                throw ConfigurationError("schedule '\(text)': expected warmup:N[:START] with an integer N > 0, e.g. warmup:500,cosine")
            }
            let start = first.count == 3 ? Double(first[2]) : Self.defaultWarmupStartFactor
            guard let s = start, s > 0, s <= 1 else {
                throw ConfigurationError("schedule '\(text)': the warm-up's START factor must be in (0, 1] (PyTorch's LinearLR start_factor), e.g. warmup:500:0.01")
            }
            let after = pieces.count == 2 ? try Self.single(pieces[1], text: text, totalSteps: max(1, totalSteps - n), accepted: accepted) : .constant
            if case .warmup = after { throw ConfigurationError("schedule '\(text)': one warm-up only. \(accepted)") }
            self = .warmup(steps: n, startFactor: s, then: after)
        } else {
            guard pieces.count == 1 else { throw ConfigurationError("schedule '\(text)': only a warm-up comes before a comma. \(accepted)") }
            self = try Self.single(pieces[0], text: text, totalSteps: totalSteps, accepted: accepted)
        }
    }

    /// One schedule without a warm-up.
    static func single(_ piece: String, text: String, totalSteps: Int, accepted: String) throws(ConfigurationError) -> LearningRateSchedule {
        let parts = piece.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.first ?? "" {
        case "constant" where parts.count == 1: return .constant
        case "step" where parts.count == 3:
            guard let every = Int(parts[1]), every > 0, let factor = Double(parts[2]), factor > 0, factor.isFinite else {
                throw ConfigurationError("schedule '\(text)': expected step:EVERY:FACTOR with an integer EVERY > 0 and a finite FACTOR > 0, e.g. step:1000:0.5")
            }
            return .step(every: every, factor: factor)
        case "cosine" where parts.count <= 2:
            let minimum = parts.count == 2 ? Double(parts[1]) : 0
            guard let m = minimum, m >= 0, m.isFinite else { throw ConfigurationError("schedule '\(text)': cosine:MIN needs a finite MIN >= 0") }
            return .cosine(totalSteps: totalSteps, minimum: m)
        case "exponential" where parts.count == 2:
            guard let gamma = Double(parts[1]), gamma > 0, gamma.isFinite else {
                throw ConfigurationError("schedule '\(text)': expected exponential:GAMMA with a finite GAMMA > 0, e.g. exponential:0.999")
            }
            return .exponential(gamma: gamma)
        case "plateau" where parts.count == 3:
            guard let patience = Int(parts[1]), patience >= 0, let factor = Double(parts[2]), factor > 0, factor < 1 else {
                throw ConfigurationError("schedule '\(text)': expected plateau:PATIENCE:FACTOR with an integer PATIENCE >= 0 (evaluations) and 0 < FACTOR < 1, e.g. plateau:5:0.5")
            }
            return .plateau(patience: patience, factor: factor)
        case "warmup":
            throw ConfigurationError("schedule '\(text)': the warm-up comes first, e.g. warmup:500,cosine")
        default:
            throw ConfigurationError("unknown schedule '\(text)'. \(accepted)")
        }
    }
}

/// What ReduceLROnPlateau remembers between evaluations (PyTorch's `best`, `num_bad_epochs`),
/// and the reductions so far; saved in the training state so a resumed run continues it.
public struct PlateauState: Sendable, Codable, Equatable {
    /// The best metric so far (nil before the first evaluation: PyTorch's ±inf).
    public var best: Double?
    /// Evaluations in a row without an improvement (PyTorch's `num_bad_epochs`).
    public var badEvaluations = 0
    /// How many times the rate was multiplied by the factor.
    public var reductions = 0

    public init() {}

    /// ReduceLROnPlateau.step(metric) with threshold_mode "rel", threshold 1e-4, cooldown 0,
    /// min_lr 0 and eps 1e-8 (a reduction that would lower `rate`, the current rate, by no
    /// more than eps is skipped):
    /// better means below best (1 - 1e-4) (above best (1 + 1e-4) when higher is better);
    /// a NaN never is. After more than `patience` bad evaluations the rate is reduced once
    /// and the count restarts.
    public mutating func observe(_ metric: Double, higherIsBetter: Bool, patience: Int, factor: Double, rate: Double) {
        let threshold = 1e-4
        let b = best ?? (higherIsBetter ? -Double.infinity : Double.infinity)
        let better = higherIsBetter ? metric > b * (1 + threshold) : metric < b * (1 - threshold)
        if better {
            best = metric
            badEvaluations = 0
        } else {
            badEvaluations += 1
        }
        if badEvaluations > patience {
            if rate - rate * factor > 1e-8 { reductions += 1 }
            badEvaluations = 0
        }
    }
}
