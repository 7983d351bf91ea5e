import Foundation
import Sv2Binary
import Sv2Channels
import Testing

/// SplitMix64 (Steele, Lea and Flood): a tiny deterministic generator, so every simulation replays exactly.
struct SplitMix64: RandomNumberGenerator {
    /// The generator's state, advanced by the golden-ratio increment.
    var state: UInt64

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        return mixed ^ (mixed >> 31)
    }

    /// An exponentially distributed waiting time with `rate` events per second.
    mutating func exponential(rate: Double) -> Double {
        let uniform = Double((next() >> 11) + 1) * 0x1p-53  // (0, 1]
        return -Foundation.log(uniform) / rate
    }
}

/// A miner of true hashrate `minerHashrate` whose shares arrive as a Poisson process at rate
/// hashrate / expectedHashes(target) for the channel's current target, driving a ``Vardiff`` with an injected clock.
struct MinerSimulation {
    /// The vardiff under test.
    var vardiff: Vardiff
    /// The miner's true hashrate (0: it has stopped).
    var minerHashrate: Double
    /// Whether ``Vardiff/update(now:)`` also runs right after every share, besides once a second.
    var updateAfterShares: Bool
    /// The source of waiting times.
    var random: SplitMix64
    /// Simulated seconds so far.
    private(set) var now: Double = 0
    /// When the next share arrives.
    private var nextShare: Double = .infinity
    /// Every retarget: when, and the new target's hashrate.
    private(set) var retargets: [(time: Double, hashrate: Double)] = []

    /// A simulation starting at time 0.
    init(configuration: VardiffConfiguration, initialHashrate: Double, minerHashrate: Double, seed: UInt64, updateAfterShares: Bool = false) {
        vardiff = Vardiff(configuration: configuration, initialHashrate: initialHashrate, now: 0)
        self.minerHashrate = minerHashrate
        self.updateAfterShares = updateAfterShares
        random = SplitMix64(state: seed)
        drawNextShare(after: 0)
    }

    /// Changes the miner's hashrate from now on.
    mutating func setMinerHashrate(_ hashrate: Double) {
        minerHashrate = hashrate
        drawNextShare(after: now)
    }

    /// Runs second by second until `end`, calling `observe` after each second's update.
    mutating func run(until end: Double, observe: (MinerSimulation) -> Void = { _ in }) {
        while now + 1 <= end {
            let tick = now + 1
            while nextShare <= tick {
                let time = nextShare
                vardiff.recordShare(now: time)
                if updateAfterShares { apply(vardiff.update(now: time), at: time) }
                if nextShare == time { drawNextShare(after: time) }
            }
            apply(vardiff.update(now: tick), at: tick)
            now = tick
            observe(self)
        }
    }

    /// Records a retarget and redraws the next share at the new rate (the process is memoryless).
    private mutating func apply(_ target: U256?, at time: Double) {
        guard target != nil else { return }
        retargets.append((time, vardiff.targetHashrate))
        drawNextShare(after: time)
    }

    /// Draws the next arrival after `time` at the current target.
    private mutating func drawNextShare(after time: Double) {
        let rate = minerHashrate / MiningTarget.expectedHashes(target: vardiff.target)
        nextShare = rate > 0 ? time + random.exponential(rate: rate) : .infinity
    }
}

/// A start far from the truth: the miner's hashrate, shares per minute, and the initial estimate over the truth.
struct FarStart: Sendable, CustomTestStringConvertible {
    let minerHashrate: Double
    let sharesPerMinute: Double
    let initialFactor: Double
    var testDescription: String { "H \(minerHashrate), \(sharesPerMinute)/min, start x\(initialFactor)" }
}

/// Relative error of `estimate` against `truth`.
func relativeError(_ estimate: Double, _ truth: Double) -> Double { abs(estimate / truth - 1) }

@Suite("vardiff: simulated miners with an injected clock and a seeded generator")
struct VardiffTests {
    static let farStarts: [FarStart] = [6.0, 30.0].flatMap { spm in
        [1e6, 1e12, 1e15].flatMap { hashrate in
            [1000.0, 0.001].map { FarStart(minerHashrate: hashrate, sharesPerMinute: spm, initialFactor: $0) }
        }
    }

    /// Runs 50 seeds (odd ones also update after every share): the stability criteria hold for every run, the
    /// accuracy criteria for a share of the runs. At 6 shares per minute a start 1000x too high leaves about 50 shares
    /// of evidence at 5:00 (standard error about 14%), so even an ideal estimator misses ±30% in a few percent of
    /// runs; over 500 seeds this one was within ±30% at 5:00 in 91% of those runs and in 97% or more elsewhere,
    /// within ±50% from 5:00 on in 97% or more, within ±30% at 35:00 in 99% or more.
    @Test("from 1000x too high or too low: within ±30% at 5:00 and within ±50% for the next 30 minutes, without oscillation",
          arguments: farStarts)
    func convergesAndSettles(start: FarStart) throws {
        let configuration = try #require(VardiffConfiguration(sharesPerMinute: start.sharesPerMinute, minimumHashrate: 1))
        let seeds: [UInt64] = Array(1...50)
        var within30At5 = 0, within50After5 = 0, within30At35 = 0
        for seed in seeds {
            var simulation = MinerSimulation(
                configuration: configuration, initialHashrate: start.minerHashrate * start.initialFactor,
                minerHashrate: start.minerHashrate, seed: seed, updateAfterShares: seed % 2 == 1
            )
            var errorAt5 = Double.infinity
            var worstAfter5 = 0.0
            simulation.run(until: 35 * 60) { simulation in
                guard simulation.now >= 300 else { return }
                let error = relativeError(simulation.vardiff.hashrate, start.minerHashrate)
                if simulation.now == 300 { errorAt5 = error }
                worstAfter5 = max(worstAfter5, error)
            }
            if errorAt5 <= 0.3 { within30At5 += 1 }
            if worstAfter5 <= 0.5 { within50After5 += 1 }
            if relativeError(simulation.vardiff.hashrate, start.minerHashrate) <= 0.3 { within30At35 += 1 }

            let late = simulation.retargets.filter { $0.time > 300 }
            let busiest = late.map { first in late.count { $0.time >= first.time && $0.time < first.time + 600 } }.max() ?? 0
            #expect(busiest <= 4, "seed \(seed): \(busiest) retargets within 10 minutes after 5:00")
            #expect(!Self.pingPongs(simulation.retargets, initial: start.minerHashrate * start.initialFactor), "seed \(seed)")
        }
        #expect(within30At5 >= 40, "\(within30At5)/50 runs within ±30% at 5:00")
        #expect(within50After5 >= 45, "\(within50After5)/50 runs within ±50% from 5:00 to 35:00")
        #expect(within30At35 >= 48, "\(within30At35)/50 runs within ±30% at 35:00")
    }

    /// Whether, after 5:00, three consecutive large retargets (each by 1.5x or more) alternate in direction within
    /// 10 minutes: up-down-up or down-up-down.
    static func pingPongs(_ retargets: [(time: Double, hashrate: Double)], initial: Double) -> Bool {
        var previous = initial
        var steps: [(time: Double, up: Bool)] = []
        for retarget in retargets {
            let ratio = retarget.hashrate / previous
            previous = retarget.hashrate
            if retarget.time > 300, ratio >= 1.5 || ratio <= 1 / 1.5 { steps.append((retarget.time, ratio > 1)) }
        }
        return zip(steps, zip(steps.dropFirst(), steps.dropFirst(2))).contains { first, rest in
            first.up != rest.0.up && rest.0.up != rest.1.up && rest.1.time - first.time <= 600
        }
    }

    @Test("shares at exactly the target's rate never move it", arguments: [6.0, 30.0, 120.0])
    func exactRateHoldsStill(sharesPerMinute: Double) throws {
        let configuration = try #require(VardiffConfiguration(sharesPerMinute: sharesPerMinute, minimumHashrate: 1))
        for hashrate in [1e3, 1e12, 1e18] {
            var vardiff = Vardiff(configuration: configuration, initialHashrate: hashrate, now: 0)
            let interval = MiningTarget.expectedHashes(target: vardiff.target) / vardiff.targetHashrate
            var nextShare = interval
            for second in 1...(6 * 3600) {
                let now = Double(second)
                while nextShare <= now {
                    vardiff.recordShare(now: nextShare)
                    nextShare += interval
                }
                #expect(vardiff.update(now: now) == nil, "\(hashrate) H/s moved at \(now) s")
            }
            #expect(vardiff.targetHashrate == hashrate)
            #expect(relativeError(vardiff.hashrate, hashrate) < 0.01, "\(vardiff.hashrate)")
        }
    }

    @Test("silenceSeconds: a channel with no share for that long (one was expected) is lowered then, not after 45 s")
    func silence() throws {
        let quiet = try #require(VardiffConfiguration(sharesPerMinute: 6, minimumHashrate: 1, silenceSeconds: 15))
        let patient = try #require(VardiffConfiguration(sharesPerMinute: 6, minimumHashrate: 1))
        #expect(VardiffConfiguration(sharesPerMinute: 6, minimumHashrate: 1, silenceSeconds: 0) == nil)
        var fast = Vardiff(configuration: quiet, initialHashrate: 1e9, now: 0)
        var slow = Vardiff(configuration: patient, initialHashrate: 1e9, now: 0)
        // At 6 shares a minute, 1.4 shares were expected by 14 s and 1.5 by 15 s.
        let early = (fast.update(now: 14), slow.update(now: 14))
        #expect(early.0 == nil && early.1 == nil)
        let proposed = fast.update(now: 15)
        let lowered = try #require(proposed)
        let patientAt15 = slow.update(now: 15)
        #expect(patientAt15 == nil)
        #expect(fast.targetHashrate < 1e9 / 10 && lowered > MiningTarget.target(hashrate: 1e9, sharesPerMinute: 6))
        // Without the setting the statistics alone decide, once 4.46 shares were expected (about 45 s).
        let at40 = slow.update(now: 40)
        let at46 = slow.update(now: 46)
        #expect(at40 == nil && at46 != nil)
        // A share resets the silence.
        var steady = Vardiff(configuration: quiet, initialHashrate: 1e9, now: 0)
        steady.recordShare(now: 10)
        let afterShare = steady.update(now: 20)
        #expect(afterShare == nil)
    }

    @Test("the configured minimum and maximum bound the target and the estimate")
    func bounds() throws {
        let configuration = try #require(VardiffConfiguration(sharesPerMinute: 30, minimumHashrate: 1e9, maximumHashrate: 1e13))
        for (initial, miner, bound) in [(1e12, 1e7, 1e9), (1e10, 1e15, 1e13)] {
            var simulation = MinerSimulation(configuration: configuration, initialHashrate: initial, minerHashrate: miner, seed: 7)
            simulation.run(until: 30 * 60) { simulation in
                let vardiff = simulation.vardiff
                #expect(vardiff.targetHashrate >= 1e9 && vardiff.targetHashrate <= 1e13, "\(vardiff.targetHashrate)")
                #expect(vardiff.hashrate >= 1e9 && vardiff.hashrate <= 1e13, "\(vardiff.hashrate)")
            }
            #expect(simulation.vardiff.targetHashrate == bound, "miner \(miner)")
            #expect(simulation.vardiff.target == MiningTarget.target(hashrate: bound, sharesPerMinute: 30))
        }
        for (initial, clamped) in [(1e3, 1e9), (1e20, 1e13), (.nan, 1e9), (-5, 1e9), (.infinity, 1e13)] {
            let vardiff = Vardiff(configuration: configuration, initialHashrate: initial, now: 0)
            #expect(vardiff.targetHashrate == clamped && vardiff.hashrate == clamped, "\(initial)")
            #expect(vardiff.target == MiningTarget.target(hashrate: clamped, sharesPerMinute: 30))
        }
    }

    @Test("a settled channel follows the miner: a tenth, tenfold, or stopped", arguments: [0.1, 10, 0])
    func followsChanges(factor: Double) throws {
        let configuration = try #require(VardiffConfiguration(sharesPerMinute: 30, minimumHashrate: 1))
        let before = 1e12, after = before * factor
        var followedWithin5Minutes = 0
        for seed in 1...20 as ClosedRange<UInt64> {
            var simulation = MinerSimulation(configuration: configuration, initialHashrate: before, minerHashrate: before, seed: seed)
            simulation.run(until: 20 * 60)
            simulation.setMinerHashrate(after)
            var followedAt: Double?
            simulation.run(until: 40 * 60) { simulation in
                let hashrate = simulation.vardiff.targetHashrate
                let followed = after > 0 ? relativeError(hashrate, after) <= 0.3 : hashrate <= before / 1000
                if followed, followedAt == nil { followedAt = simulation.now - 20 * 60 }
            }
            if let followedAt, followedAt <= 300 { followedWithin5Minutes += 1 }
        }
        #expect(followedWithin5Minutes >= 16, "\(followedWithin5Minutes)/20 followed within 5 minutes")
    }

    @Test("degenerate input: many shares in no time, a clock going backwards, invalid configurations")
    func degenerateInput() throws {
        let configuration = try #require(VardiffConfiguration(sharesPerMinute: 6, minimumHashrate: 1, maximumHashrate: 1e15))
        var vardiff = Vardiff(configuration: configuration, initialHashrate: 1e9, now: 100)
        for _ in 0..<40 { vardiff.recordShare(now: 100) }
        #expect(vardiff.update(now: 100) == MiningTarget.target(hashrate: 1e15, sharesPerMinute: 6))
        #expect(vardiff.hashrate == 1e15)

        var backwards = Vardiff(configuration: configuration, initialHashrate: 1e9, now: 100)
        backwards.recordShare(now: 50)
        #expect(backwards.update(now: 10) == nil)
        #expect(backwards.targetHashrate == 1e9)

        #expect(VardiffConfiguration(sharesPerMinute: 0, minimumHashrate: 1) == nil)
        #expect(VardiffConfiguration(sharesPerMinute: -6, minimumHashrate: 1) == nil)
        #expect(VardiffConfiguration(sharesPerMinute: .nan, minimumHashrate: 1) == nil)
        #expect(VardiffConfiguration(sharesPerMinute: .infinity, minimumHashrate: 1) == nil)
        #expect(VardiffConfiguration(sharesPerMinute: 6, minimumHashrate: 0) == nil)
        #expect(VardiffConfiguration(sharesPerMinute: 6, minimumHashrate: .infinity) == nil)
        #expect(VardiffConfiguration(sharesPerMinute: 6, minimumHashrate: 10, maximumHashrate: 5) == nil)
        #expect(VardiffConfiguration(sharesPerMinute: 6, minimumHashrate: 10, maximumHashrate: .infinity) == nil)
        #expect(VardiffConfiguration(sharesPerMinute: 6, minimumHashrate: 10, maximumHashrate: 10) != nil)
    }
}
