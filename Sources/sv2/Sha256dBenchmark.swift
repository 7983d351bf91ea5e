import ArgumentParser
import CSv2Native
import Foundation
import Sv2Binary
import Sv2Channels
import Sv2Roles

/// `sv2 bench sha256d`: nonce-search speed of each SHA-256d kernel on one core next to a naive one-shot hash per nonce,
/// then the miner's hashing engine's scaling over threads, unpinned and pinned to cores.
struct Sha256dBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sha256d",
        abstract: "MH/s of each SHA-256d nonce-search kernel on one core, next to a one-shot SHA256d per nonce; thread scaling.",
        discussion: """
            Each kernel scans a block header's nonces from a precomputed midstate with an impossible (zero) target, \
            so every nonce is hashed. Reference = sv2_sha256d of the full 80-byte header per nonce (portable C, no \
            midstate). Figures are medians of the rounds on the calling thread; ratios are kernel / reference. Then \
            the hashing engine of `sv2 mine` (auto kernel) runs 1 to --threads threads on one work with an impossible \
            target for --scaling-seconds, the threads splitting it by version bits as they do when mining, first as \
            the OS places them, then each pinned to one CPU (`sv2 mine --pin-threads`); the ratio is to one thread.
            """
    )

    @Option(help: "Nonces hashed per timing round by each kernel (the portable kernel and the reference hash a 16th).")
    var nonces: UInt32 = 1 << 24

    @Option(help: "Timing rounds; the median is reported.")
    var rounds = 5

    @Option(help: "Most threads of the scaling table (default: the CPUs this process may run on).")
    var threads: Int?

    @Option(help: "Seconds each row of the scaling table hashes.")
    var scalingSeconds: Double = 2

    /// The synthetic header every figure hashes: its midstate and tail.
    struct Job {
        var header: [UInt8]
        var midstate: [UInt32]
        var tail: [UInt8]

        init() {
            header = [UInt8](repeating: 0, count: 80)
            header[0] = 1
            for index in 36..<80 { header[index] = UInt8(truncatingIfNeeded: index &* 37) }
            midstate = [UInt32](repeating: 0, count: 8)
            sv2_sha256_midstate(header, &midstate)
            tail = Array(header[64..<80])
        }
    }

    func run() async throws {
        let maxThreads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        guard nonces >= 16, rounds >= 1 else { throw ValidationError("--nonces must be >= 16 and --rounds >= 1") }
        guard (1...256).contains(maxThreads), scalingSeconds > 0 else {
            throw ValidationError("--threads must be between 1 and 256 and --scaling-seconds positive")
        }
        let job = Job()
        let impossible = [UInt8](repeating: 0, count: 32)
        let nonces = self.nonces

        let referenceNonces = max(1, nonces / 16)
        var referenceHeader = job.header
        let reference = megahashes(nonces: referenceNonces) {
            var out = [UInt8](repeating: 0, count: 32)
            referenceHeader.withUnsafeMutableBytes { bytes in
                for nonce in 0..<referenceNonces {
                    bytes.storeBytes(of: nonce.littleEndian, toByteOffset: 76, as: UInt32.self)
                    sv2_sha256d(bytes.baseAddress, 80, &out)
                }
            }
            BenchmarkTiming.consume(out)
        }

        var rows = [[String]]()
        for kernel in HashingKernel.allCases where kernel != .auto {
            guard kernel.isAvailable else {
                rows.append([kernel.rawValue, "n/a (not on this CPU)", "", ""])
                continue
            }
            let count = kernel == .portable ? referenceNonces : nonces
            let rate = megahashes(nonces: count) {
                var found: UInt32 = 0
                let result = sv2_sha256d_scan(kernel.native, job.midstate, job.tail, 0, count, impossible, &found)
                BenchmarkTiming.consume(result)
            }
            rows.append([kernel.rawValue, BenchmarkTiming.format(rate, digits: 2), BenchmarkTiming.format(reference, digits: 2),
                         BenchmarkTiming.format(rate / reference, digits: 2) + "x"])
        }
        print("sv2 bench sha256d: \(nonces) nonces per round (portable and reference \(referenceNonces)), median of \(rounds) rounds, one core")
        print("auto kernel: \(HashingKernel.auto.implementationName)")
        BenchmarkTiming.printTable(["kernel", "MH/s", "one-shot MH/s (ref)", "kernel/ref"], rows)

        print("")
        print("thread scaling, sv2 mine's hashing engine on the auto kernel, \(BenchmarkTiming.format(scalingSeconds)) s per row")
        var scaling = [[String]]()
        var single: (free: Double, pinned: Double) = (0, 0)
        for count in 1...maxThreads {
            let free = try await Self.engineRate(threads: count, pinned: false, seconds: scalingSeconds)
            let pinned = try await Self.engineRate(threads: count, pinned: true, seconds: scalingSeconds)
            if count == 1 { single = (free, pinned) }
            scaling.append([
                "\(count)", BenchmarkTiming.format(free, digits: 2), BenchmarkTiming.format(free / single.free, digits: 2) + "x",
                BenchmarkTiming.format(pinned, digits: 2), BenchmarkTiming.format(pinned / single.pinned, digits: 2) + "x",
            ])
        }
        BenchmarkTiming.printTable(["threads", "MH/s", "vs 1 thread", "MH/s pinned", "vs 1 thread"], scaling)
        print("goals: best kernel >= 1.15x cpuminer-opt's best sha256d per core; avx512 >= its 16-way; avx2 >= pooler's cpuminer; 2 threads >= 1.9x one")
    }

    /// Median million hashes per second of `body`, which hashes `nonces` headers, over the rounds (after one warm-up).
    private func megahashes(nonces: UInt32, _ body: () -> Void) -> Double {
        body()
        var samples = [Double]()
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            samples.append(Double(nonces) / Double(max(elapsed, 1)) * 1000)
        }
        samples.sort()
        return samples[samples.count / 2]
    }

    /// Million hashes per second of `sv2 mine`'s hashing engine with `threads` threads on one work whose target no
    /// hash meets, over `seconds` (the first 0.2 s, while the threads start, not counted).
    static func engineRate(threads: Int, pinned: Bool, seconds: Double) async throws -> Double {
        let engine = try HashingEngine(
            configuration: .init(threads: threads, kernel: .auto, chunkNonces: 1 << 18, pinThreads: pinned), onShare: { _, _ in })
        let work = MiningWork(
            id: 1, version: 0x2000_0000, versionRollingMask: 0x1fff_e000, previousBlockHash: U256(w0: 1, w1: 2, w2: 3, w3: 4),
            merkleRoot: .fixed(U256(w0: 5, w1: 6, w2: 7, w3: 8)), time: 1_700_000_000, bits: 0x1d00_ffff, target: .zero)
        engine.start()
        engine.setWork(work, lane: 0)
        try await Task.sleep(nanoseconds: 200_000_000)
        let startHashes = engine.hashes
        let start = DispatchTime.now().uptimeNanoseconds
        try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        let hashed = engine.hashes - startHashes
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        await engine.stop()
        return Double(hashed) / Double(max(elapsed, 1)) * 1000
    }
}
