import Foundation
import Sv2Binary
import Sv2Messages

/// One fuzz input: every input goes through the stream frame decoder and the message decoder, and every frame that
/// decodes must re-encode and decode to the same message.
func fuzzOne(_ bytes: [UInt8]) {
    var decoder = Sv2FrameDecoder(maximumPayloadLength: 1 << 16)
    decoder.feed(bytes)
    while case .frame(let frame)? = try? decoder.next() {
        _ = try? Sv2Message.decode(frame)
    }
    guard let frames = try? Sv2DecodedFrame.decodeAll(bytes) else { return }
    for frame in frames {
        guard let encoded = try? frame.message.encodedFrame(tlvs: frame.tlvs),
              let again = try? Sv2DecodedFrame.decodeAll(encoded), again.count == 1,
              again[0].message == frame.message, again[0].tlvs == frame.tlvs
        else { fatalError("round trip mismatch for \(frame.message.name)") }
    }
}

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if SV2_LIBFUZZER
@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt
#endif

/// Without libFuzzer (a normal build): replays the files named as arguments, the regression corpus of crashes the
/// fuzzer once found. With `-DSV2_LIBFUZZER` and `--sanitize=fuzzer` (scripts/fuzz): runs libFuzzer's driver.
@main
enum FuzzMain {
    static func main() {
        #if SV2_LIBFUZZER
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(llvmFuzzerRunDriver(&argc, &argv) { data, size in fuzzTestOneInput(data, size) })
        #else
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
        #endif
    }
}
