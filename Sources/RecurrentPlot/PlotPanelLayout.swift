// MARK: - PlotPanelLayout

/// Where a panel's plot area sits inside its cell, and the axes fitted to it.
///
/// Margins leave room for the title, the tick labels (the left margin grows with the widest
/// y label), the axis labels and, optionally, a legend to the right.
struct PlotPanelLayout: Equatable, Sendable {
    var plot: PlotRect
    var x: PlotAxis
    var y: PlotAxis

    static let tickLength = 5.0
    static let tickFontSize = 11.0

    /// Lays out `panel` in a `width` × `height` cell. `xValues` and `yValues` are the values the
    /// axes must show; `reserveRight` pixels are kept free right of the plot area.
    static func make(panel: PlotPanel, xValues: [Double], yValues: [Double],
                     width: Double, height: Double, reserveRight: Double) -> PlotPanelLayout {
        let top = panel.title.isEmpty ? 14.0 : 32.0
        let bottom = panel.xLabel.isEmpty ? 30.0 : 46.0
        let yLabelBand = panel.yLabel.isEmpty ? 0.0 : 18.0
        var left = 8 + yLabelBand + 20 + tickLength + 4
        var right = 18.0
        func attempt() -> PlotPanelLayout {
            let plot = PlotRect(x: left, y: top, width: max(24, width - left - right - reserveRight),
                                height: max(24, height - top - bottom))
            let (xAxis, yAxis) = axes(panel: panel, xValues: xValues, yValues: yValues, plot: plot)
            return PlotPanelLayout(plot: plot, x: xAxis, y: yAxis)
        }
        var layout = attempt()
        for _ in 0..<4 {
            // Room for the widest y label on the left and half the last x label on the right.
            let widest = layout.y.ticks.filter(\.isMajor).map(labelWidth).max() ?? 0
            let neededLeft = min((8 + yLabelBand + widest + tickLength + 4).rounded(.up), width / 2)
            var neededRight = right
            if let last = layout.x.ticks.last(where: \.isMajor), layout.x.fraction(last.value) > 0.9 {
                neededRight = min(max(right, (labelWidth(last) / 2 + 4).rounded(.up)), width / 4)
            }
            if neededLeft <= left && neededRight <= right { break }
            left = max(left, neededLeft)
            right = max(right, neededRight)
            layout = attempt()
        }
        return layout
    }

    /// Estimated width of a tick label in pixels.
    static func labelWidth(_ tick: PlotTick) -> Double {
        if let superscript = tick.superscript {
            return PlotTextMetrics.width(tick.label, superscript: superscript, fontSize: tickFontSize)
        }
        return PlotTextMetrics.width(tick.label, fontSize: tickFontSize)
    }

    // MARK: - Axes

    private static func axes(panel: PlotPanel, xValues: [Double], yValues: [Double],
                             plot: PlotRect) -> (PlotAxis, PlotAxis) {
        var xRange = PlotAxis.bounds(values: xValues, scale: panel.xScale, fixed: panel.xRange,
                                     targetCount: max(2, Int(plot.width / 80)))
        var yRange = PlotAxis.bounds(values: yValues, scale: panel.yScale, fixed: panel.yRange,
                                     targetCount: max(2, Int(plot.height / 40)))
        if panel.equalAspect && panel.xScale == .linear && panel.yScale == .linear {
            (xRange, yRange) = equalized(xRange, yRange, plot: plot)
        }
        let yAxis = PlotAxis.make(scale: panel.yScale, range: yRange, length: plot.height,
                                  labelSpacing: panel.yScale == .log10 ? 26 : 40)
        return (horizontalAxis(scale: panel.xScale, range: xRange, length: plot.width), yAxis)
    }

    /// Widens the range with fewer units per pixel so both axes use the same scale.
    private static func equalized(_ x: ClosedRange<Double>, _ y: ClosedRange<Double>,
                                  plot: PlotRect) -> (ClosedRange<Double>, ClosedRange<Double>) {
        let unitsX = (x.upperBound / 2 - x.lowerBound / 2) / plot.width
        let unitsY = (y.upperBound / 2 - y.lowerBound / 2) / plot.height
        guard unitsX.isFinite, unitsY.isFinite, unitsX > 0, unitsY > 0 else { return (x, y) }
        func widened(_ range: ClosedRange<Double>, halfSpan: Double) -> ClosedRange<Double> {
            let centre = range.lowerBound / 2 + range.upperBound / 2
            let lo = centre - halfSpan, hi = centre + halfSpan
            return lo.isFinite && hi.isFinite && lo < hi ? lo...hi : range
        }
        if unitsX > unitsY { return (x, widened(y, halfSpan: unitsX * plot.height)) }
        return (widened(x, halfSpan: unitsY * plot.width), y)
    }

    /// An x axis whose labels do not collide: the spacing grows until the widest label fits
    /// between neighbouring ticks.
    private static func horizontalAxis(scale: PlotScale, range: ClosedRange<Double>, length: Double) -> PlotAxis {
        var spacing = scale == .log10 ? 40.0 : 70.0
        var axis = PlotAxis.make(scale: scale, range: range, length: length, labelSpacing: spacing)
        for _ in 0..<6 {
            let major = axis.ticks.filter(\.isMajor)
            guard major.count > 2 else { break }
            let widest = major.map(labelWidth).max() ?? 0
            let positions = major.map { axis.fraction($0.value) * length }
            let gap = zip(positions.dropFirst(), positions).map { $0 - $1 }.min() ?? length
            if widest + 10 <= gap { break }
            spacing = max(spacing * 1.4, widest + 12)
            axis = PlotAxis.make(scale: scale, range: range, length: length, labelSpacing: spacing)
        }
        return axis
    }
}
