/// Bech32 (BIP173) and Bech32m (BIP350) strings: a human-readable part, '1', 5-bit data values and a 6-character
/// BCH checksum whose final constant tells the two variants apart.
public enum Bech32 {
    /// Which checksum constant a string uses.
    public enum Variant: String, Hashable, Sendable, CustomStringConvertible {
        /// BIP173 (constant 1): witness version 0 addresses.
        case bech32
        /// BIP350 (constant 0x2bc830a3): witness versions 1 to 16.
        case bech32m

        /// The polymod constant of the variant.
        var constant: UInt32 { self == .bech32 ? 1 : 0x2bc8_30a3 }

        /// "Bech32" or "Bech32m".
        public var description: String { self == .bech32 ? "Bech32" : "Bech32m" }
    }

    /// The 32 data characters, value order.
    static let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)

    /// Value of each ASCII character in ``charset``, -1 elsewhere.
    private static let charsetValues: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (value, character) in charset.enumerated() { table[Int(character)] = Int8(value) }
        return table
    }()

    /// The maximum length BIP173 allows for a string.
    public static let maximumLength = 90

    /// The BCH checksum state over `values` (BIP173's polymod).
    private static func polymod(_ values: [UInt8]) -> UInt32 {
        let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var checksum: UInt32 = 1
        for value in values {
            let top = checksum >> 25
            checksum = (checksum & 0x1ff_ffff) << 5 ^ UInt32(value)
            for index in 0..<5 where (top >> UInt32(index)) & 1 == 1 { checksum ^= generator[index] }
        }
        return checksum
    }

    /// The human-readable part expanded for the checksum: high bits of each character, 0, low bits.
    private static func expand(_ hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    /// Encodes lower-case `hrp` and 5-bit `values` with a checksum of `variant`. Throws for an empty or non-ASCII
    /// human-readable part, a value above 31, or a result longer than ``maximumLength``.
    public static func encode(hrp: String, values: [UInt8], variant: Variant) throws(BitcoinError) -> String {
        let hrpBytes = Array(hrp.lowercased().utf8)
        guard !hrpBytes.isEmpty else { throw .bech32EmptyHumanReadablePart }
        for (position, character) in hrpBytes.enumerated() where character < 33 || character > 126 {
            throw .bech32InvalidCharacter(position: position, scalar: Unicode.Scalar(character))
        }
        for (position, value) in values.enumerated() where value > 31 {
            throw .bech32InvalidCharacter(position: hrpBytes.count + 1 + position, scalar: Unicode.Scalar(value))
        }
        let length = hrpBytes.count + 1 + values.count + 6
        guard length <= maximumLength else { throw .bech32TooLong(length: length, maximum: maximumLength) }
        let state = polymod(expand(hrpBytes) + values + [0, 0, 0, 0, 0, 0]) ^ variant.constant
        let checksum = (0..<6).map { UInt8((state >> UInt32(5 * (5 - $0))) & 31) }
        let text = hrpBytes + [UInt8(ascii: "1")] + (values + checksum).map { charset[Int($0)] }
        return String(decoding: text, as: UTF8.self)
    }

    /// Decodes a Bech32 or Bech32m string: its lower-case human-readable part, the 5-bit data values without the
    /// checksum, and which variant's checksum it carries.
    public static func decode(_ text: String, maximumLength: Int = Bech32.maximumLength) throws(BitcoinError)
        -> (hrp: String, values: [UInt8], variant: Variant) {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count <= maximumLength else { throw .bech32TooLong(length: scalars.count, maximum: maximumLength) }
        var hasLower = false
        var hasUpper = false
        for (position, scalar) in scalars.enumerated() {
            guard scalar.value >= 33, scalar.value <= 126 else {
                throw .bech32InvalidCharacter(position: position, scalar: scalar)
            }
            if (97...122).contains(scalar.value) { hasLower = true }
            if (65...90).contains(scalar.value) { hasUpper = true }
        }
        guard !(hasLower && hasUpper) else { throw .bech32MixedCase }
        let lowered = scalars.map { UInt8(truncatingIfNeeded: $0.lowercasedASCII.value) }
        guard let separator = lowered.lastIndex(of: UInt8(ascii: "1")) else { throw .bech32MissingSeparator }
        guard separator > 0 else { throw .bech32EmptyHumanReadablePart }
        let hrp = Array(lowered[..<separator])
        var values = [UInt8]()
        for position in (separator + 1)..<lowered.count {
            let character = lowered[position]
            let value = character < 128 ? charsetValues[Int(character)] : -1
            guard value >= 0 else { throw .bech32InvalidCharacter(position: position, scalar: scalars[position]) }
            values.append(UInt8(value))
        }
        guard values.count >= 6 else { throw .bech32ChecksumTooShort }
        let state = polymod(expand(hrp) + values)
        let variant: Variant
        switch state {
        case Variant.bech32.constant: variant = .bech32
        case Variant.bech32m.constant: variant = .bech32m
        default: throw .bech32InvalidChecksum
        }
        return (String(decoding: hrp, as: UTF8.self), Array(values.dropLast(6)), variant)
    }

    /// Regroups bits: `values` of `fromBits` bits each into values of `toBits` bits, most significant first. With
    /// `pad` a final partial group is zero-padded; without, it must be fewer than `fromBits` bits and all zero (else
    /// nil).
    public static func convertBits(_ values: [UInt8], from fromBits: Int, to toBits: Int, pad: Bool) -> [UInt8]? {
        guard (1...8).contains(fromBits), (1...8).contains(toBits) else { return nil }
        var accumulator: UInt32 = 0
        var bits = 0
        let maxValue: UInt32 = (1 << UInt32(toBits)) - 1
        var result = [UInt8]()
        result.reserveCapacity(values.count * fromBits / toBits + 1)
        for value in values {
            guard UInt32(value) >> UInt32(fromBits) == 0 else { return nil }
            accumulator = (accumulator << UInt32(fromBits) | UInt32(value)) & 0xffff
            bits += fromBits
            while bits >= toBits {
                bits -= toBits
                result.append(UInt8((accumulator >> UInt32(bits)) & maxValue))
            }
        }
        if pad {
            if bits > 0 { result.append(UInt8((accumulator << UInt32(toBits - bits)) & maxValue)) }
        } else if bits >= fromBits || (accumulator << UInt32(toBits - bits)) & maxValue != 0 {
            return nil
        }
        return result
    }

    /// A segwit address (BIP173/BIP350): `hrp`, then the witness version and the program in 5-bit groups, with a
    /// Bech32 checksum for version 0 and Bech32m otherwise. Throws for a version above 16 or a program length the
    /// version does not allow.
    public static func encodeSegwitAddress(hrp: String, version: UInt8, program: [UInt8]) throws(BitcoinError) -> String {
        try validateWitnessProgram(version: version, program: program)
        let values = [version] + (convertBits(program, from: 8, to: 5, pad: true) ?? [])
        return try encode(hrp: hrp, values: values, variant: version == 0 ? .bech32 : .bech32m)
    }

    /// Decodes a segwit address: its lower-case human-readable part, witness version and program, with every
    /// BIP173/BIP350 check (padding, program length, checksum variant matching the version).
    public static func decodeSegwitAddress(_ text: String) throws(BitcoinError) -> (hrp: String, version: UInt8, program: [UInt8]) {
        let (hrp, values, variant) = try decode(text)
        guard let version = values.first else { throw .emptyWitnessData }
        guard version <= 16 else { throw .invalidWitnessVersion(version) }
        guard let program = convertBits(Array(values.dropFirst()), from: 5, to: 8, pad: false) else {
            throw .invalidBech32Padding
        }
        try validateWitnessProgram(version: version, program: program)
        let expected: Variant = version == 0 ? .bech32 : .bech32m
        guard variant == expected else { throw .bech32WrongVariant(witnessVersion: version, used: variant) }
        return (hrp, version, program)
    }

    /// Checks a witness version (0 to 16) and its program length (2 to 40 bytes; 20 or 32 for version 0).
    static func validateWitnessProgram(version: UInt8, program: [UInt8]) throws(BitcoinError) {
        guard version <= 16 else { throw .invalidWitnessVersion(version) }
        guard (2...40).contains(program.count), version != 0 || program.count == 20 || program.count == 32 else {
            throw .invalidWitnessProgramLength(version: version, length: program.count)
        }
    }
}

extension Unicode.Scalar {
    /// The scalar with ASCII A-Z mapped to a-z.
    var lowercasedASCII: Unicode.Scalar {
        (65...90).contains(value) ? Unicode.Scalar(UInt8(value + 32)) : self
    }
}
