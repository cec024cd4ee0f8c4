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
        // c (GRU, H = 7): session 10, the gates' last h % 8 units by the 8-lane polynomials instead of libm.
        Pin(run: "c", batch: 500, metric: "accuracy", validation: nil, test: (2.294845878878817, 0.057291666666666664)),
        Pin(run: "c", batch: 3, metric: "accuracy", validation: nil, test: (2.294845878878819, 0.057291666666666664)),
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

    /// The library's `Evaluator`, with no optimizer, on the checkpoints: the same numbers.
    @Test func theEvaluatorComputesThePinnedNumbers() throws {
        let dir = try PinnedRuns.train(["a", "c", "t"])
        defer { try? FileManager.default.removeItem(at: dir) }
        for pin in Self.pins {
            let url = dir.appendingPathComponent("checkpoints/\(pin.run).safetensors")
            let loaded = try Checkpoint.load(from: url)
            var spec = try #require(TrainSpec.stored(in: loaded.metadata)).task
            if spec.name == .charlm { spec.data = dir.appendingPathComponent("text.txt").path }
            let records = try loaded.model.evaluate(on: try spec.makeTask(), batchSize: pin.batch, step: 30)
            let test = try #require(records.first { $0.split == .test })
            #expect(test.loss == pin.test.loss && test.metric == pin.test.metric && test.metricName.rawValue == pin.metric && test.step == 30,
                    "\(pin.testDescription)")
            let validation = records.first { $0.split == .validation }
            #expect(validation.map { ($0.loss, $0.metric) } ?? (0, 0) == pin.validation ?? (0, 0), "\(pin.testDescription)")
        }
    }

    /// The trainer's evaluations are the Evaluator's, at the trainer's step.
    @Test func theTrainerEvaluatesThroughTheEvaluator() throws {
        let task = try AddingTask(length: 5, testSize: 40)
        var rng = SeededGenerator(seed: 2)
        let config = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 5, outputs: 1)
        let model = try RecurrentModel<RNNCell<Float>>(config, using: &rng)
        var options = TrainingOptions(steps: 3, batchSize: 4)
        options.evaluationBatchSize = 7
        var trainer = try Trainer(model: model, optimizer: try OptimizerChoice(.adam, learningRate: 0.01, momentum: nil, weightDecay: nil),
                                  task: task, options: options, configuration: config, seed: 9)
        _ = try trainer.run(checkpoint: nil)
        let fromTrainer = try trainer.evaluate(.test)
        let fromEvaluator = try Evaluator(model: trainer.model, task: task, batchSize: 7).evaluate(.test, step: 3)
        #expect(fromTrainer == fromEvaluator)
    }

    @Test func aModelThatDoesNotFitTheTaskIsRefused() throws {
        var rng = SeededGenerator(seed: 1)
        let model = try RecurrentModel<RNNCell<Float>>(try ModelConfiguration.preset("irnn", inputSize: 3, hiddenSize: 4, outputs: 1), using: &rng)
        #expect(throws: ConfigurationError.self) { try Evaluator(model: model, task: try AddingTask(length: 5)) }
        #expect(throws: ConfigurationError.self) { try AnyRecurrentModel(model).evaluate(on: try CopyTask(length: 3)) }
    }
}
