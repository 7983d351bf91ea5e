import Bitcoin
import Sv2Binary
import Sv2Messages
import Sv2Monitoring
import Sv2Sessions

/// The group mode of `sv2 proxy` as a sans-IO state machine: every channel a device opens downstream is opened
/// upstream, on the proxy's one upstream connection, as a channel of its own (so the pool sees each device, its
/// user_identity and nominal hash rate); the pool groups the standard ones and sends each job once, to the group,
/// as NewExtendedMiningJob, from which the proxy derives every member's NewMiningJob (its merkle root from the
/// member's extranonce prefix). Everything else is relayed between a device's channel ids and the upstream's.
///
/// Devices keep their channels when the upstream goes away: ``upstreamDown()`` forgets the upstream ids,
/// ``upstreamUp()`` opens every channel again, and the devices learn a changed target or extranonce prefix and get
/// the new pool's jobs. Sequence numbers and job ids pass through unchanged (each device channel has its own
/// upstream channel). `Device` names a downstream connection.
public struct GroupProxy<Device: Hashable & Sendable>: Sendable {
    /// What the glue does.
    public enum Output: Sendable {
        /// Send this to the pool.
        case upstream(Sv2Message)
        /// Send this to a device.
        case device(Device, Sv2Message)
        /// Forward this frame of an unknown extension to the pool.
        case upstreamFrame(Sv2Frame)
        /// Forward this frame of an unknown extension to a device.
        case deviceFrame(Device, Sv2Frame)
        /// Log this line.
        case log(SessionLog)
    }

    /// The SubmitShares.Error code for a share that arrives while no pool is connected.
    public static var upstreamUnavailable: Sv2String { "upstream-unavailable" }

    private struct Key: Hashable, Sendable {
        var device: Device
        var channelID: UInt32
    }

    private enum Kind: Hashable, Sendable {
        case standard
        case extended(minimumExtranonceSize: UInt16)
    }

    private struct Channel: Sendable {
        /// Opening order, so that channels open again upstream in the order they first did.
        let serial: UInt64
        let kind: Kind
        let user: Sv2String
        var nominalHashRate: Float
        var maximumTarget: U256
        /// The device's request id while its open request is unanswered.
        var pendingRequestID: UInt32?
        /// The proxy's request upstream while the pool has not answered it.
        var upstreamRequestID: UInt32?
        /// The channel upstream, once the pool opened it.
        var upstreamID: UInt32?
        var group: UInt32?
        var extranoncePrefix: [UInt8] = []
        /// The extranonce bytes an extended channel rolls, as the pool gave them.
        var extranonceSize: UInt16 = 0
        var target: U256?
        /// A channel message of an unknown extension went through for this channel: a new upstream endpoint is then
        /// announced to the device with ChannelEndpointChanged (spec 3.4).
        var carriedUnknownExtension = false
    }

    private var channels = [Key: Channel]()
    private var byUpstream = [UInt32: Key]()
    private var requests = [UInt32: Key]()
    private var groups = [UInt32: Set<Key>]()
    private var devices = [Device: (nextChannelID: UInt32, channels: Set<UInt32>)]()
    private var nextRequestID: UInt32 = 1
    private var nextSerial: UInt64 = 0
    private var scratch = [UInt8]()
    /// True while the upstream connection is set up.
    public private(set) var isUpstreamReady = false

    /// Channels one device may have open: more are refused, so that one device cannot fill the upstream connection's
    /// channel space (the pool limits channels per connection) for everyone.
    public let maximumChannelsPerDevice: Int

    /// Every device channel as monitoring shows it (share counters left empty: the relay keeps them), with its
    /// device and its channel id upstream (nil until the pool opened it).
    public func monitoredChannels() -> [(device: Device, channel: ChannelSnapshot, upstreamID: UInt32?)] {
        channels.map { key, channel in
            let rollable: UInt16
            let kind: ChannelKind
            switch channel.kind {
            case .standard: (kind, rollable) = (.standard, 0)
            case .extended: (kind, rollable) = (.extended, channel.extranonceSize)
            }
            return (key.device, ChannelSnapshot(
                channelID: key.channelID, kind: kind, userIdentity: channel.user.description, nominalHashrate: channel.nominalHashRate,
                target: channel.target ?? channel.maximumTarget, requestedMaximumTarget: channel.maximumTarget,
                extranoncePrefix: channel.extranoncePrefix, fullExtranonceSize: channel.extranoncePrefix.count + Int(rollable),
                rollableExtranonceSize: rollable, versionRolling: nil, expectedSharesPerMinute: 0, shares: ShareCounters()), channel.upstreamID)
        }
    }

    /// No devices, no upstream.
    public init(maximumChannelsPerDevice: Int = 256) {
        self.maximumChannelsPerDevice = maximumChannelsPerDevice
    }

    /// Channels open (or opening) downstream.
    public var channelCount: Int { channels.count }

    // MARK: - Upstream

    /// The upstream connection is set up: every channel opens there.
    public mutating func upstreamUp() -> [Output] {
        isUpstreamReady = true
        var outputs = [Output]()
        if !channels.isEmpty { outputs.append(.log(SessionLog(.info, "opening the devices' \(channels.count) channel(s) upstream"))) }
        for (key, _) in channels.sorted(by: { $0.value.serial < $1.value.serial }) {
            outputs += openUpstream(key)
        }
        return outputs
    }

    /// The upstream connection is gone: the devices keep their channels, waiting for the next pool.
    public mutating func upstreamDown() -> [Output] {
        isUpstreamReady = false
        byUpstream.removeAll()
        requests.removeAll()
        groups.removeAll()
        for key in Array(channels.keys) {
            channels[key]?.upstreamID = nil
            channels[key]?.upstreamRequestID = nil
            channels[key]?.group = nil
        }
        return []
    }

    /// A message from the pool.
    public mutating func fromUpstream(_ message: Sv2Message) -> [Output] {
        switch message {
        case let .openStandardMiningChannelSuccess(success):
            return opened(requestID: success.requestID, upstreamID: success.channelID, target: success.target,
                          prefix: success.extranoncePrefix, extranonceSize: nil, group: success.groupChannelID)
        case let .openExtendedMiningChannelSuccess(success):
            return opened(requestID: success.requestID, upstreamID: success.channelID, target: success.target,
                          prefix: success.extranoncePrefix, extranonceSize: success.extranonceSize, group: success.groupChannelID)
        case let .openMiningChannelError(error):
            guard let key = requests.removeValue(forKey: error.requestID), let channel = channels[key] else { return [] }
            var outputs: [Output] = [.log(SessionLog(.warning, "the pool refused a channel: \(error.errorCode)", ["user": channel.user.description]))]
            if let requestID = channel.pendingRequestID {
                outputs.append(.device(key.device, .openMiningChannelError(OpenMiningChannelError(requestID: requestID, errorCode: error.errorCode))))
            } else {
                outputs.append(.device(key.device, .closeChannel(CloseChannel(channelID: key.channelID, reasonCode: error.errorCode))))
            }
            remove(key)
            return outputs
        case var .newMiningJob(job):
            return relay(job.channelID) { job.channelID = $0; return .newMiningJob(job) }
        case let .newExtendedMiningJob(job):
            if let members = groups[job.channelID] { return standardJobs(job, for: members) }
            guard let key = byUpstream[job.channelID], let channel = channels[key] else { return unknown(job.channelID, message) }
            if case .standard = channel.kind { return standardJobs(job, for: [key]) }
            var forwarded = job
            forwarded.channelID = key.channelID
            return [.device(key.device, .newExtendedMiningJob(forwarded))]
        case var .setNewPrevHash(prevHash):
            if let members = groups[prevHash.channelID] {
                return members.map { key in
                    prevHash.channelID = key.channelID
                    return .device(key.device, .setNewPrevHash(prevHash))
                }
            }
            return relay(prevHash.channelID) { prevHash.channelID = $0; return .setNewPrevHash(prevHash) }
        case var .setTarget(setTarget):
            if let key = byUpstream[setTarget.channelID] { channels[key]?.target = setTarget.maximumTarget }
            return relay(setTarget.channelID) { setTarget.channelID = $0; return .setTarget(setTarget) }
        case var .submitSharesSuccess(success):
            return relay(success.channelID) { success.channelID = $0; return .submitSharesSuccess(success) }
        case var .submitSharesError(error):
            return relay(error.channelID) { error.channelID = $0; return .submitSharesError(error) }
        case var .updateChannelError(error):
            return relay(error.channelID) { error.channelID = $0; return .updateChannelError(error) }
        case var .setExtranoncePrefix(update):
            guard let key = byUpstream[update.channelID] else { return unknown(update.channelID, message) }
            channels[key]?.extranoncePrefix = update.extranoncePrefix
            guard case .extended = channels[key]?.kind else { return [] }
            update.channelID = key.channelID
            return [.device(key.device, .setExtranoncePrefix(update))]
        case let .setGroupChannel(group):
            for id in group.channelIDs {
                guard let key = byUpstream[id], case .standard = channels[key]?.kind else { continue }
                if let old = channels[key]?.group { groups[old]?.remove(key) }
                channels[key]?.group = group.groupChannelID
                groups[group.groupChannelID, default: []].insert(key)
            }
            return []
        case let .closeChannel(close):
            let keys = groups[close.channelID].map(Array.init) ?? byUpstream[close.channelID].map { [$0] } ?? []
            var outputs = [Output]()
            for key in keys {
                outputs.append(.device(key.device, .closeChannel(CloseChannel(channelID: key.channelID, reasonCode: close.reasonCode))))
                remove(key)
            }
            if !keys.isEmpty { outputs.append(.log(SessionLog(.info, "the pool closed channel(s): \(close.reasonCode)", ["channel": "\(close.channelID)"]))) }
            return outputs
        default:
            return [.log(SessionLog(.warning, "\(message.name) from the pool is not relayed"))]
        }
    }

    // MARK: - Devices

    /// A mining message from `device` (after its SetupConnection).
    public mutating func fromDevice(_ device: Device, _ message: Sv2Message) -> [Output] {
        switch message {
        case let .openStandardMiningChannel(request):
            return open(device, requestID: request.requestID, kind: .standard, user: request.userIdentity,
                        nominalHashRate: request.nominalHashRate, maximumTarget: request.maxTarget)
        case let .openExtendedMiningChannel(request):
            return open(device, requestID: request.requestID, kind: .extended(minimumExtranonceSize: request.minExtranonceSize),
                        user: request.userIdentity, nominalHashRate: request.nominalHashRate, maximumTarget: request.maxTarget)
        case var .submitSharesStandard(share):
            return submit(device, channelID: share.channelID, sequence: share.sequenceNumber) { share.channelID = $0; return .submitSharesStandard(share) }
        case var .submitSharesExtended(share):
            return submit(device, channelID: share.channelID, sequence: share.sequenceNumber) { share.channelID = $0; return .submitSharesExtended(share) }
        case var .updateChannel(update):
            let key = Key(device: device, channelID: update.channelID)
            guard channels[key] != nil else {
                return [.device(device, .updateChannelError(UpdateChannelError(channelID: update.channelID, errorCode: "invalid-channel-id")))]
            }
            channels[key]?.nominalHashRate = update.nominalHashRate
            channels[key]?.maximumTarget = update.maximumTarget
            guard let upstreamID = channels[key]?.upstreamID else { return [] }
            update.channelID = upstreamID
            return [.upstream(.updateChannel(update))]
        case var .closeChannel(close):
            let key = Key(device: device, channelID: close.channelID)
            guard let channel = channels[key] else { return [.log(SessionLog(.warning, "CloseChannel for an unknown channel: ignored", ["channel": "\(close.channelID)"]))] }
            remove(key)
            guard let upstreamID = channel.upstreamID else { return [] }
            close.channelID = upstreamID
            return [.upstream(.closeChannel(close))]
        case let .setCustomMiningJob(job):
            return [.device(device, .setCustomMiningJobError(job.unsupported))]
        default:
            return [.log(SessionLog(.warning, "\(message.name) is not a mining client message: ignored"))]
        }
    }

    /// `device` disconnected: its channels close upstream.
    public mutating func deviceGone(_ device: Device) -> [Output] {
        guard let ids = devices.removeValue(forKey: device)?.channels else { return [] }
        var outputs = [Output]()
        for id in ids.sorted() {
            let key = Key(device: device, channelID: id)
            if let upstreamID = channels[key]?.upstreamID {
                outputs.append(.upstream(.closeChannel(CloseChannel(channelID: upstreamID, reasonCode: "device-disconnected"))))
            }
            remove(key)
        }
        return outputs
    }

    // MARK: - Unknown extensions

    /// A frame of an unknown extension type from `device`: a channel message goes to the pool on the channel's
    /// upstream id (spec 3.4: a proxy MUST forward it); anything else was for the proxy and is dropped.
    public mutating func unknownFromDevice(_ device: Device, _ frame: Sv2Frame) -> [Output] {
        guard let channelID = Self.channelID(of: frame), let upstreamID = channels[Key(device: device, channelID: channelID)]?.upstreamID else { return [] }
        channels[Key(device: device, channelID: channelID)]?.carriedUnknownExtension = true
        return [.upstreamFrame(Self.frame(frame, channelID: upstreamID))]
    }

    /// A frame of an unknown extension type from the pool: a channel message goes to the device of that channel.
    public mutating func unknownFromUpstream(_ frame: Sv2Frame) -> [Output] {
        guard let upstreamID = Self.channelID(of: frame), let key = byUpstream[upstreamID] else { return [] }
        channels[key]?.carriedUnknownExtension = true
        return [.deviceFrame(key.device, Self.frame(frame, channelID: key.channelID))]
    }

    /// The channel_id a channel message starts with.
    private static func channelID(of frame: Sv2Frame) -> UInt32? {
        guard frame.header.isChannelMessage, frame.payload.count >= 4 else { return nil }
        return frame.payload.prefix(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// `frame` with its channel_id replaced.
    private static func frame(_ frame: Sv2Frame, channelID: UInt32) -> Sv2Frame {
        var payload = frame.payload
        for index in 0..<4 { payload[index] = UInt8(truncatingIfNeeded: channelID >> (8 * UInt32(index))) }
        return Sv2Frame(extensionType: frame.header.extensionType, isChannelMessage: true, messageType: frame.header.messageType, payload: payload)
    }

    // MARK: - Internals

    private mutating func open(
        _ device: Device, requestID: UInt32, kind: Kind, user: Sv2String, nominalHashRate: Float, maximumTarget: U256
    ) -> [Output] {
        var entry = devices[device] ?? (nextChannelID: 1, channels: [])
        guard entry.channels.count < maximumChannelsPerDevice else {
            return [.device(device, .openMiningChannelError(OpenMiningChannelError(requestID: requestID, errorCode: "too-many-channels")))]
        }
        let id = entry.nextChannelID
        entry.nextChannelID &+= 1
        entry.channels.insert(id)
        devices[device] = entry
        let key = Key(device: device, channelID: id)
        nextSerial += 1
        channels[key] = Channel(serial: nextSerial, kind: kind, user: user, nominalHashRate: nominalHashRate, maximumTarget: maximumTarget, pendingRequestID: requestID)
        guard isUpstreamReady else {
            return [.log(SessionLog(.info, "channel waits for a pool", ["channel": "\(id)", "user": user.description]))]
        }
        return openUpstream(key)
    }

    private mutating func openUpstream(_ key: Key) -> [Output] {
        guard let channel = channels[key] else { return [] }
        let requestID = nextRequestID
        nextRequestID = nextRequestID == UInt32.max ? 1 : nextRequestID + 1
        requests[requestID] = key
        channels[key]?.upstreamRequestID = requestID
        switch channel.kind {
        case .standard:
            return [.upstream(.openStandardMiningChannel(OpenStandardMiningChannel(
                requestID: requestID, userIdentity: channel.user, nominalHashRate: channel.nominalHashRate, maxTarget: channel.maximumTarget)))]
        case let .extended(size):
            return [.upstream(.openExtendedMiningChannel(OpenExtendedMiningChannel(
                requestID: requestID, userIdentity: channel.user, nominalHashRate: channel.nominalHashRate,
                maxTarget: channel.maximumTarget, minExtranonceSize: size)))]
        }
    }

    private mutating func opened(
        requestID: UInt32, upstreamID: UInt32, target: U256, prefix: [UInt8], extranonceSize: UInt16?, group: UInt32
    ) -> [Output] {
        guard let key = requests.removeValue(forKey: requestID), var channel = channels[key] else {
            // The device left meanwhile: the pool's channel is not needed.
            return [.upstream(.closeChannel(CloseChannel(channelID: upstreamID, reasonCode: "device-disconnected")))]
        }
        let previous = (target: channel.target, prefix: channel.extranoncePrefix)
        channel.upstreamRequestID = nil
        channel.upstreamID = upstreamID
        channel.target = target
        channel.extranoncePrefix = prefix
        channel.extranonceSize = extranonceSize ?? 0
        byUpstream[upstreamID] = key
        if case .standard = channel.kind, group != 0 {
            channel.group = group
            groups[group, default: []].insert(key)
        }
        var outputs = [Output]()
        if let request = channel.pendingRequestID {
            channel.pendingRequestID = nil
            switch (channel.kind, extranonceSize) {
            case (.standard, _):
                outputs.append(.device(key.device, .openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
                    requestID: request, channelID: key.channelID, target: target, extranoncePrefix: prefix, groupChannelID: 0))))
            case let (.extended, size):
                outputs.append(.device(key.device, .openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
                    requestID: request, channelID: key.channelID, target: target, extranonceSize: size ?? 0,
                    extranoncePrefix: prefix, groupChannelID: 0))))
            }
            outputs.append(.log(SessionLog(.info, "channel open upstream", ["channel": "\(key.channelID)", "upstream": "\(upstreamID)", "user": channel.user.description])))
        } else {
            if previous.target != target {
                outputs.append(.device(key.device, .setTarget(SetTarget(channelID: key.channelID, maximumTarget: target))))
            }
            if case .extended = channel.kind, previous.prefix != prefix {
                outputs.append(.device(key.device, .setExtranoncePrefix(SetExtranoncePrefix(channelID: key.channelID, extranoncePrefix: prefix))))
            }
            if channel.carriedUnknownExtension {
                outputs.append(.device(key.device, .channelEndpointChanged(ChannelEndpointChanged(channelID: key.channelID))))
            }
        }
        channels[key] = channel
        return outputs
    }

    /// NewMiningJob for each standard channel in `keys`, its merkle root from its own extranonce prefix.
    private mutating func standardJobs<Keys: Sequence>(_ job: NewExtendedMiningJob, for keys: Keys) -> [Output] where Keys.Element == Key {
        let coinbase = CoinbaseTemplate(prefix: job.coinbaseTxPrefix, extranonceSize: 0, suffix: job.coinbaseTxSuffix, merklePath: job.merklePath)
        var outputs = [Output]()
        outputs.reserveCapacity(keys.underestimatedCount)
        for key in keys {
            guard let prefix = channels[key]?.extranoncePrefix else { continue }
            let root = coinbase.merkleRoot(extranonce: prefix, scratch: &scratch)
            outputs.append(.device(key.device, .newMiningJob(NewMiningJob(
                channelID: key.channelID, jobID: job.jobID, minNtime: job.minNtime, version: job.version, merkleRoot: root))))
        }
        return outputs
    }

    private func relay(_ upstreamID: UInt32, _ rewrite: (UInt32) -> Sv2Message) -> [Output] {
        guard let key = byUpstream[upstreamID] else { return [.log(SessionLog(.debug, "message for an unknown upstream channel", ["channel": "\(upstreamID)"]))] }
        return [.device(key.device, rewrite(key.channelID))]
    }

    private func unknown(_ upstreamID: UInt32, _ message: Sv2Message) -> [Output] {
        [.log(SessionLog(.debug, "\(message.name) for an unknown upstream channel", ["channel": "\(upstreamID)"]))]
    }

    private func submit(_ device: Device, channelID: UInt32, sequence: UInt32, _ rewrite: (UInt32) -> Sv2Message) -> [Output] {
        guard let channel = channels[Key(device: device, channelID: channelID)] else {
            return [.device(device, .submitSharesError(SubmitSharesError(channelID: channelID, sequenceNumber: sequence, errorCode: "invalid-channel-id")))]
        }
        guard let upstreamID = channel.upstreamID else {
            return [.device(device, .submitSharesError(SubmitSharesError(channelID: channelID, sequenceNumber: sequence, errorCode: Self.upstreamUnavailable)))]
        }
        return [.upstream(rewrite(upstreamID))]
    }

    private mutating func remove(_ key: Key) {
        guard let channel = channels.removeValue(forKey: key) else { return }
        devices[key.device]?.channels.remove(key.channelID)
        if let upstreamID = channel.upstreamID, byUpstream[upstreamID] == key { byUpstream[upstreamID] = nil }
        if let group = channel.group { groups[group]?.remove(key) }
        if let requestID = channel.upstreamRequestID { requests[requestID] = nil }
    }
}
