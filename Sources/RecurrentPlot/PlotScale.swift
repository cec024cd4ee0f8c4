// MARK: - PlotScale

/// How values are mapped onto a chart axis.
public enum PlotScale: Sendable, Hashable, CaseIterable {
    /// Equal distances for equal differences.
    case linear
    /// Equal distances for equal ratios (decades). Only positive, finite values can be shown;
    /// zero, negative, infinite and NaN values are dropped and break the curve.
    case log10

    /// Whether `value` can be placed on an axis with this scale.
    @inlinable
    public func accepts(_ value: Double) -> Bool {
        switch self {
        case .linear: return value.isFinite
        case .log10: return value.isFinite && value > 0
        }
    }
}
