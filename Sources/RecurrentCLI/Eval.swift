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

    @Option(help: "Sequences per evaluation batch.")
    var batch = 500

    @Flag(help: "Print one JSON object: {\"checkpoint\", \"step\", \"task\", \"val\", \"test\"}.")
    var json = false

    @Flag(name: .customLong("allow-non-finite"), help: ArgumentHelp(allowNonFiniteHelp))
    var allowNonFinite = false

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
    }

    func run() throws {
        let loaded = try loadCheckpoint(checkpoint, allowNonFinite: allowNonFinite, command: "eval")
        let stored = TrainSpec.stored(in: loaded.metadata)
        if stored == nil && taskOptions.task == nil {
            throw ValidationError("\(checkpoint) records no task (it was not written by recurrent train): pass --task (and --data)")
        }
        let built = try taskOptions.spec(over: stored?.task).build()
        try checkVocabulary(built.vocabulary, metadata: loaded.metadata, checkpoint: checkpoint)
        let step = loaded.metadata["step"].flatMap(Int.init)
        try MemoryEstimate.evaluation(loaded.configuration, task: built.task, batchSize: batch).checkForCommandLine { kind in
            kind == .weights ? "the checkpoint's model itself is too large for this machine" : "lower --batch, or --limit to evaluate on fewer sequences"
        }
        let records = try loaded.model.visit(EvaluationJob(task: built.task, batch: batch, checkpoint: checkpoint)).map {
            var r = $0
            r.step = step ?? 0
            return r
        }
        let baseline = built.task.baseline
        if json {
            let validation = records.first { $0.split == .validation }, test = records.first { $0.split == .test }
            Terminal.out(JSONValue.object([
                ("checkpoint", .string(checkpoint)), ("step", step.map { .integer($0) } ?? .null), ("task", .string(built.task.name)),
                ("metric", .string(built.task.metricName)), ("val", validation?.json ?? .null), ("test", test?.json ?? .null),
                ("baseline", baseline.map { .object([("value", .number($0.value)), ("description", .string($0.description))]) } ?? .null),
            ]).text)
            return
        }
        Terminal.out("\(checkpoint): \(loaded.configuration.summary)\(step.map { ", step \($0)" } ?? "") on \(built.task.name)")
        for r in records {
            Terminal.out("  \(r.split == .validation ? "val " : "test")  loss \(number(r.loss))  \(r.metricName) \(number(r.metric))")
        }
        if let b = baseline { Terminal.out("  baseline \(number(b.value)): \(b.description)") }
    }
}

/// Evaluates the model on every split of the task.
struct EvaluationJob: ModelVisitor {
    var task: any TrainingTask
    var batch: Int
    var checkpoint: String

    func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> [EvaluationRecord] where Cell.Scalar == Float {
        var options = TrainingOptions(steps: 1, batchSize: 1)
        options.evaluationBatchSize = batch
        let trainer: Trainer<Cell>
        do {
            trainer = try Trainer(model: model, optimizer: .sgd(SGD(learningRate: 0)), task: task, options: options,
                                  configuration: model.architecture, seed: 0)
        } catch {
            throw CLIError("\(checkpoint): the model (\(model.architecture.summary)) does not fit the task: \(error.message)",
                           fix: "pass the --task and --data it was trained on")
        }
        return try task.evaluationSplits.map { try trainer.evaluate($0) }
    }
}

/// A charlm checkpoint must be used with the vocabulary it was trained on.
func checkVocabulary(_ vocabulary: CharacterVocabulary?, metadata: [String: String], checkpoint: String) throws {
    guard let v = vocabulary, let stored = metadata[TrainSpec.vocabularyKey] else { return }
    let text = String(String.UnicodeScalarView(v.scalars))
    if text != stored {
        throw CLIError("\(checkpoint): the model was trained on a vocabulary of \(stored.unicodeScalars.count) characters, the text gives \(v.count) different ones",
                       fix: "pass the text file (and --limit) it was trained on")
    }
}
