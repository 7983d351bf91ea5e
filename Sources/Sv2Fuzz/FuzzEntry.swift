import Foundation
import Sv2Binary
import Sv2Messages

/// One fuzz input: every input goes through the stream frame decoder and the message decoder, and every frame that
/// decodes must re-encode to bytes that decode and re-encode identically.
func fuzzOne(_ bytes: [UInt8]) {
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

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}


#if !SV2_LIBFUZZER
/// In a normal build, replays the files named as arguments: the regression corpus of inputs the fuzzer once
/// crashed on. Built with `-DSV2_LIBFUZZER --sanitize=fuzzer` (scripts/fuzz) there is no main here: libFuzzer's
/// own main drives `LLVMFuzzerTestOneInput`.
@main
enum FuzzMain {
    static func main() {
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                exit(2)
            }
            fuzzOne(Array(data))
            count += 1
        }
        print("replayed \(count) input\(count == 1 ? "" : "s") without a failure")
    }
}
#endif
