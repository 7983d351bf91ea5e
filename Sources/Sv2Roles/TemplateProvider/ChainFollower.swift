import Bitcoin
import Logging
import NIOCore
import ServiceLifecycle
import Sv2Binary
import Sv2Formats
import Sv2Network
import Sv2Node

/// Where `sv2 tp --follow` takes its chain from: another node's JSON-RPC (an `sv2 tp` or `sv2 pool` with
/// `--rpc-listen`, or Bitcoin Core on regtest), `http://USER:PASSWORD@HOST:PORT`.
public struct FollowSource: Sendable, Hashable, CustomStringConvertible {
    /// The other node's RPC host and port.
    public var address: HostPort
    /// Its RPC user.
    public var user: String
    /// Its RPC password.
    public var password: String

    /// Parses `http://USER:PASSWORD@HOST:PORT` (the scheme may be left out); nil when it is not that.
    public init?(_ text: String) {
        let rest = text.hasPrefix("http://") ? String(text.dropFirst(7)) : text
        guard let at = rest.lastIndex(of: "@") else { return nil }
        let credentials = rest[..<at], location = rest[rest.index(after: at)...].split(separator: "/", maxSplits: 1).first ?? ""
        guard let colon = credentials.firstIndex(of: ":"), let portColon = location.lastIndex(of: ":"),
              let port = Int(location[location.index(after: portColon)...]), (1...65535).contains(port), portColon > location.startIndex
        else { return nil }
        address = HostPort(host: String(location[..<portColon]), port: port)
        user = String(credentials[..<colon])
        password = String(credentials[credentials.index(after: colon)...])
        guard !user.isEmpty else { return nil }
    }

    /// The address without the credentials, for logs.
    public var description: String { "http://\(address)" }
}

/// Keeps the embedded node on another node's chain (`--follow`): every `interval` it asks the other node's height
/// and fetches, one by one, the blocks the local node lacks, submitting each (validated as any block). Its own
/// transaction generator goes on, so the two mempools differ. Divergence (a local block the other chain does not
/// have) is logged once; the follower does not reorganise.
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
            var reachable = true
            while !Task.isCancelled {
                do {
                    try await self.catchUp(&following)
                    if !reachable { self.logger.info("\(self.source) reachable again") }
                    reachable = true
                } catch {
                    if reachable { self.logger.warning("cannot follow \(self.source): \(error)") }
                    reachable = false
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Fetches and connects the blocks the local node lacks, up to the other node's height when asked.
    private func catchUp(_ following: inout ChainFollowing) async throws {
        guard let remoteHeight = try await client.call("getblockcount").get().int64Value.flatMap({ UInt32(exactly: $0) }) else {
            throw FollowError("getblockcount did not answer a height")
        }
        while case let .fetch(height) = following.next(localHeight: node.tip.height, remoteHeight: remoteHeight) {
            guard let hash = try await client.call("getblockhash", [.number(String(height))]).get().stringValue,
                  let hex = try await client.call("getblock", [.string(hash), .number("0")]).get().stringValue,
                  let bytes = Hex.decode(hex)
            else { throw FollowError("block \(height) did not come as hex") }
            let block: Block
            do {
                block = try Block(bytes: bytes)
            } catch {
                throw FollowError("block \(height) does not parse: \(error)")
            }
            switch following.judge(block, localTip: node.tip.hash) {
            case let .diverged(isNew):
                if isNew {
                    logger.error("the chains diverged at height \(height): \(source)'s block \(hash) does not extend the local tip \(node.tip.hash.displayHex); not following until it does")
                }
                return
            case .connect:
                switch node.submit(block) {
                case let .success(connected):
                    logger.info("followed block \(height) \(connected.displayHex) from \(source)")
                case let .failure(rejection):
                    throw FollowError("block \(height) \(hash) refused: \(rejection)")
                }
            }
        }
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
