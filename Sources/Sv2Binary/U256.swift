/// U256 of spec 3.1: 32 bytes on the wire, the integer value little-endian.
///
/// Stored inline as four 64-bit limbs (`w0` least significant) so that copying a hash or a target never allocates.
/// Hashes (prev_hash, merkle_root, merkle_path entries) travel in Bitcoin's internal byte order, which is this
/// little-endian layout.
@frozen
public struct U256: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Least significant 64 bits.
    public var w0: UInt64
    /// Bits 64 to 127.
    public var w1: UInt64
    /// Bits 128 to 191.
    public var w2: UInt64
    /// Most significant 64 bits.
    public var w3: UInt64

    /// Creates a value from its limbs, least significant first.
    @inlinable
    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Zero.
    public static let zero = U256(w0: 0, w1: 0, w2: 0, w3: 0)
    /// 2^256 - 1.
    public static let max = U256(w0: .max, w1: .max, w2: .max, w3: .max)

    /// Creates a value from a small integer.
    @inlinable
    public init(_ value: UInt64) {
        self.init(w0: value, w1: 0, w2: 0, w3: 0)
    }

    /// Creates a value from its 32 wire bytes (little-endian); nil unless exactly 32 bytes are given.
    public init?<Bytes: Collection>(littleEndianBytes bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == 32 else { return nil }
        var limbs: [UInt64] = [0, 0, 0, 0]
        for (index, byte) in bytes.enumerated() {
            limbs[index / 8] |= UInt64(byte) << (UInt64(index % 8) * 8)
        }
        self.init(w0: limbs[0], w1: limbs[1], w2: limbs[2], w3: limbs[3])
    }

    /// Parses 64 hexadecimal digits written in wire order (the first byte is the least significant).
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex), let value = U256(littleEndianBytes: bytes) else { return nil }
        self = value
    }

    /// The 32 wire bytes, least significant first.
    public var littleEndianBytes: [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        for limb in [w0, w1, w2, w3] {
            for shift in stride(from: 0, to: 64, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: limb >> UInt64(shift)))
            }
        }
        return bytes
    }

    /// The wire bytes as hexadecimal (the form `sv2 decode` prints).
    public var hex: String { Hex.encode(littleEndianBytes) }

    /// Same as ``hex``.
    public var description: String { hex }

    /// Numeric order.
    public static func < (lhs: U256, rhs: U256) -> Bool {
        (lhs.w3, lhs.w2, lhs.w1, lhs.w0) < (rhs.w3, rhs.w2, rhs.w1, rhs.w0)
    }
}
