import Sv2Crypto

/// What a completed handshake gives each side: the two transport ciphers and what was learnt about the peer.
public struct NoiseSession: Sendable {
    /// Encrypts what this side sends.
    public var sender: NoiseCipher
    /// Decrypts what this side receives.
    public var receiver: NoiseCipher
    /// The final handshake hash h (identical on both sides; usable for channel binding).
    public var handshakeHash: [UInt8]
    /// The responder's static key encoding (as received by the initiator, as sent by the responder).
    public var responderStaticEncoding: [UInt8]
    /// The certificate the responder presented.
    public var certificate: SignatureNoiseMessage
}

/// The x coordinate of a received ElligatorSwift encoding, in the error type of the handshake.
private func decodeX(_ encoding: [UInt8]) throws(NoiseError) -> [UInt8] {
    do {
        return try ElligatorSwift.decodeX(encoding)
    } catch {
        throw .crypto(error)
    }
}

/// Computes ECDH(k, rk) of spec 4.3 as the error type of the handshake; `theirX` is decodeX(theirs), decoded
/// once by the caller for every use of that encoding.
private func ecdh(_ key: NoiseKeyPair, theirs: [UInt8], theirX: [UInt8], initiating: Bool) throws(NoiseError) -> [UInt8] {
    do {
        return try ElligatorSwift.xonlyECDH(secretKey: key.secretKey, ours: key.encoding, theirs: theirs, theirX: theirX, initiating: initiating)
    } catch {
        throw .crypto(error)
    }
}

/// The initiator (client) side of Noise NX (spec 4.5) as a value-type state machine: no I/O, no clock, no
/// randomness of its own. Feed it the ephemeral key and the current time; it returns the bytes to send.
public struct NoiseInitiator: Sendable {
    /// Size of act 1.
    public static let act1Size = 64
    /// Size of act 2: ephemeral encoding (64) || encrypted static encoding (80) || encrypted certificate (90).
    public static let act2Size = 234

    private enum State: Sendable {
        case initial
        case waitingForAct2
        case done
        case failed
    }

    private var state = State.initial
    private var symmetric = SymmetricState()
    private let ephemeral: NoiseKeyPair
    private let authority: XOnlyPublicKey?

    /// An initiator that will check the responder's certificate against `authority` (nil skips that check:
    /// only for explicitly unauthenticated tools), with `ephemeral` as its ephemeral key.
    public init(authority: XOnlyPublicKey?, ephemeral: NoiseKeyPair) {
        self.authority = authority
        self.ephemeral = ephemeral
    }

    /// Act 1: the ephemeral key's encoding (MixHash(e), then EncryptAndHash(empty) = MixHash(empty)).
    public mutating func writeAct1() throws(NoiseError) -> [UInt8] {
        guard case .initial = state else { throw .invalidState("act 1 was already written") }
        symmetric.mixHash(ephemeral.encoding)
        _ = try symmetric.encryptAndHash([])
        state = .waitingForAct2
        return ephemeral.encoding
    }

    /// Reads act 2 at Unix time `now`: ee, the responder's static key, es, and its certificate, which must be
    /// signed by the authority and valid now. Returns the transport session (the initiator sends with k1).
    public mutating func readAct2(_ act2: [UInt8], now: UInt32) throws(NoiseError) -> NoiseSession {
        guard case .waitingForAct2 = state else { throw .invalidState("act 2 arrived before act 1 was written, or twice") }
        state = .failed
        guard act2.count == Self.act2Size else { throw .wrongActLength(act: 2, expected: Self.act2Size, actual: act2.count) }
        let responderEphemeral = Array(act2[0..<64])
        symmetric.mixHash(responderEphemeral)
        symmetric.mixKey(try ecdh(ephemeral, theirs: responderEphemeral, theirX: try decodeX(responderEphemeral), initiating: true))
        let responderStatic = try symmetric.decryptAndHash(Array(act2[64..<144]), what: "act 2 static key")
        // The static key's x serves both the es ECDH and the certificate check.
        let staticX = try decodeX(responderStatic)
        symmetric.mixKey(try ecdh(ephemeral, theirs: responderStatic, theirX: staticX, initiating: true))
        let certificate = try SignatureNoiseMessage(bytes: symmetric.decryptAndHash(Array(act2[144...]), what: "act 2 certificate"))
        try certificate.verify(authority: authority, serverStaticX: staticX, now: now)
        let (toResponder, toInitiator) = symmetric.split()
        state = .done
        return NoiseSession(
            sender: toResponder, receiver: toInitiator, handshakeHash: symmetric.handshakeHash,
            responderStaticEncoding: responderStatic, certificate: certificate)
    }
}

/// The responder (server) side of Noise NX (spec 4.5) as a value-type state machine. The caller supplies the
/// static key, a fresh ephemeral key, and the certificate (signed for this connection, see
/// ``SignatureNoiseMessage/sign(authority:serverStaticX:validFrom:validity:auxiliaryRandom:)``).
public struct NoiseResponder: Sendable {
    private var symmetric = SymmetricState()
    private var finished = false
    private let staticKey: NoiseKeyPair
    private let ephemeral: NoiseKeyPair
    private let certificate: SignatureNoiseMessage

    /// A responder for one connection.
    public init(staticKey: NoiseKeyPair, ephemeral: NoiseKeyPair, certificate: SignatureNoiseMessage) {
        self.staticKey = staticKey
        self.ephemeral = ephemeral
        self.certificate = certificate
    }

    /// Reads act 1 and writes act 2; returns act 2 and the transport session (the responder sends with k2).
    public mutating func respond(toAct1 act1: [UInt8]) throws(NoiseError) -> (act2: [UInt8], session: NoiseSession) {
        guard !finished else { throw .invalidState("act 1 was already answered") }
        finished = true
        guard act1.count == NoiseInitiator.act1Size else {
            throw .wrongActLength(act: 1, expected: NoiseInitiator.act1Size, actual: act1.count)
        }
        symmetric.mixHash(act1)
        _ = try symmetric.decryptAndHash([], what: "act 1")
        symmetric.mixHash(ephemeral.encoding)
        // The initiator's ephemeral key takes part in both ECDHs: decode it once.
        let initiatorX = try decodeX(act1)
        symmetric.mixKey(try ecdh(ephemeral, theirs: act1, theirX: initiatorX, initiating: false))
        let encryptedStatic = try symmetric.encryptAndHash(staticKey.encoding)
        symmetric.mixKey(try ecdh(staticKey, theirs: act1, theirX: initiatorX, initiating: false))
        let encryptedCertificate = try symmetric.encryptAndHash(certificate.bytes)
        let (toResponder, toInitiator) = symmetric.split()
        let session = NoiseSession(
            sender: toInitiator, receiver: toResponder, handshakeHash: symmetric.handshakeHash,
            responderStaticEncoding: staticKey.encoding, certificate: certificate)
        var act2 = [UInt8]()
        act2.reserveCapacity(NoiseInitiator.act2Size)
        act2 += ephemeral.encoding
        act2 += encryptedStatic
        act2 += encryptedCertificate
        return (act2, session)
    }
}
