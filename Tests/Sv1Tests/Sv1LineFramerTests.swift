import Sv1
import Testing

@Suite("Sv1 line framer")
struct Sv1LineFramerTests {
    static let lines = [
        #"{"id":1,"method":"mining.subscribe","params":["cgminer/4.11.1"]}"#,
        #"{"id":2,"method":"mining.authorize","params":["slush.miner1","password"]}"#,
        #"{"id":null,"method":"mining.set_difficulty","params":[8192]}"#,
    ]

    /// Every line `framer` has ready.
    static func drain(_ framer: inout Sv1LineFramer) throws(Sv1Error) -> [String] {
        var out = [String]()
        while let line = try framer.nextLine() { out.append(String(decoding: line, as: UTF8.self)) }
        return out
    }

    @Test("one byte at a time, with CRLF and empty lines between")
    func byteByByte() throws {
        let stream = Array(("\r\n\n" + Self.lines.joined(separator: "\r\n\n") + "\r\n").utf8)
        var framer = Sv1LineFramer()
        var out = [String]()
        for byte in stream {
            framer.append(CollectionOfOne(byte))
            out += try Self.drain(&framer)
        }
        #expect(out == Self.lines)
        #expect(framer.bufferedByteCount == 0)
    }

    @Test("many lines in one chunk, a partial line kept for the next chunk, and arbitrary chunk sizes")
    func chunks() throws {
        let stream = Array((Self.lines.joined(separator: "\n") + "\n").utf8)
        for size in [1, 2, 3, 7, 50, 64, 65, 100, stream.count] {
            var framer = Sv1LineFramer()
            var out = [String]()
            var start = 0
            while start < stream.count {
                let end = min(start + size, stream.count)
                framer.append(stream[start..<end])
                out += try Self.drain(&framer)
                start = end
            }
            #expect(out == Self.lines, "chunks of \(size)")
        }
        var framer = Sv1LineFramer()
        framer.append(Array((Self.lines[0] + "\n" + Self.lines[1] + "\n{\"id\":3").utf8))
        #expect(try Self.drain(&framer) == [Self.lines[0], Self.lines[1]])
        #expect(framer.bufferedByteCount == 7)
        framer.append(Array(",\"result\":true}\n".utf8))
        #expect(try Self.drain(&framer) == [#"{"id":3,"result":true}"#])
    }

    @Test("a line at the limit (its CR included) passes, one byte more throws")
    func limit() throws {
        var framer = Sv1LineFramer(maximumLineLength: 8)
        framer.append(Array("12345678\n1234".utf8))
        framer.append(Array("567\r\n".utf8))
        #expect(try Self.drain(&framer) == ["12345678", "1234567"])
        framer.append(Array("12345678".utf8))
        #expect(try framer.nextLine() == nil)
        framer.append(Array("9".utf8))
        #expect(throws: Sv1Error.lineTooLong(limit: 8)) { try framer.nextLine() }
        #expect(throws: Sv1Error.lineTooLong(limit: 8)) { try framer.nextLine() }
        framer.append(Array("ok\n".utf8))
        #expect(throws: Sv1Error.lineTooLong(limit: 8)) { try framer.nextLine() }
        #expect(framer.bufferedByteCount == 0)
    }

    @Test("a line over the limit inside one chunk throws after the lines before it")
    func longLineInsideChunk() throws {
        var framer = Sv1LineFramer(maximumLineLength: 8)
        framer.append(Array("short\n0123456789\nnext\n".utf8))
        #expect(try framer.nextLine() == Array("short".utf8))
        #expect(throws: Sv1Error.lineTooLong(limit: 8)) { try framer.nextLine() }
    }

    @Test("a 1 MB line throws without the framer ever holding more than the limit")
    func megabyteLine() throws {
        var framer = Sv1LineFramer()
        framer.append(Array((Self.lines[0] + "\n").utf8))
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 4096)
        var largest = 0
        var thrown: Sv1Error?
        var lines = [String]()
        for _ in 0..<256 {
            framer.append(chunk)
            largest = max(largest, framer.bufferedByteCount)
            do {
                lines += try Self.drain(&framer)
            } catch {
                thrown = error
                break
            }
        }
        #expect(lines == [Self.lines[0]])
        #expect(thrown == .lineTooLong(limit: 16_384))
        #expect(largest <= 16_384 + Self.lines[0].utf8.count + 1)

        var whole = Sv1LineFramer()
        whole.append([UInt8](repeating: UInt8(ascii: "{"), count: 1 << 20))
        #expect(whole.bufferedByteCount == 0)
        #expect(throws: Sv1Error.lineTooLong(limit: 16_384)) { try whole.nextLine() }
    }
}
