import Sv1
import Sv2Binary
import Sv2Sessions
import Sv2Formats

/// The miner's side of one Stratum V1 connection as a ``MinerSession``: lines in, actions out.
///
/// ``start(now:)`` pipelines mining.configure (BIP310 version rolling, unless the configured mask is 0),
/// mining.subscribe and mining.authorize, as firmware does; answers may come in any order. Jobs (mining.notify)
/// become ``MiningWork`` for lane 0 at once: a ``CoinbaseTemplate`` with prefix coinb1 + extranonce1, the
/// extranonce2 size as the rolled extranonce, coinb2 as suffix and the merkle branch as path; the version may be
/// rolled within the negotiated mask only. clean_jobs also voids the shares of older jobs. mining.set_difficulty
/// takes effect from the next job, except that a harder target applies at once (so no share is sent that either
/// reading would reject); mining.set_extranonce takes effect from the next job; mining.set_version_mask at once.
///
/// Shares become mining.submit `[user, job_id, extranonce2, ntime, nonce]` in hex (ntime and nonce as 8 big-endian
/// digits), plus BIP310's version_bits when version rolling was negotiated: the share's version masked with the
/// negotiated mask, so that the pool's `(job_version & ~mask) | (version_bits & mask)` is the version hashed. (Pools
/// that read the field as `version XOR job_version` get the same value whenever the job's version has no bit in
/// the mask, which is what pools send.) Answers true count as accepted, false or an error as rejected.
public struct Sv1ClientSession: MinerSession {
    /// The actions of this session.
    public typealias Action = MinerSessionAction<Sv1Message, Sv1SessionEvent>
    /// What the session reports for the log.
    public typealias Event = Sv1SessionEvent
    /// Works whose shares are still submitted (the jobs since the last clean_jobs).
    static let issuedWorkLimit = 32
    /// Requests waiting for an answer beyond which the oldest is forgotten (a pool that never answers submits).
    static let pendingRequestLimit = 1024
    /// The only lane: one Sv1 connection is one job stream.
    public static let lane = 0

    private enum Request: Sendable {
        /// `suggest`: a request whose answer changes nothing (suggest_difficulty, extranonce.subscribe).
        case configure, subscribe, authorize, suggest, submit
    }

    private enum State: Sendable {
        case idle, running, closed
    }

    /// The configuration it was made with.
    public let configuration: Sv1ClientConfiguration
    /// Share counts, continued from the previous connection's session.
    public private(set) var statistics: MinerStatistics
    /// The id the next work handed out gets.
    public private(set) var nextWorkID: UInt64
    /// The version bits the pool lets the miner roll (0 until mining.configure is answered with some).
    public private(set) var versionMask: UInt32 = 0
    /// extranonce1 and the extranonce2 size, once mining.subscribe is answered.
    public private(set) var extranonce: (extranonce1: [UInt8], extranonce2Size: Int)?

    /// True once mining.subscribe is answered (the connection is set up).
    public var isSetUp: Bool { extranonce != nil }

    private var state = State.idle
    private var nextRequestID: UInt64 = 1
    private var oldestPendingID: UInt64 = 1
    private var pending: [UInt64: Request] = [:]

    /// mining.submit requests the pool has not answered yet.
    public var unansweredShares: Int { pending.values.reduce(0) { $0 + ($1 == .submit ? 1 : 0) } }
    private var nextExtranonce: (extranonce1: [UInt8], extranonce2Size: Int)?
    /// The share target of the next job.
    private var target = MiningTarget.difficultyOne
    private var job: Sv1Job?
    private var currentWork: MiningWork?
    private var issued: [UInt64: (jobID: String, work: MiningWork)] = [:]
    private var announcedPrevHash: U256?
    /// The lane's wait after a block it found.
    private var pause = BlockPause()

    /// A session that has not sent anything yet.
    public init(configuration: Sv1ClientConfiguration, statistics: MinerStatistics = MinerStatistics(), firstWorkID: UInt64 = 1) {
        self.configuration = configuration
        self.statistics = statistics
        self.nextWorkID = firstWorkID
    }

    /// mining.configure (when a mask is configured), mining.subscribe, mining.extranonce.subscribe and
    /// mining.suggest_difficulty (when configured), and mining.authorize.
    public mutating func start(now: Timestamp) -> [Action] {
        guard case .idle = state else { return [] }
        state = .running
        var actions = [Action]()
        if configuration.versionRollingMask != 0 {
            actions.append(request(.configure, Sv1Method.configure, [
                .array([.string("version-rolling")]),
                .object([
                    ("version-rolling.mask", .string(Sv1Job.hex(configuration.versionRollingMask))),
                    ("version-rolling.min-bit-count", .number(String(configuration.minimumVersionRollingBits))),
                ]),
            ]))
        }
        actions.append(request(.subscribe, Sv1Method.subscribe, [.string(configuration.userAgent)]))
        if configuration.subscribesToExtranonce {
            actions.append(request(.suggest, Sv1Method.extranonceSubscribe, []))
        }
        // Before mining.authorize, so that the first job comes with the suggested difficulty already.
        if let difficulty = configuration.suggestedDifficulty, difficulty.isFinite, difficulty > 0 {
            actions.append(request(.suggest, Sv1Method.suggestDifficulty, [.number(Self.decimal(difficulty))]))
        }
        actions.append(request(.authorize, Sv1Method.authorize, [.string(configuration.user), .string(configuration.password)]))
        return actions
    }

    /// Handles one message from the pool.
    public mutating func receive(_ message: Sv1Message, now: Timestamp) -> [Action] {
        guard case .running = state else { return [] }
        switch message {
        case let .response(id, result, error):
            guard let number = Self.requestNumber(id), let request = pending.removeValue(forKey: number) else {
                return [.event(.ignored("an answer to unknown request \(Self.printable(id.json.text))"))]
            }
            return answered(request, id: number, result: result, error: error)
        case let .notification(method, params):
            return called(method, params, id: nil)
        case let .request(id, method, params):
            return called(method, params, id: id)
        }
    }

    /// A share the engine found: mining.submit, or nothing when its job was voided, its version bits left the
    /// mask, its hash is above both the share target in force and nBits, or the lane waits after a block.
    public mutating func submit(_ share: FoundShare, lane: Int) -> [Action] {
        guard case .running = state, lane == Self.lane, !pause.isPaused, let (jobID, work) = issued[share.workID],
              (share.version ^ work.version) & ~versionMask == 0
        else {
            statistics.discarded += 1
            return []
        }
        guard let assessment = work.assess(share, target: min(work.target, target)) else {
            statistics.discarded += 1
            return [.event(.ignored("a share that does not fit work \(share.workID) (engine error)"))]
        }
        guard assessment.isSubmittable else {
            statistics.discarded += 1
            return []
        }
        var actions = [Action]()
        if assessment.isBlock {
            statistics.blocks += 1
            actions.append(.event(.blockFound(hash: assessment.hash)))
            if pause.blockFound() { actions.append(.setWork(lane: Self.lane, nil)) }
        }
        var params: [JSONValue] = [
            .string(configuration.user), .string(jobID), .string(Hex.encode(share.extranonce)),
            .string(Sv1Job.hex(share.time)), .string(Sv1Job.hex(share.nonce)),
        ]
        if versionMask != 0 { params.append(.string(Sv1Job.hex(share.version & versionMask))) }
        statistics.submitted += 1
        actions.append(request(.submit, Sv1Method.submit, params))
        return actions
    }

    /// A lane stopped on a block (``BlockPause``) that got no new work resumes its work.
    public mutating func tick(now: Timestamp) -> [Action] {
        guard pause.tick(), let work = currentWork, let jobID = issued[work.id]?.jobID else { return [] }
        let resumed = work.resumed(id: nextWorkID)
        nextWorkID += 1
        currentWork = resumed
        issued[resumed.id] = (jobID, resumed)
        return [.setWork(lane: Self.lane, resumed)]
    }

    /// Ends the session (Stratum V1 has nothing to say on leaving).
    public mutating func close() -> [Action] {
        state = .closed
        return []
    }

    // MARK: - Requests and answers

    private mutating func request(_ kind: Request, _ method: String, _ params: [JSONValue]) -> Action {
        let id = nextRequestID
        nextRequestID += 1
        pending[id] = kind
        while pending.count > Self.pendingRequestLimit {
            pending[oldestPendingID] = nil
            oldestPendingID += 1
        }
        return .send(.request(id: .number(String(id)), method: method, params: params))
    }

    private mutating func answered(_ request: Request, id: UInt64, result: JSONValue, error: JSONValue) -> [Action] {
        let refused = error != .null || result == .bool(false) || result == .null
        switch request {
        case .configure:
            let granted = result["version-rolling"] == .bool(true)
                ? result["version-rolling.mask"]?.stringValue.flatMap(Sv1Job.uint32(hex:)) ?? 0 : 0
            versionMask = granted & configuration.versionRollingMask
            return [.event(.versionRolling(mask: versionMask))] + reissue()
        case .subscribe:
            guard !refused else {
                state = .closed
                return [.fail("the pool refused mining.subscribe: \(Self.reason(result: result, error: error))")]
            }
            guard let fields = result.arrayValue, fields.count >= 3, let extranonce1 = fields[1].stringValue.flatMap(Hex.decode),
                  let size = fields[2].int64Value, (0...32).contains(size)
            else {
                state = .closed
                return [.close("the mining.subscribe answer has no usable extranonce1 and extranonce2_size: \(Self.printable(result.text))")]
            }
            extranonce = (extranonce1, Int(size))
            var actions: [Action] = [.event(.subscribed(extranonce1: extranonce1, extranonce2Size: Int(size)))]
            if let job { actions += issue(job) }
            return actions
        case .authorize:
            guard !refused else {
                state = .closed
                return [.fail("the pool refused user '\(configuration.user)': \(Self.reason(result: result, error: error))")]
            }
            return [.event(.authorized(user: configuration.user))]
        case .suggest:
            return []
        case .submit:
            guard refused else {
                statistics.accepted &+= 1
                return [.event(.shareAccepted(requestID: id))]
            }
            statistics.rejected += 1
            return [.event(.shareRejected(requestID: id, reason: Self.reason(result: result, error: error)))]
        }
    }

    /// A method the pool calls (id nil for a notification).
    private mutating func called(_ method: String, _ params: [JSONValue], id: Sv1ID?) -> [Action] {
        switch method {
        case Sv1Method.notify:
            guard let job = Sv1Job(params: params) else { return [.event(.ignored("a malformed mining.notify"))] }
            self.job = job
            if let next = nextExtranonce {
                extranonce = next
                nextExtranonce = nil
            }
            return extranonce == nil ? [] : issue(job)
        case Sv1Method.setDifficulty:
            guard let difficulty = params.first.flatMap(Self.number), difficulty > 0, difficulty.isFinite else {
                return [.event(.ignored("mining.set_difficulty without a positive difficulty"))]
            }
            target = MiningTarget.target(difficulty: difficulty)
            var actions: [Action] = [.event(.difficultyChanged(difficulty))]
            if var work = currentWork, target < work.target {
                work.target = target
                currentWork = work
                if !pause.isPaused { actions.append(.setWork(lane: Self.lane, work)) }
            }
            return actions
        case Sv1Method.setExtranonce:
            guard let extranonce1 = params.first?.stringValue.flatMap(Hex.decode) else {
                return [.event(.ignored("mining.set_extranonce without an extranonce1"))]
            }
            let size = params.dropFirst().first.map { $0.int64Value ?? -1 } ?? Int64(extranonce?.extranonce2Size ?? -1)
            guard (0...32).contains(size) else { return [.event(.ignored("mining.set_extranonce without a usable extranonce2_size"))] }
            nextExtranonce = (extranonce1, Int(size))
            return []
        case Sv1Method.setVersionMask:
            guard let mask = params.first?.stringValue.flatMap(Sv1Job.uint32(hex:)) else {
                return [.event(.ignored("mining.set_version_mask without a mask"))]
            }
            versionMask = mask & configuration.versionRollingMask
            return [.event(.versionRolling(mask: versionMask))] + reissue()
        case "client.reconnect":
            return moved(params)
        case "client.show_message":
            return [.event(.poolMessage(Self.printable(params.first?.stringValue ?? "")))]
        case "client.get_version":
            return id.map { [.send(.response(id: $0, result: .string(configuration.userAgent), error: .null))] } ?? []
        default:
            let ignored = Action.event(.ignored("\(Self.printable(method)) is not a method a miner knows"))
            guard let id else { return [ignored] }
            return [ignored, .send(.response(id: id, result: .null, error: .array([.number("20"), .string("Method not supported"), .null])))]
        }
    }

    /// client.reconnect `[host, port, wait]`: a missing or empty host or port keeps the current one.
    private mutating func moved(_ params: [JSONValue]) -> [Action] {
        let host = params.first?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? configuration.endpointHost
        let portValue = params.dropFirst().first
        let port = portValue.flatMap { $0.int64Value ?? $0.stringValue.flatMap { Int64($0) } }.map(Int.init) ?? configuration.endpointPort
        guard (1...65535).contains(port) else { return [.event(.ignored("client.reconnect to port \(port)"))] }
        state = .closed
        return [.reconnect(host: host, port: port)]
    }

    // MARK: - Work

    /// Hands `job` to the lane as new work.
    private mutating func issue(_ job: Sv1Job) -> [Action] {
        guard let (extranonce1, extranonce2Size) = extranonce else { return [] }
        var actions = [Action]()
        if job.cleanJobs {
            issued.removeAll()
            actions.append(.event(.jobsCleaned))
        }
        if announcedPrevHash != job.prevHash {
            announcedPrevHash = job.prevHash
            actions.append(.event(.newPrevHash(job.prevHash, nbits: job.nBits)))
        }
        let work = MiningWork(
            id: nextWorkID, version: job.version, versionRollingMask: versionMask, previousBlockHash: job.prevHash,
            merkleRoot: .coinbase(CoinbaseTemplate(
                prefix: job.coinbase1 + extranonce1, extranonceSize: extranonce2Size, suffix: job.coinbase2,
                merklePath: job.merkleBranch)),
            time: job.nTime, bits: job.nBits, target: target)
        nextWorkID += 1
        currentWork = work
        pause.clear()
        issued[work.id] = (job.jobID, work)
        while issued.count > Self.issuedWorkLimit, let oldest = issued.keys.min() {
            issued[oldest] = nil
        }
        actions.append(.setWork(lane: Self.lane, work))
        return actions
    }

    /// The current job again as new work (the version mask changed).
    private mutating func reissue() -> [Action] {
        guard let job, currentWork != nil else { return [] }
        var unclean = job
        unclean.cleanJobs = false
        return issue(unclean)
    }

    // MARK: - Helpers

    /// The number of an id this session sent (pools may echo it as a string).
    private static func requestNumber(_ id: Sv1ID) -> UInt64? {
        switch id {
        case let .number(text), let .string(text): return UInt64(text)
        case .null: return nil
        }
    }

    /// `difficulty` as a JSON number: plain decimal digits, no exponent (some pools parse nothing else).
    static func decimal(_ difficulty: Double) -> String {
        if difficulty >= 1 { return String(UInt64(min(difficulty, 1e18).rounded(.down))) }
        let scaled = UInt64((max(difficulty, 0) * 1e12).rounded())
        guard scaled > 0 else { return "0" }
        var fraction = String(scaled)
        fraction = String(repeating: "0", count: max(0, 12 - fraction.count)) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "0." + fraction
    }

    /// A JSON number, or a string holding one (some pools quote difficulties).
    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case let .number(text), let .string(text): return Double(text)
        default: return nil
        }
    }

    /// The pool's reason for a refusal: `[code, message, data]`, `{"code", "message"}`, a string, or `false`.
    private static func reason(result: JSONValue, error: JSONValue) -> String {
        let text: String
        switch error {
        case .null: text = result.text
        case let .string(message): text = message
        case let .array(fields):
            text = fields.prefix(2).map { $0.stringValue ?? $0.text }.joined(separator: " ")
        default:
            text = [error["code"], error["message"]].compactMap { $0.map { $0.stringValue ?? $0.text } }.joined(separator: " ")
        }
        return printable(text)
    }

    /// A pool-supplied string for the log: printable ASCII kept, anything else as `?`, at most 200 characters.
    static func printable(_ text: String) -> String {
        String(decoding: text.utf8.prefix(200).map { (0x20...0x7e).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
