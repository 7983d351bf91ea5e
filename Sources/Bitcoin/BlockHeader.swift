import Sv2Binary
import Sv2Crypto

/// The 80-byte block header: version, previous block hash, merkle root, time, nBits and nonce, all little-endian.
///
/// Hashes are ``U256`` values in internal byte order, the form Sv2 carries them in (prev_hash, merkle_root).
public struct BlockHeader: Hashable, Sendable {
    /// Serialised size in bytes.
    public static let size = 80

    /// The version (BIP9 bits; miners may roll the bits BIP320 allows).
    public var version: UInt32
    /// Hash of the previous block, internal byte order.
    public var previousBlockHash: U256
    /// Merkle root of the block's txids, internal byte order.
    public var merkleRoot: U256
    /// Block time, seconds since the Unix epoch.
    public var time: UInt32
    /// The target in compact form (nBits).
    public var bits: UInt32
    /// The nonce.
    public var nonce: UInt32

    /// Creates a header.
    public init(version: UInt32, previousBlockHash: U256, merkleRoot: U256, time: UInt32, bits: UInt32, nonce: UInt32) {
        self.version = version
        self.previousBlockHash = previousBlockHash
        self.merkleRoot = merkleRoot
        self.time = time
        self.bits = bits
        self.nonce = nonce
    }

    /// Parses exactly 80 bytes.
    public init(bytes: [UInt8]) throws(BitcoinError) {
        var reader = ByteReader(bytes)
        try self.init(reading: &reader)
        try reader.finish("block header")
    }

    /// Parses 160 hex digits.
    public init(hex: String) throws(BitcoinError) {
        guard let bytes = Hex.decode(hex) else { throw .invalidHex(what: "block header") }
        try self.init(bytes: bytes)
    }

    /// Reads 80 bytes.
    init(reading reader: inout ByteReader) throws(BitcoinError) {
        guard reader.remaining >= BlockHeader.size else {
            throw .truncated(what: "block header", offset: reader.offset, needed: BlockHeader.size, available: reader.remaining)
        }
        version = try reader.readUInt32("header version")
        previousBlockHash = try reader.readU256("header previous block hash")
        merkleRoot = try reader.readU256("header merkle root")
        time = try reader.readUInt32("header time")
        bits = try reader.readUInt32("header bits")
        nonce = try reader.readUInt32("header nonce")
    }

    /// The 80-byte serialisation.
    public var serialized: [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(BlockHeader.size)
        bytes.appendLittleEndian(version)
        bytes.append(contentsOf: previousBlockHash.littleEndianBytes)
        bytes.append(contentsOf: merkleRoot.littleEndianBytes)
        bytes.appendLittleEndian(time)
        bytes.appendLittleEndian(bits)
        bytes.appendLittleEndian(nonce)
        return bytes
    }

    /// SHA256d of the serialisation in internal byte order; as a little-endian number it is what targets bound.
    public var hash: U256 { U256.fromDigest(Sv2Hash.sha256d(serialized)) }

    /// The block hash as explorers print it (byte-reversed hex).
    public var hashDisplayHex: String { hash.displayHex }

    /// nBits as a ``CompactTarget``.
    public var compactTarget: CompactTarget { CompactTarget(bits: bits) }

    /// Whether the hash, read as a little-endian 256-bit number, is at most `target` (share and block check).
    public func meets(target: U256) -> Bool {
        hash <= target
    }

    /// Bitcoin Core's `CheckProofOfWork`: nBits decode to a valid non-zero target no higher than `powLimit` and the
    /// hash meets it.
    public func hasValidProofOfWork(powLimit: U256) -> Bool {
        guard let target = try? compactTarget.target(), target <= powLimit else { return false }
        return meets(target: target)
    }
}
