import Sv2Crypto

/// A secp256k1 key pair as Noise uses it: the secret key and the exact 64-byte ElligatorSwift encoding of its
/// public key that goes on the wire (encodings are randomised; MixHash and ECDH use these bytes).
public struct NoiseKeyPair: Sendable, Hashable {
    /// The secret key.
    public let secretKey: Secp256k1SecretKey
    /// The encoding sent for the public key.
    public let encoding: [UInt8]

    /// Pairs a secret key with an encoding of its public key (checked to decode to the key's x coordinate).
    public init(secretKey: Secp256k1SecretKey, encoding: [UInt8]) throws(NoiseError) {
        let x: [UInt8]
        do {
            x = try ElligatorSwift.decodeX(encoding)
        } catch {
            throw .crypto(error)
        }
        guard x == secretKey.xOnlyPublicKey.bytes else { throw .crypto(.invalidPublicKey) }
        self.secretKey = secretKey
        self.encoding = encoding
    }

    /// Encodes `secretKey`'s public key with 32 bytes of encoding randomness from `random`.
    public init<Random: Sv2RandomSource>(secretKey: Secp256k1SecretKey, random: inout Random) {
        self.secretKey = secretKey
        // The public key of a valid secret key always encodes.
        self.encoding = (try? ElligatorSwift.encode(compressedPublicKey: secretKey.compressedPublicKey, randomness: random.bytes(32))) ?? []
    }

    /// A fresh key pair (an ephemeral key) from `random`.
    public static func generate<Random: Sv2RandomSource>(using random: inout Random) -> NoiseKeyPair {
        NoiseKeyPair(secretKey: .generate(using: &random), random: &random)
    }
}
