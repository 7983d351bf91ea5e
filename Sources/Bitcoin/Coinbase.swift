/// Helpers for a coinbase transaction split around its extranonce, as Sv2 jobs carry it (coinbase_tx_prefix ||
/// extranonce || coinbase_tx_suffix).
public enum Coinbase {
    /// Removes the BIP141 fields from a coinbase prefix/suffix pair, the rule SRI applies (channels-sv2 `bip141.rs`)
    /// before sending NewExtendedMiningJob: when `prefix[4] == 0x00` and `prefix[5] != 0x00` (marker and flag follow
    /// the version) it drops those two bytes from the prefix and the 34 witness bytes (`01 20` and the 32-byte
    /// reserved value) just before the suffix's 4-byte lock time.
    ///
    /// Returns nil when the prefix has no marker (already stripped). Throws ``BitcoinError/truncated(what:offset:needed:available:)``
    /// for a prefix shorter than 6 bytes or a suffix too short for the lock time or the witness, and
    /// ``BitcoinError/unexpectedCoinbaseWitness(reason:)`` when those 34 bytes are not one witness item of 32 bytes.
    public static func stripWitness(prefix: [UInt8], suffix: [UInt8]) throws(BitcoinError) -> (prefix: [UInt8], suffix: [UInt8])? {
        guard prefix.count >= 6 else {
            throw .truncated(what: "coinbase prefix (version, marker, flag)", offset: 0, needed: 6, available: prefix.count)
        }
        guard prefix[4] == 0x00, prefix[5] != 0x00 else { return nil }
        guard suffix.count >= 4 else {
            throw .truncated(what: "coinbase suffix lock time", offset: 0, needed: 4, available: suffix.count)
        }
        guard suffix.count >= 38 else {
            throw .truncated(what: "coinbase suffix witness", offset: 0, needed: 38, available: suffix.count)
        }
        let witnessStart = suffix.count - 38
        guard suffix[witnessStart] == 0x01, suffix[witnessStart + 1] == 0x20 else {
            throw .unexpectedCoinbaseWitness(reason: "expected 01 20 before the reserved value and lock time")
        }
        let strippedPrefix = Array(prefix[..<4]) + Array(prefix[6...])
        let strippedSuffix = Array(suffix[..<witnessStart]) + Array(suffix[(suffix.count - 4)...])
        return (strippedPrefix, strippedSuffix)
    }
}
