import ArgumentParser
import Foundation
import Recurrent

/// `recurrent export-data`: a task's evaluation sets as files, for evaluating elsewhere on the same tensors.
struct ExportData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-data",
        abstract: "Write a task's evaluation sets (the ones train and eval score on) as safetensors files.",
        discussion: """
            One file per split, DIR/val.safetensors (MNIST tasks, tensors with --val-fraction) and
            DIR/test.safetensors, holding 'inputs' [N, T, I] (float32), 'targets' (int64 class ids,
            or float32 values) and, for sequences of uneven length, 'lengths' [N]: the form
            --task tensors reads, and safetensors.numpy.load_file in Python.

            Examples:
              recurrent export-data --task adding --length 150 --out data/adding-150
              recurrent export-data --task rowmnist --out data/rowmnist
            """)

    @OptionGroup(title: "Task") var taskOptions: TaskOptions

    @Option(help: ArgumentHelp("The folder to write into (created if missing).", valueName: "dir"))
    var out: String

    func validate() throws {
        if out.isEmpty { throw ValidationError("--out needs a folder, e.g. --out data/adding-150") }
    }

    func run() throws {
        let spec = try taskOptions.spec(over: nil)
        let written: [(split: EvaluationSplit, path: String, sequences: Int)]
        do { written = try spec.exportEvaluationSets(to: URL(fileURLWithPath: out)) } catch let error as ConfigurationError {
            throw ValidationError(error.worded)
        }
        for w in written { print("\(w.split.rawValue): \(w.sequences) sequences -> \(w.path)") }
    }
}
