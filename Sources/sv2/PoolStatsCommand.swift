import ArgumentParser
import Foundation
import Logging
import Sv2Ledger
import Sv2Roles
import Sv2Sessions

/// `sv2 pool stats`: a share ledger's accounting, per account and worker, with a PPLNS window.
struct PoolStatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Per-account and per-worker accepted shares, work, rejections and blocks from a pool's share ledger.",
        discussion: """
            Reads the ledger that `sv2 pool`'s settings name: `sv2 pool stats --ledger URL` (sqlite:PATH or \
            postgresql://USER:PASS@HOST:PORT/DB), or --config, SV2_POOL_LEDGER, --datadir as for the pool; a running \
            pool's too (SQLite readers do not block it). For each \
            account (a user_identity up to its first "."; the rest is the worker): accepted shares and their work in \
            expected hashes, refused shares by error code, and blocks found; then the blocks with the pool instance \
            (server id) that found each. --pplns-window N adds each account's fraction of the work of the newest N \
            shares (whatever --since and --user say, so that fractions sum to 1). --json prints the same as one JSON \
            object.
            """
    )

    /// `sv2 pool`, whose --ledger (and --config, --datadir) name the ledger.
    @ParentCommand var pool: PoolCommand
    @Option(help: "Only this account.")
    var user: String?
    @Option(help: "Only since this time: Unix seconds, an ISO 8601 time (2026-12-07T04:00:00Z), or an age such as 90s, 30m, 12h, 7d.")
    var since: String?
    @Option(help: "Also each account's fraction of the work of the newest N shares.")
    var pplnsWindow: Int?
    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        guard let location = try pool.ledgerLocation() else {
            throw ValidationError("no ledger: give --ledger sqlite:PATH or postgresql://USER:PASS@HOST:PORT/DB (or --datadir)")
        }
        if let pplnsWindow, pplnsWindow < 1 { throw ValidationError("--pplns-window must be at least 1, got \(pplnsWindow)") }
        let query = LedgerQuery(user: user, since: try since.map(Self.time), pplnsWindow: pplnsWindow)
        let rows: LedgerRows
        do {
            rows = try await withLedgerStore(location, readOnly: true, logger: LogSettings(level: .critical).logger("stats")) { store in
                try await store.rows(for: query)
            }
        } catch {
            throw CommandFailure("ledger \(location): \(error)")
        }
        let report = LedgerReport(rows)
        print(json ? report.json.text : report.text, terminator: json ? "\n" : "")
    }

    /// A --since value as a time.
    static func time(_ text: String) throws -> Timestamp {
        let seconds: Double?
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let whole = Int64(text) {
            seconds = Double(whole)
        } else if let date = ISO8601DateFormatter().date(from: text) {
            seconds = date.timeIntervalSince1970
        } else if let unit = text.last.flatMap({ units[$0] }), let count = Double(text.dropLast()), count >= 0 {
            seconds = Date().timeIntervalSince1970 - count * unit
        } else {
            seconds = nil
        }
        // Timestamps count nanoseconds in 64 bits: years 1970 to 2262.
        if let seconds, seconds.isFinite { return Timestamp(seconds: min(max(seconds, 0), 9e9)) }
        throw ValidationError("--since: \"\(text)\" is not Unix seconds, an ISO 8601 time or an age (90s, 30m, 12h, 7d)")
    }
}
