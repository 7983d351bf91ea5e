import NIOCore
import Sv2Crypto
import Sv2Formats
import Sv2Network

/// A pool a client role (the translator, the proxy) connects to: where it is, the authority key its certificate is
/// checked against, and the user_identity its channels open with.
public struct UpstreamPool: Sendable, CustomStringConvertible {
    /// Host.
    public var host: String
    /// Port.
    public var port: Int
    /// The pool's authority key (its certificate is checked against it).
    public var authority: XOnlyPublicKey
    /// user_identity of the channel.
    public var userIdentity: String

    /// An upstream.
    public init(host: String, port: Int, authority: XOnlyPublicKey, userIdentity: String) {
        self.host = host
        self.port = port
        self.authority = authority
        self.userIdentity = userIdentity
    }

    /// `host:port`.
    public var description: String { "\(host):\(port)" }

    /// Connects to `upstream` over Noise (its certificate checked against its authority key) on `loop`, with
    /// `engine` as the last handler: a ``ClientConnector``'s `connect`.
    static func connect(
        _ upstream: UpstreamPool, loop: EventLoop, engine: @escaping @Sendable (Channel) throws -> Void
    ) -> EventLoopFuture<Void> {
        Sv2Connections.connect(
            host: upstream.host, port: upstream.port, group: loop,
            configuration: Sv2TransportConfiguration(security: .initiator(authority: upstream.authority)), closesOnMalformedMessage: false
        ) { channel in channel.eventLoop.makeCompletedFuture { try engine(channel) } }.map { _ in }
    }
}

extension ConfigurationLayers {
    /// The pools of `upstream` (stratum2+tcp://HOST:PORT/<key>, repeatable) or else of SRI's `[[upstreams]]` tables
    /// (address, port, authority_pubkey, user_identity), with `user` as the user_identity where none is given; at
    /// least one.
    public func upstreamPools(user: String) throws(ConfigurationError) -> [UpstreamPool] {
        var upstreams = [UpstreamPool]()
        if let list = try strings("upstream") {
            for text in list {
                let url: Sv2PoolURL
                do {
                    url = try Sv2PoolURL(text)
                } catch {
                    throw self.error("upstream", error.description)
                }
                guard let key = url.authorityKey else {
                    throw self.error("upstream", "\(text) has no authority public key (stratum2+tcp://HOST:PORT/<key>)")
                }
                upstreams.append(.init(host: url.host, port: url.port, authority: key, userIdentity: user))
            }
        } else if let table = file["upstreams"] {
            upstreams = try Self.upstreamTables(table, user: user, source: fileName)
        }
        guard !upstreams.isEmpty else {
            throw ConfigurationError(key: "upstream", reason: "no pool given (--upstream stratum2+tcp://HOST:PORT/<key> or [[upstreams]])")
        }
        return upstreams
    }

    private static func upstreamTables(_ value: TOMLValue, user: String, source: String) throws(ConfigurationError) -> [UpstreamPool] {
        guard case let .array(items) = value else {
            throw ConfigurationError(key: "upstreams", origin: .file(source), reason: "expected [[upstreams]] tables")
        }
        var result = [UpstreamPool]()
        for (index, item) in items.enumerated() {
            let key = "upstreams[\(index)]"
            guard case let .table(table) = item, case let .string(address)? = table["address"], case let .integer(port)? = table["port"],
                  (1...65535).contains(port), case let .string(keyText)? = table["authority_pubkey"]
            else {
                throw ConfigurationError(key: key, origin: .file(source), reason: "needs address (string), port (1-65535) and authority_pubkey")
            }
            let authority: XOnlyPublicKey
            do {
                authority = try AuthorityKeyText.publicKey(keyText)
            } catch {
                throw ConfigurationError(key: key + ".authority_pubkey", origin: .file(source), reason: error.description)
            }
            var identity = user
            if case let .string(name)? = table["user_identity"] { identity = name }
            result.append(.init(host: address, port: Int(port), authority: authority, userIdentity: identity))
        }
        return result
    }
}

extension ClientConnector where Endpoint == UpstreamPool {
    /// The pool asked to move (Reconnect): the same pool operator (authority key, user) at `host:port` (on the loop).
    func redirect(host: String, port: Int) {
        var next = currentEndpoint
        next.host = host
        next.port = port
        redirect(to: next)
    }
}

extension HostPort {
    /// The scheme of a Stratum V1 pool's URL.
    public static let stratumV1Scheme = "stratum+tcp://"

    /// The HOST:PORT of a Stratum V1 pool's URL, `stratum+tcp://HOST:PORT` (the syntax of Stratum V2's, without a
    /// key); nil when `url` is not one.
    public init?(stratumV1URL url: String) {
        guard url.hasPrefix(Self.stratumV1Scheme),
              let parsed = try? Sv2PoolURL("stratum2+tcp://" + url.dropFirst(Self.stratumV1Scheme.count)), parsed.authorityKey == nil
        else { return nil }
        self.init(host: parsed.host, port: parsed.port)
    }
}
