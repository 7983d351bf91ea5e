import Sv2Crypto

/// Why a Noise handshake or an encrypted frame failed. Each case closes only the connection it happened on.
public enum NoiseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A handshake act had the wrong size (act 1 is 64 bytes, act 2 is 234).
    case wrongActLength(act: Int, expected: Int, actual: Int)
    /// An encrypted part of act 2, or a transport message, did not authenticate: it was altered in transit or
    /// the peers do not share the key.
    case decryptionFailed(String)
    /// The certificate's version is not 0.
    case unsupportedCertificateVersion(UInt16)
    /// The certificate's signature does not verify against the configured authority public key.
    case wrongAuthority
    /// The certificate's validity starts later than now (beyond the 10 s leeway).
    case certificateNotYetValid(validFrom: UInt32, now: UInt32)
    /// The certificate's validity ended before now (beyond the 10 s leeway).
    case certificateExpired(notValidAfter: UInt32, now: UInt32)
    /// A step was taken out of order.
    case invalidState(String)
    /// The cipher's nonce reached 2^64 - 1, which Noise forbids using.
    case nonceExhausted
    /// An encrypted frame declares a payload over the configured maximum.
    case frameTooLarge(length: Int, maximum: Int)
    /// A key or encoding was unusable.
    case crypto(Sv2CryptoError)

    /// A sentence naming the failure.
    public var description: String {
        switch self {
        case let .wrongActLength(act, expected, actual):
            return "handshake act \(act) must be \(expected) bytes, got \(actual)"
        case let .decryptionFailed(what): return "\(what) failed to authenticate (tampered, or not our peer)"
        case let .unsupportedCertificateVersion(version): return "certificate version \(version) is not supported (only 0)"
        case .wrongAuthority: return "certificate is not signed by the configured authority public key"
        case let .certificateNotYetValid(validFrom, now):
            return "certificate not yet valid: valid from \(validFrom), now \(now) (10 s leeway)"
        case let .certificateExpired(notValidAfter, now):
            return "certificate expired: not valid after \(notValidAfter), now \(now) (10 s leeway)"
        case let .invalidState(what): return "handshake step out of order: \(what)"
        case .nonceExhausted: return "cipher nonce exhausted (2^64 - 1 messages); the connection must be renewed"
        case let .frameTooLarge(length, maximum): return "encrypted frame payload of \(length) bytes exceeds the maximum of \(maximum)"
        case let .crypto(error): return error.description
        }
    }
}
