import Foundation
import Recurrent

/// How a run was asked for, after defaults: stored as JSON in every checkpoint's metadata
/// (`recurrent.train`), so `--resume FILE` needs no other option, `eval` finds the task,
/// and the file documents itself. A resumed run merges: explicit options, then this.
struct TrainSpec: Codable, Sendable {
    var task: TaskSpec
    var optimizer: OptimizerSpec
    var run: RunSpec

    static let metadataKey = "recurrent.train"
    /// The charlm vocabulary (every character of the training text, sorted by code point).
    static let vocabularyKey = "recurrent.vocabulary"

    var json: String { String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self) }

    /// The spec stored in a checkpoint's metadata, if any.
    static func stored(in metadata: [String: String]) -> TrainSpec? {
        metadata[metadataKey].flatMap { try? JSONDecoder().decode(TrainSpec.self, from: Data($0.utf8)) }
    }
}

/// The run's length, batch and cadence.
struct RunSpec: Codable, Sendable {
    var steps: Int
    var batch: Int
    var seed: UInt64
    var evalEvery: Int
    var logEvery: Int
    var checkpointEvery: Int
    var target: Double?
}
