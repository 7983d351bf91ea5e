/// Hands out unique extranonce prefixes to the channels of one server (spec 5.1.2.1, Extended Extranonce).
///
/// A channel's prefix is `upstream prefix || local prefix || index`, the index big-endian in as many bytes as
/// `maximumChannels` needs (SRI's layout, so prefixes read the same in both implementations). Extended channels
/// roll the remaining `totalLength - prefixLength` bytes themselves; standard channels get the prefix zero-padded
/// to `totalLength` (they roll no extranonce). Indices start at 0; the search for a free one starts after the last
/// one handed out and wraps, so a closed channel's index is not reused at once.
public struct ExtranonceAllocator: Sendable {
    /// Why an allocator cannot be built.
    public enum LayoutError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The prefixes and the index leave no room in an extranonce of that length (at most 32 bytes, B0_32).
        case noRoom(prefixLength: Int, totalLength: Int)

        /// A sentence for the operator.
        public var description: String {
            switch self {
            case let .noRoom(prefixLength, totalLength):
                return "an extranonce prefix of \(prefixLength) bytes does not fit an extranonce of \(totalLength) bytes (at most 32)"
            }
        }
    }

    /// One channel's share of the extranonce space.
    public struct Allocation: Hashable, Sendable {
        /// The index to give back with ``ExtranonceAllocator/release(_:)``.
        public var index: UInt32
        /// The channel's extranonce prefix (zero-padded to the full length for a standard channel).
        public var prefix: [UInt8]
    }

    /// Bytes fixed by the upstream server.
    public let upstreamPrefix: [UInt8]
    /// Bytes fixed by this server (the same for all its channels).
    public let localPrefix: [UInt8]
    /// The full extranonce length of every channel: prefix plus what the miner rolls.
    public let totalLength: Int
    /// How many channels may hold an index at once.
    public let maximumChannels: UInt32
    /// Bytes of the index: as many as `maximumChannels` needs.
    public let indexLength: Int
    private var inUse = Set<UInt32>()
    private var next: UInt32 = 0

    /// An allocator; throws when the prefixes and index leave no byte to roll or exceed 32 bytes.
    public init(upstreamPrefix: [UInt8] = [], localPrefix: [UInt8] = [], totalLength: Int, maximumChannels: UInt32)
        throws(LayoutError)
    {
        let indexLength = Self.bytesNeeded(UInt64(maximumChannels))
        let prefixLength = upstreamPrefix.count + localPrefix.count + indexLength
        guard totalLength <= 32, prefixLength < totalLength, maximumChannels > 0 else {
            throw .noRoom(prefixLength: prefixLength, totalLength: totalLength)
        }
        self.upstreamPrefix = upstreamPrefix
        self.localPrefix = localPrefix
        self.totalLength = totalLength
        self.maximumChannels = maximumChannels
        self.indexLength = indexLength
    }

    /// Bytes needed to number `count` items from 0 (at least 1): 256 → 1, 257 → 2.
    public static func bytesNeeded(_ count: UInt64) -> Int {
        var largest = count > 0 ? count - 1 : 0
        var bytes = 1
        while largest > 0xff {
            largest >>= 8
            bytes += 1
        }
        return bytes
    }

    /// Length of an extended channel's prefix.
    public var prefixLength: Int { upstreamPrefix.count + localPrefix.count + indexLength }

    /// Bytes an extended channel rolls: what follows its prefix.
    public var rollableLength: Int { totalLength - prefixLength }

    /// Channels holding an index now.
    public var count: Int { inUse.count }

    /// A prefix for a new extended channel, or nil when every index is taken.
    public mutating func allocateExtended() -> Allocation? {
        guard let index = takeIndex() else { return nil }
        return Allocation(index: index, prefix: prefix(index: index))
    }

    /// A prefix for a new standard channel (zero-padded to ``totalLength``), or nil when every index is taken.
    public mutating func allocateStandard() -> Allocation? {
        guard let index = takeIndex() else { return nil }
        return Allocation(index: index, prefix: prefix(index: index) + [UInt8](repeating: 0, count: rollableLength))
    }

    /// Frees an index when its channel closes.
    public mutating func release(_ index: UInt32) {
        inUse.remove(index)
    }

    private mutating func takeIndex() -> UInt32? {
        guard inUse.count < Int(maximumChannels) else { return nil }
        var candidate = next
        while inUse.contains(candidate) { candidate = candidate == maximumChannels - 1 ? 0 : candidate + 1 }
        inUse.insert(candidate)
        next = candidate == maximumChannels - 1 ? 0 : candidate + 1
        return candidate
    }

    private func prefix(index: UInt32) -> [UInt8] {
        var bytes = upstreamPrefix + localPrefix
        for position in (0..<indexLength).reversed() {
            bytes.append(position < 4 ? UInt8(truncatingIfNeeded: index >> (8 * UInt32(position))) : 0)
        }
        return bytes
    }
}
