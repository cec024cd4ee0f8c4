/// What a user can change to get past an error or a warning, as a value: the library says
/// which remedy applies, and each front end words it in its own terms (the command line as
/// its flags, `--clip-norm 1`; a library user reads `description`). Library messages never
/// name command-line flags.
public enum Remedy: Sendable, Equatable, CustomStringConvertible {
    /// Train with a lower learning rate, about `factor` times lower.
    case lowerLearningRate(factor: Double)
    /// Clip the gradient's global norm at `norm`.
    case clipGradients(norm: Double)
    /// Start the recurrent matrix W at the identity (the IRNN's initialisation).
    case useIdentityInit
    /// Use a bounded activation, e.g. `clipped_relu:6` (Activation's spelling).
    case boundedActivation(String)
    /// Train (or evaluate) on this task, the one the checkpoint was made for.
    case useTask(String)
    /// Start a new run from the checkpoint's weights (a fresh optimizer) instead of resuming it.
    case startFromWeights
    /// Ask for a larger total of steps than the checkpoint has already taken, e.g. `steps`.
    case raiseTotalSteps(Int)
    /// Prime or generate fewer characters (the state overflows along the way).
    case shorterSequence
    /// Use the data (and the limit) the model was trained on.
    case useTrainingData
    /// Give a learning rate (the optimizer has no default), e.g. this one.
    case setLearningRate(Double)
    /// Evaluate every `every` steps instead of only at the end.
    case evaluatePeriodically(every: Int)

    /// The remedy in the library's words, e.g. "gradient clipping at norm 1".
    public var description: String {
        switch self {
        case .lowerLearningRate(let f): return "a lower learning rate (e.g. \(Self.number(f))x lower)"
        case .clipGradients(let n): return "gradient clipping at global norm \(Self.number(n))"
        case .useIdentityInit: return "an identity-initialised W (the irnn preset)"
        case .boundedActivation(let a): return "a bounded activation (\(a))"
        case .useTask(let t): return "the task it was trained on (\(t))"
        case .startFromWeights: return "a new run from the checkpoint's weights, with a fresh optimizer"
        case .raiseTotalSteps(let n): return "a larger total of steps, e.g. \(n)"
        case .shorterSequence: return "a shorter prime or fewer characters"
        case .useTrainingData: return "the text (and the limit) it was trained on"
        case .setLearningRate(let r): return "a learning rate, e.g. \(Self.number(r))"
        case .evaluatePeriodically(let n): return "evaluations every \(n) steps"
        }
    }

    /// "a, b or c": remedies in the library's words.
    public static func list(_ remedies: [Remedy]) -> String { joined(remedies.map(\.description)) }

    /// `problem`, then "Try: " and the remedies as worded by the caller: "p. Try: a or b."
    public static func advice(_ problem: String, _ worded: [String]) -> String {
        worded.isEmpty ? problem : problem + ". Try: " + joined(worded) + "."
    }

    /// "a", "a or b", "a, b or c".
    public static func joined(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " or " + items.last!
    }

    /// A remedy's number as people write it: 10 → "10", 0.5 → "0.5" (front ends use it too).
    public static func number(_ x: Double) -> String { x == x.rounded() && Swift.abs(x) < 1e15 ? String(Int(x)) : "\(x)" }
}

/// An error that knows its remedies: `problem` says what went wrong and where, `remedies`
/// what to change. Its `description` adds the remedies in the library's words; a front end
/// can word them itself instead (the command line names its flags).
public protocol AdvisedError: Error, CustomStringConvertible {
    /// What went wrong, where; no advice.
    var problem: String { get }
    var remedies: [Remedy] { get }
}

extension AdvisedError {
    /// "problem. Try: a, b or c."
    public var description: String { Remedy.advice(problem, remedies.map(\.description)) }
}
