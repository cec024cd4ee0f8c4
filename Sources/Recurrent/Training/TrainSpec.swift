import Foundation

/// How a run was asked for, after defaults: the task, the optimizer and the run's length and
/// cadence. Stored as JSON in every checkpoint's metadata (`recurrent.train`), so a resumed
/// run needs no other setting, `eval` finds the task, and the file documents itself; the model
/// is stored beside it (`recurrent.configuration`). `TrainingSession` trains from it.
public struct TrainSpec: Codable, Sendable, Equatable {
    public var task: TaskSpec
    public var optimizer: OptimizerSpec
    public var run: RunSpec

    public init(task: TaskSpec, optimizer: OptimizerSpec = OptimizerSpec(), run: RunSpec = RunSpec()) {
        self.task = task
        self.optimizer = optimizer
        self.run = run
    }

    /// Every default (`TrainingDefaults`) as one spec: the adding problem with T = 50, Adam
    /// with clipping at norm 1, 3000 steps of 32.
    public static var defaults: TrainSpec { TrainSpec(task: TaskSpec(name: TaskSpec.Defaults.task).resolved()) }

    /// The checkpoint metadata key of the JSON.
    public static let metadataKey = "recurrent.train"
    /// The checkpoint metadata key of a charlm vocabulary (every character of the training
    /// text, sorted by code point), which `sample` reads.
    public static let vocabularyKey = "recurrent.vocabulary"

    /// The spec as compact JSON (what `metadataKey` holds).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The spec stored in a checkpoint's metadata, if any (nil also for one that does not
    /// decode, e.g. written by another program).
    public static func stored(in metadata: [String: String]) -> TrainSpec? {
        metadata[metadataKey].flatMap { try? JSONDecoder().decode(TrainSpec.self, from: Data($0.utf8)) }
    }

    /// The vocabulary text stored in a checkpoint's metadata for `vocabulary`.
    public static func vocabularyText(_ vocabulary: CharacterVocabulary) -> String {
        String(String.UnicodeScalarView(vocabulary.scalars))
    }

    /// Throws when `vocabulary` (built from a text) is not the one a checkpoint's `metadata`
    /// records: a character model must be used with the characters it was trained on.
    public static func checkVocabulary(_ vocabulary: CharacterVocabulary?, metadata: [String: String], path: String) throws(CheckpointError) {
        guard let v = vocabulary, let stored = metadata[vocabularyKey], vocabularyText(v) != stored else { return }
        throw CheckpointError("the model was trained on a vocabulary of \(stored.unicodeScalars.count) characters, the text gives \(v.count) different ones",
                              path: path, remedies: [.useTrainingData])
    }

    /// The training options of this spec for a run of `steps` steps (the spec's own unless
    /// `epochs` were resolved into another total).
    public func trainingOptions(steps: Int? = nil) throws(ConfigurationError) -> TrainingOptions {
        let total = steps ?? run.steps
        var o = TrainingOptions(steps: total, batchSize: run.batch)
        o.evaluateEvery = run.evalEvery
        o.logEvery = run.logEvery
        o.checkpointEvery = run.checkpointEvery
        o.clipNorm = optimizer.clipNorm
        o.clipValue = optimizer.clipValue
        o.target = run.target
        o.patience = run.patience
        o.keepBest = run.keepBest ?? false
        o.schedule = try LearningRateSchedule(parsing: optimizer.schedule, totalSteps: total)
        try o.validate()
        return o
    }
}

/// The optimizer, its schedule and gradient clipping, as stored in checkpoints (the JSON
/// keys are those of the first release: `optimizer`, `learningRate`, ...). nil learning rate,
/// momentum or weight decay: PyTorch's default for the optimizer.
public struct OptimizerSpec: Codable, Sendable, Equatable {
    public var kind: OptimizerKind
    public var learningRate: Double?
    public var momentum: Double?
    public var nesterov: Bool
    public var weightDecay: Double?
    /// Global-norm clipping threshold, or nil (off).
    public var clipNorm: Double?
    /// Element-wise clipping threshold, or nil (off); excludes `clipNorm`.
    public var clipValue: Double?
    /// The learning-rate schedule as text (`LearningRateSchedule(parsing:totalSteps:)`).
    public var schedule: String

    public init(kind: OptimizerKind = TrainingDefaults.optimizer, learningRate: Double? = nil, momentum: Double? = nil,
                nesterov: Bool = false, weightDecay: Double? = nil, clipNorm: Double? = TrainingDefaults.clipNorm,
                clipValue: Double? = nil, schedule: String = TrainingDefaults.schedule) {
        self.kind = kind
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.clipNorm = clipNorm
        self.clipValue = clipValue
        self.schedule = schedule
    }

    enum CodingKeys: String, CodingKey {
        case kind = "optimizer"
        case learningRate, momentum, nesterov, weightDecay, clipNorm, clipValue, schedule
    }

    /// The optimizer, with PyTorch's defaults where a setting is nil.
    public func choice() throws(ConfigurationError) -> OptimizerChoice<Float> {
        try OptimizerChoice(kind, learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
    }

    /// The learning rate the run starts at: the given one or the optimizer's default (nil for
    /// SGD without one).
    public var effectiveLearningRate: Double? { learningRate ?? kind.defaultLearningRate }
}

/// The run's length, batch, seed and cadences, as stored in checkpoints.
public struct RunSpec: Codable, Sendable, Equatable {
    /// Total optimizer steps (a resumed run continues to this total).
    public var steps: Int
    public var batch: Int
    /// The seed of the initial weights; the batch stream's seed is drawn after them.
    public var seed: UInt64
    /// Evaluate every this many steps; 0: at the end only.
    public var evalEvery: Int
    public var logEvery: Int
    /// Save every this many steps; 0: at the end (and when stopped) only.
    public var checkpointEvery: Int
    /// Stop once the evaluation metric reaches this (mse/bpc at or below, accuracy at or above).
    public var target: Double?
    /// Passes over the training data (data set tasks): when set, `TrainingSession` makes
    /// `steps` this many epochs of batches of `batch`. Absent from the JSON when nil.
    public var epochs: Int?
    /// Early stopping after this many evaluations without improvement (`TrainingOptions.patience`).
    /// Absent from the JSON when nil.
    public var patience: Int?
    /// Keep the best evaluation's weights in `NAME.best.safetensors`. Absent from the JSON when nil (off).
    public var keepBest: Bool?

    public init(steps: Int = TrainingDefaults.steps, batch: Int = TrainingDefaults.batch, seed: UInt64 = TrainingDefaults.seed,
                evalEvery: Int = TrainingDefaults.evalEvery, logEvery: Int = TrainingDefaults.logEvery,
                checkpointEvery: Int = TrainingDefaults.checkpointEvery, target: Double? = nil, epochs: Int? = nil,
                patience: Int? = nil, keepBest: Bool? = nil) {
        self.patience = patience
        self.keepBest = keepBest
        self.steps = steps
        self.batch = batch
        self.seed = seed
        self.evalEvery = evalEvery
        self.logEvery = logEvery
        self.checkpointEvery = checkpointEvery
        self.target = target
        self.epochs = epochs
    }
}
