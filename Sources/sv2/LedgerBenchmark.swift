import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import Sv2Binary
import Sv2Channels
import Sv2Ledger
import Sv2Roles
import Sv2Sessions
import Synchronization

/// `sv2 bench ledger`: shares committed per second through the pool's share ledger (SQLite, and PostgreSQL when one is
/// given), next to bulk inserts of the same rows; and the share round trip through a pool with the ledger on and off.
struct LedgerBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Committed shares per second into SQLite (and PostgreSQL), and the share round trip with the ledger on vs off.",
        discussion: """
            Part 1: the ledger's writer (group commit, synchronous=FULL for SQLite) fed 16-share batches as a pool's \
            reads deliver them, at most --in-flight shares unacknowledged, until --shares are committed and \
            acknowledged; the reference is the same rows written by the store alone in transactions of 10,000 (bulk \
            load: the most a database takes, with no batching machinery). With --postgresql URL (or \
            SV2_BENCH_POSTGRESQL; scripts/with-postgres starts a throwaway server) the same into PostgreSQL. Part 2: \
            the shares benchmark's pool on loopback with Noise and --miners simulated miners, one share in flight \
            each, once without a ledger and once with a SQLite ledger: round trip p50/p99 and the difference. \
            Medians of --rounds.
            """
    )

    @Option(help: "Shares committed per round in part 1.")
    var shares = 200_000
    @Option(help: "Rounds of part 1 (the median is printed).")
    var rounds = 5
    @Option(help: "Shares handed to the writer and not yet acknowledged, at most.")
    var inFlight = 20_000
    @Option(help: "A PostgreSQL database for part 1 (postgresql://USER:PASS@HOST:PORT/DB); default $SV2_BENCH_POSTGRESQL.")
    var postgresql: String?
    @Option(help: "Simulated miners in part 2 (0 skips it).")
    var miners = 50
    @Option(help: "Seconds of each part 2 run.")
    var seconds = 5.0

    func validate() throws {
        guard shares >= 1, rounds >= 1, inFlight >= 16, miners >= 0, seconds > 0 else {
            throw ValidationError("--shares and --rounds must be at least 1, --in-flight at least 16, --seconds above 0")
        }
    }

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sv2-bench-ledger-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var locations = [("SQLite", { (run: String) in LedgerLocation.sqlite(path: directory.appendingPathComponent("part1-\(run).sqlite").path) })]
        if let url = postgresql ?? ProcessInfo.processInfo.environment["SV2_BENCH_POSTGRESQL"] {
            let location = try LedgerLocation(url)
            locations.append(("PostgreSQL", { _ in location }))
        } else {
            print("(no --postgresql or SV2_BENCH_POSTGRESQL: PostgreSQL skipped; scripts/with-postgres sv2 bench ledger runs it)")
        }
        var rows = [[String]]()
        for (name, location) in locations {
            let (ours, reference, commits) = try await throughput(location)
            rows.append(["\(name): ledger writer (16-share batches, group commit)", BenchmarkTiming.grouped(ours), "\(commits)", BenchmarkTiming.format(ours / reference, digits: 2) + "x"])
            rows.append(["\(name): bulk insert, 10,000 rows per transaction (ref)", BenchmarkTiming.grouped(reference), "", "1.00x"])
        }
        print("sv2 bench ledger, part 1: \(BenchmarkTiming.grouped(Double(shares))) shares committed per round, median of \(rounds) rounds")
        BenchmarkTiming.printTable(["ledger", "committed shares/s", "commits", "ratio to ref"], rows)
        print("goal: >= 50,000 committed shares/s into SQLite")
        if miners > 0 { try await roundTrips(directory: directory) }
    }

    // MARK: - Part 1

    /// Median committed shares per second of the writer, and of bulk inserts, into `location` (a new SQLite file per
    /// run; in PostgreSQL every run's shares have hashes of their own); with the writer's commits in its median round.
    private func throughput(_ location: (String) -> LedgerLocation) async throws -> (ours: Double, reference: Double, commits: Int) {
        var ours = [(rate: Double, commits: Int)](), reference = [Double]()
        let logger = LogSettings(level: .warning).logger("bench")
        for round in 0..<rounds {
            ours.append(try await writerRate(location("writer-\(round)"), run: 2 * round, logger: logger))
            reference.append(try await bulkRate(location("bulk-\(round)"), run: 2 * round + 1, logger: logger))
        }
        let median = ours.sorted { $0.rate < $1.rate }[ours.count / 2]
        return (median.rate, reference.sorted()[reference.count / 2], median.commits)
    }

    /// Shares `start..<start + count` of run `run` (hashes distinct across runs), 40 accounts of 4 workers.
    private func batch(_ start: Int, count: Int, run: Int) -> [AcceptedShare] {
        (start..<start + count).map { index in
            AcceptedShare(
                time: Timestamp(nanoseconds: 1_700_000_000_000_000_000 + Int64(index) * 1000), user: "user\(index % 40)", worker: "rig\(index % 4)",
                channelID: UInt32(index % 1000), sequenceNumber: UInt32(truncatingIfNeeded: index), jobID: 7, difficulty: 1024, work: 4.4e12,
                hash: U256(w0: UInt64(index), w1: UInt64(run), w2: UInt64(UInt32(truncatingIfNeeded: ProcessInfo.processInfo.processIdentifier)), w3: 0),
                isBlock: false)
        }
    }

    private func writerRate(_ location: LedgerLocation, run: Int, logger: Logger) async throws -> (rate: Double, commits: Int) {
        let ledger = ShareLedger(configuration: .init(location: location, serverID: 1, pendingLimit: inFlight * 2), logger: logger)
        let writer = Task { try await ledger.run() }
        defer { writer.cancel() }
        await ledger.flush(timeout: .seconds(60))  // migrated and idle
        let commitsBefore = ledger.commitCount
        let acknowledged = Atomic<Int>(0)
        let start = ContinuousClock.now
        var sent = 0
        while sent < shares {
            while sent - acknowledged.load(ordering: .relaxed) >= inFlight { await Task.yield() }
            let count = min(16, shares - sent)
            ledger.record(ShareBatch(accepted: batch(sent, count: count, run: run))) { ok in
                if ok { acknowledged.add(count, ordering: .relaxed) }
            }
            sent += count
        }
        while acknowledged.load(ordering: .relaxed) < shares {
            guard ContinuousClock.now - start < .seconds(300) else { throw CommandFailure("the ledger did not commit \(shares) shares in 300 s") }
            try await Task.sleep(for: .microseconds(200))
        }
        return (Double(shares) / (ContinuousClock.now - start).secondsValue, ledger.commitCount - commitsBefore)
    }

    private func bulkRate(_ location: LedgerLocation, run: Int, logger: Logger) async throws -> Double {
        let rows = shares, make = batch
        return try await withLedgerStore(location, logger: logger) { store in
            _ = try await store.migrate()
            var chunks = [LedgerEntries]()
            for start in stride(from: 0, to: rows, by: 10_000) {
                var entries = LedgerEntries()
                entries.shares = make(start, min(10_000, rows - start), run)
                chunks.append(entries)
            }
            let start = ContinuousClock.now
            // A writer of its own per run (process start = run number, in ms): its commits are not taken for an earlier run's.
            for (index, entries) in chunks.enumerated() {
                try await store.write(entries, commit: Int64(index + 1), serverID: 1, processStarted: Timestamp(nanoseconds: Int64(run + 1) * 1_000_000))
            }
            return Double(rows) / (ContinuousClock.now - start).secondsValue
        }
    }

    // MARK: - Part 2

    private func roundTrips(directory: URL) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        try await withCleanup { try await roundTrips(directory: directory, group: group) } cleanup: { try? await group.shutdownGracefully() }
    }

    private func roundTrips(directory: URL, group: MultiThreadedEventLoopGroup) async throws {
        guard let session = PoolSessionConfiguration(sharesPerMinute: 6) else { throw CommandFailure("bad session settings") }
        let logger = LogSettings(level: .warning).logger("bench")
        let off = try await BenchPool(group: group, session: session)
        let without = try await BenchRoundTrips.measure(pool: off, group: group, miners: miners, seconds: seconds)
        await off.service.stop()
        let ledger = ShareLedger(
            configuration: .init(location: .sqlite(path: directory.appendingPathComponent("part2.sqlite").path)), logger: logger)
        let writer = Task { try await ledger.run() }
        defer { writer.cancel() }
        await ledger.flush(timeout: .seconds(60))
        let on = try await BenchPool(group: group, session: session, ledger: ledger)
        let commitsBefore = ledger.commitCount
        let with = try await BenchRoundTrips.measure(pool: on, group: group, miners: miners, seconds: seconds)
        let commits = ledger.commitCount - commitsBefore
        await on.service.stop()
        let interval = seconds * 1e6 / Double(max(1, commits))
        print("sv2 bench ledger, part 2: pool on loopback with Noise, \(miners) miners with one share in flight each, \(BenchmarkTiming.format(seconds)) s per run")
        BenchmarkTiming.printTable(
            ["ledger", "shares/s", "round trip p50", "round trip p99", "commits"],
            [
                ["off (ref)", BenchmarkTiming.grouped(Double(without.acknowledged) / seconds), Self.micros(without.p50), Self.micros(without.p99), ""],
                ["SQLite, synchronous=FULL", BenchmarkTiming.grouped(Double(with.acknowledged) / seconds), Self.micros(with.p50), Self.micros(with.p99),
                 "\(commits) (one per \(Self.micros(interval)))"],
                ["difference", "", Self.micros(with.p50 - without.p50), Self.micros(with.p99 - without.p99), ""],
            ])
        print("goal: p99 grows by at most the commit interval (\(Self.micros(interval)) here)")
    }

    private static func micros(_ value: Double) -> String { BenchmarkTiming.format(value, digits: 1) + " us" }
}
