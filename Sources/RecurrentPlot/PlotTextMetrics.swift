// MARK: - PlotTextMetrics

/// Estimates of rendered text width for a generic sans-serif font, used to size margins and
/// the legend without access to font files. Widths follow DejaVu Sans, one of the wider
/// common sans-serif fonts, so estimates err on the roomy side for Arial or Helvetica.
enum PlotTextMetrics {
    /// Approximate advance width of `text` at `fontSize` pixels.
    static func width(_ text: String, fontSize: Double) -> Double {
        var ems = 0.0
        for character in text {
            ems += advance(character)
        }
        return ems * fontSize
    }

    /// Width of a base with a superscript drawn at 75 % size (see `SVGBuilder`).
    static func width(_ base: String, superscript: String, fontSize: Double) -> Double {
        width(base, fontSize: fontSize) + width(superscript, fontSize: (fontSize * 0.75).rounded())
    }

    /// `text` shortened with a trailing "…" so that it fits in `maxWidth` (at least one character
    /// and the ellipsis are kept).
    static func truncate(_ text: String, fontSize: Double, maxWidth: Double) -> String {
        guard width(text, fontSize: fontSize) > maxWidth else { return text }
        var kept = ""
        let limit = maxWidth - width("…", fontSize: fontSize)
        for character in text {
            if !kept.isEmpty && width(kept + String(character), fontSize: fontSize) > limit { break }
            kept.append(character)
        }
        return kept + "…"
    }

    /// Advance width of one character in ems.
    private static func advance(_ character: Character) -> Double {
        switch character {
        case "0"..."9": return 0.64
        case " ", ".", ",", ":", ";", "!", "|", "'", "i", "j", "l": return 0.32
        case "-", "(", ")", "[", "]", "f", "t", "r": return 0.40
        case "m", "w", "M", "W", "@", "%": return 0.95
        case "a"..."z": return 0.60
        case "A"..."Z": return 0.72
        default: return 0.70
        }
    }
}
