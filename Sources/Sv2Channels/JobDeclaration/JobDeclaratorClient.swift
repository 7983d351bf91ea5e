import Bitcoin
import Sv2Binary
import Sv2Messages
import Sv2Sessions

/// The job declarator client (spec 6.2) as a sans-IO state machine: the miner's own templates become the jobs its
/// devices mine (``PoolWork`` snapshots for their ``PoolSession``s), declared to the pool's declarator and set on
/// the pool's extended channel as custom jobs while both are there, and paying the miner's own script (solo) while
/// either is not.
///
/// Pooled jobs pay the template's value to the pool's payout output (the first of the declarator's outputs, the
/// others as given), then the template's outputs; their scriptSig is the template's coinbase_prefix, the pool
/// channel's extranonce prefix, zeros where the pool channel leaves more room than the devices fill, then the
/// devices' bytes. Each job takes one allocation token: in full-template mode it is declared with the template's
/// transactions (asked for from the template provider) and set on the pool with the declared-job token; in
/// coinbase-only mode it is set with the allocation token. Devices mine it at once (optimistic mining); their shares
/// that meet the pool channel's target are submitted once the pool acknowledged the job. Blocks go to the template
/// provider and, for declared jobs, to the declarator (PushSolution).
public struct JobDeclaratorClient: Sendable {
    /// How jobs are declared (spec 6.3).
    public enum Mode: String, Sendable, CaseIterable {
        /// DeclareMiningJob with the transactions, then SetCustomMiningJob with the declared-job token.
        case fullTemplate = "full-template"
        /// SetCustomMiningJob with the allocation token; the transactions stay private.
        case coinbaseOnly = "coinbase-only"
    }

    /// Settings.
    public struct Configuration: Sendable {
        /// How jobs are declared.
        public var mode: Mode
        /// What solo jobs pay (`coinbase_reward_script`).
        public var soloScript: [UInt8]
        /// The tag of solo jobs' coinbases.
        public var poolTag: String
        /// Extranonce bytes the devices fill.
        public var extranonceSize: Int

        /// Settings from their values.
        public init(mode: Mode, soloScript: [UInt8], poolTag: String = "sv2", extranonceSize: Int) {
            self.mode = mode
            self.soloScript = soloScript
            self.poolTag = poolTag
            self.extranonceSize = extranonceSize
        }
    }

    /// What the glue does, in order.
    public enum Command: Sendable {
        /// The devices' sessions get this snapshot and these changes.
        case publish(PoolWork, [PoolWorkChange])
        /// Ask the template provider for a template's transactions.
        case requestTransactions(templateID: UInt64)
        /// Ask the declarator for a token.
        case allocateToken
        /// Send a declaration to the declarator, keeping its transactions for ProvideMissingTransactions.
        case declare(DeclareMiningJob, transactions: [[UInt8]])
        /// Set a custom job on the pool's channel.
        case setCustomJob(SetCustomMiningJob)
        /// Submit a share of a custom job to the pool (`extranonce`: the client's part of the channel's).
        case submitShare(jobID: UInt32, nonce: UInt32, ntime: UInt32, version: UInt32, extranonce: [UInt8])
        /// Send a block to the template provider.
        case submitSolution(SubmitSolution)
        /// Send a block to the declarator.
        case pushSolution(PushSolution)
        /// Close the declarator connection for this reason (it refused a job, or sent outputs that do not parse): the
        /// client mines solo until it is back, and repeated drops move it to the next pool.
        case dropDeclarator(String)
        /// Close the pool connection for this reason (it refuses the client's jobs): the next pool is tried.
        case dropPool(String)
        /// Call ``retryRefused()`` after this long.
        case retry(after: Duration)
        /// Log this line.
        case log(SessionLog)
    }

    /// A job the devices mine.
    private struct Job: Sendable {
        var template: NewTemplate
        var built: PoolJob
        var pooled: Bool
        /// The pool's id once it acknowledged the job.
        var customJobID: UInt32?
        /// Declared (full-template mode) with the declarator.
        var declared = false
        /// The SetCustomMiningJob to send (token and request id filled in then); nil for a solo job and for one the
        /// declarator or the pool refused.
        var custom: SetCustomMiningJob?
        /// The SetCustomMiningJob last sent (with its token), for a retry.
        var sent: SetCustomMiningJob?
        /// Times the pool refused it for a tip it had not reached yet.
        var retries = 0
    }

    /// Future templates kept for their SetNewPrevHash; templates whose transactions are kept.
    static let templatesKept = 16
    /// Jobs kept on one tip.
    static let jobsKept = 32

    private let configuration: Configuration
    private var channel: CustomJobUpstreamSession.Channel?
    private var poolOutputs: [TransactionOutput]?
    private var declaratorReady = false
    private var tokens = [[UInt8]]()
    private var tokensAsked = 0
    private var futureTemplates = [UInt64: NewTemplate]()
    private var tip: TemplateSetNewPrevHash?
    private var latest: NewTemplate?
    private var transactions = [UInt64: [[UInt8]]]()
    private var transactionsAsked = Set<UInt64>()
    private var jobs = [UInt32: Job]()
    /// Jobs waiting for a token or their transactions, oldest first.
    private var waiting = [UInt32]()
    /// Jobs by the request id of their DeclareMiningJob, and of their SetCustomMiningJob.
    private var declarations = [UInt32: UInt32]()
    private var customRequests = [UInt32: UInt32]()
    private var nextRequestID: UInt32 = 1
    /// SetCustomMiningJob refusals in a row (other than for a tip the pool has not reached).
    private var poolRefusals = 0
    /// Refusals in a row after which the pool is dropped for the next one.
    static let poolRefusalLimit = 3
    /// Tokens kept in hand at most (more are dropped).
    static let tokensKept = 8
    private var nextJobID: UInt32 = 1
    private var lastBlockParent: U256?
    /// Declarations of jobs on `staleTip` refused as stale.
    private var staleRefusals = 0
    private var staleTip: U256?
    /// Stale refusals of one tip's jobs after which the declarator is taken to be on another chain.
    static let staleRefusalLimit = 3
    /// Times a job refused for a tip the pool has not reached yet is set again, and the wait before each.
    static let prevHashRetries = 5
    static let prevHashRetryDelay = Duration.milliseconds(500)
    /// Jobs to set again on the pool.
    private var retrying = Set<UInt32>()
    /// Shares of jobs the pool has not acknowledged yet, submitted once it does (spec 6.3: optimistic mining).
    private var heldShares = [UInt32: [ForwardedShare]]()
    /// Shares held per job at most.
    static let heldShareLimit = 64
    /// The snapshot the devices read now.
    public private(set) var work = PoolWork.empty
    /// Whether jobs are for the pool now (its channel open and the declarator's outputs known).
    public var isPooled: Bool { channel != nil && poolOutputs != nil && declaratorReady }

    /// A client mining solo until a pool and a declarator are there.
    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    // MARK: - Template provider

    /// A template provider's message.
    public mutating func templateProvider(_ effect: TemplateDistributionClientSession.Effect) -> [Command] {
        switch effect {
        case let .template(template) where template.futureTemplate:
            futureTemplates[template.templateID] = template
            if futureTemplates.count > Self.templatesKept, let oldest = futureTemplates.keys.min() { futureTemplates[oldest] = nil }
            return []
        case let .template(template):
            guard tip != nil else { return [.log(SessionLog(.info, "a template for the current tip before any tip: ignored"))] }
            latest = template
            return newJob(template, newTip: false)
        case let .prevHash(prevHash):
            guard let template = futureTemplates.removeValue(forKey: prevHash.templateID) else {
                return [.log(SessionLog(.warning, "SetNewPrevHash for unknown template \(prevHash.templateID): ignored"))]
            }
            futureTemplates = futureTemplates.filter { $0.key > prevHash.templateID }
            tip = prevHash
            latest = template
            transactions = transactions.filter { $0.key >= prevHash.templateID }
            transactionsAsked = transactionsAsked.filter { $0 >= prevHash.templateID }
            return newJob(template, newTip: true)
        case let .transactionData(id, list):
            guard let list else { return dropWaiting(templateID: id, "the template provider no longer has template \(id)") }
            transactions[id] = list
            if transactions.count > Self.templatesKept, let oldest = transactions.keys.min() { transactions[oldest] = nil }
            return advanceWaiting()
        }
    }

    /// A block found by a device: to the template provider, and to the declarator when its job was declared. Only
    /// the first block on each previous block goes out: a second one could only compete with it, and two nodes
    /// that connected different ones would no longer share a chain.
    public mutating func found(_ block: FoundBlock) -> [Command] {
        guard lastBlockParent != block.previousBlockHash else {
            return [.log(SessionLog(.debug, "another block on \(block.previousBlockHash.displayHex) by \"\(block.user)\": a share only"))]
        }
        lastBlockParent = block.previousBlockHash
        var commands: [Command] = [
            .submitSolution(block.solution),
            .log(SessionLog(.info, "block \(block.hash.displayHex) found by \"\(block.user)\", sent to the template provider")),
        ]
        guard let (_, job) = jobs.first(where: { $0.value.template.templateID == block.templateID && $0.value.declared }), let tip,
              let coinbase = try? Transaction(bytes: block.coinbase), let input = coinbase.inputs.first
        else { return commands }
        let extranonce = Array(input.scriptSig.dropFirst(job.template.coinbasePrefix.count))
        commands.append(.pushSolution(PushSolution(
            extranonce: extranonce, prevHash: block.previousBlockHash, nonce: block.nonce, ntime: block.ntime, nbits: tip.nBits, version: block.version)))
        return commands
    }

    /// A device's share that meets the pool channel's target: submitted when its job is the pool's, held until the
    /// pool acknowledges the job (at most ``heldShareLimit`` per job).
    public mutating func forward(_ share: ForwardedShare) -> [Command] {
        // A job refused or superseded (no SetCustomMiningJob left to send) never gets a pool id: its shares go nowhere.
        guard let channel, let job = jobs[share.jobID], job.pooled, job.custom != nil else { return [] }
        guard let jobID = job.customJobID else {
            if heldShares[share.jobID, default: []].count < Self.heldShareLimit { heldShares[share.jobID, default: []].append(share) }
            return []
        }
        let padding = [UInt8](repeating: 0, count: channel.extranonceSize - configuration.extranonceSize)
        return [.submitShare(jobID: jobID, nonce: share.nonce, ntime: share.ntime, version: share.version, extranonce: padding + share.extranonce)]
    }

    // MARK: - Pool and declarator

    /// The pool's channel opened, or changed target or extranonce prefix (nil: the pool connection ended).
    public mutating func poolChannel(_ next: CustomJobUpstreamSession.Channel?) -> [Command] {
        let wasPooled = isPooled
        let previous = channel
        channel = next
        if let next, let previous, next.id == previous.id, next.extranoncePrefix == previous.extranoncePrefix, isPooled == wasPooled {
            work = PoolWork(
                tip: work.tip, jobs: work.jobs, latest: work.latest, staleJobIDs: work.staleJobIDs, generation: work.generation + 1,
                upstreamTarget: isPooled ? next.target : nil)
            return [.publish(work, [.upstreamTarget])]
        }
        if next == nil { poolRefusals = 0 }
        guard isPooled != wasPooled else {
            // Still pooled on another channel or prefix: the current template is mined anew for it.
            guard isPooled, let latest else { return [] }
            return [.log(SessionLog(.info, "the pool channel's extranonce prefix changed: new jobs"))] + newJob(latest, newTip: true)
        }
        return modeChanged(from: wasPooled, reason: next == nil ? "the pool connection ended" : "a channel is open on the pool")
    }

    /// The declarator's connection is set up (true) or ended (false).
    public mutating func declarator(ready: Bool) -> [Command] {
        let wasPooled = isPooled
        declaratorReady = ready
        tokens.removeAll()
        tokensAsked = ready ? 1 : 0
        if !ready { poolOutputs = nil }
        let commands: [Command] = ready ? [.allocateToken] : []
        return commands + modeChanged(from: wasPooled, reason: ready ? "the job declarator is connected" : "the job declarator connection ended")
    }

    /// AllocateMiningJobToken.Success: a token, and the pool's outputs (the first one's answer sets them); at most
    /// ``tokensKept`` tokens are kept.
    public mutating func token(_ token: [UInt8], outputs: [UInt8]) -> [Command] {
        tokensAsked = max(0, tokensAsked - 1)
        if tokens.count < Self.tokensKept { tokens.append(token) }
        guard poolOutputs == nil else { return advanceWaiting() }
        let wasPooled = isPooled
        guard let list = try? TransactionOutput.decodeCountedList(outputs), !list.isEmpty else {
            return [.dropDeclarator("the declarator's coinbase outputs do not parse")]
        }
        poolOutputs = list
        return modeChanged(from: wasPooled, reason: "the declarator gave the pool's outputs")
    }

    /// DeclareMiningJob.Success: the job goes to the pool with the declared-job token.
    public mutating func declared(requestID: UInt32, token: [UInt8]) -> [Command] {
        guard let id = declarations.removeValue(forKey: requestID), var job = jobs[id], job.pooled, var custom = job.custom else { return [] }
        job.declared = true
        custom.miningJobToken = token
        custom.requestID = newRequestID()
        job.sent = custom
        jobs[id] = job
        customRequests[custom.requestID] = id
        return [.setCustomJob(custom)]
    }

    /// DeclareMiningJob.Error: the declarator does not take the client's work (spec 6.4.6: a trigger for fallback).
    /// A job refused as stale is a race between the two nodes' tips while the client has moved on, and is tolerated
    /// until ``staleRefusalLimit`` jobs of one tip were refused so (the declarator's node is then on another chain); an
    /// expired token only makes the client ask for fresh ones, and a job superseded by newer declarations is only not
    /// set; anything else drops the declarator.
    public mutating func declarationRefused(requestID: UInt32, code: String) -> [Command] {
        guard let id = declarations.removeValue(forKey: requestID) else { return [] }
        jobs[id]?.custom = nil
        heldShares[id] = nil
        if code == JobDeclarationErrorCode.tooManyPending.description {
            return [.log(SessionLog(.info, "job \(id) gave way to newer declarations: not set on the pool"))]
        }
        if code == MiningJobToken.Refusal.expired(at: 0).code.description {
            tokens.removeAll()
            return [.log(SessionLog(.info, "job \(id) was declared with an expired token: fresh tokens asked for"))] + advanceWaiting()
        }
        if code == JobDeclarationErrorCode.staleChainTip.description, let tip {
            staleRefusals = staleTip == tip.prevHash ? staleRefusals + 1 : 1
            staleTip = tip.prevHash
            if staleRefusals < Self.staleRefusalLimit {
                return [.log(SessionLog(.info, "job \(id) was declared on a tip the declarator's node is not on: not set on the pool"))]
            }
        }
        staleRefusals = 0
        return [.dropDeclarator("the declarator refused job declaration \(requestID): \(code)")]
    }

    /// SetCustomMiningJob.Success: shares of the job now go to the pool.
    public mutating func customJobSet(requestID: UInt32, jobID: UInt32) -> [Command] {
        guard let id = customRequests.removeValue(forKey: requestID), jobs[id] != nil else { return [] }
        poolRefusals = 0
        jobs[id]?.customJobID = jobID
        let held = heldShares.removeValue(forKey: id) ?? []
        return [.log(SessionLog(.info, "job \(id) set on the pool as custom job \(jobID)", ["held shares": "\(held.count)"]))]
            + held.flatMap { forward($0) }
    }

    /// SetCustomMiningJob.Error: the job stays the devices', its shares are not submitted. One refused for a tip the
    /// pool has not reached yet is set again shortly; ``poolRefusalLimit`` other refusals in a row drop the pool.
    public mutating func customJobRefused(requestID: UInt32, code: String) -> [Command] {
        guard let id = customRequests.removeValue(forKey: requestID), var job = jobs[id] else { return [] }
        // The pool's node may not have the tip yet (the miner's node found or heard of the block first).
        if code == PoolErrorCode.invalidPrevHash.description, job.retries < Self.prevHashRetries, job.template.templateID == latest?.templateID {
            job.retries += 1
            jobs[id] = job
            retrying.insert(id)
            return [
                .log(SessionLog(.info, "the pool is not on the tip of job \(id) yet: set again shortly", ["attempt": "\(job.retries)"])),
                .retry(after: Self.prevHashRetryDelay),
            ]
        }
        heldShares[id] = nil
        jobs[id]?.custom = nil
        poolRefusals += 1
        let line = SessionLog(.warning, "the pool refused custom job \(id): \(code)")
        guard poolRefusals >= Self.poolRefusalLimit else { return [.log(line)] }
        poolRefusals = 0
        return [.log(line), .dropPool("the pool refused \(Self.poolRefusalLimit) custom jobs in a row")]
    }

    /// Sets again the jobs the pool refused for a tip it had not reached, those still current.
    public mutating func retryRefused() -> [Command] {
        var commands = [Command]()
        for id in retrying.sorted() {
            guard var job = jobs[id], var custom = job.sent else { continue }
            custom.requestID = newRequestID()
            customRequests[custom.requestID] = id
            job.sent = custom
            jobs[id] = job
            commands.append(.setCustomJob(custom))
        }
        retrying.removeAll()
        return commands
    }

    // MARK: - Jobs

    /// A job of `template` for the devices; a pooled one is set on the pool as soon as it can be.
    private mutating func newJob(_ template: NewTemplate, newTip: Bool) -> [Command] {
        guard let tip else { return [] }
        let id = nextJobID
        nextJobID = nextJobID >= 0x7fff_ffff ? 1 : nextJobID + 1
        let pooled = isPooled
        let job: PoolJob
        do {
            if pooled, let channel, let outputs = poolOutputs {
                var payouts = outputs
                payouts[0].value = template.coinbaseTxValueRemaining
                let padding = [UInt8](repeating: 0, count: channel.extranonceSize - configuration.extranonceSize)
                job = try PoolJob(
                    id: id, template: template, scriptSig: template.coinbasePrefix + channel.extranoncePrefix + padding, payouts: payouts,
                    extranonceLength: configuration.extranonceSize, isFuture: newTip)
            } else {
                job = try PoolJob(
                    id: id, template: template, rewardScript: configuration.soloScript, poolTag: configuration.poolTag,
                    extranonceLength: configuration.extranonceSize, isFuture: newTip)
            }
        } catch {
            return [.log(SessionLog(.error, "template \(template.templateID) cannot be mined: \(error)"))]
        }
        var commands = [Command]()
        if newTip {
            let prevHash = PoolPrevHash(jobID: id, prevHash: tip.prevHash, minNtime: tip.headerTimestamp, nBits: tip.nBits, networkTarget: tip.target)
            work = PoolWork(
                tip: prevHash, jobs: [id: job], latest: job, staleJobIDs: work.staleJobIDs(afterTipActivating: id), generation: work.generation + 1,
                upstreamTarget: pooled ? channel?.target : nil)
            jobs = [:]
            heldShares = [:]
            retrying.removeAll()
            // A token request the declarator dropped (its rate limit) is not waited for beyond a tip.
            tokensAsked = 0
            declarations.removeAll()
            customRequests.removeAll()
            waiting.removeAll()
            commands.append(.publish(work, [.job(job), .tip(prevHash)]))
        } else {
            var current = work.jobs
            current[id] = job
            // Jobs kept on one tip: the oldest goes, its shares then unknown.
            if current.count > Self.jobsKept, let oldest = current.keys.min(by: { id &- $0 > id &- $1 }) {
                current[oldest] = nil
                jobs[oldest] = nil
                heldShares[oldest] = nil
                waiting.removeAll { $0 == oldest }
            }
            work = PoolWork(tip: work.tip, jobs: current, latest: job, staleJobIDs: work.staleJobIDs, generation: work.generation + 1, upstreamTarget: work.upstreamTarget)
            commands.append(.publish(work, [.job(job)]))
        }
        jobs[id] = Job(template: template, built: job, pooled: pooled, custom: pooled ? customJob(template, tip: tip, coinbase: job) : nil)
        if pooled {
            waiting.append(id)
            commands += advanceWaiting()
        }
        return commands
    }

    /// SetCustomMiningJob for a pooled job (token and request id filled in when it is sent).
    private func customJob(_ template: NewTemplate, tip: TemplateSetNewPrevHash, coinbase job: PoolJob) -> SetCustomMiningJob {
        SetCustomMiningJob(
            channelID: 0, requestID: 0, miningJobToken: [], version: template.version, prevHash: tip.prevHash, minNtime: tip.headerTimestamp,
            nbits: tip.nBits, coinbaseTxVersion: template.coinbaseTxVersion, coinbasePrefix: template.coinbasePrefix,
            coinbaseTxInputNSequence: template.coinbaseTxInputSequence, coinbaseTxOutputs: Self.outputsField(of: job),
            coinbaseTxLocktime: template.coinbaseTxLocktime, merklePath: template.merklePath)
    }

    /// The outputs of a job's coinbase as SetCustomMiningJob carries them (between the input's sequence and the
    /// lock time of its suffix).
    private static func outputsField(of job: PoolJob) -> [UInt8] {
        let suffix = job.coinbase.suffix
        return Array(suffix[4..<(suffix.count - 4)])
    }

    /// Sends what can be sent of the waiting jobs: each needs a token and, in full-template mode, its template's
    /// transactions.
    private mutating func advanceWaiting() -> [Command] {
        var commands = [Command]()
        var still = [UInt32]()
        for id in waiting {
            guard let job = jobs[id], job.pooled, let custom = job.custom else { continue }
            if configuration.mode == .fullTemplate, transactions[job.template.templateID] == nil {
                if transactionsAsked.insert(job.template.templateID).inserted {
                    commands.append(.requestTransactions(templateID: job.template.templateID))
                }
                still.append(id)
                continue
            }
            guard !tokens.isEmpty else {
                still.append(id)
                continue
            }
            let token = tokens.removeFirst()
            if configuration.mode == .fullTemplate, let list = transactions[job.template.templateID] {
                guard let declaration = declaration(job, custom: custom, token: token, transactions: list) else {
                    commands.append(.log(SessionLog(.error, "template \(job.template.templateID)'s transactions do not parse: job \(id) not declared")))
                    continue
                }
                declarations[declaration.requestID] = id
                commands.append(.declare(declaration, transactions: list))
            } else {
                var custom = custom
                custom.miningJobToken = token
                custom.requestID = newRequestID()
                customRequests[custom.requestID] = id
                jobs[id]?.sent = custom
                commands.append(.setCustomJob(custom))
            }
        }
        waiting = still
        // One token in hand ahead of the next job.
        let wanted = still.count + 1 - tokens.count - tokensAsked
        if declaratorReady, wanted > 0 {
            tokensAsked += wanted
            commands += [Command](repeating: .allocateToken, count: wanted)
        }
        return commands
    }

    /// DeclareMiningJob for a job: its coinbase up to the full extranonce (the pool channel's prefix, the padding and
    /// the devices' bytes) and after it, BIP141 fields kept (spec 6.4.4), and its transactions' wtxids; nil when a
    /// transaction does not parse.
    private mutating func declaration(_ job: Job, custom: SetCustomMiningJob, token: [UInt8], transactions list: [[UInt8]]) -> DeclareMiningJob? {
        guard let channel else { return nil }
        var wtxids = [U256]()
        for bytes in list {
            guard let transaction = try? Transaction(bytes: bytes) else { return nil }
            wtxids.append(transaction.wtxid)
        }
        let (prefix, suffix) = job.built.blockCoinbaseSplit(held: channel.extranoncePrefix.count + channel.extranonceSize - configuration.extranonceSize)
        return DeclareMiningJob(
            requestID: newRequestID(), miningJobToken: token, version: job.template.version, coinbaseTxPrefix: prefix, coinbaseTxSuffix: suffix,
            wtxidList: wtxids, excessData: [])
    }

    private mutating func newRequestID() -> UInt32 {
        defer { nextRequestID &+= 1 }
        return nextRequestID
    }

    /// A template's transactions could not be had: its waiting jobs stay the devices' only.
    private mutating func dropWaiting(templateID: UInt64, _ reason: String) -> [Command] {
        waiting.removeAll { jobs[$0]?.template.templateID == templateID }
        return [.log(SessionLog(.warning, "\(reason): its jobs are not set on the pool"))]
    }

    /// Pool or solo changed: the current template is mined anew (clean jobs) the other way.
    private mutating func modeChanged(from wasPooled: Bool, reason: String) -> [Command] {
        guard isPooled != wasPooled else { return [] }
        let line: SessionLog = isPooled
            ? SessionLog(.info, "mining for the pool: \(reason)")
            : SessionLog(.warning, "mining solo to the coinbase reward script: \(reason)")
        guard let latest else { return [.log(line)] }
        return [.log(line)] + newJob(latest, newTip: true)
    }
}
