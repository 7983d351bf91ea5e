import Sv2Crypto

/// A Bitcoin address of one network: base58check P2PKH or P2SH, or a segwit witness program in Bech32 (version 0)
/// or Bech32m (versions 1 to 16, BIP350).
///
/// Parsing checks the network: an address that is valid but belongs to another network throws
/// ``BitcoinError/wrongNetwork(expected:addressNetworks:)``. Testnet and signet addresses are the same strings; regtest
/// shares their base58 prefixes but has its own bech32 prefix `bcrt`.
public struct Address: Hashable, Sendable, CustomStringConvertible {
    /// What an address pays to.
    public enum Payload: Hashable, Sendable {
        /// HASH160 of a public key (P2PKH): 20 bytes.
        case pubkeyHash([UInt8])
        /// HASH160 of a redeem script (P2SH): 20 bytes.
        case scriptHash([UInt8])
        /// A witness program: version 0 to 16 and 2 to 40 bytes (20 or 32 for version 0).
        case witnessProgram(version: UInt8, program: [UInt8])
    }

    /// The standard output types, as Bitcoin Core names them.
    public enum Kind: String, Hashable, Sendable {
        /// Pay to public key hash.
        case p2pkh
        /// Pay to script hash.
        case p2sh
        /// Pay to witness public key hash (version 0, 20 bytes).
        case p2wpkh
        /// Pay to witness script hash (version 0, 32 bytes).
        case p2wsh
        /// Pay to taproot (version 1, 32 bytes).
        case p2tr
        /// Another witness version or program length, valid to send to but not yet defined.
        case witnessUnknown
    }

    /// What the address pays to.
    public let payload: Payload
    /// The network the address is for.
    public let network: Network

    /// Creates an address, checking the payload's lengths and witness version.
    public init(_ payload: Payload, network: Network) throws(BitcoinError) {
        switch payload {
        case let .pubkeyHash(hash), let .scriptHash(hash):
            guard hash.count == 20 else { throw .invalidLength(what: "address hash", expected: "20", actual: hash.count) }
        case let .witnessProgram(version, program):
            try Bech32.validateWitnessProgram(version: version, program: program)
        }
        self.payload = payload
        self.network = network
    }

    /// Parses an address of `network`.
    public init(_ text: String, network: Network) throws(BitcoinError) {
        let length = text.unicodeScalars.count
        guard length > 0, length <= Bech32.maximumLength else { throw .invalidAddressLength(length) }
        if let base58 = try Address.decodeBase58(text, network: network) {
            self = base58
            return
        }
        let (hrp, version, program) = try Bech32.decodeSegwitAddress(text)
        guard hrp == network.bech32HRP else {
            let owners = Network.networks(bech32HRP: hrp)
            guard !owners.isEmpty else { throw .unknownHumanReadablePart(hrp) }
            throw .wrongNetwork(expected: network, addressNetworks: owners)
        }
        self.payload = .witnessProgram(version: version, program: program)
        self.network = network
    }

    /// The address if `text` is meant as base58 (only base58 characters and not starting with a known bech32 prefix),
    /// nil if it should be tried as bech32.
    private static func decodeBase58(_ text: String, network: Network) throws(BitcoinError) -> Address? {
        let lowered = text.lowercased()
        let bech32Prefixes = Set(Network.allCases.map { $0.bech32HRP + "1" })
        if bech32Prefixes.contains(where: { lowered.hasPrefix($0) }) { return nil }
        let alphabet = Set("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".unicodeScalars)
        if let bad = text.unicodeScalars.first(where: { !alphabet.contains($0) }) {
            // Letters then '1' look like a bech32 address of an unknown prefix: let the bech32 decoder name the error.
            if let separator = lowered.lastIndex(of: "1"), separator > lowered.startIndex,
               lowered[..<separator].allSatisfy({ $0 >= "a" && $0 <= "z" }) {
                return nil
            }
            throw .invalidBase58Character(bad)
        }
        let payload: [UInt8]
        do throws(Sv2CryptoError) {
            payload = try Base58.checkDecode(text)
        } catch {
            switch error {
            case let .invalidBase58Character(character):
                throw .invalidBase58Character(character.unicodeScalars.first ?? "?")
            case let .wrongLength(_, _, actual):
                throw .invalidBase58PayloadLength(actual)
            default:
                throw .invalidBase58Checksum
            }
        }
        guard payload.count == 21 else { throw .invalidBase58PayloadLength(payload.count) }
        let version = payload[0]
        let hash = Array(payload[1...])
        if version == network.pubkeyHashVersion { return Address(unchecked: .pubkeyHash(hash), network: network) }
        if version == network.scriptHashVersion { return Address(unchecked: .scriptHash(hash), network: network) }
        let owners = Network.networks(base58Version: version)
        guard !owners.isEmpty else { throw .unknownBase58Version(version) }
        throw .wrongNetwork(expected: network, addressNetworks: owners)
    }

    /// An address whose payload is known to be valid.
    private init(unchecked payload: Payload, network: Network) {
        self.payload = payload
        self.network = network
    }

    /// The address paid by `scriptPubKey` on `network`: P2PKH, P2SH or a witness program (BIP141: OP_0 or OP_1…OP_16,
    /// then one direct push of 2 to 40 bytes). Throws ``BitcoinError/scriptHasNoAddress`` for any other script.
    public init(scriptPubKey script: [UInt8], network: Network) throws(BitcoinError) {
        if script.count == 25, script.starts(with: [Script.opDup, Script.opHash160, 20]),
           script[23] == Script.opEqualVerify, script[24] == Script.opCheckSig {
            self.init(unchecked: .pubkeyHash(Array(script[3..<23])), network: network)
        } else if script.count == 23, script.starts(with: [Script.opHash160, 20]), script[22] == Script.opEqual {
            self.init(unchecked: .scriptHash(Array(script[2..<22])), network: network)
        } else if script.count >= 4, script.count <= 42, script[0] == Script.op0 || (Script.op1...Script.op16).contains(script[0]),
                  Int(script[1]) == script.count - 2 {
            let version = script[0] == Script.op0 ? 0 : script[0] - Script.op1 + 1
            let program = Array(script[2...])
            guard (try? Bech32.validateWitnessProgram(version: version, program: program)) != nil else {
                throw .scriptHasNoAddress
            }
            self.init(unchecked: .witnessProgram(version: version, program: program), network: network)
        } else {
            throw .scriptHasNoAddress
        }
    }

    /// The output type.
    public var kind: Kind {
        switch payload {
        case .pubkeyHash: return .p2pkh
        case .scriptHash: return .p2sh
        case let .witnessProgram(version, program):
            switch (version, program.count) {
            case (0, 20): return .p2wpkh
            case (0, _): return .p2wsh
            case (1, 32): return .p2tr
            default: return .witnessUnknown
            }
        }
    }

    /// The output script that pays this address.
    ///
    /// P2PKH `76 a9 14 <hash> 88 ac`, P2SH `a9 14 <hash> 87`, witness program `<OP_version> <push program>`.
    public var scriptPubKey: [UInt8] {
        switch payload {
        case let .pubkeyHash(hash):
            return [Script.opDup, Script.opHash160, 20] + hash + [Script.opEqualVerify, Script.opCheckSig]
        case let .scriptHash(hash):
            return [Script.opHash160, 20] + hash + [Script.opEqual]
        case let .witnessProgram(version, program):
            return [version == 0 ? Script.op0 : Script.op1 + version - 1, UInt8(program.count)] + program
        }
    }

    /// The address string: base58check for P2PKH/P2SH, lower-case Bech32/Bech32m for witness programs.
    public var description: String {
        switch payload {
        case let .pubkeyHash(hash):
            return Base58.checkEncode([network.pubkeyHashVersion] + hash)
        case let .scriptHash(hash):
            return Base58.checkEncode([network.scriptHashVersion] + hash)
        case let .witnessProgram(version, program):
            // The payload was validated on creation, so encoding cannot fail.
            return (try? Bech32.encodeSegwitAddress(hrp: network.bech32HRP, version: version, program: program)) ?? ""
        }
    }
}
