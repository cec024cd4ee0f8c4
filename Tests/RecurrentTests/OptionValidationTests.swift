import Foundation
import Testing
@testable import Recurrent

/// Numbers inside settings are refused where they are parsed when they cannot train: NaN,
/// infinity, a Double that overflows Float32 weights, a value out of its range.
@Suite("Validation: option values")
struct OptionValidationTests {
    @Test(arguments: ["gaussian:nan", "gaussian:inf", "gaussian:1e300", "identity:-inf", "constant:1e39", "uniform:nan",
                      "xavier:1e300", "orthogonal:inf", "gaussian:-0.1", "gaussian:abc"])
    func initializerNumbersThatCannotMakeFloat32WeightsAreRefused(_ text: String) {
        #expect(throws: ConfigurationError.self) { try Initializer(parsing: text) }
    }

    @Test func theFloat32LimitKeepsTheLargestGaussianDrawFinite() throws {
        // 53-bit uniforms bound a Box-Muller draw by sqrt(-2 ln 2^-53) ≈ 8.57 standard deviations.
        let largestDraw = (-2 * Foundation.log(0x1.0p-53)).squareRoot()
        #expect(Float(ParameterValue.float32Limit * largestDraw).isFinite)
        #expect(try Initializer(parsing: "gaussian:1e30") == .gaussian(std: 1e30))
        let message = catchMessage { _ = try Initializer(parsing: "gaussian:1e300") }
        #expect(message.contains("gaussian:1e300") && message.contains("Float32"), "\(message)")
    }

    @Test(arguments: ["leaky_relu:nan", "leaky_relu:inf", "leaky_relu:1e300", "clipped_relu:nan", "clipped_relu:0",
                      "clipped_relu:-1", "clipped_relu:inf"])
    func activationNumbersThatCannotTrainAreRefused(_ text: String) {
        #expect(throws: ConfigurationError.self) { try Activation(parsing: text) }
    }

    @Test(arguments: ["step:10:inf", "step:10:nan", "step:10:0", "cosine:inf", "cosine:nan"])
    func scheduleFactorsMustBeFinite(_ text: String) {
        #expect(throws: ConfigurationError.self) { try LearningRateSchedule(parsing: text, totalSteps: 100) }
    }

    /// Configurations also come from checkpoint JSON and from code, past the parsers.
    @Test func configurationValidationChecksTheNumbersInside() throws {
        let base = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 4, outputs: 1)
        var bad: [ModelConfiguration] = []
        var c = base; c.activation = .leakyRelu(slope: .nan); bad.append(c)
        c = base; c.recurrentInit = .gaussian(std: 1e300); bad.append(c)
        c = base; c.inputInit = .identity(scale: .infinity); bad.append(c)
        c = base; c.biasInit = .constant(-.infinity); bad.append(c)
        c = try ModelConfiguration.preset("lstm", inputSize: 2, hiddenSize: 4, outputs: 1); c[.forgetGateBias] = .nan; bad.append(c)
        c = try ModelConfiguration.preset("indrnn", inputSize: 2, hiddenSize: 4, outputs: 1); c[.recurrentBound] = .infinity; bad.append(c)
        c = base; c.hiddenSize = Int.max / 2; bad.append(c)   // H² overflows Int: refused, not trapped
        for config in bad {
            #expect(throws: ConfigurationError.self, "\(config)") { try config.validate() }
        }
        try base.validate()
    }

    @Test func optimizerAndTrainingNumbersMustBeFinite() throws {
        for wd in [Double.nan, .infinity, -1] {
            #expect(throws: ConfigurationError.self) { try OptimizerChoice<Float>(.adam, learningRate: nil, momentum: nil, weightDecay: wd) }
        }
        var options = TrainingOptions(steps: 10, batchSize: 4)
        for (norm, value, target) in [(Double.infinity, nil, nil), (nil, Double.nan, nil), (nil, nil, Double.nan), (nil, nil, -Double.infinity)] as [(Double?, Double?, Double?)] {
            options.clipNorm = norm
            options.clipValue = value
            options.target = target
            #expect(throws: ConfigurationError.self) { try options.validate() }
        }
    }

    // MARK: - compare's per-model overrides

    @Test(arguments: ["irnn:lr=abc", "irnn:lr=nan", "irnn:lr=-1", "irnn:lr=inf", "irnn:hidden=1e300", "irnn:hidden=0",
                      "irnn:layers=2.5", "irnn:momentum=1", "irnn:clip-norm=inf", "irnn:clip-norm=-1", "irnn:optimizer=adagrad",
                      "lstm:forget-bias=nan", "indrnn:bound=inf", "indrnn:bound=0", "irnn:activation=leaky_relu:nan",
                      "irnn:recurrent-init=gaussian:1e300"])
    func modelOverridesAreCheckedWhenParsed(_ text: String) {
        #expect(throws: ConfigurationError.self) { try ModelSpec(parsing: text) }
    }

    @Test func modelOverridesReachTheRun() throws {
        var settings = ComparisonSettings(task: TaskSpec(name: .adding, length: 5), models: [], steps: 10, seeds: 1)
        settings.learningRate = 0.01
        let (optimizer, options) = try settings.training(try ModelSpec(parsing: "irnn:lr=1e-4:clip-norm=0"))
        #expect(optimizer.learningRate == 1e-4)
        #expect(options.clipNorm == nil)
        let (sgd, defaults) = try settings.training(try ModelSpec(parsing: "irnn:optimizer=sgd:momentum=0.9"))
        guard case .sgd(let o) = sgd else { Issue.record("not SGD: \(sgd)"); return }
        #expect(o.momentum == 0.9 && o.learningRate == 0.01 && defaults.clipNorm == 1)
        let task = try AddingTask(length: 5)
        #expect(try ModelSpec(parsing: "irnn:hidden=12:layers=2").configuration(for: task, hidden: 100).hiddenSize == 12)
    }

    /// A comparison refuses a model that would not fit before any run starts.
    @Test func aComparisonChecksEveryModelsMemoryFirst() throws {
        let settings = ComparisonSettings(task: TaskSpec(name: .adding, length: 5),
                                          models: [try ModelSpec(parsing: "irnn:hidden=8"), try ModelSpec(parsing: "lstm:hidden=4000")],
                                          steps: 10, seeds: 1)
        try MemoryLimit.$override.withValue(50e6) {
            do {
                try settings.check()
                Issue.record("a 4000-unit LSTM fitted in 50 MB")
            } catch let error as MemoryError {
                #expect(error.description.hasPrefix("model 'lstm:hidden=4000' would need"), "\(error)")
                #expect(error.estimate.largest?.kind == .weights)
            }
        }
    }

    // MARK: - The generator's saved state

    @Test func aGeneratorStateFromAFileIsCheckedNotTrapped() throws {
        for words in [[1, 2, 3], [1, 2, 3, 4, 5], [], [0, 0, 0, 0]] as [[UInt64]] {
            #expect(throws: SeededGenerator.InvalidState.self) { try SeededGenerator(validating: words) }
        }
        var live = SeededGenerator(seed: 7)
        _ = live.next()
        var restored = try SeededGenerator(validating: live.stateWords)
        #expect(restored.next() == live.next())
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(SeededGenerator.self, from: Data("[1,2,3]".utf8)) }
    }
}

/// The message of the error `body` throws.
func catchMessage(_ body: () throws -> Void) -> String {
    do { try body() } catch { return "\(error)" }
    return "(nothing thrown)"
}
