import Bitcoin
import Foundation
import Logging
import NIOCore
import Sv2Binary
import Sv2Formats
import Sv2Network
import Sv2Node
import Synchronization

/// bitcoind-compatible JSON-RPC methods over `node`, for ``JSONRPCServer/listen(host:port:group:credentials:methods:maximumBodySize:)``:
/// every method of ``NodeRPCCatalog`` with Bitcoin Core's names, argument checks, result fields and error codes.
///
/// A `getblocktemplate` call whose `longpollid` names the current tip waits until a new tip, or until
/// `longPollTimeout` has passed and the mempool has changed since, then answers with a fresh template. Other calls answer at once, on the calling
/// event loop (the node's lock is held for at most a template build or a block validation and fsync). Each
/// `submitblock` is logged with its result.
public func rpcMethods(
    node: RegtestNode, longPollTimeout: TimeAmount = .seconds(60), logger: Logger = Logger(label: "sv2.rpc")
) -> [String: JSONRPCMethod] {
    let waiters = LongPollWaiters()
    node.onChange { change in
        if case .newTip = change { waiters.fireAll() }
    }
    let catalog = NodeRPCCatalog(
        rpc: NodeRPC(node: node, startTime: node.configuration.clock.now().unixSeconds, logger: logger),
        waiters: waiters, longPollTimeout: longPollTimeout)
    var methods = [String: JSONRPCMethod]()
    for method in catalog.methods {
        methods[method.name] = JSONRPCMethod(method.arguments.map(\.name)) { params, loop in
            do {
                try method.check(params)
            } catch {
                return loop.makeFailedFuture(error)
            }
            return method.run(params, loop)
        }
    }
    return methods
}

/// One argument of an RPC method, as its help and Bitcoin Core's type check describe it.
struct RPCArgument: Sendable {
    /// The JSON types an argument takes.
    enum Kind: String, Sendable {
        case number, string, bool, object, array
        /// Any type (checked by the method: verbosity takes a number or a boolean).
        case any = "numeric or boolean"
    }

    /// The name (also for named parameters).
    var name: String
    /// The type.
    var kind: Kind
    /// Whether it may be left out.
    var optional = false
    /// One sentence for `help`.
    var text: String

    /// How `help` shows it in the usage line: strings quoted, optional ones in parentheses.
    var usage: String { kind == .string ? "\"\(name)\"" : name }
}

/// An RPC method: name, help and implementation.
struct NodeRPCMethod: Sendable {
    /// The method name.
    var name: String
    /// The help section (`== Blockchain ==`).
    var category: String
    /// The arguments in positional order.
    var arguments: [RPCArgument] = []
    /// What it does, for `help`.
    var summary: String
    /// The implementation, given type-checked parameters.
    var run: @Sendable (_ params: [JSONValue], _ eventLoop: EventLoop) -> EventLoopFuture<JSONValue>

    /// The usage line: `getblock "blockhash" ( verbosity )`.
    var usage: String {
        let required = arguments.filter { !$0.optional }.map(\.usage)
        let optional = arguments.filter(\.optional).map(\.usage)
        return ([name] + required + (optional.isEmpty ? [] : ["( " + optional.joined(separator: " ") + " )"])).joined(separator: " ")
    }

    /// The full help text, as `help NAME` prints it (and too few or too many parameters answer).
    var help: String {
        var text = usage + "\n\n" + summary + "\n"
        if !arguments.isEmpty {
            text += "\nArguments:\n"
            for (index, argument) in arguments.enumerated() {
                text += "\(index + 1). \(argument.name)    (\(argument.kind.rawValue), \(argument.optional ? "optional" : "required")) \(argument.text)\n"
            }
        }
        return text
    }

    /// Bitcoin Core's checks before a call: the parameter count (RPC_MISC_ERROR with the help text) and each given
    /// parameter's JSON type (RPC_TYPE_ERROR, "Wrong type passed: {"Position 1 (height)": ...}").
    func check(_ params: [JSONValue]) throws(JSONRPCError) {
        let required = arguments.filter { !$0.optional }.count
        guard params.count >= required, params.count <= arguments.count else {
            throw JSONRPCError(code: NodeRPC.miscError, message: help)
        }
        var mismatches = [(String, JSONValue)]()
        for (index, value) in params.enumerated() {
            let argument = arguments[index]
            if argument.kind == .any || (argument.optional && value == .null) { continue }
            let type = value.typeName
            if type != argument.kind.rawValue {
                mismatches.append(("Position \(index + 1) (\(argument.name))",
                                   .string("JSON value of type \(type) is not of expected type \(argument.kind.rawValue)")))
            }
        }
        guard mismatches.isEmpty else {
            let lines = mismatches.map { "    \(JSONValue.string($0.0).text): \($0.1.text)" }
            throw JSONRPCError(code: NodeRPC.typeError, message: "Wrong type passed:\n{\n" + lines.joined(separator: ",\n") + "\n}")
        }
    }
}

extension JSONValue {
    /// UniValue's type name: null, bool, object, array, number or string.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .object: return "object"
        case .array: return "array"
        case .number: return "number"
        case .string: return "string"
        }
    }
}

/// The methods the node serves, in `help`'s order.
struct NodeRPCCatalog: Sendable {
    let rpc: NodeRPC
    let waiters: LongPollWaiters
    let longPollTimeout: TimeAmount

    private static func now(_ body: @escaping @Sendable ([JSONValue]) throws -> JSONValue) -> @Sendable ([JSONValue], EventLoop) -> EventLoopFuture<JSONValue> {
        { params, loop in loop.answer { try body(params) } }
    }

    private static let blockhash = RPCArgument(name: "blockhash", kind: .string, text: "The block hash")
    private static let hexstring = RPCArgument(name: "hexstring", kind: .string, text: "The hex-encoded data")
    private static let address = RPCArgument(name: "address", kind: .string, text: "The bitcoin address")

    var methods: [NodeRPCMethod] {
        let rpc = rpc, waiters = waiters, timeout = longPollTimeout
        let node = rpc.node
        var list = [
            NodeRPCMethod(name: "getbestblockhash", category: "Blockchain", summary: "Returns the hash of the best (tip) block in the most-work fully-validated chain.",
                          run: Self.now { _ in .string(node.tip.hash.displayHex) }),
            NodeRPCMethod(name: "getblock", category: "Blockchain",
                          arguments: [Self.blockhash, RPCArgument(name: "verbosity", kind: .any, optional: true, text: "0 for hex-encoded data, 1 for a JSON object, 2 (and 3) for JSON with transaction data")],
                          summary: "Returns the block: hex (verbosity 0), a JSON object (1), or one with each transaction decoded (2 and 3).",
                          run: Self.now { try rpc.getBlock($0) }),
            NodeRPCMethod(name: "getblockchaininfo", category: "Blockchain", summary: "Returns an object containing various state info regarding blockchain processing.",
                          run: Self.now { _ in rpc.getBlockchainInfo() }),
            NodeRPCMethod(name: "getblockcount", category: "Blockchain", summary: "Returns the height of the most-work fully-validated chain.",
                          run: Self.now { _ in .number(String(node.tip.height)) }),
            NodeRPCMethod(name: "getblockhash", category: "Blockchain",
                          arguments: [RPCArgument(name: "height", kind: .number, text: "The height index")],
                          summary: "Returns hash of block in best-block-chain at height provided.",
                          run: Self.now { try rpc.getBlockHash($0) }),
            NodeRPCMethod(name: "getblockheader", category: "Blockchain",
                          arguments: [Self.blockhash, RPCArgument(name: "verbose", kind: .bool, optional: true, text: "true for a json object, false for the hex-encoded data")],
                          summary: "If verbose is false, returns a string that is serialized, hex-encoded data for blockheader 'hash'. If verbose is true, returns an Object with information about blockheader <hash>.",
                          run: Self.now { try rpc.getBlockHeader($0) }),
            NodeRPCMethod(name: "getdifficulty", category: "Blockchain", summary: "Returns the proof-of-work difficulty as a multiple of the minimum difficulty.",
                          run: Self.now { _ in .number(difficultyText(bits: node.chainInfo.bits)) }),
            NodeRPCMethod(name: "getmempoolinfo", category: "Blockchain", summary: "Returns details on the active state of the TX memory pool.",
                          run: Self.now { _ in rpc.getMempoolInfo() }),
            NodeRPCMethod(name: "getrawmempool", category: "Blockchain",
                          arguments: [RPCArgument(name: "verbose", kind: .bool, optional: true, text: "True for a json object, false for array of transaction ids"),
                                      RPCArgument(name: "mempool_sequence", kind: .bool, optional: true, text: "If verbose=false, returns a json object with transaction list and mempool sequence number attached.")],
                          summary: "Returns all transaction ids in memory pool as a json array of string transaction ids.",
                          run: Self.now { try rpc.getRawMempool($0) }),
            NodeRPCMethod(name: "preciousblock", category: "Blockchain", arguments: [Self.blockhash],
                          summary: "Treats a block as if it were received before others with the same work. This node keeps one chain, so it only checks that the block is known.",
                          run: Self.now { try rpc.preciousBlock($0) }),
            NodeRPCMethod(name: "uptime", category: "Control", summary: "Returns the total uptime of the server.",
                          run: Self.now { _ in .number(String(max(0, Int64(node.configuration.clock.now().unixSeconds) - Int64(rpc.startTime)))) }),
            NodeRPCMethod(name: "getblocktemplate", category: "Mining",
                          arguments: [RPCArgument(name: "template_request", kind: .object, text: "Format of the template: {\"mode\", \"rules\", \"longpollid\", \"data\"}")],
                          summary: "Returns data needed to construct a block to work on (BIP 22, 23, 9, 145); with {\"mode\": \"proposal\", \"data\": HEX} checks a block proposal.",
                          run: { params, loop in rpc.getBlockTemplate(params, loop: loop, waiters: waiters, timeout: timeout) }),
            NodeRPCMethod(name: "getmininginfo", category: "Mining", summary: "Returns a json object containing mining-related information.",
                          run: Self.now { _ in rpc.getMiningInfo() }),
            NodeRPCMethod(name: "submitblock", category: "Mining",
                          arguments: [RPCArgument(name: "hexdata", kind: .string, text: "the hex-encoded block data to submit"),
                                      RPCArgument(name: "dummy", kind: .string, optional: true, text: "dummy value, for compatibility with BIP22. This value is ignored.")],
                          summary: "Attempts to submit new block to network (null when accepted, else the reason).",
                          run: Self.now { try rpc.submitBlock($0) }),
            NodeRPCMethod(name: "getnetworkinfo", category: "Network", summary: "Returns an object containing various state info regarding P2P networking (this node has none).",
                          run: Self.now { _ in rpc.getNetworkInfo() }),
            NodeRPCMethod(name: "decoderawtransaction", category: "Rawtransactions",
                          arguments: [Self.hexstring, RPCArgument(name: "iswitness", kind: .bool, optional: true, text: "Whether the transaction hex is a serialized witness transaction.")],
                          summary: "Return a JSON object representing the serialized, hex-encoded transaction.",
                          run: Self.now { try rpc.decodeRawTransaction($0) }),
            NodeRPCMethod(name: "decodescript", category: "Rawtransactions", arguments: [Self.hexstring],
                          summary: "Decode a hex-encoded script.",
                          run: Self.now { try rpc.decodeScript($0) }),
            NodeRPCMethod(name: "getrawtransaction", category: "Rawtransactions",
                          arguments: [RPCArgument(name: "txid", kind: .string, text: "The transaction id"),
                                      RPCArgument(name: "verbosity", kind: .any, optional: true, text: "0 for hex-encoded data, 1 for a JSON object, and 2 for JSON object with fee and prevout"),
                                      RPCArgument(name: "blockhash", kind: .string, optional: true, text: "The block in which to look for the transaction")],
                          summary: "Return the raw transaction data from the mempool, or from the block given (this node keeps no transaction index).",
                          run: Self.now { try rpc.getRawTransaction($0) }),
            NodeRPCMethod(name: "validateaddress", category: "Util", arguments: [Self.address],
                          summary: "Return information about the given bitcoin address.",
                          run: Self.now { try rpc.validateAddress($0) }),
            NodeRPCMethod(name: "getaddressinfo", category: "Wallet", arguments: [Self.address],
                          summary: "Return information about the given bitcoin address (this node has no wallet: no address is its own).",
                          run: Self.now { try rpc.getAddressInfo($0) }),
            NodeRPCMethod(name: "generatetoaddress", category: "Generating",
                          arguments: [RPCArgument(name: "nblocks", kind: .number, text: "How many blocks are generated."),
                                      RPCArgument(name: "address", kind: .string, text: "The address to send the newly generated bitcoin to."),
                                      RPCArgument(name: "maxtries", kind: .number, optional: true, text: "How many iterations to try.")],
                          summary: "Mine blocks immediately to a specified address (before the RPC call returns)",
                          run: Self.now { try rpc.generateToAddress($0) }),
        ]
        let topics = list
        list.append(NodeRPCMethod(
            name: "help", category: "Control",
            arguments: [RPCArgument(name: "command", kind: .string, optional: true, text: "The command to get help on")],
            summary: "List all commands, or get help for a specified command.",
            run: Self.now { params in
                guard case let .string(name)? = params.first else { return .string(Self.overview(topics)) }
                if name == "help" { return .string("help ( \"command\" )\n\nList all commands, or get help for a specified command.\n") }
                return .string(topics.first { $0.name == name }?.help ?? "help: unknown command: \(name)")
            }))
        return list
    }

    /// `help` without a command: each category's usage lines.
    private static func overview(_ methods: [NodeRPCMethod]) -> String {
        var sections = [String]()
        var seen = [String]()
        for method in methods where !seen.contains(method.category) { seen.append(method.category) }
        for category in seen {
            let lines = methods.filter { $0.category == category }.map(\.usage).sorted()
            let extra = category == "Control" ? ["help ( \"command\" )"] : []
            sections.append("== \(category) ==\n" + (lines + extra).sorted().joined(separator: "\n"))
        }
        return sections.joined(separator: "\n\n")
    }
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

/// The method bodies (parameters already checked for count and JSON type by ``NodeRPCMethod/check(_:)``).
struct NodeRPC: Sendable {
    let node: RegtestNode
    /// When the server started (unix seconds), for `uptime`.
    let startTime: UInt32
    let logger: Logger

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
        guard case let .string(longPollID)? = field("longpollid"), longPollID.hasPrefix(node.tip.hash.displayHex) else {
            return loop.makeSucceededFuture(templateJSON())
        }
        // Long poll, as Bitcoin Core: wait for a new tip; after `timeout`, answer if the mempool changed since the
        // id was given, else wait again (a tenth of the timeout at a time).
        let promise = loop.makePromise(of: Void.self)
        let ticket = waiters.add(promise)
        let node = self.node
        if !longPollID.hasPrefix(node.tip.hash.displayHex) { waiters.fire(ticket) }
        let timer = loop.scheduleRepeatedTask(initialDelay: timeout, delay: .nanoseconds(timeout.nanoseconds / 10)) { _ in
            if node.longPollID != longPollID { waiters.fire(ticket) }
        }
        return promise.futureResult.map { [self] _ in
            timer.cancel()
            return templateJSON()
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
        if node.height(of: block.hash) != nil { return .string("duplicate") }
        guard block.header.previousBlockHash == node.tip.hash else { return .string("inconclusive-not-best-prevblk") }
        return node.checkProposal(block).map { .string($0.reason) } ?? .null
    }

    // MARK: Blocks

    /// Bitcoin Core's submitblock: the witness reserved value filled in as its `UpdateUncommittedBlockStructures`
    /// does, then null when accepted, else the reason ("duplicate", "inconclusive", "high-hash", ...). Logged.
    func submitBlock(_ params: [JSONValue]) throws -> JSONValue {
        guard case let .string(hex)? = params.first else { throw JSONRPCError(code: NodeRPC.typeError, message: "hexdata must be a string") }
        var block = try decodeBlock(hex)
        block.fillWitnessReservedValue()
        let hash = block.hash.displayHex
        switch node.submit(block) {
        case .success:
            logger.info("submitblock: block \(hash) accepted")
            return .null
        case let .failure(rejection):
            logger.warning("submitblock: block \(hash) rejected: \(rejection.reason)")
            return .string(rejection.reason)
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
