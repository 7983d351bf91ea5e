import Sv1
import Sv2Binary
import Sv2Formats

/// The values of a Stratum V1 job (the params of mining.notify), in the byte orders Sv2 uses.
///
/// On the wire (as deployed pools send it and cgminer-derived firmware reads it): `[job_id, prevhash, coinb1, coinb2,
/// merkle_branch, version, nbits, ntime, clean_jobs]`, where prevhash is the 32 internal-order bytes with each 4-byte
/// word byte-reversed (``wordSwapped(_:)``), merkle branch entries are the hex of the internal-order bytes, and
/// version, nbits and ntime are the integers as 8 big-endian hex digits. A miner's coinbase is
/// `coinb1 + extranonce1 + extranonce2 + coinb2`.
public struct Sv1Job: Hashable, Sendable {
    /// The pool's job id, echoed in mining.submit.
    public var jobID: String
    /// The previous block hash, internal byte order (as Sv2's SetNewPrevHash carries it).
    public var prevHash: U256
    /// The coinbase up to extranonce1.
    public var coinbase1: [UInt8]
    /// The coinbase after extranonce2.
    public var coinbase2: [UInt8]
    /// The merkle branch from the coinbase txid to the root, deepest first, internal byte order.
    public var merkleBranch: [U256]
    /// The header version before rolling.
    public var version: UInt32
    /// nBits.
    public var nBits: UInt32
    /// nTime.
    public var nTime: UInt32
    /// True when older jobs are void (a new block): the miner must switch at once.
    public var cleanJobs: Bool

    /// A job from its values.
    public init(
        jobID: String, prevHash: U256, coinbase1: [UInt8], coinbase2: [UInt8], merkleBranch: [U256], version: UInt32,
        nBits: UInt32, nTime: UInt32, cleanJobs: Bool
    ) {
        self.jobID = jobID
        self.prevHash = prevHash
        self.coinbase1 = coinbase1
        self.coinbase2 = coinbase2
        self.merkleBranch = merkleBranch
        self.version = version
        self.nBits = nBits
        self.nTime = nTime
        self.cleanJobs = cleanJobs
    }

    /// The params of mining.notify for this job, hex in lower case.
    public var params: [JSONValue] {
        [
            .string(jobID),
            .string(Hex.encode(Self.wordSwapped(prevHash.littleEndianBytes))),
            .string(Hex.encode(coinbase1)),
            .string(Hex.encode(coinbase2)),
            .array(merkleBranch.map { .string($0.hex) }),
            .string(Self.hex(version)),
            .string(Self.hex(nBits)),
            .string(Self.hex(nTime)),
            .bool(cleanJobs),
        ]
    }

    /// Reads the params of mining.notify (hex in either case; params after the ninth are ignored); nil when any is
    /// missing or malformed.
    public init?(params: [JSONValue]) {
        guard params.count >= 9,
              let jobID = params[0].stringValue,
              let prevHashBytes = params[1].stringValue.flatMap(Self.bytes(hex:)), prevHashBytes.count == 32,
              let prevHash = U256(littleEndianBytes: Self.wordSwapped(prevHashBytes)),
              let coinbase1 = params[2].stringValue.flatMap(Self.bytes(hex:)),
              let coinbase2 = params[3].stringValue.flatMap(Self.bytes(hex:)),
              let branchValues = params[4].arrayValue,
              let version = params[5].stringValue.flatMap(Self.uint32(hex:)),
              let nBits = params[6].stringValue.flatMap(Self.uint32(hex:)),
              let nTime = params[7].stringValue.flatMap(Self.uint32(hex:)),
              case let .bool(cleanJobs) = params[8]
        else { return nil }
        var branch = [U256]()
        for value in branchValues {
            guard let entry = value.stringValue.flatMap(Self.bytes(hex:)).flatMap(U256.init(littleEndianBytes:)) else {
                return nil
            }
            branch.append(entry)
        }
        self.init(
            jobID: jobID, prevHash: prevHash, coinbase1: coinbase1, coinbase2: coinbase2, merkleBranch: branch,
            version: version, nBits: nBits, nTime: nTime, cleanJobs: cleanJobs)
    }

    /// `value` as 8 lower-case big-endian hex digits: 0x20000000 → `"20000000"`.
    public static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// The value of 1 to 8 hex digits (either case, no prefix, no sign); nil for anything else.
    public static func uint32(hex: String) -> UInt32? {
        guard (1...8).contains(hex.utf8.count), hex.utf8.allSatisfy({ Hex.nibble($0) != nil }) else { return nil }
        return UInt32(hex, radix: 16)
    }

    /// `bytes` with every 4-byte word byte-reversed: Sv1's prevhash <-> the internal byte order. Its own inverse; a
    /// trailing partial word is left as it is.
    public static func wordSwapped(_ bytes: [UInt8]) -> [UInt8] {
        var swapped = bytes
        for word in stride(from: 0, to: bytes.count - bytes.count % 4, by: 4) {
            swapped.replaceSubrange(word..<(word + 4), with: bytes[word..<(word + 4)].reversed())
        }
        return swapped
    }

    /// Hex without the `0x` prefix `Hex.decode` also takes (Sv1 never sends one).
    private static func bytes(hex: String) -> [UInt8]? {
        hex.utf8.starts(with: "0x".utf8) || hex.utf8.starts(with: "0X".utf8) ? nil : Hex.decode(hex)
    }
}
