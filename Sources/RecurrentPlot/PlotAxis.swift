import Foundation

// MARK: - PlotAxis

/// A resolved axis: scale, bounds and ticks. On a log axis both bounds are always positive
/// and finite.
struct PlotAxis: Equatable, Sendable {
    var scale: PlotScale
    var lower: Double
    var upper: Double
    var ticks: [PlotTick]

    /// Position of `value` along the axis: 0 at `lower`, 1 at `upper` (outside for values
    /// beyond the bounds, NaN for values the scale cannot show). Never overflows.
    func fraction(_ value: Double) -> Double {
        guard scale.accepts(value) else { return .nan }
        switch scale {
        case .linear:
            return (value / 2 - lower / 2) / (upper / 2 - lower / 2)
        case .log10:
            let lo = Foundation.log10(lower)
            return (Foundation.log10(value) - lo) / (Foundation.log10(upper) - lo)
        }
    }

    /// Whether `value` lies within the bounds (with a relative tolerance for rounding).
    func contains(_ value: Double) -> Bool {
        let f = fraction(value)
        return f >= -1e-9 && f <= 1 + 1e-9
    }

    // MARK: - Range selection

    /// The bounds to use for an axis showing `values`.
    ///
    /// - A usable `fixed` range wins (finite; positive on a log axis). Equal fixed bounds are
    ///   widened; unusable fixed ranges are ignored.
    /// - Otherwise linear axes round the data extent outward to nice ticks, log axes outward to
    ///   whole decades (clamped to 1e-323 … 1e308). No data gives 0…1 or 1…10.
    static func bounds(values: [Double], scale: PlotScale, fixed: ClosedRange<Double>?,
                       targetCount: Int) -> ClosedRange<Double> {
        if let fixed, scale.accepts(fixed.lowerBound), scale.accepts(fixed.upperBound) {
            if fixed.lowerBound < fixed.upperBound { return fixed }
            return bounds(values: [fixed.lowerBound], scale: scale, fixed: nil, targetCount: targetCount)
        }
        var lo = Double.infinity, hi = -Double.infinity
        for value in values where scale.accepts(value) {
            lo = min(lo, value)
            hi = max(hi, value)
        }
        switch scale {
        case .linear:
            guard lo <= hi else { return 0...1 }
            return PlotTicks.niceRange(lo, hi, targetCount: targetCount)
        case .log10:
            guard lo <= hi else { return 1...10 }
            var kLo = Int((Foundation.log10(lo) + 1e-12).rounded(.down))
            var kHi = Int((Foundation.log10(hi) - 1e-12).rounded(.up))
            if kHi <= kLo { kLo -= 1; kHi = kLo + 2 }
            kLo = max(kLo, -323)
            kHi = min(max(kHi, kLo + 1), 308)
            if kHi <= kLo { kLo = kHi - 1 }
            return PlotTicks.decimal(1, exponent: kLo)...PlotTicks.decimal(1, exponent: kHi)
        }
    }

    /// An axis over `range` with ticks sized for `length` pixels. `labelSpacing` is the minimum
    /// distance in pixels between labelled ticks.
    static func make(scale: PlotScale, range: ClosedRange<Double>, length: Double, labelSpacing: Double) -> PlotAxis {
        let target = max(2, min(12, Int(length / max(labelSpacing, 1))))
        let ticks: [PlotTick]
        switch scale {
        case .linear:
            ticks = PlotTicks.linear(in: range, targetCount: target)
        case .log10:
            ticks = PlotTicks.log10(in: range, maxLabels: target, maxMinor: max(2, Int(length / 8)))
        }
        return PlotAxis(scale: scale, lower: range.lowerBound, upper: range.upperBound, ticks: ticks)
    }
}
