import Sv2Crypto

/// The certificate a responder sends in act 2 (spec 4.5.3, SIGNATURE_NOISE_MESSAGE): 74 bytes,
/// version U16 || valid_from U32 || not_valid_after U32 || BIP340 signature (64), integers little-endian.
///
/// The signature is by the pool's authority key over m = SHA256(version || valid_from || not_valid_after ||
/// server static x-only key).
public struct SignatureNoiseMessage: Hashable, Sendable {
    /// Size on the wire.
    public static let size = 74
    /// Seconds of clock difference tolerated on both ends of the validity window (as SRI).
    public static let leeway: UInt32 = 10

    /// Certificate format version; only 0 exists.
    public var version: UInt16
    /// Start of validity, Unix seconds.
    public var validFrom: UInt32
    /// End of validity, Unix seconds.
    public var notValidAfter: UInt32
    /// BIP340 signature by the authority key.
    public var signature: [UInt8]

    /// Wraps the fields.
    public init(version: UInt16 = 0, validFrom: UInt32, notValidAfter: UInt32, signature: [UInt8]) {
        self.version = version
        self.validFrom = validFrom
        self.notValidAfter = notValidAfter
        self.signature = signature
    }

    /// Signs a version-0 certificate for the server static key whose x coordinate is `serverStaticX`, valid from
    /// `validFrom` for `validity` seconds, with BIP340 auxiliary randomness `auxiliaryRandom`.
    public static func sign(
        authority: Secp256k1SecretKey, serverStaticX: [UInt8], validFrom: UInt32, validity: UInt32, auxiliaryRandom: [UInt8]
    ) throws(NoiseError) -> SignatureNoiseMessage {
        let notValidAfter = validFrom &+ validity < validFrom ? UInt32.max : validFrom + validity
        var message = SignatureNoiseMessage(validFrom: validFrom, notValidAfter: notValidAfter, signature: [])
        do {
            message.signature = try authority.schnorrSign(message: message.signedHash(serverStaticX: serverStaticX), auxiliaryRandom: auxiliaryRandom)
        } catch {
            throw .crypto(error)
        }
        return message
    }

    /// m = SHA256(version || valid_from || not_valid_after || server_static_x).
    public func signedHash(serverStaticX: [UInt8]) -> [UInt8] {
        Sv2Hash.sha256(Array(bytes.prefix(10)), serverStaticX)
    }

    /// The 74 bytes.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(Self.size)
        out += [UInt8(truncatingIfNeeded: version), UInt8(truncatingIfNeeded: version >> 8)]
        for value in [validFrom, notValidAfter] {
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
        }
        return out + signature
    }

    /// Parses 74 bytes.
    public init(bytes: [UInt8]) throws(NoiseError) {
        guard bytes.count == Self.size else { throw .crypto(.wrongLength(what: "SIGNATURE_NOISE_MESSAGE", expected: Self.size, actual: bytes.count)) }
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) } }
        version = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
        validFrom = u32(2)
        notValidAfter = u32(6)
        signature = Array(bytes[10...])
    }

    /// Checks version, signature and validity window (with ``leeway``) as the initiator must.
    /// With `authority` nil the signature is not checked (only for tests and explicitly unauthenticated tools).
    public func verify(authority: XOnlyPublicKey?, serverStaticX: [UInt8], now: UInt32) throws(NoiseError) {
        guard version == 0 else { throw .unsupportedCertificateVersion(version) }
        if let authority {
            guard authority.verifySchnorr(signature: signature, message: signedHash(serverStaticX: serverStaticX)) else {
                throw .wrongAuthority
            }
        }
        guard UInt64(now) + UInt64(Self.leeway) >= UInt64(validFrom) else { throw .certificateNotYetValid(validFrom: validFrom, now: now) }
        guard UInt64(now) <= UInt64(notValidAfter) + UInt64(Self.leeway) else {
            throw .certificateExpired(notValidAfter: notValidAfter, now: now)
        }
    }
}
