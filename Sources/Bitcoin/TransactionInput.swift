/// A transaction input: the output it spends, its scriptSig, sequence and witness stack (BIP141).
public struct TransactionInput: Hashable, Sendable {
    /// The output being spent.
    public var previousOutput: OutPoint
    /// The scriptSig (for a coinbase: the BIP34 height push and arbitrary data, 2 to 100 bytes).
    public var scriptSig: [UInt8]
    /// The sequence number (0xffffffff disables the lock time and relative lock times).
    public var sequence: UInt32
    /// The witness stack, bottom item first; empty for legacy inputs.
    public var witness: [[UInt8]]

    /// Creates an input.
    public init(previousOutput: OutPoint, scriptSig: [UInt8], sequence: UInt32 = .max, witness: [[UInt8]] = []) {
        self.previousOutput = previousOutput
        self.scriptSig = scriptSig
        self.sequence = sequence
        self.witness = witness
    }
}
