import Bitcoin
import Sv2Binary

/// Conversions between share targets, hashrates and Stratum V1 difficulties.
///
/// A target is a U256 (spec 3.1, little-endian on the wire); a share meets it when its header hash, read as a
/// little-endian integer, is at most the target. A uniformly random hash meets target `t` with probability
/// (t + 1) / 2^256, so one share at `t` stands for 2^256 / (t + 1) hashes on average.
public enum MiningTarget {
    /// The target of Stratum V1 difficulty 1: 0x00000000ffff0000…0000 written big-endian, the target of nBits
    /// 0x1d00ffff.
    public static let difficultyOne = U256(w0: 0, w1: 0, w2: 0, w3: 0x0000_0000_ffff_0000)

    /// The largest value Rust's `u128` holds, where SRI's hashes-per-share saturates.
    private static let u128Max = U256(w0: .max, w1: .max, w2: 0, w3: 0)

    /// The target at which a miner of `hashrate` hashes per second finds `sharesPerMinute` shares per minute, computed
    /// exactly as SRI does (channels-sv2 `target.rs`), so that both ends of a channel agree byte for byte.
    ///
    /// The hashes per share `h = hashrate * (60 / sharesPerMinute)` is evaluated in `Double` and converted as Rust's
    /// `as u128` does: rounded toward zero, NaN and negative values to 0, values from 2^128 on (and infinity) to
    /// 2^128 - 1. The target is then `(2^256 - 1 - h) / (h + 1)` in integers, where `h + 1` saturates at 2^128 - 1.
    /// So a zero, negative or NaN hashrate (or a negative rate) gives ``U256/max``, the easiest target, and an
    /// infinite hashrate (or a zero rate) gives 2^128, the hardest target the formula reaches. SRI additionally clamps
    /// the result to the channel's maximum target; that is the channel's business, not this function's.
    public static func target(hashrate: Double, sharesPerMinute: Double) -> U256 {
        let hashesPerShare = min(U256(clamping: hashrate * (60 / sharesPerMinute)), u128Max)
        let divisor = hashesPerShare == u128Max ? u128Max : hashesPerShare.addingReportingOverflow(U256(1)).partialValue
        return U256.max.subtractingReportingOverflow(hashesPerShare).partialValue
            .quotientAndRemainder(dividingBy: divisor).quotient
    }

    /// The hashrate for which `target` yields `sharesPerMinute` shares per minute: the real-valued inverse of
    /// ``target(hashrate:sharesPerMinute:)``, `(2^256 / (target + 1) - 1) * sharesPerMinute / 60`.
    ///
    /// Unlike SRI's `hash_rate_from_target`, which truncates to an integer and fails with an overflow for easy targets
    /// and target 0, this is defined for every target: 0 for ``U256/max``, about 1.9e75 * `sharesPerMinute` for 0.
    public static func hashrate(target: U256, sharesPerMinute: Double) -> Double {
        (expectedHashes(target: target) - 1) * sharesPerMinute / 60
    }

    /// The Stratum V1 difficulty of `target`: ``difficultyOne`` / `target` as a real number (infinity for target 0).
    public static func difficulty(target: U256) -> Double {
        Double(difficultyOne) / Double(target)
    }

    /// The target of Stratum V1 `difficulty`: ``difficultyOne`` / `difficulty`, rounded toward zero to the 53
    /// significant bits a `Double` carries; ``U256/max`` for a difficulty that is not positive (or NaN) or so small
    /// that the quotient exceeds it, and zero for an infinite difficulty.
    public static func target(difficulty: Double) -> U256 {
        guard difficulty > 0 else { return .max }
        return U256(clamping: Double(difficultyOne) / difficulty)
    }

    /// The number of hashes one share at `target` stands for on average, 2^256 / (target + 1): 1 for ``U256/max``,
    /// about 2^32 at ``difficultyOne``.
    public static func expectedHashes(target: U256) -> Double {
        0x1p256 / (Double(target) + 1)
    }
}
