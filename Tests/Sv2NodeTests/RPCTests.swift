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
        return try method.run(params, group.next()).wait()
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

    @Test("bad parameters get Bitcoin Core's codes: -1 with the help for a wrong count, -3 for a wrong type, -5, -8, -22")
    func errors() throws {
        let node = try RegtestNode(configuration: testConfiguration())
        let methods = rpcMethods(node: node)
        #expect(throws: JSONRPCError.self) { try self.call(methods, "getblocktemplate", []) }
        let tooMany = #expect(throws: JSONRPCError.self) { try self.call(methods, "getblockcount", [.number("1")]) }
        #expect(tooMany?.code == -1 && tooMany?.message.hasPrefix("getblockcount\n") == true)
        let missing = #expect(throws: JSONRPCError.self) { try self.call(methods, "getblockhash", []) }
        #expect(missing?.code == -1 && missing?.message.contains("1. height    (number, required)") == true)
        #expect(throws: JSONRPCError(code: -3, message: """
            Wrong type passed:
            {
                "Position 1 (height)": "JSON value of type string is not of expected type number"
            }
            """)) { try self.call(methods, "getblockhash", [.string("1")]) }
        #expect(throws: JSONRPCError(code: -5, message: "Block not found")) {
            try self.call(methods, "getblock", [.string(String(repeating: "1", count: 64)), .number("0")])
        }
        #expect(throws: JSONRPCError(code: -8, message: "blockhash must be of length 64 (not 3, for 'abc')")) {
            try self.call(methods, "getblock", [.string("abc")])
        }
        #expect(throws: JSONRPCError(code: -8, message: "Block height out of range")) {
            try self.call(methods, "getblockhash", [.number("1")])
        }
        #expect(throws: JSONRPCError(code: -22, message: "Block decode failed")) {
            try self.call(methods, "submitblock", [.string("00ff")])
        }
        #expect(throws: JSONRPCError(code: -22, message: "TX decode failed")) {
            try self.call(methods, "decoderawtransaction", [.string("00ff")])
        }
        #expect(throws: JSONRPCError(code: -5, message: "Invalid or unsupported Segwit (Bech32) or Base58 encoding.")) {
            try self.call(methods, "getaddressinfo", [.string("bc1qnotanaddress")])
        }
        #expect(try call(methods, "help", [.string("nope")]) == .string("help: unknown command: nope"))
        guard case let .string(overview) = try call(methods, "help") else { Issue.record("help is not a string"); return }
        #expect(overview.contains("== Blockchain ==\ngetbestblockhash\ngetblock \"blockhash\" ( verbosity )"))
    }

    @Test("getblock verbosity 1 and 2, getblockheader, decoderawtransaction, getrawtransaction: Core's fields")
    func blocksAndTransactions() throws {
        let node = try nodeWithTransactions(rate: 4)
        node.generate(blocks: 1)
        node.generateTransactions(now: testNow)
        let methods = rpcMethods(node: node)
        let hash = JSONValue.string(node.tip.hash.displayHex)
        let block = try call(methods, "getblock", [hash])
        #expect(keys(block) == ["hash", "confirmations", "height", "version", "versionHex", "merkleroot", "time", "mediantime",
                                "nonce", "bits", "target", "difficulty", "chainwork", "nTx", "previousblockhash",
                                "strippedsize", "size", "weight", "coinbase_tx", "tx"])
        #expect(text(field(block, "nTx")) == "5" && text(field(block, "confirmations")) == "1")
        guard case let .array(txids)? = field(block, "tx"), let first = txids.first else { Issue.record("no tx"); return }
        #expect(txids.count == 5)
        let detailed = try call(methods, "getblock", [hash, .number("2")])
        guard case let .array(transactions)? = field(detailed, "tx"), let coinbase = transactions.first else { Issue.record("no tx"); return }
        #expect(keys(coinbase) == ["txid", "hash", "version", "size", "vsize", "weight", "locktime", "vin", "vout", "hex"])
        #expect(keys(transactions[1]) == ["txid", "hash", "version", "size", "vsize", "weight", "locktime", "vin", "vout", "fee", "hex"])
        let withPrevouts = try call(methods, "getblock", [hash, .number("3")])
        if case let .array(full)? = field(withPrevouts, "tx"), case let .array(spends)? = field(full[1], "vin") {
            #expect(keys(spends[0]).contains("prevout"))
        } else {
            Issue.record("getblock 3 has no second transaction")
        }
        #expect(field(coinbase, "txid") == first)
        guard case let .array(inputs)? = field(coinbase, "vin") else { Issue.record("no vin"); return }
        #expect(keys(inputs[0]) == ["coinbase", "txinwitness", "sequence"])
        #expect(try call(methods, "getblock", [hash, .bool(false)]) == call(methods, "getblock", [hash, .number("0")]))

        let decoded = try call(methods, "decoderawtransaction", [try #require(field(coinbase, "hex"))])
        #expect(keys(decoded) == ["txid", "hash", "version", "size", "vsize", "weight", "locktime", "vin", "vout"])
        #expect(field(decoded, "txid") == first)
        #expect(throws: JSONRPCError.self) { try self.call(methods, "getrawtransaction", [first]) }
        let found = try call(methods, "getrawtransaction", [first, .number("1"), hash])
        #expect(field(found, "in_active_chain") == .bool(true) && field(found, "blockhash") == hash)
        let pending = try #require(node.mempoolEntries.first)
        #expect(try call(methods, "getrawtransaction", [.string(pending.txid.displayHex)]) == .string(Hex.encode(pending.serialized)))
        let pool = try call(methods, "getrawmempool", [.bool(true)])
        #expect(keys(field(pool, pending.txid.displayHex) ?? .null).contains("fees"))
    }

    @Test("validateaddress, getaddressinfo and decodescript")
    func addressesAndScripts() throws {
        let node = try RegtestNode(configuration: testConfiguration())
        let methods = rpcMethods(node: node)
        let p2wpkh = try call(methods, "validateaddress", [.string("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080")])
        #expect(p2wpkh == .object([
            ("isvalid", .bool(true)), ("address", .string("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080")),
            ("scriptPubKey", .string("0014751e76e8199196d454941c45d1b3a323f1433bd6")), ("isscript", .bool(false)),
            ("iswitness", .bool(true)), ("witness_version", .number("0")),
            ("witness_program", .string("751e76e8199196d454941c45d1b3a323f1433bd6")),
        ]))
        #expect(field(try call(methods, "validateaddress", [.string("garbage")]), "isvalid") == .bool(false))
        let info = try call(methods, "getaddressinfo", [.string("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080")])
        #expect(field(info, "ismine") == .bool(false) && field(info, "iswitness") == .bool(true))

        // <pubkey> OP_CHECKSIG: Core's decodescript of the generator point's key.
        let key = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
        let script = try call(methods, "decodescript", [.string("21" + key + "ac")])
        #expect(text(field(script, "asm")) == key + " OP_CHECKSIG")
        #expect(text(field(script, "type")) == "pubkey")
        #expect(text(field(script, "desc"))?.hasPrefix("pk(\(key))#") == true)
        let segwit = try #require(field(script, "segwit"))
        #expect(text(field(segwit, "address")) == "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080")
        #expect(text(field(segwit, "type")) == "witness_v0_keyhash")
        let nulldata = try call(methods, "decodescript", [.string("6a0401020304")])
        #expect(text(field(nulldata, "asm")) == "OP_RETURN 67305985" && text(field(nulldata, "type")) == "nulldata")
        #expect(field(nulldata, "p2sh") == nil)
    }

    @Test("submitblock: null on success, bitcoind's reason strings otherwise; chain queries follow")
    func submitBlock() throws {
        let node = try nodeWithTransactions(rate: 4)
        let methods = rpcMethods(node: node)
        var overpaid = craftedBlock(node, coinbase: { $0.outputs[0].value += 1 })
        BlockTemplate.solve(&overpaid)
        #expect(try call(methods, "submitblock", [.string(Hex.encode(overpaid.serialized))]) == .string("bad-cb-amount"))
        // A coinbase without its witness reserved value, as getblocktemplate miners build it: filled in, as Core does.
        let block = craftedBlock(node)
        var bare = block
        bare.transactions[0].inputs[0].witness = []
        #expect(node.submit(bare) == .failure(.badWitnessNonceSize))
        #expect(try call(methods, "submitblock", [.string(Hex.encode(bare.serialized))]) == .null)
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

    @Test("getblocktemplate long poll, as Bitcoin Core: a new tip answers; a mempool change only after the timeout")
    func longPoll() throws {
        let node = try nodeWithTransactions(rate: 3)
        let methods = rpcMethods(node: node, longPollTimeout: .milliseconds(300))
        let method = try #require(methods["getblocktemplate"])
        func poll(_ id: String) -> JSONValue { .object([("rules", .array([.string("segwit")])), ("longpollid", .string(id))]) }
        let first = try call(methods, "getblocktemplate", [segwit])
        let longPollID = try #require(text(field(first, "longpollid")))

        let waiting = method.run([poll(longPollID)], group.next())
        node.generateTransactions(now: testNow)
        Thread.sleep(forTimeInterval: 0.1)
        #expect(!waiting.isFulfilledForTesting, "a mempool change alone does not answer before the timeout")
        let afterMempool = try waiting.wait()
        #expect(text(field(afterMempool, "longpollid")) != longPollID)
        if case let .array(transactions)? = field(afterMempool, "transactions") { #expect(transactions.count == 6) }

        let secondID = try #require(text(field(afterMempool, "longpollid")))
        let slow = rpcMethods(node: node, longPollTimeout: .seconds(30))
        let waitingForBlock = try #require(slow["getblocktemplate"]).run([poll(secondID)], group.next())
        Thread.sleep(forTimeInterval: 0.05)
        node.generate(blocks: 1)
        let afterBlock = try waitingForBlock.wait()
        #expect(text(field(afterBlock, "height")) == "122")

        #expect(text(field(try method.run([poll("other")], group.next()).wait(), "height")) == "122", "another tip answers at once")

        let unchanged = method.run([poll(node.longPollID)], group.next())
        Thread.sleep(forTimeInterval: 0.5)
        #expect(!unchanged.isFulfilledForTesting, "past the timeout an unchanged mempool keeps the poll waiting")
        node.generate(blocks: 1)
        #expect(text(field(try unchanged.wait(), "height")) == "123")
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
