import Sv2Binary
import Sv2Messages

/// The `frames` target: the plaintext stream frame decoder and the message decoder.
enum FramesFuzz {
    /// Every input goes through the stream frame decoder and the message decoder, and every frame that decodes
    /// must re-encode to bytes that decode and re-encode identically.
    static func run(_ bytes: [UInt8]) {
        var decoder = Sv2FrameDecoder(maximumPayloadLength: 1 << 16)
        decoder.feed(bytes)
        while case .frame(let frame)? = try? decoder.next() {
            _ = try? Sv2Message.decode(frame)
        }
        guard let frames = try? Sv2DecodedFrame.decodeAll(bytes) else { return }
        for frame in frames {
            // Bytes, not values, are compared: an F32 field may hold a NaN, which never equals itself.
            guard let encoded = try? frame.message.encodedFrame(tlvs: frame.tlvs),
                  let again = try? Sv2DecodedFrame.decodeAll(encoded), again.count == 1,
                  (try? again[0].message.encodedFrame(tlvs: again[0].tlvs)) == encoded
            else { fatalError("round trip mismatch for \(frame.message.name)") }
        }
    }
}
