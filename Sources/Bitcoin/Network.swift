import Sv2Binary

/// A Bitcoin network and the parameters this package needs from Bitcoin Core's chainparams: address prefixes,
/// subsidy halving interval, proof-of-work limit and genesis block.
///
/// `testnet` is testnet3; testnet4 shares its address prefixes but has another genesis block.
public enum Network: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// The main network.
    case mainnet
    /// The public test network (testnet3).
    case testnet
    /// The default signet.
    case signet
    /// The local regression-test network.
    case regtest

    /// The name (`mainnet`, `testnet`, `signet`, `regtest`).
    public var description: String { rawValue }

    /// The bech32 human-readable part of segwit addresses: `bc`, `tb` (testnet and signet) or `bcrt`.
    public var bech32HRP: String {
        switch self {
        case .mainnet: return "bc"
        case .testnet, .signet: return "tb"
        case .regtest: return "bcrt"
        }
    }

    /// The base58check version byte of P2PKH addresses: 0 (`1…`) on mainnet, 111 (`m…`/`n…`) elsewhere.
    public var pubkeyHashVersion: UInt8 { self == .mainnet ? 0 : 111 }

    /// The base58check version byte of P2SH addresses: 5 (`3…`) on mainnet, 196 (`2…`) elsewhere.
    public var scriptHashVersion: UInt8 { self == .mainnet ? 5 : 196 }

    /// Blocks between subsidy halvings: 210,000, or 150 on regtest.
    public var halvingInterval: UInt32 { self == .regtest ? 150 : 210_000 }

    /// The block subsidy at `height` on this network, in satoshis.
    public func blockSubsidy(height: UInt32) -> UInt64 {
        BlockSubsidy.amount(height: height, halvingInterval: halvingInterval)
    }

    /// The highest target (easiest difficulty) a block may have.
    public var powLimit: U256 {
        switch self {
        case .mainnet, .testnet:
            return U256(w0: .max, w1: .max, w2: .max, w3: 0x0000_0000_ffff_ffff)
        case .signet:
            return U256(w0: 0, w1: 0, w2: 0, w3: 0x0000_0377_ae00_0000)
        case .regtest:
            return U256(w0: .max, w1: .max, w2: .max, w3: 0x7fff_ffff_ffff_ffff)
        }
    }

    /// The genesis block hash, internal byte order (regtest: display `0f9188f1…2206`).
    public var genesisHash: U256 {
        let display: String
        switch self {
        case .mainnet: display = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        case .testnet: display = "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943"
        case .signet: display = "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6"
        case .regtest: display = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
        }
        return U256(displayHex: display) ?? .zero
    }

    /// The genesis header (Bitcoin Core's `CreateGenesisBlock(time, nonce, bits, 1, 50 BTC)`).
    public var genesisHeader: BlockHeader {
        let (time, nonce, bits): (UInt32, UInt32, UInt32)
        switch self {
        case .mainnet: (time, nonce, bits) = (1_231_006_505, 2_083_236_893, 0x1d00_ffff)
        case .testnet: (time, nonce, bits) = (1_296_688_602, 414_098_458, 0x1d00_ffff)
        case .signet: (time, nonce, bits) = (1_598_918_400, 52_613_770, 0x1e03_77ae)
        case .regtest: (time, nonce, bits) = (1_296_688_602, 2, 0x207f_ffff)
        }
        return BlockHeader(version: 1, previousBlockHash: .zero, merkleRoot: Network.genesisCoinbase.txid,
                           time: time, bits: bits, nonce: nonce)
    }

    /// The genesis block: its header and the one coinbase all four networks share ("The Times 03/Jan/2009 …").
    public var genesisBlock: Block {
        Block(header: genesisHeader, transactions: [Network.genesisCoinbase])
    }

    /// The genesis coinbase transaction.
    static let genesisCoinbase = Transaction(
        version: 1,
        inputs: [TransactionInput(
            previousOutput: .null,
            scriptSig: Script.pushInteger(486_604_799) + Script.pushData([4])
                + Script.pushData(Array("The Times 03/Jan/2009 Chancellor on brink of second bailout for banks".utf8)),
            sequence: .max
        )],
        outputs: [TransactionOutput(
            value: BlockSubsidy.initial,
            scriptPubKey: Script.pushData(Hex.decode(
                "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f"
            ) ?? []) + [Script.opCheckSig]
        )],
        lockTime: 0
    )

    /// The networks whose segwit addresses use `hrp` (lower case).
    public static func networks(bech32HRP hrp: String) -> [Network] {
        allCases.filter { $0.bech32HRP == hrp }
    }

    /// The networks that use `version` as a P2PKH or P2SH base58check version byte.
    public static func networks(base58Version version: UInt8) -> [Network] {
        allCases.filter { $0.pubkeyHashVersion == version || $0.scriptHashVersion == version }
    }
}
