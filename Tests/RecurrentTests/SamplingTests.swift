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

    /// The library's sampling on the checkpoint: the same characters.
    @Test func theLibraryDrawsThePinnedText() throws {
        let dir = try PinnedRuns.train(["t"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let loaded = try Checkpoint.load(from: dir.appendingPathComponent("checkpoints/t.safetensors"))
        let vocabulary = CharacterVocabulary(try #require(loaded.metadata[TrainSpec.vocabularyKey]).unicodeScalars)
        let ids = try loaded.model.sample(prime: try vocabulary.encode("the "), length: 60, vocabularySize: vocabulary.count,
                                          temperature: 0.7, seed: 3)
        #expect("the " + (try vocabulary.decode(ids)) == Self.pins[0].text)
    }

    @Test func temperatureZeroIsTheArgMaxAndDrawsNothing() {
        var rng = SeededGenerator(seed: 4)
        let before = rng
        #expect(TemperatureSampling.draw([0.5, 2, -1, 2], temperature: 0, using: &rng) == 1)
        #expect(rng.stateWords == before.stateWords)
    }

    /// softmax([0, ln 3]) = (1/4, 3/4) at temperature 1; at temperature ln 3 / ln 1.5 the
    /// logits become (0, ln 1.5): (0.4, 0.6). 20000 seeded draws land within 0.01.
    @Test(arguments: [(1.0, 0.75), (log(3) / log(1.5), 0.6)])
    func drawsFollowTheTemperedSoftmax(_ temperature: Double, _ expected: Double) {
        var rng = SeededGenerator(seed: 11)
        let logits: [Float] = [0, Float(log(3.0))]
        let ones = (0..<20_000).filter { _ in TemperatureSampling.draw(logits, temperature: temperature, using: &rng) == 1 }.count
        #expect(abs(Double(ones) / 20_000 - expected) < 0.01, "\(ones)")
    }

    /// A finite model whose state overflows: no draw from NaN, an error that counts the
    /// characters fed and advises a shorter sequence (in the library's words).
    @Test func overflowingOutputsStopTheSamplingWithAnError() throws {
        var rng = SeededGenerator(seed: 1)
        var config = try ModelConfiguration.preset("irnn", inputSize: 3, hiddenSize: 4, outputs: 3, readout: .everyStep)
        config.recurrentInit = .identity(scale: 1e30)
        config.inputInit = .constant(1)
        let model = try RecurrentModel<RNNCell<Float>>(config, using: &rng)
        #expect(try model.sample(prime: [0], length: 1, vocabularySize: 3, temperature: 1, using: &rng).count == 1, "one step is finite")
        do {
            _ = try model.sample(prime: [0, 1, 2], length: 5, vocabularySize: 3, temperature: 1, using: &rng)
            Issue.record("drew from non-finite logits")
        } catch {
            #expect(error.tokens == 3 && error.remedies == [.shorterSequence])
            #expect(error.description.contains("NaN or infinite after 3 characters") && !error.description.contains("--"), "\(error)")
        }
    }
}
