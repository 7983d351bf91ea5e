/// The block subsidy schedule: 50 BTC halving every `halvingInterval` blocks.
public enum BlockSubsidy {
    /// Satoshis per bitcoin.
    public static let coin: UInt64 = 100_000_000
    /// The subsidy of the first halving period: 50 BTC.
    public static let initial: UInt64 = 50 * coin

    /// Bitcoin Core's `GetBlockSubsidy`: 50 BTC shifted right once per completed halving interval, zero from the
    /// 64th halving on. Mainnet, testnet and signet use an interval of 210,000, regtest 150. An interval of zero
    /// yields zero (no block is ever in the first period).
    public static func amount(height: UInt32, halvingInterval: UInt32) -> UInt64 {
        guard halvingInterval > 0 else { return 0 }
        let halvings = height / halvingInterval
        guard halvings < 64 else { return 0 }
        return initial >> UInt64(halvings)
    }
}
