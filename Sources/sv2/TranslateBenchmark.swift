import ArgumentParser
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import Sv1
import Sv2Channels
import Sv2Crypto
import Sv2Roles
import UnixSignals

/// `sv2 bench translate`: many Sv1 connections on one `sv2 translate` (memory per connection, job fan-out, share
/// round trips through translator and pool) next to a bare Sv1 echo server under the same load.
struct TranslateBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "N Sv1 connections on one sv2 translate (memory, job fan-out, share round trips), next to a bare Sv1 echo server.",
        discussion: """
            Starts a pool in this process (Noise on loopback, templates fed by hand, the channel target at the \
            maximum so the translator forwards every share, no block) and the real sv2 translate as a child process \
            (difficulty 1e-12: every share is accepted and forwarded), then connects --connections Sv1 clients from \
            this process, which subscribe and authorize. Memory per connection: the translator's resident memory once \
            every client has its first job, minus before the first client, over the clients. Fan-out: from a new \
            template and prevhash into the pool until every client has the clean mining.notify (median, min and max \
            of --rounds). Round trip: --submitters clients each keep one mining.submit in flight for --seconds, from \
            the write to the translator's response; the pool's accepted count must match. The reference, measured in \
            the same run with the same clients: a bare Sv1 server in another process that answers with canned lines \
            of the same sizes and, when a client asks, writes one prepared mining.notify (the translator's) to every \
            connection. Raises this process's descriptor limit to the hard limit; the children inherit it.
            """
    )

    @Option(help: "Sv1 connections.")
    var connections = 10_000
    @Option(help: "Fan-out rounds.")
    var rounds = 9
    @Option(help: "Connections that keep a mining.submit in flight.")
    var submitters = 100
    @Option(help: "Seconds of share round trips.")
    var seconds = 5.0
    @Option(help: .hidden)
    var echoServer: Int?
    @Option(help: .hidden)
    var echoNotify: String?

    func validate() throws {
        guard connections >= 1, rounds >= 1, (1...connections).contains(submitters), seconds > 0 else {
            throw ValidationError("needs --connections >= 1, --rounds >= 1, 1 <= --submitters <= --connections and --seconds > 0")
        }
    }

    /// Bytes of extranonce2 the translator gives each miner (its default).
    private static let extranonce2Size = 4
    /// The user_identity of the translator's upstream channel (its default).
    private static let upstreamUser = "sv2-translator"

    func run() async throws {
        if let echoServer { return try await runEchoServer(port: echoServer) }
        try BenchSupport.raiseDescriptorLimit(needed: connections + 256)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        guard let session = PoolSessionConfiguration(sharesPerMinute: 6, defaultHashrate: 1e-9) else { throw CommandFailure("bad session settings") }
        let pool = try await BenchPool(group: group, session: session)
        try await withCleanup { try measureBoth(pool: pool, group: group) } cleanup: { await pool.stop(group) }
    }

    /// The translator's figures, then the echo server's, printed side by side.
    private func measureBoth(pool: BenchPool, group: MultiThreadedEventLoopGroup) throws {

        let translatorPort = try BenchSupport.freePort(group: group)
        var tip: UInt64 = 1
        let translator = try measure(
            server: [
                "translate", "--listen-address", "127.0.0.1:\(translatorPort)",
                "--upstream", "stratum2+tcp://127.0.0.1:\(pool.port)/\(AuthorityKeyText.encode(pool.authority.xOnlyPublicKey))",
                "--initial-difficulty", "1e-12", "--min-difficulty", "1e-12", "--max-difficulty", "1e-12", "--log-level", "error",
            ],
            port: translatorPort, group: group,
            ready: { try BenchSupport.waitFor("the translator's upstream connection") { pool.service.connectionCount > 0 } },
            trigger: { _ in
                tip += 1
                pool.newTip(tip)
            },
            upstream: { forwarded in
                var tally = ShareTally()
                try? BenchSupport.waitFor("the pool's tally") {
                    tally = pool.service.userStatistics[Self.upstreamUser] ?? ShareTally()
                    return tally.accepted + tally.rejected >= forwarded
                }
                guard tally.accepted == forwarded, tally.rejected == 0 else {
                    throw CommandFailure("the pool accepted \(tally.accepted) and rejected \(tally.rejected) of the \(forwarded) shares the translator accepted")
                }
                return "\(tally.accepted) of \(forwarded)"
            })

        let echoPort = try BenchSupport.freePort(group: group)
        let echo = try measure(
            server: ["bench", "translate", "--echo-server", "\(echoPort)", "--echo-notify", translator.notifyLine],
            port: echoPort, group: group,
            trigger: { channel in channel.writeAndFlush(Self.fanOutRequest, promise: nil) },
            upstream: { _ in "-" })
        report(translator, echo)
    }

    // MARK: - One server under load

    /// What one server (the translator or the reference) showed.
    private struct Figures {
        /// Resident memory per connection, in bytes.
        var bytesPerConnection: Double
        /// Milliseconds per fan-out round, ascending.
        var fanOut: [Double]
        /// Microseconds per share round trip in the timed window, ascending.
        var roundTrips: [Double]
        /// Accepted shares per second in the timed window.
        var sharesPerSecond: Double
        /// Shares refused in the timed window.
        var rejected: Int
        /// What the upstream check says.
        var upstream: String
        /// The last mining.notify line the first client received.
        var notifyLine: String
    }

    /// Starts the server `sv2 <arguments>` listening on `port`, waits until it listens and `ready` returns, and
    /// measures it with `connections` clients. `trigger` (given the first client's channel) makes the server send a
    /// clean job to everyone; `upstream` checks the shares the clients saw accepted (after the timed window too).
    private func measure(
        server arguments: [String], port: Int, group: MultiThreadedEventLoopGroup, ready: () throws -> Void = {},
        trigger: (Channel) throws -> Void, upstream: (UInt64) throws -> String
    ) throws -> Figures {
        let child = try BenchChildProcess(arguments: arguments)
        defer { child.stop() }
        try BenchSupport.waitFor("\(arguments[0]) to listen on port \(port)") {
            guard child.isRunning else { throw CommandFailure("sv2 \(arguments[0]) exited") }
            guard let probe = try? ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).wait() else { return false }
            try? probe.close().wait()
            return true
        }
        try ready()
        Thread.sleep(forTimeInterval: 0.5)
        let before = try child.residentBytes()

        let load = BenchSv1Load()
        let clients = try connect(port: port, group: group, load: load)
        defer {
            for client in clients { client.channel.close(promise: nil) }
            try? EventLoopFuture.andAllComplete(clients.map(\.channel.closeFuture), on: group.any()).wait()
        }
        _ = try load.arrivals.wait(for: connections, seconds: 120)
        Thread.sleep(forTimeInterval: 0.5)
        let after = try child.residentBytes()

        var fanOut = [Double]()
        for _ in 0..<rounds {
            Thread.sleep(forTimeInterval: 0.2)
            load.arrivals.nextRound()
            let start = DispatchTime.now().uptimeNanoseconds
            try trigger(clients[0].channel)
            fanOut.append(Double(try load.arrivals.wait(for: connections, seconds: 60) - start) / 1e6)
        }

        guard let notifyLine = load.latestNotifyLine else { throw CommandFailure("the first client kept no mining.notify") }
        try load.prepareSubmits(notifyLine: notifyLine, extranonce2Size: Self.extranonce2Size)
        let submitting = clients.prefix(submitters).map(\.handler)
        load.roundTrips.start()
        for client in submitting { client.startSubmitting() }
        Thread.sleep(forTimeInterval: seconds)
        let (count, samples, rejected) = load.roundTrips.stop()
        guard count > 0 else { throw CommandFailure("no share was accepted") }
        var accepted: UInt64 = 0
        try BenchSupport.waitFor("the last shares' responses") {
            let tallies = try submitting.map { client in try client.eventLoop.submit { client.tally }.wait() }
            accepted = tallies.reduce(0) { $0 + $1.accepted }
            return !tallies.contains { $0.inFlight }
        }
        return Figures(
            bytesPerConnection: Double(after - before) / Double(connections), fanOut: fanOut.sorted(), roundTrips: samples.sorted(),
            sharesPerSecond: Double(count) / seconds, rejected: rejected, upstream: try upstream(accepted), notifyLine: notifyLine)
    }

    /// Connects the clients, at most 500 connects at a time; the first keeps its notify lines.
    private func connect(port: Int, group: MultiThreadedEventLoopGroup, load: BenchSv1Load) throws -> [(channel: Channel, handler: BenchSv1Client)] {
        var clients = [(channel: Channel, handler: BenchSv1Client)]()
        clients.reserveCapacity(connections)
        while clients.count < connections {
            let batch = (clients.count..<min(connections, clients.count + 500)).map { index in
                let loop = group.next()
                let handler = BenchSv1Client(load: load, eventLoop: loop, keepsNotify: index == 0)
                let channel = ClientBootstrap(group: loop)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
                    }
                    .connect(host: "127.0.0.1", port: port)
                return (channel, handler)
            }
            for (channel, handler) in batch {
                do {
                    clients.append((try channel.wait(), handler))
                } catch {
                    for client in clients { client.channel.close(promise: nil) }
                    throw CommandFailure("connection \(clients.count + 1) of \(connections) failed: \(error)")
                }
            }
        }
        return clients
    }

    // MARK: - Report

    private func report(_ translator: Figures, _ echo: Figures) {
        func kib(_ figures: Figures) -> Double { figures.bytesPerConnection / 1024 }
        func row(_ name: String, _ ours: Double, _ reference: Double, digits: Int = 1) -> [String] {
            [name, BenchmarkTiming.format(ours, digits: digits), BenchmarkTiming.format(reference, digits: digits),
             BenchmarkTiming.format(ours / reference, digits: 2) + "x"]
        }
        let fanOut = (translator.fanOut[rounds / 2], echo.fanOut[rounds / 2])
        print("sv2 bench translate: \(connections) Sv1 connections on loopback, \(rounds) fan-out rounds, \(submitters) submitters for \(BenchmarkTiming.format(seconds)) s")
        BenchmarkTiming.printTable(
            ["measurement", "translator", "echo (ref)", "ratio"],
            [
                row("memory per connection (KiB)", kib(translator), kib(echo), digits: 2),
                row("fan-out median (ms)", fanOut.0, fanOut.1, digits: 2),
                row("fan-out min (ms)", translator.fanOut[0], echo.fanOut[0], digits: 2),
                row("fan-out max (ms)", translator.fanOut[rounds - 1], echo.fanOut[rounds - 1], digits: 2),
                row("submit round trip p50 (us)", BenchmarkTiming.percentile(translator.roundTrips, 50), BenchmarkTiming.percentile(echo.roundTrips, 50)),
                row("submit round trip p99 (us)", BenchmarkTiming.percentile(translator.roundTrips, 99), BenchmarkTiming.percentile(echo.roundTrips, 99)),
                row("shares/s", translator.sharesPerSecond, echo.sharesPerSecond, digits: 0),
                ["shares refused", "\(translator.rejected)", "\(echo.rejected)", ""],
                ["shares accepted by the pool", translator.upstream, echo.upstream, ""],
            ])
        func verdict(_ met: Bool) -> String { met ? "met" : "NOT met" }
        print("goals: <= 10 KiB per connection: \(verdict(kib(translator) <= 10)); fan-out median <= 50 ms: \(verdict(fanOut.0 <= 50))")
    }

    // MARK: - Helpers

    private static let fanOutRequest = ByteBuffer(bytes: Sv1Codec.encode(.request(id: .number("3"), method: Sv1EchoServer.fanOutMethod, params: [])))

    /// The hidden `--echo-server PORT` mode: the reference server until SIGINT or SIGTERM.
    private func runEchoServer(port: Int) async throws {
        guard let echoNotify else { throw ValidationError("--echo-server needs --echo-notify") }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let server = Sv1EchoServer(notifyLine: echoNotify, group: group)
        let channel = try await server.bind(host: "127.0.0.1", port: port, group: group)
        for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { break }
        try? await channel.close().get()
        try? await group.shutdownGracefully()
    }
}
