import Foundation

/// Trains one model on one task: the loop behind `recurrent train` and `compare`.
///
/// Everything that decides the next step is in this value (weights, optimizer state,
/// the generator, the task's position, a carried state), and `TrainingCheckpoint` saves
/// all of it, so an interrupted and resumed run ends with the same bits as one that
/// was never stopped.
public struct Trainer<Cell: RecurrentCell>: Sendable where Cell.Scalar == Float {
    public var model: RecurrentModel<Cell>
    public var optimizer: OptimizerChoice<Float>
    public var task: any TrainingTask
    public var options: TrainingOptions
    /// How the model was built; stored in checkpoints.
    public var configuration: ModelConfiguration
    /// The learning rate before the schedule.
    public var baseLearningRate: Double
    /// The run's generator: batches of synthetic tasks and epoch shuffles draw from it.
    public var rng: SeededGenerator
    /// Completed optimizer steps.
    public var step: Int = 0
    /// The state carried between batches of a truncated-BPTT task.
    public var carried: RecurrentState<Float>?
    /// What the evaluations decided so far (best, evaluations since, plateau state); fed by
    /// `observe(_:)`, which `run` calls at every evaluation.
    public var progress = EvaluationProgress()
    /// Warnings already given (each is given once).
    public var warned: Set<String> = []
    /// Extra metadata written into every checkpoint's model file (e.g. the command line's
    /// task description, a character vocabulary); `step` and `task` are always set.
    public var checkpointMetadata: [String: String] = [:]
    /// Send `TrainingEvent.spectralRadii` at the start of a fresh run and after each
    /// evaluation (for TensorBoard); off by default, since it costs an eigenvalue problem per
    /// layer (and per gate block). Not part of a checkpoint.
    public var reportsSpectralRadii = false
    /// Every evaluation split laid out as its passes, built once by `run` for the run when
    /// they fit in memory (`MemoryEstimate.keepsEvaluationSets`); empty otherwise, and then
    /// each evaluation lays its split out again. Not part of a checkpoint.
    var evaluationSets: [EvaluationPasses] = []
    /// Traces and backward buffers reused from step to step (not part of a checkpoint).
    var workspace = ModelWorkspace<Float>(inputGradient: false)   // dL/dx is never read here
    /// The state before the current step, to undo a step that diverges (Trainer+Finite.swift).
    var snapshot = TrainingSnapshot()

    public init(model: RecurrentModel<Cell>, optimizer: OptimizerChoice<Float>, task: any TrainingTask,
                options: TrainingOptions, configuration: ModelConfiguration, seed: UInt64) throws(ConfigurationError) {
        try options.validate()
        try Evaluator.check(model, fits: task)
        self.model = model
        self.optimizer = optimizer
        self.task = task
        self.options = options
        self.configuration = configuration
        self.baseLearningRate = optimizer.learningRate
        self.rng = SeededGenerator(seed: seed)
    }

    // MARK: - One step

    /// Draws a batch, computes the loss and gradients, clips, and updates the weights.
    /// `detailed` adds max |h| and the dead-unit fraction (a scan of every state).
    ///
    /// Finite or nothing: when the loss or a gradient is not finite, or the update leaves
    /// a weight, an optimizer buffer or the carried state with a NaN or infinity, the
    /// step is undone (weights, optimizer state, generator, data position and carried
    /// state are again those after step `step`, as before the call) and
    /// `TrainingDivergence` is thrown. Any other error undoes the step too.
    ///
    /// Specialised for the four built-in cells (`@_specialize`: the generic entry point
    /// checks the cell type and jumps to the specialised body). Without it a caller in
    /// another module (the command line's `TrainingJob`, a library user) runs the generic
    /// body, and with it the whole time loop: every `hiddenSize` a protocol-witness call,
    /// every Float operation of the optimizer too, about twice the instructions of a step.
    @_specialize(where Cell == RNNCell<Float>)
    @_specialize(where Cell == LSTMCell<Float>)
    @_specialize(where Cell == GRUCell<Float>)
    @_specialize(where Cell == IndRNNCell<Float>)
    public mutating func trainStep(detailed: Bool = true) throws -> StepRecord {
        var kept = TrainingSnapshot()                           // the buffers of the last step, reused
        swap(&kept, &snapshot)
        kept.capture(self)
        snapshot = kept
        do {
            return try updateStep(detailed: detailed)
        } catch var error {
            let before = snapshot
            before.restore(into: &self)
            if var divergence = error as? TrainingDivergence {
                divergence.spectralRadius = recurrentSpectralRadius()   // of the W that diverged
                error = divergence
            }
            throw error
        }
    }

    /// True when the next step is one `run` logs (and so computes the state statistics
    /// for): every `options.logEvery` steps, and the last of `options.steps`.
    public var logsNextStep: Bool {
        (step + 1) % options.logEvery == 0 || step + 1 == options.steps
    }

    /// The step itself; `trainStep` undoes it when it throws.
    mutating func updateStep(detailed: Bool) throws -> StepRecord {
        var batch = try task.nextTrainingBatch(size: options.batchSize, using: &rng)
        func initialState() -> RecurrentState<Float>? {
            task.carriesState && !batch.resetState ? carried.flatMap { $0.layers.first?.hidden.rows == batch.inputs.batch ? $0 : nil } : nil
        }
        // Truncated BPTT with one target per sequence: the windows before the target's run
        // forward only (in training mode: dropout on), carrying the state (TruncatedSequenceTask).
        while batch.forwardOnly {
            let masks = model.usesDropout ? model.trainingMasks(batch: batch.inputs.batch, steps: batch.inputs.steps, seed: rng.next()) : nil
            carried = model.forward(batch.inputs, initial: initialState(), workspace: &workspace, dropoutMasks: masks?.between,
                                    variationalMasks: masks?.variational).finalState
            batch = try task.nextTrainingBatch(size: options.batchSize, using: &rng)
        }
        optimizer.learningRate = options.schedule.rate(base: baseLearningRate, step: step, reductions: progress.plateau.reductions)
        let initial = initialState()
        // Dropout's masks come from the run's generator (saved with every checkpoint, so a
        // resumed run draws the same); a model without dropout draws nothing here.
        let dropoutSeed = model.usesDropout ? rng.next() : nil
        var result = try model.gradients(batch.inputs, batch.targets, loss: task.loss, initial: initial, workspace: &workspace,
                                         dropoutSeed: dropoutSeed)
        func divergence(_ cause: TrainingDivergence.Cause) -> TrainingDivergence {
            let (maxAbs, exploded) = Self.hiddenGrowth(result.pass)
            return TrainingDivergence(step: step + 1, cause: cause, explodedAtTimeStep: exploded, maxAbsHidden: maxAbs)
        }
        guard result.loss.isFinite else { throw divergence(.loss) }
        let norm: Double
        do {
            if let c = options.clipNorm {
                norm = try result.gradients.clipGlobalNorm(c)
            } else if let c = options.clipValue {
                norm = try result.gradients.clipValues(c)
            } else {
                try result.gradients.checkFinite()
                norm = result.gradients.globalNorm
            }
        } catch {
            throw divergence(.gradient(parameter: error.parameter))
        }
        model.apply(result.gradients, using: &optimizer)
        if task.carriesState { carried = result.pass.finalState }
        let nonFinite = nonFiniteState()
        guard nonFinite.isEmpty else { throw divergence(.state(nonFinite)) }
        step += 1
        let clipped = options.clipNorm.map { norm > $0 } ?? options.clipValue.map { _ in true } ?? false
        var record = StepRecord(step: step, loss: result.loss, metric: task.metric(loss: result.loss, accuracy: result.accuracy),
                                gradientNorm: norm, clipped: clipped, learningRate: optimizer.learningRate,
                                maxAbsHidden: 0, deadFraction: 0, seconds: 0)
        if detailed {
            record.maxAbsHidden = Self.hiddenGrowth(result.pass).maxAbs
            record.deadFraction = Self.deadFraction(result.pass)
        }
        return record
    }

    // MARK: - Evaluation

    /// Loss and metric over a fixed split at the current step (`Evaluator`, with the
    /// options' evaluation batch). Specialised like `trainStep`.
    @_specialize(where Cell == RNNCell<Float>)
    @_specialize(where Cell == LSTMCell<Float>)
    @_specialize(where Cell == GRUCell<Float>)
    @_specialize(where Cell == IndRNNCell<Float>)
    public func evaluate(_ split: EvaluationSplit) throws -> EvaluationRecord {
        let evaluator = try Evaluator(model: model, task: task, batchSize: options.evaluationBatchSize)
        guard let set = evaluationSets.first(where: { $0.split == split }) else { return try evaluator.evaluate(split, step: step) }
        return try evaluator.evaluate(set, step: step)
    }

    /// Lays every evaluation split out once (`Evaluator.passes`), when the run's memory
    /// estimate keeps them (`MemoryEstimate.keepsEvaluationSets`: they fit in
    /// `MemoryLimit.current` with the rest of the run); the same values as laying each out
    /// at every evaluation, so the same results.
    mutating func keepEvaluationSets() throws {
        guard evaluationSets.isEmpty,
              MemoryEstimate.keepsEvaluationSets(configuration, task: task, options: options, optimizer: optimizer) else { return }
        let evaluator = try Evaluator(model: model, task: task, batchSize: options.evaluationBatchSize)
        evaluationSets = try task.evaluationSplits.map { try evaluator.passes($0) }
    }

    /// Feeds an evaluation to early stopping, the best checkpoint and a plateau schedule
    /// (`progress`) when it is of the deciding split (validation, else test); true when it is
    /// a new best. `run` calls it; a loop of one's own calls it after each evaluation.
    public mutating func observe(_ record: EvaluationRecord) -> Bool {
        guard record.split == decidingSplit else { return false }
        let plateau = options.schedule.plateau.map { p in
            (p.patience, p.factor, options.schedule.rate(base: baseLearningRate, step: step, reductions: progress.plateau.reductions))
        }
        return progress.observe(record, plateau: plateau)
    }

    /// The split whose metric decides the target, early stopping and the best checkpoint:
    /// validation when the task has one, else test.
    public var decidingSplit: EvaluationSplit {
        task.evaluationSplits.contains(.validation) ? .validation : .test
    }

    // MARK: - What the states did

    /// max |h_t| over the batch, and the first time step (1-based) where it exceeded
    /// 1e6 or was not finite.
    static func hiddenGrowth(_ pass: RecurrentModel<Cell>.ForwardPass) -> (maxAbs: Double, explodedAt: Int?) {
        var maxAbs = 0.0
        var explodedAt: Int?
        for trace in pass.traces {
            let width = trace.batch * trace.hidden.cols
            for t in stride(from: 1, through: trace.steps, by: 1) {
                let stepMax = largestMagnitude(trace.hidden.row(t * trace.batch), count: width)
                maxAbs = Swift.max(maxAbs, stepMax)
                if stepMax > 1e6 || !stepMax.isFinite { explodedAt = Swift.min(explodedAt ?? t, t) }
            }
        }
        return (maxAbs, explodedAt)
    }

    /// Fraction of hidden units (over all layers) that are exactly 0 at every step of
    /// every sequence in the batch: dead ReLUs. One OR per element of the bit patterns
    /// with the sign cleared (nonzero exactly when the value is not ±0; NaN counts as
    /// alive, as `!= 0` does).
    static func deadFraction(_ pass: RecurrentModel<Cell>.ForwardPass) -> Double {
        var dead = 0, total = 0
        for trace in pass.traces {
            let h = trace.hidden.cols
            var seen = [UInt32](repeating: 0, count: h)
            seen.withUnsafeMutableBufferPointer { seen in
                for r in trace.batch..<((trace.steps + 1) * trace.batch) {
                    trace.hidden.row(r).withMemoryRebound(to: UInt32.self, capacity: h) { bits in
                        for j in 0..<h { seen[j] |= bits[j] & 0x7fff_ffff }
                    }
                }
            }
            dead += seen.filter { $0 == 0 }.count
            total += h
        }
        return total == 0 ? 0 : Double(dead) / Double(total)
    }

    /// The spectral radius of the first layer's recurrent matrix W, for cells whose
    /// recurrence is net_t = U x_t + W h_{t-1} + b (RNN; IndRNN, whose W = diag(u) gives
    /// max |u|); nil for the others (gated cells) and when it cannot be computed.
    public func recurrentSpectralRadius() -> Double? {
        let structure = model.layers[0].recurrentStructure
        guard case .elman = structure else { return nil }
        return structure.spectralRadii.first?.value
    }

    // MARK: - Early warnings

    /// Warnings that predict trouble before it happens (each given once): a recurrent
    /// matrix whose spectral radius makes h_t grow or shrink geometrically, and a state
    /// growing fast in the last logged batch.
    public mutating func warnings(after record: StepRecord?) -> [TrainingWarning] {
        var out: [TrainingWarning] = []
        func once(_ key: String, _ text: String, _ remedies: [Remedy] = []) {
            if warned.insert(key).inserted { out.append(TrainingWarning(message: text, remedies: remedies)) }
        }
        // Only for an initial W: a trained W (a resumed run) may rightly have radius > 1.
        if record == nil, step == 0, case .elman(let e) = model.layers[0].recurrentStructure, !e.isDiagonal,
           let radius = recurrentSpectralRadius() {
            let f = model.layers[0].activation
            if radius > 1.05 && f != .tanh && f != .sigmoid {
                let clipping = options.clipNorm == nil && options.clipValue == nil ? [Remedy.clipGradients(norm: 1)] : []
                once("radius-high", "the spectral radius of W is \(NumberText.fixed(radius, digits: 3)) > 1: with \(f.name) the state and the gradient can grow like \(NumberText.fixed(radius, digits: 3))^t (seed eq. 10.11-10.12)",
                     [.useIdentityInit] + clipping)
            } else if radius < 0.5 {
                once("radius-low", "the spectral radius of W is \(NumberText.fixed(radius, digits: 3)): gradients through time shrink roughly like \(NumberText.fixed(radius, digits: 3))^t and long-range dependencies will be hard to learn",
                     [.useIdentityInit])
            }
        }
        if let r = record, r.maxAbsHidden > 1e4 && r.maxAbsHidden.isFinite {
            once("state-large", "max |h| reached \(NumberText.scientific(r.maxAbsHidden)) at step \(r.step): the state is growing; training may diverge",
                 [.clipGradients(norm: 1), .lowerLearningRate(factor: 10)])
        }
        if let r = record, r.deadFraction > 0.5 {
            once("dead", "\(Int((r.deadFraction * 100).rounded()))% of hidden units were zero for the whole batch at step \(r.step) (dead ReLUs)")
        }
        return out
    }
}
