import Bitcoin
import Logging
import NIOCore
import ServiceLifecycle
import Sv2Binary
import Sv2Formats
import Sv2Network
import Sv2Node

/// Where `sv2 tp --follow` takes its chain from: another embedded node's JSON-RPC (an `sv2 tp` or `sv2 pool` with
/// `--rpc-listen`), `http://USER:PASSWORD@HOST:PORT`.
public struct FollowSource: Sendable, Hashable, CustomStringConvertible {
    /// The other node's RPC host and port.
    public var address: HostPort
    /// Its RPC user.
    public var user: String
    /// Its RPC password.
    public var password: String

    /// Parses `http://USER:PASSWORD@HOST:PORT` (`[v6]:PORT` for IPv6; the scheme may be left out, any other is
    /// refused); nil when it is not that.
    public init?(_ text: String) {
        guard let url = RPCURL(text), let user = url.user, let password = url.password, !user.isEmpty else { return nil }
        address = url.address
        self.user = user
        self.password = password
    }

    /// The address without the credentials, for logs.
    public var description: String { "http://\(address)" }
}

/// `http://[USER:PASSWORD@]HOST:PORT[/]`, the form of a node's JSON-RPC address (`bitcoind`, `follow`).
struct RPCURL {
    /// Host and port (port 1 to 65535).
    var address: HostPort
    /// The user before the colon of the credentials, if any.
    var user: String?
    /// The password after it.
    var password: String?

    /// Parses `text`; nil when it is not of that form (another scheme, no port, a path beyond `/`).
    init?(_ text: String) {
        var rest = Substring(text)
        if let scheme = rest.range(of: "://") {
            guard rest[..<scheme.lowerBound].lowercased() == "http" else { return nil }
            rest = rest[scheme.upperBound...]
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/") else { return nil }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            guard let colon = credentials.firstIndex(of: ":") else { return nil }
            user = String(credentials[..<colon])
            password = String(credentials[credentials.index(after: colon)...])
            rest = rest[rest.index(after: at)...]
        }
        guard let address = HostPort(String(rest)), address.port > 0 else { return nil }
        self.address = address
    }
}

/// Keeps the embedded node on another node's chain (`--follow`): every `interval` it asks the other node's height
/// and whether it has the local tip, and fetches, one by one, the blocks the local node lacks, submitting each
/// (validated as any block). Its own transaction generator goes on, so the two mempools differ. Blocks of its own
/// the other node has not taken yet are waited on (two nodes may follow each other). Divergence (different blocks
/// at one height: both mined, or a datadir with another chain) is logged once; the follower does not reorganise.
public final class ChainFollower: Service, Sendable {
    private let node: RegtestNode
    private let client: JSONRPCClient
    private let source: FollowSource
    private let interval: Duration
    private let logger: Logger

    /// A follower of `source` for `node`, polling every `interval`.
    public init(node: RegtestNode, source: FollowSource, interval: Duration, group: EventLoopGroup, logger: Logger) {
        self.node = node
        self.source = source
        self.interval = interval
        self.logger = logger
        client = JSONRPCClient(host: source.address.host, port: source.address.port, user: source.user, password: source.password, group: group)
    }

    /// Follows until shutdown.
    public func run() async throws {
        logger.info("following the chain of \(source)")
        let interval = self.interval
        await cancelWhenGracefulShutdown {
            var following = ChainFollowing()
            var problem: String?
            while !Task.isCancelled {
                do {
                    try await self.catchUp(&following)
                    if problem != nil { self.logger.info("following \(self.source) again") }
                    problem = nil
                } catch is CancellationError {
                    return
                } catch {
                    // Each problem is logged when it appears, not at every round it lasts.
                    if problem != "\(error)" { self.logger.warning("cannot follow \(self.source): \(error)") }
                    problem = "\(error)"
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Fetches and connects the blocks the local node lacks, up to the other node's height when asked; stops at a
    /// divergence (logged once).
    private func catchUp(_ following: inout ChainFollowing) async throws {
        let remoteHeight = try await height()
        while true {
            try Task.checkCancellation()
            let tip = node.tip
            let common = min(tip.height, remoteHeight)
            let agree = try await blockHash(at: common) == node.blockHash(height: common)?.displayHex
            switch following.next(localHeight: tip.height, remoteHeight: remoteHeight, agree: agree) {
            case .upToDate:
                return
            case let .diverged(isNew):
                if isNew {
                    logger.error("the chains diverged: at height \(common) the local chain has another block than \(source)'s (local tip \(tip.hash.displayHex) at height \(tip.height), the other at height \(remoteHeight)); not following until they agree (start from a fresh --datadir to follow again)")
                }
                return
            case let .fetch(height):
                try await connect(height: height)
            }
        }
    }

    /// Fetches the other node's block at `height` and submits it to the local node.
    private func connect(height: UInt32) async throws {
        let hash = try await blockHash(at: height)
        guard let hex = try await client.call("getblock", [.string(hash), .number("0")], timeout: .seconds(10)).get().stringValue,
              let bytes = Hex.decode(hex)
        else { throw FollowError("block \(height) did not come as hex") }
        let block: Block
        do {
            block = try Block(bytes: bytes)
        } catch {
            throw FollowError("block \(height) does not parse: \(error)")
        }
        guard block.hash.displayHex == hash else { throw FollowError("getblock \(hash) answered block \(block.hash.displayHex)") }
        switch node.submit(block) {
        case .success:
            logger.info("followed block \(height) \(hash) from \(source)")
        case let .failure(rejection):
            throw FollowError("block \(height) \(hash) refused: \(rejection)")
        }
    }

    private func height() async throws -> UInt32 {
        guard let height = try await client.call("getblockcount", timeout: .seconds(10)).get().int64Value.flatMap({ UInt32(exactly: $0) }) else {
            throw FollowError("getblockcount did not answer a height")
        }
        return height
    }

    private func blockHash(at height: UInt32) async throws -> String {
        guard let hash = try await client.call("getblockhash", [.number(String(height))], timeout: .seconds(10)).get().stringValue else {
            throw FollowError("getblockhash \(height) did not answer a hash")
        }
        return hash
    }
}

/// Why following stopped for a round.
struct FollowError: Error, CustomStringConvertible {
    /// A sentence naming the problem.
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
