import Bitcoin
import Sv2Crypto

/// The output scripts the node's transaction generator pays to and knows how to spend.
public enum NodeScripts {
    /// OP_TRUE (0x51): the witness script of ``p2wshOpTrue``, and a bare anyone-can-spend scriptPubKey.
    public static let opTrue: [UInt8] = [Script.op1]

    /// P2WSH(OP_TRUE): `OP_0 <32-byte SHA256(0x51)>`, spent with the witness `[51]` and an empty scriptSig. Anyone
    /// can spend it, yet it is a standard segwit output, so transactions spending it carry real witness data.
    public static let p2wshOpTrue: [UInt8] = [Script.op0, 0x20] + Sv2Hash.sha256(opTrue)

    /// The witness stack that spends ``p2wshOpTrue``.
    public static let p2wshOpTrueWitness: [[UInt8]] = [opTrue]

    /// Whether the node's generator can spend an output with `scriptPubKey`.
    static func isSpendableByNode(_ scriptPubKey: [UInt8]) -> Bool {
        scriptPubKey == p2wshOpTrue || scriptPubKey == opTrue
    }

    /// Whether `input` validly spends an output locked by `scriptPubKey`: P2WSH(OP_TRUE) with witness `[51]` and an
    /// empty scriptSig, or bare OP_TRUE with empty scriptSig and witness. Everything else is refused (this node does
    /// not run a script interpreter).
    static func verifySpend(scriptPubKey: [UInt8], input: TransactionInput) -> Bool {
        guard input.scriptSig.isEmpty else { return false }
        if scriptPubKey == p2wshOpTrue { return input.witness == p2wshOpTrueWitness }
        if scriptPubKey == opTrue { return input.witness.isEmpty }
        return false
    }
}
