import Bitcoin
import Foundation
import NIOCore
import NIOPosix
import Sv2Binary
import Sv2Formats
import Sv2Network
import Sv2Node
import Sv2NodeRPC
import Testing

/// A field of a JSON object.
func field(_ value: JSONValue, _ name: String) -> JSONValue? {
    guard case let .object(pairs) = value else { return nil }
    return pairs.first { $0.0 == name }?.1
}

/// The keys of a JSON object.
func keys(_ value: JSONValue) -> [String] {
    guard case let .object(pairs) = value else { return [] }
    return pairs.map(\.0)
}

/// A string or number's text.
func text(_ value: JSONValue?) -> String? {
    switch value {
    case let .string(text)?, let .number(text)?: return text
    default: return nil
    }
}

@Suite("JSON-RPC methods over the node")
final class RPCTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    deinit {
        try? group.syncShutdownGracefully()
    }

    private func call(_ methods: [String: JSONRPCMethod], _ name: String, _ params: [JSONValue] = []) throws -> JSONValue {
        let method = try #require(methods[name], "method \(name)")
        return try method(params, group.next()).wait()
    }

    private let segwit: JSONValue = .object([("rules", .array([.string("segwit")]))])

    @Test("getblocktemplate: bitcoind's fields and values")
    func getBlockTemplate() throws {
        let node = try nodeWithTransactions(rate: 8)
        let methods = rpcMethods(node: node)
        let result = try call(methods, "getblocktemplate", [segwit])
        for name in ["version", "rules", "previousblockhash", "transactions", "coinbasevalue", "longpollid", "target",
                     "mintime", "curtime", "bits", "height", "default_witness_commitment", "mutable", "noncerange",
                     "sigoplimit", "weightlimit", "capabilities", "coinbaseaux"] {
            #expect(keys(result).contains(name), "\(name)")
        }
        let template = node.template()
        #expect(text(field(result, "version")) == "536870912")
        #expect(text(field(result, "previousblockhash")) == node.tip.hash.displayHex)
        #expect(text(field(result, "bits")) == "207fffff")
        #expect(text(field(result, "target")) == "7fffff0000000000000000000000000000000000000000000000000000000000")
        #expect(text(field(result, "height")) == "121")
        #expect(text(field(result, "coinbasevalue")) == String(template.coinbaseValue))
        #expect(text(field(result, "mintime")) == String(template.minimumTime))
        #expect(text(field(result, "curtime")) == String(max(testNow, template.minimumTime)))
        #expect(text(field(result, "default_witness_commitment")) == Hex.encode(template.witnessCommitmentScript))
        #expect(text(field(result, "longpollid")) == node.longPollID)
        #expect(field(result, "rules") == .array([.string("csv"), .string("!segwit"), .string("taproot")]))
        guard case let .array(transactions)? = field(result, "transactions") else {
            Issue.record("transactions is not an array")
            return
        }
        #expect(transactions.count == 8)
        var fees: UInt64 = 0
        for (entry, transaction) in zip(transactions, template.transactions) {
            #expect(keys(entry) == ["data", "txid", "hash", "depends", "fee", "sigops", "weight"])
            #expect(text(field(entry, "data")) == transaction.hex)
            #expect(text(field(entry, "txid")) == transaction.txid.displayHex)
            #expect(text(field(entry, "hash")) == transaction.wtxid.displayHex)
            #expect(text(field(entry, "hash")) != text(field(entry, "txid")), "segwit transactions")
            #expect(text(field(entry, "weight")) == String(transaction.weight))
            #expect(text(field(entry, "sigops")) == "0")
            fees += UInt64(text(field(entry, "fee")) ?? "") ?? 0
        }
        #expect(fees == template.fees && fees > 0)
    }

    @Test("getblocktemplate needs the segwit rule; getblock only verbosity 0; bad parameters are bitcoind errors")
    func errors() throws {
        let node = try RegtestNode(configuration: testConfiguration())
        let methods = rpcMethods(node: node)
        #expect(throws: JSONRPCError.self) { try self.call(methods, "getblocktemplate", []) }
        #expect(throws: JSONRPCError.self) { try self.call(methods, "getblock", [.string(node.tip.hash.displayHex), .number("1")]) }
        #expect(throws: JSONRPCError.self) { try self.call(methods, "getblock", [.string(node.tip.hash.displayHex)]) }
        #expect(throws: JSONRPCError(code: -5, message: "Block not found")) {
            try self.call(methods, "getblock", [.string(String(repeating: "1", count: 64)), .number("0")])
        }
        #expect(throws: JSONRPCError(code: -8, message: "Block height out of range")) {
            try self.call(methods, "getblockhash", [.number("1")])
        }
        #expect(throws: JSONRPCError(code: -22, message: "Block decode failed")) {
            try self.call(methods, "submitblock", [.string("00ff")])
        }
    }

    @Test("submitblock: null on success, bitcoind's reason strings otherwise; chain queries follow")
    func submitBlock() throws {
        let node = try nodeWithTransactions(rate: 4)
        let methods = rpcMethods(node: node)
        var overpaid = craftedBlock(node, coinbase: { $0.outputs[0].value += 1 })
        BlockTemplate.solve(&overpaid)
        #expect(try call(methods, "submitblock", [.string(Hex.encode(overpaid.serialized))]) == .string("bad-cb-amount"))
        let block = craftedBlock(node)
        #expect(try call(methods, "submitblock", [.string(Hex.encode(block.serialized))]) == .null)
        #expect(try call(methods, "submitblock", [.string(Hex.encode(block.serialized))]) == .string("duplicate"))
        #expect(try call(methods, "getbestblockhash") == .string(block.hash.displayHex))
        #expect(try call(methods, "getblockcount") == .number("121"))
        #expect(try call(methods, "getblockhash", [.number("121")]) == .string(block.hash.displayHex))
        #expect(try call(methods, "getblock", [.string(block.hash.displayHex), .number("0")]) == .string(Hex.encode(block.serialized)))
        #expect(try call(methods, "getblockheader", [.string(block.hash.displayHex), .bool(false)]) == .string(Hex.encode(block.header.serialized)))
        let header = try call(methods, "getblockheader", [.string(block.hash.displayHex)])
        #expect(text(field(header, "height")) == "121" && text(field(header, "confirmations")) == "1")
        let info = try call(methods, "getblockchaininfo")
        #expect(field(info, "chain") == .string("regtest"))
        #expect(text(field(info, "blocks")) == "121" && text(field(info, "headers")) == "121")
        #expect(text(field(info, "bestblockhash")) == block.hash.displayHex)
        #expect(text(field(info, "mediantime")) == String(node.medianTimePast))
        #expect(text(field(info, "difficulty")) == "4.656542373906925e-10")
        #expect(text(field(info, "chainwork")) == String(repeating: "0", count: 62) + "f4")
        let mempool = try call(methods, "getmempoolinfo")
        #expect(text(field(mempool, "size")) == "0")
    }

    @Test("getblocktemplate proposal mode checks without connecting")
    func proposal() throws {
        let node = try nodeWithTransactions(rate: 2)
        let methods = rpcMethods(node: node)
        let block = craftedBlock(node, solve: false)
        let request: JSONValue = .object([("mode", .string("proposal")), ("data", .string(Hex.encode(block.serialized)))])
        #expect(try call(methods, "getblocktemplate", [request]) == .null)
        let bad = craftedBlock(node, coinbase: { $0.outputs[0].value += 1 })
        let badRequest: JSONValue = .object([("mode", .string("proposal")), ("data", .string(Hex.encode(bad.serialized)))])
        #expect(try call(methods, "getblocktemplate", [badRequest]) == .string("bad-cb-amount"))
        #expect(node.tip.height == 120)
    }

    @Test("getblocktemplate long poll: waits for a mempool change or a new tip, and times out")
    func longPoll() throws {
        let node = try nodeWithTransactions(rate: 3)
        let methods = rpcMethods(node: node, longPollTimeout: .seconds(30))
        let method = try #require(methods["getblocktemplate"])
        let first = try call(methods, "getblocktemplate", [segwit])
        let longPollID = try #require(text(field(first, "longpollid")))
        let poll: JSONValue = .object([("rules", .array([.string("segwit")])), ("longpollid", .string(longPollID))])

        let waiting = method([poll], group.next())
        Thread.sleep(forTimeInterval: 0.1)
        #expect(!waiting.isFulfilledForTesting)
        node.generateTransactions(now: testNow)
        let afterMempool = try waiting.wait()
        #expect(text(field(afterMempool, "longpollid")) != longPollID)
        if case let .array(transactions)? = field(afterMempool, "transactions") { #expect(transactions.count == 6) }

        let secondID = try #require(text(field(afterMempool, "longpollid")))
        let secondPoll: JSONValue = .object([("rules", .array([.string("segwit")])), ("longpollid", .string(secondID))])
        let waitingForBlock = method([secondPoll], group.next())
        node.generate(blocks: 1)
        let afterBlock = try waitingForBlock.wait()
        #expect(text(field(afterBlock, "height")) == "122")

        let stale: JSONValue = .object([("rules", .array([.string("segwit")])), ("longpollid", .string("other"))])
        #expect(text(field(try method([stale], group.next()).wait(), "height")) == "122", "another id answers at once")

        let quick = rpcMethods(node: node, longPollTimeout: .milliseconds(50))
        let currentPoll: JSONValue = .object([("rules", .array([.string("segwit")])), ("longpollid", .string(node.longPollID))])
        let quickMethod = try #require(quick["getblocktemplate"])
        let timedOut = try quickMethod([currentPoll], group.next()).wait()
        #expect(text(field(timedOut, "longpollid")) == node.longPollID)
    }

    @Test("over HTTP: JSONRPCServer with the node's methods on loopback")
    func loopback() throws {
        let node = try nodeWithTransactions(rate: 2)
        let server = try JSONRPCServer.listen(
            host: "127.0.0.1", port: 0, group: group, credentials: JSONRPCCredentials(accepted: [("user", "pass")]),
            methods: rpcMethods(node: node)
        ).wait()
        defer { try? server.close().wait() }
        let port = try #require(server.localAddress?.port)
        let client = JSONRPCClient(host: "127.0.0.1", port: port, user: "user", password: "pass", group: group)
        #expect(try client.call("getblockcount").wait() == .number("120"))
        let template = try client.call("getblocktemplate", [segwit]).wait()
        #expect(text(field(template, "height")) == "121")
        let block = craftedBlock(node)
        #expect(try client.call("submitblock", [.string(Hex.encode(block.serialized))]).wait() == .null)
        #expect(try client.call("getbestblockhash").wait() == .string(block.hash.displayHex))
    }
}

extension EventLoopFuture {
    /// Whether the future has a value yet (polls from another thread).
    var isFulfilledForTesting: Bool {
        let flag = ChangeLog()
        whenComplete { _ in flag.append("done") }
        Thread.sleep(forTimeInterval: 0.01)
        return !flag.lines.isEmpty
    }
}
