import ArgumentParser
import Recurrent

/// An error of the command line itself: what, and how to fix it.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var fix: String?
    init(_ message: String, fix: String? = nil) {
        self.message = message
        self.fix = fix
    }
    var description: String { message + (fix.map { ". Fix: \($0)" } ?? "") }
}

// MARK: - The library's remedies in the command line's words

extension Remedy {
    /// The remedy as the options that apply it: `.clipGradients(norm: 1)` is "--clip-norm 1".
    var flags: String {
        switch self {
        case .lowerLearningRate(let factor): return "a lower --lr (e.g. \(Remedy.number(factor))x lower)"
        case .clipGradients(let norm): return "--clip-norm \(Remedy.number(norm))"
        case .useIdentityInit: return "--recurrent-init identity (or --cell irnn)"
        case .boundedActivation(let activation): return "--activation \(activation)"
        case .useTask(let task): return "--task \(task)"
        case .startFromWeights: return "--init-from FILE (a new run from these weights) instead of --resume"
        case .raiseTotalSteps(let steps): return "a larger total, e.g. --steps \(steps)"
        case .shorterSequence: return "a shorter --prime or --length"
        case .useTrainingData: return "--data with the text (and --limit) it was trained on"
        case .setLearningRate(let rate): return "--lr \(Remedy.number(rate))"
        case .evaluatePeriodically(let n): return "--eval-every \(n)"
        }
    }
}

extension AdvisedError {
    /// The problem and its remedies in flags: "problem. Try: --clip-norm 1 or ...".
    var worded: String { Remedy.advice(problem, remedies.map(\.flags)) }
}

/// What the command line shows for an error that reaches the top: the library's advice in
/// flags, a refused non-finite checkpoint with what to do; everything else as it is.
func commandLineError(_ error: any Error) -> any Error {
    switch error {
    case let advised as any AdvisedError:
        return CLIError(advised.problem, fix: advised.remedies.isEmpty ? nil : Remedy.joined(advised.remedies.map(\.flags)))
    case let refused as NonFiniteTensorsError:
        return refusal(refused, command: nil)
    default:
        return error
    }
}
