import Foundation
import Logging
import NIOCore
import PostgresNIO
import Sv2Binary
import Sv2Sessions

/// The ledger in PostgreSQL through postgres-nio: several pool instances (each its own `server_id`) write to one
/// database. Shares go in one `INSERT … SELECT FROM UNNEST(arrays)` per commit; migrations take an advisory lock so
/// that instances starting together apply each version once. A lost connection fails the write, and the client's
/// pool connects again on the next one.
public struct PostgreSQLLedgerStore: LedgerStore {
    private let client: PostgresClient
    private let logger: Logger
    private let address: LedgerLocation.PostgreSQLAddress

    /// Runs `body` with a store whose client runs meanwhile.
    static func with<Result: Sendable>(
        _ address: LedgerLocation.PostgreSQLAddress, logger: Logger, _ body: @Sendable (any LedgerStore) async throws -> Result
    ) async throws -> Result {
        var configuration = PostgresClient.Configuration(
            host: address.host, port: address.port, username: address.user, password: address.password, database: address.database,
            tls: .disable)
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.maximumConnections = 4
        // The client's own log: errors only (a failing database is reported once by the ledger, not per connection try).
        var clientLogger = logger
        clientLogger.logLevel = .error
        let client = PostgresClient(configuration: configuration, backgroundLogger: clientLogger)
        let store = PostgreSQLLedgerStore(client: client, logger: logger, address: address)
        // Detached, so that the client does not inherit the pool's graceful shutdown: the ledger still commits
        // what it holds after the pool stops serving, and ends the client when it is done.
        let runner = Task.detached { await client.run() }
        defer { runner.cancel() }
        return try await body(store)
    }

    /// Applies the missing migrations under an advisory lock, in one transaction.
    public func migrate() async throws -> [String] {
        try await described { try await applyMigrations() }
    }

    private func applyMigrations() async throws -> [String] {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(7402341)", logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: LedgerSchema.versionTable), logger: logger)
            var version = 0
            for try await current in try await connection.query("SELECT COALESCE(MAX(version), 0) FROM sv2_ledger_schema", logger: logger)
                .decode(Int.self) { version = current }
            var applied = [String]()
            for migration in try LedgerSchema.pending(after: version) {
                for statement in migration.statements(.postgresql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                try await connection.query(
                    "INSERT INTO sv2_ledger_schema (version, name, applied_ms) VALUES (\(migration.version), \(migration.name), \(now))",
                    logger: logger)
                applied.append(migration.name)
            }
            return applied
        }
    }

    /// Writes `entries` in one transaction.
    public func write(_ entries: LedgerEntries, commit: Int64, serverID: Int, processStarted: Timestamp) async throws {
        try await described { try await insert(entries, commit: commit, serverID: serverID, processStarted: processStarted) }
    }

    private func insert(_ entries: LedgerEntries, commit: Int64, serverID: Int, processStarted: Timestamp) async throws {
        let server = Int64(serverID)
        try await client.withTransaction(logger: logger) { connection in
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            var claimed = false
            for try await _ in try await connection.query(
                Self.statement(LedgerSQL.claimCommit + " RETURNING 1", [server, processStarted.milliseconds, commit, now]), logger: logger
            ) { claimed = true }
            guard claimed else { return }  // this commit landed before
            let shares = entries.shares
            if !shares.isEmpty {
                let times = shares.map(\.time.milliseconds), users = shares.map(\.user), workers = shares.map(\.worker)
                let channels = shares.map { Int64($0.channelID) }, sequences = shares.map { Int64($0.sequenceNumber) }
                let jobs = shares.map { Int64($0.jobID) }, difficulties = shares.map(\.difficulty), works = shares.map(\.work)
                let hashes = shares.map { ByteBuffer(bytes: $0.hash.bigEndianBytes) }, blocks = shares.map(\.isBlock)
                try await connection.query("""
                    INSERT INTO shares (server_id, time_ms, user_name, worker, channel_id, sequence_number, job_id, difficulty, work, hash, \
                    is_block) SELECT \(server), * FROM UNNEST(\(times), \(users), \(workers), \(channels), \(sequences), \(jobs), \
                    \(difficulties), \(works), \(hashes), \(blocks)) ON CONFLICT (hash) DO NOTHING
                    """, logger: logger)
            }
            for item in entries.rejections {
                try await connection.query(Self.statement(
                    LedgerSQL.addRejections, [server, item.minute, item.user, item.worker, item.errorCode, item.count]), logger: logger)
            }
            for item in entries.blocks {
                try await connection.query(Self.statement(LedgerSQL.addBlock, [
                    server, item.time.milliseconds, ByteBuffer(bytes: item.hash.bigEndianBytes), item.height.map { Int64($0) }, item.user,
                    item.worker, Int64(bitPattern: item.templateID), ByteBuffer(bytes: item.previousBlockHash.bigEndianBytes),
                ]), logger: logger)
            }
            for item in entries.connections {
                try await connection.query(Self.statement(LedgerSQL.upsertConnection, [
                    server, processStarted.milliseconds, Int64(item.number), item.peer, item.opened.milliseconds, item.closed?.milliseconds,
                ]), logger: logger)
            }
        }
    }

    /// Nothing: the server checkpoints and vacuums by itself.
    public func maintain() async throws {}

    /// Reads the aggregates of `query`.
    public func rows(for query: LedgerQuery) async throws -> LedgerRows {
        try await described { try await read(query) }
    }

    private func read(_ query: LedgerQuery) async throws -> LedgerRows {
        var rows = LedgerRows()
        let user = query.user ?? ""
        for try await (name, worker, accepted, work) in try await client.query(
            Self.statement(LedgerSQL.sharesByWorker, [user, query.sinceMilliseconds]), logger: logger
        ).decode((String, String, Int64, Double).self) {
            rows.shares.append(.init(user: name, worker: worker, accepted: accepted, work: work))
        }
        for try await (name, worker, code, count) in try await client.query(
            Self.statement(LedgerSQL.rejectionsByWorker, [user, query.sinceMinute]), logger: logger
        ).decode((String, String, String, Int64).self) {
            rows.rejections.append(.init(user: name, worker: worker, errorCode: code, count: count))
        }
        for try await (server, time, hash, height, name, worker, template, previous) in try await client.query(
            Self.statement(LedgerSQL.blocks, [user, query.sinceMilliseconds]), logger: logger
        ).decode((Int64, Int64, ByteBuffer, Int64?, String, String, Int64, ByteBuffer).self) {
            rows.blocks.append(.init(serverID: server, record: BlockRecord(
                time: Timestamp(milliseconds: time), hash: U256(bigEndianBytes: Array(buffer: hash)) ?? .zero,
                height: height.map { UInt32(clamping: $0) }, user: name, worker: worker, templateID: UInt64(bitPattern: template),
                previousBlockHash: U256(bigEndianBytes: Array(buffer: previous)) ?? .zero)))
        }
        if let window = query.pplnsWindow {
            rows.pplnsWindow = window
            for try await (name, work) in try await client.query(Self.statement(LedgerSQL.pplnsWindow, [Int64(window)]), logger: logger).decode((String, Double).self) {
                rows.pplns[name] = work
            }
        }
        return rows
    }

    /// A statement of ``LedgerSQL`` with its parameters (nil binds NULL).
    private static func statement(_ sql: String, _ values: [(any PostgresDynamicTypeEncodable)?]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            if let value { bindings.append(value) } else { bindings.appendNull() }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    /// Runs `body`, its PostgreSQL errors made one sentence (postgres-nio's own descriptions hide the server's message).
    /// When the client's pool cannot connect, one direct connection says why.
    private func described<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError {
            throw LedgerError(Self.describe(error))
        } catch let error as PostgresTransactionError {
            throw LedgerError(Self.describe(error))
        } catch {
            // The client's pool gives up connecting with an error of its own that does not say why.
            throw LedgerError(await connectionFailure() ?? "PostgreSQL: \(error)")
        }
    }

    /// Why a direct connection to the server fails (nil when it succeeds).
    private func connectionFailure() async -> String? {
        let configuration = PostgresConnection.Configuration(
            host: address.host, port: address.port, username: address.user, password: address.password, database: address.database,
            tls: .disable)
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try? await connection.close()
            return nil
        } catch {
            return "cannot connect to \(address.host):\(address.port): \(Self.describe(error))"
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let transaction = error as? PostgresTransactionError {
            let inner: (any Error)? = transaction.closureError ?? transaction.beginError ?? transaction.commitError
            return inner.map(describe) ?? "a transaction failed"
        }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return "PostgreSQL: \(message)" }
            return "PostgreSQL: \(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
        }
        return "\(error)"
    }
}
