import Sv2Binary
import Sv2Channels
import Sv2Sessions

/// A block the pool found and handed to its template provider.
public struct BlockRecord: Sendable, Hashable {
    /// When it was found.
    public var time: Timestamp
    /// The block hash.
    public var hash: U256
    /// Its height (from the coinbase's BIP34 push; nil when the coinbase carries none).
    public var height: UInt32?
    /// The account that found it.
    public var user: String
    /// The worker that found it.
    public var worker: String
    /// The template it was mined on.
    public var templateID: UInt64
    /// The block it builds on.
    public var previousBlockHash: U256

    /// A block.
    public init(
        time: Timestamp, hash: U256, height: UInt32?, user: String, worker: String, templateID: UInt64, previousBlockHash: U256
    ) {
        self.time = time
        self.hash = hash
        self.height = height
        self.user = user
        self.worker = worker
        self.templateID = templateID
        self.previousBlockHash = previousBlockHash
    }
}

/// A miner's connection to one pool process: opened, and closed when ``closed`` is set.
public struct ConnectionRecord: Sendable, Hashable {
    /// The connection's number in this process (from 0).
    public var number: UInt32
    /// The peer's address.
    public var peer: String
    /// When it was opened.
    public var opened: Timestamp
    /// When it was closed (nil while it is open).
    public var closed: Timestamp?

    /// A connection.
    public init(number: UInt32, peer: String, opened: Timestamp, closed: Timestamp? = nil) {
        self.number = number
        self.peer = peer
        self.opened = opened
        self.closed = closed
    }
}

/// Refused shares of one account, worker and error code within one minute.
public struct RejectionCount: Sendable, Hashable {
    /// The minute (Unix time / 60).
    public var minute: Int64
    /// The account (empty when the share named no open channel).
    public var user: String
    /// The worker.
    public var worker: String
    /// The SubmitShares.Error code.
    public var errorCode: String
    /// How many.
    public var count: Int64
}

/// Everything one commit writes, in one transaction.
public struct LedgerEntries: Sendable {
    /// Accepted shares.
    public var shares = [AcceptedShare]()
    /// Blocks found.
    public var blocks = [BlockRecord]()
    /// Connections opened or closed.
    public var connections = [ConnectionRecord]()
    private var rejectionCounts = [RejectionKey: Int64]()

    /// Nothing.
    public init() {}

    /// True when there is nothing to write.
    public var isEmpty: Bool { shares.isEmpty && rejectionCounts.isEmpty && blocks.isEmpty && connections.isEmpty }

    /// Refused shares, one count per minute, account, worker and code.
    public var rejections: [RejectionCount] {
        rejectionCounts.map { RejectionCount(minute: $0.key.minute, user: $0.key.user, worker: $0.key.worker, errorCode: $0.key.code, count: $0.value) }
            .sorted { ($0.minute, $0.user, $0.worker, $0.errorCode) < ($1.minute, $1.user, $1.worker, $1.errorCode) }
    }

    /// Counts refused shares into ``rejections``.
    public mutating func count(_ rejected: [RejectedShare]) {
        for share in rejected {
            let minute = share.time.nanoseconds / 60_000_000_000
            rejectionCounts[RejectionKey(minute: minute, user: share.user, worker: share.worker, code: share.errorCode), default: 0] += 1
        }
    }

    private struct RejectionKey: Hashable, Sendable {
        var minute: Int64
        var user: String
        var worker: String
        var code: String
    }
}

extension Timestamp {
    /// Unix milliseconds, the ledger's time column.
    var milliseconds: Int64 { nanoseconds / 1_000_000 }

    /// The time of Unix `milliseconds`.
    init(milliseconds: Int64) { self.init(nanoseconds: milliseconds &* 1_000_000) }
}

extension U256 {
    /// The 32 bytes most significant first: a hash as block explorers print it.
    var bigEndianBytes: [UInt8] { littleEndianBytes.reversed() }

    /// The value of 32 bytes most significant first.
    init?(bigEndianBytes bytes: [UInt8]) { self.init(littleEndianBytes: bytes.reversed()) }
}
