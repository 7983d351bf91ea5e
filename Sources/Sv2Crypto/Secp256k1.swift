import CSecp256k1

/// The shared libsecp256k1 context (signing and verification), randomised once at start.
enum Secp256k1Context {
    /// The context pointer; libsecp256k1 contexts are safe to use from several threads for these operations.
    nonisolated(unsafe) static let shared: OpaquePointer = {
        guard let context = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY)) else {
            fatalError("secp256k1_context_create failed")
        }
        var random = SystemRandom()
        var seed = random.bytes(32)
        _ = secp256k1_context_randomize(context, &seed)
        return context
    }()
}

/// A secp256k1 secret key (32 bytes, non-zero, below the group order).
public struct Secp256k1SecretKey: Hashable, Sendable {
    /// The 32 secret bytes, big-endian.
    public let bytes: [UInt8]

    /// Validates 32 bytes as a secret key.
    public init(bytes: [UInt8]) throws(Sv2CryptoError) {
        guard bytes.count == 32 else { throw .wrongLength(what: "secret key", expected: 32, actual: bytes.count) }
        guard secp256k1_ec_seckey_verify(Secp256k1Context.shared, bytes) == 1 else { throw .invalidSecretKey }
        self.bytes = bytes
    }

    /// A fresh key from `random` (retries the astronomically rare invalid draw).
    public static func generate<Random: Sv2RandomSource>(using random: inout Random) -> Secp256k1SecretKey {
        while true {
            if let key = try? Secp256k1SecretKey(bytes: random.bytes(32)) { return key }
        }
    }

    /// The x-only public key (BIP340).
    public var xOnlyPublicKey: XOnlyPublicKey {
        var keypair = secp256k1_keypair()
        _ = secp256k1_keypair_create(Secp256k1Context.shared, &keypair, bytes)
        var xonly = secp256k1_xonly_pubkey()
        _ = secp256k1_keypair_xonly_pub(Secp256k1Context.shared, &xonly, nil, &keypair)
        var out = [UInt8](repeating: 0, count: 32)
        _ = secp256k1_xonly_pubkey_serialize(Secp256k1Context.shared, &out, &xonly)
        return XOnlyPublicKey(validated: out)
    }

    /// BIP340 Schnorr signature of the 32-byte `message` with auxiliary randomness `auxiliaryRandom` (32 bytes).
    public func schnorrSign(message: [UInt8], auxiliaryRandom: [UInt8]) throws(Sv2CryptoError) -> [UInt8] {
        guard message.count == 32 else { throw .wrongLength(what: "message", expected: 32, actual: message.count) }
        guard auxiliaryRandom.count == 32 else { throw .wrongLength(what: "aux_rand", expected: 32, actual: auxiliaryRandom.count) }
        var keypair = secp256k1_keypair()
        guard secp256k1_keypair_create(Secp256k1Context.shared, &keypair, bytes) == 1 else { throw .invalidSecretKey }
        var signature = [UInt8](repeating: 0, count: 64)
        guard secp256k1_schnorrsig_sign32(Secp256k1Context.shared, &signature, message, &keypair, auxiliaryRandom) == 1 else {
            throw .libraryFailure("secp256k1_schnorrsig_sign32 failed")
        }
        return signature
    }

    /// The x coordinate of `self * P`, where P is the point with x coordinate `x` (either y; x(kP) = x(-kP)).
    public func sharedX(withPointX x: [UInt8]) throws(Sv2CryptoError) -> [UInt8] {
        guard x.count == 32 else { throw .wrongLength(what: "x coordinate", expected: 32, actual: x.count) }
        var pubkey = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_parse(Secp256k1Context.shared, &pubkey, [0x02] + x, 33) == 1 else { throw .invalidPublicKey }
        var out = [UInt8](repeating: 0, count: 32)
        let copyX: secp256k1_ecdh_hash_function = { output, x32, _, _ in
            guard let output, let x32 else { return 0 }
            output.update(from: x32, count: 32)
            return 1
        }
        guard secp256k1_ecdh(Secp256k1Context.shared, &out, &pubkey, bytes, copyX, nil) == 1 else {
            throw .libraryFailure("secp256k1_ecdh failed")
        }
        return out
    }
}

/// A BIP340 x-only public key: the 32-byte x coordinate of a point with even y.
public struct XOnlyPublicKey: Hashable, Sendable {
    /// The 32 bytes of x, big-endian.
    public let bytes: [UInt8]

    init(validated bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Validates 32 bytes as the x coordinate of a curve point.
    public init(bytes: [UInt8]) throws(Sv2CryptoError) {
        guard bytes.count == 32 else { throw .wrongLength(what: "x-only public key", expected: 32, actual: bytes.count) }
        var xonly = secp256k1_xonly_pubkey()
        guard secp256k1_xonly_pubkey_parse(Secp256k1Context.shared, &xonly, bytes) == 1 else { throw .invalidPublicKey }
        self.bytes = bytes
    }

    /// Verifies a BIP340 signature of the 32-byte `message`.
    public func verifySchnorr(signature: [UInt8], message: [UInt8]) -> Bool {
        guard signature.count == 64, message.count == 32 else { return false }
        var xonly = secp256k1_xonly_pubkey()
        guard secp256k1_xonly_pubkey_parse(Secp256k1Context.shared, &xonly, bytes) == 1 else { return false }
        return secp256k1_schnorrsig_verify(Secp256k1Context.shared, signature, message, 32, &xonly) == 1
    }
}
