import Foundation

/// A comparison's runs as TensorBoard runs (`compare --tensorboard DIR`): one folder per model
/// and seed, `DIR/<model>-seed<k>/` (the run's folder name in REPORT/runs/: `PlannedRun.key`), so that
/// `tensorboard --logdir DIR` overlays every run. A run whose log cannot be written warns once
/// (`warn`) and trains on without it.
public final class ComparisonTensorBoard {
    public let root: URL
    let settings: ComparisonSettings
    let metricName: TaskMetric
    let warn: (String) -> Void
    private var current: TensorBoardTrainingLog?

    public init(root: URL, settings: ComparisonSettings, metricName: TaskMetric, warn: @escaping (String) -> Void) {
        self.root = root
        self.settings = settings
        self.metricName = metricName
        self.warn = warn
    }

    /// Creates DIR before any run starts, so that an unwritable folder stops the command at once.
    public func createRoot() throws {
        try TensorBoardEventWriter.createFolder(root)
    }

    /// Opens a run's event file when it starts, writes its events, closes it when it ends.
    public func record(_ event: Comparison.Event) {
        switch event {
        case .runStarted(let model, let seed, let resumedAt):
            let key = (try? settings.plan())?.first { $0.label == model && $0.seed == seed }?.key ?? "\(model)-seed\(seed)"
            do {
                current = try TensorBoardTrainingLog(directory: root.appendingPathComponent(key), metricName: metricName,
                                                     batchSize: settings.batchSize, startStep: resumedAt ?? 0)
            } catch {
                warn("  \(model): warning: no TensorBoard log for this run: \(error)")
            }
        case .training(let model, _, let trainingEvent):
            guard let log = current else { return }
            do { try log.record(trainingEvent) } catch {
                warn("  \(model): warning: the TensorBoard log stopped: \(error)")
                current = nil
            }
        case .runFinished, .runSkipped, .runLocked:
            current = nil
        case .runRecovered, .staleLockReplaced:
            break
        }
    }
}
