// MARK: - PlotLegendPosition

/// Where a panel's legend goes.
public enum PlotLegendPosition: Sendable, Hashable, CaseIterable {
    /// The first free corner inside the plot area (top-right, top-left, bottom-right,
    /// bottom-left) in which the legend box covers no data; otherwise outside, to the right.
    case automatic
    case topRight
    case topLeft
    case bottomRight
    case bottomLeft
    /// To the right of the plot area; the plot area shrinks to make room.
    case outsideRight
    /// No legend.
    case hidden
}
