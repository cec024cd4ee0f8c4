import Foundation

/// A JSON Lines metrics log (`train --log`, each comparison run's `log.jsonl`): one JSON
/// object per line, the fields of `StepRecord` / `EvaluationRecord` and a `kind` ("step" or
/// "evaluation"). Lines are appended as they come, so a log survives an interrupted run.
public final class MetricsLog: @unchecked Sendable {
    let handle: FileHandle
    public let url: URL
    let encoder: JSONEncoder

    /// Opens `url` for appending (creating it, and its folder, if needed), or empties it first
    /// when `truncate` (a fresh run). Throws a `DataError` naming the file.
    public init(url: URL, truncate: Bool = false) throws(DataError) {
        self.url = url
        let fm = FileManager.default
        do { try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true) } catch {
            throw DataError(.io, "cannot create the log file's folder (\(error.localizedDescription))", path: url.path,
                            fix: "check that the folder can be created and written")
        }
        if truncate || !fm.fileExists(atPath: url.path) {
            guard fm.createFile(atPath: url.path, contents: nil) else {
                throw DataError(.io, "cannot create the log file", path: url.path, fix: "check that the folder exists and is writable")
            }
        }
        do {
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch {
            throw DataError(.io, "cannot open the log file for writing (\(error.localizedDescription))", path: url.path,
                            fix: "check the file's permissions")
        }
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    }

    deinit { try? handle.close() }

    /// A record's own fields plus "kind".
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

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// The evaluation records of a log file (for curves of resumed runs).
    public static func evaluations(in url: URL) -> [EvaluationRecord] {
        guard let bytes = try? FileIO.read(url.path, limit: 1 << 32, what: "metrics logs", fix: ""), let text = String(bytes: bytes, encoding: .utf8) else { return [] }
        let decoder = Self.decoder
        return text.split(separator: "\n").compactMap { line in
            guard line.contains("\"kind\":\"evaluation\"") else { return nil }
            return try? decoder.decode(EvaluationRecord.self, from: Data(line.utf8))
        }
    }

    /// The run time the log's last record (of either kind) was written at: where a resumed
    /// run's clock continues from. nil when the log is missing or holds no record.
    public static func lastSeconds(in url: URL) -> Double? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        struct Timed: Decodable { var seconds: Double }
        let decoder = Self.decoder
        return text.split(separator: "\n").reversed().lazy.compactMap { try? decoder.decode(Timed.self, from: Data($0.utf8)).seconds }.first
    }
}
