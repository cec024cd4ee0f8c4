extension Collection where Element: FloatingPoint {
    /// The offset (0-based, from `startIndex`) of the largest element as PyTorch's
    /// `argmax` picks it: the first NaN when there is one (NaN counts as the largest, so a
    /// NaN is not skipped over in favour of a finite value), else the first of the largest
    /// values; nil when the collection is empty.
    public func argmax() -> Int? {
        var best: Element?
        var bestOffset: Int?
        for (offset, value) in enumerated() {
            if value.isNaN { return offset }
            if best == nil || value > best! {
                best = value
                bestOffset = offset
            }
        }
        return bestOffset
    }
}
