/// A problem with the node's data directory, found when opening it or writing to it. Blocks that fail validation
/// are ``BlockRejection``s instead.
public enum NodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The directory or a file in it could not be created, opened or read.
    case unreadable(path: String, reason: String)
    /// A block could not be written or synced to disk.
    case unwritable(path: String, reason: String)
    /// The `network` marker names another network than regtest.
    case foreignNetwork(path: String, found: String)
    /// The datadir holds blocks but no `network` marker (not written by this node, or damaged).
    case missingNetworkMarker(path: String)
    /// Another process holds the datadir's lock.
    case inUse(path: String)
    /// The block file is damaged at `offset` (not a truncated last record, which is repaired).
    case corrupt(path: String, offset: Int, reason: String)
    /// A stored block failed revalidation while the chain was replayed.
    case invalidStoredBlock(path: String, height: UInt32, reason: String)

    /// A short stable identifier of the case.
    public var code: String {
        switch self {
        case .unreadable: return "unreadable"
        case .unwritable: return "unwritable"
        case .foreignNetwork: return "foreign_network"
        case .missingNetworkMarker: return "missing_network_marker"
        case .inUse: return "in_use"
        case .corrupt: return "corrupt"
        case .invalidStoredBlock: return "invalid_stored_block"
        }
    }

    /// A sentence for the user.
    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read the node datadir at \(path): \(reason)"
        case let .unwritable(path, reason):
            return "cannot write \(path): \(reason)"
        case let .foreignNetwork(path, found):
            return "the datadir marker \(path) says '\(found)', but this node only runs regtest (use another datadir)"
        case let .missingNetworkMarker(path):
            return "the datadir \(path) holds blocks but no 'network' marker file; refusing to guess its network"
        case let .inUse(path):
            return "the datadir \(path) is locked by another process (another sv2 node running on it?)"
        case let .corrupt(path, offset, reason):
            return "block file \(path) is corrupt at byte \(offset): \(reason) (move it away to start a new chain)"
        case let .invalidStoredBlock(path, height, reason):
            return "stored block at height \(height) in \(path) fails validation: \(reason) (move the file away to start a new chain)"
        }
    }
}
