import Testing

@testable import Recurrent

// MARK: - Adding problem

@Suite("Adding problem")
struct AddingProblemTests {
    @Test(arguments: [2, 3, 10, 101, 150])
    func oneMarkerPerHalfAndTargetIsTheirSum(steps: Int) throws {
        let task = try AddingProblem(steps: steps)
        var rng = SeededGenerator(seed: UInt64(steps))
        let (inputs, targets) = task.batch(size: 200, using: &rng)
        #expect(inputs.batch == 200 && inputs.steps == steps && inputs.features == 2)
        guard case .values(let sums, let columns) = targets else { Issue.record("expected .values"); return }
        #expect(columns == 1 && sums.count == 200)
        let half = steps / 2
        for b in 0..<200 {
            let row = inputs.values[(b * steps * 2)..<((b + 1) * steps * 2)]
            let values = stride(from: row.startIndex, to: row.endIndex, by: 2).map { row[$0] }
            let markers = stride(from: row.startIndex + 1, to: row.endIndex, by: 2).map { row[$0] }
            #expect(values.allSatisfy { (0...1).contains($0) })
            #expect(markers.allSatisfy { $0 == 0 || $0 == 1 })
            #expect(markers[..<half].filter { $0 == 1 }.count == 1)
            #expect(markers[half...].filter { $0 == 1 }.count == 1)
            let marked = zip(values, markers).filter { $0.1 == 1 }.map(\.0)
            #expect(sums[b] == marked[0] + marked[1])
        }
    }

    @Test func predictingOneGivesMSEOneSixth() throws {
        let task = try AddingProblem(steps: 20)
        var rng = SeededGenerator(seed: 1997)
        let (_, targets) = task.batch(size: 20000, using: &rng)
        guard case .values(let sums, _) = targets else { Issue.record("expected .values"); return }
        let mse = sums.reduce(0.0) { $0 + Double(($1 - 1) * ($1 - 1)) } / Double(sums.count)
        #expect(abs(mse - AddingProblem.baselineMSE) < 0.005)
        #expect(abs(AddingProblem.baselineMSE - 2.0 / 12.0) < 1e-15)
    }

    @Test func testSetIsFixedBySeed() throws {
        let task = try AddingProblem(steps: 50)
        #expect(task.testSet(size: 10).0.values == task.testSet(size: 10).0.values)
        #expect(task.testSet(size: 10, seed: 1).0.values != task.testSet(size: 10, seed: 2).0.values)
        var rng = SeededGenerator(seed: AddingProblem.defaultTestSeed)
        #expect(task.batch(size: 10, using: &rng).0.values == task.testSet(size: 10).0.values)
        #expect(task.batch(size: 0, using: &rng).0.values.isEmpty)
    }

    @Test func tooShortIsAnError() {
        #expect(expectDataError { () throws(DataError) in _ = try AddingProblem(steps: 1) }?.kind == .invalidArgument)
    }
}
