import Foundation

// MARK: - PlotFigure

/// A self-contained SVG chart: one or more `PlotPanel`s in a grid, with an optional title.
///
/// The output uses only basic SVG 1.1 (no scripts, no external fonts or files; text in the
/// generic `sans-serif` family), so it looks the same in browsers and in `rsvg-convert`.
/// Equal figures produce byte-identical SVG.
///
/// ```swift
/// let figure = PlotFigure(title: "Run 7", panels: [normsPanel, lossPanel], columns: 2)
/// try figure.write(to: URL(fileURLWithPath: "run7.svg"))
/// ```
public struct PlotFigure: Sendable, Equatable {
    public var title: String?
    public var panels: [PlotPanel]
    /// Panels per row (values below 1 count as 1).
    public var columns: Int
    /// Size of each panel cell in pixels (clamped to at least 160 × 120).
    public var panelWidth: Double
    public var panelHeight: Double
    /// Prefix for element ids (clip paths); set distinct prefixes when several figures are
    /// inlined into one HTML page.
    public var idPrefix: String

    public init(title: String? = nil, panels: [PlotPanel], columns: Int = 1,
                panelWidth: Double = 480, panelHeight: Double = 320, idPrefix: String = "plot") {
        self.title = title
        self.panels = panels
        self.columns = columns
        self.panelWidth = panelWidth
        self.panelHeight = panelHeight
        self.idPrefix = idPrefix
    }

    /// A figure with a single panel.
    public init(_ panel: PlotPanel, width: Double = 480, height: Double = 320) {
        self.init(panels: [panel], columns: 1, panelWidth: width, panelHeight: height)
    }

    // MARK: - Layout

    /// Height of the figure title band (0 without a title).
    var titleHeight: Double {
        guard let title, !title.isEmpty else { return 0 }
        return 30
    }

    var effectiveColumns: Int { max(1, min(columns, max(1, panels.count))) }
    var rows: Int { max(1, (panels.count + effectiveColumns - 1) / effectiveColumns) }
    var cellWidth: Double { panelWidth.isFinite ? min(max(panelWidth, 160), 20_000) : 480 }
    var cellHeight: Double { panelHeight.isFinite ? min(max(panelHeight, 120), 20_000) : 320 }

    /// Total width of the SVG canvas in pixels.
    public var width: Double { Double(effectiveColumns) * cellWidth }
    /// Total height of the SVG canvas in pixels.
    public var height: Double { titleHeight + Double(rows) * cellHeight }

    /// `idPrefix` reduced to characters that are safe in an XML id and a `url(#…)` reference.
    var safeIdPrefix: String {
        let kept = idPrefix.unicodeScalars.filter {
            ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "-" || $0 == "_"
        }
        let text = String(String.UnicodeScalarView(kept))
        guard let first = text.unicodeScalars.first, (first >= "a" && first <= "z") || (first >= "A" && first <= "Z") else {
            return "plot" + text
        }
        return text
    }

    // MARK: - Output

    /// The complete SVG document.
    public func svg() -> String {
        var svg = SVGBuilder()
        let w = width, h = height
        svg.open("svg", [
            ("xmlns", "http://www.w3.org/2000/svg"), ("version", "1.1"),
            ("width", svg.number(w)), ("height", svg.number(h)),
            ("viewBox", "0 0 \(svg.number(w)) \(svg.number(h))"),
            ("font-family", "sans-serif"), ("font-size", "11"),
        ])
        if let title, !title.isEmpty { svg.text(element: "title", title, []) }
        svg.empty("rect", [("x", "0"), ("y", "0"), ("width", svg.number(w)), ("height", svg.number(h)), ("fill", "#FFFFFF")])
        if let title, !title.isEmpty {
            let shown = PlotTextMetrics.truncate(title, fontSize: 15, maxWidth: w - 16)
            svg.text(shown, [("x", svg.number(w / 2)), ("y", "21"), ("text-anchor", "middle"),
                             ("font-size", "15"), ("font-weight", "bold"), ("fill", "#222222")])
        }
        for (index, panel) in panels.enumerated() {
            let column = index % effectiveColumns, row = index / effectiveColumns
            let renderer = PlotPanelRenderer(panel: panel, width: cellWidth, height: cellHeight,
                                             clipId: "\(safeIdPrefix)-clip-\(index)")
            svg.open("g", [("transform", "translate(\(svg.number(Double(column) * cellWidth)),\(svg.number(titleHeight + Double(row) * cellHeight)))")])
            renderer.render(into: &svg)
            svg.close("g")
        }
        svg.close("svg")
        return svg.output
    }

    /// Writes `svg()` as UTF-8 to `url` atomically: the bytes go to a temporary file in the same
    /// directory, which is then renamed over `url`, so readers never see a partial file.
    public func write(to url: URL) throws {
        try Data(svg().utf8).write(to: url, options: .atomic)
    }
}
