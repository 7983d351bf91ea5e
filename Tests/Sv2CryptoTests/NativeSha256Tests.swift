import CSv2Native
import Sv2Crypto
import Testing

/// CSv2Native's SHA256d (SHA-NI block transform when the CPU has it) against libsodium's SHA-256.
@Suite("CSv2Native SHA256d against libsodium")
struct NativeSha256Tests {
    @Test("every length from 0 to 300 bytes, across block boundaries, matches libsodium")
    func lengths() {
        var state: UInt64 = 0x1234_5678_9abc_def0
        for length in 0...300 {
            let bytes = (0..<length).map { _ -> UInt8 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
            var out = [UInt8](repeating: 0, count: 32)
            sv2_sha256d(bytes, bytes.count, &out)
            #expect(out == Sv2Hash.sha256d(bytes), "length \(length)")
        }
    }
}
