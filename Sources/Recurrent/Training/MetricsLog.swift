import Foundation

/// A JSON Lines metrics log: one JSON object per line, each with a `kind`
/// ("step" or "evaluation") and the fields of `StepRecord` / `EvaluationRecord`.
/// Lines are appended and flushed as they come, so a log survives an interrupted run.
public final class MetricsLog: @unchecked Sendable {
    let handle: FileHandle
    public let url: URL
    let encoder: JSONEncoder

    /// Opens `url` for appending (creating it and its folder if needed).
    public init(url: URL, truncate: Bool = false) throws {
        self.url = url
        let fm = FileManager.default
        try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if truncate || !fm.fileExists(atPath: url.path) { _ = fm.createFile(atPath: url.path, contents: nil) }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    }

    deinit { try? handle.close() }

    struct Tagged<R: Encodable>: Encodable {
        var kind: String
        var record: R
        func encode(to encoder: any Encoder) throws {
            try record.encode(to: encoder)
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(kind, forKey: Key(stringValue: "kind"))
        }
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }

    public func append(_ record: StepRecord) throws { try write(Tagged(kind: "step", record: record)) }
    public func append(_ record: EvaluationRecord) throws { try write(Tagged(kind: "evaluation", record: record)) }

    func write(_ value: some Encodable) throws {
        var data = try encoder.encode(value)
        data.append(0x0A)
        try handle.write(contentsOf: data)
    }

    /// The evaluation records of a log file (for curves of resumed runs).
    public static func evaluations(in url: URL) -> [EvaluationRecord] {
        guard let bytes = try? FileIO.read(url.path, limit: 1 << 32, what: "metrics logs", fix: ""), let text = String(bytes: bytes, encoding: .utf8) else { return [] }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return text.split(separator: "\n").compactMap { line in
            guard line.contains("\"kind\":\"evaluation\"") else { return nil }
            return try? decoder.decode(EvaluationRecord.self, from: Data(line.utf8))
        }
    }
}
