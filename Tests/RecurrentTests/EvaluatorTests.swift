import Foundation
import Testing
@testable import Recurrent

/// Evaluation gives the numbers it gave before it moved out of the trainer: `recurrent eval`
/// on the pinned runs, with the default and a small evaluation batch (charlm carries its state
/// across batches, so the batch changes its numbers).
@Suite(.serialized) struct EvaluatorTests {
    struct Pin: Sendable, CustomTestStringConvertible {
        var run: String
        var batch: Int
        var metric: String
        var validation: (loss: Double, metric: Double)?
        var test: (loss: Double, metric: Double)
        var testDescription: String { "\(run), batch \(batch)" }
    }

    /// Recorded with the binary of 9966136 (`eval --json`).
    static let pins: [Pin] = [
        Pin(run: "a", batch: 500, metric: "mse", validation: nil, test: (1.3469268505001832, 1.3469268505001832)),
        Pin(run: "a", batch: 3, metric: "mse", validation: nil, test: (1.3469268505001828, 1.3469268505001828)),
        Pin(run: "c", batch: 500, metric: "accuracy", validation: nil, test: (2.294845880398952, 0.057291666666666664)),
        Pin(run: "c", batch: 3, metric: "accuracy", validation: nil, test: (2.294845880398951, 0.057291666666666664)),
        Pin(run: "t", batch: 500, metric: "bpc", validation: (3.2840002431540305, 4.73781086507647),
            test: (3.2449429817646913, 4.6814631477593664)),
        Pin(run: "t", batch: 3, metric: "bpc", validation: (3.3004831425057453, 4.7615906622306605),
            test: (3.277264983847666, 4.728093939876077)),
    ]

    /// What `eval --json` prints, as far as the pins go.
    struct EvalOutput: Decodable {
        var metric: String
        var val: [String: Double]?
        var test: [String: Double]?
    }

    @Test func evalPrintsThePinnedNumbers() throws {
        let dir = try PinnedRuns.train(["a", "c", "t"])
        defer { try? FileManager.default.removeItem(at: dir) }
        for pin in Self.pins {
            let r = try CLI.run(["eval", "--checkpoint", "checkpoints/\(pin.run).safetensors", "--batch", "\(pin.batch)", "--json"], in: dir)
            try #require(r.status == 0, "\(r.output)")
            // JSONDecoder reads the printed shortest forms back exactly (JSONSerialization does not, on Linux).
            let object = try JSONDecoder().decode(EvalOutput.self, from: Data(r.stdout.utf8))
            #expect(object.metric == pin.metric)
            let test = try #require(object.test)
            #expect(test["loss"] == pin.test.loss && test[pin.metric] == pin.test.metric, "\(pin.testDescription): \(r.stdout)")
            if let v = pin.validation {
                let val = try #require(object.val)
                #expect(val["loss"] == v.loss && val[pin.metric] == v.metric, "\(pin.testDescription): \(r.stdout)")
            } else {
                #expect(object.val == nil)
            }
        }
    }
}
