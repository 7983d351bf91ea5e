import Testing
@testable import Sv2Network

@Suite("HTTP request parser: what Bitcoin Core's HTTP server accepts")
struct HTTPRequestParserTests {
    private func parse(_ text: String, limit: Int = 1 << 20) throws -> [HTTPRequest] {
        var parser = HTTPRequestParser(maximumBodySize: limit)
        parser.append(Array(text.utf8))
        var requests = [HTTPRequest]()
        while let request = try parser.next() { requests.append(request) }
        return requests
    }

    @Test("bare-LF and CRLF header lines, HTTP/1.0 and 1.1, pipelined requests, keep-alive rules")
    func lineEndings() throws {
        let body = #"{"method": "getblockcount"}"#
        let requests = try parse(
            "POST / HTTP/1.1\nAuthorization: Basic dTpw\nContent-Length: \(body.utf8.count)\n\n\(body)"
                + "POST /wallet/ HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n[]"
                + "\r\nPOST / HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
        #expect(requests.count == 3)
        #expect(requests[0].header("authorization") == "Basic dTpw")
        #expect(requests[0].body == Array(body.utf8) && requests[0].keepAlive)
        #expect(requests[1].target == "/wallet/" && requests[1].minorVersion == 0 && requests[1].keepAlive)
        #expect(requests[2].body.isEmpty && !requests[2].keepAlive)
    }

    @Test("a body in pieces, chunked bodies, and one 100 Continue per request that asks for it")
    func pieces() throws {
        var parser = HTTPRequestParser(maximumBodySize: 100)
        parser.append(Array("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nab".utf8))
        var next = try parser.next()
        #expect(next == nil)
        let firstContinue = parser.takeContinue()
        #expect(firstContinue)
        next = try parser.next()
        #expect(next == nil)
        let secondContinue = parser.takeContinue()
        #expect(!secondContinue)
        parser.append(Array("cd".utf8))
        next = try parser.next()
        #expect(next?.body == Array("abcd".utf8))
        let chunked = try parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: 1\r\n\r\n")
        #expect(chunked.first?.body == Array("abcde".utf8))
    }

    @Test("errors name the problem and carry the status to answer", arguments: [
        ("GARBAGE\r\n\r\n", 400),
        ("POST / HTTP/2.0\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nno colon\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: 200\r\n\r\n", 413),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ("POST / HTTP/1.1\r\nX: " + String(repeating: "a", count: 70_000), 431),
    ])
    func errors(text: String, status: Int) {
        let error = #expect(throws: HTTPRequestError.self) { try parse(text, limit: 100) }
        #expect(error?.status == status)
    }
}
