import Sv2Binary

/// What ``Vardiff`` steers towards, and the bounds it keeps to.
public struct VardiffConfiguration: Sendable, Hashable {
    /// The rate of accepted shares to aim for (SRI's `shares_per_minute`).
    public let sharesPerMinute: Double
    /// The lowest hashrate (hashes per second) a target is ever computed for.
    public let minimumHashrate: Double
    /// The highest hashrate a target is ever computed for; nil for no bound beyond the hardest target SRI's formula
    /// reaches (2^128).
    public let maximumHashrate: Double?
    /// Seconds without a share after which the first share counts as overdue even before 4.46 shares were expected
    /// (at least one must have been); nil to wait for the statistics alone.
    public let silenceSeconds: Double?

    /// A configuration, or nil unless `sharesPerMinute` and `minimumHashrate` are positive and finite,
    /// `maximumHashrate`, when given, is finite and at least `minimumHashrate`, and `silenceSeconds`, when given, is
    /// positive.
    public init?(sharesPerMinute: Double, minimumHashrate: Double, maximumHashrate: Double? = nil, silenceSeconds: Double? = nil) {
        guard sharesPerMinute > 0, sharesPerMinute.isFinite, minimumHashrate > 0, minimumHashrate.isFinite else {
            return nil
        }
        if let maximumHashrate {
            guard maximumHashrate.isFinite, maximumHashrate >= minimumHashrate else { return nil }
        }
        if let silenceSeconds {
            guard silenceSeconds > 0, silenceSeconds.isFinite else { return nil }
        }
        self.sharesPerMinute = sharesPerMinute
        self.minimumHashrate = minimumHashrate
        self.maximumHashrate = maximumHashrate
        self.silenceSeconds = silenceSeconds
    }
}

/// Variable difficulty for one channel: estimates the miner's hashrate from its accepted shares and moves the
/// channel's target so that shares arrive at ``VardiffConfiguration/sharesPerMinute``.
///
/// A value type without I/O, clock or randomness: every call takes `now`, seconds of a monotonic clock (a reading
/// earlier than one already seen counts as no time passing). Report each accepted share with ``recordShare(now:)``,
/// call ``update(now:)`` every few seconds (after shares as well if you like) and send SetTarget whenever it returns a
/// target. Evidence accumulates exactly between calls; how often `update` runs only changes when its decisions take
/// effect.
///
/// ## Algorithm
///
/// *Evidence.* While target T is in force one share stands for W = 2^256 / (T + 1) hashes
/// (``MiningTarget/expectedHashes(target:)``), so a miner of hashrate H finds shares as a Poisson process of rate
/// H / W. The *window* holds n shares and the exposure X, the integral of dt / W since the window started (across
/// target changes): H\* = n / X is the maximum-likelihood estimate of H, and a miner of hashrate E would have found
/// E·X shares. A count n against m expected scores z(n, m) = 2(√(n + 3/8) − √m), close to a standard normal variable
/// (Anscombe). E is ``targetHashrate``, the hashrate the current target is computed for.
///
/// Each ``update(now:)`` applies, in order:
/// 1. *Ageing.* While the window holds more than 128 shares, n and X are both halved: the average runs over a window
///    that grows while the estimate settles, then remembers between 64 and 128 shares.
/// 2. *Change detection.* Two CUSUM detectors weigh the shares since the last retarget against E: one for a 4x higher
///    rate (+ln 4 per share, −3 per share expected at E), one for a 4x lower rate (−ln 4 per share, +3/4 per share
///    expected), each floored at 0. When one reaches 14 (on a steady miner that happens at most about once per
///    e^14 ≈ 1.2 million shares), the window restarts with the shares and exposure since that detector was last at
///    0, the estimated change point, and the detectors stay quiet until the next retarget.
/// 3. *Search.* When the window's first share is overdue (none yet at z(0, E·X) ≤ −3, that is 4.46 expected; or,
///    with ``VardiffConfiguration/silenceSeconds``, none for that long while at least one was expected), E is
///    far too high and the window searches: until it holds 32 shares, E drops to (n + 0.1) / X, the estimate H\* with
///    a tenth of a share added so that it exists before the first share, whenever that is at most E / 2. A lower E
///    makes the exposure grow faster, so E falls geometrically until shares come, and it lands below H more often
///    than above (shares then come fast, and step 4 raises E).
/// 4. *Refinement.* When search proposes nothing, E moves to H\* if |z(n, E·X)| ≥ 3 (the window contradicts E), H\*
///    lies outside E / 1.25 ... 1.25·E (the dead band), and, for an increase, the window holds at least 32 shares:
///    waiting for them costs little while the target is too easy, and an increase on fewer shares tends to overshoot.
///
/// A new E is clamped to the configured bounds; when it differs from the old one, the target becomes
/// ``MiningTarget/target(hashrate:sharesPerMinute:)`` of it (SRI's formula), the detectors restart, the window is
/// kept, and `update` returns the target.
public struct Vardiff: Sendable {
    /// The rate and bounds this instance works with.
    public let configuration: VardiffConfiguration
    /// E: the hashrate the current ``target`` is computed for.
    public private(set) var targetHashrate: Double
    /// The channel's current target.
    public private(set) var target: U256

    /// Hashes one share at ``target`` stands for.
    private var hashesPerShare: Double
    /// The latest clock reading seen.
    private var clock: Double
    /// Shares and exposure since the window started.
    private var window = Evidence()
    /// Whether the window's first share was overdue (step 3).
    private var searching = false
    /// The CUSUM detector for a 4x higher share rate.
    private var faster = ChangeDetector(perShare: logFour, perExpectedShare: -3)
    /// The CUSUM detector for a 4x lower share rate.
    private var slower = ChangeDetector(perShare: -logFour, perExpectedShare: 0.75)
    /// Whether a detector has restarted the window since the last retarget.
    private var alarmed = false
    /// The clock reading of the last share, or of the start.
    private var lastShare: Double

    /// Starts at `initialHashrate` (clamped to the configured bounds) with an empty window at time `now`.
    public init(configuration: VardiffConfiguration, initialHashrate: Double, now: Double) {
        self.configuration = configuration
        let hashrate = Self.clamp(initialHashrate, configuration)
        targetHashrate = hashrate
        target = MiningTarget.target(hashrate: hashrate, sharesPerMinute: configuration.sharesPerMinute)
        hashesPerShare = MiningTarget.expectedHashes(target: target)
        clock = now
        lastShare = now
    }

    /// The current hashrate estimate: H\* once the window holds a share, ``targetHashrate`` before, clamped to the
    /// configured bounds.
    public var hashrate: Double {
        guard window.shares > 0 else { return targetHashrate }
        return Self.clamp(window.shares / window.exposure, configuration)
    }

    /// True once the estimate rests on enough shares (16 in the window) and no search for the rate is under way.
    public var isSettled: Bool { window.shares >= 16 && !searching }

    /// Counts one accepted share found at `now`.
    public mutating func recordShare(now: Double) {
        advance(to: now)
        lastShare = max(lastShare, now)
        window.shares += 1
        faster.addShare()
        slower.addShare()
    }

    /// Applies the algorithm at `now` and returns the new target when it changed (send it in SetTarget), nil otherwise.
    public mutating func update(now: Double) -> U256? {
        advance(to: now)
        while window.shares > 128 {
            window.shares /= 2
            window.exposure /= 2
        }
        if !alarmed, let evidence = faster.alarm ?? slower.alarm {
            restartWindow(with: evidence)
            alarmed = true
        }
        let expected = targetHashrate * window.exposure
        var proposal: Double?
        if searching, window.shares < 32 {
            let low = (window.shares + 0.1) / window.exposure
            if low <= targetHashrate / 2 { proposal = low }
        }
        if proposal == nil, window.shares > 0, abs(Self.zScore(window.shares, expected: expected)) >= 3 {
            let estimate = window.shares / window.exposure
            if estimate * 1.25 < targetHashrate || (estimate > targetHashrate * 1.25 && window.shares >= 32) {
                proposal = estimate
            }
        }
        guard let proposal else { return nil }
        let hashrate = Self.clamp(proposal, configuration)
        guard hashrate != targetHashrate else { return nil }
        targetHashrate = hashrate
        target = MiningTarget.target(hashrate: hashrate, sharesPerMinute: configuration.sharesPerMinute)
        hashesPerShare = MiningTarget.expectedHashes(target: target)
        faster.reset()
        slower.reset()
        alarmed = false
        return target
    }

    /// Moves the clock to `now`, adding the exposure of the time in between to the window and the detectors.
    private mutating func advance(to now: Double) {
        guard now > clock else { return }
        let exposure = (now - clock) / hashesPerShare
        clock = now
        window.exposure += exposure
        faster.addExposure(exposure, expectedShares: targetHashrate * exposure)
        slower.addExposure(exposure, expectedShares: targetHashrate * exposure)
        checkOverdue()
    }

    /// Replaces the window by `evidence`.
    private mutating func restartWindow(with evidence: Evidence) {
        window = evidence
        searching = false
        checkOverdue()
    }

    /// Starts the search of step 3 once the window's first share is overdue.
    private mutating func checkOverdue() {
        guard window.shares == 0 else { return }
        let expected = targetHashrate * window.exposure
        let silent = configuration.silenceSeconds.map { clock - lastShare >= $0 && expected >= 1 } ?? false
        if silent || Self.zScore(0, expected: expected) <= -3 { searching = true }
    }

    /// Anscombe's z-score of `shares` observed against `expected`.
    private static func zScore(_ shares: Double, expected: Double) -> Double {
        2 * ((shares + 0.375).squareRoot() - expected.squareRoot())
    }

    /// `hashrate` within the configured bounds (NaN gives the minimum); without a maximum, within what a target
    /// can express.
    private static func clamp(_ hashrate: Double, _ configuration: VardiffConfiguration) -> Double {
        let maximum = configuration.maximumHashrate ?? 0x1p128 * configuration.sharesPerMinute / 60
        guard hashrate > configuration.minimumHashrate else { return configuration.minimumHashrate }
        return max(min(hashrate, maximum), configuration.minimumHashrate)
    }
}

/// Shares and the exposure (seconds divided by hashes per share, summed) they were found in.
private struct Evidence: Sendable {
    /// Shares counted (halved by ageing, hence not an integer).
    var shares: Double = 0
    /// The integral of dt / W over the period.
    var exposure: Double = 0
}

/// ln 4: what one share adds to the log-likelihood ratio of a rate 4x higher (or subtracts for 4x lower).
private let logFour = 1.386_294_361_119_890_6

/// A one-sided CUSUM for the share rate being r times what the target predicts: each share adds ln r and each share
/// the target predicts adds 1 - r.
private struct ChangeDetector: Sendable {
    /// ln r.
    let perShare: Double
    /// 1 - r.
    let perExpectedShare: Double
    /// The log-likelihood ratio score, floored at 0.
    private var score: Double = 0
    /// Shares and exposure since the score was last 0.
    private var evidence = Evidence()

    /// A detector scoring `perShare` per share and `perExpectedShare` per share the target predicts.
    init(perShare: Double, perExpectedShare: Double) {
        self.perShare = perShare
        self.perExpectedShare = perExpectedShare
    }

    /// The evidence since the estimated change point, once the score has reached the alarm threshold.
    var alarm: Evidence? { score >= 14 ? evidence : nil }

    /// Weighs a stretch of `exposure` in which the target predicted `expectedShares` shares.
    mutating func addExposure(_ exposure: Double, expectedShares: Double) {
        score += perExpectedShare * expectedShares
        if score <= 0 { reset() } else { evidence.exposure += exposure }
    }

    /// Weighs one share.
    mutating func addShare() {
        score += perShare
        if score <= 0 { reset() } else { evidence.shares += 1 }
    }

    /// Back to a score of 0 with no evidence.
    mutating func reset() {
        score = 0
        evidence = Evidence()
    }
}
