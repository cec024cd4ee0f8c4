import Foundation
import Testing
@testable import Recurrent
@testable import RecurrentPlot

// MARK: - Figures

@Suite("SVG figures")
struct PlotFigureTests {
    static let nan = Double.nan, inf = Double.infinity

    /// Figures that stress degenerate input; each must still be well-formed SVG.
    static let edgeCases: [(String, PlotFigure)] = [
        ("no panels", PlotFigure(panels: [])),
        ("empty panel", PlotFigure(PlotPanel())),
        ("empty series", PlotFigure(PlotPanel(title: "t", series: [PlotSeries(label: "e", x: [], y: [])]))),
        ("single point", PlotFigure(PlotPanel(series: [PlotSeries(label: "p", x: [3], y: [7])]))),
        ("single point log", PlotFigure(PlotPanel(xScale: .log10, yScale: .log10, series: [PlotSeries(label: "p", x: [10], y: [10])]))),
        ("all equal", PlotFigure(PlotPanel(series: [PlotSeries(label: "flat", y: [2, 2, 2])]))),
        ("all zero log", PlotFigure(PlotPanel(yScale: .log10, series: [PlotSeries(label: "z", y: [0, 0, 0])]))),
        ("all NaN", PlotFigure(PlotPanel(yScale: .log10, series: [PlotSeries(label: "n", y: [nan, nan])]))),
        ("mismatched lengths", PlotFigure(PlotPanel(series: [PlotSeries(label: "m", x: [1, 2, 3, 4], y: [1, 2])]))),
        ("extremes", PlotFigure(PlotPanel(series: [PlotSeries(label: "x", y: [-Double.greatestFiniteMagnitude, Double.greatestFiniteMagnitude, nan, inf, -inf, Double.leastNonzeroMagnitude])]))),
        ("extreme log", PlotFigure(PlotPanel(yScale: .log10, series: [PlotSeries(label: "x", y: [Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, 0, -1])]))),
        ("bad fixed ranges", PlotFigure(PlotPanel(xScale: .log10, yScale: .log10, series: [PlotSeries(label: "r", y: [1, 10])], xRange: -5...0, yRange: 0...0))),
        ("equal fixed range", PlotFigure(PlotPanel(series: [PlotSeries(label: "r", y: [1, 10])], yRange: 3...3))),
        ("markup everywhere", PlotFigure(title: "<svg> & \"friends\"", panels: [
            PlotPanel(title: "<b>'t'</b>", xLabel: "a & b", yLabel: "\"y\" > 0",
                      series: [PlotSeries(label: "</text><script>alert(1)</script>", y: [1, 2])],
                      horizontalLines: [PlotReferenceLine(1.5, label: "<&>")],
                      verticalLines: [PlotReferenceLine(1.5, label: "'v'")]),
        ], idPrefix: "\"><bad id")),
        ("complex plane", PlotFigure(PlotPanel.complexPlane(series: [PlotSeries(label: "λ", x: [0.5, -0.2], y: [0.1, 0.9], style: .points)]))),
        ("grid with odd panel count", PlotFigure(panels: Array(repeating: PlotPanel(series: [PlotSeries(label: "a", y: [1, 3, 2])]), count: 5), columns: 2)),
        ("tiny and invalid sizes", PlotFigure(panels: [PlotPanel(title: String(repeating: "long title ", count: 30), series: [PlotSeries(label: String(repeating: "long label ", count: 30), y: [1, 2])])],
                                             columns: 0, panelWidth: -3, panelHeight: .nan)),
        ("many series", PlotFigure(PlotPanel(series: (0..<40).map { PlotSeries(label: "s\($0)", y: [Double($0), Double($0 + 1)]) }))),
    ]

    @Test(arguments: edgeCases.indices)
    func edgeCaseIsWellFormedXML(_ index: Int) throws {
        let (name, figure) = Self.edgeCases[index]
        let svg = figure.svg()
        let elements = try #require(parseSVG(svg), "\(name) is not well-formed")
        #expect(elements.first?.name == "svg")
        #expect(!svg.contains("nan") && !svg.contains("inf\""), "\(name) leaks non-finite numbers")
        #expect(!svg.contains("<script"), "\(name) lets markup through")
    }

    @Test func outputIsDeterministic() {
        let make = {
            PlotFigure(title: "same", panels: [
                PlotPanel(title: "a", yScale: .log10, series: [PlotSeries(label: "x", y: (1...50).map { pow(1.9, Double($0)) })]),
                PlotPanel.complexPlane(series: [PlotSeries(label: "e", x: [0.3, -0.4], y: [0.2, 0.5], style: .points)]),
            ], columns: 2)
        }
        let first = make().svg()
        #expect(first == make().svg())
        #expect(first == make().svg())
        #expect(make() == make())
    }

    @Test func nonFiniteValuesBreakTheCurve() throws {
        let series = PlotSeries(label: "c", x: [1, 2, 3, 4, 5, 6, 7, 8], y: [1, 2, Self.nan, 4, 5, Self.inf, 7, 8])
        let prepared = PlotPreparedSeries(series: series, index: 0, xScale: .linear, yScale: .linear)
        #expect(prepared.runs.map { $0.map(\.x) } == [[1, 2], [4, 5], [7, 8]])
        #expect(prepared.breaks == [PlotBreak(point: PlotPoint(x: 2, y: 2), kind: .notANumber),
                                    PlotBreak(point: PlotPoint(x: 5, y: 5), kind: .overflow)])
        let elements = try #require(parseSVG(PlotFigure(PlotPanel(series: [series])).svg()))
        let path = try #require(elements.elements("path", class: "series").first?.attributes["d"])
        #expect(subpathCount(path) == 3)
        #expect(elements.texts.contains("overflow"))
        #expect(elements.texts.contains("NaN"))
    }

    @Test func logScaleDropsZeroAndNegativeValues() throws {
        let series = PlotSeries(label: "g", y: [1, 0.1, 0, 0.01, -1, 1e-3, 1e-4])
        let prepared = PlotPreparedSeries(series: series, index: 0, xScale: .linear, yScale: .log10)
        #expect(prepared.runs.map { $0.map(\.y) } == [[1, 0.1], [0.01], [1e-3, 1e-4]])
        #expect(prepared.breaks.map(\.kind) == [.underflow, .negative])
        let elements = try #require(parseSVG(PlotFigure(PlotPanel(yScale: .log10, series: [series])).svg()))
        let path = try #require(elements.elements("path", class: "series").first?.attributes["d"])
        #expect(subpathCount(path) == 2)                                     // the lone 0.01 is a dot
        #expect(elements.filter { $0.name == "circle" && $0.ancestorClasses.contains("dots") }.count == 1)
        #expect(elements.texts.contains("underflow"))
    }

    @Test func float32OverflowIsMarked() throws {
        var h: Float = 1
        let norms: [Float] = (1...200).map { _ in h *= 1.9; return h }
        #expect(norms.last == .infinity)
        let figure = PlotFigure(PlotPanel(yScale: .log10, series: [PlotSeries(label: "1.9^t", y: norms)]))
        let elements = try #require(parseSVG(figure.svg()))
        #expect(elements.texts.filter { $0 == "overflow" }.count == 1)
        #expect(elements.elements("circle", class: "break").count == 1)
    }

    @Test func onlyTheFirstBreakOfEachKindIsLabelled() {
        let flicker = PlotSeries(label: "f", y: (1...40).map { $0 % 2 == 0 ? 0 : 1 })
        let prepared = PlotPreparedSeries(series: flicker, index: 0, xScale: .linear, yScale: .log10)
        #expect(prepared.breaks.count == 1)
        #expect(prepared.runs.count == 20)
    }

    @Test func emptyDataGetsANote() throws {
        let allNaN = try #require(parseSVG(PlotFigure(PlotPanel(series: [PlotSeries(label: "n", y: [Self.nan, Self.nan])])).svg()))
        #expect(allNaN.texts.contains("no finite data"))
        #expect(allNaN.texts.contains("n (no finite data)"))
        let none = try #require(parseSVG(PlotFigure(PlotPanel()).svg()))
        #expect(none.texts.contains("no data"))
    }

    @Test func textIsEscaped() {
        let svg = PlotFigure(title: "a < b & c", panels: [PlotPanel(title: "\"q\" 'a'", series: [PlotSeries(label: "<x>", y: [1])])]).svg()
        #expect(svg.contains("a &lt; b &amp; c"))
        #expect(svg.contains("&quot;q&quot; &apos;a&apos;"))
        #expect(svg.contains("&lt;x&gt;"))
    }

    @Test func logAxisTicksAreSuperscriptDecades() throws {
        let series = PlotSeries(label: "wide", y: [1e-40, 1, 1e40])
        let elements = try #require(parseSVG(PlotFigure(PlotPanel(yScale: .log10, series: [series])).svg()))
        let superscripts = elements.filter { $0.name == "tspan" }.map(\.text)
        #expect(superscripts.contains("-40") && superscripts.contains("0") && superscripts.contains("40"))
        #expect(!superscripts.contains("-35"))
    }

    @Test func seriesStaysInsideThePlotArea() throws {
        let figure = PlotFigure(PlotPanel(series: [PlotSeries(label: "out", y: [0, 100, -100, 5])], yRange: 0...10))
        let elements = try #require(parseSVG(figure.svg()))
        let clip = try #require(elements.first { $0.name == "rect" && $0.ancestorClasses.isEmpty && elements.contains { $0.name == "clipPath" } && $0.attributes["fill"] == nil })
        let minY = try #require(Double(clip.attributes["y"] ?? "")), height = try #require(Double(clip.attributes["height"] ?? ""))
        let path = try #require(elements.elements("path", class: "series").first?.attributes["d"])
        let ys = path.split(whereSeparator: { $0 == "M" || $0 == "L" }).compactMap { Double($0.split(separator: ",")[1]) }
        #expect(!ys.isEmpty)
        #expect(ys.allSatisfy { $0 >= minY - 2.01 && $0 <= minY + height + 2.01 })
        #expect(elements.contains { $0.name == "g" && $0.attributes["clip-path"] != nil })
    }

    @Test func automaticLegendAvoidsData() throws {
        // A rising diagonal fills the top-right and bottom-left corners; top-left is free.
        let figure = PlotFigure(PlotPanel(series: [PlotSeries(label: "diagonal", x: [0, 1], y: [0, 1])]))
        let elements = try #require(parseSVG(figure.svg()))
        let box = try #require(elements.first { $0.name == "rect" && $0.ancestorClasses.contains("legend") })
        let frame = try #require(elements.first { $0.name == "rect" && $0.attributes["stroke"] == "#444444" })
        let boxX = try #require(Double(box.attributes["x"] ?? "")), frameX = try #require(Double(frame.attributes["x"] ?? ""))
        let boxY = try #require(Double(box.attributes["y"] ?? "")), frameY = try #require(Double(frame.attributes["y"] ?? ""))
        #expect(abs(boxX - frameX - 6) < 0.01)
        #expect(abs(boxY - frameY - 6) < 0.01)
    }

    @Test func legendMovesOutsideWhenEveryCornerHasData() throws {
        // A zigzag between the bottom and top edges leaves no free corner.
        let zigzag = PlotSeries(label: "zigzag", x: (0...40).map(Double.init), y: (0...40).map { Double($0 % 2) })
        let elements = try #require(parseSVG(PlotFigure(PlotPanel(series: [zigzag])).svg()))
        let box = try #require(elements.first { $0.name == "rect" && $0.ancestorClasses.contains("legend") })
        let frame = try #require(elements.first { $0.name == "rect" && $0.attributes["stroke"] == "#444444" })
        let boxX = try #require(Double(box.attributes["x"] ?? ""))
        let frameRight = try #require(Double(frame.attributes["x"] ?? "")) + (try #require(Double(frame.attributes["width"] ?? "")))
        #expect(boxX > frameRight)
        #expect(boxX + (try #require(Double(box.attributes["width"] ?? ""))) <= 480)
    }

    @Test func writeReplacesFileAtomically() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("figure.svg")
        try "old".write(to: url, atomically: false, encoding: .utf8)
        let figure = PlotFigure(PlotPanel(title: "σ", series: [PlotSeries(label: "a", y: [1, 2])]))
        try figure.write(to: url)
        let written = try String(contentsOf: url, encoding: .utf8)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(written == figure.svg())
        #expect(files == ["figure.svg"])
    }
}

// MARK: - Axes

@Suite("Axis ranges")
struct PlotAxisTests {
    static let awkwardValues: [[Double]] = [
        [], [0], [-1, -2], [0, -5, .nan, .infinity], [Double.leastNonzeroMagnitude], [Double.greatestFiniteMagnitude],
        [Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude], [1e-300, 1e-299], [3, 3, 3], [1, 10],
    ]
    static let awkwardRanges: [ClosedRange<Double>?] = [nil, -1...10, 0...1, 0...0, 5...5, -Double.infinity...1, 1e-5...1e5]

    @Test(arguments: awkwardValues.indices)
    func logAxisIsAlwaysPositive(_ index: Int) {
        for fixed in Self.awkwardRanges {
            let range = PlotAxis.bounds(values: Self.awkwardValues[index], scale: .log10, fixed: fixed, targetCount: 5)
            #expect(range.lowerBound > 0 && range.upperBound.isFinite && range.lowerBound < range.upperBound,
                    "values \(Self.awkwardValues[index]), fixed \(String(describing: fixed)) → \(range)")
        }
    }

    @Test(arguments: awkwardValues.indices)
    func linearAxisIsFiniteAndNonEmpty(_ index: Int) {
        for fixed in Self.awkwardRanges {
            let range = PlotAxis.bounds(values: Self.awkwardValues[index], scale: .linear, fixed: fixed, targetCount: 5)
            #expect(range.lowerBound.isFinite && range.upperBound.isFinite && range.lowerBound < range.upperBound)
        }
    }

    @Test func logBoundsRoundOutToDecades() {
        #expect(PlotAxis.bounds(values: [0.3, 42], scale: .log10, fixed: nil, targetCount: 5) == 0.1...100)
        #expect(PlotAxis.bounds(values: [10], scale: .log10, fixed: nil, targetCount: 5) == 1...100)
        #expect(PlotAxis.bounds(values: [], scale: .log10, fixed: nil, targetCount: 5) == 1...10)
        #expect(PlotAxis.bounds(values: [0, -3], scale: .log10, fixed: nil, targetCount: 5) == 1...10)
    }

    @Test func layoutOfLogPanelsWithBadDataHasPositiveAxes() {
        let panel = PlotPanel(xScale: .log10, yScale: .log10,
                              series: [PlotSeries(label: "bad", x: [0, -1, 2], y: [0, .nan, -4])],
                              xRange: -1...0, yRange: 0...10)
        let layout = PlotPanelLayout.make(panel: panel, xValues: [0, -1, 2], yValues: [0, -4],
                                          width: 480, height: 320, reserveRight: 0)
        #expect(layout.x.lower > 0 && layout.y.lower > 0)
        #expect((layout.x.ticks + layout.y.ticks).allSatisfy { $0.value > 0 })
    }

    @Test func equalAspectGivesSameUnitsPerPixel() {
        let panel = PlotPanel.complexPlane(series: [PlotSeries(label: "λ", x: [0.9, -3], y: [0.1, 0.2], style: .points)])
        let layout = PlotPanelLayout.make(panel: panel, xValues: [0.9, -3, -1.05, 1.05], yValues: [0.1, 0.2, -1.05, 1.05],
                                          width: 480, height: 320, reserveRight: 0)
        let unitsX = (layout.x.upper - layout.x.lower) / layout.plot.width
        let unitsY = (layout.y.upper - layout.y.lower) / layout.plot.height
        #expect(abs(unitsX / unitsY - 1) < 1e-9)
        #expect(layout.x.lower <= -3 && layout.y.lower <= -1.05 && layout.y.upper >= 1.05)
    }
}
