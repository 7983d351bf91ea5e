/// A connection's number as `count` big-endian bytes (zero-padded beyond 4): the extranonce bytes that make each
/// connection's search space its own.
func connectionBytes(_ index: UInt32, count: Int) -> [UInt8] {
    (0..<count).reversed().map { UInt8(truncatingIfNeeded: $0 < 4 ? index >> (8 * UInt32($0)) : 0) }
}
