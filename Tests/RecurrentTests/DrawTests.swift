import Testing
@testable import Recurrent

/// The one SplitMix64 and the one set of draws (`Draw`): pinned to reference values, so that a
/// change of a single bit of seeding or sampling fails here before it changes a checkpoint.
@Suite struct DrawTests {
    /// Vigna's reference splitmix64.c seeded with 0 (also an independent Python re-implementation).
    @Test func splitMix64MatchesTheReference() {
        var g = SplitMix64(seed: 0)
        #expect((0..<4).map { _ in g.next() } == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4,
                                                 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC])
        #expect(SplitMix64.mixed(0) == 0xE220_A839_7B1D_CDAF)
        #expect(SplitMix64.mixed(SplitMix64.increment) == 0x6E78_9E6A_A1B9_65F4)
    }

    /// `index(below: 1)` is 0 and draws nothing; larger bounds draw at least once.
    @Test(arguments: [1, 2, 7, 1 << 40])
    func indexDrawsOnlyWhenThereIsAChoice(_ bound: Int) {
        var g = SeededGenerator(seed: 5)
        let before = g
        let k = Draw.index(below: bound, &g)
        #expect((0..<bound).contains(k))
        #expect((g == before) == (bound == 1))
    }

    /// A permutation is a bijection, and the same seed gives the same one.
    @Test(arguments: [0, 1, 2, 10, 784])
    func permutationIsABijection(_ count: Int) {
        var a = SeededGenerator(seed: 3), b = SeededGenerator(seed: 3)
        let p = Draw.permutation(count: count, &a)
        #expect(p.sorted() == Array(0..<count))
        #expect(p == Draw.permutation(count: count, &b))
    }
}
