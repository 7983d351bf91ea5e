import ArgumentParser
import Logging
import NIOCore
import NIOPosix
import Sv2Channels
import Sv2Crypto
import Sv2Network
import Sv2Roles

/// `sv2 mine --cpu`: the CPU miner.
struct MineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mine",
        abstract: "CPU miner: hash a Stratum V2 or V1 pool's jobs on this machine's cores.",
        discussion: """
            --cpu is required: the CPU is the only backend. The URL's scheme picks the protocol. With \
            stratum2+tcp:// the miner connects over Noise, checking the \
            pool's certificate against the authority public key in the URL, sends SetupConnection for the Mining \
            Protocol (REQUIRES_STANDARD_JOBS only with --require-standard-jobs) and opens --channels channels, \
            extended by default, with the hash rate measured at start (the kernel runs for 0.2 s) as \
            nominal_hash_rate (or --hash-rate-limit, which caps the rate). Thread t hashes channel t modulo the channel count; the threads of a channel split \
            its search space by extranonce values on extended channels, else by version bits when the job allows \
            rolling them (BIP320 mask 0x1fffe000), else by nonce ranges, and roll nTime only as far as the seconds \
            since the job started allow. New jobs, prevhashes and targets reach the threads within a few \
            milliseconds. Every --report-interval seconds a line `hashrate 27.1 MH/s, accepted 12, rejected 0` is \
            logged on standard error. A lost connection is retried after 1 s, doubling up to 30 s; Reconnect from \
            the pool moves the miner to the address it names. SIGINT or SIGTERM close the channels, log a summary \
            and exit 0; the pool refusing SetupConnection or every channel exits 1.

            With stratum+tcp:// the miner speaks Stratum V1 over plain TCP, one job stream on all threads (--channels \
            1, no --standard): mining.configure asking for version rolling on mask 1fffe000 (at least 2 bits), \
            mining.subscribe with user agent sv2-cpu-miner/<version>, mining.authorize with --user and password x. \
            The threads split each job by extranonce2 values, roll the version within the mask the pool granted and \
            nTime as above. mining.set_difficulty applies from the next job (a harder one at once), clean_jobs drops \
            the shares of older jobs, mining.set_extranonce applies from the next job, mining.set_version_mask at \
            once, client.reconnect moves the miner. Shares go out as mining.submit [user, job_id, extranonce2, ntime, \
            nonce] plus, when version rolling was granted, BIP310's version_bits: the share's version masked with \
            the granted mask (pools compute (job_version & ~mask) | (version_bits & mask)). Answers true count as \
            accepted, false or an error as rejected; reconnecting, reports and signals are as above; the pool \
            refusing mining.subscribe or the user exits 1.
            """
    )

    /// Extended or standard channels.
    enum ChannelKindFlag: String, EnumerableFlag {
        case extended
        case standard

        static func help(for value: ChannelKindFlag) -> ArgumentHelp? {
            switch value {
            case .extended: return "Open extended channels and roll an extranonce in the coinbase."
            case .standard: return "Open standard channels: header-only mining on merkle roots the pool fixes."
            }
        }

        var kind: MiningChannelKind {
            switch self {
            case .extended: return .extended
            case .standard: return .standard
            }
        }
    }

    @Flag(help: "Mine on the CPU (required: the only backend).")
    var cpu = false
    @Option(help: "Hashing threads (default: the number of cores).")
    var threads: Int?
    @Option(help: "user_identity of the channels (Stratum V1: the mining.authorize user): the pool account or worker name.")
    var user = "sv2-cpu-miner"
    @Option(help: ArgumentHelp(
        "Worker name for extension 0x0002 (worker-specific hashrate tracking), requested on extended channels and sent with every share once the pool confirms it (default: --user after its first dot, else --user; '' requests no extension).",
        valueName: "name"))
    var worker: String?
    @Flag
    var channelKind = ChannelKindFlag.extended
    @Option(help: "Channels to open; each is mined by its share of the threads.")
    var channels = 1
    @Flag(help: "Set REQUIRES_STANDARD_JOBS in SetupConnection (with --standard).")
    var requireStandardJobs = false
    @Option(
        help: ArgumentHelp(
            "SHA-256d kernel: auto (the fastest the CPU has), portable, sha-ni, sha-ni-x2, sha-ni-x4, sha-ni-x4-avx512, avx2 or avx512.",
            valueName: "kernel"),
        completion: .list(HashingKernel.allCases.map(\.rawValue)))
    var kernel = "auto"
    @Flag(inversion: .prefixedNo, help: "Pin hashing thread t to CPU t % CPUs (Linux; measured steadier scaling over cores).")
    var pinThreads = true
    @Option(help: "Seconds between two hash rate lines.")
    var reportInterval: Double = 5
    @Option(help: "Hashes per second at most, over all threads (default: no limit); announced as the nominal hash rate. For regtest tests: blocks then come at the pace of the limit.")
    var hashRateLimit: Double?
    @OptionGroup(title: "Logging")
    var logging: LoggingOptions

    /// The worker named with extension 0x0002: --worker, else what follows the first dot of --user, else --user; nil
    /// (no extension requested) for an empty name.
    private var workerName: String? {
        let name = worker ?? user.firstIndex(of: ".").map { String(user[user.index(after: $0)...]) } ?? user
        return name.isEmpty ? nil : name
    }
    @Argument(help: ArgumentHelp(
        "The pool: stratum2+tcp://HOST:PORT/<authority public key> (Stratum V2) or stratum+tcp://HOST:PORT (Stratum V1).",
        valueName: "url"))
    var url: String

    func validate() throws {
        guard cpu else { throw ValidationError("--cpu is required: the CPU is the only mining backend") }
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be between 1 and 1024") }
        guard channels >= 1, channels <= threadCount else {
            throw ValidationError("--channels must be between 1 and the number of threads (\(threadCount))")
        }
        if let hashRateLimit, !(0.01...1e15).contains(hashRateLimit) {
            throw ValidationError("--hash-rate-limit must be between 0.01 and 1e15 hashes per second")
        }
        guard (0.1...86_400).contains(reportInterval) else {
            throw ValidationError("--report-interval must be between 0.1 and 86400 seconds")
        }
        guard HashingKernel(rawValue: kernel) != nil else {
            throw ValidationError("--kernel must be one of \(HashingKernel.names), not '\(kernel)'")
        }
        if requireStandardJobs, channelKind == .extended {
            throw ValidationError("--require-standard-jobs needs --standard: extended channels receive extended jobs")
        }
        if case .stratumV1 = try pool() {
            guard channels == 1 else { throw ValidationError("--channels must be 1 with stratum+tcp://: Stratum V1 has no channels") }
            guard channelKind == .extended, !requireStandardJobs else {
                throw ValidationError("--standard and --require-standard-jobs are Stratum V2 options, not for stratum+tcp://")
            }
        }
    }

    private var threadCount: Int { threads ?? min(System.coreCount, 1024) }

    /// The pool a URL names.
    private enum Pool {
        /// stratum2+tcp://HOST:PORT/<authority public key>.
        case stratumV2(Sv2PoolURL, authority: XOnlyPublicKey)
        /// stratum+tcp://HOST:PORT.
        case stratumV1(host: String, port: Int)
    }

    /// The pool of the URL argument.
    private func pool() throws -> Pool {
        if url.hasPrefix(HostPort.stratumV1Scheme) {
            guard let endpoint = HostPort(stratumV1URL: url) else { throw ValidationError("'\(url)' is not stratum+tcp://HOST:PORT (port 1 to 65535)") }
            return .stratumV1(host: endpoint.host, port: endpoint.port)
        }
        let parsed: Sv2PoolURL
        do {
            parsed = try Sv2PoolURL(url)
        } catch {
            throw ValidationError("\(error.description) (or use stratum+tcp://HOST:PORT for a Stratum V1 pool)")
        }
        guard let authority = parsed.authorityKey else {
            throw ValidationError("'\(url)' has no authority public key: stratum2+tcp://HOST:PORT/<authority public key>")
        }
        return .stratumV2(parsed, authority: authority)
    }

    func run() async throws {
        let logger = LogSettings(level: logging.logLevel ?? .info, format: logging.logFormat ?? .text).logger("mine")
        guard let kernel = HashingKernel(rawValue: kernel), kernel.isAvailable else {
            throw CommandFailure("the \(self.kernel) kernel does not run on this CPU")
        }
        let threads = threadCount
        let limit = hashRateLimit.map { $0 / Double(threads) }
        let perThread = min(kernel.measureHashRate(seconds: 0.2), limit ?? .infinity)
        let total = perThread * Double(threads)
        let measured = HashingEngine.format(hashRate: perThread)
        logger.info("\(threads) thread(s) on the \(kernel.implementationName) kernel: \(measured) per thread measured, nominal \(HashingEngine.format(hashRate: total))")
        let engine = HashingEngine.Configuration(
            threads: threads, lanes: channels, kernel: kernel,
            chunkNonces: limit.map { UInt32(min(max($0 / 20, 1), 65536)) } ?? HashingEngine.Configuration.chunkNonces(forThreadHashRate: perThread),
            pinThreads: pinThreads, threadHashRateLimit: limit)
        switch try pool() {
        case let .stratumV2(pool, authority):
            let session = MinerSessionConfiguration(
                userIdentity: user, channelKind: channelKind.kind, channelCount: channels,
                requiresStandardJobs: requireStandardJobs, nominalHashRate: Float(total),
                // 4 bytes give each of up to 1024 threads 2^22 extranonce values of its own.
                minimumExtranonceSize: 4, endpointHost: pool.host,
                endpointPort: UInt16(clamping: pool.port), worker: workerName)
            let sv2 = Sv2MinerProtocol(session: session, transport: Sv2TransportConfiguration(security: .initiator(authority: authority)))
            try await mine(sv2, pool: HostPort(host: pool.host, port: pool.port), engine: engine, logger: logger)
        case let .stratumV1(host, port):
            let session = Sv1ClientConfiguration(
                user: user, userAgent: "sv2-cpu-miner/\(SV2.configuration.version)", endpointHost: host, endpointPort: port)
            try await mine(Sv1MinerProtocol(session: session), pool: HostPort(host: host, port: port), engine: engine, logger: logger)
        }
    }

    /// Runs a ``CPUMiner`` speaking `miningProtocol` until SIGINT/SIGTERM or a failure.
    private func mine<Protocol: MinerProtocol>(
        _ miningProtocol: Protocol, pool: HostPort, engine: HashingEngine.Configuration, logger: Logger
    ) async throws {
        let configuration = CPUMiner.Configuration(
            protocol: miningProtocol, pool: pool, engine: engine, reportInterval: .milliseconds(Int64(reportInterval * 1000)))
        try await runRole(threads: 1, logger: logger) { group in
            [try CPUMiner(configuration: configuration, eventLoop: group.next(), logger: logger)]
        }
    }
}
