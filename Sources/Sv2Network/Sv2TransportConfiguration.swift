import NIOCore
import Sv2Binary
import Sv2Crypto
import Sv2Noise
import Sv2Sessions

/// How a connection is secured.
public enum Sv2TransportSecurity: Sendable {
    /// No encryption: plaintext frames. Only for local networks, and only when configured explicitly.
    case plaintext
    /// Noise NX as initiator (client): the server's certificate must be signed by `authority`. With nil the
    /// certificate's signature is not checked (only for explicitly unauthenticated tools such as `sv2 repl`).
    case initiator(authority: XOnlyPublicKey?)
    /// Noise NX as responder (server), presenting a certificate signed for each connection.
    case responder(Sv2ResponderIdentity)
}

/// A server's Noise identity: its static key and the authority key that signs a fresh certificate for every
/// connection (valid from "now" for `certificateValidity` seconds, as SRI does).
public struct Sv2ResponderIdentity: Sendable {
    /// The authority key pair's secret key (its public key is what clients configure).
    public var authoritySecretKey: Secp256k1SecretKey
    /// The server's static key with the encoding sent for it. It is encoded once: every 64-byte encoding of the
    /// key is equally valid, and encoding costs about as much as a key generation.
    public var staticKey: NoiseKeyPair
    /// Validity of each certificate in seconds (SRI's `cert_validity_sec`, default 3600).
    public var certificateValidity: UInt32

    /// An identity; the static key defaults to a fresh random key for this process.
    public init(authoritySecretKey: Secp256k1SecretKey, staticSecretKey: Secp256k1SecretKey? = nil, certificateValidity: UInt32 = 3600) {
        var random = SystemRandom()
        self.authoritySecretKey = authoritySecretKey
        self.staticKey = NoiseKeyPair(secretKey: staticSecretKey ?? .generate(using: &random), random: &random)
        self.certificateValidity = certificateValidity
    }
}

/// Options of the transport handler.
public struct Sv2TransportConfiguration: Sendable {
    /// Plaintext, initiator or responder.
    public var security: Sv2TransportSecurity
    /// Largest frame payload accepted from the peer, checked before allocating.
    public var maximumPayloadLength: Int
    /// Time allowed for the Noise handshake.
    public var handshakeTimeout: TimeAmount
    /// The clock certificates are signed and checked against.
    public var clock: Sv2Clock
    /// Where each connection's ephemeral keys and signature randomness come from.
    public var random: @Sendable () -> any Sv2RandomSource

    /// A configuration; defaults: 1 MiB payloads (a template or a transaction list fits), 10 s handshake,
    /// the system clock and the system's CSPRNG.
    public init(
        security: Sv2TransportSecurity, maximumPayloadLength: Int = 1 << 20, handshakeTimeout: TimeAmount = .seconds(10),
        clock: Sv2Clock = .system, random: @escaping @Sendable () -> any Sv2RandomSource = { SystemRandom() }
    ) {
        self.security = security
        self.maximumPayloadLength = maximumPayloadLength
        self.handshakeTimeout = handshakeTimeout
        self.clock = clock
        self.random = random
    }
}

extension Sv2TransportConfiguration {
    /// A server's configuration: Noise responder with certificates signed by `authority`, valid `certificateValidity`
    /// seconds from `clock`'s time; the other defaults.
    public static func responder(authority: Secp256k1SecretKey, certificateValidity: UInt32, clock: Sv2Clock) -> Sv2TransportConfiguration {
        Sv2TransportConfiguration(
            security: .responder(Sv2ResponderIdentity(authoritySecretKey: authority, certificateValidity: certificateValidity)), clock: clock)
    }
}
