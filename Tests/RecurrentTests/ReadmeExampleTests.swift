import Testing
import Recurrent

/// The library example of README.md, verbatim between the markers, so the README
/// cannot drift from code that compiles and learns.
@Suite("README library example")
struct ReadmeExampleTests {
    @Test func trainsAnIRNNOnTheAddingProblem() throws {
        // README-EXAMPLE-BEGIN
        var rng = SeededGenerator(seed: 1)
        let task = try AddingProblem(steps: 10)                    // T = 10, inputs [B, 10, 2]
        let config = try ModelConfiguration.preset("irnn", inputSize: 2, hiddenSize: 32, outputs: 1)
        var model = try RecurrentModel<RNNCell<Float>>(config, using: &rng)
        var optimizer = Adam<Float>(learningRate: 0.003)
        for step in 1...1000 {
            let (x, y) = task.batch(size: 32, using: &rng)
            var result = try model.gradients(x, y, loss: .meanSquaredError)
            try result.gradients.clipGlobalNorm(1)                 // refuses NaN, returns the norm
            model.apply(result.gradients, using: &optimizer)
            if step % 500 == 0 { print("step \(step): loss \(result.loss)") }
        }
        let (testX, testY) = task.testSet()
        let testMSE = try Loss.meanSquaredError.evaluate(model.predict(testX).outputs,
                                                         testY.lossTarget(batch: 1000, steps: 10)).value
        print("test MSE \(testMSE) (predicting 1 scores \(AddingProblem.baselineMSE))")
        // README-EXAMPLE-END
        #expect(testMSE < 0.02, "the README promises the IRNN learns this; test MSE \(testMSE)")
    }
}
