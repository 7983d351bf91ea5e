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

    /// The bytes the extranonce takes between `prefix` and its suffix: the scriptSig length the prefix states less
    /// the scriptSig bytes it already holds. The prefix may keep its BIP141 marker and flag; it must have one input.
    /// Throws ``BitcoinError/truncated(what:offset:needed:available:)`` for a prefix that ends before the scriptSig
    /// length, and ``BitcoinError/invalidLength(what:expected:actual:)`` for another input count, a scriptSig length
    /// over the consensus limit of 100 bytes, or a prefix whose scriptSig part is longer than the length it states.
    public static func extranonceSize(prefix: [UInt8]) throws(BitcoinError) -> Int {
        var offset = prefix.count >= 6 && prefix[4] == 0x00 && prefix[5] != 0x00 ? 6 : 4
        let inputs = try CompactSize.decode(prefix, at: min(offset, prefix.count))
        guard inputs.value == 1 else { throw .invalidLength(what: "coinbase input count", expected: "1", actual: Int(clamping: inputs.value)) }
        offset += inputs.size + 36
        guard offset < prefix.count else {
            throw .truncated(what: "coinbase prefix (outpoint, scriptSig length)", offset: prefix.count, needed: offset + 1 - prefix.count, available: 0)
        }
        let length = try CompactSize.decode(prefix, at: offset)
        guard length.value <= 100 else {
            throw .invalidLength(what: "coinbase scriptSig", expected: "at most 100 bytes", actual: Int(clamping: length.value))
        }
        let held = prefix.count - offset - length.size
        guard UInt64(held) <= length.value else {
            throw .invalidLength(what: "coinbase prefix scriptSig", expected: "at most \(length.value) bytes", actual: held)
        }
        return Int(length.value) - held
    }
}
