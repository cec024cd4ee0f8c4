import Foundation

// MARK: - PlotPanelRenderer

/// Draws one `PlotPanel` into a `width` × `height` cell whose top-left corner is the origin
/// of the current SVG user space.
struct PlotPanelRenderer {
    let panel: PlotPanel
    let width: Double
    let height: Double
    /// Document-unique id for the clip path of the plot area.
    let clipId: String

    /// Dash pattern for dashed series.
    static let dashPattern = "6 4"
    /// Dash pattern for reference lines and the unit circle.
    static let referenceDashPattern = "5 3"
    static let gridColor = "#E3E3E3"
    static let frameColor = "#444444"
    static let textColor = "#222222"

    /// Radius of the dot drawn for points of a series with the given line width.
    static func dotRadius(_ lineWidth: Double) -> Double { max(2.2, lineWidth + 1) }

    // MARK: - Rendering

    func render(into svg: inout SVGBuilder) {
        let prepared = panel.series.enumerated().map { index, series in
            PlotPreparedSeries(series: series, index: index, xScale: panel.xScale, yScale: panel.yScale)
        }
        let legend = PlotLegend(series: prepared)
        let (xValues, yValues) = axisValues(prepared)
        func layout(reserving right: Double) -> PlotPanelLayout {
            PlotPanelLayout.make(panel: panel, xValues: xValues, yValues: yValues,
                                 width: width, height: height, reserveRight: right)
        }
        var frame = layout(reserving: 0)
        var shapes = Shapes(panel: panel, series: prepared, layout: frame)
        var legendPlacement: (origin: PlotPoint, maxWidth: Double, maxHeight: Double)?

        if !legend.isEmpty {
            let inside = legend.size(maxWidth: frame.plot.width * 0.55, maxHeight: frame.plot.height - 12)
            let corners: [PlotLegendPosition]
            switch panel.legend {
            case .automatic: corners = [.topRight, .topLeft, .bottomRight, .bottomLeft]
            case .topRight, .topLeft, .bottomRight, .bottomLeft: corners = [panel.legend]
            case .outsideRight, .hidden: corners = []
            }
            for corner in corners {
                let origin = Self.cornerOrigin(corner, plot: frame.plot, size: inside)
                let box = PlotRect(x: origin.x, y: origin.y, width: inside.width, height: inside.height)
                if panel.legend != .automatic || !shapes.covers(box.inset(by: -3)) {
                    legendPlacement = (origin, frame.plot.width * 0.55, frame.plot.height - 12)
                    break
                }
            }
            if legendPlacement == nil && panel.legend != .hidden {
                let outside = legend.size(maxWidth: width * 0.4, maxHeight: height - 40)
                frame = layout(reserving: outside.width + 8)
                shapes = Shapes(panel: panel, series: prepared, layout: frame)
                legendPlacement = (PlotPoint(x: frame.plot.maxX + 10, y: frame.plot.minY),
                                   width * 0.4, height - frame.plot.minY - 4)
            }
        }

        drawGrid(frame, into: &svg)
        svg.open("defs", [])
        svg.open("clipPath", [("id", clipId)])
        svg.empty("rect", rectAttributes(frame.plot, svg))
        svg.close("clipPath")
        svg.close("defs")
        svg.open("g", [("clip-path", "url(#\(clipId))")])
        shapes.drawReferences(into: &svg)
        shapes.drawSeries(into: &svg)
        svg.close("g")
        shapes.drawAnnotations(into: &svg)
        drawFrame(frame, into: &svg)
        drawTitleAndLabels(frame, into: &svg)
        if let note = emptyNote(prepared) {
            svg.text(note, [("x", svg.number(frame.plot.minX + frame.plot.width / 2)),
                            ("y", svg.number(frame.plot.minY + frame.plot.height / 2 + 4)),
                            ("text-anchor", "middle"), ("font-size", "12"), ("font-style", "italic"),
                            ("fill", "#777777")])
        }
        if let placement = legendPlacement {
            legend.render(into: &svg, at: placement.origin, maxWidth: placement.maxWidth,
                          maxHeight: placement.maxHeight)
        }
    }

    // MARK: - Data extent

    /// The values each axis must include: drawable data, reference lines and the unit circle.
    private func axisValues(_ prepared: [PlotPreparedSeries]) -> ([Double], [Double]) {
        var xs: [Double] = [], ys: [Double] = []
        for series in prepared {
            for run in series.runs {
                for point in run {
                    xs.append(point.x)
                    ys.append(point.y)
                }
            }
        }
        xs += panel.verticalLines.map(\.value).filter(panel.xScale.accepts)
        ys += panel.horizontalLines.map(\.value).filter(panel.yScale.accepts)
        if panel.unitCircle && panel.xScale == .linear && panel.yScale == .linear {
            xs += [-1.05, 1.05]   // a little room so the circle does not touch the frame
            ys += [-1.05, 1.05]
        }
        return (xs, ys)
    }

    /// The note shown in an empty plot area, if nothing at all can be drawn.
    private func emptyNote(_ prepared: [PlotPreparedSeries]) -> String? {
        guard !prepared.contains(where: \.hasData) else { return nil }
        let pairs = panel.series.flatMap { zip($0.x, $0.y) }
        if pairs.isEmpty { return "no data" }
        let hasLogAxis = panel.xScale == .log10 || panel.yScale == .log10
        if hasLogAxis && pairs.contains(where: { $0.0.isFinite && $0.1.isFinite }) {
            return "no positive finite data (log scale)"
        }
        return "no finite data"
    }

    // MARK: - Axes

    private func drawGrid(_ frame: PlotPanelLayout, into svg: inout SVGBuilder) {
        let plot = frame.plot
        svg.open("g", [("class", "grid"), ("stroke", Self.gridColor), ("stroke-width", "1")])
        for tick in frame.x.ticks where tick.isMajor {
            let f = frame.x.fraction(tick.value)
            guard f > 0.001 && f < 0.999 else { continue }
            let x = svg.number(plot.minX + f * plot.width)
            svg.empty("line", [("x1", x), ("y1", svg.number(plot.minY)), ("x2", x), ("y2", svg.number(plot.maxY))])
        }
        for tick in frame.y.ticks where tick.isMajor {
            let f = frame.y.fraction(tick.value)
            guard f > 0.001 && f < 0.999 else { continue }
            let y = svg.number(plot.maxY - f * plot.height)
            svg.empty("line", [("x1", svg.number(plot.minX)), ("y1", y), ("x2", svg.number(plot.maxX)), ("y2", y)])
        }
        svg.close("g")
    }

    private func drawFrame(_ frame: PlotPanelLayout, into svg: inout SVGBuilder) {
        let plot = frame.plot
        svg.empty("rect", rectAttributes(plot, svg) + [("fill", "none"), ("stroke", Self.frameColor), ("stroke-width", "1")])
        let major = PlotPanelLayout.tickLength, minor = 3.0
        svg.open("g", [("class", "ticks"), ("stroke", Self.frameColor), ("stroke-width", "1")])
        for tick in frame.x.ticks {
            let x = svg.number(plot.minX + frame.x.fraction(tick.value) * plot.width)
            svg.empty("line", [("x1", x), ("y1", svg.number(plot.maxY)), ("x2", x),
                               ("y2", svg.number(plot.maxY + (tick.isMajor ? major : minor)))])
        }
        for tick in frame.y.ticks {
            let y = svg.number(plot.maxY - frame.y.fraction(tick.value) * plot.height)
            svg.empty("line", [("x1", svg.number(plot.minX - (tick.isMajor ? major : minor))), ("y1", y),
                               ("x2", svg.number(plot.minX)), ("y2", y)])
        }
        svg.close("g")
        svg.open("g", [("class", "tick-labels"), ("fill", Self.textColor), ("font-size", "11")])
        for tick in frame.x.ticks where tick.isMajor {
            let attributes = [("x", svg.number(plot.minX + frame.x.fraction(tick.value) * plot.width)),
                              ("y", svg.number(plot.maxY + major + 13)), ("text-anchor", "middle")]
            drawTickLabel(tick, attributes, into: &svg)
        }
        for tick in frame.y.ticks where tick.isMajor {
            let attributes = [("x", svg.number(plot.minX - major - 3)),
                              ("y", svg.number(plot.maxY - frame.y.fraction(tick.value) * plot.height + 4)),
                              ("text-anchor", "end")]
            drawTickLabel(tick, attributes, into: &svg)
        }
        svg.close("g")
    }

    private func drawTickLabel(_ tick: PlotTick, _ attributes: [(String, String)], into svg: inout SVGBuilder) {
        if let superscript = tick.superscript {
            svg.text(tick.label, superscript: superscript, fontSize: PlotPanelLayout.tickFontSize, attributes)
        } else {
            svg.text(tick.label, attributes)
        }
    }

    private func drawTitleAndLabels(_ frame: PlotPanelLayout, into svg: inout SVGBuilder) {
        let plot = frame.plot
        let centreX = plot.minX + plot.width / 2, centreY = plot.minY + plot.height / 2
        if !panel.title.isEmpty {
            let title = PlotTextMetrics.truncate(panel.title, fontSize: 13, maxWidth: width - 16)
            let half = PlotTextMetrics.width(title, fontSize: 13) / 2
            let x = min(max(centreX, half + 8), width - half - 8)
            svg.text(title, [("x", svg.number(x)), ("y", "20"), ("text-anchor", "middle"),
                             ("font-size", "13"), ("font-weight", "bold"), ("fill", Self.textColor)])
        }
        if !panel.xLabel.isEmpty {
            let label = PlotTextMetrics.truncate(panel.xLabel, fontSize: 12, maxWidth: plot.width)
            svg.text(label, [("x", svg.number(centreX)), ("y", svg.number(plot.maxY + 36)),
                             ("text-anchor", "middle"), ("font-size", "12"), ("fill", Self.textColor)])
        }
        if !panel.yLabel.isEmpty {
            let label = PlotTextMetrics.truncate(panel.yLabel, fontSize: 12, maxWidth: plot.height)
            let y = svg.number(centreY)
            svg.text(label, [("x", "20"), ("y", y), ("text-anchor", "middle"), ("font-size", "12"),
                             ("fill", Self.textColor), ("transform", "rotate(-90 20 \(y))")])
        }
    }

    // MARK: - Helpers

    private func rectAttributes(_ rect: PlotRect, _ svg: SVGBuilder) -> [(String, String)] {
        [("x", svg.number(rect.minX)), ("y", svg.number(rect.minY)),
         ("width", svg.number(rect.width)), ("height", svg.number(rect.height))]
    }

    private static func cornerOrigin(_ corner: PlotLegendPosition, plot: PlotRect,
                                     size: (width: Double, height: Double)) -> PlotPoint {
        let inset = 6.0
        let left = plot.minX + inset, right = plot.maxX - inset - size.width
        let top = plot.minY + inset, bottom = plot.maxY - inset - size.height
        switch corner {
        case .topLeft: return PlotPoint(x: left, y: top)
        case .bottomLeft: return PlotPoint(x: left, y: bottom)
        case .bottomRight: return PlotPoint(x: right, y: bottom)
        default: return PlotPoint(x: right, y: top)
        }
    }
}

// MARK: - Shapes

extension PlotPanelRenderer {
    /// Everything drawn inside the plot area, in pixel coordinates, already clipped to it.
    /// Also answers whether a box (the legend) would cover any of it.
    struct Shapes {
        /// One series' visible geometry.
        struct Series {
            var color: String
            var style: PlotSeries.Style
            var lineWidth: Double
            var pieces: [[PlotPoint]]
            var dots: [PlotPoint]
        }

        /// A marked break with its label.
        struct Annotation {
            var point: PlotPoint
            var color: String
            var text: String
            /// Estimated extent of the text; it is drawn left-aligned at the box's baseline.
            var textBox: PlotRect
        }

        /// A reference line with its label.
        struct Reference {
            var from: PlotPoint
            var to: PlotPoint
            var color: String
            var dashed: Bool
            var label: String
            var labelOrigin: PlotPoint
            var anchorEnd: Bool
            var labelBox: PlotRect
        }

        var plot: PlotRect
        var series: [Series] = []
        var annotations: [Annotation] = []
        var references: [Reference] = []
        /// Centre and radii of the unit circle, when drawn.
        var circle: (centre: PlotPoint, rx: Double, ry: Double)?

        init(panel: PlotPanel, series prepared: [PlotPreparedSeries], layout: PlotPanelLayout) {
            plot = layout.plot
            let plot = layout.plot
            func pixel(_ p: PlotPoint) -> PlotPoint {
                let fx = min(max(layout.x.fraction(p.x), -1e6), 1e6)
                let fy = min(max(layout.y.fraction(p.y), -1e6), 1e6)
                return PlotPoint(x: plot.minX + fx * plot.width, y: plot.maxY - fy * plot.height)
            }
            let drawArea = plot.inset(by: -2)
            for item in prepared {
                let colour = item.color.hex
                var pieces: [[PlotPoint]] = []
                var dots: [PlotPoint] = []
                for run in item.runs {
                    let pixels = run.map(pixel)
                    if item.style != .points {
                        for piece in PlotGeometry.clip(polyline: PlotGeometry.decimate(pixels), to: drawArea) {
                            if piece.count == 1 { dots.append(piece[0]) } else { pieces.append(piece) }
                        }
                    }
                    if item.style == .points || item.style == .linePoints {
                        dots += pixels.filter { plot.inset(by: -0.01).contains($0) }
                    }
                }
                series.append(Series(color: colour, style: item.style, lineWidth: item.lineWidth,
                                     pieces: pieces, dots: dots))
            }
            for line in panel.horizontalLines where panel.yScale.accepts(line.value) && layout.y.contains(line.value) {
                let y = pixel(PlotPoint(x: layout.x.lower, y: line.value)).y
                let width = PlotTextMetrics.width(line.label, fontSize: 10)
                let above = y - 14 >= plot.minY
                let origin = PlotPoint(x: plot.maxX - 4, y: above ? y - 4 : y + 12)
                references.append(Reference(
                    from: PlotPoint(x: plot.minX, y: y), to: PlotPoint(x: plot.maxX, y: y),
                    color: (line.color ?? .grey).hex, dashed: line.dashed, label: line.label,
                    labelOrigin: origin, anchorEnd: true,
                    labelBox: PlotRect(x: origin.x - width, y: origin.y - 9, width: width, height: 11)))
            }
            for line in panel.verticalLines where panel.xScale.accepts(line.value) && layout.x.contains(line.value) {
                let x = pixel(PlotPoint(x: line.value, y: layout.y.lower)).x
                let width = PlotTextMetrics.width(line.label, fontSize: 10)
                let anchorEnd = x + 4 + width > plot.maxX - 2
                let origin = PlotPoint(x: anchorEnd ? x - 4 : x + 4, y: plot.minY + 12)
                references.append(Reference(
                    from: PlotPoint(x: x, y: plot.minY), to: PlotPoint(x: x, y: plot.maxY),
                    color: (line.color ?? .grey).hex, dashed: line.dashed, label: line.label,
                    labelOrigin: origin, anchorEnd: anchorEnd,
                    labelBox: PlotRect(x: anchorEnd ? origin.x - width : origin.x, y: origin.y - 9, width: width, height: 11)))
            }
            if panel.unitCircle && panel.xScale == .linear && panel.yScale == .linear {
                let centre = pixel(PlotPoint(x: 0, y: 0))
                circle = (centre, pixel(PlotPoint(x: 1, y: 0)).x - centre.x, centre.y - pixel(PlotPoint(x: 0, y: 1)).y)
            }
            if panel.annotatesBreaks {
                for item in prepared {
                    for mark in item.breaks {
                        let point = pixel(mark.point)
                        guard plot.inset(by: -0.5).contains(point) else { continue }
                        annotations.append(annotation(mark.kind.label, at: point, color: item.color.hex))
                    }
                }
            }
        }

        /// Places a break label near `point`: the first candidate position (right, left or
        /// centred; just above or below, then a line further away) that lies inside the plot area
        /// and covers no curve, dot, reference line or earlier label. If every candidate is
        /// covered, the first one inside the plot area is used.
        private func annotation(_ text: String, at point: PlotPoint, color: String) -> Annotation {
            let width = PlotTextMetrics.width(text, fontSize: 10), height = 11.0
            let lefts = [point.x + 7, point.x - 7 - width, point.x - width / 2,
                         plot.maxX - 2 - width, plot.minX + 2]
            let tops = [point.y - 16, point.y + 5, point.y - 28, point.y + 17, point.y + 29]
            var fallback: PlotRect?
            for top in tops {
                for left in lefts where left + width >= point.x - 45 && left <= point.x + 45 {
                    let box = PlotRect(x: left, y: top, width: width, height: height)
                    guard box.minX >= plot.minX + 1, box.maxX <= plot.maxX - 1,
                          box.minY >= plot.minY + 1, box.maxY <= plot.maxY - 1 else { continue }
                    if fallback == nil { fallback = box }
                    if !covers(box.inset(by: -1)) {
                        return Annotation(point: point, color: color, text: text, textBox: box)
                    }
                }
            }
            let box = fallback ?? PlotRect(
                x: min(max(point.x - width / 2, plot.minX + 1), plot.maxX - 1 - width),
                y: min(max(point.y - 16, plot.minY + 1), plot.maxY - 1 - height), width: width, height: height)
            return Annotation(point: point, color: color, text: text, textBox: box)
        }

        /// Whether `box` overlaps any drawn line, dot, label or the unit circle.
        func covers(_ box: PlotRect) -> Bool {
            for item in series {
                for piece in item.pieces {
                    for index in piece.indices.dropLast() where box.intersects(piece[index], piece[index + 1]) {
                        return true
                    }
                }
                if item.dots.contains(where: box.contains) { return true }
            }
            for annotation in annotations where annotation.textBox.intersects(box) || box.contains(annotation.point) {
                return true
            }
            for reference in references {
                if box.intersects(reference.from, reference.to) { return true }
                if !reference.label.isEmpty && reference.labelBox.intersects(box) { return true }
            }
            if let circle {
                let steps = 96
                var previous = PlotPoint(x: circle.centre.x + circle.rx, y: circle.centre.y)
                for step in 1...steps {
                    let angle = Double(step) / Double(steps) * 2 * Double.pi
                    let next = PlotPoint(x: circle.centre.x + circle.rx * cos(angle),
                                         y: circle.centre.y - circle.ry * sin(angle))
                    if box.intersects(previous, next) { return true }
                    previous = next
                }
            }
            return false
        }

        // MARK: - Drawing

        func drawReferences(into svg: inout SVGBuilder) {
            for reference in references {
                var attributes = [("x1", svg.number(reference.from.x)), ("y1", svg.number(reference.from.y)),
                                  ("x2", svg.number(reference.to.x)), ("y2", svg.number(reference.to.y)),
                                  ("stroke", reference.color), ("stroke-width", "1.2")]
                if reference.dashed { attributes.append(("stroke-dasharray", PlotPanelRenderer.referenceDashPattern)) }
                svg.empty("line", attributes)
            }
            if let circle {
                svg.empty("ellipse", [("class", "unit-circle"), ("cx", svg.number(circle.centre.x)),
                                      ("cy", svg.number(circle.centre.y)), ("rx", svg.number(circle.rx)),
                                      ("ry", svg.number(circle.ry)), ("fill", "none"), ("stroke", "#888888"),
                                      ("stroke-width", "1"), ("stroke-dasharray", PlotPanelRenderer.referenceDashPattern)])
            }
        }

        func drawSeries(into svg: inout SVGBuilder) {
            for item in series {
                if !item.pieces.isEmpty {
                    var path = ""
                    for piece in item.pieces {
                        for (index, point) in piece.enumerated() {
                            path += (index == 0 ? "M" : "L") + svg.number(point.x) + "," + svg.number(point.y)
                        }
                    }
                    var attributes = [("class", "series"), ("d", path), ("fill", "none"), ("stroke", item.color),
                                      ("stroke-width", svg.number(item.lineWidth)),
                                      ("stroke-linejoin", "round"), ("stroke-linecap", "round")]
                    if item.style == .dashed { attributes.append(("stroke-dasharray", PlotPanelRenderer.dashPattern)) }
                    svg.empty("path", attributes)
                }
                if !item.dots.isEmpty {
                    let radius = svg.number(PlotPanelRenderer.dotRadius(item.lineWidth))
                    svg.open("g", [("class", "dots"), ("fill", item.color)])
                    for dot in item.dots {
                        svg.empty("circle", [("cx", svg.number(dot.x)), ("cy", svg.number(dot.y)), ("r", radius)])
                    }
                    svg.close("g")
                }
            }
        }

        func drawAnnotations(into svg: inout SVGBuilder) {
            for annotation in annotations {
                svg.empty("circle", [("class", "break"), ("cx", svg.number(annotation.point.x)),
                                     ("cy", svg.number(annotation.point.y)), ("r", "3.5"), ("fill", "#FFFFFF"),
                                     ("stroke", annotation.color), ("stroke-width", "1.5")])
                svg.text(annotation.text, [
                    ("x", svg.number(annotation.textBox.minX)), ("y", svg.number(annotation.textBox.maxY - 2)),
                    ("font-size", "10"), ("font-style", "italic"), ("fill", annotation.color),
                    ("stroke", "#FFFFFF"), ("stroke-width", "3"), ("stroke-linejoin", "round"), ("paint-order", "stroke"),
                ])
            }
            for reference in references where !reference.label.isEmpty {
                svg.text(reference.label, [
                    ("x", svg.number(reference.labelOrigin.x)), ("y", svg.number(reference.labelOrigin.y)),
                    ("text-anchor", reference.anchorEnd ? "end" : "start"), ("font-size", "10"),
                    ("fill", reference.color), ("stroke", "#FFFFFF"), ("stroke-width", "3"),
                    ("stroke-linejoin", "round"), ("paint-order", "stroke"),
                ])
            }
        }
    }
}
