import Foundation
import Testing
@testable import Recurrent

/// A cell owns everything about itself: every registered cell declares a layout the unroller,
/// checkpoints and configurations can use, is recognised from its tensors alone, round-trips
/// through the configuration JSON, opens through `AnyRecurrentModel`, and is named nowhere
/// outside its own file and the registry.
@Suite("Cells: the registry and what each cell declares")
struct CellRegistryTests {
    /// The first preset of a cell: its default setup.
    static func defaultPreset(_ kind: CellKind) -> String { CellRegistry.cell(kind).presets[0].name }

    @Test(arguments: CellKind.allCases)
    func everyCellDeclaresALayoutTheUnrollerCanUse(_ kind: CellKind) throws {
        let type = CellRegistry.cell(kind)
        let tensors = type.tensors
        #expect(type.kind == kind)
        #expect(Set(tensors.map(\.name)).count == tensors.count, "tensor names are unique")
        #expect(tensors.first?.role == .inputWeight && tensors.first?.rows == .gates && tensors.first?.cols == .inputs,
                "tensor 0 is the input weight [G*H, I]")
        #expect(tensors.filter { $0.role == .inputWeight }.count == 1)
        let biases = tensors.filter { $0.role == .inputBias }
        #expect(biases.count == 1 && biases[0].rows == .one && biases[0].cols == .gates, "one input bias [1, G*H]")
        #expect(type.gateNames.isEmpty || type.gateNames.count == type.gateCount)
        #expect(!type.presets.isEmpty)
        for preset in type.presets { try type.validate(preset.settings) }
        for p in type.hyperparameters where p.defaultValue != nil {
            #expect(type.presets[0].settings.hyperparameters[p.key] == p.defaultValue, "\(p.key): the default preset states its default")
        }
        // Fresh parameters have the declared shapes, in the first layer and above it.
        let config = try ModelConfiguration.preset(Self.defaultPreset(kind), inputSize: 3, hiddenSize: 4, layers: 2, outputs: 2)
        let shapes = config.parameterShapes
        var rng = SeededGenerator(seed: 1)
        let model = try AnyRecurrentModel(config, using: &rng)
        struct Shapes: ModelVisitor {
            func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> [(String, Int, Int)] where Cell.Scalar == Float {
                var out: [(String, Int, Int)] = []
                model.forEachParameter { _, name, m in out.append((name, m.rows, m.cols)) }
                return out
            }
        }
        let actual = try model.visit(Shapes())
        #expect(actual.map(\.0) == shapes.map(\.name))
        #expect(actual.map(\.1) == shapes.map(\.rows) && actual.map(\.2) == shapes.map(\.cols))
        #expect(Double(actual.reduce(0) { $0 + $1.1 * $1.2 }) == config.parameterCount)
    }

    @Test func presetNamesAndHyperparameterKeysAreUniqueAcrossCells() {
        let names = CellRegistry.presets.flatMap { [$0.preset.name] + $0.preset.aliases }
        #expect(Set(names).count == names.count, "\(names)")
        let kinds = CellKind.allCases.map(\.rawValue)
        #expect(Set(kinds).count == kinds.count)
        let keys = CellRegistry.cells.flatMap { $0.hyperparameters.map(\.key) }
        let options = CellRegistry.cells.flatMap { $0.hyperparameters.map(\.option) }
        #expect(Set(keys).count == keys.count && Set(options).count == options.count, "\(keys) \(options)")
        #expect(Set(options).isDisjoint(with: ModelSpec.commonOptions), "a hyper-parameter must not shadow a compare option")
    }

    /// A file saved without any metadata (as PyTorch's `save_file(state_dict)` writes it) is
    /// read as the cell that wrote it, with its sizes: H = 1 is where IndRNN's u [1] and an
    /// RNN's W [1, 1] are closest.
    @Test(arguments: CellKind.allCases, [1, 3])
    func everyCellIsRecognisedFromItsTensorsAlone(_ kind: CellKind, _ hidden: Int) throws {
        let config = try ModelConfiguration.preset(Self.defaultPreset(kind), inputSize: 2, hiddenSize: hidden, layers: 2, outputs: 3)
        var rng = SeededGenerator(seed: 2)
        var file = try AnyRecurrentModel(config, using: &rng).visit(CheckpointValidationTests.StateDict())
        file.metadata = [:]
        let inferred = try Checkpoint.configuration(of: file)
        #expect(inferred.cell == kind && inferred.inputSize == 2 && inferred.hiddenSize == hidden && inferred.layers == 2
                && inferred.outputs == 3)
        let loaded = try Checkpoint.model(from: file, configuration: inferred)
        #expect(loaded.cellKind == kind)
    }

    @Test func aFileThatFitsNoCellSaysWhatEachCellExpects() throws {
        func t(_ shape: [Int]) -> SafeTensor { SafeTensor(floats: [Float](repeating: 0, count: shape.reduce(1, *)), shape: shape) }
        let file = SafeTensorsFile(tensors: ["rnn.weight_ih_l0": t([10, 2]), "rnn.weight_hh_l0": t([5, 5]), "rnn.bias_ih_l0": t([10]),
                                             "rnn.bias_hh_l0": t([10]), "head.weight": t([1, 5]), "head.bias": t([1])])
        let message = catchMessage { _ = try Checkpoint.configuration(of: file) }
        #expect(message.contains("fit no cell") && message.contains("rnn.weight_hh_l0 [5, 5]")
                && message.contains("lstm: weight_ih [4H, I], weight_hh [4H, H], bias_ih [4H], bias_hh [4H]")
                && message.contains("indrnn: weight_ih [H, I], weight_hh [H]") && message.contains("metadata 'cell'"), "\(message)")
    }

    @Test(arguments: CellKind.allCases)
    func theConfigurationJSONKeepsTheCellAndItsHyperparameters(_ kind: CellKind) throws {
        var config = try ModelConfiguration.preset(Self.defaultPreset(kind), inputSize: 2, hiddenSize: 3, outputs: 1)
        for p in config.cellType.hyperparameters { config[p] = 0.5 }
        let decoded = try JSONDecoder().decode(ModelConfiguration.self, from: try JSONEncoder().encode(config))
        #expect(decoded == config)
        let object = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(config)) as? [String: Any])
        #expect(object["cell"] as? String == kind.rawValue)
        for p in config.cellType.hyperparameters { #expect(object[p.key] as? Double == 0.5, "\(p.key) at the top level") }
    }

    @Test func onlyRegisteredCellKindsExist() throws {
        #expect(CellKind(rawValue: "transformer") == nil)
        #expect(CellKind(rawValue: "lstm") == .lstm)
        let json = #"{"cell":"transformer","activation":{"tanh":{}},"inputSize":1,"hiddenSize":1,"layers":1,"outputs":1,"readout":"last","inputInit":{"zeros":{}},"recurrentInit":{"zeros":{}},"biasInit":{"zeros":{}}}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ModelConfiguration.self, from: Data(json.utf8)) }
    }

    @Test func settingsACellDoesNotHaveAreRefusedNamingTheCellsThatHaveThem() throws {
        var rnn = try ModelConfiguration.preset("rnn", inputSize: 1, hiddenSize: 2, outputs: 1)
        rnn[.forgetGateBias] = 1
        #expect(catchMessage { try rnn.validate() } == "a forget-gate bias applies to lstm only, not rnn")
        rnn.hyperparameters = ["nonsense": 1]
        #expect(catchMessage { try rnn.validate() }.contains("unknown cell hyper-parameter 'nonsense'"))
        var indrnn = try ModelConfiguration.preset("indrnn", inputSize: 1, hiddenSize: 2, outputs: 1)
        indrnn[.recurrentBound] = -1
        #expect(catchMessage { try indrnn.validate() } == "the recurrent bound must be a finite positive number, got -1.0")
        var lstm = try ModelConfiguration.preset("lstm", inputSize: 1, hiddenSize: 2, outputs: 1)
        lstm.activation = .relu
        let message = catchMessage { try lstm.validate() }
        #expect(message.hasPrefix("lstm uses tanh by definition") && message.contains("irnn") && message.contains("indrnn"), "\(message)")
    }

    @Test(arguments: CellKind.allCases)
    func anyRecurrentModelOpensTheModelOfEveryCell(_ kind: CellKind) throws {
        let config = try ModelConfiguration.preset(Self.defaultPreset(kind), inputSize: 2, hiddenSize: 3, outputs: 1)
        var rng = SeededGenerator(seed: 4)
        let model = try AnyRecurrentModel(config, using: &rng)
        struct Kind: ModelVisitor {
            func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> CellKind where Cell.Scalar == Float { Cell.kind }
        }
        let visited = try model.visit(Kind())
        #expect(model.cellKind == kind && visited == kind)
        #expect(model.model(as: RNNCell<Float>.self) == nil || kind == .rnn)
    }

    /// No code outside `Cells/` names a cell: no cell type, no `CellKind` constant. The one
    /// exception is the seed's diagnostics, which are defined for the simple RNN itself.
    @Test func cellsAreNamedOnlyInTheirOwnFilesAndTheRegistry() throws {
        let typeNames = CellRegistry.cells.map { String(String(describing: $0).prefix { $0 != "<" }) }
        let kindMembers = CellKind.allCases.map { "." + $0.rawValue }
        #expect(typeNames.contains("RNNCell") && kindMembers.contains(".lstm"))
        let root = LayeringTests.sourceRoot.deletingLastPathComponent()     // Sources/
        var violations: [String] = []
        for folder in ["Recurrent", "RecurrentCLI"] {
            let base = root.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walker where url.pathExtension == "swift" {
                let path = String(url.path.dropFirst(root.path.count + 1))
                if path.hasPrefix("Recurrent/Cells/") { continue }
                // `@_specialize(where Cell == RNNCell<Float>)` lines are compiler hints for speed, not logic:
                // a new cell runs unspecialised there until it is added (see README, "A cell owns everything").
                let text = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                    .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("@_specialize") }.joined(separator: "\n")
                let code = LayeringTests.stripped(text)
                let identifiers = LayeringTests.identifiers(in: code)
                for name in typeNames where identifiers.contains(name) {
                    if name == "RNNCell" && path.hasPrefix("Recurrent/Diagnostics/") { continue }
                    violations.append("\(path) names \(name)")
                }
                for member in kindMembers where code.range(of: "\\" + member + "\\b", options: .regularExpression) != nil {
                    if member == ".rnn" && path.hasPrefix("Recurrent/Diagnostics/") { continue }
                    violations.append("\(path) uses CellKind\(member)")
                }
            }
        }
        #expect(violations.isEmpty, "a cell named outside Cells/:\n\(violations.joined(separator: "\n"))")
    }
}
