// MARK: - PlotBreakKind

/// Why a curve cannot be continued at a value.
enum PlotBreakKind: Hashable, Sendable, CaseIterable {
    /// +inf or -inf: the computation overflowed.
    case overflow
    /// NaN.
    case notANumber
    /// Exactly zero on a log axis: the value underflowed (or vanished).
    case underflow
    /// A negative value on a log axis.
    case negative

    /// The kind of break caused by `y`, or `nil` when `y` is drawable on `scale`.
    init?(y: Double, scale: PlotScale) {
        if scale.accepts(y) { return nil }
        if y.isNaN { self = .notANumber }
        else if y.isInfinite { self = .overflow }
        else if y == 0 { self = .underflow }
        else { self = .negative }
    }

    /// Text written next to the last drawable point.
    var label: String {
        switch self {
        case .overflow: return "overflow"
        case .notANumber: return "NaN"
        case .underflow: return "underflow"
        case .negative: return "negative"
        }
    }
}

// MARK: - PlotBreak

/// The last drawable point of a curve before a break of the given kind.
struct PlotBreak: Equatable, Sendable {
    var point: PlotPoint
    var kind: PlotBreakKind
}

// MARK: - PlotPreparedSeries

/// A series reduced to what can be drawn on the panel's scales: runs of consecutive drawable
/// points (a line is drawn within each run, never across a dropped value) and the places where
/// the curve broke. Only the first break of each kind is recorded, so a curve that flickers
/// to zero does not fill the panel with annotations.
struct PlotPreparedSeries: Sendable {
    var label: String
    var color: PlotColor
    var style: PlotSeries.Style
    var lineWidth: Double
    /// Consecutive drawable points, in data units.
    var runs: [[PlotPoint]]
    var breaks: [PlotBreak]

    /// Whether anything of the series can be drawn.
    var hasData: Bool { !runs.isEmpty }

    init(series: PlotSeries, index: Int, xScale: PlotScale, yScale: PlotScale) {
        label = series.label
        color = series.color ?? PlotColor.palette(index)
        style = series.style
        lineWidth = series.lineWidth.isFinite ? min(max(series.lineWidth, 0.25), 12) : 1.5
        var runs: [[PlotPoint]] = []
        var breaks: [PlotBreak] = []
        var current: [PlotPoint] = []
        var seen = Set<PlotBreakKind>()
        for index in 0..<min(series.x.count, series.y.count) {
            let x = series.x[index], y = series.y[index]
            if xScale.accepts(x) && yScale.accepts(y) {
                current.append(PlotPoint(x: x, y: y))
                continue
            }
            if let last = current.last, xScale.accepts(x),
               let kind = PlotBreakKind(y: y, scale: yScale), !seen.contains(kind) {
                breaks.append(PlotBreak(point: last, kind: kind))
                seen.insert(kind)
            }
            if !current.isEmpty { runs.append(current); current = [] }
        }
        if !current.isEmpty { runs.append(current) }
        self.runs = runs
        self.breaks = breaks
    }
}
