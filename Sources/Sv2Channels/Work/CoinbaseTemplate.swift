import Sv2Binary

/// A coinbase transaction (txid form, no BIP141 fields) split around an extranonce, with the merkle path that leads
/// from its txid to the root (spec 5.3.16): the one merkle-root builder of the pool, the proxy, the translator and the
/// miner.
///
/// The pool's job has the whole extranonce between ``prefix`` and ``suffix``.
public struct CoinbaseTemplate: Hashable, Sendable {
    /// Everything before the extranonce (coinbase_tx_prefix, and for a channel its extranonce_prefix).
    public var prefix: [UInt8]
    /// Bytes of extranonce between prefix and suffix.
    public var extranonceSize: Int
    /// Everything after the extranonce: coinbase_tx_suffix.
    public var suffix: [UInt8]
    /// The merkle path, deepest first.
    public var merklePath: [U256]

    /// Creates a template from its parts.
    public init(prefix: [UInt8], extranonceSize: Int, suffix: [UInt8], merklePath: [U256]) {
        self.prefix = prefix
        self.extranonceSize = extranonceSize
        self.suffix = suffix
        self.merklePath = merklePath
    }

    /// The coinbase with `extranonce` (``extranonceSize`` bytes) between prefix and suffix.
    public func coinbase(extranonce: [UInt8]) -> [UInt8] {
        prefix + extranonce + suffix
    }

    /// The merkle root with `extranonce` between prefix and suffix (the caller gives ``extranonceSize`` bytes).
    public func merkleRoot(extranonce: [UInt8]) -> U256 {
        var scratch = [UInt8]()
        return merkleRoot(extranonce: extranonce, scratch: &scratch)
    }

    /// ``merkleRoot(extranonce:)`` with the extranonce given in two parts (a channel's `extranoncePrefix`, then the
    /// miner's `extranonce`), assembling the coinbase in `scratch`, reused between calls (no allocation once it is
    /// large enough): the share path's form.
    public func merkleRoot(extranoncePrefix: [UInt8] = [], extranonce: [UInt8], scratch: inout [UInt8]) -> U256 {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: prefix)
        scratch.append(contentsOf: extranoncePrefix)
        scratch.append(contentsOf: extranonce)
        scratch.append(contentsOf: suffix)
        var node = ShareHash.sha256d(scratch)
        for step in merklePath { node = ShareHash.sha256d(pair: node, step) }
        return node
    }
}
