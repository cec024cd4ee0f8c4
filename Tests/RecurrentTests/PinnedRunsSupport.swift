import Foundation
import Testing
@testable import Recurrent

/// Three tiny `recurrent train` runs whose checkpoints are pinned by GoldenCheckpointTests'
/// settings (same seed, same bits), so that what `eval`, `sample` and `predict` print for them
/// can be pinned too: numbers recorded from the binary of 9966136, before evaluation, sampling
/// and prediction moved from the command line into the library. A change of any of those
/// numbers is a change of behaviour, not of layout.
enum PinnedRuns {
    static let text = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 40)

    /// adding (irnn), copy (gru), charlm (2-layer lstm, carried state) and a 2-layer lstm on
    /// adding for `predict`; checkpoints `checkpoints/{a,c,t,p}.safetensors` in `dir`.
    static let runs: [(name: String, arguments: [String])] = [
        ("a", ["--task", "adding", "--length", "6", "--cell", "irnn", "--hidden", "6", "--batch", "8", "--limit", "40"]),
        ("c", ["--task", "copy", "--length", "4", "--cell", "gru", "--hidden", "7", "--batch", "8", "--limit", "40"]),
        ("t", ["--task", "charlm", "--data", "text.txt", "--cell", "lstm", "--layers", "2", "--hidden", "8", "--bptt", "6",
               "--batch", "4", "--limit", "600"]),
        ("p", ["--task", "adding", "--length", "5", "--cell", "lstm", "--layers", "2", "--hidden", "5", "--batch", "8", "--limit", "40"]),
    ]

    /// Trains the runs named in `names` (30 steps, seed 7) in a fresh directory.
    static func train(_ names: Set<String>) throws -> URL {
        let dir = try CLI.directory()
        try text.write(to: dir.appendingPathComponent("text.txt"), atomically: true, encoding: .utf8)
        for run in runs where names.contains(run.name) {
            let r = try CLI.run(["train"] + run.arguments + ["--steps", "30", "--seed", "7", "--name", run.name, "--json"], in: dir)
            try #require(r.status == 0, "\(run.name): \(r.output)")
        }
        return dir
    }
}
