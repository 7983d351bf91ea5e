import Sv2Binary

/// What an ``Sv1ClientSession`` asks a Stratum V1 pool for.
public struct Sv1ClientConfiguration: Hashable, Sendable {
    /// The user name of mining.authorize (account or account.worker).
    public var user: String
    /// The password of mining.authorize (pools ignore it; "x" by convention).
    public var password: String
    /// The user agent of mining.subscribe, `name/version`.
    public var userAgent: String
    /// The version bits asked for with mining.configure (BIP310); 0: no mining.configure, no version rolling.
    public var versionRollingMask: UInt32
    /// version-rolling.min-bit-count of mining.configure.
    public var minimumVersionRollingBits: Int
    /// The pool's host: what client.reconnect without a host keeps.
    public var endpointHost: String
    /// The pool's port: what client.reconnect without a port keeps.
    public var endpointPort: Int
    /// A difficulty to ask for with mining.suggest_difficulty before mining.authorize (nil: none).
    public var suggestedDifficulty: Double?
    /// Whether to send mining.extranonce.subscribe after mining.subscribe (a pool that does not offer it answers with
    /// an error, which changes nothing).
    public var subscribesToExtranonce: Bool

    /// A configuration; version rolling is asked for on BIP320's bits, at least 2 of them.
    public init(
        user: String, password: String = "x", userAgent: String, versionRollingMask: UInt32 = MiningWork.bip320VersionMask,
        minimumVersionRollingBits: Int = 2, endpointHost: String, endpointPort: Int, suggestedDifficulty: Double? = nil,
        subscribesToExtranonce: Bool = false
    ) {
        self.suggestedDifficulty = suggestedDifficulty
        self.subscribesToExtranonce = subscribesToExtranonce
        self.user = user
        self.password = password
        self.userAgent = userAgent
        self.versionRollingMask = versionRollingMask
        self.minimumVersionRollingBits = minimumVersionRollingBits
        self.endpointHost = endpointHost
        self.endpointPort = endpointPort
    }
}

/// What happened in an ``Sv1ClientSession``, for the miner's log and tests.
public enum Sv1SessionEvent: Hashable, Sendable {
    /// mining.subscribe answered: the connection's extranonce1 and the size of the extranonce2 the miner rolls.
    case subscribed(extranonce1: [UInt8], extranonce2Size: Int)
    /// mining.configure answered (or mining.set_version_mask): the version bits the miner may roll, 0 for none.
    case versionRolling(mask: UInt32)
    /// mining.authorize accepted this user.
    case authorized(user: String)
    /// mining.set_difficulty: the share difficulty (harder at once, easier from the next job on).
    case difficultyChanged(Double)
    /// A job on a new previous block hash (logged once per hash).
    case newPrevHash(U256, nbits: UInt32)
    /// mining.notify with clean_jobs: the work that follows voids every earlier job.
    case jobsCleaned
    /// A share that meets nBits: a block, submitted as a share.
    case blockFound(hash: U256)
    /// mining.submit answered true.
    case shareAccepted(requestID: UInt64)
    /// mining.submit answered false or with an error (the pool's reason).
    case shareRejected(requestID: UInt64, reason: String)
    /// client.show_message.
    case poolMessage(String)
    /// A message that was unexpected or malformed, and was ignored.
    case ignored(String)
}
