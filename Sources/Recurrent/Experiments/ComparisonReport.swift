import Foundation

// MARK: - The comparison's report: markdown, HTML, figures and every number

/// Writes a comparison's results: `report.md`, `report.html` (self-contained, SVG
/// inline), `learning-curves.svg`, `spectra.svg` and `runs.jsonl` (every number in the report).
public enum ComparisonReport {
    public static func summaries(_ results: [RunResult], settings: ComparisonSettings) -> [ModelSummary] {
        settings.models.map { spec in ModelSummary(model: spec.description, runs: results.filter { $0.model == spec.description }) }
    }

    static func fmt(_ x: Double?, digits: Int = 3) -> String {
        guard let x else { return "–" }
        if x != 0 && (Swift.abs(x) < 1e-3 || Swift.abs(x) >= 1e5) { return NumberText.scientific(x) }
        return NumberText.fixed(x, digits: digits)
    }

    /// The markdown report.
    public static func markdown(_ results: [RunResult], settings: ComparisonSettings, baseline: (value: Double, description: String)?,
                                machine: String, command: String) -> String {
        let s = settings
        var md = "# Comparison: \(s.task.name), T = \(s.task.displayLength)\n\n"
        md += "Command: `\(command)`  \nMachine: \(machine)  \n"
        md += "Models: \(s.models.map(\.description).joined(separator: ", ")); \(s.seeds) seed(s) from \(s.firstSeed); \(s.steps) steps of batch \(s.batchSize); "
        md += "H = \(s.hidden); \(s.optimizer.kind) (lr \(s.learningRate.map { "\($0)" } ?? "default")), clip-norm \(s.clipNorm.map { "\($0)" } ?? "off").\n\n"
        if let b = baseline { md += "Trivial baseline: \(fmt(b.value, digits: 4)) (\(b.description)).  \n" }
        if let t = s.effectiveTarget { md += "Threshold (\"solved\"): test \(results.first?.metricName.rawValue ?? "metric") \(results.first?.metricName.higherIsBetter == true ? ">=" : "<") \(t).\n" }
        md += "\n| model | parameters | final test \(results.first?.metricName.rawValue ?? "metric") (mean ± sd) | solved | steps to solve | seconds to solve | ms / step | diverged |\n"
        md += "|---|---|---|---|---|---|---|---|\n"
        for m in summaries(results, settings: settings) {
            if m.runs == 0 {                                     // an interrupted compare: nothing measured yet
                md += "| \(m.model) | – | not finished (run the same command again to resume) | – | – | – | – | – |\n"
                continue
            }
            md += "| \(m.model) | \(m.parameters) | \(fmt(m.metricMean, digits: 4)) ± \(fmt(m.metricSpread, digits: 4)) | \(m.solved)/\(m.runs) | "
            md += "\(m.stepsToTarget.map { "\(Int($0.rounded()))" } ?? "–") | \(fmt(m.secondsToTarget, digits: 1)) | \(fmt(m.secondsPerStep * 1000, digits: 2)) | \(m.diverged) |\n"
        }
        md += "\n## Runs\n\n| model | seed | steps | seconds | final \(results.first?.metricName.rawValue ?? "metric") | solved at step | ρ(W) before → after | note |\n|---|---|---|---|---|---|---|---|\n"
        for r in results {
            md += "| \(r.model) | \(r.seed) | \(r.steps) | \(fmt(r.seconds, digits: 1)) | \(fmt(r.finalMetric, digits: 4))\(r.best.map { " (best \(fmt($0.metric, digits: 4)) at step \($0.step))" } ?? "") | \(r.targetStep.map(String.init) ?? "–") | "
            md += "\(fmt(r.initialSpectralRadius)) → \(fmt(r.finalSpectralRadius)) | \(r.diverged ? "diverged: " + (r.divergence ?? "").prefix(120) + "…" : "") |\n"
        }
        let notes = PublishedResults.notes(for: s.task.name)
        if !notes.isEmpty { md += "\n## Published results for the same task\n\n" + notes.map { "- \($0)" }.joined(separator: "\n") + "\n" }
        md += "\n## Figures\n\n![learning curves](learning-curves.svg)\n"
        if spectra(results, settings: settings) != nil { md += "\n![spectra](spectra.svg)\n" }
        md += "\nEvery number above is in `runs.jsonl`; each run's log, checkpoint and result are under `runs/`.\n"
        return md
    }

    /// Writes every report file into `directory`.
    public static func write(_ results: [RunResult], settings: ComparisonSettings, baseline: (value: Double, description: String)?,
                             to directory: URL, machine: String, command: String) throws {
        let curves = learningCurves(results, settings: settings, baseline: baseline?.value)
        try curves.write(to: directory.appendingPathComponent("learning-curves.svg"))
        let spectraFigure = spectra(results, settings: settings)
        try spectraFigure?.write(to: directory.appendingPathComponent("spectra.svg"))
        let md = markdown(results, settings: settings, baseline: baseline, machine: machine, command: command)
        try FileIO.write(Array(md.utf8), to: directory.appendingPathComponent("report.md").path)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var jsonl = Data()
        for r in results { jsonl.append(try encoder.encode(r)); jsonl.append(0x0A) }
        try FileIO.write(Array(jsonl), to: directory.appendingPathComponent("runs.jsonl").path)
        let html = MarkdownHTML.page(title: "Comparison: \(settings.task.name), T = \(settings.task.displayLength)", markdown: md,
                                   figures: ["learning-curves.svg": curves.svg()] .merging(spectraFigure.map { ["spectra.svg": $0.svg()] } ?? [:]) { a, _ in a })
        try FileIO.write(Array(html.utf8), to: directory.appendingPathComponent("report.html").path)
    }
}
