// MARK: - PlotColor

/// An opaque sRGB colour used for chart series and reference lines.
///
/// The default palette is Okabe–Ito, which stays distinguishable for the common forms of
/// colour-vision deficiency. Yellow is placed last because it is hard to see on white.
public struct PlotColor: Sendable, Hashable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Parses `"#RRGGBB"` or `"RRGGBB"` (case-insensitive). Returns `nil` for anything else.
    public init?(hex: String) {
        var digits = Substring(hex)
        if digits.hasPrefix("#") { digits = digits.dropFirst() }
        guard digits.count == 6, digits.allSatisfy(\.isHexDigit),
              let value = UInt32(digits, radix: 16) else { return nil }
        self.init(red: UInt8((value >> 16) & 0xFF), green: UInt8((value >> 8) & 0xFF), blue: UInt8(value & 0xFF))
    }

    /// The colour as `"#RRGGBB"` (upper-case hex), as written into SVG attributes.
    public var hex: String {
        let symbols = Array("0123456789ABCDEF")
        var text = "#"
        for component in [red, green, blue] {
            text.append(symbols[Int(component >> 4)])
            text.append(symbols[Int(component & 0x0F)])
        }
        return text
    }

    // MARK: - Okabe–Ito palette

    public static let black = PlotColor(red: 0, green: 0, blue: 0)
    public static let orange = PlotColor(red: 0xE6, green: 0x9F, blue: 0x00)
    public static let skyBlue = PlotColor(red: 0x56, green: 0xB4, blue: 0xE9)
    public static let bluishGreen = PlotColor(red: 0x00, green: 0x9E, blue: 0x73)
    public static let yellow = PlotColor(red: 0xF0, green: 0xE4, blue: 0x42)
    public static let blue = PlotColor(red: 0x00, green: 0x72, blue: 0xB2)
    public static let vermillion = PlotColor(red: 0xD5, green: 0x5E, blue: 0x00)
    public static let reddishPurple = PlotColor(red: 0xCC, green: 0x79, blue: 0xA7)
    /// Neutral grey used for reference lines by default.
    public static let grey = PlotColor(red: 0x55, green: 0x55, blue: 0x55)

    /// Okabe–Ito colours in the order series receive them.
    public static let palette: [PlotColor] = [
        .blue, .vermillion, .bluishGreen, .reddishPurple, .orange, .skyBlue, .black, .yellow,
    ]

    /// The palette colour for the series at `index` (cycles; negative indices wrap).
    public static func palette(_ index: Int) -> PlotColor {
        let count = palette.count
        return palette[((index % count) + count) % count]
    }
}
