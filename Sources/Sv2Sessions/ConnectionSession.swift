/// One connection's protocol logic as a sans-IO state machine: events in (with `now`), ``SessionAction``s out. The
/// connection engine of `Sv2Network` runs every role's sessions the same way: ``start(now:)`` once the transport
/// is ready (after the Noise handshake), ``receive(_:now:)`` for each message, ``readComplete(now:)`` when a read
/// burst is over (a point to batch answers at), ``tick(now:)`` from a periodic timer, ``malformed(_:now:)`` for
/// input that does not decode. The engine closes a connection that is not ``isSetUp`` within its setup timeout.
public protocol ConnectionSession: Sendable {
    /// Messages from the peer.
    associatedtype Inbound: Sendable
    /// Messages to the peer.
    associatedtype Outbound: Sendable
    /// Role-specific effects (``NoEffect`` when there are none).
    associatedtype Effect: Sendable

    /// The transport is ready: the first messages (a client's SetupConnection), often none for a server.
    mutating func start(now: Timestamp) -> [SessionAction<Outbound, Effect>]
    /// A message from the peer.
    mutating func receive(_ message: Inbound, now: Timestamp) -> [SessionAction<Outbound, Effect>]
    /// Everything one read from the socket delivered has been received.
    mutating func readComplete(now: Timestamp) -> [SessionAction<Outbound, Effect>]
    /// A periodic tick (vardiff, keepalives).
    mutating func tick(now: Timestamp) -> [SessionAction<Outbound, Effect>]
    /// Input that did not decode as a message; `problem` says why.
    mutating func malformed(_ problem: String, now: Timestamp) -> [SessionAction<Outbound, Effect>]
    /// True once the connection is set up (SetupConnection answered, the Sv1 miner subscribed...).
    var isSetUp: Bool { get }
}

extension ConnectionSession {
    /// Nothing to send at the start.
    public mutating func start(now: Timestamp) -> [SessionAction<Outbound, Effect>] { [] }
    /// Nothing batched.
    public mutating func readComplete(now: Timestamp) -> [SessionAction<Outbound, Effect>] { [] }
    /// Nothing periodic.
    public mutating func tick(now: Timestamp) -> [SessionAction<Outbound, Effect>] { [] }
    /// A malformed message closes the connection.
    public mutating func malformed(_ problem: String, now: Timestamp) -> [SessionAction<Outbound, Effect>] {
        [.close("malformed message: \(problem)")]
    }
}
