import Bitcoin
import Sv2Binary
import Sv2Sessions

/// What only a miner's glue can do for its session, whatever the protocol; `Event` is what the log gets.
public enum MinerEffect<Event: Hashable & Sendable>: Hashable, Sendable {
    /// Give this work to the engine's lane (nil: stop hashing on it).
    case setWork(lane: Int, MiningWork?)
    /// Log this.
    case event(Event)
    /// The pool asked the miner to move: close and connect to `host`:`port` now.
    case reconnect(host: String, port: Int)
    /// Nothing can be mined: stop the miner with this reason.
    case fail(String)
}

/// A miner session's actions: `Message` goes on the wire (Sv2Message, Sv1Message), the effects to the miner.
public typealias MinerSessionAction<Message, Event: Hashable & Sendable> = SessionAction<Message, MinerEffect<Event>>

extension SessionAction {
    /// Give `work` to the engine's `lane`.
    public static func setWork<Event>(lane: Int, _ work: MiningWork?) -> Self where Effect == MinerEffect<Event> {
        .effect(.setWork(lane: lane, work))
    }

    /// Log `event`.
    public static func event<Event>(_ event: Event) -> Self where Effect == MinerEffect<Event> {
        .effect(.event(event))
    }

    /// Move to `host`:`port` at once.
    public static func reconnect<Event>(host: String, port: Int) -> Self where Effect == MinerEffect<Event> {
        .effect(.reconnect(host: host, port: port))
    }

    /// Stop the miner for `reason`.
    public static func fail<Event>(_ reason: String) -> Self where Effect == MinerEffect<Event> {
        .effect(.fail(reason))
    }
}

/// The miner's side of one pool connection as a ``ConnectionSession``, so that one I/O glue (the CPU miner, the
/// translator's upstream) drives any protocol: messages and found shares in, actions out. One session serves one
/// connection; the next connection's session continues its ``statistics`` and ``nextWorkID``.
public protocol MinerSession: ConnectionSession where Inbound == Outbound, Effect == MinerEffect<Event> {
    /// What the session reports for the log.
    associatedtype Event: Hashable & Sendable

    /// Share counts, continued from the previous connection's session.
    var statistics: MinerStatistics { get }
    /// The id the next work handed out gets.
    var nextWorkID: UInt64 { get }
    /// Shares sent that the pool has not answered yet.
    var unansweredShares: Int { get }
    /// A share the engine found on `lane`.
    mutating func submit(_ share: FoundShare, lane: Int) -> [SessionAction<Outbound, Effect>]
    /// The miner is shutting down: last messages before the connection closes.
    mutating func close() -> [SessionAction<Outbound, Effect>]
}
