import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

// MARK: - SVG parsing for tests

/// One element of a parsed SVG document, with the text directly inside it.
struct ParsedSVGElement {
    var name: String
    var attributes: [String: String]
    var text: String
    /// Names of the `class` attributes of the enclosing elements, outermost first.
    var ancestorClasses: [String]
}

/// Parses SVG text with Foundation's `XMLParser`; `nil` if it is not well-formed XML.
func parseSVG(_ svg: String) -> [ParsedSVGElement]? {
    let collector = SVGElementCollector()
    let parser = XMLParser(data: Data(svg.utf8))
    parser.delegate = collector
    guard parser.parse(), collector.failed == false else { return nil }
    return collector.elements
}

private final class SVGElementCollector: NSObject, XMLParserDelegate {
    var elements: [ParsedSVGElement] = []
    var open: [Int] = []
    var failed = false

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        let classes = open.compactMap { elements[$0].attributes["class"] }
        elements.append(ParsedSVGElement(name: elementName, attributes: attributeDict, text: "", ancestorClasses: classes))
        open.append(elements.count - 1)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        _ = open.popLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let index = open.last { elements[index].text += string }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        failed = true
    }
}

extension Array where Element == ParsedSVGElement {
    /// All `<text>` contents (including tspans merged into their parent's text).
    var texts: [String] { filter { $0.name == "text" || $0.name == "title" }.map(\.text) }

    /// Elements with the given name and `class`.
    func elements(_ name: String, class className: String) -> [ParsedSVGElement] {
        filter { $0.name == name && $0.attributes["class"] == className }
    }
}

/// Number of sub-paths (`M` commands) in an SVG path `d` attribute.
func subpathCount(_ d: String) -> Int {
    d.filter { $0 == "M" }.count
}
