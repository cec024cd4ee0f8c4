import Foundation

/// One model's results over its seeds.
public struct ModelSummary: Sendable, Codable, Equatable {
    public var model: String
    public var parameters: Int
    public var runs: Int
    public var metricName: String
    public var metricMean: Double?
    /// Standard deviation over seeds (0 for one seed).
    public var metricSpread: Double?
    public var solved: Int
    public var stepsToTarget: Double?
    public var secondsToTarget: Double?
    public var secondsPerStep: Double
    public var diverged: Int

    public init(model: String, runs results: [RunResult]) {
        self.model = model
        parameters = results.first?.parameters ?? 0
        runs = results.count
        metricName = results.first?.metricName ?? ""
        let finals = results.compactMap(\.finalMetric).filter(\.isFinite)
        metricMean = finals.isEmpty ? nil : finals.reduce(0, +) / Double(finals.count)
        metricSpread = metricMean.map { m in (finals.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(max(1, finals.count))).squareRoot() }
        let hits = results.filter { $0.targetStep != nil }
        solved = hits.count
        stepsToTarget = hits.isEmpty ? nil : Double(hits.compactMap(\.targetStep).reduce(0, +)) / Double(hits.count)
        secondsToTarget = hits.isEmpty ? nil : hits.compactMap(\.targetSeconds).reduce(0, +) / Double(hits.count)
        secondsPerStep = results.isEmpty ? 0 : results.map(\.secondsPerStep).reduce(0, +) / Double(results.count)
        diverged = results.filter(\.diverged).count
    }
}

/// Published numbers to read ours against (as reported by the papers; our runs use
/// our own hyper-parameters and budgets, so compare trends, not decimals).
public enum PublishedResults {
    public static func notes(for task: String) -> [String] {
        switch task {
        case "adding":
            return ["Le, Jaitly & Hinton (2015), §4.1 and Fig. 2 (T = 150, 200, 300, 400): the IRNN reaches a low test MSE, comparable to the LSTM, "
                    + "while the tanh RNN does much worse at the longer lengths (see the figure for the curves; their budgets and hyper-parameters differ from ours).",
                    "Predicting 1 always gives MSE 1/6 ≈ 0.167 (the variance of a sum of two U(0,1)); \"solved\" here means test MSE < 0.01."]
        case "smnist", "pmnist":
            return ["Le, Jaitly & Hinton (2015), §4.2 (pixel-by-pixel MNIST, 784 steps): IRNN 97% test accuracy on sequential MNIST and 82% "
                    + "on permuted MNIST; LSTM 65% and 36%; RNN + tanh about 35% (as reported, with their budgets and hyper-parameters).",
                    "This machine's default data is Fashion-MNIST, which is harder than MNIST: the same model scores lower on it."]
        case "copy":
            return ["Arjovsky, Shah & Bengio (2016): on the copy-memory task, a model that has not learned to remember stays at the baseline "
                    + "cross-entropy 10 ln 8 / (T + 20); \"solved\" here means 99% accuracy over all steps."]
        default:
            return []
        }
    }
}

/// Writes a comparison's results: `report.md`, `report.html` (self-contained, SVG
/// inline), `learning-curves.svg`, `spectra.svg` and `runs.jsonl` (every number in the report).
public enum ComparisonReport {
    public static func summaries(_ results: [RunResult], settings: ComparisonSettings) -> [ModelSummary] {
        settings.models.map { spec in ModelSummary(model: spec.description, runs: results.filter { $0.model == spec.description }) }
    }

    /// Test metric against steps and against seconds, every run on one chart each.
    public static func learningCurves(_ results: [RunResult], settings: ComparisonSettings, baseline: Double?) -> PlotFigure {
        let metricName = results.first?.metricName ?? "metric"
        let logY = metricName != "accuracy"
        let lines = baseline.map { [PlotReferenceLine($0, label: "baseline")] } ?? []
        let targetLines = settings.effectiveTarget.map { [PlotReferenceLine($0, label: "solved")] } ?? []
        var colors: [String: PlotColor] = [:]
        for (i, spec) in settings.models.enumerated() { colors[spec.description] = PlotColor.palette[i % PlotColor.palette.count] }
        func series(_ x: (CurvePoint) -> Double) -> [PlotSeries] {
            results.map { r in
                PlotSeries(label: "\(r.model) s\(r.seed)", x: r.curve.map(x), y: r.curve.map(\.metric),
                           style: r.seed == settings.firstSeed ? .line : .dashed, color: colors[r.model])
            }
        }
        let yLabel = "test \(metricName)"
        return PlotFigure(title: "\(settings.task.name) (T = \(settings.task.displayLength)): learning curves", panels: [
            PlotPanel(title: "against steps", xLabel: "step", yLabel: yLabel, yScale: logY ? .log10 : .linear,
                      series: series { Double($0.step) }, horizontalLines: lines + targetLines),
            PlotPanel(title: "against wall-clock time", xLabel: "seconds", yLabel: yLabel, yScale: logY ? .log10 : .linear,
                      series: series(\.seconds), horizontalLines: lines + targetLines),
        ], columns: 2, idPrefix: "curves")
    }

    /// The eigenvalues of each RNN model's W before and after training (first seed).
    public static func spectra(_ results: [RunResult], settings: ComparisonSettings) -> PlotFigure? {
        let firsts = results.filter { $0.seed == settings.firstSeed && $0.initialEigenvalues != nil }
        guard !firsts.isEmpty else { return nil }
        let panels = firsts.map { r in
            PlotPanel.complexPlane(title: "\(r.model): eigenvalues of W", series: [
                PlotSeries(label: "initial (ρ = \(fmt(r.initialSpectralRadius)))", x: (r.initialEigenvalues ?? []).map { $0[0] },
                           y: (r.initialEigenvalues ?? []).map { $0[1] }, style: .points),
                PlotSeries(label: "final (ρ = \(fmt(r.finalSpectralRadius)))", x: (r.finalEigenvalues ?? []).map { $0[0] },
                           y: (r.finalEigenvalues ?? []).map { $0[1] }, style: .points),
            ])
        }
        return PlotFigure(title: "Spectrum of the recurrent matrix, before and after training", panels: panels,
                          columns: min(2, panels.count), idPrefix: "spectra")
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
        md += "H = \(s.hidden); \(s.optimizer) (lr \(s.learningRate.map { "\($0)" } ?? "default")), clip-norm \(s.clipNorm.map { "\($0)" } ?? "off").\n\n"
        if let b = baseline { md += "Trivial baseline: \(fmt(b.value, digits: 4)) (\(b.description)).  \n" }
        if let t = s.effectiveTarget { md += "Threshold (\"solved\"): test \(results.first?.metricName ?? "metric") \(results.first?.metricName == "accuracy" ? ">=" : "<") \(t).\n" }
        md += "\n| model | parameters | final test \(results.first?.metricName ?? "metric") (mean ± sd) | solved | steps to solve | seconds to solve | ms / step | diverged |\n"
        md += "|---|---|---|---|---|---|---|---|\n"
        for m in summaries(results, settings: settings) {
            if m.runs == 0 {                                     // an interrupted compare: nothing measured yet
                md += "| \(m.model) | – | not finished (run the same command again to resume) | – | – | – | – | – |\n"
                continue
            }
            md += "| \(m.model) | \(m.parameters) | \(fmt(m.metricMean, digits: 4)) ± \(fmt(m.metricSpread, digits: 4)) | \(m.solved)/\(m.runs) | "
            md += "\(m.stepsToTarget.map { "\(Int($0.rounded()))" } ?? "–") | \(fmt(m.secondsToTarget, digits: 1)) | \(fmt(m.secondsPerStep * 1000, digits: 2)) | \(m.diverged) |\n"
        }
        md += "\n## Runs\n\n| model | seed | steps | seconds | final \(results.first?.metricName ?? "metric") | solved at step | ρ(W) before → after | note |\n|---|---|---|---|---|---|---|---|\n"
        for r in results {
            md += "| \(r.model) | \(r.seed) | \(r.steps) | \(fmt(r.seconds, digits: 1)) | \(fmt(r.finalMetric, digits: 4)) | \(r.targetStep.map(String.init) ?? "–") | "
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
        try Data(md.utf8).write(to: directory.appendingPathComponent("report.md"), options: .atomic)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        var jsonl = Data()
        for r in results { jsonl.append(try encoder.encode(r)); jsonl.append(0x0A) }
        try jsonl.write(to: directory.appendingPathComponent("runs.jsonl"), options: .atomic)
        let html = HTMLReport.page(title: "Comparison: \(settings.task.name), T = \(settings.task.displayLength)", markdown: md,
                                   figures: ["learning-curves.svg": curves.svg()] .merging(spectraFigure.map { ["spectra.svg": $0.svg()] } ?? [:]) { a, _ in a })
        try Data(html.utf8).write(to: directory.appendingPathComponent("report.html"), options: .atomic)
    }
}

/// A self-contained HTML page from the report's markdown subset (headings, paragraphs,
/// lists, pipe tables, inline code) with the SVG figures inlined where the markdown
/// links them. No scripts, no network.
enum HTMLReport {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func inline(_ s: String) -> String {
        var out = "", inCode = false
        for part in escape(s).split(separator: "`", omittingEmptySubsequences: false) {
            out += inCode ? "<code>\(part)</code>" : String(part)
            inCode.toggle()
        }
        return out
    }

    static func page(title: String, markdown: String, figures: [String: String]) -> String {
        var body = "", inTable = false, inList = false
        func close() {
            if inTable { body += "</table>\n"; inTable = false }
            if inList { body += "</ul>\n"; inList = false }
        }
        for raw in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("|") {
                if line.hasPrefix("|---") { continue }
                let cells = line.dropFirst().dropLast().split(separator: "|", omittingEmptySubsequences: false).map { inline($0.trimmingCharacters(in: .whitespaces)) }
                if !inTable { close(); body += "<table>\n<tr>" + cells.map { "<th>\($0)</th>" }.joined() + "</tr>\n"; inTable = true }
                else { body += "<tr>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>\n" }
                continue
            }
            if line.hasPrefix("- ") {
                if !inList { close(); body += "<ul>\n"; inList = true }
                body += "<li>\(inline(String(line.dropFirst(2))))</li>\n"
                continue
            }
            close()
            if line.hasPrefix("## ") { body += "<h2>\(inline(String(line.dropFirst(3))))</h2>\n" }
            else if line.hasPrefix("# ") { body += "<h1>\(inline(String(line.dropFirst(2))))</h1>\n" }
            else if line.hasPrefix("!["), let open = line.firstIndex(of: "("), let end = line.lastIndex(of: ")") {
                let name = String(line[line.index(after: open)..<end])
                body += figures[name].map { "<figure>\($0)</figure>\n" } ?? ""
            } else if !line.isEmpty { body += "<p>\(inline(line))</p>\n" }
        }
        close()
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
        table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
        th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}code{background:#f3f3f3;padding:1px 3px}
        figure{margin:1em 0}svg{max-width:100%;height:auto}</style></head>
        <body>
        \(body)</body></html>
        """
    }
}
