/// The ledger's tables, as versioned migrations written once for both databases: a ``Dialect`` supplies the few
/// column types that differ. Applied in order by ``LedgerStore/migrate()``; each version's statements run in one
/// transaction with its row in `sv2_ledger_schema`. Never edit a released migration: add the next one.
enum LedgerSchema {
    /// The column types of one database.
    struct Dialect: Sendable {
        /// An auto-numbered 64-bit primary key.
        var serial: String
        /// A 64-bit integer.
        var integer: String
        /// A double.
        var real: String
        /// Bytes.
        var bytes: String
        /// A boolean.
        var boolean: String

        /// SQLite's types.
        static let sqlite = Dialect(serial: "INTEGER PRIMARY KEY", integer: "INTEGER", real: "REAL", bytes: "BLOB", boolean: "INTEGER")
        /// PostgreSQL's types.
        static let postgresql = Dialect(
            serial: "BIGSERIAL PRIMARY KEY", integer: "BIGINT", real: "DOUBLE PRECISION", bytes: "BYTEA", boolean: "BOOLEAN")
    }

    /// One schema version.
    struct Migration: Sendable {
        /// Its number (1, 2, ...).
        var version: Int
        /// What it does.
        var name: String
        /// Its statements in `dialect`.
        var statements: @Sendable (Dialect) -> [String]
    }

    /// The table that records which versions are applied.
    static let versionTable = "CREATE TABLE IF NOT EXISTS sv2_ledger_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)"

    /// Every version, in order.
    static let migrations: [Migration] = [
        Migration(version: 1, name: "shares, blocks, rejections and connections") { type in
            [
                """
                CREATE TABLE shares (
                    id \(type.serial), server_id \(type.integer) NOT NULL, time_ms \(type.integer) NOT NULL,
                    user_name TEXT NOT NULL, worker TEXT NOT NULL, channel_id \(type.integer) NOT NULL,
                    sequence_number \(type.integer) NOT NULL, job_id \(type.integer) NOT NULL, difficulty \(type.real) NOT NULL,
                    work \(type.real) NOT NULL, hash \(type.bytes) NOT NULL, is_block \(type.boolean) NOT NULL)
                """,
                // A share's hash is unique: a commit retried after a lost reply inserts nothing twice.
                "CREATE UNIQUE INDEX shares_hash ON shares (hash)",
                "CREATE INDEX shares_user_time ON shares (user_name, time_ms)",
                "CREATE INDEX shares_time ON shares (time_ms)",
                """
                CREATE TABLE blocks (
                    id \(type.serial), server_id \(type.integer) NOT NULL, time_ms \(type.integer) NOT NULL,
                    hash \(type.bytes) NOT NULL UNIQUE, height \(type.integer), user_name TEXT NOT NULL, worker TEXT NOT NULL,
                    template_id \(type.integer) NOT NULL, previous_hash \(type.bytes) NOT NULL)
                """,
                """
                CREATE TABLE rejections (
                    server_id \(type.integer) NOT NULL, minute \(type.integer) NOT NULL, user_name TEXT NOT NULL,
                    worker TEXT NOT NULL, error_code TEXT NOT NULL, count \(type.integer) NOT NULL,
                    PRIMARY KEY (server_id, minute, user_name, worker, error_code))
                """,
                """
                CREATE TABLE connections (
                    id \(type.serial), server_id \(type.integer) NOT NULL, process_started_ms \(type.integer) NOT NULL,
                    number \(type.integer) NOT NULL, peer TEXT NOT NULL, opened_ms \(type.integer) NOT NULL,
                    closed_ms \(type.integer), UNIQUE (server_id, process_started_ms, number))
                """,
            ]
        },
        Migration(version: 2, name: "writers: each pool process's last commit, so that a retried commit never applies twice") { type in
            [
                """
                CREATE TABLE ledger_writers (
                    server_id \(type.integer) NOT NULL, process_started_ms \(type.integer) NOT NULL,
                    last_commit \(type.integer) NOT NULL, last_commit_ms \(type.integer) NOT NULL,
                    PRIMARY KEY (server_id, process_started_ms))
                """
            ]
        },
    ]

    /// The newest version this build knows.
    static var latestVersion: Int { migrations.last?.version ?? 0 }
}

/// The statements both databases run the same way (`$1`-style parameters; SQLite reads them as `?1`).
enum LedgerSQL {
    /// Claims commit $3 of a writer (pool instance $1, process started at $2, time $4): changes a row only when the
    /// commit is newer than the writer's last, so a commit retried after it landed changes nothing and is skipped.
    static let claimCommit = """
        INSERT INTO ledger_writers (server_id, process_started_ms, last_commit, last_commit_ms) VALUES ($1, $2, $3, $4)
        ON CONFLICT (server_id, process_started_ms) DO UPDATE SET last_commit = excluded.last_commit, last_commit_ms = excluded.last_commit_ms
        WHERE ledger_writers.last_commit < excluded.last_commit
        """
    /// Adds refused shares to their minute's count.
    static let addRejections = """
        INSERT INTO rejections (server_id, minute, user_name, worker, error_code, count) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (server_id, minute, user_name, worker, error_code) DO UPDATE SET count = rejections.count + excluded.count
        """
    /// Records a block (once: the hash is unique).
    static let addBlock = """
        INSERT INTO blocks (server_id, time_ms, hash, height, user_name, worker, template_id, previous_hash)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (hash) DO NOTHING
        """
    /// Records a connection, or its closing.
    static let upsertConnection = """
        INSERT INTO connections (server_id, process_started_ms, number, peer, opened_ms, closed_ms) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (server_id, process_started_ms, number) DO UPDATE SET closed_ms = excluded.closed_ms
        """
    /// Accepted shares and work per account and worker ($1 account or '', $2 since, Unix ms).
    static let sharesByWorker = """
        SELECT user_name, worker, COUNT(*), SUM(work) FROM shares
        WHERE ($1 = '' OR user_name = $1) AND time_ms >= $2 GROUP BY user_name, worker ORDER BY user_name, worker
        """
    /// Refused shares per account, worker and code ($1 account or '', $2 since, Unix minutes).
    static let rejectionsByWorker = """
        SELECT user_name, worker, error_code, CAST(SUM(count) AS BIGINT) FROM rejections
        WHERE ($1 = '' OR user_name = $1) AND minute >= $2 GROUP BY user_name, worker, error_code ORDER BY user_name, worker, error_code
        """
    /// Blocks found ($1 account or '', $2 since, Unix ms).
    static let blocks = """
        SELECT server_id, time_ms, hash, height, user_name, worker, template_id, previous_hash FROM blocks
        WHERE ($1 = '' OR user_name = $1) AND time_ms >= $2 ORDER BY time_ms, id
        """
    /// Work per account over the newest $1 shares.
    static let pplnsWindow = """
        SELECT user_name, SUM(work) FROM (SELECT user_name, work FROM shares ORDER BY time_ms DESC, id DESC LIMIT $1) AS recent
        GROUP BY user_name ORDER BY user_name
        """
}

/// A ledger failure, as one sentence.
public struct LedgerError: Error, CustomStringConvertible, Sendable {
    /// The sentence.
    public var description: String

    /// An error.
    public init(_ description: String) { self.description = description }
}

extension LedgerSchema {
    /// The migrations a database at `version` still needs; an error when it is newer than this build.
    static func pending(after version: Int) throws(LedgerError) -> [Migration] {
        guard version <= latestVersion else {
            throw LedgerError("the ledger's schema is version \(version), newer than this sv2 knows (\(latestVersion)): upgrade sv2")
        }
        return migrations.filter { $0.version > version }
    }
}
