import Foundation

/// One HTTP/1.x request as a bitcoind-compatible RPC server reads it.
public struct HTTPRequest: Hashable, Sendable {
    /// The method (`POST`, `GET`, ...), as sent.
    public var method: String
    /// The request target (`/`, `/wallet/x`, ...).
    public var target: String
    /// The minor version of HTTP/1.x: 0 or 1.
    public var minorVersion: Int
    /// Header fields in order, names as sent.
    public var headers: [HTTPHeaderField]
    /// The body (de-chunked).
    public var body: [UInt8]

    /// The value of the first header named `name` (case-insensitive), without surrounding whitespace.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Whether the connection stays open after the answer: HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with
    /// `Connection: keep-alive`.
    public var keepAlive: Bool {
        let tokens = (header("Connection") ?? "").lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return minorVersion >= 1 ? !tokens.contains("close") : tokens.contains("keep-alive")
    }
}

/// One header field of an ``HTTPRequest``.
public struct HTTPHeaderField: Hashable, Sendable {
    /// The field name as sent.
    public var name: String
    /// The value without surrounding whitespace.
    public var value: String

    /// A field.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Why a request could not be read; the connection is answered with ``status`` and closed.
public enum HTTPRequestError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The request line or a header line is not HTTP/1.x syntax.
    case malformed(String)
    /// The request line and headers exceed the limit.
    case headersTooLarge(limit: Int)
    /// The body exceeds the limit.
    case bodyTooLarge(limit: Int)
    /// A transfer coding other than `chunked`.
    case unsupportedTransferEncoding(String)

    /// The HTTP status code of the answer.
    public var status: Int {
        switch self {
        case .malformed: return 400
        case .headersTooLarge: return 431
        case .bodyTooLarge: return 413
        case .unsupportedTransferEncoding: return 501
        }
    }

    /// A sentence for the answer's body and the log.
    public var description: String {
        switch self {
        case let .malformed(what): return "malformed HTTP request: \(what)"
        case let .headersTooLarge(limit): return "HTTP request headers over \(limit) bytes"
        case let .bodyTooLarge(limit): return "HTTP request body over \(limit) bytes"
        case let .unsupportedTransferEncoding(coding): return "unsupported Transfer-Encoding \(coding)"
        }
    }
}

/// Reads HTTP/1.0 and HTTP/1.1 requests from a byte stream, sans-IO, accepting what Bitcoin Core's HTTP server
/// (libevent) accepts: lines ended by CRLF or a bare LF, bodies by `Content-Length` or chunked, none without either.
public struct HTTPRequestParser: Sendable {
    /// Limit on the request line and headers together.
    public let maximumHeaderSize: Int
    /// Limit on the body.
    public let maximumBodySize: Int
    private var buffer: [UInt8] = []
    private var start = 0
    /// How many requests ``next()`` has returned.
    private var completed = 0
    /// The request (by ``completed``) a `100 Continue` was last due for, and whether it is still to be sent.
    private var continueFor = -1
    private var continueDue = false

    /// A parser with these limits.
    public init(maximumHeaderSize: Int = 64 << 10, maximumBodySize: Int) {
        self.maximumHeaderSize = maximumHeaderSize
        self.maximumBodySize = maximumBodySize
    }

    /// Appends bytes read from the connection.
    public mutating func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete request, nil when more bytes are needed; throws when the stream is not HTTP (the parser
    /// is then unusable).
    public mutating func next() throws(HTTPRequestError) -> HTTPRequest? {
        var cursor = start
        guard let request = try readHead(&cursor) else { return nil }
        var complete = request
        guard let body = try readBody(of: request, at: &cursor) else {
            if continueFor != completed, request.header("Expect")?.lowercased() == "100-continue" {
                continueFor = completed
                continueDue = true
            }
            return nil
        }
        complete.body = body
        start = cursor
        completed += 1
        return complete
    }

    /// True once per request whose head asked `Expect: 100-continue` while its body has not all arrived: the server
    /// then sends `100 Continue` (as libcurl clients wait for it before sending a large body).
    public mutating func takeContinue() -> Bool {
        defer { continueDue = false }
        return continueDue
    }

    // MARK: Head

    private func readHead(_ cursor: inout Int) throws(HTTPRequestError) -> HTTPRequest? {
        // Empty lines before the request line are ignored (RFC 9112 2.2).
        var requestLine: ArraySlice<UInt8>
        repeat {
            guard let line = try readLine(&cursor, limit: maximumHeaderSize - (cursor - start)) else { return nil }
            requestLine = line
        } while requestLine.isEmpty
        let parts = requestLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
        guard parts.count == 3, let method = String(validating: parts[0], as: UTF8.self),
              let target = String(validating: parts[1], as: UTF8.self),
              let version = String(validating: parts[2], as: UTF8.self)
        else { throw .malformed("request line is not METHOD TARGET HTTP/1.x") }
        let minorVersion: Int
        switch version {
        case "HTTP/1.1": minorVersion = 1
        case "HTTP/1.0": minorVersion = 0
        default: throw .malformed("version \(version) (HTTP/1.0 or HTTP/1.1 expected)")
        }
        var headers = [HTTPHeaderField]()
        while true {
            guard let line = try readLine(&cursor, limit: maximumHeaderSize - (cursor - start)) else { return nil }
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0,
                  let name = String(validating: line[..<colon], as: UTF8.self), !name.contains(" ")
            else { throw .malformed("header line without a field name") }
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            headers.append(HTTPHeaderField(name: name, value: value))
        }
        return HTTPRequest(method: method, target: target, minorVersion: minorVersion, headers: headers, body: [])
    }

    /// The line at `cursor` without its LF or CRLF, advancing past it; nil when incomplete. A line (or the
    /// incomplete rest) longer than `limit` throws `tooLong`.
    private func readLine(
        _ cursor: inout Int, limit: Int, tooLong: HTTPRequestError? = nil
    ) throws(HTTPRequestError) -> ArraySlice<UInt8>? {
        let newline = buffer[cursor...].firstIndex(of: UInt8(ascii: "\n"))
        guard (newline ?? buffer.count) - cursor <= limit else {
            throw tooLong ?? .headersTooLarge(limit: maximumHeaderSize)
        }
        guard let newline else { return nil }
        var end = newline
        if end > cursor, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = buffer[cursor..<end]
        cursor = newline + 1
        return line
    }

    // MARK: Body

    private func readBody(of request: HTTPRequest, at cursor: inout Int) throws(HTTPRequestError) -> [UInt8]? {
        if let coding = request.header("Transfer-Encoding") {
            guard coding.lowercased() == "chunked" else { throw .unsupportedTransferEncoding(coding) }
            return try readChunks(&cursor)
        }
        guard let text = request.header("Content-Length") else { return [] }
        guard let length = Int(text), length >= 0 else { throw .malformed("Content-Length \(text)") }
        guard length <= maximumBodySize else { throw .bodyTooLarge(limit: maximumBodySize) }
        guard buffer.count - cursor >= length else { return nil }
        defer { cursor += length }
        return Array(buffer[cursor..<(cursor + length)])
    }

    private func readChunks(_ cursor: inout Int) throws(HTTPRequestError) -> [UInt8]? {
        var body = [UInt8]()
        while true {
            guard let line = try readLine(&cursor, limit: 1024, tooLong: .malformed("chunk size line over 1024 bytes")) else {
                return nil
            }
            let sizeText = String(decoding: line.prefix { $0 != UInt8(ascii: ";") }, as: UTF8.self)
                .trimmingCharacters(in: .whitespaces)
            guard let size = Int(sizeText, radix: 16), size >= 0 else { throw .malformed("chunk size \(sizeText)") }
            guard body.count + size <= maximumBodySize else { throw .bodyTooLarge(limit: maximumBodySize) }
            if size == 0 {
                // Trailer fields up to an empty line.
                while true {
                    guard let trailer = try readLine(&cursor, limit: maximumHeaderSize) else { return nil }
                    if trailer.isEmpty { return body }
                }
            }
            guard buffer.count - cursor >= size else { return nil }
            body += buffer[cursor..<(cursor + size)]
            cursor += size
            let notEnded = HTTPRequestError.malformed("chunk not followed by a line end")
            guard let end = try readLine(&cursor, limit: 1, tooLong: notEnded) else { return nil }
            guard end.isEmpty else { throw notEnded }
        }
    }
}
