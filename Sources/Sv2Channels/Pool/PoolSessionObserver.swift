import Sv2Messages
import Sv2Sessions

/// Watches one pool connection's messages both ways, for a tool that grades clients (`sv2 probe --serve`); the
/// session's own behaviour does not depend on it. Each connection's session starts from a copy of the
/// configuration's observer, so a value type keeps its state per connection (a class would be shared by all). It
/// reads time from a clock it was given.
public protocol PoolSessionObserver: Sendable {
    /// A message from the client, before the session handles it.
    mutating func received(_ message: Sv2TaggedMessage)
    /// What the session did: messages sent, effects, a close.
    mutating func acted(_ actions: [SessionAction<Sv2Message, PoolEffect>])
    /// A periodic tick: anything the observer itself sends (a Reconnect to see whether the client follows it).
    mutating func tick() -> [SessionAction<Sv2Message, PoolEffect>]
    /// The pool is stopping: the connection is about to close for that, not for anything the client did.
    mutating func stopping()
    /// The connection with `peer` ended.
    func finished(peer: String)
}
