// MARK: - PlotLegend

/// A legend box: one row per labelled series with a sample of its line or dot.
struct PlotLegend: Sendable {
    /// One legend row.
    struct Entry: Sendable {
        var label: String
        var color: PlotColor
        var style: PlotSeries.Style
        var lineWidth: Double
    }

    var entries: [Entry]

    static let fontSize = 11.0
    static let rowHeight = 16.0
    static let padding = 6.0
    static let sampleWidth = 22.0

    /// Rows for the labelled series; a series without drawable values says so.
    init(series: [PlotPreparedSeries]) {
        entries = series.filter { !$0.label.isEmpty }.map { item in
            Entry(label: item.hasData ? item.label : item.label + " (no finite data)",
                  color: item.color, style: item.style, lineWidth: item.lineWidth)
        }
    }

    var isEmpty: Bool { entries.isEmpty }

    /// Box size when at most `maxWidth` × `maxHeight` pixels are available.
    func size(maxWidth: Double, maxHeight: Double) -> (width: Double, height: Double) {
        let rows = visibleRowCount(maxHeight: maxHeight) + (hiddenCount(maxHeight: maxHeight) > 0 ? 1 : 0)
        let textWidth = entries.map { PlotTextMetrics.width($0.label, fontSize: Self.fontSize) }.max() ?? 0
        let width = min(maxWidth, Self.padding * 2 + Self.sampleWidth + 6 + textWidth)
        return (width.rounded(.up), Self.padding * 2 + Double(rows) * Self.rowHeight - 2)
    }

    /// Draws the box with its top-left corner at `origin`.
    func render(into svg: inout SVGBuilder, at origin: PlotPoint, maxWidth: Double, maxHeight: Double) {
        let (width, height) = size(maxWidth: maxWidth, maxHeight: maxHeight)
        svg.open("g", [("class", "legend")])
        svg.empty("rect", [("x", svg.number(origin.x)), ("y", svg.number(origin.y)),
                           ("width", svg.number(width)), ("height", svg.number(height)),
                           ("fill", "#FFFFFF"), ("fill-opacity", "0.85"), ("stroke", "#BBBBBB"),
                           ("stroke-width", "0.8"), ("rx", "3")])
        let textMax = width - Self.padding * 2 - Self.sampleWidth - 6
        let visible = visibleRowCount(maxHeight: maxHeight)
        for (row, entry) in entries.prefix(visible).enumerated() {
            let centre = origin.y + Self.padding + (Double(row) + 0.5) * Self.rowHeight - 1
            let x0 = origin.x + Self.padding, x1 = x0 + Self.sampleWidth
            let colour = entry.color.hex
            if entry.style != .points {
                var line: [(String, String)] = [("x1", svg.number(x0)), ("y1", svg.number(centre)),
                                                ("x2", svg.number(x1)), ("y2", svg.number(centre)),
                                                ("stroke", colour), ("stroke-width", svg.number(entry.lineWidth))]
                if entry.style == .dashed { line.append(("stroke-dasharray", PlotPanelRenderer.dashPattern)) }
                svg.empty("line", line)
            }
            if entry.style == .points || entry.style == .linePoints {
                svg.empty("circle", [("cx", svg.number((x0 + x1) / 2)), ("cy", svg.number(centre)),
                                     ("r", svg.number(PlotPanelRenderer.dotRadius(entry.lineWidth))), ("fill", colour)])
            }
            svg.text(PlotTextMetrics.truncate(entry.label, fontSize: Self.fontSize, maxWidth: textMax),
                     [("x", svg.number(x1 + 6)), ("y", svg.number(centre + 4)), ("fill", "#222222")])
        }
        let hidden = hiddenCount(maxHeight: maxHeight)
        if hidden > 0 {
            let baseline = origin.y + Self.padding + (Double(visible) + 0.5) * Self.rowHeight + 3
            svg.text("+\(hidden) more", [("x", svg.number(origin.x + Self.padding)), ("y", svg.number(baseline)),
                                         ("fill", "#555555"), ("font-style", "italic")])
        }
        svg.close("g")
    }

    // MARK: - Rows

    private func visibleRowCount(maxHeight: Double) -> Int {
        let fitting = max(1, Int((maxHeight - Self.padding * 2 + 2) / Self.rowHeight))
        return entries.count <= fitting ? entries.count : max(0, fitting - 1)
    }

    private func hiddenCount(maxHeight: Double) -> Int {
        entries.count - visibleRowCount(maxHeight: maxHeight)
    }
}
