import ArgumentParser
import Foundation
import Recurrent

/// `recurrent eval`: a checkpoint's loss and metric on its task's evaluation splits.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint on its task's validation and test splits.",
        discussion: "The task and its data default to the ones the checkpoint was trained on (its metadata); any task option overrides them.")

    @Option(help: ArgumentHelp("A model checkpoint (.safetensors) from recurrent train or PyTorch.", valueName: "file"))
    var checkpoint: String

    @OptionGroup(title: "Task (default: the checkpoint's)") var taskOptions: TaskOptions

    @OptionGroup(title: "Model (for a file without metadata)") var modelOverrides: ModelOverrideOptions

    @Option(help: "Sequences per evaluation batch.")
    var batch = 500

    @Flag(help: "Print one JSON object: {\"checkpoint\", \"step\", \"task\", \"metric\", \"val\", \"test\", \"baseline\", \"best\"} (best: the NAME.best.safetensors beside the checkpoint, or null).")
    var json = false

    @Flag(name: .customLong("allow-non-finite"), help: ArgumentHelp(allowNonFiniteHelp))
    var allowNonFinite = false

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
    }

    func run() throws {
        let loaded = try loadCheckpoint(checkpoint, allowNonFinite: allowNonFinite, command: "eval", overrides: modelOverrides.overrides())
        let stored = TrainSpec.stored(in: loaded.metadata)
        if stored == nil && taskOptions.task == nil {
            throw ValidationError("\(checkpoint) records no task (it was not written by recurrent train): pass --task (and --data)")
        }
        var spec = try taskOptions.spec(over: stored?.task)
        var note: String?
        if spec.name == .tensors, let data = spec.data {
            spec.classes = loaded.configuration.outputs        // labels must fit the model's classes
            if taskOptions.data != nil && taskOptions.testData == nil {
                // A file of its own: score the model on all of it.
                spec.testData = data
                spec.validationFraction = taskOptions.valFraction ?? 0
                note = "test: every sequence of \(data)"
            } else if spec.testData == nil && (spec.validationFraction ?? 0) == 0 {
                spec.testData = data
                note = "no held-out split (trained without --val-fraction or --test-data): test is the training data \(data)"
            }
        }
        let task = try spec.makeTask()
        try TrainSpec.checkVocabulary(task.vocabulary, metadata: loaded.metadata, path: checkpoint)
        let step = loaded.metadata["step"].flatMap(Int.init)
        try MemoryEstimate.evaluation(loaded.configuration, task: task, batchSize: batch).checkForCommandLine { kind in
            kind == .weights ? "the checkpoint's model itself is too large for this machine" : "lower --batch, or --limit to evaluate on fewer sequences"
        }
        let records: [EvaluationRecord]
        do { records = try loaded.model.evaluate(on: task, batchSize: batch, step: step ?? 0) } catch let error as ConfigurationError {
            throw CLIError("\(checkpoint): the model (\(loaded.configuration.summary)) does not fit the task: \(error.message)",
                           fix: error.message.contains("readout") && loaded.metadata["readout"] == nil && modelOverrides.readout == nil
                               ? "the file does not record its readout: pass --readout every (or last) as it was trained"
                               : "pass the --task and --data it was trained on")
        }
        // The best checkpoint beside it (train --keep-best), evaluated the same way.
        let bestPath = TrainingCheckpoint.bestURL(for: URL(fileURLWithPath: checkpoint)).path
        var best: (step: Int?, records: [EvaluationRecord])?
        if FileManager.default.fileExists(atPath: bestPath) {
            let b = try loadCheckpoint(bestPath, allowNonFinite: allowNonFinite, command: "eval", overrides: modelOverrides.overrides())
            let bestStep = b.metadata["step"].flatMap(Int.init)
            do { best = (bestStep, try b.model.evaluate(on: task, batchSize: batch, step: bestStep ?? 0)) } catch let error as ConfigurationError {
                throw CLIError("\(bestPath): the best checkpoint's model (\(b.configuration.summary)) does not fit the task: \(error.message)",
                               fix: "move it aside if it belongs to another run")
            }
        }
        if json {
            func splits(_ records: [EvaluationRecord]) -> [(String, JSONValue)] {
                [("val", records.first { $0.split == .validation }?.json ?? .null), ("test", records.first { $0.split == .test }?.json ?? .null)]
            }
            Terminal.out(JSONValue.object([
                ("checkpoint", .string(checkpoint)), ("step", step.map { .int($0) } ?? .null), ("task", .string(task.name.rawValue)),
                ("metric", .string(task.metricName.rawValue))] + splits(records) + [
                ("baseline", task.baselineJSON),
                ("best", best.map { b in .object([("checkpoint", .string(bestPath)), ("step", b.step.map { .int($0) } ?? .null)] + splits(b.records)) } ?? .null),
            ]).text)
            return
        }
        Terminal.out("\(checkpoint): \(loaded.configuration.summary)\(step.map { ", step \($0)" } ?? "") on \(task.name)")
        for r in records {
            Terminal.out("  \(r.split == .validation ? "val " : "test")  loss \(number(r.loss))  \(r.metricName) \(number(r.metric))")
        }
        if let b = task.baseline { Terminal.out("  baseline \(number(b.value)): \(b.description)") }
        if let note { Terminal.out("  (\(note))") }
        if let best {
            Terminal.out("best: \(bestPath)\(best.step.map { ", step \($0)" } ?? "")")
            for r in best.records {
                Terminal.out("  \(r.split == .validation ? "val " : "test")  loss \(number(r.loss))  \(r.metricName) \(number(r.metric))")
            }
        }
    }
}
