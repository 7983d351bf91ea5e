import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Sv2Formats

/// Why a JSON-RPC call to a bitcoind-compatible server failed before a result or an RPC error came back.
public enum JSONRPCClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The server could not be reached (refused, reset, or closed before answering).
    case unreachable(String)
    /// The server refused the credentials (HTTP 401).
    case unauthorized
    /// No answer within the time allowed.
    case timeout
    /// The answer was not a JSON-RPC reply.
    case badReply(String)

    /// A sentence for the log.
    public var description: String {
        switch self {
        case let .unreachable(reason): return "RPC server unreachable: \(reason)"
        case .unauthorized: return "RPC server refused the credentials (check rpc user/password or the cookie file)"
        case .timeout: return "RPC call timed out"
        case let .badReply(reason): return "RPC reply not understood: \(reason)"
        }
    }
}

/// Calls a bitcoind-compatible JSON-RPC server over HTTP/1.1, one connection per call (a long poll holds its own).
public struct JSONRPCClient: Sendable {
    /// Server host.
    public var host: String
    /// Server port.
    public var port: Int
    /// User for basic authentication (`__cookie__` with a cookie file).
    public var user: String
    /// Password for basic authentication.
    public var password: String
    /// The event loops calls run on.
    public var group: EventLoopGroup
    /// The largest reply body taken: past it the call fails and the connection closes, so that a server cannot make
    /// this process hold any amount of memory.
    public var maximumReplySize: Int

    /// A client for `host`:`port` with these credentials; replies of up to 64 MiB (a getblocktemplate of a full
    /// mempool, or a 4 MB block as hex, fits many times over).
    public init(host: String, port: Int, user: String, password: String, group: EventLoopGroup, maximumReplySize: Int = 64 << 20) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.group = group
        self.maximumReplySize = maximumReplySize
    }

    /// Reads a bitcoind cookie file (`user:password`) into credentials.
    public static func credentials(cookieFile path: String) throws -> (user: String, password: String) {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":")
        else { throw JSONRPCClientError.badReply("cannot read the cookie file \(path) (user:password)") }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Calls `method` with `params`; the result, or a ``JSONRPCError`` / ``JSONRPCClientError``.
    public func call(_ method: String, _ params: [JSONValue] = [], timeout: TimeAmount = .seconds(30)) -> EventLoopFuture<JSONValue> {
        let loop = group.next()
        let promise = loop.makePromise(of: JSONValue.self)
        let request = JSONValue.object([
            ("jsonrpc", .string("1.0")), ("id", .string("sv2")), ("method", .string(method)), ("params", .array(params)),
        ]).text
        let authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        let host = self.host, maximumReplySize = self.maximumReplySize
        ClientBootstrap(group: loop)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.pipeline.addHTTPClientHandlers().flatMap {
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(JSONRPCClientHandler(promise: promise, maximumReplySize: maximumReplySize))
                    }
                }
            }
            .connect(host: host, port: port)
            .whenComplete { result in
                switch result {
                case let .failure(error):
                    promise.fail(JSONRPCClientError.unreachable("\(error)"))
                case let .success(channel):
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: host)
                    headers.add(name: "Authorization", value: authorization)
                    headers.add(name: "Content-Type", value: "application/json")
                    headers.add(name: "Content-Length", value: String(request.utf8.count))
                    headers.add(name: "Connection", value: "close")
                    let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: headers)
                    channel.write(HTTPClientRequestPart.head(head), promise: nil)
                    channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(string: request))), promise: nil)
                    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                    let timer = channel.eventLoop.scheduleTask(in: timeout) {
                        promise.fail(JSONRPCClientError.timeout)
                        channel.close(promise: nil)
                    }
                    promise.futureResult.whenComplete { _ in
                        timer.cancel()
                        channel.close(promise: nil)
                    }
                }
            }
        return promise.futureResult
    }
}

/// Collects one HTTP response and completes the call's promise with its JSON-RPC result.
final class JSONRPCClientHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<JSONValue>
    private let maximumReplySize: Int
    private var status: HTTPResponseStatus = .ok
    private var body: [UInt8] = []
    private var isOversized = false

    init(promise: EventLoopPromise<JSONValue>, maximumReplySize: Int) {
        self.promise = promise
        self.maximumReplySize = maximumReplySize
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isOversized else { return }
        switch unwrapInboundIn(data) {
        case let .head(head):
            status = head.status
        case var .body(buffer):
            guard body.count + buffer.readableBytes <= maximumReplySize else {
                isOversized = true
                body = []
                promise.fail(JSONRPCClientError.badReply("a reply over \(maximumReplySize) bytes"))
                context.close(promise: nil)
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            finish()
        }
    }

    private func finish() {
        if status == .unauthorized {
            promise.fail(JSONRPCClientError.unauthorized)
            return
        }
        guard let reply = try? JSONValue.parseAll(String(decoding: body, as: UTF8.self)).first, case let .object(pairs) = reply else {
            promise.fail(JSONRPCClientError.badReply("HTTP \(status.code) with a body that is not a JSON object"))
            return
        }
        func field(_ name: String) -> JSONValue? { pairs.first { $0.0 == name }?.1 }
        if case let .object(error)? = field("error") {
            let code = error.first { $0.0 == "code" }.flatMap { if case let .number(text) = $0.1 { return Int(text) } else { return nil } } ?? -1
            let message = error.first { $0.0 == "message" }.flatMap { if case let .string(text) = $0.1 { return text } else { return nil } } ?? ""
            promise.fail(JSONRPCError(code: code, message: message))
            return
        }
        promise.succeed(field("result") ?? .null)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(JSONRPCClientError.unreachable("connection closed before a reply"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(JSONRPCClientError.unreachable("\(error)"))
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension JSONRPCClientHandler: Sendable {}
