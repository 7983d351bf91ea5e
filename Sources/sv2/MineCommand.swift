import ArgumentParser
import Dispatch
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Sv2Channels
import Sv2Crypto
import Sv2Network
import Sv2Roles

/// `sv2 mine --cpu`: the CPU miner.
struct MineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mine",
        abstract: "CPU miner: hash a Stratum V2 pool's jobs on this machine's cores.",
        discussion: """
            --cpu is required: the CPU is the only backend. The miner connects to URL over Noise, checking the \
            pool's certificate against the authority public key in the URL, sends SetupConnection for the Mining \
            Protocol (REQUIRES_STANDARD_JOBS only with --require-standard-jobs) and opens --channels channels, \
            extended by default, with the hash rate measured at start (the kernel runs for 0.2 s) as \
            nominal_hash_rate. Thread t hashes channel t modulo the channel count; the threads of a channel split \
            its search space by extranonce values on extended channels, else by version bits when the job allows \
            rolling them (BIP320 mask 0x1fffe000), else by nonce ranges, and roll nTime only as far as the seconds \
            since the job started allow. New jobs, prevhashes and targets reach the threads within a few \
            milliseconds. Every --report-interval seconds a line `hashrate 27.1 MH/s, accepted 12, rejected 0` is \
            logged on standard error. A lost connection is retried after 1 s, doubling up to 30 s; Reconnect from \
            the pool moves the miner to the address it names. SIGINT or SIGTERM close the channels, log a summary \
            and exit 0; the pool refusing SetupConnection or every channel exits 1.
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
    @Option(help: "user_identity of the channels: the pool account or worker name.")
    var user = "sv2-cpu-miner"
    @Flag
    var channelKind = ChannelKindFlag.extended
    @Option(help: "Channels to open; each is mined by its share of the threads.")
    var channels = 1
    @Flag(help: "Set REQUIRES_STANDARD_JOBS in SetupConnection (with --standard).")
    var requireStandardJobs = false
    @Option(
        help: ArgumentHelp("SHA-256d kernel: auto (SHA-NI when the CPU has it), portable or sha-ni.", valueName: "kernel"),
        completion: .list(HashingKernel.allCases.map(\.rawValue)))
    var kernel = "auto"
    @Option(help: "Seconds between two hash rate lines.")
    var reportInterval: Double = 5
    @Argument(help: ArgumentHelp("The pool: stratum2+tcp://HOST:PORT/<authority public key>.", valueName: "url"))
    var url: String

    func validate() throws {
        guard cpu else { throw ValidationError("--cpu is required: the CPU is the only mining backend") }
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be between 1 and 1024") }
        guard channels >= 1, channels <= threadCount else {
            throw ValidationError("--channels must be between 1 and the number of threads (\(threadCount))")
        }
        guard (0.1...86_400).contains(reportInterval) else {
            throw ValidationError("--report-interval must be between 0.1 and 86400 seconds")
        }
        guard HashingKernel(rawValue: kernel) != nil else {
            throw ValidationError("--kernel must be auto, portable or sha-ni, not '\(kernel)'")
        }
        if requireStandardJobs, channelKind == .extended {
            throw ValidationError("--require-standard-jobs needs --standard: extended channels receive extended jobs")
        }
        _ = try poolURL()
    }

    private var threadCount: Int { threads ?? min(System.coreCount, 1024) }

    /// The URL with its authority key.
    private func poolURL() throws -> (url: Sv2PoolURL, authority: XOnlyPublicKey) {
        let parsed: Sv2PoolURL
        do {
            parsed = try Sv2PoolURL(url)
        } catch {
            throw ValidationError(error.description)
        }
        guard let authority = parsed.authorityKey else {
            throw ValidationError("'\(url)' has no authority public key: stratum2+tcp://HOST:PORT/<authority public key>")
        }
        return (parsed, authority)
    }

    func run() throws {
        let (pool, authority) = try poolURL()
        let log = Sv2Log(component: "mine")
        guard let kernel = HashingKernel(rawValue: kernel), kernel.isAvailable else {
            throw CommandFailure("the \(self.kernel) kernel does not run on this CPU")
        }
        let threads = threadCount
        let perThread = kernel.measureHashRate(seconds: 0.2)
        let total = perThread * Double(threads)
        log(.info, "\(threads) thread(s) on the \(kernel.implementationName) kernel: \(CPUMiner.format(hashRate: perThread)) "
            + "per thread measured, nominal \(CPUMiner.format(hashRate: total))")
        let session = MinerSessionConfiguration(
            userIdentity: user, channelKind: channelKind.kind, channelCount: channels,
            requiresStandardJobs: requireStandardJobs, nominalHashRate: Float(total),
            // 4 bytes give each of up to 1024 threads 2^22 extranonce values of its own.
            minimumExtranonceSize: 4, endpointHost: pool.host,
            endpointPort: UInt16(clamping: pool.port))
        let configuration = CPUMiner.Configuration(
            session: session, transport: Sv2TransportConfiguration(security: .initiator(authority: authority)),
            engine: HashingEngine.Configuration(
                threads: threads, lanes: channels, kernel: kernel,
                chunkNonces: HashingEngine.Configuration.chunkNonces(forThreadHashRate: perThread)),
            reportInterval: .nanoseconds(Int64(reportInterval * 1e9)))

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let done = DispatchSemaphore(value: 0)
        let failure = NIOLockedValueBox<String?>(nil)
        let miner: CPUMiner
        do {
            miner = try CPUMiner(configuration: configuration, eventLoop: group.next(), log: log) { reason in
                failure.withLockedValue { $0 = reason }
                done.signal()
            }
        } catch {
            throw CommandFailure("\(error)")
        }
        miner.start()
        waitForTermination(log: log, or: done)
        miner.stop()
        if let reason = failure.withLockedValue({ $0 }) { throw CommandFailure(reason) }
    }
}
