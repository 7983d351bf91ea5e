import Bitcoin
import Sv2Binary
import Sv2Crypto
import Sv2Formats
import Sv2Network
import Sv2Node

/// Mempool, raw transaction, script and address methods.
extension NodeRPC {
    func getMempoolInfo() -> JSONValue {
        let info = node.mempoolInfo
        let usage = node.mempoolEntries.reduce(0) { $0 + $1.serialized.count + Self.entryOverhead }
        return .object([
            ("loaded", .bool(true)),
            ("size", .number(String(info.count))),
            ("bytes", .number(String(info.virtualSize))),
            ("usage", .number(String(usage))),
            ("total_fee", .number(bitcoinAmount(info.totalFees))),
            ("maxmempool", .number("300000000")),
            ("mempoolminfee", .number("0.00001000")),
            ("minrelaytxfee", .number("0.00001000")),
            ("incrementalrelayfee", .number("0.00001000")),
            ("unbroadcastcount", .number("0")),
            ("fullrbf", .bool(true)),
            ("permitbaremultisig", .bool(true)),
            ("maxdatacarriersize", .number("100000")),
            ("limitclustercount", .number("64")),
            ("limitclustersize", .number("101")),
            ("optimal", .bool(true)),
        ])
    }

    /// Memory an entry takes besides its serialisation (ids, fee, indexes), for `usage`.
    private static let entryOverhead = 256

    /// Txids; with `verbose`, an object of entries (every entry spends confirmed outputs only, so each is its own
    /// ancestor and descendant set); with `mempool_sequence`, the txids and the sequence number.
    func getRawMempool(_ params: [JSONValue]) throws -> JSONValue {
        let verbose = params.first == .bool(true)
        let withSequence = params.count > 1 && params[1] == .bool(true)
        if verbose, withSequence {
            throw JSONRPCError.invalidParameter("Verbose results cannot contain mempool sequence values.")
        }
        let entries = node.mempoolEntries
        if withSequence {
            return .object([
                ("txids", .array(entries.map { .string($0.txid.displayHex) })),
                ("mempool_sequence", .number(String(node.mempoolInfo.sequence))),
            ])
        }
        guard verbose else { return .array(entries.map { .string($0.txid.displayHex) }) }
        return .object(entries.map { entry in
            let fee = JSONValue.number(bitcoinAmount(entry.fee))
            return (entry.txid.displayHex, .object([
                ("vsize", .number(String(entry.virtualSize))),
                ("weight", .number(String(entry.weight))),
                ("time", .number(String(entry.time))),
                ("height", .number(String(entry.height))),
                ("descendantcount", .number("1")),
                ("descendantsize", .number(String(entry.virtualSize))),
                ("ancestorcount", .number("1")),
                ("ancestorsize", .number(String(entry.virtualSize))),
                ("wtxid", .string(entry.wtxid.displayHex)),
                ("fees", .object([("base", fee), ("modified", fee), ("ancestor", fee), ("descendant", fee)])),
                ("depends", .array([])),
                ("spentby", .array([])),
                ("bip125-replaceable", .bool(entry.transaction.inputs.contains { $0.sequence < 0xffff_fffe })),
                ("unbroadcast", .bool(false)),
            ]))
        })
    }

    func decodeRawTransaction(_ params: [JSONValue]) throws -> JSONValue {
        guard case let .string(hex) = params[0], let bytes = Hex.decode(hex),
              let transaction = try? Transaction(bytes: bytes)
        else { throw JSONRPCError(code: NodeRPC.deserializationError, message: "TX decode failed") }
        return transactionJSON(transaction, includeHex: false)
    }

    /// From the mempool, or from the block given; this node keeps no transaction index (Core's default).
    func getRawTransaction(_ params: [JSONValue]) throws -> JSONValue {
        let txid = try hash(params, 0, name: "parameter 1")
        let verbosity = try self.verbosity(params, 1, default: 0)
        // The genesis block's only transaction: its txid is the genesis merkle root.
        if let genesis = node.blockHash(height: 0), node.header(hash: genesis)?.merkleRoot == txid {
            throw JSONRPCError(code: NodeRPC.invalidAddressOrKey, message: "The genesis block coinbase is not considered an ordinary transaction and cannot be retrieved")
        }
        var found: (transaction: Transaction, block: (hash: U256, height: UInt32, time: UInt32)?)?
        if params.count > 2, params[2] != .null {
            let blockHash = try hash(params, 2, name: "parameter 3")
            guard let block = node.block(hash: blockHash), let height = node.height(of: blockHash) else {
                throw JSONRPCError(code: NodeRPC.invalidAddressOrKey, message: "Block hash not found")
            }
            guard let transaction = block.transactions.first(where: { $0.txid == txid }) else {
                throw JSONRPCError(code: NodeRPC.invalidAddressOrKey, message: "No such transaction found in the provided block. Use gettransaction for wallet transactions.")
            }
            found = (transaction, (blockHash, height, block.header.time))
        } else if let entry = node.mempoolEntries.first(where: { $0.txid == txid }) {
            found = (entry.transaction, nil)
        }
        guard let (transaction, block) = found else {
            throw JSONRPCError(code: NodeRPC.invalidAddressOrKey, message: "No such mempool transaction. Use -txindex or provide a block hash to enable blockchain transaction queries. Use gettransaction for wallet transactions.")
        }
        if verbosity <= 0 { return .string(transaction.hex) }
        guard case var .object(fields) = transactionJSON(transaction, includeHex: true) else { return .null }
        if let block {
            fields.insert(("in_active_chain", .bool(true)), at: 0)
            fields += [
                ("blockhash", .string(block.hash.displayHex)),
                ("confirmations", .number(String(node.tip.height - block.height + 1))),
                ("time", .number(String(block.time))),
                ("blocktime", .number(String(block.time))),
            ]
        }
        return .object(fields)
    }

    /// Bitcoin Core's `TxToUniv`: with the `spent` coins (undo data) the fee, and with `prevouts` each input's prevout.
    func transactionJSON(
        _ transaction: Transaction, includeHex: Bool, spent: [OutPoint: Coin]? = nil, prevouts: Bool = false
    ) -> JSONValue {
        let inputs: [JSONValue] = transaction.inputs.map { input in
            var fields: [(String, JSONValue)]
            if transaction.isCoinbase {
                fields = [("coinbase", .string(Hex.encode(input.scriptSig)))]
            } else {
                fields = [
                    ("txid", .string(input.previousOutput.txid.displayHex)),
                    ("vout", .number(String(input.previousOutput.vout))),
                    ("scriptSig", .object([
                        ("asm", .string(Script.assembly(input.scriptSig, decodeSignatures: true))),
                        ("hex", .string(Hex.encode(input.scriptSig))),
                    ])),
                ]
            }
            if !input.witness.isEmpty { fields.append(("txinwitness", .array(input.witness.map { .string(Hex.encode($0)) }))) }
            if prevouts, let coin = spent?[input.previousOutput] {
                fields.append(("prevout", .object([
                    ("generated", .bool(coin.isCoinbase)),
                    ("height", .number(String(coin.height))),
                    ("value", .number(bitcoinAmount(coin.output.value))),
                    ("scriptPubKey", scriptJSON(coin.output.scriptPubKey, includeHex: true)),
                ])))
            }
            fields.append(("sequence", .number(String(input.sequence))))
            return .object(fields)
        }
        let outputs: [JSONValue] = transaction.outputs.enumerated().map { index, output in
            .object([
                ("value", .number(bitcoinAmount(output.value))),
                ("n", .number(String(index))),
                ("scriptPubKey", scriptJSON(output.scriptPubKey, includeHex: true)),
            ])
        }
        var fields: [(String, JSONValue)] = [
            ("txid", .string(transaction.txid.displayHex)),
            ("hash", .string(transaction.wtxid.displayHex)),
            ("version", .number(String(Int32(bitPattern: transaction.version)))),
            ("size", .number(String(transaction.totalSize))),
            ("vsize", .number(String(transaction.virtualSize))),
            ("weight", .number(String(transaction.weight))),
            ("locktime", .number(String(transaction.lockTime))),
            ("vin", .array(inputs)),
            ("vout", .array(outputs)),
        ]
        if let spent {
            let inputs = transaction.inputs.compactMap { spent[$0.previousOutput]?.output.value }
            if inputs.count == transaction.inputs.count {
                let fee = inputs.reduce(0, &+) &- transaction.outputs.reduce(0) { $0 &+ $1.value }
                fields.append(("fee", .number(bitcoinAmount(fee))))
            }
        }
        if includeHex { fields.append(("hex", .string(transaction.hex))) }
        return .object(fields)
    }

    /// Bitcoin Core's `ScriptToUniv`: asm, desc, hex, address (when the script has one and is not bare pubkey),
    /// type.
    func scriptJSON(_ script: [UInt8], includeHex: Bool) -> JSONValue {
        let template = Script.template(of: script).template
        var fields: [(String, JSONValue)] = [
            ("asm", .string(Script.assembly(script))),
            ("desc", .string(Script.inferredDescriptor(script, network: .regtest))),
        ]
        if includeHex { fields.append(("hex", .string(Hex.encode(script)))) }
        if template != .pubkey, let address = try? Address(scriptPubKey: script, network: .regtest) {
            fields.append(("address", .string(address.description)))
        }
        fields.append(("type", .string(template.rawValue)))
        return .object(fields)
    }

    /// Bitcoin Core's decodescript: the script's fields, and the P2SH address and P2WSH/P2WPKH wrapping where a
    /// script can be wrapped.
    func decodeScript(_ params: [JSONValue]) throws -> JSONValue {
        guard case let .string(hex) = params[0], let script = Hex.decode(hex) else {
            throw JSONRPCError.invalidParameter("argument must be hexadecimal string (not '\(params[0].stringValue ?? params[0].text)')")
        }
        guard case var .object(fields) = scriptJSON(script, includeHex: false) else { return .null }
        let (template, solutions) = Script.template(of: script)
        switch template {
        case .multisig, .nonstandard, .pubkey, .pubkeyhash, .witnessV0ScriptHash, .witnessV0KeyHash: break
        default: return .object(fields)
        }
        fields.append(("p2sh", .string(Self.scriptHashAddress(script))))
        let segwit: [UInt8]
        switch template {
        case .multisig, .pubkey:
            guard solutions.allSatisfy({ $0.count == 1 || $0.count == 33 }) else { return .object(fields) }
            segwit = template == .pubkey ? Self.witnessKeyHashScript(Sv2Hash.hash160(solutions[0])) : Self.witnessScriptHashScript(script)
        case .pubkeyhash:
            segwit = Self.witnessKeyHashScript(solutions[0])
        case .nonstandard:
            segwit = Self.witnessScriptHashScript(script)
        default:
            return .object(fields)
        }
        guard case var .object(wrapped) = scriptJSON(segwit, includeHex: true) else { return .object(fields) }
        wrapped.append(("p2sh-segwit", .string(Self.scriptHashAddress(segwit))))
        fields.append(("segwit", .object(wrapped)))
        return .object(fields)
    }

    private static func scriptHashAddress(_ script: [UInt8]) -> String {
        ((try? Address(.scriptHash(Sv2Hash.hash160(script)), network: .regtest))?.description) ?? ""
    }

    private static func witnessKeyHashScript(_ hash: [UInt8]) -> [UInt8] { [Script.op0, 20] + hash }

    private static func witnessScriptHashScript(_ script: [UInt8]) -> [UInt8] { [Script.op0, 32] + Sv2Hash.sha256(script) }

    // MARK: Addresses

    /// Bitcoin Core's validateaddress: the address fields, or `isvalid: false` with the error and where it is.
    func validateAddress(_ params: [JSONValue]) throws -> JSONValue {
        guard case let .string(text) = params[0] else { return .null }
        do {
            let address = try Address(text, network: .regtest)
            return .object([("isvalid", .bool(true))] + addressFields(address))
        } catch {
            return .object([
                ("isvalid", .bool(false)),
                ("error_locations", .array([])),
                ("error", .string(Self.addressError(error))),
            ])
        }
    }

    /// What Core's wallet answers for an address it does not own (this node has no wallet); -5 for an invalid one.
    func getAddressInfo(_ params: [JSONValue]) throws -> JSONValue {
        guard case let .string(text) = params[0] else { return .null }
        let address: Address
        do {
            address = try Address(text, network: .regtest)
        } catch {
            throw JSONRPCError(code: NodeRPC.invalidAddressOrKey, message: Self.addressError(error))
        }
        let fields = addressFields(address)
        return .object(Array(fields.prefix(2)) + [
            ("ismine", .bool(false)), ("solvable", .bool(false)), ("iswatchonly", .bool(false)),
        ] + fields.dropFirst(2) + [("ischange", .bool(false)), ("labels", .array([]))])
    }

    /// address, scriptPubKey, isscript, iswitness, and for witness programs witness_version and witness_program.
    private func addressFields(_ address: Address) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = [
            ("address", .string(address.description)),
            ("scriptPubKey", .string(Hex.encode(address.scriptPubKey))),
        ]
        switch address.payload {
        case .pubkeyHash:
            fields += [("isscript", .bool(false)), ("iswitness", .bool(false))]
        case .scriptHash:
            fields += [("isscript", .bool(true)), ("iswitness", .bool(false))]
        case let .witnessProgram(version, program):
            fields += [
                ("isscript", .bool(address.kind != .p2wpkh)), ("iswitness", .bool(true)),
                ("witness_version", .number(String(version))), ("witness_program", .string(Hex.encode(program))),
            ]
        }
        return fields
    }

    /// Bitcoin Core's wording for an address that does not decode.
    private static func addressError(_ error: Error) -> String {
        switch error as? BitcoinError {
        case .wrongNetwork?: return "Invalid or unsupported Base58-encoded address."
        default: return "Invalid or unsupported Segwit (Bech32) or Base58 encoding."
        }
    }
}
