import Sv2TestSupport
import Foundation
import Sv2Binary
import Sv2Crypto
import Sv2Messages
import Testing
@testable import Sv2Noise

/// The deterministic handshake of Tests/Vectors/sv2_noise_nx_transcript.json, reproduced byte for byte.
@Suite("Noise NX transcript")
struct TranscriptTests {
    let transcript: [String: Any]

    init() throws {
        transcript = try loadJSON("sv2_noise_nx_transcript.json")
    }

    func string(_ path: String...) -> String {
        var node: Any? = transcript
        for key in path { node = (node as? [String: Any])?[key] }
        return node as? String ?? ""
    }

    func number(_ path: String...) -> UInt32 {
        var node: Any? = transcript
        for key in path { node = (node as? [String: Any])?[key] }
        return (node as? NSNumber)?.uint32Value ?? 0
    }

    func keyPair(_ name: String) throws -> NoiseKeyPair {
        try NoiseKeyPair(
            secretKey: Secp256k1SecretKey(bytes: hex(string("inputs", name, "secret_key"))),
            encoding: hex(string("inputs", name, "ellswift")))
    }

    /// Both sides of the transcript's handshake.
    func handshake() throws -> (initiator: NoiseInitiator, responder: NoiseResponder, certificate: SignatureNoiseMessage) {
        let authority = try AuthorityKeyText.secretKey(string("inputs", "authority", "secret_key_base58check"))
        let responderStatic = try keyPair("responder_static")
        let certificate = try SignatureNoiseMessage.sign(
            authority: authority, serverStaticX: responderStatic.secretKey.xOnlyPublicKey.bytes,
            validFrom: number("inputs", "valid_from"), validity: number("inputs", "cert_validity_secs"),
            auxiliaryRandom: hex(string("inputs", "schnorr_aux_rand")))
        let initiator = NoiseInitiator(authority: authority.xOnlyPublicKey, ephemeral: try keyPair("initiator_ephemeral"))
        let responder = NoiseResponder(staticKey: responderStatic, ephemeral: try keyPair("responder_ephemeral"), certificate: certificate)
        return (initiator, responder, certificate)
    }

    @Test("our encodings of the transcript keys are the transcript's (libsecp256k1 with rnd32 = 0, as SRI)")
    func encodings() throws {
        for name in ["initiator_ephemeral", "responder_ephemeral", "responder_static"] {
            let key = try Secp256k1SecretKey(bytes: hex(string("inputs", name, "secret_key")))
            let encoding = try ElligatorSwift.encode(compressedPublicKey: key.compressedPublicKey, randomness: [UInt8](repeating: 0, count: 32))
            #expect(hexString(encoding) == string("inputs", name, "ellswift"), "\(name)")
        }
    }

    @Test("certificate, act 1, act 2, final keys")
    func handshakeBytes() throws {
        var (initiator, responder, certificate) = try handshake()
        #expect(hexString(certificate.bytes) == string("handshake", "certificate", "signature_noise_message_plaintext"))
        #expect(hexString(certificate.signedHash(serverStaticX: hex(string("handshake", "certificate", "server_static_xonly_used"))))
            == string("handshake", "certificate", "message_hash_m"))
        let act1 = try initiator.writeAct1()
        #expect(hexString(act1) == string("handshake", "act1_initiator_to_responder", "bytes"))
        let (act2, responderSession) = try responder.respond(toAct1: act1)
        #expect(act2.count == 234)
        #expect(hexString(act2) == string("handshake", "act2_responder_to_initiator", "bytes"))
        let initiatorSession = try initiator.readAct2(act2, now: number("inputs", "now_unix"))
        #expect(hexString(initiatorSession.handshakeHash) == string("handshake", "final", "h"))
        #expect(initiatorSession.handshakeHash == responderSession.handshakeHash)
        #expect(hexString(initiatorSession.sender.key) == string("handshake", "final", "c1_key_initiator_to_responder"))
        #expect(hexString(initiatorSession.receiver.key) == string("handshake", "final", "c2_key_responder_to_initiator"))
        #expect(responderSession.sender.key == initiatorSession.receiver.key && responderSession.receiver.key == initiatorSession.sender.key)
    }

    @Test("the tampered act 2 fails to authenticate")
    func tamperedAct2() throws {
        var (initiator, _, _) = try handshake()
        _ = try initiator.writeAct1()
        let tampered = hex(string("negative", "tampered_act2"))
        #expect(throws: NoiseError.decryptionFailed("act 2 certificate")) {
            try initiator.readAct2(tampered, now: number("inputs", "now_unix"))
        }
        #expect(throws: NoiseError.self) { try initiator.readAct2(tampered, now: number("inputs", "now_unix")) }
    }

    @Test("the certificate's time window with SRI's 10 s leeway")
    func timeWindow() throws {
        var node: Any? = transcript
        for key in ["handshake", "certificate", "sri_time_window_checks"] { node = (node as? [String: Any])?[key] }
        let checks = node as? [[String: Any]] ?? []
        #expect(checks.count == 6)
        for check in checks {
            var (initiator, responder, _) = try handshake()
            let now = (check["now"] as? NSNumber)?.uint32Value ?? 0
            let (act2, _) = try responder.respond(toAct1: try initiator.writeAct1())
            let accepted = (try? initiator.readAct2(act2, now: now)) != nil
            #expect(accepted == (check["sri_accepts"] as? Bool), "now \(now)")
        }
    }

    @Test("transport frames both ways, including the 70 kB two-chunk payload")
    func transportFrames() throws {
        var (initiator, responder, _) = try handshake()
        let (act2, responderSession) = try responder.respond(toAct1: try initiator.writeAct1())
        let initiatorSession = try initiator.readAct2(act2, now: number("inputs", "now_unix"))
        var node: Any? = transcript["transport_frames"]
        let frames = node as? [[String: Any]] ?? []
        node = nil
        #expect(frames.count == 4)
        var initiatorEncoder = NoiseFrameEncoder(cipher: initiatorSession.sender)
        var responderEncoder = NoiseFrameEncoder(cipher: responderSession.sender)
        var initiatorDecoder = NoiseFrameDecoder(cipher: initiatorSession.receiver)
        var responderDecoder = NoiseFrameDecoder(cipher: responderSession.receiver)
        for frame in frames {
            let fromInitiator = (frame["direction"] as? String ?? "").hasPrefix("initiator")
            let plain: [UInt8]
            if let hexFrame = frame["plain_frame"] as? String {
                plain = hex(hexFrame)
            } else {
                // RequestTransactionData.Success with one 70000-byte transaction, byte[i] = (7 * i + 3) & 0xff.
                let transaction = (0..<70000).map { UInt8((7 * $0 + 3) & 0xff) }
                plain = try RequestTransactionDataSuccess(templateID: 42, excessData: [], transactionList: [transaction]).encodedFrame()
                #expect(hexString(Sv2Hash.sha256(plain)) == frame["plain_frame_sha256"] as? String)
            }
            let encrypted = fromInitiator ? try initiatorEncoder.encrypt(frame: plain) : try responderEncoder.encrypt(frame: plain)
            #expect(encrypted.count == (frame["encrypted_len"] as? NSNumber)?.intValue)
            if let expected = frame["encrypted"] as? String {
                #expect(hexString(encrypted) == expected, "\(frame["name"] ?? "")")
            } else {
                #expect(hexString(Sv2Hash.sha256(encrypted)) == frame["encrypted_sha256"] as? String)
            }
            // Delivered in two pieces, the other side gets the plaintext frame back.
            let cut = encrypted.count / 3
            var decoded: Sv2Frame?
            if fromInitiator {
                responderDecoder.feed(encrypted[..<cut])
                if case .frame = try responderDecoder.next() { Issue.record("a frame from a partial delivery") }
                responderDecoder.feed(encrypted[cut...])
                if case let .frame(frame) = try responderDecoder.next() { decoded = frame }
            } else {
                initiatorDecoder.feed(encrypted[..<cut])
                if case .frame = try initiatorDecoder.next() { Issue.record("a frame from a partial delivery") }
                initiatorDecoder.feed(encrypted[cut...])
                if case let .frame(frame) = try initiatorDecoder.next() { decoded = frame }
            }
            #expect(try decoded?.encoded() == plain)
        }
    }

    @Test("nonce rules: a failed decryption does not advance n, and n = 2^64 - 1 is refused")
    func nonceRules() throws {
        var sender = NoiseCipher(key: [UInt8](repeating: 7, count: 32))
        var receiver = NoiseCipher(key: [UInt8](repeating: 7, count: 32))
        let first = try sender.seal(Array("ciao".utf8))
        var bad = first
        bad[0] ^= 1
        #expect(throws: NoiseError.decryptionFailed("test")) { try receiver.open(bad, what: "test") }
        #expect(receiver.nonce == 0)
        #expect(try receiver.open(first, what: "test") == Array("ciao".utf8))
        #expect(receiver.nonce == 1)
        var last = NoiseCipher(key: [UInt8](repeating: 7, count: 32), nonce: UInt64.max)
        #expect(throws: NoiseError.nonceExhausted) { try last.seal([1]) }
        var almost = NoiseCipher(key: [UInt8](repeating: 7, count: 32), nonce: UInt64.max - 1)
        _ = try almost.seal([1])
        #expect(throws: NoiseError.nonceExhausted) { try almost.seal([1]) }
    }

    @Test("an oversized encrypted frame is refused from its header")
    func oversized() throws {
        var encoder = NoiseFrameEncoder(cipher: NoiseCipher(key: [UInt8](repeating: 1, count: 32)))
        var decoder = NoiseFrameDecoder(cipher: NoiseCipher(key: [UInt8](repeating: 1, count: 32)), maximumPayloadLength: 100)
        decoder.feed(try encoder.encrypt(frame: Sv2Frame(extensionType: 0, isChannelMessage: false, messageType: 0x71, payload: [UInt8](repeating: 0, count: 101)).encoded()).prefix(22))
        #expect(throws: NoiseError.frameTooLarge(length: 101, maximum: 100)) { try decoder.next() }
    }
}
