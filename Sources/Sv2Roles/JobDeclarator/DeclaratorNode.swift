import Bitcoin
import NIOConcurrencyHelpers
import Sv2Binary
import Sv2Formats
import Sv2Network
import Sv2Node

/// The chain tip a declared job is checked on.
public struct DeclaratorTip: Sendable, Hashable {
    /// The tip's hash.
    public var hash: U256
    /// The nBits of the next block: the embedded node's tip's (regtest does not retarget); over RPC
    /// `getmininginfo`'s `next.bits` (Bitcoin Core 29 and later, right at a retarget and on testnet's
    /// minimum-difficulty blocks), else the tip's.
    public var bits: UInt32
    /// The tip's median time past (a block must be later).
    public var medianTimePast: UInt32
}

/// What `sv2 jn` asks of the pool's node: its tip, its mempool by wtxid, a block checked without its proof of work
/// (a `getblocktemplate` proposal), and a block submitted.
public protocol DeclaratorNode: Sendable {
    /// The current tip.
    func tip() async throws -> DeclaratorTip
    /// The mempool's transaction for each wtxid, nil where it has none.
    func transactions(wtxids: [U256]) async throws -> [Transaction?]
    /// Nil when `block` would be valid on the tip but for its proof of work, else the node's reason.
    func checkProposal(_ block: Block) async throws -> String?
    /// Nil when `block` was accepted, else the node's reason.
    func submit(_ block: Block) async throws -> String?
}

/// The embedded regtest node, in-process (`sv2 pool --jd-listen-address`).
public struct EmbeddedDeclaratorNode: DeclaratorNode {
    /// The node.
    public let node: RegtestNode

    /// Over `node`.
    public init(node: RegtestNode) {
        self.node = node
    }

    /// The node's tip.
    public func tip() async throws -> DeclaratorTip {
        let info = node.chainInfo
        return DeclaratorTip(hash: info.bestBlockHash, bits: info.bits, medianTimePast: info.medianTime)
    }

    /// Looked up in one pass over the mempool.
    public func transactions(wtxids: [U256]) async throws -> [Transaction?] {
        let byWtxid = Dictionary(node.mempoolEntries.map { ($0.wtxid, $0.transaction) }, uniquingKeysWith: { first, _ in first })
        return wtxids.map { byWtxid[$0] }
    }

    /// ``RegtestNode/checkProposal(_:)``.
    public func checkProposal(_ block: Block) async throws -> String? {
        node.checkProposal(block)?.reason
    }

    /// ``RegtestNode/submit(_:)``.
    public func submit(_ block: Block) async throws -> String? {
        if case let .failure(rejection) = node.submit(block) { return rejection.reason }
        return nil
    }
}

/// A node over its JSON-RPC: Bitcoin Core, or an embedded node's `--rpc-listen` (`sv2 jn --bitcoind`). The mempool's
/// wtxid-to-txid map (`getrawmempool true`) is fetched again only when a declaration names a wtxid it lacks, and each
/// transaction (`getrawtransaction`) once, kept while it stays in that map.
public final class RPCDeclaratorNode: DeclaratorNode {
    private let client: JSONRPCClient
    private let cache = NIOLockedValueBox((txids: [U256: String](), transactions: [U256: Transaction]()))

    /// Over `client`.
    public init(client: JSONRPCClient) {
        self.client = client
    }

    /// `getbestblockhash`, then `getblockheader` of it, then `getmininginfo` for the next block's nBits when it
    /// has them for that height (the tip's otherwise: older nodes, or a tip that moved in between).
    public func tip() async throws -> DeclaratorTip {
        guard let hash = try await client.call("getbestblockhash", timeout: .seconds(10)).get().stringValue.flatMap({ U256(displayHex: $0) }) else {
            throw TemplateSourceError.unavailable("getbestblockhash did not return a block hash")
        }
        let header = try await client.call("getblockheader", [.string(hash.displayHex)], timeout: .seconds(10)).get()
        guard let tipBits = header["bits"]?.stringValue.flatMap({ UInt32($0, radix: 16) }),
              let median = header["mediantime"]?.int64Value.flatMap({ UInt32(exactly: $0) }),
              let height = header["height"]?.int64Value.flatMap({ UInt32(exactly: $0) })
        else {
            throw TemplateSourceError.unavailable("getblockheader did not return bits, mediantime and height")
        }
        let mining = try? await client.call("getmininginfo", timeout: .seconds(10)).get()
        // getmininginfo names no block hash: a tip replaced at the same height in between goes unnoticed (rare).
        let nextBits = mining?["next"]?["height"]?.int64Value == Int64(height) + 1
            ? mining?["next"]?["bits"]?.stringValue.flatMap { UInt32($0, radix: 16) } : nil
        return DeclaratorTip(hash: hash, bits: nextBits ?? tipBits, medianTimePast: median)
    }

    /// From the cache, else fetched.
    public func transactions(wtxids: [U256]) async throws -> [Transaction?] {
        if wtxids.contains(where: { wtxid in cache.withLockedValue { $0.txids[wtxid] == nil } }) {
            try await refreshMempool()
        }
        let (txids, known) = cache.withLockedValue { ($0.txids, $0.transactions) }
        var found = [Transaction?]()
        for wtxid in wtxids {
            if let transaction = known[wtxid] {
                found.append(transaction)
            } else if let txid = txids[wtxid],
                      // Left the mempool since: the client is asked for it.
                      let hex = try? await client.call("getrawtransaction", [.string(txid)], timeout: .seconds(10)).get().stringValue,
                      let transaction = try? Transaction(hex: hex), transaction.wtxid == wtxid {
                cache.withLockedValue { $0.transactions[wtxid] = transaction }
                found.append(transaction)
            } else {
                found.append(nil)
            }
        }
        return found
    }

    /// `getrawmempool true`: the map from wtxids to txids, and the kept transactions still in it.
    private func refreshMempool() async throws {
        guard case let .object(entries) = try await client.call("getrawmempool", [.bool(true)], timeout: .seconds(30)).get() else {
            throw TemplateSourceError.unavailable("getrawmempool true did not return an object")
        }
        var txids = [U256: String]()
        for (txid, entry) in entries {
            if let wtxid = entry["wtxid"]?.stringValue.flatMap({ U256(displayHex: $0) }) { txids[wtxid] = txid }
        }
        cache.withLockedValue { cache in
            cache.txids = txids
            cache.transactions = cache.transactions.filter { txids[$0.key] != nil }
        }
    }

    /// `getblocktemplate {"mode": "proposal"}`.
    public func checkProposal(_ block: Block) async throws -> String? {
        let request = JSONValue.object([("mode", .string("proposal")), ("data", .string(Hex.encode(block.serialized))), ("rules", .array([.string("segwit")]))])
        return try await client.call("getblocktemplate", [request], timeout: .seconds(30)).get().stringValue
    }

    /// `submitblock`.
    public func submit(_ block: Block) async throws -> String? {
        try await client.call("submitblock", [.string(Hex.encode(block.serialized))], timeout: .seconds(30)).get().stringValue
    }
}
