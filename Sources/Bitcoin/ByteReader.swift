import Sv2Binary

/// A bounds-checked cursor over bytes in Bitcoin's serialisation (little-endian integers, CompactSize prefixes).
///
/// Every read checks the remaining length first and throws ``BitcoinError/truncated(what:offset:needed:available:)``,
/// so parsing attacker-supplied bytes never traps. Counts are checked against the bytes that remain before anything
/// is allocated for them.
struct ByteReader {
    /// The bytes being read.
    let bytes: [UInt8]
    /// Index of the next byte to read.
    private(set) var offset: Int

    /// A reader positioned at `offset` (0 to `bytes.count`).
    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Bytes not yet read.
    var remaining: Int { bytes.count - offset }

    /// Throws unless `count` more bytes are available.
    private func require(_ count: Int, _ what: String) throws(BitcoinError) {
        guard count <= remaining else {
            throw .truncated(what: what, offset: offset, needed: count, available: remaining)
        }
    }

    /// The next byte without consuming it, or nil at the end.
    func peek() -> UInt8? {
        offset < bytes.count ? bytes[offset] : nil
    }

    /// One byte.
    mutating func readByte(_ what: String) throws(BitcoinError) -> UInt8 {
        try require(1, what)
        defer { offset += 1 }
        return bytes[offset]
    }

    /// A little-endian integer of `width` bytes (at most 8).
    private mutating func readLittleEndian(_ width: Int, _ what: String) throws(BitcoinError) -> UInt64 {
        try require(width, what)
        var value: UInt64 = 0
        for index in 0..<width {
            value |= UInt64(bytes[offset + index]) << (8 * UInt64(index))
        }
        offset += width
        return value
    }

    /// A little-endian UInt16.
    mutating func readUInt16(_ what: String) throws(BitcoinError) -> UInt16 {
        UInt16(truncatingIfNeeded: try readLittleEndian(2, what))
    }

    /// A little-endian UInt32.
    mutating func readUInt32(_ what: String) throws(BitcoinError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readLittleEndian(4, what))
    }

    /// A little-endian UInt64.
    mutating func readUInt64(_ what: String) throws(BitcoinError) -> UInt64 {
        try readLittleEndian(8, what)
    }

    /// `count` raw bytes.
    mutating func readBytes(_ count: Int, _ what: String) throws(BitcoinError) -> [UInt8] {
        try require(count, what)
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// 32 bytes as a U256 (a hash in internal byte order).
    mutating func readU256(_ what: String) throws(BitcoinError) -> U256 {
        try require(32, what)
        let value = U256.fromBytes(bytes, at: offset)
        offset += 32
        return value
    }

    /// A CompactSize in its shortest form.
    mutating func readCompactSize(_ what: String) throws(BitcoinError) -> UInt64 {
        let start = offset
        let first = try readByte(what)
        let value: UInt64
        let minimum: UInt64
        switch first {
        case 0xfd:
            value = UInt64(try readUInt16(what))
            minimum = 0xfd
        case 0xfe:
            value = UInt64(try readUInt32(what))
            minimum = 0x1_0000
        case 0xff:
            value = try readUInt64(what)
            minimum = 0x1_0000_0000
        default:
            return UInt64(first)
        }
        guard value >= minimum else { throw .nonCanonicalCompactSize(offset: start, value: value) }
        return value
    }

    /// A CompactSize count of elements that each take at least `minimumElementSize` bytes; throws if the remaining
    /// bytes cannot hold that many, so the count is safe to allocate for.
    mutating func readCount(_ what: String, minimumElementSize: Int) throws(BitcoinError) -> Int {
        let start = offset
        let count = try readCompactSize(what)
        let maximum = remaining / max(minimumElementSize, 1)
        guard count <= UInt64(maximum) else {
            throw .countTooLarge(what: what, offset: start, count: count, maximum: maximum)
        }
        return Int(count)
    }

    /// A CompactSize length followed by that many bytes.
    mutating func readVarBytes(_ what: String) throws(BitcoinError) -> [UInt8] {
        let length = try readCount(what + " length", minimumElementSize: 1)
        return try readBytes(length, what)
    }

    /// Throws if any bytes remain after a complete `what`.
    func finish(_ what: String) throws(BitcoinError) {
        guard remaining == 0 else { throw .trailingBytes(what: what, count: remaining) }
    }
}
