import Foundation

// MARK: - The diagnosis as CSV files (`recurrent diagnose --csv DIR`)

extension Diagnosis {
    /// File name -> CSV text (header row first; non-finite numbers written as `inf`, `-inf`, `nan`):
    /// - `series.csv`: one row per run and step t: the forward, zero-input, Jacobian and gradient series;
    /// - `eigenvalues.csv`: one row per run and eigenvalue of W (and per gate for LSTM/GRU checkpoints);
    /// - `feedforward.csv`: one row per initialiser and n: mean and sd over seeds of log10 ||P_n||_2;
    /// - `summary.csv`: one row per run: spectrum, overflow and underflow steps, growth factors, regime.
    public var csvFiles: [String: String] {
        func q(_ s: String) -> String { s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        func n(_ x: Double) -> String { x.isFinite ? "\(x)" : (x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf")) }
        func o(_ x: Int?) -> String { x.map(String.init) ?? "" }
        var series = ["activation,recurrent_init,t,state_norm_mean,state_norm_max,net_norm_mean,net_norm_max,active_fraction,"
                      + "zero_input_state_norm_mean,zero_input_net_norm_mean,jacobian_norm_log10,jacobian_frobenius_log10,gradient_norm_log10"]
        var eigen = ["activation,recurrent_init,gate,re,im,magnitude"]
        var summary = ["activation,recurrent_init,hidden,length,batch,spectral_radius,singular_value_max,singular_value_min,"
                       + "overflow_step,underflow_step,zero_input_overflow_step,zero_input_underflow_step,state_growth_per_step,"
                       + "jacobian_growth_per_step,gradient_ratio_log10,gradient_regime"]
        for r in runs {
            let a = q(r.activation.name), i = q(r.recurrentInit)
            for t in 0..<r.length {
                series.append([a, i, String(t + 1), n(r.forward.stateNormMean[t]), n(r.forward.stateNormMax[t]),
                               n(r.forward.netNormMean[t]), n(r.forward.netNormMax[t]), n(r.forward.activeFraction[t]),
                               n(r.zeroInput.stateNormMean[t]), n(r.zeroInput.netNormMean[t]), n(r.jacobian.spectralNormLog10[t]),
                               n(r.jacobian.frobeniusNormLog10[t]), n(r.jacobian.gradientNormLog10[t])].joined(separator: ","))
            }
            for e in r.spectrum.eigenvalues { eigen.append([a, i, "", n(e.re), n(e.im), n(e.magnitude)].joined(separator: ",")) }
            summary.append([a, i, String(r.hiddenSize), String(r.length), String(r.batch), n(r.spectrum.spectralRadius),
                            n(r.spectrum.singularValueMax), n(r.spectrum.singularValueMin), o(r.forward.overflowStep),
                            o(r.forward.underflowStep), o(r.zeroInput.overflowStep), o(r.zeroInput.underflowStep),
                            r.forward.growthPerStep.map(n) ?? "", r.jacobian.growthPerStep.map(n) ?? "",
                            r.jacobian.gradientRatioLog10.map(n) ?? "", r.gradientRegime].joined(separator: ","))
        }
        for g in gateSpectra {
            for e in g.spectrum.eigenvalues { eigen.append(["tanh", "checkpoint", g.gate, n(e.re), n(e.im), n(e.magnitude)].joined(separator: ",")) }
        }
        var ff = ["recurrent_init,n,shared_log10_mean,shared_log10_sd,independent_log10_mean,independent_log10_sd,shared_rate,independent_rate"]
        for c in feedforward {
            let sm = c.sharedMeanLog10, ss = c.sharedSpreadLog10, im = c.independentMeanLog10, isd = c.independentSpreadLog10
            let sr = c.sharedRate, ir = c.independentRate
            for (k, layer) in c.layers.enumerated() {
                ff.append([q(c.initializer.name), String(layer), n(sm[k]), n(ss[k]), n(im[k]), n(isd[k]), n(sr[k]), n(ir[k])].joined(separator: ","))
            }
        }
        return ["series.csv": series.joined(separator: "\n") + "\n", "eigenvalues.csv": eigen.joined(separator: "\n") + "\n",
                "feedforward.csv": ff.joined(separator: "\n") + "\n", "summary.csv": summary.joined(separator: "\n") + "\n"]
    }

    /// Writes `csvFiles` into `directory` (created if needed); returns the files written.
    @discardableResult
    public func writeCSV(to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try csvFiles.keys.sorted().map { name in
            let url = directory.appendingPathComponent(name)
            try FileIO.write(Array(csvFiles[name]!.utf8), to: url.path)
            return url
        }
    }
}
