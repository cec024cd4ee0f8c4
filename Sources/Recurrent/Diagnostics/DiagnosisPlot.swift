// MARK: - The diagnosis as one SVG figure (`recurrent diagnose --plot FILE.svg`)

extension Diagnosis {
    /// Six panels, one colour per (activation, initialiser) run throughout and one line style
    /// per activation (solid, dashed): [1] mean ||h_t|| on random inputs and with zero input
    /// after t = 1, cut at the Float32 overflow (past it the arithmetic is on inf/NaN);
    /// [2] ||J_t||_2 and ||dL/dh_k||, whose legends say where they are exactly 0 (drawn as a
    /// break); all on log scales; [3] the eigenvalues of W in the complex plane with the unit
    /// circle (one colour per initialiser); [4] ||W^n||_2 (solid) against ||W_n ... W_1||_2
    /// (dashed), geometric mean over the seeds, log scale.
    public var figure: PlotFigure {
        let colors = runs.indices.map { PlotColor.palette($0) }
        // One line style per activation (solid, dashed, ...), so overlapping curves stay visible.
        let activations = uniqueActivations
        func style(_ r: DiagnosisRun) -> PlotSeries.Style { (activations.firstIndex(of: r.activation) ?? 0) % 2 == 0 ? .line : .dashed }
        func curves(_ label: (DiagnosisRun) -> String = { $0.label }, _ series: (DiagnosisRun) -> [Double]) -> [PlotSeries] {
            runs.enumerated().map { k, r in PlotSeries(label: label(r), y: series(r), style: style(r), color: colors[k]) }
        }
        /// The series up to the step before `overflow`; past it Float32 computes on inf/NaN and means nothing.
        func untilOverflow(_ values: [Double], _ overflow: Int?) -> [Double] {
            guard let o = overflow else { return values }
            return values.enumerated().map { $0.offset + 1 >= o ? .infinity : $0.element }
        }
        func cutLabel(_ r: DiagnosisRun) -> String {
            r.jacobian.lastNonzeroLag < r.length ? "\(r.label) (exactly 0 from t = \(r.jacobian.lastNonzeroLag + 1))" : r.label
        }
        func initColor(_ name: String) -> PlotColor {
            runs.firstIndex { $0.recurrentInit == name }.map { colors[$0] } ?? .grey
        }
        var panels: [PlotPanel] = []
        if !runs.isEmpty {
            panels.append(PlotPanel(title: "[1] ||h_t||, x_t ~ N(0,1) (Float32)", xLabel: "time step t", yLabel: "mean ||h_t||",
                                    yScale: .log10, series: curves { untilOverflow($0.forward.stateNormMean, $0.forward.overflowStep) }))
            panels.append(PlotPanel(title: "[1] ||h_t||, zero input after t = 1", xLabel: "time step t", yLabel: "mean ||h_t||",
                                    yScale: .log10, series: curves { untilOverflow($0.zeroInput.stateNormMean, $0.zeroInput.overflowStep) }))
            panels.append(PlotPanel(title: "[2] ||d net_t / d net_1||_2 (10.12)", xLabel: "lag t", yLabel: "spectral norm",
                                    yScale: .log10, series: curves(cutLabel) { $0.jacobian.spectralNorm },
                                    horizontalLines: [PlotReferenceLine(1, label: "1")]))
            panels.append(PlotPanel(title: "[2] ||dL/dh_k||, L = r · h_T", xLabel: "step k", yLabel: "gradient norm",
                                    yScale: .log10, series: curves({ r in
                                        r.jacobian.firstNonzeroGradientStep > 1 ? "\(r.label) (exactly 0 for k < \(r.jacobian.firstNonzeroGradientStep))" : r.label
                                    }) { $0.jacobian.gradientNorm },
                                    horizontalLines: [PlotReferenceLine(1, label: "1")]))
            var seen: [String] = []
            var eigen: [PlotSeries] = []
            for r in runs where !seen.contains(r.recurrentInit) {
                seen.append(r.recurrentInit)
                eigen.append(PlotSeries(label: "W ~ \(r.recurrentInit) (rho = \(fmt(r.spectrum.spectralRadius)))",
                                        x: r.spectrum.eigenvalues.map(\.re), y: r.spectrum.eigenvalues.map(\.im),
                                        style: .points, color: initColor(r.recurrentInit)))
            }
            panels.append(.complexPlane(title: "[3] eigenvalues of W", series: eigen))
        }
        if !gateSpectra.isEmpty {
            panels.append(.complexPlane(title: "[3] eigenvalues of each gate block of W_hh", series: gateSpectra.enumerated().map { k, g in
                PlotSeries(label: "\(g.gate) (rho = \(fmt(g.spectrum.spectralRadius)))", x: g.spectrum.eigenvalues.map(\.re),
                           y: g.spectrum.eigenvalues.map(\.im), style: .points, color: .palette(k))
            }))
        }
        if !feedforward.isEmpty {
            var ff: [PlotSeries] = []
            for c in feedforward {
                let color = initColor(c.initializer.name)
                ff.append(PlotSeries(label: "W^n, \(c.initializer.name)", x: c.layers.map(Double.init),
                                     y: c.sharedMeanLog10.map(power10), style: .line, color: color))
                ff.append(PlotSeries(label: "W_n...W_1, \(c.initializer.name)", x: c.layers.map(Double.init),
                                     y: c.independentMeanLog10.map(power10), style: .dashed, color: color))
            }
            panels.append(PlotPanel(title: "[4] one W reused vs independent draws", xLabel: "n (steps or layers)",
                                    yLabel: "||P_n||_2, geometric mean over seeds", yScale: .log10, series: ff))
        }
        let size = context["hidden"].map { "H = \($0)" } ?? ""
        let length = context["length"].map { ", T = \($0)" } ?? ""
        return PlotFigure(title: "recurrent diagnose: the seed's argument, measured (\(size)\(length))", panels: panels,
                          columns: 3, panelWidth: 520, panelHeight: 380, idPrefix: "diagnose")
    }
}
