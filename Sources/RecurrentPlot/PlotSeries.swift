// MARK: - PlotSeries

/// One named set of (x, y) values drawn in a chart panel.
///
/// Values need not be clean: NaN, ±infinity (and, on a log axis, zero or negative values) are
/// dropped when drawing. A line is broken at every dropped value, and the last drawable point
/// before an overflow (±inf), NaN or underflow (0 on a log axis) is marked and labelled.
/// If `x` and `y` differ in length, the extra values of the longer array are ignored.
public struct PlotSeries: Sendable, Equatable {
    /// How the values are drawn.
    public enum Style: Sendable, Hashable, CaseIterable {
        /// A solid line through consecutive points.
        case line
        /// A dashed line through consecutive points.
        case dashed
        /// Unconnected dots (e.g. eigenvalues in the complex plane).
        case points
        /// A solid line with a dot at every point.
        case linePoints
    }

    /// Legend text. An empty label keeps the series out of the legend.
    public var label: String
    public var x: [Double]
    public var y: [Double]
    public var style: Style
    /// `nil` takes the palette colour of the series' position in its panel.
    public var color: PlotColor?
    /// Stroke width in pixels for lines (dots scale with it).
    public var lineWidth: Double

    public init(label: String, x: [Double], y: [Double], style: Style = .line,
                color: PlotColor? = nil, lineWidth: Double = 1.5) {
        self.label = label
        self.x = x
        self.y = y
        self.style = style
        self.color = color
        self.lineWidth = lineWidth
    }

    /// A series over time steps: `x` is 1, 2, …, `y.count`.
    public init(label: String, y: [Double], style: Style = .line,
                color: PlotColor? = nil, lineWidth: Double = 1.5) {
        self.init(label: label, x: y.indices.map { Double($0 + 1) }, y: y,
                  style: style, color: color, lineWidth: lineWidth)
    }

    /// A series from any floating-point type (e.g. `Float` activations that overflowed to `inf`).
    public init<X: BinaryFloatingPoint, Y: BinaryFloatingPoint>(
        label: String, x: [X], y: [Y], style: Style = .line,
        color: PlotColor? = nil, lineWidth: Double = 1.5
    ) {
        self.init(label: label, x: x.map { Double($0) }, y: y.map { Double($0) },
                  style: style, color: color, lineWidth: lineWidth)
    }

    /// A time-step series from any floating-point type: `x` is 1, 2, …, `y.count`.
    public init<Y: BinaryFloatingPoint>(label: String, y: [Y], style: Style = .line,
                                        color: PlotColor? = nil, lineWidth: Double = 1.5) {
        self.init(label: label, y: y.map { Double($0) }, style: style, color: color, lineWidth: lineWidth)
    }
}
