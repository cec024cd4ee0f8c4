import Foundation

// MARK: - PlotTick

/// One tick on an axis.
struct PlotTick: Equatable, Sendable {
    /// Position in data units.
    var value: Double
    /// Label text; empty for minor ticks. When `superscript` is set this is the base ("10").
    var label: String
    /// Exponent drawn raised after `label` (decade ticks on log axes), e.g. "-30".
    var superscript: String?
    /// Major ticks get a label and a grid line; minor ticks only a short mark.
    var isMajor: Bool

    init(value: Double, label: String, superscript: String? = nil, isMajor: Bool = true) {
        self.value = value
        self.label = label
        self.superscript = superscript
        self.isMajor = isMajor
    }

    /// The label as plain text ("10^-30" for superscripted labels), for width estimates and tests.
    var plainLabel: String {
        guard let superscript else { return label }
        return label + "^" + superscript
    }
}

// MARK: - PlotTicks

/// "Nice" tick positions: steps of 1, 2 or 5 × 10^k on linear axes, decades on log axes.
enum PlotTicks {
    /// The smallest step of the form m × 10^e (m ∈ {1, 2, 5}) that is at least `span / targetCount`.
    /// Returns `nil` when no such step exists (non-finite or non-positive span).
    static func niceStep(span: Double, targetCount: Int) -> (mantissa: Int, exponent: Int)? {
        niceStep(from: 0, to: span, targetCount: targetCount)
    }

    /// The nice step for ticks between `lo` and `hi`; never overflows, even for ±1e308.
    static func niceStep(from lo: Double, to hi: Double, targetCount: Int) -> (mantissa: Int, exponent: Int)? {
        let count = Double(max(1, targetCount))
        let raw = hi / count - lo / count
        guard raw.isFinite, raw > 0 else { return nil }
        var exponent = Int(Foundation.log10(raw).rounded(.down))
        let residual = raw / power10(exponent)
        let mantissa: Int
        if residual <= 1 + 1e-9 { mantissa = 1 }
        else if residual <= 2 + 1e-9 { mantissa = 2 }
        else if residual <= 5 + 1e-9 { mantissa = 5 }
        else { mantissa = 1; exponent += 1 }
        return (mantissa, exponent)
    }

    /// `lower…upper` widened outward to multiples of the nice step for `targetCount` ticks.
    /// Degenerate input (equal bounds) is first widened by 10 % of the value (±1 around 0).
    static func niceRange(_ lower: Double, _ upper: Double, targetCount: Int) -> ClosedRange<Double> {
        var (lo, hi) = (min(lower, upper), max(lower, upper))
        guard lo.isFinite, hi.isFinite else { return 0...1 }
        let scale = max(abs(lo), abs(hi))
        if hi - lo <= scale * 1e-12 {
            let centre = lo / 2 + hi / 2
            let delta = centre == 0 ? 1 : abs(centre) * 0.1
            let limit = Double.greatestFiniteMagnitude
            (lo, hi) = (max(centre - delta, -limit), min(centre + delta, limit))
        }
        guard let step = niceStep(from: lo, to: hi, targetCount: targetCount) else {
            return lo...hi
        }
        let first = (lo / stepValue(step)).rounded(.down)
        let last = (hi / stepValue(step)).rounded(.up)
        let niceLo = tickValue(index: first, step: step), niceHi = tickValue(index: last, step: step)
        guard niceLo.isFinite, niceHi.isFinite, niceLo < niceHi else { return lo...hi }
        return niceLo...niceHi
    }

    /// Major ticks at multiples of the nice step inside `range`, labelled with a common number of
    /// decimals ("0.0", "0.5", "1.0"), or compactly ("2e-5", "3e6") when the largest magnitude is
    /// below 1e-3 or at least 1e6, or more than six decimals would be needed.
    static func linear(in range: ClosedRange<Double>, targetCount: Int) -> [PlotTick] {
        let lo = range.lowerBound, hi = range.upperBound
        guard lo.isFinite, hi.isFinite, lo < hi,
              let step = niceStep(from: lo, to: hi, targetCount: targetCount) else {
            return lo.isFinite ? [PlotTick(value: lo, label: PlotNumberFormat.compact(lo))] : []
        }
        return linearTicks(lo, hi, step: step)
    }

    /// Ticks for a positive `range` on a log axis.
    ///
    /// - Up to about two decades: labels at 1, 2, 5 × 10^k ("0.1", "0.2", "0.5", "1", …) and
    ///   minor ticks at the other integer multiples, if at most `maxLabels` labels result.
    /// - Otherwise labels at decades 10^k, thinned to every 2nd, 5th, 10th, 20th … decade
    ///   (multiples of the stride) so that at most `maxLabels` are labelled. Minor ticks go at
    ///   2…9 × 10^k when there are few decades, else at the unlabelled decades, as long as there
    ///   are at most `maxMinor` of them.
    /// - A range inside a single 1-2-5 step (e.g. 2.5 … 4) falls back to linear ticks.
    static func log10(in range: ClosedRange<Double>, maxLabels: Int, maxMinor: Int) -> [PlotTick] {
        let a = range.lowerBound, b = range.upperBound
        guard a > 0, b.isFinite, a < b else {
            return a > 0 && a.isFinite ? [PlotTick(value: a, label: PlotNumberFormat.compact(a))] : []
        }
        let maxLabels = max(2, maxLabels)
        let lo = Foundation.log10(a), hi = Foundation.log10(b)
        func inRange(_ v: Double) -> Bool { v >= a * (1 - 1e-9) && v <= b * (1 + 1e-9) }
        let kLo = Int((lo - 1e-9).rounded(.up)), kHi = Int((hi + 1e-9).rounded(.down))
        let decadeRange = Int(lo.rounded(.down))...Int(hi.rounded(.up))

        if hi - lo <= 2 + 1e-9 {
            var major: [PlotTick] = [], all: [PlotTick] = []
            for k in decadeRange {
                for m in 1...9 {
                    let v = decimal(m, exponent: k)
                    guard inRange(v) else { continue }
                    if m == 1 || m == 2 || m == 5 {
                        let tick = PlotTick(value: v, label: PlotNumberFormat.compact(v))
                        major.append(tick)
                        all.append(tick)
                    } else {
                        all.append(PlotTick(value: v, label: "", isMajor: false))
                    }
                }
            }
            if major.count >= 2 && major.count <= maxLabels {
                return all.count <= maxLabels + maxMinor ? all : major
            }
            if kHi - kLo < 1 { return linear(in: range, targetCount: min(maxLabels, 5)) }
        }

        // Labelled decades: multiples of the smallest 1-2-5 stride that keeps the count in bounds.
        var stride = strideCandidates.last!
        for candidate in strideCandidates where multiples(of: candidate, from: kLo, to: kHi) <= maxLabels {
            stride = candidate
            break
        }
        var labelled = Set((kLo...kHi).filter { $0 % stride == 0 })
        if labelled.count < 2 { labelled = [kLo, kHi] }
        let subDecadeMinor = stride == 1 && (kHi - kLo + 2) * 8 <= maxMinor
        var minorStride = stride
        for candidate in strideCandidates where candidate < stride && stride % candidate == 0 {
            if multiples(of: candidate, from: kLo, to: kHi) <= maxMinor { minorStride = candidate; break }
        }
        var ticks: [PlotTick] = []
        for k in decadeRange {
            let value = decimal(1, exponent: k)
            guard value > 0, value.isFinite else { continue }
            if k >= kLo && k <= kHi {
                if labelled.contains(k) {
                    ticks.append(PlotTick(value: value, label: "10", superscript: String(k)))
                } else if k % minorStride == 0 && minorStride < stride {
                    ticks.append(PlotTick(value: value, label: "", isMajor: false))
                }
            }
            if subDecadeMinor {
                for m in 2...9 where inRange(decimal(m, exponent: k)) {
                    ticks.append(PlotTick(value: decimal(m, exponent: k), label: "", isMajor: false))
                }
            }
        }
        return ticks
    }

    // MARK: - Helpers

    /// Strides 1, 2, 5, 10, 20, 50, … up to 1000 (enough for the whole Double range).
    private static let strideCandidates = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]

    /// Number of multiples of `stride` in `lo...hi`.
    private static func multiples(of stride: Int, from lo: Int, to hi: Int) -> Int {
        func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
        return floorDiv(hi, stride) - floorDiv(lo - 1, stride)
    }

    private static func linearTicks(_ lo: Double, _ hi: Double, step: (mantissa: Int, exponent: Int)) -> [PlotTick] {
        let size = stepValue(step)
        let first = (lo / size - 1e-9).rounded(.up), last = (hi / size + 1e-9).rounded(.down)
        guard first.isFinite, last.isFinite, last >= first, last - first <= 1000 else { return [] }
        var values: [Double] = []
        var index = first
        while index <= last {
            values.append(tickValue(index: index, step: step))
            index += 1
        }
        let magnitude = values.map(abs).max() ?? 0
        let decimals = max(0, -step.exponent)
        let positional = magnitude < 1e6 && (magnitude >= 1e-3 || magnitude == 0) && decimals <= 6
        return values.map { value in
            PlotTick(value: value, label: positional ? PlotNumberFormat.fixed(value, decimals: decimals)
                                                     : PlotNumberFormat.exponential(value))
        }
    }

    private static func stepValue(_ step: (mantissa: Int, exponent: Int)) -> Double {
        decimal(step.mantissa, exponent: step.exponent)
    }

    /// index × mantissa × 10^exponent, computed so that decimal ticks come out as the nearest
    /// Double (3 × 0.1 gives 0.3, not 0.30000000000000004). Negative zero becomes zero.
    static func tickValue(index: Double, step: (mantissa: Int, exponent: Int)) -> Double {
        let value = decimalValue(index * Double(step.mantissa), exponent: step.exponent)
        return value == 0 ? 0 : value
    }

    /// m × 10^k as the nearest Double (exact power of ten for |k| ≤ 22).
    static func decimal(_ m: Int, exponent k: Int) -> Double {
        decimalValue(Double(m), exponent: k)
    }

    private static func decimalValue(_ n: Double, exponent k: Int) -> Double {
        if k >= 0 { return n * power10(k) }
        if k >= -300 { return n / power10(-k) }
        return n / 1e300 / power10(-k - 300)
    }

    /// 10^k for an integer exponent (exact for 0 ≤ k ≤ 22).
    private static func power10(_ k: Int) -> Double {
        Foundation.pow(10, Double(k))
    }
}
