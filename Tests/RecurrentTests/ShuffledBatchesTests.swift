import Testing

@testable import Recurrent

// MARK: - Shuffled epochs with resumable positions

/// A source whose sequence `i` is the single value `i` and whose class is `i`.
struct CountingSource: IndexedSequenceSource {
    let count: Int
    func batch(indices: [Int]) -> (SequenceBatch<Float>, Targets<Float>) {
        (SequenceBatch(batch: indices.count, steps: 1, features: 1, values: indices.map(Float.init)), .classes(indices))
    }
}

@Suite("Shuffled batches")
struct ShuffledBatchesTests {
    static func ids(_ batch: (SequenceBatch<Float>, Targets<Float>)) -> [Int] {
        if case .classes(let ids) = batch.1 { return ids }
        return []
    }

    @Test(arguments: [(100, 7, false), (100, 10, false), (100, 7, true), (3, 5, false)])
    func everyEpochVisitsEachSampleOnce(count: Int, batchSize: Int, dropLast: Bool) throws {
        var batches = try ShuffledBatches(source: CountingSource(count: count), batchSize: batchSize, dropLast: dropLast, shuffleSeed: 11)
        var orders: [[Int]] = []
        for epoch in 0..<3 {
            var seen: [Int] = []
            var batchCount = 0
            while let batch = batches.next() {
                seen += Self.ids(batch)
                batchCount += 1
            }
            #expect(batchCount == batches.batchesPerEpoch)
            #expect(batches.position.epoch == epoch + 1)
            if dropLast {
                #expect(seen.count == count / batchSize * batchSize)
                #expect(Set(seen).count == seen.count)
            } else {
                #expect(seen.sorted() == Array(0..<count))
            }
            orders.append(seen)
        }
        if count > 10 { #expect(orders[0] != orders[1]) }
    }

    @Test func restoredPositionContinuesWithTheSameBatches() throws {
        var rng = SeededGenerator(seed: 2015)
        var original = try ShuffledBatches(source: CountingSource(count: 50), batchSize: 8, using: &rng)
        for _ in 0..<11 { _ = original.next() }  // into the second epoch (7 batches + nil per epoch)
        let saved = original.position
        #expect(saved.epoch == 1 && saved.batchIndex == 3)

        var resumed = try ShuffledBatches(source: CountingSource(count: 50), batchSize: 8, shuffleSeed: 0)
        try resumed.restore(saved)
        for _ in 0..<20 {  // across two more epoch boundaries
            let a = original.next().map(Self.ids)
            let b = resumed.next().map(Self.ids)
            #expect(a == b)
        }
        #expect(original.position == resumed.position)
    }

    @Test func restoreRejectsForeignPositions() throws {
        var batches = try ShuffledBatches(source: CountingSource(count: 50), batchSize: 8, shuffleSeed: 1)
        var foreign = batches.position
        foreign.sampleCount = 60
        #expect(expectDataError { () throws(DataError) in try batches.restore(foreign) }?.kind == .mismatch)
        foreign = batches.position
        foreign.batchIndex = 99
        #expect(expectDataError { () throws(DataError) in try batches.restore(foreign) }?.kind == .mismatch)
        let empty = expectDataError { () throws(DataError) in
            _ = try ShuffledBatches(source: CountingSource(count: 0), batchSize: 8, shuffleSeed: 1)
        }
        #expect(empty?.kind == .invalidArgument)
    }

    @Test func samplingPrimitivesArePinned() {
        // xoshiro256** seeded by SplitMix64(0), values from an independent Python implementation.
        var reference = SeededGenerator(seed: 0)
        #expect(reference.next() == 11_091_344_671_253_066_420)
        #expect(reference.next() == 13_793_997_310_169_335_082)
        var g = SeededGenerator(seed: 0)
        let u = Draw.uniform01(&g)
        var h = SeededGenerator(seed: 0)
        #expect(u == Double(h.next() >> 11) * 0x1.0p-53)
        var counts = [Int](repeating: 0, count: 3)
        for _ in 0..<3000 { counts[Draw.index(below: 3, &g)] += 1 }
        #expect(counts.allSatisfy { (900...1100).contains($0) })
        #expect(Draw.index(below: 1, &g) == 0)
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
        #expect(Draw.permutation(count: 10, &a) == Draw.permutation(count: 10, &b))
    }
}
