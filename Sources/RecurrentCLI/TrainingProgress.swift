import Foundation
import Recurrent

/// Turns training events into what a person sees: one live line on a terminal (`\r`
/// updates), plain periodic lines otherwise (CI, pipes), nothing with `--json`; warnings
/// go to stderr in every mode.
final class TrainingProgress {
    enum Mode { case live, lines, silent }

    let mode: Mode
    let totalSteps: Int
    var startStep: Int
    let batchSize: Int
    let metricName: TaskMetric
    /// Plain mode prints every this many steps (about ten lines per run).
    let printEvery: Int
    /// `--tensorboard`: set once the run knows its start step; dropped (with a warning) if a write fails.
    var tensorboard: TensorBoardTrainingLog?
    private var lineOpen = false

    init(mode: Mode, totalSteps: Int, startStep: Int = 0, batchSize: Int, metricName: TaskMetric, logEvery: Int) {
        self.mode = mode
        self.totalSteps = totalSteps
        self.startStep = startStep
        self.batchSize = batchSize
        self.metricName = metricName
        let tenth = max(1, (totalSteps - startStep) / 10)
        self.printEvery = max(logEvery, (tenth + logEvery - 1) / logEvery * logEvery)
    }

    func handle(_ event: TrainingEvent) {
        recordForTensorBoard(event)
        switch event {
        case .step(let r):
            switch mode {
            case .live:
                let line = String(statusLine(r).prefix(max(20, Terminal.columns - 1)))
                Terminal.out("\r" + line + "\u{1B}[K", terminator: "")
                lineOpen = true
            case .lines:
                if r.step % printEvery == 0 || r.step == totalSteps { Terminal.out(statusLine(r)) }
            case .silent:
                break
            }
        case .evaluation(let r):
            if mode != .silent { closeLine(); Terminal.out("eval  step \(r.step)  \(r.split.rawValue) loss \(number(r.loss))  \(r.metricName) \(number(r.metric))") }
        case .checkpoint, .spectralRadii:
            break
        case .warning(let warning):
            closeLine()
            Terminal.err("warning: " + warning.worded)
        }
    }

    /// step 120/1000  0:12 < 1:28  loss 0.1623  mse 0.1623  |g| 0.031  2560 seq/s
    func statusLine(_ r: StepRecord) -> String {
        let done = Double(r.step - startStep)
        let rate = r.seconds > 0 ? done / r.seconds : 0
        let eta = rate > 0 ? Double(totalSteps - r.step) / rate : .nan
        let width = String(totalSteps).count
        let step = String(repeating: " ", count: max(0, width - String(r.step).count)) + String(r.step)
        return "step \(step)/\(totalSteps)  \(duration(r.seconds)) < \(duration(eta))  loss \(number(r.loss))  "
            + "\(metricName) \(number(r.metric))  |g| \(number(r.gradientNorm))  \(Int((rate * Double(batchSize)).rounded())) seq/s"
    }

    /// Writes the event to the TensorBoard log; a failed write (a full disk) warns once and
    /// stops the TensorBoard log, not the training.
    func recordForTensorBoard(_ event: TrainingEvent) {
        guard let tb = tensorboard else { return }
        do { try tb.record(event) } catch {
            closeLine()
            Terminal.err("warning: the TensorBoard log stopped: \(error)")
            tensorboard = nil
        }
    }

    /// Ends the live line so that the next output starts on its own line.
    func closeLine() {
        if lineOpen { Terminal.out(""); lineOpen = false }
    }
}
