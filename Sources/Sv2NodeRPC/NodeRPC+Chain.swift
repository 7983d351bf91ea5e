import Bitcoin
import Foundation
import Sv2Binary
import Sv2Formats
import Sv2Network
import Sv2Node

/// Blockchain, mining, network and generating methods.
extension NodeRPC {
    /// A regtest block's work: the regtest target (`207fffff`) is met by half of all hashes.
    private static let workPerBlock: UInt64 = 2

    func getBlockHash(_ params: [JSONValue]) throws -> JSONValue {
        let height = try integer(params, 0)
        guard let height = UInt32(exactly: height), let hash = node.blockHash(height: height) else {
            throw JSONRPCError.invalidParameter("Block height out of range")
        }
        return .string(hash.displayHex)
    }

    /// Verbosity 0: hex; 1: header fields, sizes and txids; 2: each transaction decoded with its hex and fee; 3: and
    /// each input's prevout.
    func getBlock(_ params: [JSONValue]) throws -> JSONValue {
        let hash = try blockHash(params)
        let verbosity = try self.verbosity(params, 1, default: 1)
        guard let bytes = node.blockBytes(hash: hash), let block = try? Block(bytes: bytes) else {
            throw JSONRPCError(code: NodeRPC.invalidAddressOrKey, message: "Block not found")
        }
        if verbosity <= 0 { return .string(Hex.encode(bytes)) }
        guard case var .object(fields) = try headerJSON(hash: hash, blockBytes: bytes) else { return .null }
        let strippedSize = BlockHeader.size + CompactSize.size(of: UInt64(block.transactions.count))
            + block.transactions.reduce(0) { $0 + $1.baseSize }
        fields += [
            ("strippedsize", .number(String(strippedSize))),
            ("size", .number(String(bytes.count))),
            ("weight", .number(String(block.weight))),
        ]
        if let coinbase = block.transactions.first, let input = coinbase.inputs.first {
            var summary: [(String, JSONValue)] = [
                ("version", .number(String(Int32(bitPattern: coinbase.version)))),
                ("locktime", .number(String(coinbase.lockTime))),
                ("sequence", .number(String(input.sequence))),
                ("coinbase", .string(Hex.encode(input.scriptSig))),
            ]
            if let witness = input.witness.first { summary.append(("witness", .string(Hex.encode(witness)))) }
            fields.append(("coinbase_tx", .object(summary)))
        }
        let transactions: [JSONValue]
        if verbosity == 1 {
            transactions = block.transactions.map { .string($0.txid.displayHex) }
        } else {
            let height = node.height(of: hash) ?? 0
            var coins = node.spentCoins(height: height)
            transactions = block.transactions.enumerated().map { index, transaction in
                let json = transactionJSON(transaction, includeHex: true, spent: index == 0 ? nil : coins, prevouts: verbosity >= 3)
                for (vout, output) in transaction.outputs.enumerated() {
                    coins[OutPoint(txid: transaction.txid, vout: UInt32(vout))] = Coin(output: output, height: height, isCoinbase: index == 0)
                }
                return json
            }
        }
        fields.append(("tx", .array(transactions)))
        return .object(fields)
    }

    func getBlockHeader(_ params: [JSONValue]) throws -> JSONValue {
        let hash = try hash(params, 0, name: "hash")
        if params.count > 1, params[1] == .bool(false) {
            guard let header = node.header(hash: hash) else {
                throw JSONRPCError(code: NodeRPC.invalidAddressOrKey, message: "Block not found")
            }
            return .string(Hex.encode(header.serialized))
        }
        return try headerJSON(hash: hash)
    }

    /// Bitcoin Core's `blockheaderToJSON`; `blockBytes` (its transaction count) read from the block file when not given.
    private func headerJSON(hash: U256, blockBytes: [UInt8]? = nil) throws -> JSONValue {
        guard let header = node.header(hash: hash), let height = node.height(of: hash),
              let medianTime = node.medianTimePast(height: height), let bytes = blockBytes ?? node.blockBytes(hash: hash),
              let count = try? CompactSize.decode(bytes, at: BlockHeader.size)
        else { throw JSONRPCError(code: NodeRPC.invalidAddressOrKey, message: "Block not found") }
        let tip = node.tip
        var fields: [(String, JSONValue)] = [
            ("hash", .string(hash.displayHex)),
            ("confirmations", .number(String(Int64(tip.height) - Int64(height) + 1))),
            ("height", .number(String(height))),
            ("version", .number(String(Int32(bitPattern: header.version)))),
            ("versionHex", .string(hexWord(header.version))),
            ("merkleroot", .string(header.merkleRoot.displayHex)),
            ("time", .number(String(header.time))),
            ("mediantime", .number(String(medianTime))),
            ("nonce", .number(String(header.nonce))),
            ("bits", .string(hexWord(header.bits))),
            ("target", .string(((try? header.compactTarget.target()) ?? .zero).displayHex)),
            ("difficulty", .number(difficultyText(bits: header.bits))),
            ("chainwork", .string(U256((UInt64(height) + 1) * Self.workPerBlock).displayHex)),
            ("nTx", .number(String(count.value))),
        ]
        if height > 0 { fields.append(("previousblockhash", .string(header.previousBlockHash.displayHex))) }
        if let next = node.blockHash(height: height + 1) { fields.append(("nextblockhash", .string(next.displayHex))) }
        return .object(fields)
    }

    func getBlockchainInfo() -> JSONValue {
        let info = node.chainInfo
        return .object([
            ("chain", .string("regtest")),
            ("blocks", .number(String(info.height))),
            ("headers", .number(String(info.height))),
            ("bestblockhash", .string(info.bestBlockHash.displayHex)),
            ("bits", .string(hexWord(info.bits))),
            ("target", .string(info.target.displayHex)),
            ("difficulty", .number(difficultyText(bits: info.bits))),
            ("time", .number(String(info.time))),
            ("mediantime", .number(String(info.medianTime))),
            ("verificationprogress", .number("1")),
            ("initialblockdownload", .bool(false)),
            ("chainwork", .string(info.chainWork.displayHex)),
            ("size_on_disk", .number(String(info.sizeOnDisk))),
            ("pruned", .bool(false)),
            ("warnings", .array([])),
        ])
    }

    /// This node keeps one chain and no competing tips, so a known block changes nothing.
    func preciousBlock(_ params: [JSONValue]) throws -> JSONValue {
        guard node.height(of: try blockHash(params)) != nil else {
            throw JSONRPCError(code: NodeRPC.invalidAddressOrKey, message: "Block not found")
        }
        return .null
    }

    /// Bitcoin Core's getmininginfo, `networkhashps` over the last 120 blocks as its `GetNetworkHashPS`.
    func getMiningInfo() -> JSONValue {
        let info = node.chainInfo
        let template = node.template()
        let difficulty = difficultyText(bits: info.bits)
        return .object([
            ("blocks", .number(String(info.height))),
            ("bits", .string(hexWord(info.bits))),
            ("difficulty", .number(difficulty)),
            ("target", .string(info.target.displayHex)),
            ("networkhashps", .number(String(format: "%.17g", networkHashesPerSecond(tipHeight: info.height)))),
            ("pooledtx", .number(String(node.mempoolInfo.count))),
            ("blockmintxfee", .number("0.00000001")),
            ("chain", .string("regtest")),
            ("next", .object([
                ("height", .number(String(template.height))),
                ("bits", .string(hexWord(template.bits))),
                ("difficulty", .number(difficultyText(bits: template.bits))),
                ("target", .string(template.target.displayHex)),
            ])),
            ("warnings", .array([])),
        ])
    }

    private func networkHashesPerSecond(tipHeight: UInt32) -> Double {
        let lookup = min(120, tipHeight)
        guard lookup > 0 else { return 0 }
        let times = (tipHeight - lookup...tipHeight).compactMap { height in node.blockHash(height: height).flatMap { node.header(hash: $0)?.time } }
        guard let earliest = times.min(), let latest = times.max(), latest > earliest else { return 0 }
        return Double(UInt64(lookup) * Self.workPerBlock) / Double(latest - earliest)
    }

    /// The embedded node has no peer-to-peer networking: no connections, no local services, relay fees as Core's
    /// defaults.
    func getNetworkInfo() -> JSONValue {
        let networks: [JSONValue] = ["ipv4", "ipv6", "onion", "i2p", "cjdns"].map { name in
            .object([
                ("name", .string(name)), ("limited", .bool(true)), ("reachable", .bool(false)),
                ("proxy", .string("")), ("proxy_randomize_credentials", .bool(false)),
            ])
        }
        return .object([
            ("version", .number(String(NodeRPC.emulatedCoreVersion))),
            ("subversion", .string("/sv2-embedded-regtest:\(NodeRPC.emulatedCoreVersion / 10_000).0/")),
            ("protocolversion", .number("70016")),
            ("localservices", .string("0000000000000000")),
            ("localservicesnames", .array([])),
            ("localrelay", .bool(true)),
            ("timeoffset", .number("0")),
            ("networkactive", .bool(false)),
            ("connections", .number("0")),
            ("connections_in", .number("0")),
            ("connections_out", .number("0")),
            ("networks", .array(networks)),
            ("relayfee", .number("0.00001000")),
            ("incrementalfee", .number("0.00001000")),
            ("localaddresses", .array([])),
            ("warnings", .array([])),
        ])
    }

    /// The Bitcoin Core version whose RPC interface this server follows (`getnetworkinfo`'s `version`).
    static let emulatedCoreVersion = 310_000

    func generateToAddress(_ params: [JSONValue]) throws -> JSONValue {
        let count = try integer(params, 0)
        guard case let .string(text) = params[1] else { throw JSONRPCError(code: NodeRPC.typeError, message: "address must be a string") }
        guard let address = try? Address(text, network: .regtest) else {
            throw JSONRPCError(code: NodeRPC.invalidAddressOrKey, message: "Error: Invalid address")
        }
        guard count >= 0, count <= 10_000 else { throw JSONRPCError.invalidParameter("nblocks must be 0 to 10000") }
        return .array(node.generate(blocks: Int(count), payoutScript: address.scriptPubKey).map { .string($0.displayHex) })
    }

    // MARK: Parameters

    /// The integer parameter at `index` (its JSON type already checked).
    func integer(_ params: [JSONValue], _ index: Int) throws -> Int64 {
        guard index < params.count, case let .number(text) = params[index] else {
            throw JSONRPCError(code: NodeRPC.typeError, message: "JSON value is not an integer as expected")
        }
        guard let value = Int64(text) else {
            throw JSONRPCError(code: NodeRPC.typeError, message: "JSON integer out of range")
        }
        return value
    }

    /// A verbosity parameter: a number, or a boolean (true 1, false 0), `fallback` when not given.
    func verbosity(_ params: [JSONValue], _ index: Int, default fallback: Int64) throws -> Int64 {
        switch index < params.count ? params[index] : .null {
        case .null: return fallback
        case let .bool(verbose): return verbose ? 1 : 0
        case let .number(text):
            guard let value = Int64(text) else { throw JSONRPCError(code: NodeRPC.typeError, message: "verbosity must be an integer") }
            return value
        default:
            throw JSONRPCError(code: NodeRPC.typeError, message: "JSON value of type \(params[index].typeName) is not of expected type number")
        }
    }

    /// A 64-digit hash parameter (Core's `ParseHashV`).
    func hash(_ params: [JSONValue], _ index: Int, name: String) throws -> U256 {
        guard index < params.count, case let .string(text) = params[index] else {
            throw JSONRPCError(code: NodeRPC.typeError, message: "\(name) must be a string")
        }
        guard text.utf8.count == 64 else {
            throw JSONRPCError.invalidParameter("\(name) must be of length 64 (not \(text.utf8.count), for '\(text)')")
        }
        guard let hash = U256(displayHex: text) else {
            throw JSONRPCError.invalidParameter("\(name) must be hexadecimal string (not '\(text)')")
        }
        return hash
    }

    private func blockHash(_ params: [JSONValue]) throws -> U256 {
        try hash(params, 0, name: "blockhash")
    }
}
