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

/// What a found share is worth to the pool (see ``MiningWork/assess(_:target:)``).
public struct ShareAssessment: Hashable, Sendable {
    /// SHA256d of the share's header, as a little-endian number.
    public var hash: U256
    /// The hash meets the header's nBits: a block.
    public var isBlock: Bool
    /// The hash meets the share target.
    public var meetsTarget: Bool

    /// Worth sending: a block (even when a newer target put it above the share target) or a share.
    public var isSubmittable: Bool { isBlock || meetsTarget }
}

extension MiningWork {
    /// Checks `share` against nBits and `target` (the target now in force, which may be harder than the one the
    /// engine hashed against); nil when the share does not fit this work (an engine error). The header is hashed on
    /// the C path (SHA-NI when present), without serialising it into an array.
    public func assess(_ share: FoundShare, target: U256) -> ShareAssessment? {
        guard let header = header(for: share) else { return nil }
        let hash = ShareHash.header(
            version: header.version, previousBlockHash: header.previousBlockHash, merkleRoot: header.merkleRoot, time: header.time,
            bits: header.bits, nonce: header.nonce)
        let isBlock = (try? header.compactTarget.target()).map { hash <= $0 } ?? false
        return ShareAssessment(hash: hash, isBlock: isBlock, meetsTarget: hash <= target)
    }
}
