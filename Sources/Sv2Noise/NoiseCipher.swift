import Sv2Crypto

/// A Noise CipherState for one direction (spec 4.4): ChaCha20-Poly1305 with key k and the counter nonce n.
///
/// n advances after each successful operation only; a failed decryption leaves it unchanged, and n = 2^64 - 1
/// is refused.
public struct NoiseCipher: Sendable {
    /// The 32-byte key.
    public let key: [UInt8]
    /// The nonce of the next operation.
    public private(set) var nonce: UInt64

    /// A cipher with `key`, starting at nonce `nonce` (0 for a fresh key).
    public init(key: [UInt8], nonce: UInt64 = 0) {
        self.key = key
        self.nonce = nonce
    }

    private func checkNonce() throws(NoiseError) {
        guard nonce != UInt64.max else { throw .nonceExhausted }
    }

    /// Encrypts `plaintext` with associated data `ad`: ciphertext || tag.
    public mutating func seal(associatedData ad: [UInt8] = [], _ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        try checkNonce()
        defer { nonce += 1 }
        return ChaChaPoly.seal(key: key, nonce: nonce, associatedData: ad, plaintext: plaintext)
    }

    /// Decrypts ciphertext || tag with associated data `ad`; `what` names the message in the error.
    public mutating func open(associatedData ad: [UInt8] = [], _ ciphertext: [UInt8], what: String) throws(NoiseError) -> [UInt8] {
        try checkNonce()
        do {
            let plaintext = try ChaChaPoly.open(key: key, nonce: nonce, associatedData: ad, ciphertext: ciphertext)
            nonce += 1
            return plaintext
        } catch {
            throw .decryptionFailed(what)
        }
    }

    /// Encrypts in place: `buffer` holds the plaintext in its first `length` bytes and has 16 more for the tag.
    public mutating func seal(inPlace buffer: UnsafeMutableRawBufferPointer, length: Int) throws(NoiseError) {
        try checkNonce()
        ChaChaPoly.seal(key: key, nonce: nonce, associatedData: [], plaintext: UnsafeRawBufferPointer(rebasing: buffer[..<length]), into: buffer)
        nonce += 1
    }

    /// Encrypts `plaintext` into `output` (plaintext.count + 16 bytes: ciphertext || tag); the two may overlap
    /// only if they start at the same address.
    public mutating func seal(_ plaintext: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(NoiseError) {
        try checkNonce()
        ChaChaPoly.seal(key: key, nonce: nonce, associatedData: [], plaintext: plaintext, into: output)
        nonce += 1
    }

    /// Decrypts `ciphertext` (with its tag) into `output`, which may be the same memory.
    public mutating func open(_ ciphertext: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, what: @autoclosure () -> String) throws(NoiseError) {
        try checkNonce()
        guard ChaChaPoly.open(key: key, nonce: nonce, associatedData: [], ciphertext: ciphertext, into: output) else {
            throw .decryptionFailed(what())
        }
        nonce += 1
    }
}

/// The symmetric state of the handshake (Noise spec 5.2): chaining key ck, handshake hash h, and a cipher once a
/// key has been mixed in.
struct SymmetricState {
    /// Noise protocol name of Sv2 (spec 4.2).
    static let protocolName = Array("Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256".utf8)

    private(set) var chainingKey: [UInt8]
    private(set) var handshakeHash: [UInt8]
    private(set) var cipher: NoiseCipher?

    /// ck = SHA256(protocol name), the same for every handshake.
    private static let initialChainingKey = Sv2Hash.sha256(protocolName)
    /// h = SHA256(ck), the same for every handshake.
    private static let initialHandshakeHash = Sv2Hash.sha256(initialChainingKey)

    /// ck = SHA256(protocol name), h = SHA256(ck); no prologue. Both are constants, hashed once per process.
    init() {
        chainingKey = Self.initialChainingKey
        handshakeHash = Self.initialHandshakeHash
    }

    mutating func mixHash(_ data: [UInt8]) {
        handshakeHash = Sv2Hash.sha256(handshakeHash, data)
    }

    mutating func mixKey(_ inputKeyMaterial: [UInt8]) {
        let (chainingKey, key) = Sv2Hash.hkdf2(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial)
        self.chainingKey = chainingKey
        cipher = NoiseCipher(key: key)
    }

    /// With no key yet, MixHash(plaintext) and the plaintext itself; else the ciphertext, hashed.
    mutating func encryptAndHash(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard var cipher else {
            mixHash(plaintext)
            return plaintext
        }
        let ciphertext = try cipher.seal(associatedData: handshakeHash, plaintext)
        self.cipher = cipher
        mixHash(ciphertext)
        return ciphertext
    }

    mutating func decryptAndHash(_ ciphertext: [UInt8], what: String) throws(NoiseError) -> [UInt8] {
        guard var cipher else {
            mixHash(ciphertext)
            return ciphertext
        }
        let plaintext = try cipher.open(associatedData: handshakeHash, ciphertext, what: what)
        self.cipher = cipher
        mixHash(ciphertext)
        return plaintext
    }

    /// The two transport keys: (k1, k2) = HKDF(ck, empty). The initiator sends with k1.
    func split() -> (initiatorToResponder: NoiseCipher, responderToInitiator: NoiseCipher) {
        let (first, second) = Sv2Hash.hkdf2(chainingKey: chainingKey, inputKeyMaterial: [])
        return (NoiseCipher(key: first), NoiseCipher(key: second))
    }
}
