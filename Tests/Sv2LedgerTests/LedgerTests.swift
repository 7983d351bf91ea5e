import Foundation
import Logging
import Sv2Binary
import Sv2Channels
import Sv2Messages
import Sv2Sessions
import Synchronization
import Testing
@testable import Sv2Ledger

/// A share of `user`.`worker` at `seconds` with `work`, its hash made from `tag`.
private func share(_ user: String, _ worker: String, seconds: Int64, work: Double, tag: UInt64, block: Bool = false) -> AcceptedShare {
    AcceptedShare(
        time: Timestamp(nanoseconds: seconds * 1_000_000_000), user: user, worker: worker, channelID: 1, sequenceNumber: UInt32(tag),
        jobID: 3, difficulty: work / 4_294_967_296, work: work, hash: U256(w0: tag, w1: 0, w2: 0, w3: 0x00ff), isBlock: block)
}

private func rejected(_ user: String, _ worker: String, seconds: Int64, _ code: String) -> RejectedShare {
    RejectedShare(time: Timestamp(nanoseconds: seconds * 1_000_000_000), user: user, worker: worker, errorCode: code)
}

/// A ledger file in a new temporary directory.
private func temporaryLedger() throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sv2-ledger-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("ledger.sqlite").path
}

@Suite("share ledger: URLs, SQLite store, writer, report")
struct LedgerTests {
    @Test("ledger URLs: sqlite paths, PostgreSQL with defaults and escapes; bad ones name what is wrong")
    func locations() throws {
        #expect(try LedgerLocation("sqlite:/var/lib/sv2/ledger.sqlite") == .sqlite(path: "/var/lib/sv2/ledger.sqlite"))
        #expect(try LedgerLocation("sqlite:relative.db") == .sqlite(path: "relative.db"))
        let address = LedgerLocation.PostgreSQLAddress(host: "db.local", port: 6543, user: "pool", password: "p@ss:w", database: "ledger")
        #expect(try LedgerLocation("postgresql://pool:p%40ss%3Aw@db.local:6543/ledger") == .postgresql(address))
        #expect(try LedgerLocation("postgres://10.0.0.1/shares") == .postgresql(.init(host: "10.0.0.1", port: 5432, user: "postgres", password: nil, database: "shares")))
        #expect(try LedgerLocation("postgresql://pool:secret@db:1/x").description == "postgresql://pool:***@db:1/x")
        for bad in ["mysql://x/y", "sqlite:", "postgresql://host", "postgresql://host:99999/db", "postgresql://@:5/db"] {
            #expect(throws: LedgerLocation.ParseError.self, "\(bad)") { try LedgerLocation(bad) }
        }
    }

    @Test("SQLite: migrations once; a retried commit applies once, and rewritten shares or blocks are not doubled; rejections add up by minute; connections close")
    func sqliteStore() async throws {
        let path = try temporaryLedger()
        let store = try SQLiteLedgerStore(path: path)
        #expect(try await store.migrate() == [
            "shares, blocks, rejections and connections", "writers: each pool process's last commit, so that a retried commit never applies twice",
        ])
        #expect(try await store.migrate().isEmpty)
        var entries = LedgerEntries()
        entries.shares = [
            share("alice", "rig1", seconds: 1000, work: 100, tag: 1), share("alice", "rig1", seconds: 1001, work: 100, tag: 2, block: true),
            share("alice", "rig2", seconds: 1002, work: 50, tag: 3), share("bob", "", seconds: 1003, work: 250, tag: 4),
        ]
        entries.count([rejected("alice", "rig1", seconds: 1000, "stale-share"), rejected("alice", "rig1", seconds: 1010, "stale-share"),
                       rejected("bob", "", seconds: 1200, "difficulty-too-low")])
        entries.blocks = [BlockRecord(
            time: Timestamp(nanoseconds: 1_001_000_000_000), hash: U256(w0: 2, w1: 0, w2: 0, w3: 0x00ff), height: 112, user: "alice", worker: "rig1",
            templateID: 9, previousBlockHash: U256(w0: 7, w1: 7, w2: 7, w3: 7))]
        entries.connections = [ConnectionRecord(number: 0, peer: "127.0.0.1:5000", opened: 1000)]
        try await store.write(entries, commit: 1, serverID: 3, processStarted: 900)
        try await store.write(entries, commit: 1, serverID: 3, processStarted: 900)  // a retry after a lost reply: skipped
        var again = entries
        again.connections = []
        try await store.write(again, commit: 2, serverID: 3, processStarted: 900)  // the same shares again: kept once
        var closing = LedgerEntries()
        closing.connections = [ConnectionRecord(number: 0, peer: "127.0.0.1:5000", opened: 1000, closed: 1100)]
        try await store.write(closing, commit: 3, serverID: 3, processStarted: 900)

        let rows = try await store.rows(for: LedgerQuery(pplnsWindow: 3))
        #expect(rows.shares == [
            .init(user: "alice", worker: "rig1", accepted: 2, work: 200),
            .init(user: "alice", worker: "rig2", accepted: 1, work: 50),
            .init(user: "bob", worker: "", accepted: 1, work: 250),
        ])
        #expect(rows.rejections == [
            .init(user: "alice", worker: "rig1", errorCode: "stale-share", count: 4),  // commits 1 and 2 (the retry of 1 skipped)
            .init(user: "bob", worker: "", errorCode: "difficulty-too-low", count: 2),
        ])
        #expect(rows.blocks.map(\.serverID) == [3] && rows.blocks.first?.record == entries.blocks.first)
        #expect(rows.pplns == ["alice": 150, "bob": 250], "the newest 3 shares: rig1's second, rig2's, bob's")
        let since = try await store.rows(for: LedgerQuery(user: "alice", since: Timestamp(nanoseconds: 1_001_000_000_000)))
        #expect(since.shares.map(\.accepted) == [1, 1] && since.rejections.map(\.count) == [4], "the minute holding the bound counts whole")
        let connections = try await Self.connections(path)
        #expect(connections == "3|900000|0|127.0.0.1:5000|1000000|1100000")
    }

    @Test("a schema newer than this build is refused, not written")
    func newerSchema() async throws {
        let path = try temporaryLedger()
        _ = try await SQLiteLedgerStore(path: path).migrate()
        try Self.sqlite(path, "INSERT INTO sv2_ledger_schema (version, name, applied_ms) VALUES (99, 'future', 0)")
        await #expect(throws: LedgerError.self) { try await SQLiteLedgerStore(path: path).migrate() }
        #expect(throws: LedgerError.self) { try SQLiteLedgerStore(path: path + ".missing", readOnly: true) }
    }

    @Test("the writer acknowledges a batch once committed, refuses past the pending limit at once, and flushes")
    func writer() async throws {
        let path = try temporaryLedger()
        let ledger = ShareLedger(
            configuration: .init(location: .sqlite(path: path), serverID: 1, pendingLimit: 3), logger: Logger(label: "test"))
        let outcomes = Mutex<[Bool]>([])
        let refusedAtOnce = Mutex(false)
        // Before the writer runs nothing is written: two shares wait, a batch of two more is over the limit.
        ledger.record(ShareBatch(accepted: [share("a", "w", seconds: 1, work: 1, tag: 1), share("a", "w", seconds: 1, work: 1, tag: 2)])) { ok in
            outcomes.withLock { $0.append(ok) }
        }
        ledger.record(ShareBatch(accepted: [share("a", "w", seconds: 1, work: 1, tag: 3), share("a", "w", seconds: 1, work: 1, tag: 4)],
                                 rejected: [rejected("a", "w", seconds: 1, "stale-share")])) { ok in
            refusedAtOnce.withLock { $0 = !ok }
        }
        #expect(refusedAtOnce.withLock { $0 })
        #expect(outcomes.withLock { $0 }.isEmpty && ledger.unwrittenShares == 2)
        let run = Task { try await ledger.run() }
        await ledger.flush(timeout: .seconds(30))
        #expect(outcomes.withLock { $0 } == [true])
        #expect(ledger.unwrittenShares == 0)
        run.cancel()
        let rows = try await SQLiteLedgerStore(path: path, readOnly: true).rows(for: LedgerQuery())
        #expect(rows.shares.map(\.accepted) == [2])
        #expect(rows.rejections.map(\.count) == [1], "a refused batch's rejections are still counted")
    }

    @Test("report: per worker and account, rejections by code, blocks and the PPLNS fractions, as text and JSON")
    func report() throws {
        var rows = LedgerRows()
        rows.shares = [
            .init(user: "alice", worker: "rig1", accepted: 2, work: 200),
            .init(user: "alice", worker: "rig2", accepted: 1, work: 50),
        ]
        rows.rejections = [.init(user: "alice", worker: "rig2", errorCode: "stale-share", count: 3), .init(user: "carol", worker: "", errorCode: "x", count: 1)]
        rows.pplnsWindow = 3
        rows.pplns = ["alice": 150, "bob": 50]
        let report = LedgerReport(rows)
        #expect(report.accounts.map(\.user) == ["alice", "carol"])
        #expect(report.accounts[0].total == LedgerReport.Figures(accepted: 3, work: 250, rejected: ["stale-share": 3], blocks: 0))
        #expect(report.total.rejectedTotal == 4)
        #expect(report.pplns.map(\.fraction) == [0.75, 0.25])
        #expect(report.text.contains("alice  rig2    1         50             3 (stale-share 3)"))
        #expect(report.text.contains("alice  (all)   3         250            3 (stale-share 3)"))
        #expect(report.text.contains("bob    50             0.250000"))
        let json = report.json.text
        #expect(json.contains(#""total":{"accepted":3,"work":250.0,"rejected":4,"rejected_by_code":{"stale-share":3,"x":1},"blocks":0}"#))
        #expect(json.contains(#""pplns":{"window":3,"work":200.0,"users":[{"user":"alice","work":150.0,"fraction":0.75}"#))
    }

    private static func sqlite(_ path: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute(sys.argv[2]); db.commit()", path, sql]
        try process.run()
        process.waitUntilExit()
    }

    private static func connections(_ path: String) async throws -> String {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import sqlite3,sys; print('\\n'.join('|'.join(str(v) for v in r) for r in sqlite3.connect(sys.argv[1]).execute('SELECT server_id, process_started_ms, number, peer, opened_ms, closed_ms FROM connections')))",
            path,
        ]
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
