import CSecp256k1
import CSv2Native

/// BIP324 ElligatorSwift encodings of secp256k1 public keys and the x-only ECDH over them (spec 4.3), with the
/// field arithmetic in the CSv2Native C target (Debian's libsecp256k1 0.2.0 has no ellswift module) and the
/// scalar multiplication in libsecp256k1.
public enum ElligatorSwift {
    /// Size of an encoding.
    public static let encodingSize = 64

    /// Encodes the 33-byte compressed public key `publicKey`, drawing the encoding from `randomness` (32 bytes).
    /// Byte-identical to libsecp256k1's secp256k1_ellswift_encode for the same inputs.
    public static func encode(compressedPublicKey publicKey: [UInt8], randomness: [UInt8]) throws(Sv2CryptoError) -> [UInt8] {
        guard publicKey.count == 33 else { throw .wrongLength(what: "compressed public key", expected: 33, actual: publicKey.count) }
        guard randomness.count == 32 else { throw .wrongLength(what: "encoding randomness", expected: 32, actual: randomness.count) }
        var out = [UInt8](repeating: 0, count: 64)
        guard sv2_ellswift_encode_pubkey(publicKey, randomness, &out) == 1 else { throw .invalidPublicKey }
        return out
    }

    /// The x coordinate (32 bytes, big-endian) an encoding stands for; every 64-byte string decodes.
    public static func decodeX(_ encoding: [UInt8]) throws(Sv2CryptoError) -> [UInt8] {
        guard encoding.count == 64 else { throw .wrongLength(what: "ElligatorSwift encoding", expected: 64, actual: encoding.count) }
        var x = [UInt8](repeating: 0, count: 32)
        sv2_ellswift_decode(encoding, &x)
        return x
    }

    /// BIP324's x-only ECDH: SHA256(T || T || ell_initiator || ell_responder || x) with
    /// T = SHA256("bip324_ellswift_xonly_ecdh"), x the shared point's x coordinate.
    ///
    /// `ours` is the encoding of `secretKey`'s public key and `theirs` the peer's; `initiating` says whether we
    /// are the side whose encoding goes first (in Sv2 Noise: the initiator, with its ephemeral key).
    public static func xonlyECDH(
        secretKey: Secp256k1SecretKey, ours: [UInt8], theirs: [UInt8], initiating: Bool
    ) throws(Sv2CryptoError) -> [UInt8] {
        guard ours.count == 64 else { throw .wrongLength(what: "our encoding", expected: 64, actual: ours.count) }
        return try xonlyECDH(secretKey: secretKey, ours: ours, theirs: theirs, theirX: try decodeX(theirs), initiating: initiating)
    }

    /// ``xonlyECDH(secretKey:ours:theirs:initiating:)`` with the peer's encoding already decoded: `theirX` must be
    /// `decodeX(theirs)`. Saves the decode when one encoding takes part in several ECDHs or is needed for more.
    public static func xonlyECDH(
        secretKey: Secp256k1SecretKey, ours: [UInt8], theirs: [UInt8], theirX: [UInt8], initiating: Bool
    ) throws(Sv2CryptoError) -> [UInt8] {
        guard ours.count == 64 else { throw .wrongLength(what: "our encoding", expected: 64, actual: ours.count) }
        guard theirs.count == 64 else { throw .wrongLength(what: "ElligatorSwift encoding", expected: 64, actual: theirs.count) }
        let x = try secretKey.sharedX(withPointX: theirX)
        var out = [UInt8](repeating: 0, count: 32)
        if initiating {
            sv2_bip324_ellswift_xonly_ecdh_hash(ours, theirs, x, &out)
        } else {
            sv2_bip324_ellswift_xonly_ecdh_hash(theirs, ours, x, &out)
        }
        return out
    }
}
