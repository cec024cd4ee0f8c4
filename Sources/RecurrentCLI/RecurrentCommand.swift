import ArgumentParser
import Recurrent

@main
struct RecurrentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recurrent",
        abstract: "Recurrent neural networks on the CPU, built around the IRNN (ReLU + identity-initialised W).",
        version: Recurrent.version,
        subcommands: [Demo.self, Train.self, Eval.self, Predict.self, Sample.self, Diagnose.self, Compare.self, Bench.self]
    )
}
