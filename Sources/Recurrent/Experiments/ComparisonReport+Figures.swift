// MARK: - The comparison's figures

extension ComparisonReport {
    /// Test metric against steps and against seconds, every run on one chart each.
    public static func learningCurves(_ results: [RunResult], settings: ComparisonSettings, baseline: Double?) -> PlotFigure {
        let metricName = results.first?.metricName.rawValue ?? "metric"
        let logY = results.first?.metricName.higherIsBetter != true
        let lines = baseline.map { [PlotReferenceLine($0, label: "baseline")] } ?? []
        let targetLines = settings.effectiveTarget.map { [PlotReferenceLine($0, label: "solved")] } ?? []
        var colors: [String: PlotColor] = [:]
        for (i, label) in settings.labels.enumerated() { colors[label] = PlotColor.palette[i % PlotColor.palette.count] }
        func series(_ x: (CurvePoint) -> Double) -> [PlotSeries] {
            results.map { r in
                PlotSeries(label: "\(r.model) s\(r.seed)", x: r.curve.map(x), y: r.curve.map(\.metric),
                           style: r.seed == settings.firstSeed ? .line : .dashed, color: colors[r.model])
            }
        }
        let yLabel = "test \(metricName)"
        return PlotFigure(title: "\(settings.task.name) (T = \(lengthsText(settings))): learning curves", panels: [
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
}
