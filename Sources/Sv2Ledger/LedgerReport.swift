import Bitcoin
import Foundation
import Sv2Formats

/// What `sv2 pool stats` prints, built from a store's ``LedgerRows``: per account and worker the accepted shares,
/// their work, the refused shares by error code and the blocks; the blocks themselves; and the PPLNS window's split
/// of work between accounts. Text for people, JSON for scripts.
public struct LedgerReport: Sendable, Hashable {
    /// One worker's figures (or an account's, summed over its workers).
    public struct Figures: Sendable, Hashable {
        /// Shares accepted.
        public var accepted: Int64 = 0
        /// Their work, in expected hashes.
        public var work: Double = 0
        /// Refused shares by error code.
        public var rejected = [String: Int64]()
        /// Blocks found (handed to the template provider).
        public var blocks: Int64 = 0

        /// All refused shares.
        public var rejectedTotal: Int64 { rejected.values.reduce(0, +) }

        mutating func add(_ other: Figures) {
            accepted += other.accepted
            work += other.work
            blocks += other.blocks
            rejected.merge(other.rejected, uniquingKeysWith: +)
        }
    }

    /// One worker of an account.
    public struct Worker: Sendable, Hashable {
        /// The worker's name ("" for shares without one).
        public var name: String
        /// Its figures.
        public var figures: Figures
    }

    /// An account and its workers.
    public struct Account: Sendable, Hashable {
        /// The account.
        public var user: String
        /// Its workers' figures summed.
        public var total: Figures
        /// Each worker's figures, by worker name ("" for shares without a worker).
        public var workers: [Worker]
    }

    /// One account's share of the PPLNS window.
    public struct PPLNSShare: Sendable, Hashable {
        /// The account.
        public var user: String
        /// Its work in the window.
        public var work: Double
        /// Its fraction of the window's work.
        public var fraction: Double
    }

    /// Accounts by name.
    public var accounts: [Account]
    /// Every account summed.
    public var total: Figures
    /// The blocks, oldest first.
    public var blocks: [LedgerRows.Block]
    /// The PPLNS window's size in shares, when one was asked for.
    public var pplnsWindow: Int?
    /// The window's work by account, by name.
    public var pplns: [PPLNSShare]

    /// The report of `rows`.
    public init(_ rows: LedgerRows) {
        var figures = [String: [String: Figures]]()
        for row in rows.shares {
            figures[row.user, default: [:]][row.worker, default: Figures()].add(Figures(accepted: row.accepted, work: row.work))
        }
        for row in rows.rejections {
            figures[row.user, default: [:]][row.worker, default: Figures()].rejected[row.errorCode, default: 0] += row.count
        }
        for block in rows.blocks {
            figures[block.record.user, default: [:]][block.record.worker, default: Figures()].blocks += 1
        }
        accounts = figures.keys.sorted().map { user in
            let workers = (figures[user] ?? [:]).sorted { $0.key < $1.key }.map { Worker(name: $0.key, figures: $0.value) }
            var total = Figures()
            for worker in workers { total.add(worker.figures) }
            return Account(user: user, total: total, workers: workers)
        }
        var total = Figures()
        for account in accounts { total.add(account.total) }
        self.total = total
        blocks = rows.blocks
        pplnsWindow = rows.pplnsWindow
        let windowWork = rows.pplns.values.reduce(0, +)
        pplns = rows.pplns.keys.sorted().map { user in
            let work = rows.pplns[user] ?? 0
            return PPLNSShare(user: user, work: work, fraction: windowWork > 0 ? work / windowWork : 0)
        }
    }

    // MARK: - Text

    /// Blocks the text lists at most (the newest; a regtest pool finds thousands).
    static let blocksListed = 20

    /// The report as aligned text.
    public var text: String {
        var table: [[String]] = [["user", "worker", "accepted", "work (hashes)", "rejected", "blocks"]]
        for account in accounts {
            for worker in account.workers {
                table.append([account.user, worker.name.isEmpty ? "-" : worker.name] + Self.columns(worker.figures))
            }
            if account.workers.count > 1 { table.append([account.user, "(all)"] + Self.columns(account.total)) }
        }
        table.append(["total", ""] + Self.columns(total))
        var lines = Self.aligned(table)
        lines.append("")
        if blocks.isEmpty {
            lines.append("blocks: none")
        } else {
            let shown = blocks.suffix(Self.blocksListed)
            lines.append(shown.count == blocks.count ? "blocks:" : "blocks: the last \(shown.count) of \(blocks.count) (--json lists them all)")
            for block in shown {
                let record = block.record
                let who = record.worker.isEmpty ? record.user : "\(record.user).\(record.worker)"
                lines.append("  \(record.height.map { "height \($0)" } ?? "height ?") \(record.hash.displayHex) by \(who), server \(block.serverID), \(Self.iso(record.time.milliseconds))")
            }
        }
        if let window = pplnsWindow {
            lines.append("")
            lines.append("PPLNS window: the last \(window) shares, \(Self.number(pplns.reduce(0) { $0 + $1.work })) hashes of work")
            lines += Self.aligned([["user", "work (hashes)", "fraction"]] + pplns.map { [$0.user, Self.number($0.work), String(format: "%.6f", $0.fraction)] })
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func columns(_ figures: Figures) -> [String] {
        let codes = figures.rejected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let rejected = figures.rejectedTotal == 0 ? "0" : "\(figures.rejectedTotal) (\(codes))"
        return ["\(figures.accepted)", number(figures.work), rejected, "\(figures.blocks)"]
    }

    private static func aligned(_ rows: [[String]]) -> [String] {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
    }

    private static func number(_ value: Double) -> String { String(format: "%.6g", value) }

    private static func iso(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    // MARK: - JSON

    /// The report as JSON: `accounts` (each with `workers`), `total`, `blocks` and, with a window, `pplns`.
    public var json: JSONValue {
        var object: [(String, JSONValue)] = [
            ("accounts", .array(accounts.map { account in
                .object([("user", .string(account.user))] + Self.json(account.total) + [
                    ("workers", .array(account.workers.map { .object([("worker", .string($0.name))] + Self.json($0.figures)) })),
                ])
            })),
            ("total", .object(Self.json(total))),
            ("blocks", .array(blocks.map { block in
                .object([
                    ("hash", .string(block.record.hash.displayHex)),
                    ("height", block.record.height.map { .number("\($0)") } ?? .null),
                    ("user", .string(block.record.user)), ("worker", .string(block.record.worker)),
                    ("server_id", .number("\(block.serverID)")), ("template_id", .number("\(block.record.templateID)")),
                    ("time", .string(Self.iso(block.record.time.milliseconds))),
                    ("previous_hash", .string(block.record.previousBlockHash.displayHex)),
                ])
            })),
        ]
        if let window = pplnsWindow {
            object.append(("pplns", .object([
                ("window", .number("\(window)")),
                ("work", .number(Self.jsonNumber(pplns.reduce(0) { $0 + $1.work }))),
                ("users", .array(pplns.map {
                    .object([("user", .string($0.user)), ("work", .number(Self.jsonNumber($0.work))), ("fraction", .number(Self.jsonNumber($0.fraction)))])
                })),
            ])))
        }
        return .object(object)
    }

    private static func json(_ figures: Figures) -> [(String, JSONValue)] {
        [
            ("accepted", .number("\(figures.accepted)")), ("work", .number(jsonNumber(figures.work))),
            ("rejected", .number("\(figures.rejectedTotal)")),
            ("rejected_by_code", .object(figures.rejected.sorted { $0.key < $1.key }.map { ($0.key, .number("\($0.value)")) })),
            ("blocks", .number("\(figures.blocks)")),
        ]
    }

    /// A double as JSON (Swift's shortest round-trip text; never NaN or infinite here).
    private static func jsonNumber(_ value: Double) -> String { value.isFinite ? "\(value)" : "0" }
}
