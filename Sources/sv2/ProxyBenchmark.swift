import ArgumentParser
import Dispatch
import Foundation
import NIOCore
import NIOPosix
import Sv2Binary
import Sv2Channels
import Sv2Crypto
import Sv2Messages
import Sv2Network
import Sv2Roles

/// `sv2 bench proxy`: standard-channel devices behind one `sv2 proxy` in group mode (job fan-out, upstream bytes per
/// job, memory per device) next to the same devices connected straight to the pool.
struct ProxyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "N standard-channel devices behind one sv2 proxy (job fan-out, upstream bytes per job, memory), next to N direct connections.",
        discussion: """
            Starts a pool in this process (Noise on loopback, templates fed by hand) and the real sv2 proxy as a child \
            process in group mode, then connects --devices Sv2 devices (Noise, one standard channel each) to the \
            proxy. Fan-out: from a new template and prevhash into the pool (which sends one NewExtendedMiningJob and \
            one SetNewPrevHash to the proxy's group) until every device has its NewMiningJob and the SetNewPrevHash \
            that activates it (median, min and max of --rounds). Upstream bytes per job: what the pool's sockets sent \
            over the rounds (the kernel's bytes_sent, read with ss), per round. Memory per device: the proxy's resident \
            memory once every device has its first job, minus before the first device, over the devices. The \
            reference, measured in the same run: the same devices connected straight to the pool, each connection \
            its own group (one NewExtendedMiningJob and one SetNewPrevHash per connection and job).
            """
    )

    @Option(help: "Devices (one connection and one standard channel each).")
    var devices = 1000
    @Option(help: "Fan-out rounds.")
    var rounds = 9

    func validate() throws {
        guard devices >= 1, rounds >= 1 else { throw ValidationError("needs --devices >= 1 and --rounds >= 1") }
    }

    func run() async throws {
        try BenchSupport.raiseDescriptorLimit(needed: 2 * devices + 256)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        guard let session = PoolSessionConfiguration(sharesPerMinute: 6) else { throw CommandFailure("bad session settings") }
        let pool = try await BenchPool(group: group, session: session)
        try await withCleanup { try measureBoth(pool: pool, group: group) } cleanup: { await pool.stop(group) }
    }

    /// What one path (through the proxy, or direct) showed.
    private struct Figures {
        /// Milliseconds per fan-out round, ascending.
        var fanOut: [Double]
        /// Bytes the pool sent per round.
        var bytesPerJob: Double
        /// The proxy's resident memory per device, in bytes (nil for the direct path).
        var bytesPerDevice: Double?
    }

    private func measureBoth(pool: BenchPool, group: MultiThreadedEventLoopGroup) throws {
        var tip: UInt64 = 1
        let newTip = {
            tip += 1
            pool.newTip(tip)
        }

        var random = SystemRandom()
        let proxyKey = Secp256k1SecretKey.generate(using: &random)
        let proxyPort = try BenchSupport.freePort(group: group)
        let child = try BenchChildProcess(arguments: [
            "proxy", "--listen-address", "127.0.0.1:\(proxyPort)", "--authority-secret-key", AuthorityKeyText.encode(proxyKey),
            "--upstream", "stratum2+tcp://127.0.0.1:\(pool.port)/\(AuthorityKeyText.encode(pool.authority.xOnlyPublicKey))",
            "--log-level", "error",
        ])
        let proxied: Figures
        do {
            defer { child.stop() }
            try BenchSupport.waitFor("the proxy's upstream connection") {
                guard child.isRunning else { throw CommandFailure("sv2 proxy exited") }
                return pool.service.connectionCount > 0
            }
            Thread.sleep(forTimeInterval: 0.5)
            let before = try child.residentBytes()
            proxied = try measure(port: proxyPort, authority: proxyKey.xOnlyPublicKey, poolPort: pool.port, group: group, trigger: newTip) {
                Double(try child.residentBytes() - before) / Double(devices)
            }
        }
        try BenchSupport.waitFor("the proxy's connection to close") { pool.service.connectionCount == 0 }
        let direct = try measure(port: pool.port, authority: pool.authority.xOnlyPublicKey, poolPort: pool.port, group: group, trigger: newTip) { nil }
        report(proxied, direct)
    }

    /// Connects the devices to `port`, waits for their first job, takes `memory`, then runs the fan-out rounds.
    private func measure(
        port: Int, authority: XOnlyPublicKey, poolPort: Int, group: MultiThreadedEventLoopGroup, trigger: () -> Void,
        memory: () throws -> Double?
    ) throws -> Figures {
        let arrivals = BenchArrivals()
        var channels = [Channel]()
        defer {
            for channel in channels { channel.close(promise: nil) }
            try? EventLoopFuture.andAllComplete(channels.map(\.closeFuture), on: group.any()).wait()
        }
        while channels.count < devices {
            let batch = (channels.count..<min(devices, channels.count + 250)).map { index in
                Sv2Connections.connect(
                    host: "127.0.0.1", port: port, group: group, configuration: .init(security: .initiator(authority: authority))
                ) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(BenchDevice(index: index, arrivals: arrivals))
                    }
                }
            }
            for future in batch { channels.append(try future.wait()) }
        }
        _ = try arrivals.wait(for: devices, seconds: 120)
        Thread.sleep(forTimeInterval: 0.5)
        let bytesPerDevice = try memory()

        let bytesBefore = try Self.bytesSent(port: poolPort)
        var fanOut = [Double]()
        for _ in 0..<rounds {
            Thread.sleep(forTimeInterval: 0.2)
            arrivals.nextRound()
            let start = DispatchTime.now().uptimeNanoseconds
            trigger()
            fanOut.append(Double(try arrivals.wait(for: devices, seconds: 60) - start) / 1e6)
        }
        Thread.sleep(forTimeInterval: 0.2)
        let bytes = try Self.bytesSent(port: poolPort) - bytesBefore
        return Figures(fanOut: fanOut.sorted(), bytesPerJob: Double(bytes) / Double(rounds), bytesPerDevice: bytesPerDevice)
    }

    /// What the sockets of the server listening on `port` have sent so far: the kernel's bytes_sent, from `ss`.
    private static func bytesSent(port: Int) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ss", "-tinH", "state", "established", "( sport = :\(port) )"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw CommandFailure("cannot run ss (iproute2, installed by scripts/setup): \(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CommandFailure("ss exited with \(process.terminationStatus)") }
        var total = 0
        for field in String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        where field.hasPrefix("bytes_sent:") {
            total += Int(field.dropFirst("bytes_sent:".count)) ?? 0
        }
        return total
    }

    private func report(_ proxied: Figures, _ direct: Figures) {
        func row(_ name: String, _ ours: Double, _ reference: Double, digits: Int = 1) -> [String] {
            [name, BenchmarkTiming.format(ours, digits: digits), BenchmarkTiming.format(reference, digits: digits),
             BenchmarkTiming.format(ours / reference, digits: 3) + "x"]
        }
        let median = (proxied.fanOut[rounds / 2], direct.fanOut[rounds / 2])
        let kib = (proxied.bytesPerDevice ?? 0) / 1024
        print("sv2 bench proxy: \(devices) standard-channel devices on loopback, \(rounds) fan-out rounds, group mode")
        BenchmarkTiming.printTable(
            ["measurement", "via proxy", "direct (ref)", "ratio"],
            [
                row("fan-out median (ms)", median.0, median.1, digits: 2),
                row("fan-out min (ms)", proxied.fanOut[0], direct.fanOut[0], digits: 2),
                row("fan-out max (ms)", proxied.fanOut[rounds - 1], direct.fanOut[rounds - 1], digits: 2),
                row("pool bytes sent per job", proxied.bytesPerJob, direct.bytesPerJob, digits: 0),
                ["proxy memory per device (KiB)", BenchmarkTiming.format(kib, digits: 2), "-", ""],
            ])
        func verdict(_ met: Bool) -> String { met ? "met" : "NOT met" }
        print("goals: fan-out median <= 20 ms: \(verdict(median.0 <= 20)); <= 16 KiB per device: \(verdict(kib <= 16))")
    }
}

/// A simulated device of `sv2 bench proxy`: SetupConnection and one standard channel once Noise is up, then it counts
/// each SetNewPrevHash (the job it activates came just before) as the round's arrival.
final class BenchDevice: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Sv2DecodedFrame
    typealias OutboundOut = Sv2Outbound

    private let index: Int
    private let arrivals: BenchArrivals
    /// The last round counted (touched on the channel's loop only).
    private var seen = -1

    init(index: Int, arrivals: BenchArrivals) {
        self.index = index
        self.arrivals = arrivals
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is Sv2TransportReady else { return context.fireUserInboundEventTriggered(event) }
        context.write(wrapOutboundOut(.message(.setupConnection(SetupNegotiation.request(
            .mining, endpointHost: "127.0.0.1", endpointPort: 0, vendor: "sv2-bench", firmware: "", deviceID: "\(index)")))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.message(.openStandardMiningChannel(OpenStandardMiningChannel(
            requestID: 1, userIdentity: Sv2String("device\(index)"), nominalHashRate: 1e12, maxTarget: .max)))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .setNewPrevHash = unwrapInboundIn(data).message else { return }
        arrivals.arrived(seen: &seen)
    }
}
