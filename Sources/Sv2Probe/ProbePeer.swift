import Sv2Binary
import Sv2Messages

/// What a probe connection delivers next.
public enum ProbeEvent: Sendable, Hashable {
    /// A message from the peer.
    case message(Sv2DecodedFrame)
    /// The peer closed the connection (or it failed); the reason when one was reported.
    case closed(String?)
    /// Nothing arrived in the time allowed.
    case timeout
}

/// One connection of the probe to the endpoint under test, ready for frames (handshake done). The checks talk to
/// the peer only through this, so they run the same over TCP and against a scripted peer in tests.
public protocol ProbePeer: AnyObject, Sendable {
    /// Sends `message`, with `tlvs` appended.
    func send(_ message: Sv2Message, tlvs: [Sv2TLV]) async throws
    /// Sends `frame` as it is (a frame no message would produce).
    func send(frame: Sv2Frame) async throws
    /// The next event, waiting at most `seconds`; after the connection closed, `.closed` again and again.
    func next(within seconds: Double) async -> ProbeEvent
    /// Closes the connection.
    func close() async
}

extension ProbePeer {
    /// Sends `message` without TLV fields.
    public func send(_ message: Sv2Message) async throws {
        try await send(message, tlvs: [])
    }
}

/// What the handshake showed about the server's identity.
public struct ProbeHandshake: Sendable, Hashable {
    /// The certificate's validity window (unix seconds), nil in plaintext.
    public var validFrom: UInt32?
    /// The end of that window.
    public var notValidAfter: UInt32?
    /// True when the certificate's signature was checked against the authority key given in the URL.
    public var authorityChecked: Bool

    /// A handshake description from its parts.
    public init(validFrom: UInt32?, notValidAfter: UInt32?, authorityChecked: Bool) {
        self.validFrom = validFrom
        self.notValidAfter = notValidAfter
        self.authorityChecked = authorityChecked
    }
}

/// Opens connections to the endpoint under test; every check opens its own.
public protocol ProbeDialer: Sendable {
    /// True when connections are plaintext (no Noise).
    var isPlaintext: Bool { get }
    /// The host and port connections go to (what SetupConnection names, 3.6.1).
    var endpoint: (host: String, port: Int) { get }
    /// A new connection, ready for frames, with what its handshake showed. Throws when the connection or the
    /// handshake fails (the error's description says why).
    func open() async throws -> (peer: any ProbePeer, handshake: ProbeHandshake)
    /// Connects without the Sv2 transport, writes `bytes`, and reports whether the peer closed the connection within
    /// `seconds` (bytes it sent back are counted, not interpreted).
    func sendRaw(_ bytes: [UInt8], closedWithin seconds: Double) async throws -> (closed: Bool, received: Int)
}
