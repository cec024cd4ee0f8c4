// MARK: - PlotReferenceLine

/// A straight horizontal or vertical line across a panel, such as a baseline loss or a
/// threshold. Its label is written next to the line's right (or top) end.
public struct PlotReferenceLine: Sendable, Equatable {
    /// The y value (horizontal line) or x value (vertical line).
    public var value: Double
    public var label: String
    /// `nil` draws in grey.
    public var color: PlotColor?
    public var dashed: Bool

    public init(_ value: Double, label: String = "", color: PlotColor? = nil, dashed: Bool = true) {
        self.value = value
        self.label = label
        self.color = color
        self.dashed = dashed
    }
}
