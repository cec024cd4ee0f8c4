// MARK: - PlotPanel

/// One chart: a plot area with axes, ticks, grid, a title, a legend and any number of series.
///
/// Axis ranges are chosen from the drawable data unless fixed. A fixed range that cannot be
/// used (not finite, empty, or not positive on a log axis) is ignored, so a log axis never
/// receives a non-positive bound.
public struct PlotPanel: Sendable, Equatable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xScale: PlotScale
    public var yScale: PlotScale
    public var series: [PlotSeries]
    /// Fixed x range; `nil` chooses one from the data (rounded out to "nice" ticks).
    public var xRange: ClosedRange<Double>?
    /// Fixed y range; `nil` chooses one from the data (rounded out to "nice" ticks).
    public var yRange: ClosedRange<Double>?
    /// One unit on x is as long as one unit on y (only when both scales are linear).
    /// The shorter range is widened around its centre.
    public var equalAspect: Bool
    /// Draws the circle |z| = 1 (only when both scales are linear); the axis ranges include it.
    public var unitCircle: Bool
    /// Horizontal lines at fixed y values, e.g. a baseline loss.
    public var horizontalLines: [PlotReferenceLine]
    /// Vertical lines at fixed x values, e.g. the step where training changed.
    public var verticalLines: [PlotReferenceLine]
    public var legend: PlotLegendPosition
    /// Marks where curves overflow, turn NaN or underflow (see `PlotSeries`).
    public var annotatesBreaks: Bool

    public init(
        title: String = "",
        xLabel: String = "",
        yLabel: String = "",
        xScale: PlotScale = .linear,
        yScale: PlotScale = .linear,
        series: [PlotSeries] = [],
        xRange: ClosedRange<Double>? = nil,
        yRange: ClosedRange<Double>? = nil,
        equalAspect: Bool = false,
        unitCircle: Bool = false,
        horizontalLines: [PlotReferenceLine] = [],
        verticalLines: [PlotReferenceLine] = [],
        legend: PlotLegendPosition = .automatic,
        annotatesBreaks: Bool = true
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xScale = xScale
        self.yScale = yScale
        self.series = series
        self.xRange = xRange
        self.yRange = yRange
        self.equalAspect = equalAspect
        self.unitCircle = unitCircle
        self.horizontalLines = horizontalLines
        self.verticalLines = verticalLines
        self.legend = legend
        self.annotatesBreaks = annotatesBreaks
    }

    /// A complex-plane panel for eigenvalues: points, equal aspect, unit circle, axes Re/Im.
    public static func complexPlane(title: String = "", series: [PlotSeries],
                                    unitCircle: Bool = true) -> PlotPanel {
        PlotPanel(title: title, xLabel: "Re", yLabel: "Im", series: series,
                  equalAspect: true, unitCircle: unitCircle)
    }
}
