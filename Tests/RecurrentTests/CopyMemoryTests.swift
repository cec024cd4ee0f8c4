import Foundation
import Testing

@testable import Recurrent

// MARK: - Copy memory task

@Suite("Copy memory")
struct CopyMemoryTests {
    @Test(arguments: [1, 5, 100])
    func layout(delay: Int) throws {
        let task = try CopyMemory(delay: delay)
        #expect(task.steps == delay + 20)
        var rng = SeededGenerator(seed: 2016)
        let (inputs, targets) = task.batch(size: 16, using: &rng)
        #expect(inputs.batch == 16 && inputs.steps == delay + 20 && inputs.features == 10)
        guard case .classesPerStep(let classes) = targets else { Issue.record("expected .classesPerStep"); return }
        #expect(classes.count == 16 * (delay + 20))
        let n = delay + 20
        for b in 0..<16 {
            var symbols: [Int] = []
            for t in 0..<n {
                let oneHot = Array(inputs.values[((b * n + t) * 10)..<((b * n + t + 1) * 10)])
                #expect(oneHot.filter { $0 == 1 }.count == 1 && oneHot.filter { $0 == 0 }.count == 9)
                symbols.append(oneHot.firstIndex(of: 1) ?? -1)
            }
            // 10 data symbols, T-1 blanks, the delimiter, 10 blanks.
            #expect(symbols[0..<10].allSatisfy { (1...8).contains($0) })
            #expect(symbols[10..<(10 + delay - 1)].allSatisfy { $0 == 0 })
            #expect(symbols[10 + delay - 1] == 9)
            #expect(symbols[(delay + 10)...].allSatisfy { $0 == 0 })
            // Targets: blanks for T+10 steps, then the 10 symbols.
            let row = Array(classes[(b * n)..<((b + 1) * n)])
            #expect(row[..<(delay + 10)].allSatisfy { $0 == 0 })
            #expect(Array(row[(delay + 10)...]) == Array(symbols[0..<10]))
        }
    }

    @Test(arguments: [1, 100, 500])
    func baselineCrossEntropy(delay: Int) throws {
        let task = try CopyMemory(delay: delay)
        let formula = 10 * log(8.0) / Double(delay + 20)
        #expect(abs(task.baselineCrossEntropy - formula) < 1e-12)
        // The memoryless predictor: blank surely for T+10 steps, uniform over 1...8 afterwards.
        var rng = SeededGenerator(seed: 3)
        guard case .classesPerStep(let classes) = task.batch(size: 4, using: &rng).1 else { return }
        var loss = 0.0
        for (i, target) in classes.enumerated() {
            let t = i % task.steps
            loss += t < delay + 10 ? (target == 0 ? 0 : .infinity) : -log(1.0 / 8)
        }
        #expect(abs(loss / Double(classes.count) - formula) < 1e-12)
    }

    @Test func testSetIsFixedBySeed() throws {
        let task = try CopyMemory(delay: 10)
        #expect(task.testSet(size: 5).0.values == task.testSet(size: 5).0.values)
        #expect(expectDataError { () throws(DataError) in _ = try CopyMemory(delay: 0) }?.kind == .invalidArgument)
    }
}
