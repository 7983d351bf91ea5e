import CoreMetrics
import Prometheus
import Sv2Monitoring
import Synchronization

/// The Prometheus side of monitoring: a swift-prometheus registry holding SRI's gauges (same names, labels and help
/// texts as sv2-apps' `prometheus_metrics.rs`, all gauges as there, `*_total` included) set from each
/// ``MonitoringSnapshot``, label sets that left the snapshot removed; and, beyond SRI, accepted work per user and
/// worker, connections by state, template age, upstream state, and the share round-trip latency histogram, which the
/// role records as answers arrive through swift-metrics (``shareLatency``).
public final class MonitoringMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry = PrometheusCollectorRegistry()
    /// Share latency, in seconds: a pool's, how long a read's shares wait for the ledger's commit before their
    /// acknowledgement leaves (once per read, from its first share's arrival); a translator's, each share's round
    /// trip upstream (SubmitSharesExtended to its SubmitShares.Success).
    public let shareLatency: CoreMetrics.Timer
    /// The gauges set by the last update, by name and labels, so that those the next one leaves out are removed.
    private let live = Mutex([GaugeKey: Prometheus.Gauge]())

    /// The SubmitShares.Error codes SRI always exports (at 0 when none were seen).
    public static let knownErrorCodes = [
        "invalid-channel-id", "invalid-share", "stale-share", "invalid-job-id", "difficulty-too-low", "duplicate-share",
        "bad-extranonce-size", "invalid-non-rollable-version-bit",
    ]

    /// An empty registry; the latency histogram's buckets run from 1 ms to 10 s.
    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        shareLatency = CoreMetrics.Timer(label: "sv2_share_latency_seconds", dimensions: [], factory: factory)
    }

    private struct GaugeKey: Hashable {
        let name: String
        let labels: [String]
    }

    /// Records one share latency (``shareLatency``); a negative one (the clock stepped back) counts as 0.
    public func recordShareLatency(_ duration: Duration) {
        shareLatency.recordNanoseconds(max(0, Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000))
    }

    /// Sets every gauge from `snapshot` (`uptime` in seconds); label sets absent from it are unregistered.
    public func update(from snapshot: MonitoringSnapshot, uptime: UInt64) {
        var values = [(name: String, help: String, labels: [(String, String)], value: Double)]()
        func set(_ name: String, _ help: String, _ labels: [(String, String)] = [], _ value: Double) {
            values.append((name, help, labels, value))
        }
        set("sv2_uptime_seconds", "Server uptime in seconds", [], Double(uptime))
        if let server = snapshot.server {
            let counts = MonitoringAPI.ChannelCounts(server.channels)
            set("sv2_server_channels", "Number of server channels by type", [("channel_type", "extended")], Double(counts.extended))
            set("sv2_server_channels", "Number of server channels by type", [("channel_type", "standard")], Double(counts.standard))
            set("sv2_server_hashrate_total", "Total hashrate for channels opened with the server", [], counts.hashrate)
            var blocks = 0.0
            for channel in server.channels {
                let labels = [("channel_id", String(channel.channelID)), ("user_identity", channel.userIdentity)]
                blocks += Double(channel.shares.blocksFound)
                if let rate = channel.nominalHashrate {
                    set("sv2_server_channel_hashrate", "Hashrate for individual server channels", labels, Double(rate))
                }
                set("sv2_server_shares_accepted_total", "Total shares accepted per server channel", labels, Double(channel.shares.accepted))
                for (code, count) in Self.rejections(channel.shares) {
                    set("sv2_server_shares_rejected_total", "Total shares rejected per server channel by error code", labels + [("error_code", code)], count)
                }
            }
            set("sv2_server_blocks_found_total", "Total blocks found across all current server channels", [], blocks)
        }
        if let clients = snapshot.sv2Clients {
            let counts = MonitoringAPI.ChannelCounts(clients.flatMap(\.channels))
            set("sv2_clients_total", "Total number of connected clients", [], Double(clients.count))
            set("sv2_client_channels", "Number of client channels by type", [("channel_type", "extended")], Double(counts.extended))
            set("sv2_client_channels", "Number of client channels by type", [("channel_type", "standard")], Double(counts.standard))
            set("sv2_client_hashrate_total", "Total hashrate for channels opened with clients", [], counts.hashrate)
            var blocks = 0.0
            for client in clients {
                for channel in client.channels {
                    let labels = [("client_id", String(client.clientID)), ("channel_id", String(channel.channelID)), ("user_identity", channel.userIdentity)]
                    blocks += Double(channel.shares.blocksFound)
                    set("sv2_client_channel_hashrate", "Hashrate for individual client channels", labels, Double(channel.nominalHashrate ?? 0))
                    set("sv2_client_shares_accepted_total", "Total shares accepted per client channel", labels, Double(channel.shares.accepted))
                    for (code, count) in Self.rejections(channel.shares) {
                        set("sv2_client_shares_rejected_total", "Total shares rejected per client channel by error code", labels + [("error_code", code)], count)
                    }
                }
            }
            set("sv2_client_blocks_found_total", "Total blocks found across all current client channels", [], blocks)
        }
        if let miners = snapshot.sv1Clients {
            set("sv1_clients_total", "Total number of SV1 clients", [], Double(miners.count))
            set("sv1_hashrate_total", "Total hashrate from SV1 clients", [], miners.reduce(0) { $0 + Double($1.hashrate ?? 0) })
        }
        var users = [String: (shares: UInt64, work: Double)]()
        for worker in snapshot.workers {
            let labels = [("user", worker.user), ("worker", worker.worker)]
            set("sv2_worker_shares_accepted_total", "Shares accepted per user and worker since start", labels, Double(worker.accepted))
            set("sv2_worker_shares_rejected_total", "Shares rejected per user and worker since start", labels, Double(worker.rejected))
            set("sv2_worker_accepted_work_total", "Expected hashes of the accepted shares per user and worker since start", labels, worker.work)
            users[worker.user, default: (0, 0)].shares += worker.accepted
            users[worker.user, default: (0, 0)].work += worker.work
        }
        for (user, total) in users {
            set("sv2_user_shares_accepted_total", "Shares accepted per user since start", [("user", user)], Double(total.shares))
            set("sv2_user_accepted_work_total", "Expected hashes of the accepted shares per user since start", [("user", user)], total.work)
        }
        for (state, count) in snapshot.connections {
            set("sv2_connections", "Connections by state", [("state", state)], Double(count))
        }
        if let age = snapshot.templateAge {
            set("sv2_template_age_seconds", "Seconds since the newest template or job arrived", [], age)
        }
        if let upstream = snapshot.upstream {
            set("sv2_upstream_connected", "1 while a channel is open upstream, 0 while failing over", [("address", upstream.address)], upstream.connected ? 1 : 0)
        }
        apply(values)
    }

    /// SRI's rejection series of a channel: every known code (0 when not seen), and any other code seen.
    private static func rejections(_ shares: ShareCounters) -> [(String, Double)] {
        var counts = Dictionary(uniqueKeysWithValues: knownErrorCodes.map { ($0, 0.0) })
        for (code, count) in shares.rejectedByReason { counts[code, default: 0] += Double(count) }
        return counts.sorted { $0.key < $1.key }
    }

    private func apply(_ values: [(name: String, help: String, labels: [(String, String)], value: Double)]) {
        live.withLock { live in
            var next = [GaugeKey: Prometheus.Gauge]()
            for value in values {
                let key = GaugeKey(name: value.name, labels: value.labels.flatMap { [$0.0, $0.1] })
                let descriptor = MetricNameDescriptor(metricName: value.name, unitName: "", helpText: value.help)
                let gauge = live[key] ?? (value.labels.isEmpty
                    ? registry.makeGauge(descriptor: descriptor)
                    : registry.makeGauge(descriptor: descriptor, labels: value.labels))
                gauge.set(value.value)
                next[key] = gauge
            }
            for (key, gauge) in live where next[key] == nil { registry.unregisterGauge(gauge) }
            live = next
        }
    }

    /// The Prometheus text of every metric.
    public func render() -> String { registry.emitToString() }
}
