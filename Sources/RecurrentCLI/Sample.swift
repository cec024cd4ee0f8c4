import ArgumentParser
import Foundation
import Recurrent

/// `recurrent sample`: text from a character-level language model.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text with a charlm checkpoint.",
        discussion: """
            The vocabulary comes from the checkpoint (recurrent train stores it in the metadata key
            'recurrent.vocabulary'); --data rebuilds it from the training text instead, for checkpoints
            without it, and is checked against it otherwise. The prime (default: a newline when the text
            has one) is fed first, then each character is drawn from softmax(logits / temperature).
            """)

    @Option(help: ArgumentHelp("A charlm checkpoint (.safetensors).", valueName: "file"))
    var checkpoint: String

    @Option(help: ArgumentHelp("The UTF-8 text the model was trained on (optional when the checkpoint stores its vocabulary).", valueName: "file"))
    var data: String?

    @Option(help: "Characters to generate.")
    var length = 200

    @Option(help: "Softmax temperature: below 1 is more conservative, 0 always picks the most likely character.")
    var temperature = 1.0

    @Option(help: "Seed of the draws.")
    var seed: UInt64 = 1

    @Option(help: "Text to start from (its characters must occur in the training text).")
    var prime: String?

    func validate() throws {
        if length < 0 { throw ValidationError("--length must be >= 0, got \(length)") }
        if !(temperature >= 0) || !temperature.isFinite { throw ValidationError("--temperature must be a finite number >= 0, got \(temperature)") }
        if prime == "" { throw ValidationError("--prime must not be empty (omit it to start from a newline)") }
    }

    func run() throws {
        let loaded = try loadCheckpoint(checkpoint, command: nil)
        var vocabulary = loaded.metadata[TrainSpec.vocabularyKey].map { CharacterVocabulary($0.unicodeScalars) }
        if let path = data {
            var spec = TaskSpec(name: .charlm, data: try TaskOptions.absolute(path), bptt: 1)
            if let stored = TrainSpec.stored(in: loaded.metadata)?.task, stored.data == spec.data { spec.limit = stored.limit }
            let fromText = try spec.makeTask().vocabulary
            try TrainSpec.checkVocabulary(fromText, metadata: loaded.metadata, path: checkpoint)
            vocabulary = fromText
        }
        guard let vocabulary else {
            let c = loaded.configuration
            if c.readout != .everyStep || c.inputSize != c.outputs {
                throw CLIError("\(checkpoint): not a character model (\(c.summary), \(c.readout == .everyStep ? "many-to-many" : "many-to-one"); a character model reads and writes one value per character, many-to-many)",
                               fix: "sample from a checkpoint of recurrent train --task charlm")
            }
            throw ValidationError("\(checkpoint) stores no vocabulary: pass --data with the text it was trained on")
        }
        let c = loaded.configuration
        guard c.readout == .everyStep, c.inputSize == vocabulary.count, c.outputs == vocabulary.count else {
            throw CLIError("\(checkpoint): not a character model for this vocabulary of \(vocabulary.count) characters (the model reads \(c.inputSize) inputs, has \(c.outputs) outputs, \(c.readout == .everyStep ? "many-to-many" : "many-to-one"))",
                           fix: "use a checkpoint from recurrent train --task charlm on this text")
        }
        let primeText = prime ?? (vocabulary.id(of: "\n") != nil ? "\n" : String(vocabulary.scalars[0]))
        let primeIDs: [Int]
        do { primeIDs = try vocabulary.encode(primeText) } catch {
            throw ValidationError("--prime: \(error.what); \(error.fix)")
        }
        let ids: [Int]
        do {
            ids = try loaded.model.sample(prime: primeIDs, length: length, vocabularySize: vocabulary.count, temperature: temperature, seed: seed)
        } catch let error as SamplingError {
            throw CLIError("\(checkpoint): \(error.problem)", fix: "use " + Remedy.joined(error.remedies.map(\.flags)) + ", or a checkpoint trained with gradient clipping")
        }
        Terminal.out((prime ?? "") + (try vocabulary.decode(ids)))
    }
}
