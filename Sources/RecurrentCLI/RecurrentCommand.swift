import ArgumentParser
import Foundation
import Recurrent

@main
struct RecurrentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recurrent",
        abstract: "Recurrent neural networks on the CPU, built around the IRNN (ReLU + identity-initialised W).",
        version: Recurrent.version,
        subcommands: [Demo.self, Train.self, Eval.self, Predict.self, Sample.self, Diagnose.self, Compare.self, Bench.self, ExportData.self]
    )

    /// Parses and runs the subcommand; an error that reaches here is shown in the command
    /// line's words (`commandLineError`: the library's remedies as flags).
    static func main() {
        var parsed: (any ParsableCommand)?
        do {
            parsed = try parseAsRoot()
            if let problem = Compute.instructionSetRequestProblem() {
                Terminal.err("Error: \(problem)")
                Foundation.exit(ExitCode.validationFailure.rawValue)
            }
            // Denormals are flushed to zero (as XLA does) unless the command says otherwise:
            // on many CPUs every subnormal operand takes a slow path (see Compute.flushesDenormals).
            let keep = (parsed as? DenormalChoice)?.keepsDenormals ?? false
            try Compute.withDenormalsFlushed(!keep) { try parsed!.run() }
        } catch {
            // An option checked while running is the subcommand's: show its usage, not the root's.
            if let invalid = error as? ValidationError, let command = parsed, !(command is RecurrentCommand) {
                let name = type(of: command)._commandName
                Terminal.err("Error: \(invalid.message)\nUsage: recurrent \(name) <options>\n  See 'recurrent \(name) --help' for more information.")
                Foundation.exit(ExitCode.validationFailure.rawValue)
            }
            exit(withError: commandLineError(error))
        }
    }
}

/// A command with `--keep-denormals`: every other command flushes denormals to zero.
protocol DenormalChoice {
    var keepsDenormals: Bool { get }
}

extension Train: DenormalChoice { var keepsDenormals: Bool { runOptions.keepDenormals } }
extension Compare: DenormalChoice { var keepsDenormals: Bool { runOptions.keepDenormals } }
extension Bench: DenormalChoice { var keepsDenormals: Bool { keepDenormals } }
