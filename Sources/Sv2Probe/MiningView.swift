import Sv2Binary
import Sv2Channels
import Sv2Messages

/// What the probe knows of its channels on one connection, kept up to date from every message the server sends:
/// channels opened, jobs (sent to the channel or to its group), the chain tip, targets and extranonce prefixes.
public struct MiningView: Sendable {
    /// A job as the probe can mine it.
    public struct Job: Sendable, Hashable {
        /// The job's id.
        public var id: UInt32
        /// min_ntime: nil for a future job.
        public var minNtime: UInt32?
        /// Header version.
        public var version: UInt32
        /// False when the version may not be changed at all.
        public var versionRollingAllowed: Bool
        /// The merkle root (standard jobs) or the coinbase parts it comes from (extended jobs).
        public var merkle: Merkle

        /// Where a job's merkle root comes from.
        public enum Merkle: Sendable, Hashable {
            /// NewMiningJob's root.
            case root(U256)
            /// NewExtendedMiningJob's coinbase parts and path.
            case coinbase(prefix: [UInt8], suffix: [UInt8], path: [U256])
        }
    }

    /// One open channel.
    public struct Channel: Sendable, Hashable {
        /// The channel's id.
        public var id: UInt32
        /// True for an extended channel.
        public var isExtended: Bool
        /// The group the server put it in (0: none).
        public var groupID: UInt32
        /// The target shares must meet.
        public var target: U256
        /// The channel's extranonce prefix.
        public var extranoncePrefix: [UInt8]
        /// Bytes of extranonce the miner fills (0 on standard channels).
        public var extranonceSize: Int
        /// Jobs by id.
        public var jobs: [UInt32: Job] = [:]
        /// The job SetNewPrevHash made current, and the tip it is on.
        public var activeJobID: UInt32?
        /// The previous block hash in force.
        public var prevHash: U256?
        /// nBits in force.
        public var nbits: UInt32 = 0
        /// The earliest ntime of the tip in force.
        public var minNtime: UInt32 = 0
        /// Jobs of earlier tips as they were mined then (a share on one is stale), by job id.
        public var staleWork: [UInt32: MiningWork] = [:]
        /// How many SetNewPrevHash messages reached the channel.
        public var tipChanges = 0
    }

    /// Open channels by id.
    public private(set) var channels: [UInt32: Channel] = [:]
    /// Every message seen, in order (for checks on ordering).
    public private(set) var log: [Sv2Message] = []

    /// An empty view.
    public init() {}

    /// Takes in one message from the server.
    public mutating func observe(_ message: Sv2Message) {
        log.append(message)
        switch message {
        case let .openStandardMiningChannelSuccess(success):
            channels[success.channelID] = Channel(
                id: success.channelID, isExtended: false, groupID: success.groupChannelID, target: success.target,
                extranoncePrefix: success.extranoncePrefix, extranonceSize: 0)
        case let .openExtendedMiningChannelSuccess(success):
            channels[success.channelID] = Channel(
                id: success.channelID, isExtended: true, groupID: success.groupChannelID, target: success.target,
                extranoncePrefix: success.extranoncePrefix, extranonceSize: Int(success.extranonceSize))
        case let .newMiningJob(job):
            add(Job(id: job.jobID, minNtime: job.minNtime, version: job.version, versionRollingAllowed: true, merkle: .root(job.merkleRoot)),
                to: job.channelID)
        case let .newExtendedMiningJob(job):
            add(Job(id: job.jobID, minNtime: job.minNtime, version: job.version, versionRollingAllowed: job.versionRollingAllowed,
                    merkle: .coinbase(prefix: job.coinbaseTxPrefix, suffix: job.coinbaseTxSuffix, path: job.merklePath)),
                to: job.channelID)
        case let .setNewPrevHash(tip):
            update(tip.channelID) { channel in
                if channel.prevHash != nil {
                    for id in channel.jobs.keys where id != tip.jobID { channel.staleWork[id] = channel.work(for: id) }
                }
                channel.jobs = channel.jobs.filter { $0.key == tip.jobID }
                channel.activeJobID = tip.jobID
                channel.prevHash = tip.prevHash
                channel.nbits = tip.nbits
                channel.minNtime = tip.minNtime
                channel.tipChanges += 1
            }
        case let .setTarget(target):
            update(target.channelID) { $0.target = target.maximumTarget }
        case let .setExtranoncePrefix(prefix):
            update(prefix.channelID) { $0.extranoncePrefix = prefix.extranoncePrefix }
        case let .closeChannel(close):
            channels[close.channelID] = nil
        default:
            break
        }
    }

    private mutating func add(_ job: Job, to channelID: UInt32) {
        update(channelID) { channel in
            channel.jobs[job.id] = job
            if job.minNtime != nil { channel.activeJobID = job.id }
        }
    }

    /// Applies `change` to the channel `id`, or to every channel of the group `id` (group ids may be 0, 5.2.3).
    private mutating func update(_ id: UInt32, _ change: (inout Channel) -> Void) {
        if channels[id] != nil {
            change(&channels[id]!)
            return
        }
        for key in channels.keys where channels[key]?.groupID == id {
            change(&channels[key]!)
        }
    }
}

extension MiningView.Channel {
    /// The active job as work for ``ShareSearch``: nil before a job and a tip arrived.
    public var activeWork: MiningWork? {
        guard let id = activeJobID else { return nil }
        return work(for: id)
    }

    /// Job `id` (a current one) as work on this channel's tip.
    public func work(for id: UInt32) -> MiningWork? {
        guard let job = jobs[id], let prevHash else { return nil }
        let root: MerkleRootSource
        switch job.merkle {
        case let .root(value):
            root = .fixed(value)
        case let .coinbase(prefix, suffix, path):
            let template = CoinbaseTemplate(prefix: prefix + extranoncePrefix, extranonceSize: extranonceSize, suffix: suffix, merklePath: path)
            root = extranonceSize == 0 ? .fixed(template.merkleRoot(extranonce: [])) : .coinbase(template)
        }
        return MiningWork(
            id: UInt64(id), version: job.version, versionRollingMask: job.versionRollingAllowed ? MiningWork.bip320VersionMask : 0,
            previousBlockHash: prevHash, merkleRoot: root, time: max(job.minNtime ?? minNtime, minNtime), bits: nbits, target: target)
    }
}
