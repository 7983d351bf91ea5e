import Logging
import ServiceLifecycle
import Sv2Channels
import Sv2Monitoring
import Sv2MonitoringServer
import Sv2Network
import Sv2Sessions

/// The monitoring setting every serving role shares: `monitoring_address` (`--monitoring-address`), off by default.
public enum RoleMonitoring {
    /// The settings keys.
    public static let keys: Set<String> = ["monitoring_address"]

    /// The monitoring server of a role whose state `source` gives, on `address`, exporting `metrics` (the role's own
    /// when it records into them, else a new registry); nil when monitoring is off.
    public static func server(
        address: HostPort?, source: any MonitoringSource, metrics: MonitoringMetrics? = nil, logger: Logger
    ) -> MonitoringServer? {
        guard let address else { return nil }
        let metrics = metrics ?? MonitoringMetrics()
        var logger = logger
        logger[metadataKey: "component"] = "monitoring"
        return MonitoringServer(host: address.host, port: address.port, source: source, metrics: metrics, logger: logger)
    }

    /// `role`, followed by its monitoring server when `address` is set (exporting `metrics` when the role records
    /// into them): the services to run, in start order.
    public static func services(
        _ role: some Service & MonitoringSource, address: HostPort?, metrics: MonitoringMetrics? = nil, logger: Logger
    ) -> [any Service] {
        [role] + (server(address: address, source: role, metrics: metrics, logger: logger).map { [$0] } ?? [])
    }

    /// The metrics registry of a role with monitoring at `address`; nil when monitoring is off.
    public static func metrics(address: HostPort?) -> MonitoringMetrics? {
        address.map { _ in MonitoringMetrics() }
    }
}

extension ConnectionRegistry where Session == PoolSession {
    /// Every set-up connection as a monitoring client, by its number in `numbers`, with its channels.
    func monitoredClients(numbers: ClientNumbers) async -> [Sv2Client] {
        (try? await collect { session, id -> Sv2Client? in
            guard session.isSetUp, let connection = numbers[id] else { return nil }
            return Sv2Client(clientID: UInt64(connection.number), kind: session.clientKind, peer: connection.peer, channels: session.monitoredChannels)
        }?.get()) ?? []
    }
}

extension ConnectionRegistry where Session == ProxyDeviceSession {
    /// The kind of every set-up device, by connection.
    func clientKinds() async -> [ObjectIdentifier: Sv2ClientKind] {
        let kinds = (try? await collect { session, id in session.isSetUp ? (id, session.clientKind) : nil }?.get()) ?? []
        return Dictionary(kinds, uniquingKeysWith: { first, _ in first })
    }
}

/// A session that shows its upstream channels to monitoring.
protocol MonitoredUpstreamSession: ConnectionSession {
    /// The open channels, declaring `nominalHashRate`.
    func monitoredChannels(nominalHashRate: Float) -> [ChannelSnapshot]
}

extension MinerClientSession: MonitoredUpstreamSession {}
extension TranslatorUpstreamSession: MonitoredUpstreamSession {}

extension ClientConnector where Session: MonitoredUpstreamSession, Endpoint == UpstreamPool {
    /// The channels open upstream now (none while connecting or failing over), declaring `nominalHashRate`, and the
    /// link's state.
    func monitored(nominalHashRate: Float) async -> (channels: [ChannelSnapshot], state: UpstreamState) {
        let read = self.read { session, endpoint in
            (session?.monitoredChannels(nominalHashRate: nominalHashRate) ?? [], "\(endpoint.host):\(endpoint.port)")
        }
        let (channels, address) = (try? await read.get()) ?? ([], "")
        return (channels, UpstreamState(address: address, connected: !channels.isEmpty))
    }
}

/// The clients of a relaying proxy: its device channels grouped by device, with their share counters, numbers and
/// kinds (devices not yet numbered are left out).
func relayedClients<Device: Hashable & Sendable>(
    _ channels: [(device: Device, channel: ChannelSnapshot)], counters: DeviceShareCounters<Device>, numbers: ClientNumbers,
    id: (Device) -> ObjectIdentifier, kinds: [ObjectIdentifier: Sv2ClientKind]
) -> [Sv2Client] {
    var byDevice = [ObjectIdentifier: [ChannelSnapshot]]()
    for (device, channel) in channels {
        var channel = channel
        channel.shares = counters.counters(device: device, channelID: channel.channelID)
        byDevice[id(device), default: []].append(channel)
    }
    for key in kinds.keys where byDevice[key] == nil { byDevice[key] = [] }
    return byDevice.compactMap { key, channels in
        numbers[key].map { Sv2Client(clientID: UInt64($0.number), kind: kinds[key] ?? .unknown, peer: $0.peer, channels: channels) }
    }
}
