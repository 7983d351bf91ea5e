import Sv2TestSupport
import Testing
@testable import Sv2Binary

@Suite("spec 3.2 framing and 3.4.3 TLV")
struct FramingTests {
    @Test("header parsing (SRI test_header_from_bytes) and the channel_msg bit")
    func header() throws {
        let header = hex("010203040506").withUnsafeBytes { Sv2FrameHeader($0) }
        #expect(header == Sv2FrameHeader(extensionType: 0x0201, isChannelMessage: false, messageType: 0x03, payloadLength: 0x060504))
        let channel = hex("00801e2e0000").withUnsafeBytes { Sv2FrameHeader($0) }
        #expect(channel?.isChannelMessage == true && channel?.extensionType == 0 && channel?.rawExtensionType == 0x8000)
        #expect(channel?.payloadLength == 46)
        #expect([UInt8](repeating: 0, count: 5).withUnsafeBytes { Sv2FrameHeader($0) } == nil)
    }

    @Test("the stream decoder says how many bytes it needs (SRI size_hint: header of a 46-byte payload)")
    func needMoreBytes() throws {
        var decoder = Sv2FrameDecoder()
        #expect(try decoder.next() == .needMoreBytes(6))
        decoder.feed(hex("00801e"))
        #expect(try decoder.next() == .needMoreBytes(3))
        decoder.feed(hex("2e0000"))
        #expect(try decoder.next() == .needMoreBytes(46))
        decoder.feed([UInt8](repeating: 7, count: 45))
        #expect(try decoder.next() == .needMoreBytes(1))
        decoder.feed([7])
        guard case let .frame(frame) = try decoder.next() else {
            Issue.record("no frame")
            return
        }
        #expect(frame.header.messageType == 0x1e && frame.payload.count == 46 && frame.header.isChannelMessage)
        #expect(try decoder.next() == .needMoreBytes(6) && decoder.bufferedByteCount == 0)
    }

    @Test("frames fed one byte at a time come out whole and in order")
    func byteByByte() throws {
        let frames = (0..<20).map { index in
            Sv2Frame(extensionType: 0, isChannelMessage: index % 2 == 0, messageType: UInt8(index), payload: [UInt8](repeating: UInt8(index), count: index * 7))
        }
        let stream = try frames.flatMap { try $0.encoded() }
        var decoder = Sv2FrameDecoder(maximumPayloadLength: 1000)
        var out = [Sv2Frame]()
        for byte in stream {
            decoder.feed([byte])
            while case let .frame(frame) = try decoder.next() { out.append(frame) }
        }
        #expect(out == frames)
    }

    @Test("an oversized payload is refused from its header, before any payload is buffered")
    func oversized() throws {
        var decoder = Sv2FrameDecoder(maximumPayloadLength: 100)
        decoder.feed(hex("000015650000"))
        #expect(throws: Sv2FrameDecoder.OversizedFrame.self) { try decoder.next() }
        var exact = Sv2FrameDecoder(maximumPayloadLength: 100)
        exact.feed(hex("000015640000"))
        #expect(try exact.next() == .needMoreBytes(100))
        #expect(Sv2FrameDecoder(maximumPayloadLength: 1 << 30).maximumPayloadLength == 0xff_ffff)
    }

    @Test("TLV vectors (SRI tlv codec)")
    func tlv() throws {
        #expect(try Sv2Writer.makeArray(size: 64) { w throws(Sv2CodecError) in
            try Sv2TLV(extensionType: 2, fieldType: 1, value: Array("test".utf8)).encode(to: &w)
        } == hex("020001040074657374"))
        #expect(try Sv2Writer.makeArray(size: 64) { w throws(Sv2CodecError) in
            try Sv2TLV(extensionType: 2, fieldType: 1, value: Array("Worker_001".utf8)).encode(to: &w)
        } == hex("0200010a00576f726b65725f303031"))
        for tlvHex in ["020001", "0200010a0073686f7274"] {
            let result = hex(tlvHex).withUnsafeBytes { buffer in
                Result { () throws(Sv2CodecError) in
                    var reader = Sv2Reader(buffer)
                    return try Sv2TLV.readAll(from: &reader)
                }
            }
            #expect(throws: Sv2CodecError.self) { try result.get() }
        }
    }
}
