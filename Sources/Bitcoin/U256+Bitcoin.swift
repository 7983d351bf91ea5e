import Sv2Binary

extension U256 {
    /// The hash or target as block explorers print it: the 32 bytes reversed (most significant first), in hex.
    ///
    /// For a hash this is the familiar display form (the regtest genesis block is `0f9188f1…2206`); for a target it
    /// is the big-endian number.
    public var displayHex: String { Hex.encode(littleEndianBytes.reversed()) }

    /// Parses 64 hexadecimal digits in display order (most significant byte first, as explorers print hashes);
    /// nil for anything else.
    public init?(displayHex: String) {
        guard displayHex.utf8.count == 64, let bytes = Hex.decode(displayHex),
              let value = U256(littleEndianBytes: bytes.reversed()) else { return nil }
        self = value
    }

    /// The value of the 32 bytes at `offset` of `bytes` read little-endian; the caller has checked that they exist.
    static func fromBytes(_ bytes: [UInt8], at offset: Int) -> U256 {
        func limb(_ index: Int) -> UInt64 {
            var value: UInt64 = 0
            for byte in 0..<8 { value |= UInt64(bytes[offset + index * 8 + byte]) << (8 * UInt64(byte)) }
            return value
        }
        return U256(w0: limb(0), w1: limb(1), w2: limb(2), w3: limb(3))
    }

    /// A SHA-256 digest (always 32 bytes) as a U256 in internal byte order.
    static func fromDigest(_ digest: [UInt8]) -> U256 {
        digest.count == 32 ? fromBytes(digest, at: 0) : .zero
    }

    /// The four limbs, least significant first.
    private var limbArray: [UInt64] { [w0, w1, w2, w3] }

    /// A value from four limbs, least significant first.
    private init(limbArray limbs: [UInt64]) {
        self.init(w0: limbs[0], w1: limbs[1], w2: limbs[2], w3: limbs[3])
    }

    /// `self << bits`, with bits shifted out of the top dropped; zero for shifts of 256 or more.
    func shiftedLeft(by bits: Int) -> U256 {
        guard bits > 0 else { return self }
        guard bits < 256 else { return .zero }
        let limbShift = bits / 64
        let bitShift = UInt64(bits % 64)
        let source = limbArray
        var result: [UInt64] = [0, 0, 0, 0]
        for index in limbShift..<4 {
            var value = source[index - limbShift] << bitShift
            if bitShift > 0, index - limbShift - 1 >= 0 {
                value |= source[index - limbShift - 1] >> (64 - bitShift)
            }
            result[index] = value
        }
        return U256(limbArray: result)
    }

    /// `self >> bits`; zero for shifts of 256 or more.
    func shiftedRight(by bits: Int) -> U256 {
        guard bits > 0 else { return self }
        guard bits < 256 else { return .zero }
        let limbShift = bits / 64
        let bitShift = UInt64(bits % 64)
        let source = limbArray
        var result: [UInt64] = [0, 0, 0, 0]
        for index in 0..<(4 - limbShift) {
            var value = source[index + limbShift] >> bitShift
            if bitShift > 0, index + limbShift + 1 < 4 {
                value |= source[index + limbShift + 1] << (64 - bitShift)
            }
            result[index] = value
        }
        return U256(limbArray: result)
    }

    /// The position of the highest set bit plus one (0 for zero), as Bitcoin Core's `base_uint::bits()`.
    var significantBitCount: Int {
        let limbs = limbArray
        for index in stride(from: 3, through: 0, by: -1) where limbs[index] != 0 {
            return index * 64 + (64 - limbs[index].leadingZeroBitCount)
        }
        return 0
    }
}
