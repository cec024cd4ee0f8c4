// MARK: - PlotPoint

/// A point in data or pixel space.
struct PlotPoint: Equatable, Sendable {
    var x: Double
    var y: Double
}

// MARK: - PlotRect

/// An axis-aligned rectangle in pixel space (y grows downward).
struct PlotRect: Equatable, Sendable {
    var x: Double
    var y: Double
    var width: Double
    var height: Double

    var minX: Double { x }
    var minY: Double { y }
    var maxX: Double { x + width }
    var maxY: Double { y + height }

    /// The rectangle grown by `amount` on every side.
    func inset(by amount: Double) -> PlotRect {
        PlotRect(x: x + amount, y: y + amount, width: width - 2 * amount, height: height - 2 * amount)
    }

    func contains(_ point: PlotPoint) -> Bool {
        point.x >= minX && point.x <= maxX && point.y >= minY && point.y <= maxY
    }

    func intersects(_ other: PlotRect) -> Bool {
        minX <= other.maxX && other.minX <= maxX && minY <= other.maxY && other.minY <= maxY
    }

    /// Whether the segment from `a` to `b` touches the rectangle.
    func intersects(_ a: PlotPoint, _ b: PlotPoint) -> Bool {
        PlotGeometry.clip(a, b, to: self) != nil
    }
}

// MARK: - PlotGeometry

/// Pixel-space helpers for drawing polylines: clipping to the plot area and thinning
/// dense data without visible change.
enum PlotGeometry {
    /// Clips the segment `a`→`b` to `rect` (Liang–Barsky). Returns the visible part and whether
    /// its start or end was moved onto the border, or `nil` if nothing is visible.
    static func clip(_ a: PlotPoint, _ b: PlotPoint, to rect: PlotRect)
        -> (start: PlotPoint, end: PlotPoint, startClipped: Bool, endClipped: Bool)? {
        let dx = b.x - a.x, dy = b.y - a.y
        var t0 = 0.0, t1 = 1.0
        let checks: [(Double, Double)] = [
            (-dx, a.x - rect.minX), (dx, rect.maxX - a.x),
            (-dy, a.y - rect.minY), (dy, rect.maxY - a.y),
        ]
        for (p, q) in checks {
            if p == 0 {
                if q < 0 { return nil }
            } else {
                let r = q / p
                if p < 0 {
                    if r > t1 { return nil }
                    if r > t0 { t0 = r }
                } else {
                    if r < t0 { return nil }
                    if r < t1 { t1 = r }
                }
            }
        }
        let start = t0 > 0 ? PlotPoint(x: a.x + t0 * dx, y: a.y + t0 * dy) : a
        let end = t1 < 1 ? PlotPoint(x: a.x + t1 * dx, y: a.y + t1 * dy) : b
        return (start, end, t0 > 0, t1 < 1)
    }

    /// Splits a polyline into the pieces visible inside `rect`. A single point is kept if inside.
    static func clip(polyline points: [PlotPoint], to rect: PlotRect) -> [[PlotPoint]] {
        if points.count == 1 { return rect.contains(points[0]) ? [points] : [] }
        var pieces: [[PlotPoint]] = []
        var current: [PlotPoint] = []
        for index in points.indices.dropLast() {
            guard let visible = clip(points[index], points[index + 1], to: rect) else {
                if !current.isEmpty { pieces.append(current); current = [] }
                continue
            }
            if visible.startClipped || current.isEmpty {
                if !current.isEmpty { pieces.append(current) }
                current = [visible.start]
            }
            current.append(visible.end)
            if visible.endClipped { pieces.append(current); current = [] }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    /// Thins a polyline whose x advances slowly: within each `bucketWidth`-pixel column of
    /// consecutive points only the first, last, lowest and highest are kept (in order), which
    /// draws the same picture. Short polylines are returned unchanged.
    static func decimate(_ points: [PlotPoint], bucketWidth: Double = 0.5) -> [PlotPoint] {
        guard points.count > 8 else { return points }
        var kept: [PlotPoint] = []
        kept.reserveCapacity(points.count)
        var start = 0
        while start < points.count {
            let bucket = (points[start].x / bucketWidth).rounded(.down)
            var end = start + 1, lowest = start, highest = start
            while end < points.count && (points[end].x / bucketWidth).rounded(.down) == bucket {
                if points[end].y < points[lowest].y { lowest = end }
                if points[end].y > points[highest].y { highest = end }
                end += 1
            }
            var previous = -1
            for index in [start, lowest, highest, end - 1].sorted() where index != previous {
                kept.append(points[index])
                previous = index
            }
            start = end
        }
        return kept
    }
}
