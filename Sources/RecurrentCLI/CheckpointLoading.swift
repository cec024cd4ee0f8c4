import Foundation
import Recurrent

/// The flag of eval, predict and diagnose that loads a checkpoint with NaN or infinite weights.
let allowNonFiniteHelp = "Load a checkpoint even when weights are NaN or infinite (to look at a diverged model: the NaN shows in the outputs)."

/// A refused non-finite checkpoint in the command line's words: the library's message
/// (which tensors, how many values, the first) and, where the command has the flag, how to
/// load it anyway.
func refusal(_ error: NonFiniteTensorsError, command: String?) -> CLIError {
    CLIError("\(error)", fix: command.map { "to load it anyway and see the NaN, run recurrent \($0) again with --allow-non-finite" }
        ?? "train again from an earlier checkpoint, with a lower --lr or --clip-norm 1")
}

/// `Checkpoint.load` for a subcommand: non-finite weights are refused (with the advice of
/// `refusal`) unless `allowNonFinite`.
func loadCheckpoint(_ path: String, allowNonFinite: Bool = false, command: String?) throws
    -> (model: AnyRecurrentModel, configuration: ModelConfiguration, metadata: [String: String]) {
    do {
        return try Checkpoint.load(from: URL(fileURLWithPath: path), allowNonFinite: allowNonFinite)
    } catch let error as NonFiniteTensorsError {
        throw refusal(error, command: command)
    }
}
