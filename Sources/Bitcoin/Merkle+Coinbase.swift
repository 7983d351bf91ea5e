import Sv2Binary
import Sv2Crypto

extension Merkle {
    /// The merkle root of a block whose coinbase serialises (without BIP141 fields, the txid form) to `coinbase`
    /// and whose Sv2 merkle path is `path`: SHA256d of the coinbase folded over the path (spec 5.3.16).
    public static func root(coinbase: [UInt8], path: [U256]) -> U256 {
        root(coinbaseTxid: U256.fromDigest(Sv2Hash.sha256d(coinbase)), path: path)
    }
}
