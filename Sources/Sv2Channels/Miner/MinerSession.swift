import Bitcoin
import Sv2Binary

/// What a miner's session asks its I/O glue to do, in order, whatever the protocol: `Message` is what goes on the
/// wire (Sv2Message, Sv1Message), `Event` what the log gets.
public enum MinerSessionAction<Message: Hashable & Sendable, Event: Hashable & Sendable>: Hashable, Sendable {
    /// Send this message to the pool.
    case send(Message)
    /// Give this work to the engine's lane (nil: stop hashing on it).
    case setWork(lane: Int, MiningWork?)
    /// Log this.
    case event(Event)
    /// Close the connection for this reason and connect again later.
    case close(String)
    /// The pool asked the miner to move: close and connect to `host`:`port` now.
    case reconnect(host: String, port: Int)
    /// Nothing can be mined: stop the miner with this reason.
    case fail(String)
}

/// The miner's side of one pool connection as a sans-IO state machine, so that one I/O glue (the CPU miner) drives
/// any protocol: messages and found shares in, ``MinerSessionAction``s out. One session serves one connection; the
/// next connection's session continues its ``statistics`` and ``nextWorkID``.
public protocol MinerSession: Sendable {
    /// The protocol's message, both directions.
    associatedtype Message: Hashable & Sendable
    /// What the session reports for the log.
    associatedtype Event: Hashable & Sendable

    /// Share counts, continued from the previous connection's session.
    var statistics: MinerStatistics { get }
    /// The id the next work handed out gets.
    var nextWorkID: UInt64 { get }
    /// The connection is up: the first messages.
    mutating func start() -> [MinerSessionAction<Message, Event>]
    /// A message from the pool.
    mutating func receive(_ message: Message) -> [MinerSessionAction<Message, Event>]
    /// A share the engine found on `lane`.
    mutating func submit(_ share: FoundShare, lane: Int) -> [MinerSessionAction<Message, Event>]
    /// The miner is shutting down: last messages before the connection closes.
    mutating func close() -> [MinerSessionAction<Message, Event>]
}
