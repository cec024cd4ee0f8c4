import ArgumentParser
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
/// `refusal`) unless `allowNonFinite`; `overrides` set the activation and readout, and what a
/// file without metadata made us assume is said on stderr (with the options that set it).
func loadCheckpoint(_ path: String, allowNonFinite: Bool = false, command: String?, overrides: ConfigurationOverrides = .init()) throws
    -> (model: AnyRecurrentModel, configuration: ModelConfiguration, metadata: [String: String]) {
    do {
        let loaded = try Checkpoint.load(from: URL(fileURLWithPath: path), allowNonFinite: allowNonFinite, overriding: overrides)
        if !loaded.assumed.isEmpty {
            Terminal.err("warning: \(path) records no \(loaded.assumed.map { $0.split(separator: " ")[0] }.joined(separator: " or ")) in its metadata: assumed \(loaded.assumed.joined(separator: ", ")); if the model was trained otherwise, pass \(loaded.assumed.map { $0.hasPrefix("activation") ? "--activation relu" : "--readout every" }.joined(separator: " or "))")
        }
        return (loaded.model, loaded.configuration, loaded.metadata)
    } catch let error as NonFiniteTensorsError {
        throw refusal(error, command: command)
    }
}

/// `--activation` and `--readout` of eval and predict: for a file that does not record them.
struct ModelOverrideOptions: ParsableArguments {
    @Option(help: "The hidden activation of an rnn or indrnn file that does not record it (PyTorch's state_dict without metadata loads as tanh, nn.RNN's default): relu, tanh, ...")
    var activation: String?

    @Option(help: "The readout of a file that does not record it: last (many-to-one, the default) or every (many-to-many).")
    var readout: String?

    func validate() throws {
        _ = try overrides()
    }

    func overrides() throws -> ConfigurationOverrides {
        var o = ConfigurationOverrides()
        if let a = activation {
            do { o.activation = try Activation(parsing: a) } catch { throw ValidationError("--activation: \(error)") }
        }
        if let r = readout {
            guard let value = Readout(rawValue: r.lowercased()) else { throw ValidationError("--readout must be last or every, got '\(r)'") }
            o.readout = value
        }
        return o
    }
}
