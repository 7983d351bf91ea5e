/// Bitcoin's CompactSize ("varint" in older texts): the length and count prefix of the serialisation.
///
/// Values below 0xfd take one byte; 0xfd, 0xfe and 0xff announce a little-endian UInt16, UInt32 or UInt64. Decoding
/// rejects encodings that are not the shortest, as Bitcoin Core does.
public enum CompactSize {
    /// The number of bytes `value` takes (1, 3, 5 or 9).
    public static func size(of value: UInt64) -> Int {
        switch value {
        case 0..<0xfd: return 1
        case 0xfd...0xffff: return 3
        case 0x1_0000...0xffff_ffff: return 5
        default: return 9
        }
    }

    /// The shortest encoding of `value`.
    public static func encode(_ value: UInt64) -> [UInt8] {
        var bytes = [UInt8]()
        append(value, to: &bytes)
        return bytes
    }

    /// Appends the shortest encoding of `value` to `bytes`.
    public static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        let width: Int
        switch size(of: value) {
        case 1:
            bytes.append(UInt8(value))
            return
        case 3:
            bytes.append(0xfd)
            width = 2
        case 5:
            bytes.append(0xfe)
            width = 4
        default:
            bytes.append(0xff)
            width = 8
        }
        for index in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
    }

    /// Decodes the CompactSize that starts at `offset` of `bytes`: its value and how many bytes it took.
    public static func decode(_ bytes: [UInt8], at offset: Int = 0) throws(BitcoinError) -> (value: UInt64, size: Int) {
        guard offset >= 0, offset <= bytes.count else {
            throw .truncated(what: "CompactSize", offset: offset, needed: 1, available: 0)
        }
        var reader = ByteReader(bytes, offset: offset)
        let value = try reader.readCompactSize("CompactSize")
        return (value, reader.offset - offset)
    }
}
