import Synchronization

/// The live connections of a server by number (their client ids in monitoring) and peer address, kept apart from
/// the sessions so that a snapshot can name them from any thread.
final class ClientNumbers: Sendable {
    private let numbers = Mutex([ObjectIdentifier: (number: UInt32, peer: String)]())
    private let next = Atomic<UInt32>(0)

    /// Numbers connection `id` (from `peer`) with the next number, which it returns.
    @discardableResult
    func add(_ id: ObjectIdentifier, peer: String) -> UInt32 {
        let number = next.add(1, ordering: .relaxed).oldValue
        numbers.withLock { $0[id] = (number, peer) }
        return number
    }

    /// Connection `id` closed; its number and peer, when it had one.
    @discardableResult
    func remove(_ id: ObjectIdentifier) -> (number: UInt32, peer: String)? {
        numbers.withLock { $0.removeValue(forKey: id) }
    }

    /// Connection `id`'s number and peer.
    subscript(id: ObjectIdentifier) -> (number: UInt32, peer: String)? {
        numbers.withLock { $0[id] }
    }
}
