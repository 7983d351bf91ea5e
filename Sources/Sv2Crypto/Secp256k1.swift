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
///
/// The public key is computed once, when the key is created, and kept with it (as a libsecp256k1 key pair):
/// the public key forms and signing then cost no further scalar multiplication. Equality and hashing use the
/// secret bytes only.
public struct Secp256k1SecretKey: Hashable, Sendable {
    /// The 32 secret bytes, big-endian.
    public let bytes: [UInt8]
    /// libsecp256k1's key pair: the secret and its public key.
    private let keypair: secp256k1_keypair

    /// Validates 32 bytes as a secret key and computes its public key.
    public init(bytes: [UInt8]) throws(Sv2CryptoError) {
        guard bytes.count == 32 else { throw .wrongLength(what: "secret key", expected: 32, actual: bytes.count) }
        var keypair = secp256k1_keypair()
        // Fails exactly when secp256k1_ec_seckey_verify does: zero or not below the group order.
        guard secp256k1_keypair_create(Secp256k1Context.shared, &keypair, bytes) == 1 else { throw .invalidSecretKey }
        self.bytes = bytes
        self.keypair = keypair
    }

    /// Equal when the secret bytes are.
    public static func == (lhs: Secp256k1SecretKey, rhs: Secp256k1SecretKey) -> Bool {
        lhs.bytes == rhs.bytes
    }

    /// Hashes the secret bytes.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes)
    }

    /// A fresh key from `random` (retries the astronomically rare invalid draw).
    public static func generate<Random: Sv2RandomSource>(using random: inout Random) -> Secp256k1SecretKey {
        while true {
            if let key = try? Secp256k1SecretKey(bytes: random.bytes(32)) { return key }
        }
    }

    /// The x-only public key (BIP340).
    public var xOnlyPublicKey: XOnlyPublicKey {
        var xonly = secp256k1_xonly_pubkey()
        withUnsafePointer(to: keypair) { keypair in
            _ = secp256k1_keypair_xonly_pub(Secp256k1Context.shared, &xonly, nil, keypair)
        }
        var out = [UInt8](repeating: 0, count: 32)
        _ = secp256k1_xonly_pubkey_serialize(Secp256k1Context.shared, &out, &xonly)
        return XOnlyPublicKey(validated: out, parsed: xonly)
    }

    /// The 33-byte compressed public key (0x02/0x03 || x).
    public var compressedPublicKey: [UInt8] {
        var pubkey = secp256k1_pubkey()
        withUnsafePointer(to: keypair) { keypair in
            _ = secp256k1_keypair_pub(Secp256k1Context.shared, &pubkey, keypair)
        }
        var out = [UInt8](repeating: 0, count: 33)
        var length = 33
        _ = secp256k1_ec_pubkey_serialize(Secp256k1Context.shared, &out, &length, &pubkey, UInt32(SECP256K1_EC_COMPRESSED))
        return out
    }

    /// BIP340 Schnorr signature of the 32-byte `message` with auxiliary randomness `auxiliaryRandom` (32 bytes).
    public func schnorrSign(message: [UInt8], auxiliaryRandom: [UInt8]) throws(Sv2CryptoError) -> [UInt8] {
        guard message.count == 32 else { throw .wrongLength(what: "message", expected: 32, actual: message.count) }
        guard auxiliaryRandom.count == 32 else { throw .wrongLength(what: "aux_rand", expected: 32, actual: auxiliaryRandom.count) }
        var signature = [UInt8](repeating: 0, count: 64)
        let signed = withUnsafePointer(to: keypair) { keypair in
            secp256k1_schnorrsig_sign32(Secp256k1Context.shared, &signature, message, keypair, auxiliaryRandom) == 1
        }
        guard signed else { throw .libraryFailure("secp256k1_schnorrsig_sign32 failed") }
        return signature
    }

    /// The x coordinate of `self * P`, where P is the point with x coordinate `x` (either y; x(kP) = x(-kP)).
    public func sharedX(withPointX x: [UInt8]) throws(Sv2CryptoError) -> [UInt8] {
        guard x.count == 32 else { throw .wrongLength(what: "x coordinate", expected: 32, actual: x.count) }
        var pubkey = secp256k1_pubkey()
        // 0x02 || x on the stack: the point with that x and even y (either y gives the same x(kP)).
        var compressed: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &compressed) { buffer in
            buffer[0] = 0x02
            x.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[1..<33]).copyMemory(from: $0) }
            return secp256k1_ec_pubkey_parse(Secp256k1Context.shared, &pubkey, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), 33)
        }
        guard parsed == 1 else { throw .invalidPublicKey }
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
///
/// The parsed point is kept with the bytes, so verifying a signature does not parse (take a square root) again.
/// Equality and hashing use the bytes only.
public struct XOnlyPublicKey: Hashable, Sendable {
    /// The 32 bytes of x, big-endian.
    public let bytes: [UInt8]
    /// libsecp256k1's parsed form of `bytes`.
    private let parsed: secp256k1_xonly_pubkey

    /// Wraps bytes and their parsed form, both from libsecp256k1.
    init(validated bytes: [UInt8], parsed: secp256k1_xonly_pubkey) {
        self.bytes = bytes
        self.parsed = parsed
    }

    /// Validates 32 bytes as the x coordinate of a curve point.
    public init(bytes: [UInt8]) throws(Sv2CryptoError) {
        guard bytes.count == 32 else { throw .wrongLength(what: "x-only public key", expected: 32, actual: bytes.count) }
        var xonly = secp256k1_xonly_pubkey()
        guard secp256k1_xonly_pubkey_parse(Secp256k1Context.shared, &xonly, bytes) == 1 else { throw .invalidPublicKey }
        self.bytes = bytes
        self.parsed = xonly
    }

    /// Equal when the bytes are.
    public static func == (lhs: XOnlyPublicKey, rhs: XOnlyPublicKey) -> Bool {
        lhs.bytes == rhs.bytes
    }

    /// Hashes the bytes.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes)
    }

    /// Verifies a BIP340 signature of the 32-byte `message`.
    public func verifySchnorr(signature: [UInt8], message: [UInt8]) -> Bool {
        guard signature.count == 64, message.count == 32 else { return false }
        return withUnsafePointer(to: parsed) { xonly in
            secp256k1_schnorrsig_verify(Secp256k1Context.shared, signature, message, 32, xonly) == 1
        }
    }
}
