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

    /// Parses and runs the subcommand; an error that reaches here is shown in the command
    /// line's words (`commandLineError`: the library's remedies as flags).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: commandLineError(error))
        }
    }
}
