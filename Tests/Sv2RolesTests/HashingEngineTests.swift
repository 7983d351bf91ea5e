import Bitcoin
import Foundation
import NIOConcurrencyHelpers
import Sv2Binary
import Sv2Channels
import Sv2Crypto
import Testing
@testable import Sv2Roles

/// SHA256d of the coinbase folded over the path as spec 5.3.16 writes it (libsodium's SHA-256, not Merkle).
func specMerkleRoot(coinbase: [UInt8], path: [U256]) -> U256 {
    var root = Sv2Hash.sha256d(coinbase)
    for step in path { root = Sv2Hash.sha256d(root + step.littleEndianBytes) }
    return U256(littleEndianBytes: root) ?? .zero
}

/// The header a share of extended work describes, built without MiningWork's own code.
func independentHeader(_ share: FoundShare, prefix: [UInt8], suffix: [UInt8], path: [U256], work: MiningWork) -> BlockHeader {
    BlockHeader(
        version: share.version, previousBlockHash: work.previousBlockHash,
        merkleRoot: specMerkleRoot(coinbase: prefix + share.extranonce + suffix, path: path), time: share.time,
        bits: work.bits, nonce: share.nonce)
}

/// Shares an engine reports, with the time each arrived.
final class ShareLog: @unchecked Sendable {
    private let lock = NIOLock()
    private var entries: [(lane: Int, share: FoundShare, at: Date)] = []

    func record(_ share: FoundShare, lane: Int) {
        lock.withLock { entries.append((lane, share, Date())) }
    }

    var all: [(lane: Int, share: FoundShare, at: Date)] { lock.withLock { entries } }
}

@Suite("Hashing engine", .serialized)
struct HashingEngineTests {
    static let prefix: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x01] + [UInt8](repeating: 0xab, count: 40)
    static let suffix: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00]
    static let path = [U256(w0: 3, w1: 1, w2: 4, w3: 1), U256(w0: 5, w1: 9, w2: 2, w3: 6)]

    /// 1 in 2^shift hashes meets it.
    static func target(oneIn shift: Int) -> U256 {
        U256(w0: .max, w1: .max, w2: .max, w3: UInt64.max >> UInt64(shift))
    }

    static func extendedWork(id: UInt64, extranonceSize: Int = 4, mask: UInt32 = MiningWork.bip320VersionMask, target: U256) -> MiningWork {
        MiningWork(
            id: id, version: 0x2000_0000, versionRollingMask: mask, previousBlockHash: U256(w0: 7, w1: 7, w2: 7, w3: id),
            merkleRoot: .coinbase(CoinbaseTemplate(prefix: prefix, extranonceSize: extranonceSize, suffix: suffix, merklePath: path)),
            time: 1_700_000_000, bits: 0x1d00_ffff, target: target)
    }

    static func fixedWork(id: UInt64, mask: UInt32, target: U256) -> MiningWork {
        MiningWork(
            id: id, version: 0x2000_0000, versionRollingMask: mask, previousBlockHash: U256(w0: 1, w1: 1, w2: 1, w3: 1),
            merkleRoot: .fixed(U256(w0: 0xfeed, w1: 2, w2: 3, w3: 4)), time: 1_700_000_000, bits: 0x1d00_ffff, target: target)
    }

    /// The first share of `partition` with every hash meeting the target.
    static func firstShare(_ work: MiningWork, _ partition: SearchPartition) -> FoundShare? {
        var cursor = SearchCursor(work: work, partition: partition)
        guard case let .found(share, hashed) = cursor.scan(kernel: .auto, nonces: 16, elapsedSeconds: 0), hashed == 1 else { return nil }
        return share
    }

    @Test("threads split extended work by extranonce, else by version bits, else by nonce ranges")
    func partitions() throws {
        let all = U256.max
        for index in 0..<3 {
            let share = try #require(Self.firstShare(Self.extendedWork(id: 1, target: all), SearchPartition(index: index, count: 3)))
            #expect(share.extranonce == [0, 0, 0, UInt8(index)] && share.nonce == 0 && share.version == 0x2000_0000)
        }
        for index in 0..<3 {
            let share = try #require(Self.firstShare(
                Self.fixedWork(id: 1, mask: MiningWork.bip320VersionMask, target: all), SearchPartition(index: index, count: 3)))
            #expect(share.version == 0x2000_0000 | UInt32(index) << 13 && share.nonce == 0 && share.extranonce.isEmpty)
        }
        // No extranonce, version fixed: contiguous quarters of the nonces.
        for index in 0..<4 {
            let share = try #require(Self.firstShare(Self.fixedWork(id: 1, mask: 0, target: all), SearchPartition(index: index, count: 4)))
            #expect(share.nonce == UInt32(index) << 30 && share.version == 0x2000_0000)
        }
        // One extranonce byte is not enough for 300 threads; the version bits are.
        let share = try #require(Self.firstShare(Self.extendedWork(id: 1, extranonceSize: 1, target: all), SearchPartition(index: 299, count: 300)))
        #expect(share.extranonce == [0] && share.version == 0x2000_0000 | 299 << 13)
        #expect(SearchCursor.deposit(0b101, into: 0x0000_f0f0) == 0x0000_0050)
    }

    /// Hashes `remaining` nonces (the rest of the cursor's range) against an impossible target, then returns the
    /// next outcome with every hash meeting the target: the position the cursor rolled to.
    static func roll(_ cursor: inout SearchCursor, remaining: UInt32, elapsedSeconds: UInt32 = 0) -> SearchCursor.Outcome {
        let target = cursor.work.target
        cursor.retarget(.zero)
        #expect(cursor.scan(kernel: .auto, nonces: remaining, elapsedSeconds: elapsedSeconds) == .hashed(UInt64(remaining)))
        cursor.retarget(target)
        return cursor.scan(kernel: .auto, nonces: 1, elapsedSeconds: elapsedSeconds)
    }

    @Test("an exhausted thread rolls version bits, then the extranonce, then nTime only as far as the elapsed seconds allow")
    func rolling() throws {
        // 2^14 threads on a nonce split: 2^18 nonces each. One rollable version bit, one extranonce byte.
        let partition = SearchPartition(index: 5, count: 1 << 14)
        var cursor = SearchCursor(work: Self.extendedWork(id: 1, extranonceSize: 1, mask: 0x0000_2000, target: .max), partition: partition)
        guard case let .found(first, _) = cursor.scan(kernel: .auto, nonces: 1, elapsedSeconds: 0) else { Issue.record("no share"); return }
        #expect(first.nonce == 5 << 18 && first.version == 0x2000_0000 && first.extranonce == [0])
        guard case let .found(second, _) = Self.roll(&cursor, remaining: (1 << 18) - 1) else { Issue.record("no share after the nonces"); return }
        #expect(second.nonce == 5 << 18 && second.version == 0x2000_2000 && second.extranonce == [0] && second.time == 1_700_000_000)
        guard case let .found(third, _) = Self.roll(&cursor, remaining: (1 << 18) - 1) else { Issue.record("no share after the versions"); return }
        #expect(third.nonce == 5 << 18 && third.version == 0x2000_0000 && third.extranonce == [1])

        // Without extranonce or version bits: the nonces, then a wait until a second has passed.
        var fixed = SearchCursor(work: Self.fixedWork(id: 2, mask: 0, target: .max), partition: partition)
        #expect(Self.roll(&fixed, remaining: 1 << 18) == .waiting)
        #expect(fixed.scan(kernel: .auto, nonces: 1, elapsedSeconds: 0) == .waiting)
        guard case let .found(later, _) = fixed.scan(kernel: .auto, nonces: 1, elapsedSeconds: 1) else { Issue.record("no roll"); return }
        #expect(later.time == 1_700_000_001 && later.nonce == 5 << 18)
        #expect(Self.roll(&fixed, remaining: (1 << 18) - 1, elapsedSeconds: 1) == .waiting)
    }

    @Test("two threads find shares for an easy target; each validates against an independent header hash; no duplicates")
    func sharesValidate() async throws {
        let log = ShareLog()
        let rate = HashingKernel.auto.measureHashRate(seconds: 0.05)
        let engine = try HashingEngine(
            configuration: .init(threads: 2, kernel: .auto, chunkNonces: HashingEngine.Configuration.chunkNonces(forThreadHashRate: rate))
        ) { lane, share in log.record(share, lane: lane) }
        let work = Self.extendedWork(id: 9, target: Self.target(oneIn: 8))
        engine.start()
        engine.setWork(work, lane: 0)
        let deadline = Date(timeIntervalSinceNow: 10)
        while log.all.count < 40, Date() < deadline { usleep(10_000) }
        await engine.stop()
        let shares = log.all.map(\.share)
        #expect(shares.count >= 40)
        #expect(Set(shares).count == shares.count)
        // Thread t takes the extranonce values congruent to t modulo 2.
        #expect(Set(shares.map { $0.extranonce.last.map { $0 & 1 } ?? 9 }) == [0, 1])
        for share in shares {
            let header = independentHeader(share, prefix: Self.prefix, suffix: Self.suffix, path: Self.path, work: work)
            #expect(header.hash <= work.target)
            #expect(work.header(for: share) == header)
        }
        #expect(engine.hashes > 0)
    }

    @Test("new work reaches every thread within the deadline; a new target keeps the position; nil idles the threads")
    func switching() async throws {
        let log = ShareLog()
        let rate = HashingKernel.auto.measureHashRate(seconds: 0.05)
        let engine = try HashingEngine(
            configuration: .init(threads: 2, kernel: .auto, chunkNonces: HashingEngine.Configuration.chunkNonces(forThreadHashRate: rate))
        ) { lane, share in log.record(share, lane: lane) }
        engine.start()
        let first = Self.fixedWork(id: 1, mask: MiningWork.bip320VersionMask, target: Self.target(oneIn: 8))
        engine.setWork(first, lane: 0)
        usleep(200_000)
        // The same headers with another target: threads go on where they were (no share found twice).
        var retargeted = first
        retargeted.target = Self.target(oneIn: 7)
        engine.setWork(retargeted, lane: 0)
        usleep(200_000)
        let second = Self.fixedWork(id: 2, mask: MiningWork.bip320VersionMask, target: Self.target(oneIn: 8))
        let switchedAt = Date()
        engine.setWork(second, lane: 0)
        // Hashing threads run in the idle scheduling class: on a loaded machine (tests run in parallel) they may wait
        // a while for a CPU, so the test waits for a share of the new work rather than a fixed time.
        usleep(200_000)
        for _ in 0..<100 where !log.all.contains(where: { $0.share.workID == 2 }) { usleep(50_000) }
        engine.setWork(nil, lane: 0)
        // Threads finish the chunk in hand, then stop: the count settles (two equal readings) and stays.
        var idleHashes = engine.hashes
        var steady = 0
        for _ in 0..<100 where steady < 2 {
            usleep(50_000)
            let now = engine.hashes
            steady = now == idleHashes ? steady + 1 : 0
            idleHashes = now
        }
        usleep(100_000)
        #expect(engine.hashes == idleHashes)
        await engine.stop()

        let entries = log.all
        let firstShares = entries.filter { $0.share.workID == 1 }
        #expect(Set(firstShares.map(\.share)).count == firstShares.count)
        #expect(!firstShares.isEmpty && entries.contains { $0.share.workID == 2 })
        let lastOld = try #require(firstShares.map(\.at).max())
        // A bound far above the few milliseconds this takes, so that a loaded machine does not fail it.
        #expect(lastOld.timeIntervalSince(switchedAt) < 0.5, "old work hashed \(lastOld.timeIntervalSince(switchedAt)) s after the switch")
        for entry in entries {
            let work = entry.share.workID == 1 ? first : second
            #expect(try #require(work.header(for: entry.share)).hash <= Self.target(oneIn: 7))
        }
    }

    @Test("the hash rate limit holds while new work keeps coming, as when every hash finds a regtest block")
    func rateLimitUnderNewWork() async throws {
        let engine = try HashingEngine(configuration: .init(threads: 1, kernel: .auto, chunkNonces: 1, threadHashRateLimit: 2)) { _, _ in }
        let started = Date()
        engine.start()
        // New work every 5 ms for about half a second: unlimited, the thread would hash on each arrival.
        for id in 1...100 {
            engine.setWork(Self.fixedWork(id: UInt64(id), mask: 0, target: Self.target(oneIn: 1)), lane: 0)
            usleep(5_000)
        }
        let hashes = engine.hashes
        let elapsed = Date().timeIntervalSince(started)
        // 2 a second, plus the first hash (a load that slows the loop only lowers the count).
        #expect(Double(hashes) <= 2 * elapsed + 1, "\(hashes) hashes in \(elapsed) s at 2 H/s")
        // The thread runs in the idle scheduling class: on a loaded machine it may wait a while for a CPU.
        for _ in 0..<100 where engine.hashes == 0 { usleep(50_000) }
        #expect(engine.hashes >= 1)
        await engine.stop()
    }

    @Test("the hash rate measurement and kernel choices")
    func kernels() throws {
        #expect(HashingKernel.auto.isAvailable && HashingKernel.portable.isAvailable)
        #expect(HashingKernel.allCases.dropFirst().map(\.rawValue).contains(HashingKernel.auto.implementationName))
        #expect(HashingKernel.portable.measureHashRate(seconds: 0.02) > 1000)
        #expect(HashingEngine.Configuration.chunkNonces(forThreadHashRate: 30e6) == 60_000)
        #expect(throws: HashingEngine.ConfigurationError.self) {
            _ = try HashingEngine(configuration: .init(threads: 1, lanes: 2)) { _, _ in }
        }
        #expect(HashingEngine.format(hashRate: 27_123_456) == "27.1 MH/s")
        #expect(HashingEngine.format(hashRate: 950) == "950 H/s")
    }
}
