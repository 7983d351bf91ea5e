import ArgumentParser
import Sv2Binary
import Sv2Messages

/// `sv2 bench codec`: decode and encode cost of the hot mining messages next to a plain copy of the same bytes.
struct CodecBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "ns per decode/encode and heap allocations per message, next to a plain copy of the same bytes.",
        discussion: """
            For each message: decode = frame header + fields from a frame in memory (Sv2Message.decode); \
            encode = header + fields into a reused buffer (encodeFrame(into:)); reference = copying the frame's bytes \
            into a reused buffer (the floor). Figures are medians of 15 rounds; ratios are ours / reference. \
            Allocations are counted by libsv2alloccount.so (built next to sv2), which the command preloads into \
            itself; without it those columns read n/a.
            """
    )

    @Option(help: "Calls per timing round.")
    var iterations = 200_000

    func run() throws {
        AllocationCounter.preloadOrContinue()
        let counter = AllocationCounter.loaded()
        let path = (0..<12).map { U256(w0: UInt64($0) &* 0x9e37_79b9_7f4a_7c15, w1: 1, w2: 2, w3: UInt64($0)) }
        // Concrete calls, as a role makes them, so the codec is specialised for each message.
        let rows = [
            try measure(counter, "SubmitSharesStandard", SubmitSharesStandard(
                channelID: 1, sequenceNumber: 42, jobID: 7, nonce: 0xdead_beef, ntime: 1_700_000_000, version: 0x2000_0000)),
            try measure(counter, "SubmitSharesExtended", SubmitSharesExtended(
                channelID: 1, sequenceNumber: 42, jobID: 7, nonce: 0xdead_beef, ntime: 1_700_000_000,
                version: 0x2000_0000, extranonce: [UInt8](repeating: 0xab, count: 8))),
            try measure(counter, "NewMiningJob", NewMiningJob(
                channelID: 1, jobID: 7, minNtime: 1_700_000_000, version: 0x2000_0000, merkleRoot: path[3])),
            try measure(counter, "NewExtendedMiningJob (12-entry path)", NewExtendedMiningJob(
                channelID: 1, jobID: 7, minNtime: nil, version: 0x2000_0000, versionRollingAllowed: true,
                merklePath: path, coinbaseTxPrefix: [UInt8](repeating: 1, count: 42),
                coinbaseTxSuffix: [UInt8](repeating: 2, count: 80))),
            try measure(counter, "SetNewPrevHash", SetNewPrevHash(
                channelID: 1, jobID: 7, prevHash: path[5], minNtime: 1_700_000_000, nbits: 0x207f_ffff)),
        ]
        print("sv2 bench codec: \(iterations) calls per round, median of 15 rounds")
        BenchmarkTiming.printTable(
            ["message", "bytes", "decode ns", "encode ns", "copy ns (ref)", "decode/ref", "encode/ref", "allocs dec", "allocs enc"],
            rows)
        if counter == nil { print("allocations: n/a (\(AllocationCounter.libraryName) not found next to the sv2 executable)") }
        print("goal: decode <= 50 ns, encode <= 110 ns for the small messages; no allocations beyond variable-length fields")
    }

    /// Keeps a decoded message alive without going through a generic (whose value witnesses would be timed too).
    @inline(never)
    private func consumeDecoded(_ decoded: (message: Sv2Message, tlvs: [Sv2TLV])?) {
        withExtendedLifetime(decoded) {}
    }

    private func measure(_ counter: AllocationCounter?, _ name: String, _ payload: some Sv2MessagePayload) throws -> [String] {
        let frame = try payload.encodedFrame()
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: frame.count + 64, alignment: 16)
        defer { output.deallocate() }
        let iterations = self.iterations
        return try frame.withUnsafeBytes { bytes in
            guard let header = Sv2FrameHeader(bytes) else { throw ValidationError("bad frame for \(name)") }
            let payloadBytes = UnsafeRawBufferPointer(rebasing: bytes[Sv2FrameHeader.size...])
            let decode = {
                let header = Sv2FrameHeader(bytes)!
                consumeDecoded(try? Sv2Message.decode(header: header, payload: payloadBytes))
            }
            let encode = { BenchmarkTiming.consume(try? payload.encodeFrame(into: output)) }
            let copy = {
                output.copyMemory(from: bytes)
                BenchmarkTiming.consume(output.baseAddress)
            }
            _ = header
            let decodeNs = BenchmarkTiming.nanosecondsPerCall(iterations: iterations, decode)
            let encodeNs = BenchmarkTiming.nanosecondsPerCall(iterations: iterations, encode)
            let copyNs = BenchmarkTiming.nanosecondsPerCall(iterations: iterations, copy)
            let allocations = { (body: () -> Void) in
                counter.map { BenchmarkTiming.format($0.allocationsPerCall(body), digits: 2) } ?? "n/a"
            }
            return [
                name, String(frame.count), BenchmarkTiming.format(decodeNs), BenchmarkTiming.format(encodeNs),
                BenchmarkTiming.format(copyNs), BenchmarkTiming.format(decodeNs / copyNs, digits: 2) + "x",
                BenchmarkTiming.format(encodeNs / copyNs, digits: 2) + "x",
                allocations(decode), allocations(encode),
            ]
        }
    }
}
