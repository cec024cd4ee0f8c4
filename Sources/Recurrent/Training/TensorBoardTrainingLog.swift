import Foundation

// MARK: - A training run as TensorBoard scalars

/// Writes a training run's events as TensorBoard scalars: one new event file in the run's
/// folder per run (a resumed run adds a file beside the earlier ones; TensorBoard merges
/// them by step). Every event is written as it comes, so `tensorboard --logdir` shows the
/// curves live.
///
/// Tags (METRIC is the task's: mse, accuracy or bpc):
/// - every logged step: `train/loss`, `train/METRIC` (the batch), `grad/norm` (before
///   clipping), `lr`, `hidden/max_abs`, `hidden/dead_fraction`, `throughput/seq_per_s`;
/// - every evaluation: `val/loss`, `val/METRIC`, `test/loss`, `test/METRIC`;
/// - with `Trainer.reportsSpectralRadii`: `spectral_radius/l0`, `l1`, ... (RNN, IndRNN) or
///   `spectral_radius/l0/i`, `.../f`, ... (one per gate block of LSTM and GRU).
public final class TensorBoardTrainingLog {
    public let writer: TensorBoardEventWriter
    /// The task's metric name (`StepRecord.metric` carries no name).
    public let metricName: TaskMetric
    /// Sequences per step, for the throughput.
    public let batchSize: Int
    /// The step and run time from which the next throughput is measured.
    private var mark: (step: Int, seconds: Double)

    /// Opens a new event file in `directory` for a run that starts (or resumes) after
    /// `startStep` completed steps. A resumed run first marks a session start at
    /// `startStep + 1`, so TensorBoard's Python loader drops points that an earlier process
    /// wrote after the checkpoint the run resumes from (a fresh run marks step 0: it replaces
    /// whatever an earlier run left in the folder).
    ///
    /// - Parameters:
    ///   - clock: wall time in seconds since 1970 (injected so tests are deterministic).
    public init(directory: URL, metricName: TaskMetric, batchSize: Int, startStep: Int = 0,
                hostname: String = ProcessInfo.processInfo.hostName,
                clock: @escaping () -> Double = { Date().timeIntervalSince1970 }) throws(DataError) {
        writer = try TensorBoardEventWriter(directory: directory, hostname: hostname, clock: clock)
        self.metricName = metricName
        self.batchSize = batchSize
        mark = (startStep, 0)
        try writer.writeSessionStart(step: startStep == 0 ? 0 : startStep + 1)
    }

    /// Writes the scalars of one event (checkpoints and warnings have none).
    public func record(_ event: TrainingEvent) throws(DataError) {
        switch event {
        case .step(let r): try writer.write(scalars(r), step: r.step)
        case .evaluation(let r):
            try writer.write(Self.scalars(r), step: r.step)
            mark.seconds = r.seconds   // the evaluation's time is not training time
        case .spectralRadii(let r): try writer.write(Self.scalars(r), step: r.step)
        case .checkpoint, .warning: break
        }
    }

    /// A logged step's scalars. The throughput is over the steps since the previous logged
    /// step (or the run's start), evaluations excluded; it is left out when no time passed.
    public func scalars(_ r: StepRecord) -> [TensorBoardScalar] {
        var out = [TensorBoardScalar("train/loss", Float(r.loss)), TensorBoardScalar("train/\(metricName)", Float(r.metric)),
                   TensorBoardScalar("grad/norm", Float(r.gradientNorm)), TensorBoardScalar("lr", Float(r.learningRate)),
                   TensorBoardScalar("hidden/max_abs", Float(r.maxAbsHidden)),
                   TensorBoardScalar("hidden/dead_fraction", Float(r.deadFraction))]
        let elapsed = r.seconds - mark.seconds
        if elapsed > 0 && r.step > mark.step {
            out.append(TensorBoardScalar("throughput/seq_per_s", Float(Double((r.step - mark.step) * batchSize) / elapsed)))
        }
        mark = (r.step, r.seconds)
        return out
    }

    /// `val/loss`, `val/METRIC` or `test/loss`, `test/METRIC`.
    public static func scalars(_ r: EvaluationRecord) -> [TensorBoardScalar] {
        [TensorBoardScalar("\(r.split.rawValue)/loss", Float(r.loss)),
         TensorBoardScalar("\(r.split.rawValue)/\(r.metricName)", Float(r.metric))]
    }

    /// `spectral_radius/l<layer>`, with `/<gate>` for gated cells.
    public static func scalars(_ r: SpectralRadiusRecord) -> [TensorBoardScalar] {
        r.layers.map { TensorBoardScalar("spectral_radius/l\($0.layer)" + ($0.reverse == true ? "_reverse" : "") + ($0.gate.map { "/\($0)" } ?? ""), Float($0.value)) }
    }
}
