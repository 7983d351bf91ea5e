import Foundation
import Logging
import ServiceLifecycle
import Sv2Channels
import Sv2Sessions
import Synchronization

/// The pool's share ledger: records arrive from any event loop (``record(_:acknowledge:)``, ``record(block:)``,
/// ``connectionOpened(_:peer:)``…) and one writer task commits whatever has gathered in one transaction as soon as
/// the previous commit ends (group commit: the busier the pool, the bigger each transaction). Each ``ShareBatch``'s
/// `acknowledge` runs once its shares are committed — only then does the miner hear they were accepted.
///
/// While the database fails, the writer keeps the records and retries (backing off to 2 s), the pool keeps
/// validating, and acknowledgements wait; past ``Configuration/pendingLimit`` unwritten shares, new batches are
/// refused at once (`acknowledge(false)`: the pool answers those shares with an error rather than a promise it could
/// not keep). A Service: on graceful shutdown it commits what it holds, then returns.
public final class ShareLedger: Service, Sendable {
    /// Settings of the ledger.
    public struct Configuration: Sendable {
        /// Where the database is.
        public var location: LedgerLocation
        /// This pool instance's id, recorded with everything it writes.
        public var serverID: Int
        /// Unwritten shares held at most while the database fails.
        public var pendingLimit: Int
        /// How long shutdown keeps retrying a failing database before it gives up the unacknowledged rest.
        public var shutdownGrace: Duration
        /// A PostgreSQL commit without an answer for this long counts as failed (a server that went away
        /// mid-transaction answers nothing): it is abandoned and retried.
        public var commitTimeout: Duration

        /// Settings; 1,000,000 pending shares (some 200 MB), 10 s of grace and 5 s per commit by default.
        public init(
            location: LedgerLocation, serverID: Int = 0, pendingLimit: Int = 1_000_000, shutdownGrace: Duration = .seconds(10),
            commitTimeout: Duration = .seconds(5)
        ) {
            self.location = location
            self.serverID = serverID
            self.pendingLimit = pendingLimit
            self.shutdownGrace = shutdownGrace
            self.commitTimeout = commitTimeout
        }
    }

    /// Called with true once a batch is committed, false when it was refused.
    public typealias Acknowledge = @Sendable (Bool) -> Void

    private struct Pending: Sendable {
        var entries = LedgerEntries()
        var acknowledgements = [Acknowledge]()
        /// Shares gathered or being written.
        var unwritten = 0
        /// Transactions committed.
        var commits = 0
        /// The number of the last set of entries taken to be written (each retry of one set keeps its number).
        var lastCommitNumber: Int64 = 0
        var wake: AsyncStream<Void>.Continuation?
        /// When graceful shutdown began.
        var stopping: ContinuousClock.Instant?
        var open = [UInt32: ConnectionRecord]()
    }

    private let configuration: Configuration
    private let logger: Logger
    private let clock: Sv2Clock
    private let started: Timestamp
    private let state = Mutex(Pending())
    private let wakes: AsyncStream<Void>

    /// A ledger; nothing is written until ``run()``.
    public init(configuration: Configuration, logger: Logger, clock: Sv2Clock = .system) {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        started = clock.now()
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wakes = stream
        state.withLock { $0.wake = continuation }
    }

    // MARK: - Records in

    /// Records a read's shares; `acknowledge(true)` runs once they are committed, `acknowledge(false)` at once when
    /// the ledger already holds ``Configuration/pendingLimit`` unwritten shares (the refused batch's rejections are
    /// still counted).
    public func record(_ batch: ShareBatch, acknowledge: @escaping Acknowledge) {
        let accepted = enqueue { pending in
            pending.entries.count(batch.rejected)
            guard pending.unwritten + batch.accepted.count <= configuration.pendingLimit else { return false }
            pending.unwritten += batch.accepted.count
            pending.entries.shares += batch.accepted
            pending.acknowledgements.append(acknowledge)
            return true
        }
        if !accepted { acknowledge(false) }
    }

    /// Records a block handed to the template provider.
    public func record(block: BlockRecord) {
        enqueue { $0.entries.blocks.append(block) }
    }

    /// Records connection `number` (unique in this process) from `peer`.
    public func connectionOpened(_ number: UInt32, peer: String) {
        let now = clock.now()
        enqueue { pending in
            let record = ConnectionRecord(number: number, peer: peer, opened: now)
            pending.open[number] = record
            pending.entries.connections.append(record)
        }
    }

    /// Records that connection `number` closed.
    public func connectionClosed(_ number: UInt32) {
        let now = clock.now()
        enqueue { pending in
            guard var record = pending.open.removeValue(forKey: number) else { return }
            record.closed = now
            pending.entries.connections.append(record)
        }
    }

    /// Waits until everything recorded so far is committed (or refused), at most `timeout`.
    public func flush(timeout: Duration = .seconds(5)) async {
        let (stream, done) = AsyncStream<Void>.makeStream()
        record(ShareBatch()) { _ in done.finish() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in stream {} }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Shares recorded but not yet committed.
    public var unwrittenShares: Int { state.withLock { $0.unwritten } }

    /// Transactions committed since the ledger started.
    public var commitCount: Int { state.withLock { $0.commits } }

    @discardableResult
    private func enqueue<T>(_ body: (inout Pending) -> T) -> T {
        state.withLock { pending in
            let result = body(&pending)
            pending.wake?.yield()
            return result
        }
    }

    // MARK: - The writer

    /// Opens the database, migrates it, and commits until graceful shutdown; then commits what is left.
    public func run() async throws {
        try await withLedgerStore(configuration.location, logger: logger) { store in
            await withGracefulShutdownHandler {
                await self.write(to: store)
            } onGracefulShutdown: {
                self.state.withLock { pending in
                    pending.stopping = .now
                    pending.wake?.finish()
                }
            }
        }
    }

    private func write(to store: any LedgerStore) async {
        var failing = Failing(logger: logger, location: configuration.location)
        guard let applied = await failing.retry({ try await store.migrate() }, giveUp: { self.state.withLock { $0.stopping != nil } }) else {
            logger.error("ledger \(configuration.location): shut down before the database could be opened")
            refuseRemaining()
            return
        }
        if !applied.isEmpty {
            logger.info("ledger \(configuration.location): schema migrations applied: \(applied.joined(separator: "; "))")
        }
        logger.info("ledger \(configuration.location): recording shares as server \(configuration.serverID)")
        let maintenance = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                try? await store.maintain()
            }
        }
        defer { maintenance.cancel() }
        for await _ in wakes { await commitPending(store, failing: &failing) }
        await commitPending(store, failing: &failing)
        refuseRemaining()
    }

    /// At the end: whatever could not be written is refused (its miners are told, not left waiting) and counted.
    private func refuseRemaining() {
        let (lost, acknowledgements) = state.withLock { pending in
            defer { (pending.entries, pending.acknowledgements, pending.unwritten) = (LedgerEntries(), [], 0) }
            return (pending.unwritten, pending.acknowledgements)
        }
        for acknowledge in acknowledgements { acknowledge(false) }
        if lost > 0 { logger.error("ledger: \(lost) unacknowledged share(s) not written at shutdown (the database failed)") }
    }

    /// Commits what has gathered, over and over until nothing is left; a failing commit is retried with the same
    /// records (and whatever gathers meanwhile waits for the next one), for ever, or once shutdown began for
    /// ``Configuration/shutdownGrace``.
    private func commitPending(_ store: any LedgerStore, failing: inout Failing) async {
        let grace = configuration.shutdownGrace
        while true {
            let (entries, acknowledgements, number) = state.withLock { pending in
                defer { (pending.entries, pending.acknowledgements) = (LedgerEntries(), []) }
                if !pending.entries.isEmpty { pending.lastCommitNumber += 1 }
                return (pending.entries, pending.acknowledgements, pending.lastCommitNumber)
            }
            guard !entries.isEmpty || !acknowledgements.isEmpty else { return }
            let write: @Sendable () async throws -> Void = {
                try await store.write(entries, commit: number, serverID: self.configuration.serverID, processStarted: self.started)
            }
            let written = entries.isEmpty ? true : await failing.retry({
                // Only a server can leave a commit unanswered; a local file answers or fails.
                if case .postgresql = self.configuration.location { try await self.withCommitTimeout(write) } else { try await write() }
            }, giveUp: { self.state.withLock { $0.stopping }.map { ContinuousClock.now > $0 + grace } ?? false }) != nil
            guard written else {
                // Shutdown gave up on a failing database: these and whatever gathered meanwhile are refused.
                state.withLock { $0.acknowledgements.insert(contentsOf: acknowledgements, at: 0) }
                return
            }
            state.withLock { pending in
                pending.unwritten -= entries.shares.count
                if !entries.isEmpty { pending.commits += 1 }
            }
            for acknowledge in acknowledgements { acknowledge(true) }
        }
    }

    /// Runs `commit`; when it has not finished within ``Configuration/commitTimeout`` it fails with a timeout and
    /// is cancelled and abandoned (a client waiting on a vanished server may not heed cancellation at once; a retry
    /// while it lingers is harmless, as writes are idempotent).
    private func withCommitTimeout(_ commit: @escaping @Sendable () async throws -> Void) async throws {
        let timeout = configuration.commitTimeout
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let pending = Mutex<CheckedContinuation<Void, any Error>?>(continuation)
            let finish: @Sendable (Result<Void, any Error>) -> Void = { result in pending.withLock { $0.take() }?.resume(with: result) }
            let timer = Mutex<Task<Void, Never>?>(nil)
            let work = Task {
                let result: Result<Void, any Error>
                do {
                    try await commit()
                    result = .success(())
                } catch {
                    result = .failure(error)
                }
                timer.withLock { $0?.cancel() }
                finish(result)
            }
            timer.withLock { slot in
                guard pending.withLock({ $0 != nil }) else { return }  // already finished
                slot = Task {
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    finish(.failure(LedgerError("no answer from the database within \(Failing.seconds(timeout))")))
                    work.cancel()
                }
            }
        }
    }
}

/// The writer's view of a failing database: retries with backoff, logs the first failure and then every 10 s, and
/// the recovery with how long it took.
private struct Failing {
    let logger: Logger
    let location: LedgerLocation
    var since: ContinuousClock.Instant?
    var lastLog = ContinuousClock.now

    /// Runs `operation` until it succeeds (its value) or, after a failure, `giveUp` says so (nil).
    mutating func retry<T>(_ operation: () async throws -> T, giveUp: () -> Bool) async -> T? {
        var delay = Duration.milliseconds(100)
        while true {
            do {
                let value = try await operation()
                if let since {
                    logger.notice("ledger \(location): the database is back after \(Self.seconds(ContinuousClock.now - since)), held shares committed")
                    self.since = nil
                }
                return value
            } catch {
                let now = ContinuousClock.now
                if since == nil {
                    since = now
                    lastLog = now
                    logger.error("ledger \(location): \(error); acknowledgements wait, retrying")
                } else if now - lastLog >= .seconds(10) {
                    lastLog = now
                    logger.error("ledger \(location): still failing after \(Self.seconds(now - (since ?? now))): \(error)")
                }
                if giveUp() || Task.isCancelled { return nil }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    /// `12.3 s`.
    static func seconds(_ duration: Duration) -> String { String(format: "%.1f s", duration.secondsValue) }
}
