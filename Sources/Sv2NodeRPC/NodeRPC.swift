import Bitcoin
import Foundation
import NIOCore
import Sv2Binary
import Sv2Formats
import Sv2Network
import Sv2Node
import Synchronization

/// bitcoind-compatible JSON-RPC methods over `node`, for ``JSONRPCServer/listen(host:port:group:credentials:methods:maximumBodySize:)``:
/// `getblocktemplate` (with long poll and proposals), `submitblock`, `getbestblockhash`, `getblockcount`,
/// `getblockhash`, `getblock` (verbosity 0), `getblockheader`, `getblockchaininfo`, `getmempoolinfo`,
/// `getrawmempool` and `generatetoaddress`.
///
/// A `getblocktemplate` call whose `longpollid` equals the current one waits until the tip or the mempool changes,
/// or `longPollTimeout` passes, then answers with a fresh template. Other calls answer at once, on the calling
/// event loop (the node's lock is held for at most a template build or a block validation and fsync).
public func rpcMethods(node: RegtestNode, longPollTimeout: TimeAmount = .seconds(60)) -> [String: JSONRPCMethod] {
    let waiters = LongPollWaiters()
    node.onChange { _ in waiters.fireAll() }
    let rpc = NodeRPC(node: node)
    return [
        "getblocktemplate": { params, loop in
            rpc.getBlockTemplate(params, loop: loop, waiters: waiters, timeout: longPollTimeout)
        },
        "submitblock": { params, loop in loop.answer { try rpc.submitBlock(params) } },
        "getbestblockhash": { _, loop in loop.answer { .string(node.tip.hash.displayHex) } },
        "getblockcount": { _, loop in loop.answer { .number(String(node.tip.height)) } },
        "getblockhash": { params, loop in loop.answer { try rpc.getBlockHash(params) } },
        "getblock": { params, loop in loop.answer { try rpc.getBlock(params) } },
        "getblockheader": { params, loop in loop.answer { try rpc.getBlockHeader(params) } },
        "getblockchaininfo": { _, loop in loop.answer { rpc.getBlockchainInfo() } },
        "getmempoolinfo": { _, loop in loop.answer { rpc.getMempoolInfo() } },
        "getrawmempool": { _, loop in loop.answer { .array(node.mempoolEntries.map { .string($0.txid.displayHex) }) } },
        "generatetoaddress": { params, loop in loop.answer { try rpc.generateToAddress(params) } },
    ]
}

extension EventLoop {
    /// A future of `body`'s value, or failed with its error.
    fileprivate func answer(_ body: () throws -> JSONValue) -> EventLoopFuture<JSONValue> {
        do {
            return makeSucceededFuture(try body())
        } catch {
            return makeFailedFuture(error)
        }
    }
}

/// Pending long polls, each completed once: by a node change or by its timeout.
final class LongPollWaiters: Sendable {
    private let state = Mutex((next: 0, pending: [Int: EventLoopPromise<Void>]()))

    /// Registers `promise`; returns its ticket.
    func add(_ promise: EventLoopPromise<Void>) -> Int {
        state.withLock { state in
            state.next += 1
            state.pending[state.next] = promise
            return state.next
        }
    }

    /// Completes the waiter with `ticket` if it is still pending.
    func fire(_ ticket: Int) {
        state.withLock { $0.pending.removeValue(forKey: ticket) }?.succeed(())
    }

    /// Completes every pending waiter.
    func fireAll() {
        let all = state.withLock { state in
            defer { state.pending.removeAll() }
            return Array(state.pending.values)
        }
        for promise in all { promise.succeed(()) }
    }
}

/// The method bodies.
struct NodeRPC: Sendable {
    let node: RegtestNode

    /// bitcoind's RPC_DESERIALIZATION_ERROR.
    static let deserializationError = -22
    /// bitcoind's RPC_INVALID_ADDRESS_OR_KEY.
    static let invalidAddressOrKey = -5
    /// bitcoind's RPC_TYPE_ERROR.
    static let typeError = -3
    /// bitcoind's RPC_MISC_ERROR.
    static let miscError = -1

    // MARK: getblocktemplate

    func getBlockTemplate(
        _ params: [JSONValue], loop: EventLoop, waiters: LongPollWaiters, timeout: TimeAmount
    ) -> EventLoopFuture<JSONValue> {
        let request: [(String, JSONValue)]
        switch params.first {
        case nil, .null?: request = []
        case let .object(pairs)?: request = pairs
        default: return loop.makeFailedFuture(JSONRPCError(code: NodeRPC.typeError, message: "template_request must be an object"))
        }
        func field(_ name: String) -> JSONValue? { request.first { $0.0 == name }?.1 }
        let mode: String
        switch field("mode") {
        case nil, .null?: mode = "template"
        case let .string(text)?: mode = text
        default: return loop.makeFailedFuture(JSONRPCError.invalidParameter("Invalid mode"))
        }
        if mode == "proposal" {
            return loop.answer { try proposal(field("data")) }
        }
        guard mode == "template" else { return loop.makeFailedFuture(JSONRPCError.invalidParameter("Invalid mode")) }
        var rules = [String]()
        if case let .array(values)? = field("rules") {
            for case let .string(rule) in values { rules.append(rule) }
        }
        guard rules.contains("segwit") else {
            return loop.makeFailedFuture(JSONRPCError.invalidParameter(
                "getblocktemplate must be called with the segwit rule set (call with {\"rules\": [\"segwit\"]})"))
        }
        guard case let .string(longPollID)? = field("longpollid"), longPollID == node.longPollID else {
            return loop.makeSucceededFuture(templateJSON())
        }
        // Long poll: wait for a change of tip or mempool, or the timeout.
        let promise = loop.makePromise(of: Void.self)
        let ticket = waiters.add(promise)
        if node.longPollID != longPollID { waiters.fire(ticket) }
        let timer = loop.scheduleTask(in: timeout) { waiters.fire(ticket) }
        let node = self
        return promise.futureResult.map { _ in
            timer.cancel()
            return node.templateJSON()
        }
    }

    /// The getblocktemplate result for the current tip and mempool.
    func templateJSON() -> JSONValue {
        let (template, entries, longPollID) = node.detailedTemplate()
        let transactions: [JSONValue] = entries.map { entry in
            .object([
                ("data", .string(Hex.encode(entry.serialized))),
                ("txid", .string(entry.txid.displayHex)),
                ("hash", .string(entry.wtxid.displayHex)),
                ("depends", .array([])),
                ("fee", .number(String(entry.fee))),
                ("sigops", .number(String(entry.sigopsCost))),
                ("weight", .number(String(entry.weight))),
            ])
        }
        return .object([
            ("capabilities", .array([.string("proposal")])),
            ("version", .number(String(template.version))),
            ("rules", .array([.string("csv"), .string("!segwit"), .string("taproot")])),
            ("vbavailable", .object([])),
            ("vbrequired", .number("0")),
            ("previousblockhash", .string(template.previousBlockHash.displayHex)),
            ("transactions", .array(transactions)),
            ("coinbaseaux", .object([])),
            ("coinbasevalue", .number(String(template.coinbaseValue))),
            ("longpollid", .string(longPollID)),
            ("target", .string(template.target.displayHex)),
            ("mintime", .number(String(template.minimumTime))),
            ("mutable", .array([.string("time"), .string("transactions"), .string("prevblock")])),
            ("noncerange", .string("00000000ffffffff")),
            ("sigoplimit", .number("80000")),
            ("sizelimit", .number("4000000")),
            ("weightlimit", .number("4000000")),
            ("curtime", .number(String(template.currentTime))),
            ("bits", .string(hexWord(template.bits))),
            ("height", .number(String(template.height))),
            ("default_witness_commitment", .string(Hex.encode(template.witnessCommitmentScript))),
        ])
    }

    /// Mode "proposal": null if the block would be valid (proof of work not checked), else the reason.
    private func proposal(_ data: JSONValue?) throws -> JSONValue {
        guard case let .string(hex)? = data else {
            throw JSONRPCError(code: NodeRPC.typeError, message: "Missing data String key for proposal")
        }
        let block = try decodeBlock(hex)
        guard block.header.previousBlockHash == node.tip.hash else { return .string("inconclusive-not-best-prevblk") }
        return node.checkProposal(block).map { .string($0.reason) } ?? .null
    }

    // MARK: Blocks

    func submitBlock(_ params: [JSONValue]) throws -> JSONValue {
        guard case let .string(hex)? = params.first else {
            throw JSONRPCError(code: NodeRPC.typeError, message: "submitblock expects the block as a hex string")
        }
        switch node.submit(try decodeBlock(hex)) {
        case .success: return .null
        case let .failure(rejection): return .string(rejection.reason)
        }
    }

    private func decodeBlock(_ hex: String) throws -> Block {
        guard let block = try? Block(hex: hex) else {
            throw JSONRPCError(code: NodeRPC.deserializationError, message: "Block decode failed")
        }
        guard block.transactions.first?.isCoinbase == true else {
            throw JSONRPCError(code: NodeRPC.deserializationError, message: "Block does not start with a coinbase")
        }
        return block
    }

    func getBlockHash(_ params: [JSONValue]) throws -> JSONValue {
        let height = try integer(params, 0, name: "height")
        guard height >= 0, height <= Int64(UInt32.max), let hash = node.blockHash(height: UInt32(height)) else {
            throw JSONRPCError.invalidParameter("Block height out of range")
        }
        return .string(hash.displayHex)
    }

    func getBlock(_ params: [JSONValue]) throws -> JSONValue {
        let hash = try blockHash(params)
        switch params.count > 1 ? params[1] : .null {
        case .number("0"), .bool(false): break
        default:
            throw JSONRPCError.invalidParameter("this node supports only getblock with verbosity 0 (raw hex)")
        }
        guard let bytes = node.blockBytes(hash: hash) else {
            throw JSONRPCError(code: NodeRPC.invalidAddressOrKey, message: "Block not found")
        }
        return .string(Hex.encode(bytes))
    }

    func getBlockHeader(_ params: [JSONValue]) throws -> JSONValue {
        let hash = try blockHash(params)
        guard let header = node.header(hash: hash), let height = node.height(of: hash) else {
            throw JSONRPCError(code: NodeRPC.invalidAddressOrKey, message: "Block not found")
        }
        if params.count > 1, params[1] == .bool(false) { return .string(Hex.encode(header.serialized)) }
        let tip = node.tip
        var fields: [(String, JSONValue)] = [
            ("hash", .string(hash.displayHex)),
            ("confirmations", .number(String(tip.height - height + 1))),
            ("height", .number(String(height))),
            ("version", .number(String(header.version))),
            ("versionHex", .string(hexWord(header.version))),
            ("merkleroot", .string(header.merkleRoot.displayHex)),
            ("time", .number(String(header.time))),
            ("nonce", .number(String(header.nonce))),
            ("bits", .string(hexWord(header.bits))),
            ("difficulty", .number(difficultyText(bits: header.bits))),
            ("chainwork", .string(U256(UInt64(height) * 2 + 2).displayHex)),
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

    func getMempoolInfo() -> JSONValue {
        let info = node.mempoolInfo
        return .object([
            ("loaded", .bool(true)),
            ("size", .number(String(info.count))),
            ("bytes", .number(String(info.virtualSize))),
            ("total_fee", .number(bitcoinAmount(info.totalFees))),
        ])
    }

    func generateToAddress(_ params: [JSONValue]) throws -> JSONValue {
        let count = try integer(params, 0, name: "nblocks")
        guard params.count > 1, case let .string(text) = params[1] else {
            throw JSONRPCError(code: NodeRPC.typeError, message: "address must be a string")
        }
        guard let address = try? Address(text, network: .regtest) else {
            throw JSONRPCError(code: NodeRPC.invalidAddressOrKey, message: "Error: Invalid address")
        }
        guard count >= 0, count <= 10_000 else { throw JSONRPCError.invalidParameter("nblocks must be 0 to 10000") }
        return .array(node.generate(blocks: Int(count), payoutScript: address.scriptPubKey).map { .string($0.displayHex) })
    }

    // MARK: Parameters and formatting

    private func integer(_ params: [JSONValue], _ index: Int, name: String) throws -> Int64 {
        guard index < params.count else {
            throw JSONRPCError(code: NodeRPC.miscError, message: "missing parameter \(name)")
        }
        guard case let .number(text) = params[index], let value = Int64(text) else {
            throw JSONRPCError(code: NodeRPC.typeError, message: "\(name) must be an integer")
        }
        return value
    }

    private func blockHash(_ params: [JSONValue]) throws -> U256 {
        guard case let .string(text)? = params.first else {
            throw JSONRPCError(code: NodeRPC.typeError, message: "blockhash must be a string")
        }
        guard let hash = U256(displayHex: text) else {
            throw JSONRPCError.invalidParameter("blockhash must be of length 64 (not \(text.count), for '\(text)')")
        }
        return hash
    }
}

/// Eight lower-case hex digits.
func hexWord(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
}

/// Bitcoin Core's `GetDifficulty`: the difficulty-1 target over the target of `bits`, as a Double.
func difficulty(bits: UInt32) -> Double {
    var shift = Int((bits >> 24) & 0xff)
    var value = Double(0x0000_ffff) / Double(bits & 0x00ff_ffff)
    while shift < 29 {
        value *= 256
        shift += 1
    }
    while shift > 29 {
        value /= 256
        shift -= 1
    }
    return value
}

/// The difficulty as bitcoind prints it: 16 significant digits (regtest: 4.656542373906925e-10).
func difficultyText(bits: UInt32) -> String {
    String(format: "%.16g", difficulty(bits: bits))
}

/// Satoshis as a BTC amount with 8 decimals (bitcoind's `ValueFromAmount`).
func bitcoinAmount(_ satoshis: UInt64) -> String {
    let fraction = String(satoshis % 100_000_000)
    return String(satoshis / 100_000_000) + "." + String(repeating: "0", count: 8 - fraction.count) + fraction
}
