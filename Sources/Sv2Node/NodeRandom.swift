/// xoshiro256** seeded through SplitMix64: the node's deterministic random numbers (fee rates, coin choice), so that
/// a node created with the same seed, clock and submissions behaves identically.
struct NodeRandom: Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator from a 64-bit seed.
    init(seed: UInt64) {
        var mix = seed
        func splitMix() -> UInt64 {
            mix &+= 0x9e37_79b9_7f4a_7c15
            var z = mix
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    /// A value in `range` (slightly biased for huge ranges; fine for fee rates and indices).
    mutating func next(in range: ClosedRange<UInt64>) -> UInt64 {
        let width = range.upperBound &- range.lowerBound &+ 1
        return width == 0 ? next() : range.lowerBound + next() % width
    }

    private func rotate(_ value: UInt64, _ count: UInt64) -> UInt64 {
        (value << count) | (value >> (64 - count))
    }
}
