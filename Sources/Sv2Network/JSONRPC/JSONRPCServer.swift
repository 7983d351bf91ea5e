import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Sv2Formats

/// An error answered to a JSON-RPC call, with bitcoind's codes (RPC_METHOD_NOT_FOUND = -32601,
/// RPC_INVALID_PARAMETER = -8, RPC_MISC_ERROR = -1, RPC_PARSE_ERROR = -32700, RPC_INVALID_REQUEST = -32600, ...).
public struct JSONRPCError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The numeric code.
    public var code: Int
    /// The message.
    public var message: String

    /// An error with `code` and `message`.
    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    /// -32601: method not found.
    public static func methodNotFound(_ method: String) -> JSONRPCError { JSONRPCError(code: -32601, message: "Method not found: \(method)") }
    /// -8: invalid parameter.
    public static func invalidParameter(_ text: String) -> JSONRPCError { JSONRPCError(code: -8, message: text) }

    /// `code -8: message`.
    public var description: String { "code \(code): \(message)" }
}

/// Who may call: HTTP basic authentication against user/password pairs (`rpcuser`/`rpcpassword`, or the cookie
/// `__cookie__:<random>` bitcoind writes to its data directory).
public struct JSONRPCCredentials: Sendable {
    /// Accepted user and password pairs.
    public var accepted: [(user: String, password: String)]

    /// Credentials accepting these pairs.
    public init(accepted: [(user: String, password: String)]) {
        self.accepted = accepted
    }

    /// A fresh cookie (user `__cookie__`, 32 random bytes in hex) written to `path` as bitcoind does; the file is
    /// readable by its owner only.
    public static func writeCookie(to path: String, password: String) throws {
        let text = "__cookie__:\(password)"
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw JSONRPCError(code: -1, message: "cannot write the RPC cookie file \(path)")
        }
    }

    /// True when the `Authorization` header value matches a pair (compared without early exit).
    func allows(authorization: String?) -> Bool {
        guard let authorization, authorization.hasPrefix("Basic "),
              let decoded = Data(base64Encoded: String(authorization.dropFirst(6))),
              let text = String(data: decoded, encoding: .utf8)
        else { return false }
        var allowed = false
        for pair in accepted {
            let expected = Array("\(pair.user):\(pair.password)".utf8)
            let given = Array(text.utf8)
            var difference = expected.count ^ given.count
            for index in 0..<expected.count { difference |= Int(expected[index] ^ (index < given.count ? given[index] : 0)) }
            if difference == 0 { allowed = true }
        }
        return allowed
    }
}

/// A JSON-RPC method implementation: parameters in, a result (or a thrown ``JSONRPCError``) out, possibly later
/// (for long polls).
public typealias JSONRPCMethod = @Sendable (_ params: [JSONValue], _ eventLoop: EventLoop) -> EventLoopFuture<JSONValue>

/// A bitcoind-compatible JSON-RPC server over HTTP/1.1: POST a JSON-RPC 1.0/2.0 request (or a batch) to `/`.
public enum JSONRPCServer {
    /// Binds on `host`:`port`, dispatching to `methods`.
    public static func listen(
        host: String, port: Int, group: EventLoopGroup, credentials: JSONRPCCredentials,
        methods: [String: JSONRPCMethod], maximumBodySize: Int = 64 << 20
    ) -> EventLoopFuture<Channel> {
        ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            JSONRPCHTTPHandler(credentials: credentials, methods: methods, maximumBodySize: maximumBodySize))
                    }
                }
            }
            .bind(host: host, port: port)
    }
}

/// Reads one HTTP request at a time, answers it with the JSON-RPC result.
final class JSONRPCHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let credentials: JSONRPCCredentials
    private let methods: [String: JSONRPCMethod]
    private let maximumBodySize: Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(credentials: JSONRPCCredentials, methods: [String: JSONRPCMethod], maximumBodySize: Int) {
        self.credentials = credentials
        self.methods = methods
        self.maximumBodySize = maximumBodySize
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(requestHead):
            head = requestHead
            body = []
            tooLarge = false
        case var .body(buffer):
            if body.count + buffer.readableBytes > maximumBodySize {
                tooLarge = true
            } else {
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            }
        case .end:
            guard let head else { return }
            self.head = nil
            respond(context: context, head: head)
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        guard credentials.allows(authorization: head.headers.first(name: "Authorization")) else {
            send(context: context, head: head, status: .unauthorized, body: "", extraHeaders: [("WWW-Authenticate", "Basic realm=\"jsonrpc\"")])
            return
        }
        guard head.method == .POST else {
            send(context: context, head: head, status: .methodNotAllowed, body: "JSONRPC server handles only POST requests")
            return
        }
        guard !tooLarge else {
            send(context: context, head: head, status: .payloadTooLarge, body: "request body over \(maximumBodySize) bytes")
            return
        }
        let text = String(decoding: body, as: UTF8.self)
        let parsed: JSONValue
        do {
            let values = try JSONValue.parseAll(text)
            guard values.count == 1, let value = values.first else {
                throw JSONRPCError(code: -32700, message: "Parse error: expected one JSON value, got \(values.count)")
            }
            parsed = value
        } catch {
            let rpcError = error as? JSONRPCError ?? JSONRPCError(code: -32700, message: "Parse error: \(error)")
            sendJSON(context: context, head: head, status: .internalServerError, value: Self.reply(id: .null, result: nil, error: rpcError))
            return
        }
        let loop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
        if case let .array(requests) = parsed {
            let futures = requests.map { call($0, eventLoop: loop).map { $0.reply } }
            EventLoopFuture.whenAllSucceed(futures, on: loop).whenSuccess { replies in
                bound.value.handler.sendJSON(context: bound.value.context, head: head, status: .ok, value: .array(replies))
            }
        } else {
            call(parsed, eventLoop: loop).whenSuccess { outcome in
                bound.value.handler.sendJSON(context: bound.value.context, head: head, status: outcome.failed ? .internalServerError : .ok, value: outcome.reply)
            }
        }
    }

    /// Runs one request object; never fails (errors become error replies).
    private func call(_ request: JSONValue, eventLoop: EventLoop) -> EventLoopFuture<(reply: JSONValue, failed: Bool)> {
        guard case let .object(pairs) = request else {
            return eventLoop.makeSucceededFuture((Self.reply(id: .null, result: nil, error: JSONRPCError(code: -32600, message: "Invalid Request object")), true))
        }
        func field(_ name: String) -> JSONValue? { pairs.first { $0.0 == name }?.1 }
        let id = field("id") ?? .null
        guard case let .string(name)? = field("method") else {
            return eventLoop.makeSucceededFuture((Self.reply(id: id, result: nil, error: JSONRPCError(code: -32600, message: "Method must be a string")), true))
        }
        var params = [JSONValue]()
        switch field("params") {
        case nil, .null?: break
        case let .array(values)?: params = values
        default:
            return eventLoop.makeSucceededFuture((Self.reply(id: id, result: nil, error: JSONRPCError(code: -32600, message: "Params must be an array")), true))
        }
        guard let method = methods[name] else {
            return eventLoop.makeSucceededFuture((Self.reply(id: id, result: nil, error: .methodNotFound(name)), true))
        }
        return method(params, eventLoop).map { (Self.reply(id: id, result: $0, error: nil), false) }.recover { error in
            let rpcError = error as? JSONRPCError ?? JSONRPCError(code: -1, message: "\(error)")
            return (Self.reply(id: id, result: nil, error: rpcError), true)
        }
    }

    static func reply(id: JSONValue, result: JSONValue?, error: JSONRPCError?) -> JSONValue {
        let errorValue: JSONValue = error.map { .object([("code", .number(String($0.code))), ("message", .string($0.message))]) } ?? .null
        return .object([("result", result ?? .null), ("error", errorValue), ("id", id)])
    }

    private func sendJSON(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, value: JSONValue) {
        send(context: context, head: head, status: status, body: value.text + "\n", extraHeaders: [("Content-Type", "application/json")])
    }

    private func send(context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, body: String, extraHeaders: [(String, String)] = []) {
        var headers = HTTPHeaders(extraHeaders)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension JSONRPCHTTPHandler: Sendable {}
