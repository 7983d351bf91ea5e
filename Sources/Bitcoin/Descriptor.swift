import Sv2Binary

/// The output descriptors a coinbase payout needs (BIP385): `addr(ADDRESS)` and `raw(HEX)`, optionally followed by
/// `#` and the 8-character BIP380 checksum, which is then verified.
public enum Descriptor: Hashable, Sendable, CustomStringConvertible {
    /// `addr(ADDRESS)`: pays the address.
    case address(Address)
    /// `raw(HEX)`: the script itself (non-empty).
    case raw([UInt8])

    /// Parses `addr(...)` or `raw(...)` with an optional `#checksum`; addresses must belong to `network`.
    public init(_ text: String, network: Network) throws(BitcoinError) {
        let parts = text.split(separator: "#", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw .multipleDescriptorChecksums }
        let body = String(parts[0])
        if parts.count == 2 {
            let given = String(parts[1])
            guard given.unicodeScalars.count == 8 else { throw .descriptorChecksumLength(given.unicodeScalars.count) }
            let computed = try Descriptor.checksum(body)
            guard computed == given else { throw .descriptorChecksumMismatch(expected: computed, found: given) }
        } else {
            _ = try Descriptor.checksum(body)
        }
        if body.hasPrefix("addr("), body.hasSuffix(")"), body.count >= 6 {
            let inner = String(body.dropFirst(5).dropLast())
            self = .address(try Address(inner, network: network))
        } else if body.hasPrefix("raw("), body.hasSuffix(")"), body.count >= 5 {
            let inner = body.dropFirst(4).dropLast()
            guard !inner.isEmpty, inner.utf8.allSatisfy({ Hex.nibble($0) != nil }),
                  let script = Hex.decode(String(inner)) else { throw .invalidHex(what: "raw() descriptor script") }
            self = .raw(script)
        } else {
            throw .unsupportedDescriptor(body)
        }
    }

    /// The output script the descriptor describes.
    public var scriptPubKey: [UInt8] {
        switch self {
        case let .address(address): return address.scriptPubKey
        case let .raw(script): return script
        }
    }

    /// The descriptor without checksum: `addr(ADDRESS)` or `raw(hex)` (lower-case hex).
    public var body: String {
        switch self {
        case let .address(address): return "addr(\(address))"
        case let .raw(script): return "raw(\(Hex.encode(script)))"
        }
    }

    /// The descriptor with its checksum, e.g. `raw(deadbeef)#89f8spxm`.
    public var description: String {
        body + "#" + ((try? Descriptor.checksum(body)) ?? "")
    }

    /// BIP380's input character set, grouped so that a group change or a position change is one symbol error.
    private static let inputCharset = Array(
        "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ".unicodeScalars
    )

    /// Position of each ASCII character in ``inputCharset``, -1 elsewhere.
    private static let inputPositions: [Int] = {
        var table = [Int](repeating: -1, count: 128)
        for (position, scalar) in inputCharset.enumerated() { table[Int(scalar.value)] = position }
        return table
    }()

    /// The BIP380 checksum polymod over 5-bit symbols (a BCH code over GF(32) with a 40-bit state).
    private static func polymod(_ symbols: [UInt64]) -> UInt64 {
        let generator: [UInt64] = [0xf5_dee5_1989, 0xa9_fdca_3312, 0x1b_ab10_e32d, 0x37_06b1_677a, 0x64_4d62_6ffd]
        var checksum: UInt64 = 1
        for symbol in symbols {
            let top = checksum >> 35
            checksum = (checksum & 0x7_ffff_ffff) << 5 ^ symbol
            for index in 0..<5 where (top >> UInt64(index)) & 1 == 1 { checksum ^= generator[index] }
        }
        return checksum
    }

    /// The 8-character BIP380 checksum of a descriptor `body` (without `#`); throws for characters outside the
    /// descriptor character set.
    public static func checksum(_ body: String) throws(BitcoinError) -> String {
        var symbols = [UInt64]()
        var groups = [UInt64]()
        for (position, scalar) in body.unicodeScalars.enumerated() {
            let index = scalar.value < 128 ? inputPositions[Int(scalar.value)] : -1
            guard index >= 0 else { throw .invalidDescriptorCharacter(position: position) }
            symbols.append(UInt64(index & 31))
            groups.append(UInt64(index >> 5))
            if groups.count == 3 {
                symbols.append(groups[0] * 9 + groups[1] * 3 + groups[2])
                groups.removeAll(keepingCapacity: true)
            }
        }
        if groups.count == 1 {
            symbols.append(groups[0])
        } else if groups.count == 2 {
            symbols.append(groups[0] * 3 + groups[1])
        }
        let state = polymod(symbols + [0, 0, 0, 0, 0, 0, 0, 0]) ^ 1
        let characters = (0..<8).map { Bech32.charset[Int((state >> UInt64(5 * (7 - $0))) & 31)] }
        return String(decoding: characters, as: UTF8.self)
    }
}
