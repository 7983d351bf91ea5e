import Foundation
import GRDB
import Sv2Binary
import Sv2Channels
import Sv2Sessions

/// The ledger in a SQLite file through GRDB: WAL journal (readers such as `sv2 pool stats` never block the pool),
/// `synchronous = FULL` (a commit is on disk before it returns, so an acknowledged share survives a crash of the
/// process or of the machine), one writer connection; each commit runs on GRDB's own queue, off the event loops.
/// The WAL is copied into the database by a second connection (``maintain()``, a passive checkpoint) rather than by
/// the commit that happens to fill it, which would hold that commit's shares back by a checkpoint's time.
public struct SQLiteLedgerStore: LedgerStore {
    private let database: DatabaseQueue
    private let checkpointer: DatabaseQueue?

    /// Opens (with `readOnly` false, creates) the ledger file at `path`.
    public init(path: String, readOnly: Bool = false) throws {
        if readOnly, !FileManager.default.fileExists(atPath: path) { throw LedgerError("no ledger at \(path)") }
        if !readOnly {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(10)
        configuration.label = "sv2-ledger"
        if !readOnly {
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
        }
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
            if readOnly {
                checkpointer = nil
            } else {
                try database.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
                var second = Configuration()
                second.busyMode = .timeout(10)
                second.label = "sv2-ledger-checkpoint"
                checkpointer = try DatabaseQueue(path: path, configuration: second)
            }
        } catch {
            throw LedgerError("cannot open the ledger \(path): \(error)")
        }
    }

    /// Applies the missing migrations, each in its own transaction.
    public func migrate() async throws -> [String] {
        try await database.write { db in
            try db.execute(sql: LedgerSchema.versionTable)
            let version = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(version), 0) FROM sv2_ledger_schema") ?? 0
            var applied = [String]()
            for migration in try LedgerSchema.pending(after: version) {
                for statement in migration.statements(.sqlite) { try db.execute(sql: statement) }
                try db.execute(
                    sql: "INSERT INTO sv2_ledger_schema (version, name, applied_ms) VALUES (?, ?, ?)",
                    arguments: [migration.version, migration.name, Int64(Date().timeIntervalSince1970 * 1000)])
                applied.append(migration.name)
            }
            return applied
        }
    }

    /// Writes `entries` in one transaction.
    public func write(_ entries: LedgerEntries, commit: Int64, serverID: Int, processStarted: Timestamp) async throws {
        try await database.write { db in
            let server = Int64(serverID)
            try db.execute(
                sql: Self.sqlite(LedgerSQL.claimCommit),
                arguments: [server, processStarted.milliseconds, commit, Int64(Date().timeIntervalSince1970 * 1000)])
            guard db.changesCount > 0 else { return }  // this commit landed before
            let share = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO shares (server_id, time_ms, user_name, worker, channel_id, sequence_number, job_id, difficulty, \
                work, hash, is_block) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for item in entries.shares {
                try share.execute(arguments: [
                    server, item.time.milliseconds, item.user, item.worker, Int64(item.channelID), Int64(item.sequenceNumber),
                    Int64(item.jobID), item.difficulty, item.work, Data(item.hash.bigEndianBytes), item.isBlock,
                ])
            }
            let rejection = try db.cachedStatement(sql: Self.sqlite(LedgerSQL.addRejections))
            for item in entries.rejections {
                try rejection.execute(arguments: [server, item.minute, item.user, item.worker, item.errorCode, item.count])
            }
            let block = try db.cachedStatement(sql: Self.sqlite(LedgerSQL.addBlock))
            for item in entries.blocks {
                try block.execute(arguments: [
                    server, item.time.milliseconds, Data(item.hash.bigEndianBytes), item.height.map { Int64($0) }, item.user, item.worker,
                    Int64(bitPattern: item.templateID), Data(item.previousBlockHash.bigEndianBytes),
                ])
            }
            let connection = try db.cachedStatement(sql: Self.sqlite(LedgerSQL.upsertConnection))
            for item in entries.connections {
                try connection.execute(arguments: [
                    server, processStarted.milliseconds, Int64(item.number), item.peer, item.opened.milliseconds, item.closed?.milliseconds,
                ])
            }
        }
    }

    /// Reads the aggregates of `query`.
    public func rows(for query: LedgerQuery) async throws -> LedgerRows {
        try await database.read { db in
            var rows = LedgerRows()
            let user = query.user ?? ""
            for row in try Row.fetchAll(db, sql: Self.sqlite(LedgerSQL.sharesByWorker), arguments: [user, query.sinceMilliseconds]) {
                rows.shares.append(.init(user: row[0], worker: row[1], accepted: row[2], work: row[3]))
            }
            for row in try Row.fetchAll(db, sql: Self.sqlite(LedgerSQL.rejectionsByWorker), arguments: [user, query.sinceMinute]) {
                rows.rejections.append(.init(user: row[0], worker: row[1], errorCode: row[2], count: row[3]))
            }
            for row in try Row.fetchAll(db, sql: Self.sqlite(LedgerSQL.blocks), arguments: [user, query.sinceMilliseconds]) {
                let hash: Data = row[2], previous: Data = row[7]
                let height: Int64? = row[3]
                rows.blocks.append(.init(serverID: row[0], record: BlockRecord(
                    time: Timestamp(milliseconds: row[1]), hash: U256(bigEndianBytes: Array(hash)) ?? .zero,
                    height: height.map { UInt32(clamping: $0) }, user: row[4], worker: row[5],
                    templateID: UInt64(bitPattern: row[6]), previousBlockHash: U256(bigEndianBytes: Array(previous)) ?? .zero)))
            }
            if let window = query.pplnsWindow {
                rows.pplnsWindow = window
                for row in try Row.fetchAll(db, sql: Self.sqlite(LedgerSQL.pplnsWindow), arguments: [window]) {
                    rows.pplns[row[0]] = row[1]
                }
            }
            return rows
        }
    }

    /// A passive checkpoint: the WAL's committed pages copied into the database file without blocking the writer.
    public func maintain() async throws {
        try await checkpointer?.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
    }

    /// `$1`-style parameters as SQLite's numbered `?1`.
    private static func sqlite(_ sql: String) -> String { sql.replacingOccurrences(of: "$", with: "?") }
}
