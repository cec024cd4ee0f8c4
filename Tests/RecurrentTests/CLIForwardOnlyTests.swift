import Foundation
import Testing
@testable import Recurrent

/// `recurrent predict` runs the forward-only pass; its files hold the bits of the training
/// forward pass (`RecurrentModel.forward`, computed here in-process from the same checkpoint
/// and inputs): a 2-layer bidirectional LSTM reading out every step, uneven lengths, chunks
/// of 5 sequences (so a chunk of 2 at the end), and the default chunk (all 12 at once).
@Suite("Command line: predict gives the training forward's bits")
struct CLIForwardOnlyTests {
    struct TrainingForward: ModelVisitor {
        var inputs: SequenceBatch<Float>
        func visit<Cell: RecurrentCell>(_ model: RecurrentModel<Cell>) throws -> (outputs: [Float], hidden: [Float], cell: [Float])
            where Cell.Scalar == Float {
            let pass = Compute.$threads.withValue(1) { model.forward(inputs) }
            let outputs = SequenceBatch(timeMajor: pass.outputs, batch: inputs.batch, steps: inputs.steps).values
            return (outputs, pass.finalState.hiddenStack.storage, pass.finalState.memoryStack.storage)
        }
    }

    @Test func predictFilesHoldTheTrainingForwardsBits() throws {
        let dir = try CLI.directory()
        try CLISequenceTests.write(to: dir.appendingPathComponent("data"), pad: 0, lengthsFile: true)
        let train = try CLI.run(["train", "--task", "tensors", "--data", "data", "--cell", "lstm", "--bidirectional", "--hidden", "7",
                                 "--layers", "2", "--batch", "4", "--steps", "3"], in: dir)
        #expect(train.status == 0, "\(train.output)")
        let checkpoint = "checkpoints/tensors-lstm.safetensors"
        let (n, t, i) = (CLISequenceTests.n, CLISequenceTests.t, CLISequenceTests.i)
        let x = try NumPy.read(path: dir.appendingPathComponent("data/inputs.npy").path).scalars(Float.self)
        let model = try Checkpoint.load(from: dir.appendingPathComponent(checkpoint)).model
        let expected = try model.visit(TrainingForward(inputs: SequenceBatch(batch: n, steps: t, features: i, values: x,
                                                                             lengths: CLISequenceTests.lengths)))
        for chunk in ["5", "256"] {
            let p = try CLI.run(["predict", "--checkpoint", checkpoint, "--input", "data/inputs.npy", "--lengths", "data/lengths.npy",
                                 "--batch", chunk, "--output", "y\(chunk).safetensors"], in: dir)
            #expect(p.status == 0, "\(p.output)")
            let y = try SafeTensorsFile(contentsOf: dir.appendingPathComponent("y\(chunk).safetensors"))
            #expect(try #require(y.tensors["outputs"]).floats().map(\.bitPattern) == expected.outputs.map(\.bitPattern), "chunks of \(chunk)")
            #expect(try #require(y.tensors["hidden"]).floats().map(\.bitPattern) == expected.hidden.map(\.bitPattern), "chunks of \(chunk)")
            #expect(try #require(y.tensors["cell"]).floats().map(\.bitPattern) == expected.cell.map(\.bitPattern), "chunks of \(chunk)")
        }
    }
}
