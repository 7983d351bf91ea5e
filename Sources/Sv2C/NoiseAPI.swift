import CSv2
import Sv2Binary
import Sv2Crypto
import Sv2Noise
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The Noise entry points of sv2.h over Sv2Noise's value-type state machines.

/// The storage behind an `sv2_noise *`.
final class CNoise {
    enum State {
        case initiator(NoiseInitiator)
        case responder(NoiseResponder)
        case transport(NoiseFrameEncoder, NoiseFrameDecoder)
        case failed
    }

    var state: State
    /// A decrypted frame that did not fit the caller's buffer, kept for the next call.
    var pendingFrame: [UInt8]?

    init(_ state: State) {
        self.state = state
    }

    /// The handle C holds.
    var handle: OpaquePointer { OpaquePointer(Unmanaged.passRetained(self).toOpaque()) }

    /// The handle's storage.
    static func from(_ handle: OpaquePointer?) throws(CFailure) -> CNoise {
        Unmanaged<CNoise>.fromOpaque(UnsafeRawPointer(try required(handle, "noise"))).takeUnretainedValue()
    }

    /// Runs a handshake step on a copy of the state. A call out of order (the wrong role, a step twice) changes
    /// nothing; a step that fails makes the handle unusable.
    func step<T>(_ body: (inout State) throws(NoiseError) -> T) throws(CFailure) -> T {
        var current = state
        do {
            let result = try body(&current)
            state = current
            return result
        } catch {
            if case .invalidState = error {} else { state = .failed }
            // In the handshake, a part that does not authenticate is a failed handshake (sv2.h), not a transport error.
            let code = if case .decryptionFailed = error { SV2_ERR_HANDSHAKE } else { Sv2C.code(for: error) }
            throw CFailure(code, error.description)
        }
    }
}

/// The C error code of a Noise failure.
func code(for error: NoiseError) -> sv2_error {
    switch error {
    case .wrongAuthority, .certificateExpired, .certificateNotYetValid, .unsupportedCertificateVersion: return SV2_ERR_CERTIFICATE
    case .invalidState: return SV2_ERR_STATE
    case .frameTooLarge: return SV2_ERR_OVERSIZED
    case .wrongActLength, .crypto: return SV2_ERR_HANDSHAKE
    case .decryptionFailed, .nonceExhausted: return SV2_ERR_DECRYPT
    }
}

/// The Unix time to check certificates at: `now`, or the system clock for 0.
func unixTime(_ now: UInt32) -> UInt32 {
    now != 0 ? now : UInt32(clamping: time(nil))
}

/// A secret key from 32 bytes at `pointer`.
func secretKey(_ pointer: UnsafePointer<UInt8>?, _ name: String) throws(CFailure) -> Secp256k1SecretKey {
    let input = try bytes(try required(pointer, name), 32, name)
    do throws(Sv2CryptoError) {
        return try Secp256k1SecretKey(bytes: input)
    } catch {
        throw CFailure(SV2_ERR_KEY, "\(name): \(error)")
    }
}

/// An x-only public key from 32 bytes at `pointer`.
func publicKey(_ pointer: UnsafePointer<UInt8>?, _ name: String) throws(CFailure) -> XOnlyPublicKey {
    let input = try bytes(try required(pointer, name), 32, name)
    do throws(Sv2CryptoError) {
        return try XOnlyPublicKey(bytes: input)
    } catch {
        throw CFailure(SV2_ERR_KEY, "\(name): \(error)")
    }
}

/// A new initiator.
@_cdecl("sv2_noise_initiator_new")
public func sv2_noise_initiator_new(_ authority: UnsafePointer<UInt8>?, _ noise: UnsafeMutablePointer<OpaquePointer?>?) -> sv2_error {
    cCall { () throws(CFailure) in
        let noise = try required(noise, "noise")
        noise.pointee = nil
        let key = try authority.map { pointer throws(CFailure) in try publicKey(pointer, "authority_public_key") }
        var random = SystemRandom()
        noise.pointee = CNoise(.initiator(NoiseInitiator(authority: key, ephemeral: .generate(using: &random)))).handle
    }
}

/// A new responder.
@_cdecl("sv2_noise_responder_new")
public func sv2_noise_responder_new(
    _ staticSecret: UnsafePointer<UInt8>?, _ certificate: UnsafePointer<UInt8>?, _ noise: UnsafeMutablePointer<OpaquePointer?>?
) -> sv2_error {
    cCall { () throws(CFailure) in
        let noise = try required(noise, "noise")
        noise.pointee = nil
        let key = try secretKey(staticSecret, "static_secret_key")
        let input = try bytes(try required(certificate, "certificate"), SignatureNoiseMessage.size, "certificate")
        let signed: SignatureNoiseMessage
        do throws(NoiseError) {
            signed = try SignatureNoiseMessage(bytes: input)
        } catch {
            throw CFailure(SV2_ERR_CERTIFICATE, error.description)
        }
        var random = SystemRandom()
        let responder = NoiseResponder(
            staticKey: NoiseKeyPair(secretKey: key, random: &random), ephemeral: .generate(using: &random), certificate: signed)
        noise.pointee = CNoise(.responder(responder)).handle
    }
}

/// Releases a handle.
@_cdecl("sv2_noise_free")
public func sv2_noise_free(_ noise: OpaquePointer?) {
    guard let noise else { return }
    Unmanaged<CNoise>.fromOpaque(UnsafeRawPointer(noise)).release()
}

/// Initiator: act 1.
@_cdecl("sv2_noise_write_act1")
public func sv2_noise_write_act1(_ noise: OpaquePointer?, _ act1: UnsafeMutablePointer<UInt8>?) -> sv2_error {
    cCall { () throws(CFailure) in
        let box = try CNoise.from(noise)
        let out = try required(act1, "act1")
        let bytes = try box.step { state throws(NoiseError) in
            guard case var .initiator(initiator) = state else { throw .invalidState("act 1 is written by an initiator, once") }
            let act = try initiator.writeAct1()
            state = .initiator(initiator)
            return act
        }
        try copy(bytes, to: out, "act1")
    }
}

/// Initiator: act 2.
@_cdecl("sv2_noise_read_act2")
public func sv2_noise_read_act2(_ noise: OpaquePointer?, _ act2: UnsafePointer<UInt8>?, _ len: Int, _ now: UInt32) -> sv2_error {
    cCall { () throws(CFailure) in
        let box = try CNoise.from(noise)
        let input = try bytes(act2, len, "act2")
        try box.step { state throws(NoiseError) in
            guard case var .initiator(initiator) = state else { throw .invalidState("act 2 is read by an initiator, once") }
            let session = try initiator.readAct2(input, now: unixTime(now))
            state = .transport(NoiseFrameEncoder(cipher: session.sender), NoiseFrameDecoder(cipher: session.receiver))
        }
    }
}

/// Responder: act 1 in, act 2 out.
@_cdecl("sv2_noise_respond")
public func sv2_noise_respond(_ noise: OpaquePointer?, _ act1: UnsafePointer<UInt8>?, _ len: Int, _ act2: UnsafeMutablePointer<UInt8>?) -> sv2_error {
    cCall { () throws(CFailure) in
        let box = try CNoise.from(noise)
        let input = try bytes(act1, len, "act1")
        let out = try required(act2, "act2")
        let reply = try box.step { state throws(NoiseError) in
            guard case var .responder(responder) = state else { throw .invalidState("act 1 is answered by a responder, once") }
            let (reply, session) = try responder.respond(toAct1: input)
            state = .transport(NoiseFrameEncoder(cipher: session.sender), NoiseFrameDecoder(cipher: session.receiver))
            return reply
        }
        try copy(reply, to: out, "act2")
    }
}

/// 1 once the handshake is complete.
@_cdecl("sv2_noise_is_transport")
public func sv2_noise_is_transport(_ noise: OpaquePointer?) -> Int32 {
    guard let box = try? CNoise.from(noise), case .transport = box.state else { return 0 }
    return 1
}

/// Bytes on the wire for a plaintext frame of `frameLength` bytes.
@_cdecl("sv2_noise_encrypted_size")
public func sv2_noise_encrypted_size(_ frameLength: Int) -> Int {
    let payload = frameLength <= Sv2FrameHeader.size ? 0 : frameLength - Sv2FrameHeader.size
    return NoiseFrameEncoder.encryptedSize(payloadLength: min(payload, Sv2FrameHeader.maximumPayloadLength))
}

/// Runs `body` on the transport ciphers of a handle whose handshake has completed. The state is moved out while
/// the body runs (so the decoder's buffer is not copied on write); a Noise failure leaves the handle unusable.
private func withTransport<T>(
    _ box: CNoise, _ body: (inout NoiseFrameEncoder, inout NoiseFrameDecoder) throws(NoiseError) -> T
) throws(CFailure) -> T {
    guard case .transport(var encoder, var decoder) = box.state else {
        throw CFailure(SV2_ERR_STATE, "the handshake has not completed (or failed): no transport yet")
    }
    box.state = .failed
    do {
        let result = try body(&encoder, &decoder)
        box.state = .transport(encoder, decoder)
        return result
    } catch {
        throw CFailure(code(for: error), error.description)
    }
}

/// Encrypts one frame.
@_cdecl("sv2_noise_encrypt")
public func sv2_noise_encrypt(
    _ noise: OpaquePointer?, _ frame: UnsafePointer<UInt8>?, _ frameLength: Int, _ out: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
    _ written: UnsafeMutablePointer<Int>?
) -> sv2_error {
    cCall { () throws(CFailure) in
        let box = try CNoise.from(noise)
        let written = try required(written, "written")
        guard case .transport = box.state else {
            throw CFailure(SV2_ERR_STATE, "the handshake has not completed (or failed): no transport yet")
        }
        let plain = try bytes(frame, frameLength, "frame")
        guard let header = plain.withUnsafeBytes({ Sv2FrameHeader($0) }), header.payloadLength == plain.count - Sv2FrameHeader.size else {
            throw CFailure(SV2_ERR_MALFORMED, "a frame is its 6-byte header and exactly the payload the header announces (\(plain.count) bytes given)")
        }
        let needed = NoiseFrameEncoder.encryptedSize(payloadLength: header.payloadLength)
        written.pointee = needed
        guard needed <= capacity else {
            throw CFailure(SV2_ERR_BUFFER_TOO_SMALL, "the encrypted frame needs \(needed) bytes, the buffer holds \(capacity)")
        }
        let output = UnsafeMutableRawBufferPointer(start: try required(out, "out"), count: needed)
        try withTransport(box) { encoder, _ throws(NoiseError) in
            let result = plain.withUnsafeBytes { input in
                Result { () throws(NoiseError) in
                    try encoder.encrypt(header: header, payload: UnsafeRawBufferPointer(rebasing: input[Sv2FrameHeader.size...]), into: output)
                }
            }
            try result.get()
        }
    }
}

/// Appends received bytes.
@_cdecl("sv2_noise_feed")
public func sv2_noise_feed(_ noise: OpaquePointer?, _ data: UnsafePointer<UInt8>?, _ len: Int) -> sv2_error {
    cCall { () throws(CFailure) in
        let box = try CNoise.from(noise)
        guard len >= 0 else { throw CFailure(SV2_ERR_INVALID_ARGUMENT, "len: a length over the address space") }
        let input = UnsafeRawBufferPointer(start: len > 0 ? try required(data, "data") : nil, count: len)
        try withTransport(box) { _, decoder in decoder.feed(input) }
    }
}

/// The next decrypted frame.
@_cdecl("sv2_noise_next_frame")
public func sv2_noise_next_frame(
    _ noise: OpaquePointer?, _ out: UnsafeMutablePointer<UInt8>?, _ capacity: Int, _ written: UnsafeMutablePointer<Int>?
) -> sv2_error {
    cCall { () throws(CFailure) in
        let box = try CNoise.from(noise)
        try required(written, "written").pointee = 0
        if box.pendingFrame == nil {
            let output = try withTransport(box) { _, decoder throws(NoiseError) in try decoder.next() }
            switch output {
            case let .needMoreBytes(count):
                throw CFailure(SV2_ERR_INCOMPLETE, "\(count) more bytes are needed for the next frame")
            case let .frame(frame):
                do {
                    box.pendingFrame = try frame.encoded()
                } catch {
                    throw CFailure(SV2_ERR_MALFORMED, "\(error)")
                }
            }
        }
        guard let frame = box.pendingFrame else { return }
        try deliver(frame, out, capacity, written)
        box.pendingFrame = nil
    }
}
