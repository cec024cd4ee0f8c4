import Foundation

// MARK: - The diagnosis as one JSON document (the contract of `recurrent diagnose --json`)

/// A JSON value with ordered keys, written by hand so that the output is deterministic and
/// non-finite numbers become `null` (JSON has no inf or NaN).
public indirect enum DiagnosisJSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([DiagnosisJSONValue])
    case object([(String, DiagnosisJSONValue)])

    public static func == (a: DiagnosisJSONValue, b: DiagnosisJSONValue) -> Bool { a.text == b.text }

    /// A number, or null when not finite.
    static func num(_ x: Double) -> DiagnosisJSONValue { x.isFinite ? .number(x) : .null }
    static func nums(_ xs: [Double]) -> DiagnosisJSONValue { .array(xs.map(num)) }
    static func optInt(_ x: Int?) -> DiagnosisJSONValue { x.map { .int($0) } ?? .null }

    /// Compact JSON text.
    public var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .number(let x):
            // Swift's shortest round-tripping form ("0.1", "3.0", "1e-05", "2.5e+20") is valid JSON.
            out += "\(x)"
        case .string(let s): out += Self.quoted(s)
        case .array(let items):
            out += "["
            for (k, item) in items.enumerated() {
                if k > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (k, pair) in pairs.enumerated() {
                if k > 0 { out += "," }
                out += Self.quoted(pair.0) + ":"
                pair.1.write(into: &out)
            }
            out += "}"
        }
    }

    static func quoted(_ s: String) -> String { JSONText.quoted(s) }
}

extension Diagnosis {
    /// The document of `--json`:
    ///
    ///     {"settings": {...},
    ///      "runs": [{"activation", "recurrentInit", "hidden", "length", "spectralRadius",
    ///                "singularValueMax", "singularValueMin", "eigenvalues": [[re, im], ...],
    ///                "steps": [1..T], "stateNorm", "netNorm", "activeFraction",
    ///                "jacobianNorm" (||d net_t / d net_1||_2, t = 1..T), "gradientNorm",
    ///                "overflowStep": int|null, "underflowStep": int|null, ...more}, ...],
    ///      "feedforward": {"layers", "shared", "independent", ...} | null,
    ///      "feedforwardByInit": [...], "gateSpectra": [...], "verdict": [...], "notes": [...]}
    ///
    /// Series are plain numbers, non-finite ones null; `*Log10` series are exact where the
    /// plain value leaves Double's range.
    public var json: DiagnosisJSONValue {
        let settings: [(String, DiagnosisJSONValue)] = context.keys.sorted().map { key in
            let v = context[key]!
            if let i = Int(v) { return (key, .int(i)) }
            return (key, .string(v))
        }
        return .object([
            ("settings", .object(settings)),
            ("runs", .array(runs.map(\.json))),
            ("feedforward", mainFeedForward?.json ?? .null),
            ("feedforwardByInit", .array(feedforward.map(\.json))),
            ("gateSpectra", .array(gateSpectra.map { g in
                .object([("gate", .string(g.gate))] + g.spectrum.jsonFields)
            })),
            ("verdict", .array(verdict.map { .string($0) })),
            ("notes", .array(notes.map { .string($0) })),
        ])
    }
}

extension Spectrum {
    var jsonFields: [(String, DiagnosisJSONValue)] {
        [
            ("spectralRadius", .num(spectralRadius)),
            ("singularValueMax", .num(singularValueMax)),
            ("singularValueMin", .num(singularValueMin)),
            ("frobeniusNorm", .num(frobeniusNorm)),
            ("predictedGrowth", .num(predictedGrowth)),
            ("eigenvalues", .array(eigenvalues.map { .array([.num($0.re), .num($0.im)]) })),
        ]
    }
}

extension ForwardGrowth {
    var jsonFields: [(String, DiagnosisJSONValue)] {
        [
            ("stateNorm", .nums(stateNormMean)),
            ("stateNormMax", .nums(stateNormMax)),
            ("netNorm", .nums(netNormMean)),
            ("netNormMax", .nums(netNormMax)),
            ("activeFraction", .nums(activeFraction)),
            ("overflowStep", .optInt(overflowStep)),
            ("underflowStep", .optInt(underflowStep)),
            ("growthPerStep", growthPerStep.map(DiagnosisJSONValue.num) ?? .null),
        ]
    }
}

extension DiagnosisRun {
    var json: DiagnosisJSONValue {
        var fields: [(String, DiagnosisJSONValue)] = [
            ("activation", .string(activation.name)),
            ("recurrentInit", .string(recurrentInit)),
            ("hidden", .int(hiddenSize)),
            ("length", .int(length)),
            ("batch", .int(batch)),
            ("inputSize", .int(inputSize)),
        ]
        fields += spectrum.jsonFields
        fields.append(("steps", .array((1...max(length, 1)).prefix(length).map { .int($0) })))
        fields += forward.jsonFields
        fields += [
            ("jacobianNorm", .nums(jacobian.spectralNorm)),
            ("jacobianNormLog10", .nums(jacobian.spectralNormLog10)),
            ("jacobianFrobenius", .nums(jacobian.frobeniusNorm)),
            ("jacobianFrobeniusLog10", .nums(jacobian.frobeniusNormLog10)),
            ("jacobianGrowthPerStep", jacobian.growthPerStep.map(DiagnosisJSONValue.num) ?? .null),
            ("jacobianSequences", .int(jacobian.sequences)),
            ("gradientNorm", .nums(jacobian.gradientNorm)),
            ("gradientNormLog10", .nums(jacobian.gradientNormLog10)),
            ("gradientRegime", .string(gradientRegime)),
            ("zeroInput", .object(zeroInput.jsonFields)),
            ("verdict", .string(verdict)),
        ]
        return .object(fields)
    }
}

extension FeedForwardContrast {
    var json: DiagnosisJSONValue {
        .object([
            ("recurrentInit", .string(initializer.name)),
            ("hidden", .int(hiddenSize)),
            ("seeds", .array(seeds.map { .int(Int(truncatingIfNeeded: $0)) })),
            ("layers", .array(layers.map { .int($0) })),
            ("shared", .nums(sharedMeanLog10.map(power10))),
            ("independent", .nums(independentMeanLog10.map(power10))),
            ("sharedLog10Mean", .nums(sharedMeanLog10)),
            ("sharedLog10Spread", .nums(sharedSpreadLog10)),
            ("independentLog10Mean", .nums(independentMeanLog10)),
            ("independentLog10Spread", .nums(independentSpreadLog10)),
            ("sharedRate", .nums(sharedRate)),
            ("independentRate", .nums(independentRate)),
        ])
    }
}
