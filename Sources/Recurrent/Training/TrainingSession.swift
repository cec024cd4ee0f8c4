import Foundation

// MARK: - Start or resume a run: the one entry point of `train`, `compare` and sweeps

/// Where a run's files go: the checkpoint pair (`NAME.safetensors` and its training state
/// `NAME.state.safetensors`) and, optionally, the JSON Lines metrics log.
public struct RunFiles: Sendable, Equatable {
    /// The model file; the training state (sidecar) lies beside it.
    public var checkpoint: URL
    /// The metrics log (`MetricsLog`), or nil for none.
    public var log: URL?

    public init(checkpoint: URL, log: URL? = nil) {
        self.checkpoint = checkpoint
        self.log = log
    }

    /// One run per folder: `folder/checkpoint.safetensors` and `folder/log.jsonl` (a
    /// comparison's runs, one shard of a sweep).
    public init(folder: URL) {
        self.init(checkpoint: folder.appendingPathComponent("checkpoint.safetensors"),
                  log: folder.appendingPathComponent("log.jsonl"))
    }

    /// The training state beside the checkpoint.
    public var trainingState: URL { TrainingCheckpoint.sidecarURL(for: checkpoint) }
}

/// How a session starts.
public enum TrainingStart: Sendable {
    /// At step 0 from the seed (a checkpoint already at `RunFiles.checkpoint` is replaced).
    case fresh
    /// From the checkpoint pair, which must exist (`train --resume`).
    case resume
    /// From the checkpoint pair when its training state exists, else fresh: a run that can be
    /// started again after any stop or kill (`compare`, sweeps).
    case resumeIfPresent
    /// At step 0 with these weights (a checkpoint's, e.g. from PyTorch) and a fresh optimizer;
    /// `path` names the file in errors.
    case weights(SafeTensorsFile, path: String)
}

/// What a session knows once its model is ready, before the first step (`TrainingSession.run`'s
/// `started`).
public struct SessionStart: Sendable {
    /// The step training continues from (0 for a fresh run).
    public var step: Int
    /// True when resumed from the checkpoint pair.
    public var resumed: Bool
    /// True when the resumed run had already ended (its last step, the target reached at
    /// this step as its log records, or its patience used up): nothing will be trained.
    public var finished: Bool { finishedBecause != nil }
    /// Why the resumed run had already ended, or nil.
    public var finishedBecause: StopReason?
    /// One line per repair of a checkpoint cut short by a kill (`TrainingCheckpoint.recover`).
    public var notes: [String]
}

/// How a session ended.
public struct TrainingOutcome: Sendable {
    /// Steps, times, the last training and evaluation records, and why it stopped
    /// (`.diverged` with `divergence` set; nothing trained when `start.finished`).
    public var summary: TrainingSummary
    public var start: SessionStart
    /// The divergence that stopped the run (its last finite state is saved), if any.
    public var divergence: TrainingDivergence?
    /// The run time before this session (a resumed run's, from its log), in seconds.
    public var previousSeconds: Double
    /// Trainable scalars of the model.
    public var parameterCount: Int
    /// The first layer's recurrent matrix before training (the seed's weights) and at the end
    /// (`TrainingSession.measuresSpectra`).
    public var initialSpectrum: RecurrentSpectrum?
    public var finalSpectrum: RecurrentSpectrum?
}

/// ρ(W) of a first layer's recurrent matrix (IndRNN: max |u|), and W's eigenvalues for an RNN.
public struct RecurrentSpectrum: Sendable, Equatable {
    public var spectralRadius: Double?
    /// [re, im] per eigenvalue (RNN only).
    public var eigenvalues: [[Double]]?
}

/// One training run from a spec: builds the task, the optimizer and the training options
/// (`init`, nothing written), then the model and the trainer, resumes from the checkpoint
/// pair when asked and present, trains, and saves (`run`). `train` and `compare` both start
/// and resume their runs through it, so a run started by one can be continued by the other
/// and by library code (one folder per run: `RunFiles(folder:)`).
///
/// The model's initial weights come from `SeededGenerator(seed: spec.run.seed)`, and the
/// batch stream from the next draw of that generator; everything a resume needs is in the
/// checkpoint pair, so a session stopped at any step (and after a `kill -9`, see
/// `TrainingCheckpoint.recover`) and run again ends with the same bits as one run.
public struct TrainingSession: Sendable {
    /// The spec as given, with `run.steps` resolved from `run.epochs` when set; stored in
    /// every checkpoint as `recurrent.train`.
    public let spec: TrainSpec
    public let task: any TrainingTask
    public let optimizer: OptimizerChoice<Float>
    public let options: TrainingOptions
    /// How to start (default: resume when a training state exists).
    public var start: TrainingStart = .resumeIfPresent
    /// Extra checkpoint metadata (`recurrent.train` and a charlm vocabulary are always added).
    public var metadata: [String: String] = [:]
    /// Send `TrainingEvent.spectralRadii` (TensorBoard); see `Trainer.reportsSpectralRadii`.
    public var reportsSpectralRadii = false
    /// Measure the first layer's spectrum before and after (`TrainingOutcome`): an eigenvalue
    /// problem of H x H twice.
    public var measuresSpectra = false

    /// Builds the task of `spec` (loading its data) unless `task` is given, and resolves the
    /// optimizer and the training options. Throws before anything is written.
    public init(_ spec: TrainSpec, task: (any TrainingTask)? = nil) throws {
        let task = try task ?? spec.task.makeTask()
        var spec = spec
        if let epochs = spec.run.epochs {
            guard let perEpoch = try task.batchesPerEpoch(batchSize: spec.run.batch) else {
                throw ConfigurationError("epochs apply to data set tasks (smnist, pmnist, rowmnist, charlm, tensors); \(task.name) draws fresh sequences every step: give a number of steps instead")
            }
            spec.run.steps = epochs * perEpoch
        }
        self.spec = spec
        self.task = task
        self.optimizer = try spec.optimizer.choice()
        self.options = try spec.trainingOptions()
    }

    /// The character vocabulary of a charlm task (stored in checkpoints for sampling).
    public var vocabulary: CharacterVocabulary? { task.vocabulary }

    /// The memory a run of `configuration` needs; check it before `run` allocates.
    public func memoryEstimate(_ configuration: ModelConfiguration) -> MemoryEstimate {
        MemoryEstimate.training(configuration, task: task, options: options, optimizer: optimizer)
    }

    /// The checkpoint metadata of every save: `metadata`, the spec and the vocabulary.
    public var checkpointMetadata: [String: String] {
        var m = metadata
        m[TrainSpec.metadataKey] = spec.json
        if let v = vocabulary { m[TrainSpec.vocabularyKey] = TrainSpec.vocabularyText(v) }
        return m
    }

    /// Trains `configuration` (its sizes must fit the task) into `files`, starting as `start`
    /// says, until the last step, the target, a stop request (`shouldStop`, polled after every
    /// step: the step finishes and a checkpoint is saved) or a divergence (the last finite
    /// state is saved, and returned in the outcome rather than thrown).
    ///
    /// - Parameters:
    ///   - started: called once the model is ready, before the first step (also for a run
    ///     that had already finished); an error it throws ends the session with nothing trained.
    ///   - observer: every training event (the log, when there is one, is written before).
    public func run(_ configuration: ModelConfiguration, files: RunFiles,
                    started: (SessionStart) throws -> Void = { _ in },
                    observer: (TrainingEvent) -> Void = { _ in },
                    shouldStop: () -> Bool = { false }) throws -> TrainingOutcome {
        var rng = SeededGenerator(seed: spec.run.seed)
        let model = try AnyRecurrentModel(configuration, using: &rng)
        let job = SessionJob(session: self, configuration: configuration, files: files, batchSeed: rng.next())
        return try withoutActuallyEscaping(started) { started in
            try withoutActuallyEscaping(observer) { observer in
                try withoutActuallyEscaping(shouldStop) { shouldStop in
                    try model.visit(SessionJob.Visitor(job: job, started: started, observer: observer, shouldStop: shouldStop))
                }
            }
        }
    }
}

/// `TrainingSession.run` for a concrete cell.
struct SessionJob {
    let session: TrainingSession
    let configuration: ModelConfiguration
    let files: RunFiles
    /// The batch stream's seed: the generator's next draw after the initial weights.
    let batchSeed: UInt64

    struct Visitor: ModelVisitor {
        let job: SessionJob
        let started: (SessionStart) throws -> Void
        let observer: (TrainingEvent) -> Void
        let shouldStop: () -> Bool

        func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> TrainingOutcome where Cell.Scalar == Float {
            try job.train(model, started: started, observer: observer, shouldStop: shouldStop)
        }
    }

    func train<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>, started: (SessionStart) throws -> Void,
                                    observer: (TrainingEvent) -> Void, shouldStop: () -> Bool) throws -> TrainingOutcome where Cell.Scalar == Float {
        let checkpoint = files.checkpoint
        var model = model
        if case .weights(let file, let path) = session.start {
            do { model = try Checkpoint.fill(model, from: file) } catch var error as CheckpointError {
                error.path = path
                throw error
            } catch var error as NonFiniteTensorsError {
                error.path = path
                throw error
            }
        }
        var trainer: Trainer<Cell>
        do {
            trainer = try Trainer(model: model, optimizer: session.optimizer, task: session.task, options: session.options,
                                  configuration: configuration, seed: batchSeed)
        } catch {
            throw ConfigurationError("the model does not fit the task: \(error.message)")
        }
        trainer.checkpointMetadata = session.checkpointMetadata
        trainer.reportsSpectralRadii = session.reportsSpectralRadii
        let initialSpectrum = session.measuresSpectra ? Self.spectrum(trainer) : nil

        // Resume: make the pair whole (a kill may have cut its last save short), restore it,
        // and drop the log's records of steps after it (logged after the save).
        var start = SessionStart(step: 0, resumed: false, finishedBecause: nil, notes: [])
        let resume: Bool
        switch session.start {
        case .resume: resume = true
        case .resumeIfPresent: resume = FileManager.default.fileExists(atPath: files.trainingState.path)
        case .fresh, .weights: resume = false
        }
        var previousSeconds = 0.0
        if resume {
            start.notes = try TrainingCheckpoint.recover(checkpoint).notes
            try TrainingCheckpoint.restore(&trainer, from: checkpoint)
            start.step = trainer.step
            start.resumed = true
            if let log = files.log {
                try TrainingCheckpoint.discardLogRecords(after: trainer.step, in: log)
                previousSeconds = MetricsLog.lastSeconds(in: log) ?? 0
            }
            start.finishedBecause = finished(trainer, log: files.log)
        } else {
            start.notes = TrainingCheckpoint.removeLeftoverTemporaries(of: checkpoint).map {   // of a first save cut short
                "removed \($0.path), a temporary file of a save cut short"
            }
        }
        try started(start)
        let log = try files.log.map { try MetricsLog(url: $0, truncate: !resume) }

        var outcome = TrainingOutcome(summary: TrainingSummary(checkpoint: checkpoint.path, steps: trainer.step, seconds: 0,
                                                               reason: start.finishedBecause ?? .completed),
                                      start: start, divergence: nil, previousSeconds: previousSeconds,
                                      parameterCount: trainer.model.parameterCount, initialSpectrum: initialSpectrum)
        if session.options.tracksEvaluations {          // a finished run still reports its best
            outcome.summary.best = trainer.progress.best
            if session.options.keepBest { outcome.summary.bestCheckpoint = TrainingCheckpoint.bestURL(for: checkpoint).path }
        }
        if !start.finished {
            do {
                outcome.summary = try trainer.run(checkpoint: checkpoint, observer: { event in
                    switch event {
                    case .step(var r): r.seconds += previousSeconds; try? log?.append(r)
                    case .evaluation(var r): r.seconds += previousSeconds; try? log?.append(r)
                    default: break
                    }
                    observer(event)
                }, shouldStop: shouldStop)
            } catch let divergence as TrainingDivergence {
                outcome.divergence = divergence
                if let s = divergence.summary { outcome.summary = s }
                outcome.summary.reason = .diverged
                outcome.summary.steps = trainer.step
            }
        }
        if session.measuresSpectra { outcome.finalSpectrum = Self.spectrum(trainer) }
        return outcome
    }

    /// Why a run resumed at its step had already ended there, or nil: its last step, (with a
    /// target) an evaluation at that step that reached it, as its log records, or (with a
    /// patience) that many evaluations without improvement, as its training state records.
    /// Its final checkpoint is then written; training again would add steps an uninterrupted
    /// run never took.
    func finished<C>(_ trainer: Trainer<C>, log: URL?) -> StopReason? {
        let step = trainer.step
        if step >= session.options.steps { return .completed }
        if let p = session.options.patience, trainer.progress.sinceBest >= p { return .earlyStopped }
        guard let target = session.options.target, let log else { return nil }
        let task = session.task
        let decisive = trainer.decidingSplit
        let reached = MetricsLog.evaluations(in: log).contains { $0.step == step && $0.split == decisive && task.reaches($0.metric, target: target) }
        return reached ? .targetReached : nil
    }

    /// ρ(W) of the first layer (IndRNN: max |u|) and, for an RNN, W's eigenvalues.
    static func spectrum<C>(_ trainer: Trainer<C>) -> RecurrentSpectrum {
        var eigenvalues: [[Double]]?
        if case .elman(let e) = trainer.model.layers[0].recurrentStructure, !e.isDiagonal {
            let w = e.recurrentWeight
            eigenvalues = (try? LinearAlgebra.eigenvalues(w.storage.map(Double.init), n: w.rows))?.map { [$0.re, $0.im] }
        }
        return RecurrentSpectrum(spectralRadius: trainer.recurrentSpectralRadius(), eigenvalues: eigenvalues)
    }
}
