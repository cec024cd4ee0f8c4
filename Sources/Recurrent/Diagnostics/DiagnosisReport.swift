import Foundation

// MARK: - The diagnosis in words and as a compact table

extension Diagnosis {
    /// The steps shown in the table: 1, T/20, T/4, T/2, 3T/4, T (distinct, in order).
    public var tableSteps: [Int] {
        guard let t = runs.first?.length else { return [] }
        var out: [Int] = []
        for s in [1, t / 20, t / 4, t / 2, 3 * t / 4, t] where s >= 1 && !out.contains(s) { out.append(s) }
        return out
    }

    /// The contrast shown first: the first initialiser that is not the identity (the identity's
    /// products are all I), else the first.
    public var mainFeedForward: FeedForwardContrast? {
        feedforward.first { if case .identity = $0.initializer { return false } else { return true } } ?? feedforward.first
    }

    /// The report printed by `recurrent diagnose`: the four measurements as tables, then the verdict.
    public var report: String {
        var lines: [String] = []
        let c = context
        lines.append("recurrent diagnose: H = \(c["hidden"] ?? "?"), T = \(c["length"] ?? "?"), B = \(c["batch"] ?? "?"), I = \(c["inputSize"] ?? "?"), "
                     + "U ~ \(c["inputInit"] ?? "?"), b ~ \(c["biasInit"] ?? "?"), x_t ~ N(0, 1), seed \(c["seed"] ?? "?"); source: \(c["source"] ?? "?")")
        let steps = tableSteps
        let name = max(14, runs.map { $0.activation.name.count }.max() ?? 0)
        let initWidth = max(16, runs.map { $0.recurrentInit.count }.max() ?? 0)
        func head(_ title: String, _ columns: [String]) {
            lines.append("")
            lines.append(title)
            lines.append(pad("activation", name) + pad("recurrent init", initWidth) + columns.map { pad($0, 10, left: true) }.joined())
        }
        func row(_ run: DiagnosisRun, _ cells: [String]) {
            lines.append(pad(run.activation.name, name) + pad(run.recurrentInit, initWidth) + cells.map { pad($0, 10, left: true) }.joined())
        }
        let tCols = steps.map { "t=\($0)" }
        if !runs.isEmpty {
            head("[3] Spectrum of W: rho = max|lambda_i| predicts the growth per step of W^n; sigma = singular values",
                 ["rho(W)", "sigma_max", "sigma_min", "||W||_F"])
            for r in runs {
                row(r, [fmt(r.spectrum.spectralRadius), fmt(r.spectrum.singularValueMax), fmt(r.spectrum.singularValueMin), fmt(r.spectrum.frobeniusNorm)])
            }
            head("[1] Forward (10.11): mean over the batch of ||h_t||, x_t ~ N(0, 1) every step", tCols + ["x/step", "overflow", "zero@t"])
            for r in runs {
                row(r, steps.map { t in r.forward.overflowStep.map { t >= $0 } == true ? "overflow" : fmt(r.forward.stateNormMean[t - 1]) }
                    + [r.forward.growthPerStep.map { "x" + fmtFactor($0) } ?? "-", r.forward.overflowStep.map(String.init) ?? "-",
                       r.forward.underflowStep.map(String.init) ?? "-"])
            }
            head("[1] Forward, zero input after t = 1 (h_t = f(W h_{t-1} + b)): mean ||h_t||", tCols + ["x/step", "overflow", "zero@t"])
            for r in runs {
                row(r, steps.map { t in r.zeroInput.overflowStep.map { t >= $0 } == true ? "overflow" : fmt(r.zeroInput.stateNormMean[t - 1]) }
                    + [r.zeroInput.growthPerStep.map { "x" + fmtFactor($0) } ?? "-", r.zeroInput.overflowStep.map(String.init) ?? "-",
                       r.zeroInput.underflowStep.map(String.init) ?? "-"])
            }
            head("[1] Fraction of units with net_t > 0 (active ReLU units), random inputs", tCols)
            for r in runs {
                row(r, steps.map { t in r.forward.overflowStep.map { t >= $0 } == true ? "overflow" : fmt(r.forward.activeFraction[t - 1]) })
            }
            head("[2] Backward (10.12): ||J_t||_2, J_t = d net_t / d net_1 = W D_{t-1} ... W D_1, D_k = diag f'(net_k)", tCols + ["x/step"])
            for r in runs {
                row(r, steps.map { fmtLog10(r.jacobian.spectralNormLog10[$0 - 1]) } + [r.jacobian.growthPerStep.map { "x" + fmtFactor($0) } ?? (r.jacobian.lastNonzeroLag < r.length ? "cut" : "-")])
            }
            head("[2] Gradient ||dL/dh_k|| at step k for the loss L = r . h_T (||r|| = 1, so 1 at k = T)", steps.map { "k=\($0)" })
            for r in runs { row(r, steps.map { fmtLog10(r.jacobian.gradientNormLog10[$0 - 1]) }) }
        }
        for ff in feedforward where !ff.layers.isEmpty {
            if (ff.sharedLog10 + ff.independentLog10).allSatisfy({ $0.allSatisfy { $0 == 0 } }) {
                lines.append("")
                lines.append("[4] CNN contrast, W ~ \(ff.initializer.name): W^n = W_n...W_1 = I, ||P_n||_2 = 1 for every n and seed")
                continue
            }
            let ns = tableStepsFor(ff.layers.count)
            lines.append("")
            lines.append("[4] CNN contrast, W ~ \(ff.initializer.name), H = \(ff.hiddenSize), \(ff.seeds.count) seeds: log10 ||P_n||_2, mean ± sd over seeds")
            lines.append(pad("product", name + initWidth) + ns.map { pad("n=\($0)", 14, left: true) }.joined() + pad("x/layer", 10, left: true))
            let sm = ff.sharedMeanLog10, ss = ff.sharedSpreadLog10, im = ff.independentMeanLog10, isd = ff.independentSpreadLog10
            func two(_ x: Double) -> String { NumberText.fixed(x, digits: 2) }
            lines.append(pad("shared W^n (RNN)", name + initWidth)
                         + ns.map { pad(two(sm[$0 - 1]) + "±" + two(ss[$0 - 1]), 14, left: true) }.joined()
                         + pad("x" + fmtFactor(ff.sharedRate.last ?? .nan), 10, left: true))
            lines.append(pad("independent W_n...W_1 (CNN)", name + initWidth)
                         + ns.map { pad(two(im[$0 - 1]) + "±" + two(isd[$0 - 1]), 14, left: true) }.joined()
                         + pad("x" + fmtFactor(ff.independentRate.last ?? .nan), 10, left: true))
        }
        if !gateSpectra.isEmpty {
            lines.append("")
            lines.append("[3] Spectrum of each gate block of W_hh (layer 0)")
            lines.append(pad("gate", 8) + ["rho", "sigma_max", "sigma_min", "||W||_F"].map { pad($0, 10, left: true) }.joined())
            for g in gateSpectra {
                lines.append(pad(g.gate, 8) + [g.spectrum.spectralRadius, g.spectrum.singularValueMax, g.spectrum.singularValueMin, g.spectrum.frobeniusNorm]
                    .map { pad(fmt($0), 10, left: true) }.joined())
            }
        }
        lines.append("")
        lines.append("Verdict")
        lines += verdict.map { "- " + $0 }
        for n in notes { lines.append("Note: " + n) }
        return lines.joined(separator: "\n")
    }

    func tableStepsFor(_ t: Int) -> [Int] {
        var out: [Int] = []
        for s in [1, t / 20, t / 4, t / 2, t] where s >= 1 && !out.contains(s) { out.append(s) }
        return out
    }

    // MARK: - Verdict

    /// One sentence per run, then the comparisons the seed makes, each from the numbers.
    public var verdict: [String] {
        var out = runs.map(\.verdict)
        // With identity init the same numbers are ...: pair each activation's runs.
        for activation in uniqueActivations {
            let group = runs.filter { $0.activation == activation }
            guard group.count > 1 else { continue }
            let parts = group.map { r in
                "\(r.recurrentInit): ||J_T||_2 = \(fmtLog10(r.jacobian.spectralNormLog10.last ?? .nan)), gradient to t = 1 \(fmtLog10(r.jacobian.gradientRatioLog10 ?? .nan)) of its value at t = \(r.length) (\(r.gradientRegime))"
                    + (r.forward.overflowStep.map { ", Float32 overflow at t = \($0)" } ?? "")
            }
            out.append("\(activation.name) across initialisers: " + parts.joined(separator: "; ") + ".")
        }
        if let ff = mainFeedForward, let n = ff.layers.last, n > 1 {
            let s = ff.sharedMeanLog10[n - 1], i = ff.independentMeanLog10[n - 1]
            let ss = ff.sharedSpreadLog10[n - 1], isd = ff.independentSpreadLog10[n - 1]
            let rs = ff.sharedRate[n - 1], ri = ff.independentRate[n - 1]
            var text = "CNN contrast (W ~ \(ff.initializer.name), n = \(n)): one W reused gives ||W^n||_2 = \(fmtLog10(s)) (x\(fmtFactor(rs)) per layer, log10 sd \(NumberText.fixed(ss, digits: 2)) over \(ff.seeds.count) seeds); "
                + "independent draws give \(fmtLog10(i)) (x\(fmtFactor(ri)) per layer, sd \(NumberText.fixed(isd, digits: 2))). "
            let gap = s - i
            let bothOut = abs(s) > 3 && abs(i) > 3 && (s > 0) == (i > 0)
            if bothOut {
                text += "Measured: both products \(s > 0 ? "explode" : "vanish") at nearly the same rate; independence does not cancel the growth "
                    + "(the independent stack ends 10^\(NumberText.fixed(abs(gap), digits: 1)) \(gap > 0 ? "below" : "above") W^n, against 10^\(NumberText.fixed(abs(s), digits: 0)) overall)"
                    + (isd < ss ? "; it only makes the rate the same for every draw (sd \(NumberText.fixed(isd, digits: 2)) against \(NumberText.fixed(ss, digits: 2)))" : "")
                    + ". What keeps a CNN in range is an initialiser with s·sqrt(H) near 1 (He, Xavier), not independence."
            } else if abs(gap) > 1 {
                text += "Measured: the independent stack ends 10^\(NumberText.fixed(abs(gap), digits: 1)) \(gap > 0 ? "below" : "above") W^n."
            } else {
                text += "Measured: the two products stay within a factor 10 of each other."
            }
            out.append(text)
        }
        if !runs.isEmpty {
            out.append("Claim 4 (IRNN trains on long-range tasks where these fail) is about training and is not measured here.")
        }
        return out
    }

    var uniqueActivations: [Activation] {
        var seen: [Activation] = []
        for r in runs where !seen.contains(r.activation) { seen.append(r.activation) }
        return seen
    }
}

extension DiagnosisRun {
    /// Thresholds of the verdict: the gradient reaching t = 1 is "vanishing" below 10^-3 of
    /// its value at t = T, "exploding" above 10^3, otherwise "preserved".
    public static let vanishingLog10 = -3.0
    public static let explodingLog10 = 3.0

    /// "vanishing", "exploding", "preserved" or "cut" (exactly 0: every path back to t = 1
    /// passes a unit with f' = 0), from ||dL/dh_1|| / ||dL/dh_T||.
    public var gradientRegime: String {
        guard let g = jacobian.gradientRatioLog10, !g.isNaN else { return "undefined (NaN)" }
        if g == -.infinity { return "cut" }
        if g < Self.vanishingLog10 { return "vanishing" }
        if g > Self.explodingLog10 { return "exploding" }
        return "preserved"
    }

    /// The run in one sentence, every number from the measurements.
    public var verdict: String {
        var s = "\(label): "
        let f = forward
        if let g = f.growthPerStep {
            s += "||h_t|| changes x\(fmtFactor(g)) per step"
        } else {
            s += "||h_t|| has no usable trend"
        }
        s += " (rho(W) = \(fmt(spectrum.spectralRadius)), sigma_max = \(fmt(spectrum.singularValueMax)))"
        if let o = f.overflowStep {
            s += "; Float32 overflow at t = \(o) of \(length)"
        } else if let u = f.underflowStep {
            s += "; the state is exactly 0 from t = \(u) of \(length)"
        } else {
            let maxNorm = f.stateNormMax.reduce(0, Swift.max)
            s += "; bounded over \(length) steps (max ||h_t|| = \(fmt(maxNorm)))"
        }
        let z = zeroInput
        if let o = z.overflowStep {
            s += "; with zero input after t = 1 it overflows at t = \(o)"
        } else if let u = z.underflowStep {
            let dead = z.netNormMax[u - 1] > 0
            s += "; with zero input after t = 1 it is exactly 0 from t = \(u) (" + (dead ? "every unit inactive" : "Float32 underflow") + ")"
        } else if let g = z.growthPerStep {
            s += "; with zero input after t = 1 it changes x\(fmtFactor(g)) per step"
        }
        s += ". ||d net_T / d net_1||_2 = \(fmtLog10(jacobian.spectralNormLog10.last ?? .nan))"
        if jacobian.lastNonzeroLag < length {
            s += " (exactly 0 from lag \(jacobian.lastNonzeroLag + 1): every path from net_1 crossed an inactive unit)"
        } else if let g = jacobian.growthPerStep {
            s += " (x\(fmtFactor(g)) per step)"
        }
        let regime = gradientRegime
        if regime == "cut" {
            let k = jacobian.firstNonzeroGradientStep
            let kept = jacobian.gradientNormLog10[(k - 1)...].min() ?? .nan
            s += "; the gradient of L = r . h_T is exactly 0 at steps k < \(k) (f' = 0 on every path) and at least \(fmtLog10(kept)) of its value at t = \(length) for k >= \(k): cut, not geometrically vanishing."
        } else {
            s += "; the gradient at t = 1 is \(fmtLog10(jacobian.gradientRatioLog10 ?? .nan)) of its value at t = \(length): \(regime)."
        }
        return s
    }
}

// MARK: - Number formatting (the diagnosis's ranges; the conversions are `NumberText`'s)

/// Compact: 3 significant digits inside [1e-3, 1e4), else e-notation with 2 decimals; "inf",
/// "-inf", "nan", "0".
func fmt(_ x: Double) -> String {
    if x == 0 { return "0" }
    let a = abs(x)
    return a >= 1e-3 && a < 1e4 ? NumberText.significant(x, digits: 3) : NumberText.scientific(x, digits: 2)
}

/// A growth factor: 3 decimals between 0.1 and 10 (so x1.002 is not shown as x1), else `fmt`.
func fmtFactor(_ x: Double) -> String {
    x.isFinite && abs(x) >= 0.1 && abs(x) < 10 ? NumberText.fixed(x, digits: 3) : fmt(x)
}

/// 10^x written as "3.2e-31", valid far beyond Double's range (x itself is the log10); `fmt`'s
/// form inside (1e-3, 1e4).
func fmtLog10(_ x: Double) -> String {
    x > -3 && x < 4 ? fmt(Double.power(10, x)) : NumberText.scientific(log10: x)
}

func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
    let n = s.count
    if n >= width { return left ? " " + s : s + " " }
    let spaces = String(repeating: " ", count: width - n)
    return left ? spaces + s : s + spaces
}
