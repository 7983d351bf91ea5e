import CSv2Native
import Dispatch
import Foundation
import Sv2Channels
import Synchronization

/// The CPU hashing engine: OS threads running the CSv2Native SHA-256d kernel over ``MiningWork``.
///
/// The engine knows nothing of Stratum: a client (the Sv2 miner, later a Stratum V1 one) gives each lane a work
/// with ``setWork(_:lane:)`` and gets every header at or below the work's target back through `onShare`, called on
/// the hashing thread. Thread `t` mines lane `t % lanes`; the threads of a lane divide its work as
/// ``SearchCursor`` describes. Each thread hashes in chunks of ``Configuration/chunkNonces`` and between chunks
/// compares its lane's generation counter (an atomic bumped by every ``setWork(_:lane:)``) with the one it saw
/// last, so it takes up new work within one chunk. A new work that differs from the current one only in its target
/// keeps each thread's position and the time the work arrived.
public final class HashingEngine: Sendable {
    /// How the engine runs.
    public struct Configuration: Sendable {
        /// Hashing threads (at least 1).
        public var threads: Int
        /// Independent works mined at once (at least 1, at most `threads`).
        public var lanes: Int
        /// The kernel.
        public var kernel: HashingKernel
        /// Nonces per kernel call; the time of one call bounds how late a thread sees new work.
        public var chunkNonces: UInt32
        /// Whether thread `t` is pinned to the `t % n`-th of the n CPUs the process may use (Linux); otherwise the OS
        /// places the threads.
        public var pinThreads: Bool
        /// Hashes per second each thread does at most (nil: as fast as it can): after each chunk a thread waits the
        /// time its hashes take at this rate (at most an hour), new work or not.
        public var threadHashRateLimit: Double?

        /// A configuration; `chunkNonces` defaults to 2^16 (a few milliseconds on any kernel).
        public init(
            threads: Int, lanes: Int = 1, kernel: HashingKernel = .auto, chunkNonces: UInt32 = 1 << 16, pinThreads: Bool = false,
            threadHashRateLimit: Double? = nil
        ) {
            self.threads = threads
            self.lanes = lanes
            self.kernel = kernel
            self.chunkNonces = chunkNonces
            self.pinThreads = pinThreads
            self.threadHashRateLimit = threadHashRateLimit
        }

        /// Nonces that take about 2 ms on one thread hashing `hashRate` per second (between 2^12 and 2^20).
        public static func chunkNonces(forThreadHashRate hashRate: Double) -> UInt32 {
            UInt32(min(max(hashRate * 0.002, 4096), 1_048_576))
        }
    }

    /// Why an engine cannot be made.
    public enum ConfigurationError: Error, Hashable, CustomStringConvertible {
        /// The kernel does not run on this CPU.
        case kernelUnavailable(HashingKernel)
        /// Threads, lanes or chunk size out of range.
        case invalid(String)

        /// A sentence for the user.
        public var description: String {
            switch self {
            case let .kernelUnavailable(kernel): return "the \(kernel.rawValue) kernel does not run on this CPU"
            case let .invalid(reason): return reason
            }
        }
    }

    /// A lane's current work and when it arrived (monotonic nanoseconds), and the generation threads poll.
    private final class Lane: Sendable {
        let slot = Mutex<(work: MiningWork?, receivedAt: UInt64)>((nil, 0))
        let generation = Atomic<UInt64>(0)
    }

    /// The configuration.
    public let configuration: Configuration
    private let lanes: [Lane]
    private let onShare: @Sendable (_ lane: Int, _ share: FoundShare) -> Void
    private let running = Atomic<Bool>(false)
    private let hashCount = Atomic<UInt64>(0)
    private let finished = DispatchGroup()

    /// An engine that is not yet hashing; `onShare` receives each share with its lane, on a hashing thread.
    public init(configuration: Configuration, onShare: @escaping @Sendable (_ lane: Int, _ share: FoundShare) -> Void) throws(ConfigurationError) {
        guard configuration.kernel.isAvailable else { throw .kernelUnavailable(configuration.kernel) }
        guard configuration.threads >= 1, configuration.lanes >= 1, configuration.lanes <= configuration.threads else {
            throw .invalid("need at least one thread and between 1 and \(configuration.threads) lanes")
        }
        guard configuration.chunkNonces >= 1 else { throw .invalid("chunks must hold at least one nonce") }
        self.configuration = configuration
        self.lanes = (0..<configuration.lanes).map { _ in Lane() }
        self.onShare = onShare
    }

    /// Hashes computed since the engine was made.
    public var hashes: UInt64 { hashCount.load(ordering: .relaxed) }

    /// Starts the threads (idle until their lane gets work). Does nothing when already running.
    public func start() {
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        for index in 0..<configuration.threads {
            finished.enter()
            let thread = Thread { [self] in
                if configuration.pinThreads { _ = sv2_pin_current_thread(Int32(truncatingIfNeeded: index)) }
                // Hashing only gets the CPU nobody else wants: the thread that receives new work is never queued
                // behind a hashing thread, so stale work stops within one chunk of its arrival.
                _ = sv2_idle_current_thread()
                hash(thread: index)
                finished.leave()
            }
            thread.name = "sv2-hash-\(index)"
            thread.start()
        }
    }

    /// Stops the threads and waits, without blocking the calling task's thread, for them to finish their chunk.
    public func stop() async {
        running.store(false, ordering: .releasing)
        await withCheckedContinuation { continuation in
            finished.notify(queue: .global()) { continuation.resume() }
        }
    }

    /// Gives `lane` new work (nil: idle); out-of-range lanes are ignored. Threads switch within one chunk.
    public func setWork(_ work: MiningWork?, lane: Int) {
        guard lanes.indices.contains(lane) else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        lanes[lane].slot.withLock { slot in
            if let work, let current = slot.work, current.hasSameSearchSpace(as: work) {
                slot.work = work
            } else {
                slot = (work, now)
            }
        }
        lanes[lane].generation.add(1, ordering: .releasing)
    }

    /// When a thread that started hashing `count` nonces at `now` (monotonic nanoseconds) may hash again under the
    /// rate limit, if there is one: `now` plus the time `count` hashes take at the limit. The thread keeps this time
    /// across new work, so a block found and the new work it brings cannot run the rate past the limit.
    private func nextAllowance(after count: UInt64, startedAt now: UInt64) -> UInt64 {
        guard let limit = configuration.threadHashRateLimit, limit > 0 else { return 0 }
        return now &+ UInt64(min(Double(count) / limit, 3600) * 1_000_000_000)
    }

    /// The loop of hashing thread `index`.
    private func hash(thread index: Int) {
        let laneIndex = index % lanes.count
        let lane = lanes[laneIndex]
        let partition = SearchPartition(
            index: index / lanes.count, count: (configuration.threads - laneIndex + lanes.count - 1) / lanes.count)
        let kernel = configuration.kernel
        let chunk = configuration.chunkNonces
        var seenGeneration: UInt64 = 0
        var receivedAt: UInt64 = 0
        var cursor: SearchCursor?
        var allowedAt: UInt64 = 0
        while running.load(ordering: .relaxed) {
            let generation = lane.generation.load(ordering: .acquiring)
            if generation != seenGeneration {
                seenGeneration = generation
                let (work, arrival) = lane.slot.withLock { $0 }
                if let work, cursor?.work.hasSameSearchSpace(as: work) == true {
                    cursor?.retarget(work.target)
                } else {
                    cursor = work.map { SearchCursor(work: $0, partition: partition) }
                    receivedAt = arrival
                }
            }
            let now = DispatchTime.now().uptimeNanoseconds
            if now < allowedAt {
                // Rate-limited: sleep in slices of at most 50 ms, looking for new work and a stop between them.
                usleep(UInt32((min(allowedAt - now, 50_000_000) + 999) / 1000))
                continue
            }
            let elapsed = UInt32(clamping: (now >= receivedAt ? now - receivedAt : 0) / 1_000_000_000)
            switch cursor?.scan(kernel: kernel, nonces: chunk, elapsedSeconds: elapsed) {
            case let .hashed(count):
                hashCount.add(count, ordering: .relaxed)
                allowedAt = nextAllowance(after: count, startedAt: now)
            case let .found(share, count):
                hashCount.add(count, ordering: .relaxed)
                onShare(laneIndex, share)
                allowedAt = nextAllowance(after: count, startedAt: now)
            case .waiting, nil:
                usleep(2_000)
            }
        }
    }
}

extension HashingEngine {
    /// `27.1 MH/s`: three significant digits with H, kH, MH, GH or TH.
    public static func format(hashRate: Double) -> String {
        var value = max(hashRate, 0)
        var unit = 0
        let units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s"]
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        let digits = value >= 100 ? 0 : (value >= 10 ? 1 : 2)
        return String(format: "%.\(digits)f %@", value, units[unit])
    }
}
