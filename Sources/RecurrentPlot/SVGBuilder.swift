// MARK: - SVGBuilder

/// Accumulates SVG markup. Every attribute value and text passed in is escaped here, so
/// callers never write raw user text into the document.
struct SVGBuilder {
    /// The markup written so far.
    private(set) var output = ""

    /// Opens `<name …>`; attributes are written in the order given.
    mutating func open(_ name: String, _ attributes: [(String, String)]) {
        output += "<" + name + Self.attributes(attributes) + ">\n"
    }

    /// Closes `</name>`.
    mutating func close(_ name: String) {
        output += "</" + name + ">\n"
    }

    /// Writes an empty element `<name …/>`.
    mutating func empty(_ name: String, _ attributes: [(String, String)]) {
        output += "<" + name + Self.attributes(attributes) + "/>\n"
    }

    /// Writes `<text …>content</text>` (or another element name) with escaped content.
    mutating func text(element name: String = "text", _ content: String, _ attributes: [(String, String)]) {
        output += "<" + name + Self.attributes(attributes) + ">" + SVGEscaping.escape(content) + "</" + name + ">\n"
    }

    /// Writes a `<text>` whose content is `base` followed by `superscript` raised and smaller,
    /// e.g. 10 with exponent -30. Uses `dy` (not `baseline-shift`), which every renderer supports.
    mutating func text(_ base: String, superscript: String, fontSize: Double, _ attributes: [(String, String)]) {
        let small = number((fontSize * 0.75).rounded())
        let shift = number(-(fontSize * 0.4).rounded())
        output += "<text" + Self.attributes(attributes) + ">" + SVGEscaping.escape(base)
            + "<tspan dy=\"\(shift)\" font-size=\"\(small)\">" + SVGEscaping.escape(superscript) + "</tspan></text>\n"
    }

    /// A coordinate or length, rounded to 0.01 px.
    func number(_ value: Double) -> String {
        PlotNumberFormat.coordinate(value)
    }

    private static func attributes(_ attributes: [(String, String)]) -> String {
        var text = ""
        for (key, value) in attributes {
            text += " " + key + "=\"" + SVGEscaping.escape(value) + "\""
        }
        return text
    }
}
