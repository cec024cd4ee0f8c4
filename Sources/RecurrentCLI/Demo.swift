import ArgumentParser
import Foundation
import Recurrent

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The seed's argument in about three minutes: the diagnosis, a short comparison on the adding problem, and what it showed.",
        discussion: """
        1. Diagnose: ReLU and tanh RNNs with an identity and a Gaussian recurrent matrix, the growth of the state \
        (eq. 10.11) and of the Jacobian d net_t / d net_1 (eq. 10.12) over time.
        2. Compare: IRNN, LSTM, tanh RNN and ReLU RNN with a Gaussian W on the adding problem, trained side by side.
        3. A summary in plain words of what was measured, and where the report is.
        No data to download; everything is synthetic and seeded.
        """)

    @Option(help: "Where the report goes.") var report = "out/demo"
    @Option(help: "Adding-problem length T.") var length = 50
    @Option(help: "Training steps per model.") var steps = 3000
    @Option(help: "Hidden units.") var hidden = 64
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Hidden units of the diagnosed RNNs.") var diagnoseHidden = 100
    @Option(help: "Time steps of the diagnosis.") var diagnoseLength = 200

    func validate() throws {
        guard length >= 2, steps >= 1, hidden >= 1, diagnoseHidden >= 1, diagnoseLength >= 2 else {
            throw ValidationError("--length and --diagnose-length must be >= 2; --steps, --hidden and --diagnose-hidden >= 1")
        }
    }

    func run() throws {
        Interrupt.install()
        let directory = URL(fileURLWithPath: report)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let start = Date()

        Terminal.out("== 1. Why W = I: the state and the gradient carry W^t (seed eq. 10.11-10.12)\n")
        let diagnosis = try demoDiagnosis(directory: directory, seed: seed, hidden: diagnoseHidden, length: diagnoseLength)
        Terminal.out(diagnosis)

        Terminal.out("\n== 2. Training on the adding problem, T = \(length) (\(steps) steps each, Adam lr 0.003, clip-norm 1, H = \(hidden))\n")
        var settings = ComparisonSettings(task: TaskSpec(name: .adding, length: length),
                                          models: TrainingDefaults.comparisonModels.map { ModelSpec(name: $0) },
                                          steps: steps, seeds: 1)
        settings.hidden = hidden
        settings.learningRate = 0.003
        settings.batchSize = 50
        settings.evaluateEvery = 100
        settings.stopAtTarget = true
        settings.firstSeed = seed
        let results = try runComparison(settings, directory: directory.appendingPathComponent("compare"),
                                        command: CommandLine.arguments.joined(separator: " "), quiet: true)

        Terminal.out("\n== 3. What you just saw\n")
        Terminal.out(demoSummary(results, settings: settings))
        Terminal.out("\nTotal time: \(fixed(Date().timeIntervalSince(start), 0)) s. Report: \(directory.appendingPathComponent("compare/report.html").path)")
    }
}

/// The comparison in plain words, from the measured results only.
func demoSummary(_ results: [RunResult], settings: ComparisonSettings) -> String {
    let baseline = AddingProblem.baselineMSE
    var lines: [String] = []
    for r in results {
        let name: String
        switch r.model {
        case "irnn": name = "The IRNN (ReLU, W = I)"
        case "lstm": name = "The LSTM"
        case "rnn-tanh": name = "The tanh RNN"
        case "rnn-relu-gaussian": name = "The ReLU RNN with a small Gaussian W"
        default: name = r.model
        }
        if r.diverged {
            lines.append("- \(name) diverged: \(r.divergence ?? "").")
        } else if let step = r.targetStep, let seconds = r.targetSeconds {
            lines.append("- \(name) solved it (test MSE < 0.01) at step \(step), after \(fixed(seconds, 1)) s (\(fixed(r.secondsPerStep * 1000, 1)) ms per step).")
        } else if let m = r.finalMetric {
            let verdict = m > 0.8 * baseline ? "stayed at the baseline (\(formatMetric(baseline)), what predicting 1 scores): it did not learn to carry the two marked numbers across \(settings.task.displayLength) steps"
                                             : "learned part of it but did not reach MSE 0.01"
            lines.append("- \(name) \(verdict); final test MSE \(formatMetric(m)) after \(r.steps) steps (\(fixed(r.seconds, 1)) s).")
        }
    }
    let solved = results.filter { $0.targetStep != nil }
    if let irnn = results.first(where: { $0.model == "irnn" }), let lstm = results.first(where: { $0.model == "lstm" }) {
        switch (irnn.targetSeconds, lstm.targetSeconds) {
        case let (i?, l?):
            let ratio = Double(lstm.parameters) / Double(max(1, irnn.parameters))
            lines.append(i < l ? "The IRNN got there \(fixed(l / i, 1))x faster in wall-clock time than the LSTM (\(irnn.targetStep ?? 0) vs \(lstm.targetStep ?? 0) steps), with \(fixed(ratio, 1))x fewer parameters."
                               : "Here the LSTM got there first (\(fixed(l, 1)) s vs \(fixed(i, 1)) s).")
        case (_?, nil):
            lines.append("Within this budget only the IRNN solved it; the LSTM may need more steps (the seed claims similar results, not the same speed).")
        case (nil, _?):
            lines.append("In this run the LSTM solved it and the IRNN did not: the seed's claim did not hold here; see the report.")
        case (nil, nil):
            lines.append("Neither the IRNN nor the LSTM solved it within \(settings.steps) steps; try more --steps or a shorter --length.")
        }
    }
    if solved.isEmpty { lines.append("No model reached the threshold in this budget.") }
    return lines.joined(separator: "\n")
}
