import ArgumentParser
import CSv2Native
import Foundation

/// `sv2 bench sha256d`: nonce-search speed of each SHA-256d kernel on one core next to a naive one-shot hash per nonce.
struct Sha256dBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sha256d",
        abstract: "MH/s of each SHA-256d nonce-search kernel on one core, next to a one-shot SHA256d per nonce.",
        discussion: """
            Each kernel scans a block header's nonces from a precomputed midstate with an impossible (zero) target, \
            so every nonce is hashed. Reference = sv2_sha256d of the full 80-byte header per nonce (portable C, no \
            midstate). Figures are medians of 7 rounds on the calling thread; ratios are kernel / reference.
            """
    )

    @Option(help: "Nonces hashed per timing round by each kernel (the reference hashes a 16th of that).")
    var nonces: UInt32 = 1 << 22

    @Option(help: "Timing rounds; the median is reported.")
    var rounds = 7

    func run() throws {
        guard nonces >= 16, rounds >= 1 else { throw ValidationError("--nonces must be >= 16 and --rounds >= 1") }
        // A fixed synthetic header (version 1); its nonce bytes are overwritten per hash.
        var header = [UInt8](repeating: 0, count: 80)
        header[0] = 1
        for index in 36..<80 { header[index] = UInt8(truncatingIfNeeded: index &* 37) }
        var midstate = [UInt32](repeating: 0, count: 8)
        sv2_sha256_midstate(header, &midstate)
        let tail = Array(header[64..<80])
        let impossible = [UInt8](repeating: 0, count: 32)
        let nonces = self.nonces

        let referenceNonces = max(1, nonces / 16)
        var referenceHeader = header
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
        for kernel in [SV2_KERNEL_PORTABLE, SV2_KERNEL_SHANI] where sv2_sha256d_kernel_available(kernel) == 1 {
            let rate = megahashes(nonces: nonces) {
                var found: UInt32 = 0
                let result = sv2_sha256d_scan(kernel, midstate, tail, 0, nonces, impossible, &found)
                BenchmarkTiming.consume(result)
            }
            rows.append([String(cString: sv2_sha256d_kernel_name(kernel)), BenchmarkTiming.format(rate, digits: 2),
                         BenchmarkTiming.format(reference, digits: 2), BenchmarkTiming.format(rate / reference, digits: 2) + "x"])
        }
        if sv2_sha256d_kernel_available(SV2_KERNEL_SHANI) != 1 { rows.append(["sha-ni", "n/a (CPU lacks SHA-NI)", "", ""]) }
        print("sv2 bench sha256d: \(nonces) nonces per round (reference \(referenceNonces)), median of \(rounds) rounds, one core")
        print("auto kernel: \(String(cString: sv2_sha256d_kernel_name(SV2_KERNEL_AUTO)))")
        BenchmarkTiming.printTable(["kernel", "MH/s", "one-shot MH/s (ref)", "kernel/ref"], rows)
        print("goal: at least cpuminer-opt's ~28 MH/s per core on these machines")
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
}
