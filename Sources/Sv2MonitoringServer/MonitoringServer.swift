import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Sv2Sessions
import Sv2Monitoring
import Synchronization

/// The monitoring HTTP server of a role (`--monitoring-address`): SRI's JSON API (``MonitoringAPI``), Prometheus
/// text at `/metrics` (``MonitoringMetrics``) and the OpenAPI document at `/api-docs/openapi.json`, served by
/// Hummingbird on an event loop of its own, so that a slow or hostile HTTP client never delays mining. A snapshot
/// serves every request of the next second (a dashboard's requests one after another cost the role one; requests
/// that arrive together before it exists each take their own).
public final class MonitoringServer: Service, Sendable {
    /// The metrics registry (the role records its share latencies here).
    public let metrics: MonitoringMetrics
    private let host: String
    private let port: Int
    private let source: any MonitoringSource
    private let clock: Sv2Clock
    private let started: Timestamp
    private let logger: Logger
    private let cache = Mutex<(taken: Timestamp, snapshot: MonitoringSnapshot)?>(nil)
    private let bound = Mutex<Int?>(nil)
    /// How long a snapshot serves requests.
    private let maximumAge: Duration

    /// A server for `source` on `host:port` (port 0 picks one), its uptime counted from now.
    public init(
        host: String, port: Int, source: any MonitoringSource, metrics: MonitoringMetrics = MonitoringMetrics(), logger: Logger,
        clock: Sv2Clock = .system, maximumAge: Duration = .seconds(1)
    ) {
        self.host = host
        self.port = port
        self.source = source
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        self.maximumAge = maximumAge
        started = clock.now()
    }

    /// The port it listens on once running.
    public var boundPort: Int? { bound.withLock { $0 } }

    /// Serves until graceful shutdown; a port it cannot bind is an error.
    public func run() async throws {
        let router = Router()
        router.get("/") { _, _ in Self.respond(MonitoringAPI.root) }
        router.get("/metrics") { [self] _, _ in
            let (snapshot, uptime) = await current()
            metrics.update(from: snapshot, uptime: uptime)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        router.get("/api-docs/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: MonitoringOpenAPI.document)))
        }
        router.get("/api/v1/**") { [self] request, _ in
            let (snapshot, uptime) = await current()
            var query = [String: String]()
            for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
            let now = UInt64(clock.now().unixSeconds)
            guard let answer = MonitoringAPI.respond(path: request.uri.path, query: query, snapshot: snapshot, uptime: uptime, now: now) else {
                return Self.respond(.error("no such endpoint: \(request.uri.path)", status: 404))
            }
            return Self.respond(answer)
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(30))),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "sv2",
                availableConnectionsDelegate: MaximumAvailableConnections(64)),
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? 0
                bound.withLock { $0 = port }
                logger.info("monitoring on http://\(channel.localAddress?.ipAddress ?? "?"):\(port) (/metrics, /api/v1/…)")
            },
            eventLoopGroupProvider: .shared(group),
            logger: Self.quiet(logger))
        do {
            try await app.run()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try? await group.shutdownGracefully()
    }

    /// The snapshot of the last second, or a new one; and the uptime in seconds.
    private func current() async -> (MonitoringSnapshot, UInt64) {
        let now = clock.now()
        let uptime = UInt64(max(0, now.nanoseconds - started.nanoseconds) / 1_000_000_000)
        // A clock that stepped back (now before the snapshot) takes a new one rather than serving the old one on.
        if let cached = cache.withLock({ $0 }), cached.taken <= now, Duration.nanoseconds(now.nanoseconds - cached.taken.nanoseconds) < maximumAge {
            return (cached.snapshot, uptime)
        }
        let snapshot = await source.snapshot()
        cache.withLock { $0 = (now, snapshot) }
        return (snapshot, uptime)
    }

    private static func respond(_ answer: MonitoringAPI.Response) -> Response {
        Response(
            status: HTTPResponse.Status(code: answer.status), headers: [.contentType: answer.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
    }

    /// Hummingbird's own logger, at notice at least: its per-request lines are noise in an operator's info log.
    private static func quiet(_ logger: Logger) -> Logger {
        var logger = logger
        if logger.logLevel < .notice { logger.logLevel = .notice }
        return logger
    }
}
