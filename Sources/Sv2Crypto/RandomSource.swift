import CSodium

/// Where key generation and encodings draw their randomness from; tests inject a deterministic source.
public protocol Sv2RandomSource {
    /// Returns `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8]
}

/// The operating system's CSPRNG, through libsodium's randombytes_buf.
public struct SystemRandom: Sv2RandomSource, Sendable {
    /// Creates the source.
    public init() {}

    /// `count` bytes from the system CSPRNG.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: count)
        randombytes_buf(&out, count)
        return out
    }
}
