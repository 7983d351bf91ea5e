import Sv2Binary
import Sv2Crypto

/// BIP141's witness commitment: the coinbase output `OP_RETURN 0x24 aa21a9ed || commitment` with
/// commitment = SHA256d(witness root || witness reserved value), where the witness root is the merkle root of the
/// wtxids with the coinbase's wtxid replaced by zero.
public enum WitnessCommitment {
    /// The 4-byte tag after `OP_RETURN 0x24`.
    public static let tag: [UInt8] = [0xaa, 0x21, 0xa9, 0xed]
    /// The first 6 bytes of a commitment output script.
    public static let scriptPrefix: [UInt8] = [Script.opReturn, 0x24] + tag
    /// The witness reserved value Bitcoin Core uses: 32 zero bytes (the coinbase's single witness item).
    public static let defaultReservedValue = [UInt8](repeating: 0, count: 32)

    /// The witness merkle root of a block whose non-coinbase transactions have `wtxids` (in block order).
    public static func witnessRoot(nonCoinbaseWtxids wtxids: [U256]) -> U256 {
        Merkle.root([.zero] + wtxids)
    }

    /// SHA256d(witnessRoot || reservedValue).
    public static func commitment(witnessRoot: U256, reservedValue: [UInt8] = defaultReservedValue) -> U256 {
        U256.fromDigest(Sv2Hash.sha256d(witnessRoot.littleEndianBytes + reservedValue))
    }

    /// The 38-byte output script `6a24aa21a9ed || commitment`.
    public static func outputScript(commitment: U256) -> [UInt8] {
        scriptPrefix + commitment.littleEndianBytes
    }

    /// The commitment output script for a block whose non-coinbase transactions have `wtxids`, with the default
    /// reserved value.
    public static func outputScript(nonCoinbaseWtxids wtxids: [U256]) -> [UInt8] {
        outputScript(commitment: commitment(witnessRoot: witnessRoot(nonCoinbaseWtxids: wtxids)))
    }

    /// The commitment in `scriptPubKey` if it is a commitment output (at least 38 bytes starting with
    /// ``scriptPrefix``; BIP141 allows bytes after it).
    public static func commitment(inScript scriptPubKey: [UInt8]) -> U256? {
        guard scriptPubKey.count >= 38, scriptPubKey.starts(with: scriptPrefix) else { return nil }
        return U256.fromBytes(scriptPubKey, at: 6)
    }

    /// The index of the output holding the commitment: the last one that matches, as BIP141 specifies.
    public static func outputIndex(in coinbase: Transaction) -> Int? {
        coinbase.outputs.lastIndex { commitment(inScript: $0.scriptPubKey) != nil }
    }
}

extension Block {
    /// Bitcoin Core's `UpdateUncommittedBlockStructures` (what its `submitblock` does before validating): when the
    /// coinbase has a witness commitment output but no witness, the default witness reserved value (32 zero bytes)
    /// becomes its witness. Miners that build the coinbase without a witness rely on it.
    public mutating func fillWitnessReservedValue() {
        guard let coinbase = transactions.first, coinbase.isCoinbase, !coinbase.hasWitness,
              WitnessCommitment.outputIndex(in: coinbase) != nil
        else { return }
        transactions[0].inputs[0].witness = [WitnessCommitment.defaultReservedValue]
    }
}
