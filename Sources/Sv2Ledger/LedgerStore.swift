import Logging
import Sv2Sessions

/// A database the ledger writes to and reports from: ``SQLiteLedgerStore`` or ``PostgreSQLLedgerStore``.
public protocol LedgerStore: Sendable {
    /// Brings the schema to the newest version this build knows; returns the names of the migrations it applied.
    func migrate() async throws -> [String]
    /// Writes `entries` in one transaction as commit `commit` (numbered from 1 by each writer), attributed to pool
    /// instance `serverID` (its process started at `processStarted`, which tells its connections from an earlier
    /// run's). Retrying after a failure is safe: a commit that landed after all is recognised by its number and
    /// skipped, and shares and blocks are keyed by hash besides.
    func write(_ entries: LedgerEntries, commit: Int64, serverID: Int, processStarted: Timestamp) async throws
    /// The aggregates `sv2 pool stats` reports.
    func rows(for query: LedgerQuery) async throws -> LedgerRows
    /// Housekeeping the ledger runs every second beside its commits, never blocking them (SQLite: copies the WAL
    /// into the database file; PostgreSQL: nothing, the server does its own).
    func maintain() async throws
}

/// What `sv2 pool stats` asks for.
public struct LedgerQuery: Sendable, Hashable {
    /// Only this account (nil: all).
    public var user: String?
    /// Only what happened at or after this time (nil: everything).
    public var since: Timestamp?
    /// The PPLNS window: the newest this many shares (nil: none).
    public var pplnsWindow: Int?

    /// A query.
    public init(user: String? = nil, since: Timestamp? = nil, pplnsWindow: Int? = nil) {
        self.user = user
        self.since = since
        self.pplnsWindow = pplnsWindow
    }

    /// The since bound in Unix milliseconds (0 for none).
    var sinceMilliseconds: Int64 { since?.milliseconds ?? 0 }
    /// The since bound in Unix minutes, the minute that holds it included.
    var sinceMinute: Int64 { sinceMilliseconds / 60_000 }
}

/// The ledger's aggregates for one ``LedgerQuery``, as a store reads them.
public struct LedgerRows: Sendable, Hashable {
    /// Accepted shares of one account and worker.
    public struct Shares: Sendable, Hashable {
        /// The account.
        public var user: String
        /// The worker.
        public var worker: String
        /// Shares accepted.
        public var accepted: Int64
        /// Their work (expected hashes).
        public var work: Double
    }

    /// Refused shares of one account, worker and code.
    public struct Rejections: Sendable, Hashable {
        /// The account.
        public var user: String
        /// The worker.
        public var worker: String
        /// The error code.
        public var errorCode: String
        /// How many.
        public var count: Int64
    }

    /// A block with the pool instance that found it.
    public struct Block: Sendable, Hashable {
        /// The instance's server id.
        public var serverID: Int64
        /// The block.
        public var record: BlockRecord
    }

    /// Accepted shares per account and worker.
    public var shares = [Shares]()
    /// Refused shares per account, worker and code.
    public var rejections = [Rejections]()
    /// Blocks, oldest first.
    public var blocks = [Block]()
    /// Work per account in the PPLNS window.
    public var pplns = [String: Double]()
    /// Shares in the PPLNS window's query (the window size asked for).
    public var pplnsWindow: Int?

    /// No rows.
    public init() {}
}

/// Opens the store at `location` and runs `body` with it, then closes it. A PostgreSQL client's connection pool
/// runs for the duration of `body`. With `readOnly`, a SQLite file that does not exist is an error rather than a new
/// ledger.
public func withLedgerStore<Result: Sendable>(
    _ location: LedgerLocation, readOnly: Bool = false, logger: Logger,
    _ body: @Sendable (any LedgerStore) async throws -> Result
) async throws -> Result {
    switch location {
    case let .sqlite(path):
        return try await body(try SQLiteLedgerStore(path: path, readOnly: readOnly))
    case let .postgresql(address):
        return try await PostgreSQLLedgerStore.with(address, logger: logger, body)
    }
}
