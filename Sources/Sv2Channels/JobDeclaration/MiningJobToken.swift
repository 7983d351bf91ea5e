import Sv2Binary
import Sv2Crypto

/// A mining job token (spec 6.4.3, 6.4.5) that a pool can check without asking the job declarator: its fields and
/// an HMAC-SHA256 over them with a key the pool and `sv2 jn` share, so the two may run on different machines.
///
/// Layout (61 bytes): kind (1), expiry in unix seconds (U32 little-endian), nonce (8), commitment (32), MAC (the
/// first 16 bytes of HMAC-SHA256(key, everything before it)). An allocation token (AllocateMiningJobToken.Success)
/// commits to the user it was made for; a declared-job token (DeclareMiningJob.Success) to the job: the tip it was
/// declared on, its transactions and its coinbase outputs (``declaredJobCommitment(previousBlockHash:merklePath:outputs:)``).
public struct MiningJobToken: Hashable, Sendable {
    /// What the token stands for.
    public enum Kind: UInt8, Sendable {
        /// Made by AllocateMiningJobToken.Success: a right to declare a job (or, in coinbase-only mode, to set one).
        case allocation = 1
        /// Made by DeclareMiningJob.Success: a job the declarator accepted.
        case declaredJob = 2
    }

    /// Why a token was refused (the spec's error codes are the pool's and the declarator's to choose).
    public enum Refusal: Error, Hashable, Sendable, CustomStringConvertible {
        /// Not 61 bytes of a known kind.
        case malformed
        /// The MAC does not match: made with another key, or altered.
        case forged
        /// Its expiry has passed.
        case expired(at: UInt32)
        /// It commits to something else (another user or job).
        case mismatch
        /// It was used before on this connection (a token is good for one job).
        case reused
        /// Its expiry is further ahead than a token's lifetime.
        case tooLong

        /// A sentence naming the problem.
        public var description: String {
            switch self {
            case .malformed: return "not a mining job token of this pool"
            case .forged: return "the token's MAC does not match (another key, or altered)"
            case let .expired(at): return "the token expired at \(at)"
            case .mismatch: return "the token was made for another user or job"
            case .reused: return "the token was used before"
            case .tooLong: return "the token's expiry is further ahead than a day"
            }
        }

        /// The error code to send.
        public var code: Sv2String {
            switch self {
            case .malformed, .forged, .mismatch, .reused, .tooLong: return "invalid-mining-job-token"
            case .expired: return "stale-mining-job-token"
            }
        }
    }

    /// Bytes of a token.
    public static let size = 61
    /// The longest a token may still be valid for: a day.
    public static let maximumLifetime: UInt32 = 86_400
    private static let macSize = 16

    /// The kind.
    public var kind: Kind
    /// Unix seconds after which it is refused.
    public var expiry: UInt32
    /// Random bytes that make every token unique.
    public var nonce: [UInt8]
    /// What it commits to (32 bytes).
    public var commitment: [UInt8]

    /// A token from its fields.
    public init(kind: Kind, expiry: UInt32, nonce: [UInt8], commitment: [UInt8]) {
        self.kind = kind
        self.expiry = expiry
        self.nonce = nonce
        self.commitment = commitment
    }

    /// The bytes sent: the fields, then their MAC under `key`. The nonce must be 8 bytes and the commitment 32.
    public func encoded(key: [UInt8]) -> [UInt8] {
        precondition(nonce.count == 8 && commitment.count == 32, "a mining job token has an 8-byte nonce and a 32-byte commitment")
        let fields = self.fields
        return fields + Array(Sv2Hash.hmacSHA256(key: key, fields).prefix(Self.macSize))
    }

    private var fields: [UInt8] {
        [kind.rawValue] + withUnsafeBytes(of: expiry.littleEndian, Array.init) + nonce.prefix(8) + commitment.prefix(32)
    }

    /// Reads and authenticates `bytes` with `key`, and checks the expiry against `now`; the kind and commitment are
    /// the caller's to check. An expiry more than ``maximumLifetime`` ahead is refused.
    public static func decode(_ bytes: [UInt8], key: [UInt8], now: UInt32) -> Result<MiningJobToken, Refusal> {
        guard bytes.count == size, let kind = Kind(rawValue: bytes[0]) else { return .failure(.malformed) }
        let fields = Array(bytes[..<(size - macSize)])
        let mac = Sv2Hash.hmacSHA256(key: key, fields).prefix(macSize)
        // Compared without an early exit, so the time taken says nothing about where a forgery went wrong.
        guard zip(mac, bytes[(size - macSize)...]).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else { return .failure(.forged) }
        let expiry = UInt32(bytes[1]) | UInt32(bytes[2]) << 8 | UInt32(bytes[3]) << 16 | UInt32(bytes[4]) << 24
        guard now <= expiry else { return .failure(.expired(at: expiry)) }
        guard expiry - now <= maximumLifetime else { return .failure(.tooLong) }
        return .success(MiningJobToken(kind: kind, expiry: expiry, nonce: Array(bytes[5..<13]), commitment: Array(bytes[13..<45])))
    }


    /// What an allocation token for `user` commits to.
    public static func userCommitment(_ user: Sv2String) -> [UInt8] {
        Sv2Hash.sha256(Array("sv2 job token user".utf8), user.bytes)
    }

    /// What a declared-job token commits to: the tip the job was declared on, the merkle path of its coinbase (which
    /// fixes every other transaction) and its coinbase outputs, as SetCustomMiningJob carries them (the outputs
    /// CompactSize-prefixed).
    public static func declaredJobCommitment(previousBlockHash: U256, merklePath: [U256], outputs: [UInt8]) -> [UInt8] {
        Sv2Hash.sha256(parts: [Array("sv2 job token job".utf8), previousBlockHash.littleEndianBytes, Sv2Hash.sha256(outputs)] + merklePath.map(\.littleEndianBytes))
    }
}

/// The tokens a connection has used (a token is good for one job): their nonces until they expire, when the token is
/// refused anyway and its nonce forgotten.
public struct UsedMiningJobTokens: Sendable {
    private var expiries = [[UInt8]: UInt32]()

    /// Nothing used yet.
    public init() {}

    /// Whether `token` was used before.
    public func contains(_ token: MiningJobToken) -> Bool { expiries[token.nonce] != nil }

    /// Records `token` as used; past 4096 nonces, those expired by `now` are forgotten.
    public mutating func insert(_ token: MiningJobToken, now: UInt32) {
        expiries[token.nonce] = token.expiry
        if expiries.count > 4096 { expiries = expiries.filter { $0.value >= now } }
    }
}
