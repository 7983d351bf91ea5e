/// A failure of a cryptographic operation or of parsing key material.
public enum Sv2CryptoError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An input had the wrong length.
    case wrongLength(what: String, expected: Int, actual: Int)
    /// 32 bytes that are not a valid secp256k1 secret key (zero or not below the group order).
    case invalidSecretKey
    /// 32 bytes that are not the x coordinate of a point on secp256k1.
    case invalidPublicKey
    /// An AEAD tag did not verify.
    case authenticationFailed
    /// A base58 string contains a character outside the alphabet.
    case invalidBase58Character(Character)
    /// A base58check string's checksum does not match its payload.
    case badChecksum
    /// A key string's version prefix is not the expected one.
    case wrongVersion(expected: UInt16, actual: UInt16)
    /// libsecp256k1 or libsodium refused an operation.
    case libraryFailure(String)

    /// A sentence for the user.
    public var description: String {
        switch self {
        case let .wrongLength(what, expected, actual):
            return "\(what) must be \(expected) bytes, got \(actual)"
        case .invalidSecretKey: return "not a valid secp256k1 secret key (zero or not below the curve order)"
        case .invalidPublicKey: return "not the x coordinate of a point on secp256k1"
        case .authenticationFailed: return "authentication tag mismatch (wrong key, or the data was altered)"
        case let .invalidBase58Character(character): return "'\(character)' is not a base58 character"
        case .badChecksum: return "base58check checksum mismatch (mistyped or truncated key?)"
        case let .wrongVersion(expected, actual): return "key version \(actual) is not the expected \(expected)"
        case let .libraryFailure(what): return what
        }
    }
}
