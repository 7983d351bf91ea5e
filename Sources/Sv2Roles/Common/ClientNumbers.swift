import Sv2Channels
import Sv2Monitoring
import Sv2Network
import Sv2Sessions
import Synchronization

/// The live connections of a server by number (their client ids in monitoring) and peer address, kept apart from
/// the sessions so that a snapshot can name them from any thread.
final class ClientNumbers: Sendable {
    private let numbers = Mutex([ObjectIdentifier: (number: UInt32, peer: String)]())
    private let next = Atomic<UInt32>(0)

    /// Numbers connection `id` (from `peer`) with the next number, which it returns.
    @discardableResult
    func add(_ id: ObjectIdentifier, peer: String) -> UInt32 {
        let number = next.add(1, ordering: .relaxed).oldValue
        numbers.withLock { $0[id] = (number, peer) }
        return number
    }

    /// Connection `id` closed; its number and peer, when it had one.
    @discardableResult
    func remove(_ id: ObjectIdentifier) -> (number: UInt32, peer: String)? {
        numbers.withLock { $0.removeValue(forKey: id) }
    }

    /// Connection `id`'s number and peer.
    subscript(id: ObjectIdentifier) -> (number: UInt32, peer: String)? {
        numbers.withLock { $0[id] }
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
