import Sv2Sessions

/// How a ``RegtestNode`` is set up. Every input from outside (clock, randomness, storage place) is here, so tests
/// run the node deterministically in memory.
public struct RegtestNodeConfiguration: Sendable {
    /// The data directory (created if missing) holding `blocks.dat` and the `network` marker; nil keeps the chain in
    /// memory only (tests).
    public var datadir: String?
    /// Transactions the built-in generator creates per ``RegtestNode/generateTransactions(now:)`` step; 0 turns the
    /// generator off.
    public var generationRate: Int
    /// Fee rates of generated transactions, in satoshis per virtual byte; each transaction draws one.
    public var feeRates: ClosedRange<UInt64>
    /// The clock. Templates use it for curtime and validation for "time-too-new" (whole seconds).
    public var clock: Sv2Clock
    /// Seed of the node's random numbers (fee rates, coin choice). Draw it from a CSPRNG for variety, or fix it for
    /// reproducible runs.
    public var randomSeed: UInt64
    /// Blocks the node mines itself when it starts on an empty chain (only genesis), so that coinbase outputs mature
    /// and the generator has coins to spend; 0 mines none. From height 101 on these blocks already carry
    /// generated transactions that split the matured coins.
    public var bootstrapBlocks: Int
    /// The scriptPubKey the bootstrap blocks' coinbases pay to. The default, P2WSH(OP_TRUE), is what the generator
    /// can spend; with another script the generator has no coins until someone pays to P2WSH(OP_TRUE).
    public var bootstrapPayoutScript: [UInt8]
    /// Receives warnings worth logging (a truncated last block record repaired at start); also kept in
    /// ``RegtestNode/startupWarnings``.
    public var log: @Sendable (String) -> Void

    /// A configuration; by default in memory, 10 transactions per step at 1 to 50 sat/vB, the system clock, seed 0,
    /// 110 bootstrap blocks paying to P2WSH(OP_TRUE) and warnings dropped.
    public init(
        datadir: String? = nil,
        generationRate: Int = 10,
        feeRates: ClosedRange<UInt64> = 1...50,
        clock: Sv2Clock = .system,
        randomSeed: UInt64 = 0,
        bootstrapBlocks: Int = 110,
        bootstrapPayoutScript: [UInt8] = NodeScripts.p2wshOpTrue,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.datadir = datadir
        self.generationRate = generationRate
        self.feeRates = feeRates
        self.clock = clock
        self.randomSeed = randomSeed
        self.bootstrapBlocks = bootstrapBlocks
        self.bootstrapPayoutScript = bootstrapPayoutScript
        self.log = log
    }
}
