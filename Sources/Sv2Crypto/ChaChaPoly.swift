import CSodium

/// ChaCha20-Poly1305 IETF (RFC 8439) as Noise uses it (spec 4.4): 32-byte key, nonce = 4 zero bytes || n as
/// little-endian U64, 16-byte tag appended to the ciphertext.
public enum ChaChaPoly {
    /// Size of the authentication tag.
    public static let tagSize = 16

    /// The 12-byte IETF nonce for Noise counter `n`.
    @inlinable
    public static func nonce(_ n: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 12)
        for index in 0..<8 { bytes[4 + index] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(index))) }
        return bytes
    }

    /// Calls `body` with the 12-byte nonce for counter `n`, built on the stack (no allocation per AEAD call).
    @inline(__always)
    static func withNonce<Result>(_ n: UInt64, _ body: (UnsafePointer<UInt8>) -> Result) -> Result {
        var words: (UInt64, UInt64) = (0, 0)
        return withUnsafeMutableBytes(of: &words) { bytes in
            bytes.storeBytes(of: n.littleEndian, toByteOffset: 4, as: UInt64.self)
            return body(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Encrypts `plaintext`, returning ciphertext || tag.
    public static func seal(key: [UInt8], nonce n: UInt64, associatedData: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plaintext.count + tagSize)
        out.withUnsafeMutableBytes { output in
            plaintext.withUnsafeBytes { input in
                seal(key: key, nonce: n, associatedData: associatedData, plaintext: input, into: output)
            }
        }
        return out
    }

    /// Encrypts `plaintext` into `output` (at least plaintext.count + 16 bytes; it may be the same memory as
    /// `plaintext`), writing the tag after the ciphertext.
    public static func seal(
        key: [UInt8], nonce n: UInt64, associatedData: [UInt8], plaintext: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) {
        Sodium.ensureInitialized()
        precondition(key.count == 32 && output.count >= plaintext.count + tagSize)
        let out = output.bindMemory(to: UInt8.self).baseAddress!
        let input = plaintext.bindMemory(to: UInt8.self).baseAddress
        withNonce(n) { nonce in
            _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                out, out + plaintext.count, nil, input, UInt64(plaintext.count),
                associatedData, UInt64(associatedData.count), nil, nonce, key)
        }
    }

    /// Decrypts ciphertext || tag; throws ``Sv2CryptoError/authenticationFailed`` when the tag does not verify.
    public static func open(key: [UInt8], nonce n: UInt64, associatedData: [UInt8], ciphertext: [UInt8]) throws(Sv2CryptoError) -> [UInt8] {
        guard ciphertext.count >= tagSize else { throw .authenticationFailed }
        var out = [UInt8](repeating: 0, count: ciphertext.count - tagSize)
        let ok = out.withUnsafeMutableBytes { output in
            ciphertext.withUnsafeBytes { input in
                open(key: key, nonce: n, associatedData: associatedData, ciphertext: input, into: output)
            }
        }
        guard ok else { throw .authenticationFailed }
        return out
    }

    /// Decrypts ciphertext || tag into `output` (at least ciphertext.count - 16 bytes, may alias the input);
    /// returns false when the tag does not verify (then `output` holds nothing useful).
    public static func open(
        key: [UInt8], nonce n: UInt64, associatedData: [UInt8], ciphertext: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        Sodium.ensureInitialized()
        guard key.count == 32, ciphertext.count >= tagSize, output.count >= ciphertext.count - tagSize else { return false }
        let length = ciphertext.count - tagSize
        let input = ciphertext.bindMemory(to: UInt8.self).baseAddress!
        let out = output.bindMemory(to: UInt8.self).baseAddress
        return withNonce(n) { nonce in
            crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                out, nil, input, UInt64(length), input + length,
                associatedData, UInt64(associatedData.count), nonce, key) == 0
        }
    }
}
