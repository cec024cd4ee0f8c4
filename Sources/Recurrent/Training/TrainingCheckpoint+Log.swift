import Foundation

// MARK: - The metrics log of a resumed run

extension TrainingCheckpoint {
    /// Drops the records of steps after `step` from the JSON Lines log at `url`, and any line
    /// that is not a complete record (one cut short by a kill), so that a run resumed at
    /// `step` logs each later step once. A killed run has usually logged steps past its last
    /// save; without this, their records would appear twice and a comparison's curve (read
    /// back from the log) would differ from an uninterrupted run's.
    ///
    /// The file is rewritten (atomically) only when something is dropped; a missing file is
    /// left missing. Works on any JSON Lines file whose records carry an integer `step`.
    /// - Returns: the number of lines dropped.
    @discardableResult
    public static func discardLogRecords(after step: Int, in url: URL) throws(DataError) -> Int {
        guard FileIO.isFile(url.path) else { return 0 }
        let bytes = try FileIO.read(url.path, limit: 1 << 32, what: "metrics logs",
                                    fix: "move the log aside, or resume with a new log file")
        var kept: [UInt8] = []
        kept.reserveCapacity(bytes.count)
        var dropped = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
            let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            if let recorded = object?["step"] as? Int, recorded <= step {
                kept += line
                kept.append(0x0A)
            } else {
                dropped += 1
            }
        }
        if dropped > 0 || kept.count != bytes.count { try FileIO.write(kept, to: url.path) }
        return dropped
    }
}
