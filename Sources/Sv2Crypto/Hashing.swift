import CSodium

/// SHA-256, HMAC-SHA256 and the HKDF of spec 4.3, through libsodium.
public enum Sv2Hash {
    /// SHA-256 of the concatenation of `parts`.
    public static func sha256(_ parts: [UInt8]...) -> [UInt8] {
        sha256(parts: parts)
    }

    /// SHA-256 of the concatenation of `parts`.
    public static func sha256(parts: [[UInt8]]) -> [UInt8] {
        Sodium.ensureInitialized()
        var state = crypto_hash_sha256_state()
        crypto_hash_sha256_init(&state)
        for part in parts { crypto_hash_sha256_update(&state, part, UInt64(part.count)) }
        var out = [UInt8](repeating: 0, count: 32)
        crypto_hash_sha256_final(&state, &out)
        return out
    }

    /// SHA-256 applied twice (Bitcoin's SHA256d).
    public static func sha256d(_ data: [UInt8]) -> [UInt8] {
        sha256(sha256(data))
    }

    /// HMAC-SHA256 with a key of any length over the concatenation of `parts`.
    public static func hmacSHA256(key: [UInt8], _ parts: [UInt8]...) -> [UInt8] {
        Sodium.ensureInitialized()
        var state = crypto_auth_hmacsha256_state()
        crypto_auth_hmacsha256_init(&state, key, key.count)
        for part in parts { crypto_auth_hmacsha256_update(&state, part, UInt64(part.count)) }
        var out = [UInt8](repeating: 0, count: 32)
        crypto_auth_hmacsha256_final(&state, &out)
        return out
    }

    /// HKDF as spec 4.3 defines it for Noise: two 32-byte outputs from chaining key `ck` and input key material.
    ///
    /// temp = HMAC(ck, ikm); out1 = HMAC(temp, 0x01); out2 = HMAC(temp, out1 || 0x02).
    /// The two HMACs keyed with temp share one keyed state (temp's inner and outer pads are hashed once).
    public static func hkdf2(chainingKey: [UInt8], inputKeyMaterial: [UInt8]) -> (first: [UInt8], second: [UInt8]) {
        let temp = hmacSHA256(key: chainingKey, inputKeyMaterial)
        var keyed = crypto_auth_hmacsha256_state()
        crypto_auth_hmacsha256_init(&keyed, temp, temp.count)
        var state = keyed
        var one: UInt8 = 0x01
        crypto_auth_hmacsha256_update(&state, &one, 1)
        var first = [UInt8](repeating: 0, count: 32)
        crypto_auth_hmacsha256_final(&state, &first)
        state = keyed
        var two: UInt8 = 0x02
        crypto_auth_hmacsha256_update(&state, first, 32)
        crypto_auth_hmacsha256_update(&state, &two, 1)
        var second = [UInt8](repeating: 0, count: 32)
        crypto_auth_hmacsha256_final(&state, &second)
        return (first, second)
    }

    /// BIP340's tagged hash: SHA256(SHA256(tag) || SHA256(tag) || data).
    public static func tagged(_ tag: String, _ parts: [UInt8]...) -> [UInt8] {
        let tagHash = sha256(Array(tag.utf8))
        return sha256(parts: [tagHash, tagHash] + parts)
    }
}

/// libsodium's one-time initialisation.
enum Sodium {
    private static let initialized: Bool = sodium_init() >= 0

    /// Calls sodium_init once; libsodium's functions are safe to use after it.
    static func ensureInitialized() {
        precondition(initialized, "libsodium failed to initialise")
    }
}
