import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Sv2Channels
import Sv2Messages
import Sv2Monitoring
import Sv2Network
import Sv2Sessions

/// One upstream link of the translator: a ``TranslatorUpstreamSession`` on the connection engine, kept up by a
/// ``ClientConnector`` that goes down the list of pools with backoff while the miners stay connected. In aggregated
/// mode one link serves every miner; in per-miner mode each miner has its own.
final class TranslatorUpstream: Sendable {
    private typealias Session = TranslatorUpstreamSession
    private let connector: ClientConnector<Session, Sv2TaggedWire, UpstreamPool>
    private let carried = NIOLockedValueBox(TranslatorUpstreamSession.Carried())
    private let pendingShares = NIOLockedValueBox([(share: FoundShare, worker: String?)]())
    private let userIdentity = NIOLockedValueBox<String?>(nil)
    private let deliver = NIOLockedValueBox<@Sendable (TranslatorUpstreamSession.Effect) -> Void>({ _ in })
    /// Each miner's hash rate, and the total the pool last heard (nominal_hash_rate or UpdateChannel).
    private let rates = NIOLockedValueBox((byMiner: [ObjectIdentifier: Double](), announced: AnnouncedHashRate()))
    private let logger: Logger

    /// A link to the configured pools (in order of preference) on `eventLoop`; jobs go where ``onJob(_:)`` says.
    init(configuration: TranslatorService.Configuration, eventLoop: EventLoop, logger: Logger) {
        self.logger = logger
        let layout = TranslatorUpstreamSession.Layout(
            extranonce1Size: configuration.extranonce1Size, extranonce2Size: configuration.downstream.extranonce2Size,
            keepalive: configuration.jobKeepalive)
        let carried = self.carried
        let userIdentity = self.userIdentity
        let deliver = self.deliver
        let rates = self.rates
        connector = ClientConnector(
            eventLoop: eventLoop,
            failover: Failover(endpoints: configuration.upstreams, initialDelay: configuration.initialBackoff, maximumDelay: configuration.maximumBackoff),
            wire: Sv2TaggedWire(), readiness: .transportReady, configuration: ConnectionConfiguration(logger: logger, setupTimeout: .seconds(30)),
            tickInterval: .seconds(1),
            connect: UpstreamPool.connect,
            hooks: .init(
                makeSession: { upstream, _ in
                    let configuration = MinerSessionConfiguration(
                        userIdentity: userIdentity.withLockedValue { $0 } ?? upstream.userIdentity, channelKind: .extended, channelCount: 1,
                        requiresStandardJobs: false,
                        nominalHashRate: Float(rates.withLockedValue { rates -> Double in
                            let total = rates.byMiner.values.reduce(0, +)
                            rates.announced.record(total)
                            return total
                        }),
                        minimumExtranonceSize: UInt16(layout.extranonce1Size + layout.extranonce2Size), endpointHost: upstream.host,
                        endpointPort: UInt16(clamping: upstream.port), vendor: "sv2", hardwareVersion: HostPlatform.hardwareVersion, firmware: "sv2 translate", deviceID: "",
                        worker: configuration.aggregate ? upstream.userIdentity : nil)
                    return TranslatorUpstreamSession(configuration: configuration, layout: layout, carried: carried.withLockedValue { $0 })
                },
                effect: { effect, _ in deliver.withLockedValue { $0 }(effect) },
                ended: { _, session in
                    if let session { carried.withLockedValue { $0 = session.carried } }
                    deliver.withLockedValue { $0 }(.upstream(available: false))
                }))
    }

    /// Jobs, and the channel opening and closing, go to `deliver` from now on (called on the upstream's event loop).
    func onEffect(_ deliver: @escaping @Sendable (TranslatorUpstreamSession.Effect) -> Void) {
        self.deliver.withLockedValue {
            $0 = { [weak self] effect in
                // A channel that just opened announced the total of when the connection began: catch up.
                if case .upstream(available: true) = effect { self?.announceIfChanged() }
                deliver(effect)
            }
        }
    }

    /// Connects to the first pool, opening the channel as `userIdentity` when given (per-miner mode), else as the
    /// pool's configured user_identity.
    func start(userIdentity: String? = nil) {
        self.userIdentity.withLockedValue { $0 = userIdentity }
        connector.start()
    }

    /// Closes the channel (CloseChannel) and the connection for good.
    func stop() async {
        try? await connector.stop { session, now in session.close(now: now) }.get()
    }

    /// A miner's hash rate changed (nil: the miner left). The channel's nominal_hash_rate is the miners' total
    /// (spec 5.3.9: a proxy's channel carries what is behind it); the pool hears of a change of more than a tenth with
    /// UpdateChannel.
    func report(miner: ObjectIdentifier, hashRate: Double?) {
        rates.withLockedValue { $0.byMiner[miner] = hashRate }
        announceIfChanged()
    }

    /// UpdateChannel when the total differs by more than a tenth from what the pool last heard. The total is read on
    /// the upstream's loop when the message is made, so updates leave in order; with no channel open yet nothing is
    /// sent and nothing counts as announced (the channel's opening calls this again).
    private func announceIfChanged() {
        let rates = self.rates
        connector.update { session, _ in
            rates.withLockedValue { rates -> [TranslatorUpstreamSession.Action] in
                let total = rates.byMiner.values.reduce(0, +)
                guard rates.announced.isWorthAnnouncing(total) else { return [] }
                let actions = session.announce(hashRate: Float(total))
                if !actions.isEmpty { rates.announced.record(total) }
                return actions
            }
        }
    }

    /// The channel open upstream (none while connecting or failing over), declaring the miners' total rate, and the
    /// link's state.
    func snapshot() async -> (channels: [ChannelSnapshot], state: UpstreamState) {
        await connector.monitored(nominalHashRate: Float(rates.withLockedValue { $0.byMiner.values.reduce(0, +) }))
    }

    /// Upstream share counts so far (the last connection's).
    var statistics: MinerStatistics { carried.withLockedValue { $0.statistics } }

    /// Submits a share of the miner authorized as `worker` (it meets the upstream target; the worker is named on it
    /// when the pool tracks workers). Shares wait in a queue that the upstream's loop empties in one task with one
    /// flush: one thread hop and one write per batch rather than per share.
    func submit(_ share: FoundShare, worker: String?) {
        let first = pendingShares.withLockedValue { pending in
            pending.append((share, worker))
            return pending.count == 1
        }
        guard first else { return }
        let pendingShares = self.pendingShares
        let logger = self.logger
        let take: @Sendable () -> [(share: FoundShare, worker: String?)] = {
            pendingShares.withLockedValue { pending in
                defer { pending.removeAll(keepingCapacity: true) }
                return pending
            }
        }
        connector.update({ session, now in take().flatMap { session.submit($0.share, worker: $0.worker, now: now) } }, otherwise: {
            logger.warning("share(s) could not be forwarded: no upstream channel", metadata: ["shares": "\(take().count)"])
        })
    }
}
