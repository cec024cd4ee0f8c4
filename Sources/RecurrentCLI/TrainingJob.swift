import Foundation
import Recurrent

/// Builds a `Trainer` for whichever cell the model holds and runs it (the generic half
/// of `recurrent train`, reached through `AnyRecurrentModel.visit`).
struct TrainingJob: ModelVisitor {
    var task: any TrainingTask
    var optimizer: OptimizerChoice<Float>
    var options: TrainingOptions
    var configuration: ModelConfiguration
    var seed: UInt64
    /// Weights to start from (`--init-from`), with fresh optimizer state.
    var initFrom: (file: SafeTensorsFile, path: String)?
    /// A checkpoint to continue (`--resume`).
    var resume: URL?
    var checkpoint: URL
    var metadata: [String: String]
    var observer: (TrainingEvent) -> Void
    /// Send the layers' spectral radii at the start and after each evaluation (`--tensorboard`).
    var spectralRadii = false
    /// Called once the trainer is ready (with its step), before the first training step.
    var ready: (Int) throws -> Void

    func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> TrainingSummary where Cell.Scalar == Float {
        var model = model
        if let (file, path) = initFrom {
            do { model = try Checkpoint.fill(model, from: file) } catch let error as CheckpointError {
                throw CheckpointError(error.message + " (or drop --init-from and the options that differ from it)", path: path)
            } catch var error as NonFiniteTensorsError {
                error.path = path
                throw refusal(error, command: nil)
            }
        }
        var trainer: Trainer<Cell>
        do {
            trainer = try Trainer(model: model, optimizer: optimizer, task: task, options: options,
                                  configuration: configuration, seed: seed)
        } catch {
            throw CLIError("the model (\(configuration.summary)) does not fit the task: \(error.message)",
                           fix: "check --task/--data, or the checkpoint you start from")
        }
        trainer.checkpointMetadata = metadata
        trainer.reportsSpectralRadii = spectralRadii
        if let url = resume {
            do { try TrainingCheckpoint.restore(&trainer, from: url) } catch let error as NonFiniteTensorsError {
                throw refusal(error, command: nil)
            }
            if trainer.step >= options.steps {
                throw CLIError("\(url.path): the checkpoint is already at step \(trainer.step) of --steps \(options.steps)",
                               fix: "pass a larger total, e.g. --steps \(trainer.step + options.steps)")
            }
        }
        try ready(trainer.step)
        return try trainer.run(checkpoint: checkpoint, observer: observer, shouldStop: { Interrupt.isRequested })
    }
}

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
