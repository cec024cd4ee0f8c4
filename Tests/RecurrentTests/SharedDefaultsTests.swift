import Foundation
import Testing
@testable import Recurrent

/// One table of defaults (`TrainingDefaults`, `TaskSpec.Defaults`): `train` and `compare`
/// resolve the same task, model, optimizer and run when given nothing but what they must
/// differ in (compare evaluates every `comparisonEvalEvery` steps, train at the end).
@Suite struct SharedDefaultsTests {
    @Test func theTableIsTrainsDocumentedDefaults() {
        let d = TrainSpec.defaults
        #expect(d.task == TaskSpec(name: .adding, length: 50))
        #expect(d.optimizer == OptimizerSpec(kind: .adam, learningRate: nil, momentum: nil, nesterov: false, weightDecay: nil,
                                             clipNorm: 1, clipValue: nil, schedule: "constant"))
        #expect(d.run == RunSpec(steps: 3000, batch: 32, seed: 1, evalEvery: 0, logEvery: 10, checkpointEvery: 1000, target: nil))
        #expect(TrainingDefaults.hidden == 64 && TrainingDefaults.layers == 1 && TrainingDefaults.preset == "irnn")
        #expect(TaskSpec(name: .charlm).resolved().bptt == 50 && TaskSpec(name: .smnist).resolved().validationFraction == 0.05)
        #expect(TaskSpec(name: .pmnist).resolved().permutationSeed == MNISTVariant.defaultPermutationSeed)
        #expect(TaskSpec(name: .tensors).resolved().validationFraction == 0)
    }

    /// A comparison's run of a preset is the defaults' spec and the defaults' model.
    @Test func aComparisonsRunResolvesToTheDefaults() throws {
        let irnn = try ModelSpec(parsing: TrainingDefaults.preset)
        let settings = ComparisonSettings(task: TaskSpec(name: .adding).resolved(), models: [irnn])
        var spec = try settings.spec(for: irnn, seed: TrainingDefaults.seed)
        #expect(spec.run.evalEvery == TrainingDefaults.comparisonEvalEvery)
        spec.run.evalEvery = TrainingDefaults.evalEvery
        #expect(spec == TrainSpec.defaults)
        let task = try AddingTask(length: 50)
        #expect(try irnn.configuration(for: task) == ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 64, outputs: 1))
    }

    /// Through the binary: what each command stored in its checkpoint (`recurrent.train` and
    /// the model's configuration) when given only a step count and a test-set limit.
    @Test func trainAndCompareStoreTheSameResolvedSpec() throws {
        let dir = try CLI.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = try CLI.run(["train", "--steps", "2", "--limit", "20", "--name", "t", "--json"], in: dir)
        try #require(train.status == 0, "\(train.output)")
        let compare = try CLI.run(["compare", "--models", "irnn", "--steps", "2", "--limit", "20", "--report", "out"], in: dir)
        try #require(compare.status == 0, "\(compare.output)")
        let fileA = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("checkpoints/t.safetensors"))
        let fileB = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("out/runs/irnn-seed1/checkpoint.safetensors"))
        let a = fileA.metadata, b = fileB.metadata
        var fromTrain = try #require(TrainSpec.stored(in: a)), fromCompare = try #require(TrainSpec.stored(in: b))
        #expect(fromTrain.run.evalEvery == 0 && fromCompare.run.evalEvery == 100)
        fromTrain.run.evalEvery = 0
        fromCompare.run.evalEvery = 0
        #expect(fromTrain == fromCompare)
        var expected = TrainSpec.defaults
        expected.task.limit = 20
        expected.run.steps = 2
        #expect(fromTrain == expected)
        #expect(try Checkpoint.configuration(of: fileA) == Checkpoint.configuration(of: fileB), "the same model")
        #expect(try Checkpoint.configuration(of: fileA) == ModelConfiguration.preset(TrainingDefaults.preset, inputSize: 2,
                                                                                    hiddenSize: TrainingDefaults.hidden, outputs: 1))
        #expect(try CLI.sameTensors(dir.appendingPathComponent("checkpoints/t.safetensors"),
                                    dir.appendingPathComponent("out/runs/irnn-seed1/checkpoint.safetensors")),
                "the same seed trains the same bits in both commands")
    }

    /// The shared options are the same options: both commands accept them and show the same
    /// default in their help.
    @Test func bothCommandsShowTheSharedDefaults() throws {
        let dir = try CLI.directory()
        let train = try CLI.run(["train", "--help"], in: dir), compare = try CLI.run(["compare", "--help"], in: dir)
        for text in ["(default: 3000", "(default: 32)", "(default: 64)", "(default: adam)", "(default: 50)", "--perm-seed", "--clip-value", "--momentum",
                     "--log-every", "--checkpoint-every", "--threads", "--epochs", "--layers"] {
            #expect(train.stdout.contains(text) && compare.stdout.contains(text), "\(text)")
        }
    }
}
