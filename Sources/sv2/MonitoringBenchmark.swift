import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Sv2Channels
import Sv2MonitoringServer
import Sv2Roles

/// Part 3 of `sv2 bench shares`: the cost of monitoring. Two pools in this process, one of them with its monitoring
/// server scraped like a busy dashboard (`/metrics` and `/api/v1/clients` four times a second); the simulated miners
/// of part 2 run against each in alternating rounds.
struct MonitoringBenchmark {
    /// Simulated miners per round.
    var miners: Int
    /// Seconds per round.
    var seconds: Double
    /// Rounds per pool.
    var rounds: Int

    /// Runs the rounds and prints the medians and their ratio.
    func run() async throws {
        guard let configuration = PoolSessionConfiguration(sharesPerMinute: 6) else { throw CommandFailure("bad session settings") }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let plain: BenchPool
        do {
            plain = try await BenchPool(group: group, session: configuration)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await withCleanup { try await measure(against: plain, group: group, configuration: configuration) } cleanup: { await plain.stop(group) }
    }

    /// The rounds against `plain` and a second pool with monitoring, on `group`.
    private func measure(against plain: BenchPool, group: EventLoopGroup, configuration: PoolSessionConfiguration) async throws {
        let watched = try await BenchPool(group: group, session: configuration)
        let server = MonitoringServer(host: "127.0.0.1", port: 0, source: watched.service, logger: LogSettings(level: .warning).logger("bench"))
        let serviceGroup = ServiceGroup(services: [server], logger: LogSettings(level: .warning).logger("bench"))
        let serving = Task { try await serviceGroup.run() }
        let scraper = Scraper(group: group)
        let scraping = Task { await scraper.run { server.boundPort } }
        try await withCleanup {
            try BenchSupport.waitFor("the monitoring server") { server.boundPort != nil }
            var off = [Double](), on = [Double]()
            // Each round measures both pools, the first of them alternating, so that neither always runs first.
            for round in 0..<rounds {
                for watching in round.isMultiple(of: 2) ? [false, true] : [true, false] {
                    let figures = try await BenchRoundTrips.measure(pool: watching ? watched : plain, group: group, miners: miners, seconds: seconds)
                    if watching { on.append(Double(figures.acknowledged) / seconds) } else { off.append(Double(figures.acknowledged) / seconds) }
                }
            }
            let (medianOff, medianOn) = (BenchmarkTiming.percentile(off.sorted(), 50), BenchmarkTiming.percentile(on.sorted(), 50))
            print("sv2 bench shares, part 3: monitoring off and on, \(miners) miners, \(rounds) alternating rounds of \(BenchmarkTiming.format(seconds)) s each")
            BenchmarkTiming.printTable(
                ["measurement", "shares/s (median)"],
                [
                    ["monitoring off (reference)", BenchmarkTiming.grouped(medianOff)],
                    ["monitoring on, scraped 4 times a second", BenchmarkTiming.grouped(medianOn)],
                    ["ratio on/off", BenchmarkTiming.format(medianOn / medianOff, digits: 3) + "x"],
                    ["HTTP requests answered while it ran", "\(await scraper.answered)"],
                ])
            print("goal: monitoring on within 3% of off (ratio >= 0.97)")
        } cleanup: {
            scraping.cancel()
            await scraping.value
            await serviceGroup.triggerGracefulShutdown()
            _ = try? await serving.value
            await watched.service.stop()
        }
    }

    /// A dashboard that keeps asking: `/metrics` then `/api/v1/clients`, every 250 ms.
    actor Scraper {
        let group: EventLoopGroup
        private(set) var answered = 0

        init(group: EventLoopGroup) {
            self.group = group
        }

        /// Scrapes the server on the port `port` gives (once it has one) until cancelled.
        func run(port: @Sendable () -> Int?) async {
            while !Task.isCancelled {
                if let port = port() {
                    for path in ["/metrics", "/api/v1/clients"] where await Self.get(path, port: port, group: group) > 0 {
                        answered += 1
                    }
                }
                try? await Task.sleep(for: .milliseconds(250))
            }
        }

        /// The bytes of the answer to `GET path` (0 when it failed).
        static func get(_ path: String, port: Int, group: EventLoopGroup) async -> Int {
            let collector = ResponseBytes()
            do {
                let channel = try await ClientBootstrap(group: group)
                    .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
                    .connect(host: "127.0.0.1", port: port).get()
                try await channel.writeAndFlush(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")).get()
                try await channel.closeFuture.get()
                return collector.count
            } catch {
                return 0
            }
        }
    }

    /// Counts what a connection receives.
    final class ResponseBytes: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        private(set) var count = 0

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            count += unwrapInboundIn(data).readableBytes
        }
    }
}
