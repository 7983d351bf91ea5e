/// The hash rate a channel's peer was last told (in nominal_hash_rate or UpdateChannel), and when a new figure is
/// worth telling: when it moved by more than a tenth, or to or from zero.
public struct AnnouncedHashRate: Hashable, Sendable {
    /// The figure last told (0 before any).
    public private(set) var value: Double = 0

    /// Nothing told yet.
    public init() {}

    /// Whether `rate` differs enough from ``value`` to be told.
    public func isWorthAnnouncing(_ rate: Double) -> Bool {
        abs(rate - value) > value / 10 || (rate == 0) != (value == 0)
    }

    /// Records that `rate` was told.
    public mutating func record(_ rate: Double) {
        value = rate
    }

    /// `rate`, recorded as told, when it is worth telling; nil otherwise.
    public mutating func announce(_ rate: Double) -> Double? {
        guard isWorthAnnouncing(rate) else { return nil }
        value = rate
        return rate
    }
}
