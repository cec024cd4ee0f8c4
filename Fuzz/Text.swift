// libFuzzer target: bytes -> CharacterText (strict UTF-8 decoding, vocabulary, splits), checked
// against the standard library's UTF-8 validation; accepted texts round-trip through the
// vocabulary. Built and run by scripts/fuzz.sh (not part of the package build).
@testable import Recurrent

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let reference = String(validating: bytes, as: UTF8.self)
    let scalars = try? UTF8Decoding.scalars(bytes, path: "fuzz.txt")
    precondition((scalars == nil) == (reference == nil), "UTF-8 validity differs from the standard library's")
    if let scalars, let reference { precondition(scalars == Array(reference.unicodeScalars)) }
    // A small vocabulary limit so that the limit itself is exercised.
    let text: CharacterText
    do { text = try CharacterText(bytes: bytes, source: "fuzz.txt", maximumVocabulary: 64) } catch {
        precondition(!error.description.isEmpty)  // the message is built (its formatting is code too)
        return 0
    }
    precondition(text.vocabulary.count <= 64)
    let ids = (text.train + text.validation + text.test).map(Int.init)
    guard let decoded = try? text.vocabulary.decode(ids) else { preconditionFailure("ids outside the vocabulary") }
    precondition(Array(decoded.unicodeScalars) == scalars, "the text does not survive its vocabulary")
    precondition((try? text.vocabulary.encode(decoded)) == ids)
    _ = try? text.batches(.train, streams: 1 + size % 3, bptt: 1 + size % 7)
    return 0
}
