import Synchronization

/// A weak reference that is set after it is made: hooks created in an initializer reach the object they belong to
/// once it exists, without keeping it alive (no reference cycle through the hooks it owns).
final class LateReference<Object: AnyObject & Sendable>: Sendable {
    private struct Weak {
        weak var object: Object?
    }

    private let value = Mutex(Weak())

    /// The object, once set and while it lives.
    var object: Object? { value.withLock { $0.object } }

    /// Sets the object.
    func set(_ object: Object) {
        value.withLock { $0.object = object }
    }
}
