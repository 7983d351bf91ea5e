/// A failure of the Bitcoin layer: bytes that are not a valid structure, an address or descriptor that does not
/// parse or belongs to another network, or a value out of range.
///
/// Every case has a stable ``code`` (for logs and tests) and a sentence for the user (``description``).
public enum BitcoinError: Error, Hashable, Sendable, CustomStringConvertible {
    // MARK: Bytes

    /// The input ended inside `what`: `needed` bytes were required at `offset` and only `available` remained.
    case truncated(what: String, offset: Int, needed: Int, available: Int)
    /// `count` bytes were left after a complete `what`.
    case trailingBytes(what: String, count: Int)
    /// A CompactSize at `offset` that is not in its shortest form (Bitcoin Core rejects these).
    case nonCanonicalCompactSize(offset: Int, value: UInt64)
    /// A count or length prefix at `offset` larger than the bytes that remain could hold (at most `maximum`).
    case countTooLarge(what: String, offset: Int, count: UInt64, maximum: Int)
    /// The byte after a BIP144 marker (0x00) is not the flag 0x01.
    case unknownWitnessFlag(UInt8)
    /// A transaction carries the BIP144 marker and flag but every witness stack is empty.
    case superfluousWitness
    /// Text that is not an even number of hexadecimal digits.
    case invalidHex(what: String)
    /// A value of the wrong length was given for `what`.
    case invalidLength(what: String, expected: String, actual: Int)

    // MARK: Scripts and coinbase

    /// A script whose push runs past its end, at byte `offset`.
    case truncatedScriptPush(offset: Int)
    /// The coinbase scriptSig does not start with a BIP34 height push as Bitcoin Core writes it.
    case invalidCoinbaseHeight(reason: String)
    /// A coinbase prefix/suffix pair whose witness part is not one item of 32 bytes.
    case unexpectedCoinbaseWitness(reason: String)
    /// A scriptPubKey that has no address form (not P2PKH, P2SH or a witness program).
    case scriptHasNoAddress

    // MARK: Targets

    /// nBits with the sign bit set (Bitcoin Core treats the target as negative).
    case negativeTarget(bits: UInt32)
    /// nBits whose target does not fit in 256 bits.
    case targetOverflow(bits: UInt32)
    /// nBits whose target is zero.
    case zeroTarget(bits: UInt32)

    // MARK: Addresses

    /// An address string that is empty or longer than any address format allows.
    case invalidAddressLength(Int)
    /// A base58 address with a character outside the base58 alphabet.
    case invalidBase58Character(Unicode.Scalar)
    /// A base58 address whose checksum does not match (mistyped or truncated).
    case invalidBase58Checksum
    /// A base58 address whose payload is not a version byte and a 20-byte hash.
    case invalidBase58PayloadLength(Int)
    /// A base58 address whose version byte no network uses for P2PKH or P2SH.
    case unknownBase58Version(UInt8)
    /// A bech32 string mixing upper- and lower-case letters.
    case bech32MixedCase
    /// A bech32 string without the '1' separating the human-readable part from the data.
    case bech32MissingSeparator
    /// A bech32 string whose human-readable part is empty.
    case bech32EmptyHumanReadablePart
    /// A bech32 string with a character that is not allowed at `position` (0-based).
    case bech32InvalidCharacter(position: Int, scalar: Unicode.Scalar)
    /// A bech32 string longer than `maximum` characters.
    case bech32TooLong(length: Int, maximum: Int)
    /// A bech32 string whose data part is shorter than the 6-character checksum.
    case bech32ChecksumTooShort
    /// A bech32 string whose checksum is neither a valid Bech32 nor a valid Bech32m checksum.
    case bech32InvalidChecksum
    /// A segwit address whose checksum variant does not match its witness version (BIP350: Bech32 for version 0,
    /// Bech32m for versions 1 to 16).
    case bech32WrongVariant(witnessVersion: UInt8, used: Bech32.Variant)
    /// A bech32 address whose human-readable part belongs to no known network.
    case unknownHumanReadablePart(String)
    /// A segwit address without a witness version and program.
    case emptyWitnessData
    /// A segwit address whose witness version is above 16.
    case invalidWitnessVersion(UInt8)
    /// A witness program of a length its version does not allow (2 to 40 bytes; 20 or 32 for version 0).
    case invalidWitnessProgramLength(version: UInt8, length: Int)
    /// A segwit address whose 5-bit to 8-bit conversion leaves more than 4 bits or non-zero padding.
    case invalidBech32Padding
    /// A valid address of another network.
    case wrongNetwork(expected: Network, addressNetworks: [Network])

    // MARK: Descriptors

    /// A descriptor this implementation does not support (only top-level `addr(...)` and `raw(...)`).
    case unsupportedDescriptor(String)
    /// A descriptor with a character outside the BIP380 character set at `position` (0-based).
    case invalidDescriptorCharacter(position: Int)
    /// A descriptor with more than one '#'.
    case multipleDescriptorChecksums
    /// A descriptor checksum that is not 8 characters.
    case descriptorChecksumLength(Int)
    /// A descriptor checksum that does not match the descriptor.
    case descriptorChecksumMismatch(expected: String, found: String)

    /// A short stable identifier of the case, e.g. `truncated` or `bech32_wrong_variant`.
    public var code: String {
        switch self {
        case .truncated: return "truncated"
        case .trailingBytes: return "trailing_bytes"
        case .nonCanonicalCompactSize: return "non_canonical_compact_size"
        case .countTooLarge: return "count_too_large"
        case .unknownWitnessFlag: return "unknown_witness_flag"
        case .superfluousWitness: return "superfluous_witness"
        case .invalidHex: return "invalid_hex"
        case .invalidLength: return "invalid_length"
        case .truncatedScriptPush: return "truncated_script_push"
        case .invalidCoinbaseHeight: return "invalid_coinbase_height"
        case .unexpectedCoinbaseWitness: return "unexpected_coinbase_witness"
        case .scriptHasNoAddress: return "script_has_no_address"
        case .negativeTarget: return "negative_target"
        case .targetOverflow: return "target_overflow"
        case .zeroTarget: return "zero_target"
        case .invalidAddressLength: return "invalid_address_length"
        case .invalidBase58Character: return "invalid_base58_character"
        case .invalidBase58Checksum: return "invalid_base58_checksum"
        case .invalidBase58PayloadLength: return "invalid_base58_payload_length"
        case .unknownBase58Version: return "unknown_base58_version"
        case .bech32MixedCase: return "bech32_mixed_case"
        case .bech32MissingSeparator: return "bech32_missing_separator"
        case .bech32EmptyHumanReadablePart: return "bech32_empty_hrp"
        case .bech32InvalidCharacter: return "bech32_invalid_character"
        case .bech32TooLong: return "bech32_too_long"
        case .bech32ChecksumTooShort: return "bech32_checksum_too_short"
        case .bech32InvalidChecksum: return "bech32_invalid_checksum"
        case .bech32WrongVariant: return "bech32_wrong_variant"
        case .unknownHumanReadablePart: return "unknown_hrp"
        case .emptyWitnessData: return "empty_witness_data"
        case .invalidWitnessVersion: return "invalid_witness_version"
        case .invalidWitnessProgramLength: return "invalid_witness_program_length"
        case .invalidBech32Padding: return "invalid_bech32_padding"
        case .wrongNetwork: return "wrong_network"
        case .unsupportedDescriptor: return "unsupported_descriptor"
        case .invalidDescriptorCharacter: return "invalid_descriptor_character"
        case .multipleDescriptorChecksums: return "multiple_descriptor_checksums"
        case .descriptorChecksumLength: return "descriptor_checksum_length"
        case .descriptorChecksumMismatch: return "descriptor_checksum_mismatch"
        }
    }

    /// A sentence for the user.
    public var description: String {
        switch self {
        case let .truncated(what, offset, needed, available):
            return "\(what) is truncated: \(needed) bytes needed at offset \(offset), \(available) left"
        case let .trailingBytes(what, count):
            return "\(count) unexpected bytes after the \(what)"
        case let .nonCanonicalCompactSize(offset, value):
            return "CompactSize \(value) at offset \(offset) is not in its shortest form"
        case let .countTooLarge(what, offset, count, maximum):
            return "\(what) of \(count) at offset \(offset) cannot fit in the remaining bytes (at most \(maximum))"
        case let .unknownWitnessFlag(flag):
            return "BIP144 flag byte is 0x\(hexByte(flag)), expected 0x01 (or a transaction without inputs)"
        case .superfluousWitness:
            return "transaction has the BIP144 witness marker but every witness is empty"
        case let .invalidHex(what):
            return "\(what) is not an even number of hexadecimal digits"
        case let .invalidLength(what, expected, actual):
            return "\(what) must be \(expected) bytes, got \(actual)"
        case let .truncatedScriptPush(offset):
            return "script push at offset \(offset) runs past the end of the script"
        case let .invalidCoinbaseHeight(reason):
            return "coinbase scriptSig does not start with a BIP34 height push: \(reason)"
        case let .unexpectedCoinbaseWitness(reason):
            return "coinbase witness is not one 32-byte item: \(reason)"
        case .scriptHasNoAddress:
            return "scriptPubKey is not P2PKH, P2SH or a witness program, so it has no address"
        case let .negativeTarget(bits):
            return "nBits 0x\(hexWord(bits)) has the sign bit set (negative target)"
        case let .targetOverflow(bits):
            return "nBits 0x\(hexWord(bits)) encodes a target above 2^256"
        case let .zeroTarget(bits):
            return "nBits 0x\(hexWord(bits)) encodes a zero target"
        case let .invalidAddressLength(length):
            return "an address of \(length) characters is not of any supported format"
        case let .invalidBase58Character(scalar):
            return "'\(scalar.escaped(asASCII: true))' is not a base58 character"
        case .invalidBase58Checksum:
            return "base58 address checksum mismatch (mistyped or truncated?)"
        case let .invalidBase58PayloadLength(length):
            return "base58 address carries \(length) bytes, expected 21 (version byte and 20-byte hash)"
        case let .unknownBase58Version(version):
            return "base58 address version byte \(version) is not P2PKH or P2SH of any network"
        case .bech32MixedCase:
            return "bech32 address mixes upper and lower case"
        case .bech32MissingSeparator:
            return "bech32 address has no '1' separator"
        case .bech32EmptyHumanReadablePart:
            return "bech32 address has an empty human-readable part"
        case let .bech32InvalidCharacter(position, scalar):
            return "'\(scalar.escaped(asASCII: true))' at position \(position) is not allowed in a bech32 address"
        case let .bech32TooLong(length, maximum):
            return "bech32 string is \(length) characters, at most \(maximum) allowed"
        case .bech32ChecksumTooShort:
            return "bech32 data part is shorter than its 6-character checksum"
        case .bech32InvalidChecksum:
            return "bech32 checksum mismatch (mistyped address?)"
        case let .bech32WrongVariant(version, used):
            let expected: Bech32.Variant = version == 0 ? .bech32 : .bech32m
            return "witness version \(version) address uses a \(used) checksum, BIP350 requires \(expected)"
        case let .unknownHumanReadablePart(hrp):
            return "bech32 prefix '\(hrp)' is not mainnet (bc), testnet/signet (tb) or regtest (bcrt)"
        case .emptyWitnessData:
            return "segwit address has no witness version or program"
        case let .invalidWitnessVersion(version):
            return "witness version \(version) is above 16"
        case let .invalidWitnessProgramLength(version, length):
            let allowed = version == 0 ? "20 or 32" : "2 to 40"
            return "witness version \(version) program of \(length) bytes, must be \(allowed)"
        case .invalidBech32Padding:
            return "segwit address has invalid padding (more than 4 bits or non-zero)"
        case let .wrongNetwork(expected, networks):
            let names = networks.map(\.rawValue).joined(separator: "/")
            return "address is for \(names), not \(expected.rawValue)"
        case let .unsupportedDescriptor(text):
            return "unsupported descriptor '\(text)' (only addr(ADDRESS) and raw(HEX) are supported)"
        case let .invalidDescriptorCharacter(position):
            return "descriptor has a character outside the BIP380 character set at position \(position)"
        case .multipleDescriptorChecksums:
            return "descriptor has more than one '#'"
        case let .descriptorChecksumLength(length):
            return "descriptor checksum must be 8 characters, got \(length)"
        case let .descriptorChecksumMismatch(expected, found):
            return "descriptor checksum '\(found)' does not match the computed '\(expected)'"
        }
    }
}

/// Two lower-case hex digits.
private func hexByte(_ value: UInt8) -> String {
    let text = String(value, radix: 16)
    return text.count == 1 ? "0" + text : text
}

/// Eight lower-case hex digits.
private func hexWord(_ value: UInt32) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: 8 - text.count) + text
}
