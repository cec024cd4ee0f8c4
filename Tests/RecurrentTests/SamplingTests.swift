import Foundation
import Testing
@testable import Recurrent

/// Sampling draws the characters it drew before it moved into the library: `recurrent sample`
/// on the pinned charlm run, seeded, at three temperatures.
@Suite(.serialized) struct SamplingTests {
    /// Recorded with the binary of 9966136.
    static let pins: [(arguments: [String], text: String)] = [
        (["--length", "60", "--seed", "3", "--temperature", "0.7", "--prime", "the "],
         "the rpdljidrxdxrqtraaawrokl wyowcj vsdyvjnehfjhlohofju pnfvp too"),
        (["--length", "60", "--seed", "3", "--temperature", "0"], String(repeating: "u", count: 60)),
        (["--length", "40", "--seed", "11"], "daejaglzpe.gv.hu adzcnfyzfafwsruvec ewhq"),
    ]

    @Test func sampleDrawsThePinnedText() throws {
        let dir = try PinnedRuns.train(["t"])
        defer { try? FileManager.default.removeItem(at: dir) }
        for pin in Self.pins {
            let r = try CLI.run(["sample", "--checkpoint", "checkpoints/t.safetensors"] + pin.arguments, in: dir)
            try #require(r.status == 0, "\(r.output)")
            #expect(r.stdout == pin.text + "\n", "\(pin.arguments)")
        }
    }
}
