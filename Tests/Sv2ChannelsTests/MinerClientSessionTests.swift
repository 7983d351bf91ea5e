import Bitcoin
import Sv2Binary
import Sv2Channels
import Sv2Crypto
import Sv2Messages
import Sv2TestSupport
import Testing

/// The miner's sans-IO session: scripted exchanges with a pool, checked against SRI's share vectors and against
/// merkle roots computed from whole blocks.
@Suite("Miner client session")
struct MinerClientSessionTests {
    static let prevHash = U256(w0: 1, w1: 2, w2: 3, w3: 4)
    static let regtestBits: UInt32 = 0x207f_ffff
    /// 1 in 16 hashes meets it (and no hash meets the zero network target of nBits 0).
    static let easyTarget = U256(w0: .max, w1: .max, w2: .max, w3: 0x0fff_ffff_ffff_ffff)

    static func configuration(_ kind: MiningChannelKind, channels: Int = 1, standardJobs: Bool = false) -> MinerSessionConfiguration {
        MinerSessionConfiguration(
            userIdentity: "tester.worker", channelKind: kind, channelCount: channels, requiresStandardJobs: standardJobs,
            nominalHashRate: 3e6, minimumExtranonceSize: 4, endpointHost: "pool.example", endpointPort: 3333)
    }

    /// A session past SetupConnection.Success (with `flags`), its channel opens returned.
    static func setUp(_ configuration: MinerSessionConfiguration, flags: UInt32 = 0) -> (MinerClientSession, [MinerClientSession.Action]) {
        var session = MinerClientSession(configuration: configuration)
        _ = session.start(now: 0)
        let actions = session.receive(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: flags)), now: 0)
        return (session, actions)
    }

    static func sent(_ actions: [MinerClientSession.Action]) -> [Sv2Message] {
        actions.compactMap { if case let .send(message) = $0 { return message.message } else { return nil } }
    }

    static func works(_ actions: [MinerClientSession.Action]) -> [Int: MiningWork?] {
        var works = [Int: MiningWork?]()
        for case let .effect(.setWork(lane, work)) in actions { works[lane] = work }
        return works
    }

    static func events(_ actions: [MinerClientSession.Action]) -> [MinerSessionEvent] {
        actions.compactMap { if case let .effect(.event(event)) = $0 { return event } else { return nil } }
    }

    static func ignoredCount(_ actions: [MinerClientSession.Action]) -> Int {
        events(actions).filter { if case .ignored = $0 { return true } else { return false } }.count
    }

    /// SHA256d folded over `path` the way spec 5.3.16 writes it, with libsodium's SHA-256 directly.
    static func specRoot(coinbase: [UInt8], path: [U256]) -> U256 {
        var root = Sv2Hash.sha256d(coinbase)
        for step in path { root = Sv2Hash.sha256d(root + step.littleEndianBytes) }
        return U256(littleEndianBytes: root) ?? .zero
    }

    /// The first nonce from 0 whose header meets (or, with `meets` false, misses) `target`.
    static func nonce(_ header: BlockHeader, target: U256, meets: Bool = true) -> UInt32 {
        var header = header
        while (header.hash <= target) != meets { header.nonce += 1 }
        return header.nonce
    }

    @Test("setup, open, future job, prevhash: found shares become SubmitSharesExtended with rising sequence numbers")
    func extendedExchange() throws {
        var session = MinerClientSession(configuration: Self.configuration(.extended))
        let start = session.start(now: 0)
        guard case let .setupConnection(setup)? = Self.sent(start).first else { Issue.record("no SetupConnection"); return }
        #expect(setup.protocol == 0 && setup.minVersion == 2 && setup.maxVersion == 2 && setup.flags == 0)
        #expect(setup.endpointHost == "pool.example" && setup.endpointPort == 3333)

        let opens = session.receive(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)), now: 0)
        guard case let .openExtendedMiningChannel(open)? = Self.sent(opens).first else { Issue.record("no open"); return }
        #expect(open.userIdentity == "tester.worker" && open.maxTarget == .max && open.minExtranonceSize == 4)
        #expect(open.nominalHashRate == 3e6)

        let opened = session.receive(.openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
            requestID: open.requestID, channelID: 7, target: Self.easyTarget, extranonceSize: 4,
            extranoncePrefix: [0xaa, 0xbb], groupChannelID: 100)), now: 0)
        #expect(Self.events(opened) == [.channelOpened(
            lane: 0, channelID: 7, kind: .extended, target: Self.easyTarget, extranoncePrefix: [0xaa, 0xbb],
            extranonceSize: 4, groupChannelID: 100)])
        #expect(session.openChannels == [0: 7])

        let path = [U256(w0: 9, w1: 9, w2: 9, w3: 9), U256(w0: 8, w1: 8, w2: 8, w3: 8)]
        let prefix: [UInt8] = [1, 2, 3, 4, 5]
        let suffix: [UInt8] = [6, 7, 8]
        #expect(session.receive(.newExtendedMiningJob(NewExtendedMiningJob(
            channelID: 7, jobID: 11, minNtime: nil, version: 0x2000_0000, versionRollingAllowed: true, merklePath: path,
            coinbaseTxPrefix: prefix, coinbaseTxSuffix: suffix)), now: 0).isEmpty)
        let activated = session.receive(.setNewPrevHash(SetNewPrevHash(
            channelID: 7, jobID: 11, prevHash: Self.prevHash, minNtime: 1_700_000_000, nbits: 0)), now: 0)
        #expect(Self.events(activated).first == .newPrevHash(Self.prevHash, nbits: 0))
        let work = try #require(Self.works(activated)[0] ?? nil)
        #expect(work.version == 0x2000_0000 && work.versionRollingMask == 0x1fff_e000)
        #expect(work.previousBlockHash == Self.prevHash && work.time == 1_700_000_000 && work.target == Self.easyTarget)
        #expect(work.merkleRoot == .coinbase(CoinbaseTemplate(
            prefix: prefix + [0xaa, 0xbb], extranonceSize: 4, suffix: suffix, merklePath: path)))

        for sequence in UInt32(0)..<2 {
            let extranonce: [UInt8] = [0, 0, 0, UInt8(sequence + 1)]
            let version: UInt32 = 0x2000_0000 | (sequence << 13)
            var header = BlockHeader(
                version: version, previousBlockHash: Self.prevHash,
                merkleRoot: Self.specRoot(coinbase: prefix + [0xaa, 0xbb] + extranonce + suffix, path: path),
                time: 1_700_000_001, bits: 0, nonce: 0)
            header.nonce = Self.nonce(header, target: Self.easyTarget)
            let share = FoundShare(workID: work.id, nonce: header.nonce, time: header.time, version: version, extranonce: extranonce)
            #expect(session.submit(share, lane: 0) == [.send(.submitSharesExtended(SubmitSharesExtended(
                channelID: 7, sequenceNumber: sequence, jobID: 11, nonce: header.nonce, ntime: 1_700_000_001,
                version: version, extranonce: extranonce)))])
        }
        // A hash above the target is not sent.
        var above = BlockHeader(
            version: 0x2000_0000, previousBlockHash: Self.prevHash,
            merkleRoot: Self.specRoot(coinbase: prefix + [0xaa, 0xbb, 0, 0, 0, 9] + suffix, path: path),
            time: 1_700_000_000, bits: 0, nonce: 0)
        above.nonce = Self.nonce(above, target: Self.easyTarget, meets: false)
        #expect(session.submit(FoundShare(
            workID: work.id, nonce: above.nonce, time: above.time, version: above.version, extranonce: [0, 0, 0, 9]), lane: 0).isEmpty)

        _ = session.receive(.submitSharesSuccess(SubmitSharesSuccess(
            channelID: 7, lastSequenceNumber: 1, newSubmitsAcceptedCount: 2, newSharesSum: 2)), now: 0)
        _ = session.receive(.submitSharesError(SubmitSharesError(channelID: 7, sequenceNumber: 1, errorCode: "duplicate-share")), now: 0)
        #expect(session.statistics.submitted == 2 && session.statistics.accepted == 2)
        #expect(session.statistics.rejected == 1 && session.statistics.discarded == 1)
    }

    @Test("SRI's share vectors: the session submits exactly the share, and a block even above the channel target")
    func sriShareVectors() throws {
        let vectors = try loadJSON("coinbase_merkle_share_vectors.json")["shares"] as? [[String: Any]] ?? []
        #expect(vectors.count == 4)
        for vector in vectors {
            let name = vector["name"] as? String ?? "?"
            let channelInfo = vector["channel"] as? [String: Any] ?? [:]
            let kind: MiningChannelKind = channelInfo["type"] as? String == "standard" ? .standard : .extended
            let extranoncePrefix = hex(channelInfo["extranonce_prefix_hex"] as? String ?? "")
            let targetText = (channelInfo["channel_target_be_hex"] ?? vector["channel_target_be_hex"]) as? String
            let target = targetText.flatMap { U256(displayHex: $0) } ?? .zero
            let tip = vector["chain_tip"] as? [String: Any] ?? [:]
            let prevHash = try #require(U256(hex: tip["prev_hash_u256_wire_hex"] as? String ?? ""))
            let nbits = UInt32(tip["nbits"] as? Int ?? 0)
            let share = vector["share"] as? [String: Any] ?? [:]
            let ntime = UInt32(share["ntime"] as? Int ?? 0)
            let nonce = UInt32(share["nonce"] as? Int ?? 0)
            let version = UInt32(share["version"] as? Int ?? 0)
            let computed = vector["computed"] as? [String: Any] ?? [:]
            let expectedHash = (vector["expected_hash_be_hex (literal, from test comment)"] ?? vector["computed_hash_be_hex"]) as? String
            let isBlock = vector["expected_result"] as? String == "BlockFound"

            // Standard channels get the job through their group; the split around the extranonce prefix is ours.
            let prefix: [UInt8]
            let suffix: [UInt8]
            if kind == .extended {
                prefix = hex(computed["coinbase_tx_prefix_stripped_hex"] as? String ?? "")
                suffix = hex(computed["coinbase_tx_suffix_stripped_hex"] as? String ?? "")
            } else {
                let coinbase = hex(computed["coinbase_no_witness_hex"] as? String ?? "")
                let start = try #require((0...(coinbase.count - extranoncePrefix.count)).first {
                    Array(coinbase[$0..<($0 + extranoncePrefix.count)]) == extranoncePrefix
                })
                prefix = Array(coinbase[..<start])
                suffix = Array(coinbase[(start + extranoncePrefix.count)...])
            }

            var (session, opens) = Self.setUp(Self.configuration(kind))
            #expect(Self.sent(opens).count == 1)
            let opened: [MinerClientSession.Action]
            if kind == .extended {
                opened = session.receive(.openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
                    requestID: 0, channelID: 1, target: target, extranonceSize: 8, extranoncePrefix: extranoncePrefix,
                    groupChannelID: 2)), now: 0)
            } else {
                opened = session.receive(.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
                    requestID: 0, channelID: 1, target: target, extranoncePrefix: extranoncePrefix, groupChannelID: 2)), now: 0)
            }
            #expect(Self.ignoredCount(opened) == 0, "\(name)")
            _ = session.receive(.newExtendedMiningJob(NewExtendedMiningJob(
                channelID: kind == .extended ? 1 : 2, jobID: 1, minNtime: nil, version: version, versionRollingAllowed: true,
                merklePath: [], coinbaseTxPrefix: prefix, coinbaseTxSuffix: suffix)), now: 0)
            let activated = session.receive(.setNewPrevHash(SetNewPrevHash(
                channelID: 2, jobID: 1, prevHash: prevHash, minNtime: ntime, nbits: nbits)), now: 0)
            let work = try #require(Self.works(activated)[0] ?? nil, "\(name)")
            if kind == .standard, let root = vector["merkle_root_internal_hex"] as? String {
                #expect(work.merkleRoot == .fixed(try #require(U256(hex: root))), "\(name): merkle root derived for the channel")
            }
            let extranonce = kind == .extended ? hex(share["extranonce"] as? String ?? "") : []
            let actions = session.submit(
                FoundShare(workID: work.id, nonce: nonce, time: ntime, version: version, extranonce: extranonce), lane: 0)
            let message: Sv2Message = kind == .extended
                ? .submitSharesExtended(SubmitSharesExtended(
                    channelID: 1, sequenceNumber: 0, jobID: 1, nonce: nonce, ntime: ntime, version: version, extranonce: extranonce))
                : .submitSharesStandard(SubmitSharesStandard(
                    channelID: 1, sequenceNumber: 0, jobID: 1, nonce: nonce, ntime: ntime, version: version))
            #expect(Self.sent(actions) == [message], "\(name)")
            let blocks = Self.events(actions).compactMap { if case let .blockFound(_, hash) = $0 { return hash } else { return nil } }
            #expect(blocks.count == (isBlock ? 1 : 0), "\(name)")
            if isBlock {
                #expect(blocks.first?.displayHex == expectedHash, "\(name)")
                // The lane stops after its block: later shares on this prevhash are dropped; without new work it
                // resumes after two ticks, one second later in ntime.
                #expect(Self.works(actions)[0] == .some(nil), "\(name): the lane stops after its block")
                let later = session.submit(FoundShare(workID: work.id, nonce: nonce &+ 1, time: ntime, version: version, extranonce: extranonce), lane: 0)
                #expect(Self.sent(later).isEmpty, "\(name): a share while stopped")
                #expect(Self.works(session.tick(now: 1)).isEmpty)
                let resumed = try #require(Self.works(session.tick(now: 2))[0] ?? nil, "\(name): resumed")
                #expect(resumed.id != work.id && resumed.time == work.time + 1 && resumed.previousBlockHash == work.previousBlockHash)
            }
            let header = try #require(work.header(for: FoundShare(
                workID: work.id, nonce: nonce, time: ntime, version: version, extranonce: extranonce)))
            #expect(header.hash.displayHex == expectedHash, "\(name)")
        }
    }

    /// A segwit-less coinbase for a block at `height` whose scriptSig carries `extranonce` at a fixed place, split
    /// around it; and the merkle root of the whole block with `others`.
    static func block(extranonce: [UInt8], others: [U256]) -> (prefix: [UInt8], suffix: [UInt8], root: U256) {
        let head: [UInt8] = [0x03, 0x2a, 0x01, 0x00]
        let coinbase = Transaction(
            version: 2,
            inputs: [TransactionInput(previousOutput: .null, scriptSig: head + extranonce + [0x51], sequence: 0xffff_fffe)],
            outputs: [TransactionOutput(value: 50_0000_0000, scriptPubKey: [0x51])], lockTime: 0)
        let bytes = coinbase.serialized(includingWitness: false)
        // version (4), input count (1), outpoint (36), scriptSig length (1), the height push.
        let start = 4 + 1 + 36 + 1 + head.count
        return (Array(bytes[..<start]), Array(bytes[(start + extranonce.count)...]), Merkle.root([coinbase.txid] + others))
    }

    @Test("a group job gives every standard member its own merkle root, and every extended member its coinbase")
    func groupJobs() throws {
        let others = (1...5).map { U256(w0: UInt64($0), w1: 0xdead, w2: UInt64($0) * 7, w3: 0xbeef) }
        let path = Merkle.coinbasePath(transactionIDs: others)
        let template = Self.block(extranonce: [UInt8](repeating: 0, count: 8), others: others)

        var (standard, _) = Self.setUp(Self.configuration(.standard, channels: 3))
        let prefixes: [[UInt8]] = [[0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 2], [0, 0, 0, 0, 0, 0, 1, 0]]
        for (lane, prefix) in prefixes.enumerated() {
            _ = standard.receive(.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
                requestID: UInt32(lane), channelID: UInt32(10 + lane), target: Self.easyTarget, extranoncePrefix: prefix,
                groupChannelID: 50)), now: 0)
        }
        #expect(standard.openChannels == [0: 10, 1: 11, 2: 12])
        _ = standard.receive(.newExtendedMiningJob(NewExtendedMiningJob(
            channelID: 50, jobID: 3, minNtime: nil, version: 0x2000_0000, versionRollingAllowed: false, merklePath: path,
            coinbaseTxPrefix: template.prefix, coinbaseTxSuffix: template.suffix)), now: 0)
        let activated = standard.receive(.setNewPrevHash(SetNewPrevHash(
            channelID: 50, jobID: 3, prevHash: Self.prevHash, minNtime: 1_700_000_000, nbits: Self.regtestBits)), now: 0)
        #expect(Self.events(activated).count == 1)
        let works = Self.works(activated)
        #expect(works.count == 3)
        for (lane, prefix) in prefixes.enumerated() {
            let work = try #require(works[lane] ?? nil)
            #expect(work.merkleRoot == .fixed(Self.block(extranonce: prefix, others: others).root), "lane \(lane)")
            #expect(work.versionRollingMask == 0)
        }
        #expect(Set(works.values.compactMap { $0?.id }).count == 3)

        // Extended members: prefix [7, 7] from the pool, 6 bytes of their own.
        var (extended, _) = Self.setUp(Self.configuration(.extended, channels: 2))
        for lane in 0..<2 {
            _ = extended.receive(.openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
                requestID: UInt32(lane), channelID: UInt32(20 + lane), target: Self.easyTarget, extranonceSize: 6,
                extranoncePrefix: [7, UInt8(lane)], groupChannelID: 60)), now: 0)
        }
        _ = extended.receive(.setNewPrevHash(SetNewPrevHash(
            channelID: 60, jobID: 1, prevHash: Self.prevHash, minNtime: 1_700_000_000, nbits: Self.regtestBits)), now: 0)
        let current = extended.receive(.newExtendedMiningJob(NewExtendedMiningJob(
            channelID: 60, jobID: 4, minNtime: 1_700_000_005, version: 0x2000_0000, versionRollingAllowed: true,
            merklePath: path, coinbaseTxPrefix: template.prefix, coinbaseTxSuffix: template.suffix)), now: 0)
        for lane in 0..<2 {
            let work = try #require(Self.works(current)[lane] ?? nil)
            #expect(work.time == 1_700_000_005)
            let own: [UInt8] = [1, 2, 3, 4, 5, UInt8(lane)]
            #expect(work.merkleRoot.root(extranonce: own) == Self.block(extranonce: [7, UInt8(lane)] + own, others: others).root)
            #expect(work.merkleRoot.root(extranonce: [1, 2, 3]) == nil)
        }
    }

    @Test("standard channel: NewMiningJob, REQUIRES_STANDARD_JOBS, REQUIRES_FIXED_VERSION and SubmitSharesStandard")
    func standardChannel() throws {
        var session = MinerClientSession(configuration: Self.configuration(.standard, standardJobs: true))
        guard case let .setupConnection(setup)? = Self.sent(session.start(now: 0)).first else { Issue.record("no setup"); return }
        #expect(setup.flags == MinerClientSession.requiresStandardJobsFlag)
        let opens = session.receive(.setupConnectionSuccess(SetupConnectionSuccess(
            usedVersion: 2, flags: MinerClientSession.requiresFixedVersionFlag)), now: 0)
        guard case .openStandardMiningChannel? = Self.sent(opens).first else { Issue.record("no open"); return }
        _ = session.receive(.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
            requestID: 0, channelID: 3, target: Self.easyTarget, extranoncePrefix: [], groupChannelID: 0)), now: 0)
        let root = U256(w0: 5, w1: 6, w2: 7, w3: 8)
        // An active job before any prevhash cannot be mined.
        let early = session.receive(.newMiningJob(NewMiningJob(channelID: 3, jobID: 1, minNtime: 5, version: 0x2000_0000, merkleRoot: root)), now: 0)
        #expect(Self.ignoredCount(early) == 1 && Self.works(early).isEmpty)
        _ = session.receive(.newMiningJob(NewMiningJob(channelID: 3, jobID: 2, minNtime: nil, version: 0x2000_0000, merkleRoot: root)), now: 0)
        let activated = session.receive(.setNewPrevHash(SetNewPrevHash(
            channelID: 3, jobID: 2, prevHash: Self.prevHash, minNtime: 1_700_000_000, nbits: Self.regtestBits)), now: 0)
        let work = try #require(Self.works(activated)[0] ?? nil)
        #expect(work.merkleRoot == .fixed(root) && work.versionRollingMask == 0 && work.bits == Self.regtestBits)
        var header = BlockHeader(
            version: 0x2000_0000, previousBlockHash: Self.prevHash, merkleRoot: root, time: 1_700_000_000,
            bits: Self.regtestBits, nonce: 0)
        header.nonce = Self.nonce(header, target: Self.easyTarget)
        let share = FoundShare(workID: work.id, nonce: header.nonce, time: header.time, version: header.version, extranonce: [])
        let actions = session.submit(share, lane: 0)
        #expect(Self.sent(actions) == [.submitSharesStandard(SubmitSharesStandard(
            channelID: 3, sequenceNumber: 0, jobID: 2, nonce: header.nonce, ntime: header.time, version: header.version))])
        // Rolled version bits are refused under REQUIRES_FIXED_VERSION (engine error, not sent).
        var rolled = share
        rolled.version |= 1 << 13
        #expect(Self.sent(session.submit(rolled, lane: 0)).isEmpty)
        // A new active job on the same prevhash: new work at its min_ntime; the old job's shares still go out.
        let next = session.receive(.newMiningJob(NewMiningJob(
            channelID: 3, jobID: 9, minNtime: 1_700_000_030, version: 0x2000_0000, merkleRoot: U256(w0: 1, w1: 1, w2: 1, w3: 1))), now: 0)
        #expect((Self.works(next)[0] ?? nil)?.time == 1_700_000_030)
        #expect(Self.sent(session.submit(share, lane: 0)).count == 1)
    }

    @Test("SetTarget: a harder target applies to the active job at once, an easier one only to jobs to come (spec 5.3.21)")
    func setTarget() throws {
        var (session, _) = Self.setUp(Self.configuration(.standard, channels: 2))
        for lane in 0..<2 {
            _ = session.receive(.openStandardMiningChannelSuccess(OpenStandardMiningChannelSuccess(
                requestID: UInt32(lane), channelID: UInt32(1 + lane), target: .max, extranoncePrefix: [UInt8(lane)],
                groupChannelID: 9)), now: 0)
        }
        let root = U256(w0: 42, w1: 0, w2: 0, w3: 0)
        _ = session.receive(.newMiningJob(NewMiningJob(channelID: 1, jobID: 1, minNtime: nil, version: 0x2000_0000, merkleRoot: root)), now: 0)
        let activated = session.receive(.setNewPrevHash(SetNewPrevHash(
            channelID: 1, jobID: 1, prevHash: Self.prevHash, minNtime: 1_700_000_000, nbits: 0)), now: 0)
        let work = try #require(Self.works(activated)[0] ?? nil)
        #expect(Self.works(activated)[1] == nil)

        let retargeted = session.receive(.setTarget(SetTarget(channelID: 1, maximumTarget: Self.easyTarget)), now: 0)
        let newWork = try #require(Self.works(retargeted)[0] ?? nil)
        #expect(newWork.id == work.id && newWork.target == Self.easyTarget && newWork.hasSameSearchSpace(as: work))
        #expect(Self.events(retargeted).contains(.targetChanged(channelID: 1, target: Self.easyTarget)))

        var header = BlockHeader(
            version: 0x2000_0000, previousBlockHash: Self.prevHash, merkleRoot: root, time: 1_700_000_000, bits: 0, nonce: 0)
        header.nonce = Self.nonce(header, target: Self.easyTarget, meets: false)
        let share = FoundShare(workID: work.id, nonce: header.nonce, time: header.time, version: header.version, extranonce: [])
        #expect(session.submit(share, lane: 0).isEmpty)
        #expect(session.statistics.discarded == 1)

        // To the group, an easier target: both channels change, but the active job keeps its harder one (spec 5.3.21:
        // SetTarget is not for jobs already active), so no new work and the share is still dropped.
        let group = session.receive(.setTarget(SetTarget(channelID: 9, maximumTarget: .max)), now: 0)
        #expect(Self.events(group).count == 2 && Self.works(group).isEmpty)
        #expect(Self.sent(session.submit(share, lane: 0)).isEmpty)
        #expect(session.statistics.discarded == 2)
        // The next job comes with the new target, and the same nonce is a share of it.
        let next = session.receive(.newMiningJob(NewMiningJob(channelID: 1, jobID: 2, minNtime: 1_700_000_000, version: 0x2000_0000, merkleRoot: root)), now: 0)
        let nextWork = try #require(Self.works(next)[0] ?? nil)
        #expect(nextWork.target == .max)
        let nextShare = FoundShare(workID: nextWork.id, nonce: header.nonce, time: header.time, version: header.version, extranonce: [])
        #expect(Self.sent(session.submit(nextShare, lane: 0)).count == 1)
        #expect(Self.ignoredCount(session.receive(.setTarget(SetTarget(channelID: 77, maximumTarget: .max)), now: 0)) == 1)
    }

    @Test("Reconnect: empty host and port 0 keep the present ones; the session is over")
    func reconnect() {
        var (session, _) = Self.setUp(Self.configuration(.extended))
        #expect(session.receive(.reconnect(Reconnect(newHost: "", newPort: 0)), now: 0) == [.reconnect(host: "pool.example", port: 3333)])
        #expect(!session.isSetUp)
        #expect(session.receive(.setTarget(SetTarget(channelID: 1, maximumTarget: .max)), now: 0).isEmpty)

        var other = MinerClientSession(configuration: Self.configuration(.extended))
        _ = other.start(now: 0)
        #expect(other.receive(.reconnect(Reconnect(newHost: "pool2.example", newPort: 4444)), now: 0) == [.reconnect(host: "pool2.example", port: 4444)])
        var portOnly = MinerClientSession(configuration: Self.configuration(.extended))
        _ = portOnly.start(now: 0)
        #expect(portOnly.receive(.reconnect(Reconnect(newHost: "", newPort: 4000)), now: 0) == [.reconnect(host: "pool.example", port: 4000)])
    }

    @Test("errors: refused channels, refused setup, unknown channels and jobs, stale shares, closed channels")
    func errors() throws {
        // The only channel refused: nothing to mine.
        var (lone, _) = Self.setUp(Self.configuration(.extended))
        let refused = lone.receive(.openMiningChannelError(OpenMiningChannelError(requestID: 0, errorCode: "unknown-user")), now: 0)
        #expect(refused == [.event(.channelRefused(lane: 0, reason: "unknown-user")), .fail("no mining channel could be opened")])

        // One of two refused: mining goes on.
        var (pair, _) = Self.setUp(Self.configuration(.extended, channels: 2))
        #expect(pair.receive(.openMiningChannelError(OpenMiningChannelError(requestID: 1, errorCode: "max-channels")), now: 0) ==
            [.event(.channelRefused(lane: 1, reason: "max-channels"))])
        _ = pair.receive(.openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
            requestID: 0, channelID: 5, target: .max, extranonceSize: 4, extranoncePrefix: [], groupChannelID: 6)), now: 0)
        #expect(pair.openChannels == [0: 5])
        #expect(Self.ignoredCount(pair.receive(.openMiningChannelError(OpenMiningChannelError(requestID: 0, errorCode: "late")), now: 0)) == 1)

        // SetupConnection.Error.
        var setupRefused = MinerClientSession(configuration: Self.configuration(.standard))
        _ = setupRefused.start(now: 0)
        #expect(setupRefused.receive(.setupConnectionError(SetupConnectionError(flags: 0, errorCode: "unsupported-protocol")), now: 0) ==
            [.effect(.fail("the pool refused SetupConnection: unsupported-protocol"))])
        // A standard miner told that only extended channels are accepted.
        let (_, extendedOnly) = Self.setUp(Self.configuration(.standard), flags: MinerClientSession.requiresExtendedChannelsFlag)
        guard case .effect(.fail)? = extendedOnly.first else { Issue.record("expected a failure"); return }

        // Unknown channel ids, wrong message kinds, unexpected messages: ignored, nothing else.
        let unexpected: [Sv2Message] = [
            .newMiningJob(NewMiningJob(channelID: 5, jobID: 1, minNtime: nil, version: 2, merkleRoot: .zero)),
            .newMiningJob(NewMiningJob(channelID: 99, jobID: 1, minNtime: nil, version: 2, merkleRoot: .zero)),
            .newExtendedMiningJob(NewExtendedMiningJob(
                channelID: 99, jobID: 1, minNtime: nil, version: 2, versionRollingAllowed: true, merklePath: [],
                coinbaseTxPrefix: [], coinbaseTxSuffix: [])),
            .setNewPrevHash(SetNewPrevHash(channelID: 99, jobID: 1, prevHash: .zero, minNtime: 0, nbits: 0)),
            .setExtranoncePrefix(SetExtranoncePrefix(channelID: 99, extranoncePrefix: [1])),
            .setGroupChannel(SetGroupChannel(groupChannelID: 7, channelIDs: [5, 99])),
            .submitSharesSuccess(SubmitSharesSuccess(channelID: 99, lastSequenceNumber: 0, newSubmitsAcceptedCount: 1, newSharesSum: 1)),
            .submitSharesError(SubmitSharesError(channelID: 99, sequenceNumber: 0, errorCode: "x")),
            .closeChannel(CloseChannel(channelID: 99, reasonCode: "x")),
            .setupConnection(SetupConnection()),
            .openStandardMiningChannel(OpenStandardMiningChannel()),
        ]
        for message in unexpected {
            let actions = pair.receive(message, now: 0)
            #expect(actions.allSatisfy { if case .effect(.event(.ignored)) = $0 { return true } else { return false } }, "\(message.name)")
            #expect(Self.ignoredCount(actions) == 1, "\(message.name)")
        }
        #expect(pair.statistics == MinerStatistics())

        // A prevhash naming no future job idles the lane; shares of the old work are then stale.
        _ = pair.receive(.newExtendedMiningJob(NewExtendedMiningJob(
            channelID: 7, jobID: 1, minNtime: nil, version: 0x2000_0000, versionRollingAllowed: true, merklePath: [],
            coinbaseTxPrefix: [1], coinbaseTxSuffix: [2])), now: 0)
        let activated = pair.receive(.setNewPrevHash(SetNewPrevHash(channelID: 7, jobID: 1, prevHash: Self.prevHash, minNtime: 1, nbits: 0)), now: 0)
        let work = try #require(Self.works(activated)[0] ?? nil)
        let unknownJob = pair.receive(.setNewPrevHash(SetNewPrevHash(channelID: 5, jobID: 42, prevHash: .max, minNtime: 2, nbits: 0)), now: 0)
        #expect(Self.works(unknownJob)[0] == .some(nil) && Self.ignoredCount(unknownJob) == 1)
        #expect(pair.submit(FoundShare(workID: work.id, nonce: 0, time: 1, version: 0x2000_0000, extranonce: [0, 0, 0, 0]), lane: 0).isEmpty)
        #expect(pair.submit(FoundShare(workID: work.id, nonce: 0, time: 1, version: 0x2000_0000, extranonce: [0, 0, 0, 0]), lane: 3).isEmpty)
        #expect(pair.statistics.discarded == 2)

        // The pool closes the last channel (through its group): the connection is closed for a reconnect.
        let closed = pair.receive(.closeChannel(CloseChannel(channelID: 7, reasonCode: "maintenance")), now: 0)
        #expect(closed == [
            .setWork(lane: 0, nil), .event(.channelClosed(lane: 0, channelID: 5, reason: "maintenance")),
            .close("the pool closed every channel"),
        ])
    }

    @Test("shutdown closes every open channel; messages before setup are ignored; extranonce sizes over 32 are refused")
    func lifecycle() {
        var session = MinerClientSession(configuration: Self.configuration(.extended, channels: 2))
        #expect(session.receive(.setTarget(SetTarget(channelID: 1, maximumTarget: .max)), now: 0).isEmpty)
        _ = session.start(now: 0)
        #expect(Self.ignoredCount(session.receive(.setTarget(SetTarget(channelID: 1, maximumTarget: .max)), now: 0)) == 1)
        _ = session.receive(.setupConnectionSuccess(SetupConnectionSuccess(usedVersion: 2, flags: 0)), now: 0)
        _ = session.receive(.openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
            requestID: 0, channelID: 4, target: .max, extranonceSize: 4, extranoncePrefix: [], groupChannelID: 1)), now: 0)
        let huge = session.receive(.openExtendedMiningChannelSuccess(OpenExtendedMiningChannelSuccess(
            requestID: 1, channelID: 8, target: .max, extranonceSize: 33, extranoncePrefix: [], groupChannelID: 1)), now: 0)
        #expect(Self.sent(huge) == [.closeChannel(CloseChannel(channelID: 8, reasonCode: "extranonce-size-too-large"))])
        #expect(session.openChannels == [0: 4])
        #expect(session.close() == [.send(.closeChannel(CloseChannel(channelID: 4, reasonCode: "shutdown")))])
        #expect(session.receive(.setTarget(SetTarget(channelID: 4, maximumTarget: .max)), now: 0).isEmpty)
    }
}
