import ArgumentParser
import Foundation
import Recurrent

/// `recurrent predict`: a checkpoint's outputs and final state for the user's inputs.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a checkpoint on inputs [N, T, I]; write outputs and the final hidden state.",
        discussion: """
            Reads the tensor 'inputs' [N, T, I] from a .safetensors file (or a .npy array) and writes a
            .safetensors file with 'outputs' ([N, O] for a many-to-one model, [N, T, O] for a many-to-many
            one: raw head outputs, i.e. logits for classifiers) and 'hidden' [L, N, H], the final state
            (PyTorch's h_n); LSTM models also get 'cell' [L, N, H] (c_n).
            Sequences of uneven length: a 'lengths' [N] tensor in the inputs file, --lengths FILE, or
            --pad-value V; each sequence then runs to its own length (h_n is its own last state; outputs
            past its end are the head's bias, as for PyTorch's packed sequences padded with 0).
            """)

    @Option(help: ArgumentHelp("A model checkpoint (.safetensors).", valueName: "file"))
    var checkpoint: String

    @Option(help: ArgumentHelp("Inputs: X.safetensors (tensor 'inputs') or X.npy, shape [N, T, I].", valueName: "file"))
    var input: String

    @Option(help: ArgumentHelp("Where to write outputs and hidden (.safetensors).", valueName: "file"))
    var output: String

    @Option(help: ArgumentHelp("Lengths [N] of uneven sequences: a .npy file or a .safetensors file (tensor 'lengths').", valueName: "file"))
    var lengths: String?

    @Option(name: .customLong("pad-value"), parsing: .unconditional, help: ArgumentHelp("The value padding uneven sequences (instead of --lengths).", valueName: "v"))
    var padValue: Double?

    @OptionGroup(title: "Model (for a file without metadata)") var modelOverrides: ModelOverrideOptions

    @Option(help: "Sequences per forward pass.")
    var batch = 256

    @Flag(name: .customLong("allow-non-finite"), help: ArgumentHelp(allowNonFiniteHelp))
    var allowNonFinite = false

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if lengths != nil && padValue != nil { throw ValidationError("--lengths and --pad-value both give the lengths: pass one") }
        guard output.hasSuffix(".safetensors") else { throw ValidationError("--output must be a .safetensors file, got \(output)") }
        let target = URL(fileURLWithPath: output).standardizedFileURL
        for (option, path) in [("--input", input), ("--checkpoint", checkpoint)] where URL(fileURLWithPath: path).standardizedFileURL == target {
            throw ValidationError("--output \(output) is the same file as \(option): choose another name")
        }
    }

    func run() throws {
        let loaded = try loadCheckpoint(checkpoint, allowNonFinite: allowNonFinite, command: "predict", overrides: modelOverrides.overrides())
        let inputs = try SequenceBatch.loadInputs(input, lengths: lengths, padValue: padValue)
        let c = loaded.configuration
        guard inputs.features == c.inputSize else {
            throw DataError(.mismatch, "inputs have \(inputs.features) features per step (shape [\(inputs.batch), \(inputs.steps), \(inputs.features)]) but the model in \(checkpoint) reads \(c.inputSize)",
                            path: input, fix: "pass inputs of shape [N, T, \(c.inputSize)]")
        }
        try MemoryEstimate.prediction(c, sequences: inputs.batch, steps: inputs.steps, batch: batch).checkForCommandLine { kind in
            switch kind {
            case .weights: return "the checkpoint's model itself is too large for this machine"
            case .outputs: return "split the inputs into several files and predict each"
            default: return "lower --batch, or split the inputs into shorter sequences"
            }
        }
        let tensors = try loaded.model.predict(inputs, chunkSize: batch).tensors
        try SafeTensorsFile(tensors: tensors, metadata: ["checkpoint": checkpoint, "inputs": input]).write(to: URL(fileURLWithPath: output))
        let shapes = tensors.keys.sorted().map { "\($0) \(tensors[$0]!.shape)" }.joined(separator: ", ")
        Terminal.out("wrote \(shapes) to \(output)")
    }
}
