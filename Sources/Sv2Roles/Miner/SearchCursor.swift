import CSv2Native
import Sv2Binary
import Sv2Channels

/// A thread's place among the threads that mine one work: thread `index` of `count`.
struct SearchPartition: Hashable, Sendable {
    /// This thread, from 0.
    var index: Int
    /// Threads sharing the work (at least 1).
    var count: Int
}

/// The values first, first + step, first + 2·step, ... below `limit` that one thread takes in one dimension of the
/// search space.
struct SearchStride: Hashable, Sendable {
    /// The thread's first value.
    var first: UInt64
    /// Distance between the thread's values (the number of threads sharing the dimension, or 1).
    var step: UInt64
    /// Values are below this.
    var limit: UInt64

    /// The value after `value`, nil when the thread has no more.
    func next(after value: UInt64) -> UInt64? {
        let (next, overflow) = value.addingReportingOverflow(step)
        return overflow || next >= limit ? nil : next
    }
}

/// One thread's part of a ``MiningWork`` and its position in it: the header split into the 64 bytes behind the
/// midstate and the 16-byte tail the kernel hashes per nonce.
///
/// The work's search space is nonce × rolled version bits × extranonce values × nTime. It is divided among the
/// threads by the first dimension with enough values for all of them: extranonce values (thread `i` of `n` takes
/// i, i + n, ...), else version-bit values likewise, else contiguous nonce ranges. A thread scans its nonces, then
/// moves to its next version value, then its next extranonce value; when all are done it raises nTime by one second,
/// but only as far as the seconds elapsed since the work arrived allow (spec 5.3.11), and waits otherwise.
struct SearchCursor {
    /// What happened in one call of ``scan(kernel:nonces:elapsedSeconds:)``.
    enum Outcome: Equatable {
        /// That many nonces were hashed; none met the target.
        case hashed(UInt64)
        /// A header met the target after that many nonces.
        case found(FoundShare, hashed: UInt64)
        /// The space is exhausted until nTime may be raised again.
        case waiting
    }

    /// The work searched.
    private(set) var work: MiningWork
    private var target: [UInt8]
    private let nonceStart: UInt64
    private let nonceEnd: UInt64
    private var nonceNext: UInt64
    private let versionStride: SearchStride
    private var versionValue: UInt64
    private let extranonceStride: SearchStride
    private var extranonceValue: UInt64
    private var extranonce: [UInt8]
    private var version: UInt32
    private var time: UInt32
    private var exhausted = false
    private var head = [UInt8](repeating: 0, count: 64)
    private var tail = [UInt8](repeating: 0, count: 16)
    private var midstate = [UInt32](repeating: 0, count: 8)

    /// The thread's part of `work` and its first header.
    init(work: MiningWork, partition: SearchPartition) {
        self.work = work
        target = work.searchTarget.littleEndianBytes
        let threads = UInt64(max(partition.count, 1))
        let index = UInt64(max(partition.index, 0)) % threads
        let extranonceSize = work.merkleRoot.extranonceSize
        // The rolled extranonce value is a big-endian counter in the last (up to 8) extranonce bytes.
        let extranonceLimit = extranonceSize >= 8 ? UInt64.max : UInt64(1) << UInt64(8 * extranonceSize)
        let versionLimit = UInt64(1) << UInt64(work.versionRollingMask.nonzeroBitCount)
        var nonceRange: (UInt64, UInt64) = (0, 1 << 32)
        if extranonceSize > 0, extranonceLimit >= threads {
            extranonceStride = SearchStride(first: index, step: threads, limit: extranonceLimit)
            versionStride = SearchStride(first: 0, step: 1, limit: versionLimit)
        } else if versionLimit >= threads {
            extranonceStride = SearchStride(first: 0, step: 1, limit: extranonceLimit)
            versionStride = SearchStride(first: index, step: threads, limit: versionLimit)
        } else {
            extranonceStride = SearchStride(first: 0, step: 1, limit: extranonceLimit)
            versionStride = SearchStride(first: 0, step: 1, limit: versionLimit)
            nonceRange = ((1 << 32) * index / threads, (1 << 32) * (index + 1) / threads)
        }
        (nonceStart, nonceEnd) = nonceRange
        nonceNext = nonceStart
        versionValue = versionStride.first
        extranonceValue = extranonceStride.first
        extranonce = [UInt8](repeating: 0, count: extranonceSize)
        version = work.version
        time = work.time
        copy(work.previousBlockHash.littleEndianBytes, into: &head, at: 4)
        writeLittleEndian(work.time, into: &tail, at: 4)
        writeLittleEndian(work.bits, into: &tail, at: 8)
        applyExtranonce()
    }

    /// Takes a new target for the same headers (SetTarget): the position is kept.
    mutating func retarget(_ newTarget: U256) {
        work.target = newTarget
        target = work.searchTarget.littleEndianBytes
    }

    /// Hashes up to `nonces` nonces from the current position and moves on. `elapsedSeconds` since the work arrived
    /// bounds how far nTime may have been raised.
    mutating func scan(kernel: HashingKernel, nonces: UInt32, elapsedSeconds: UInt32) -> Outcome {
        if exhausted {
            guard UInt64(time) < UInt64(work.time) + UInt64(elapsedSeconds), time < UInt32.max else { return .waiting }
            time += 1
            writeLittleEndian(time, into: &tail, at: 4)
            exhausted = false
        }
        let count = UInt32(min(UInt64(nonces), nonceEnd - nonceNext))
        var found: UInt32 = 0
        let result = sv2_sha256d_scan(kernel.native, midstate, tail, UInt32(nonceNext), count, target, &found)
        let outcome: Outcome
        if result == 1 {
            let hashed = UInt64(found) - nonceNext + 1
            nonceNext = UInt64(found) + 1
            outcome = .found(
                FoundShare(workID: work.id, nonce: found, time: time, version: version, extranonce: extranonce),
                hashed: hashed)
        } else {
            nonceNext += UInt64(count)
            outcome = .hashed(UInt64(count))
        }
        if nonceNext >= nonceEnd { rollOver() }
        return outcome
    }

    /// The nonces are done: the next version value, else the next extranonce value, else wait for nTime.
    private mutating func rollOver() {
        nonceNext = nonceStart
        if let next = versionStride.next(after: versionValue) {
            versionValue = next
            applyVersion()
            return
        }
        versionValue = versionStride.first
        if let next = extranonceStride.next(after: extranonceValue) {
            extranonceValue = next
        } else {
            extranonceValue = extranonceStride.first
            exhausted = true
        }
        applyExtranonce()
    }

    /// Writes the extranonce value, the merkle root it gives and the version into the header.
    private mutating func applyExtranonce() {
        var value = extranonceValue
        for position in extranonce.indices.reversed().prefix(8) {
            extranonce[position] = UInt8(truncatingIfNeeded: value)
            value >>= 8
        }
        let root: U256
        switch work.merkleRoot {
        case let .fixed(fixed): root = fixed
        case let .coinbase(template): root = template.merkleRoot(extranonce: extranonce)
        }
        let bytes = root.littleEndianBytes
        copy(bytes[0..<28], into: &head, at: 36)
        copy(bytes[28..<32], into: &tail, at: 0)
        applyVersion()
    }

    /// Writes the version with the current rolled bits and recomputes the midstate.
    private mutating func applyVersion() {
        version = (work.version & ~work.versionRollingMask) | Self.deposit(versionValue, into: work.versionRollingMask)
        writeLittleEndian(version, into: &head, at: 0)
        sv2_sha256_midstate(head, &midstate)
    }

    /// The low bits of `value` spread over the set bits of `mask`, lowest first.
    static func deposit(_ value: UInt64, into mask: UInt32) -> UInt32 {
        var result: UInt32 = 0
        var remaining = mask
        var bits = value
        while remaining != 0 {
            let lowest = remaining & (0 &- remaining)
            if bits & 1 == 1 { result |= lowest }
            bits >>= 1
            remaining &= remaining &- 1
        }
        return result
    }
}

/// Copies `bytes` into `buffer` from `offset` (the header buffers have room).
private func copy<Bytes: Collection<UInt8>>(_ bytes: Bytes, into buffer: inout [UInt8], at offset: Int) {
    buffer.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
}

/// Writes `value` little-endian into `buffer` at `offset`.
private func writeLittleEndian(_ value: UInt32, into buffer: inout [UInt8], at offset: Int) {
    withUnsafeBytes(of: value.littleEndian) { copy($0, into: &buffer, at: offset) }
}
