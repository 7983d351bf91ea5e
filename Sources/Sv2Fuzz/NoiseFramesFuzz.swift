import CAllocCounter
import Sv2Binary
import Sv2Noise

/// The `noise-frames` target: an encrypted stream for a NoiseFrameDecoder with the fixed key
/// ``FuzzKeys/transportKey`` and a maximum payload of ``maximumPayloadLength``, fed in chunks.
///
/// Input layout: byte 0 mod 8 = k, the number of chunk-size bytes that follow; bytes 1...k are the sizes of the
/// chunks fed in turn (cycling; 0 feeds all the rest; k = 0 feeds the whole stream at once); the rest is the stream.
///
/// Checked, for the stream taken as ciphertext: the decoder yields frames of at most the maximum, then ends in
/// `needMoreBytes` or fails with `decryptionFailed` or `frameTooLarge`; no call to `next()` asks for more memory
/// than a payload of the maximum needs; feeding in chunks or all at once gives the same frames and the same end.
/// For the stream taken as plaintext frames (split by their headers; a last frame may be short of what its header
/// declares), each encrypted with NoiseFrameEncoder: decrypting in the same chunks gives back exactly the frames
/// up to the maximum, byte for byte, then `frameTooLarge` for a header over it, or `needMoreBytes` with the exact
/// count a short last frame or the next header lacks.
enum NoiseFramesFuzz {
    /// The decoder's maximum payload: small, so that the fuzzer easily writes headers over it.
    static let maximumPayloadLength = 4096
    /// What one `next()` may allocate beyond the payload bytes: the header of the payload's array (4 words).
    static let allocationSlack = 32

    /// How the decoder's work on one stream ended.
    enum End: Hashable {
        /// All bytes were fed and it asked for this many more.
        case needMoreBytes(Int)
        /// It failed (and was fed no more).
        case failed(NoiseError)
    }

    /// What the decoder yielded for one stream.
    struct Outcome: Hashable {
        /// The frames, in order.
        var frames: [Sv2Frame] = []
        /// How it ended.
        var end = End.needMoreBytes(NoiseFraming.encryptedHeaderSize)
    }

    /// Runs a real encrypted stream and a forged one once, so that lazy one-time allocations of the runtime do
    /// not count against the first input's bound.
    static func prepare() {
        run([0] + encrypt([[0, 0, 0x15, 3, 0, 0, 1, 2, 3], [0, 0x80, 0x1f, 0, 0, 0]]))
        run([UInt8](repeating: 0, count: 1 + NoiseFraming.encryptedHeaderSize))
    }

    /// Checks one input both ways: as ciphertext, and as plaintext frames to encrypt.
    static func run(_ bytes: [UInt8]) {
        let count = bytes.isEmpty ? 0 : min(Int(bytes[0] & 7), bytes.count - 1)
        let chunkSizes = bytes.dropFirst().prefix(count).map(Int.init)
        let stream = Array(bytes.dropFirst(1 + count))
        checkCiphertext(stream, chunkSizes: chunkSizes)
        checkRoundTrip(stream, chunkSizes: chunkSizes)
    }

    /// The stream as ciphertext: frames within the maximum, an expected end, the same outcome fed whole.
    static func checkCiphertext(_ stream: [UInt8], chunkSizes: [Int]) {
        let outcome = decode(stream, chunkSizes: chunkSizes)
        switch outcome.end {
        case .needMoreBytes, .failed(.decryptionFailed): break
        case .failed(.frameTooLarge(let length, let maximum)) where length > maximum && maximum == maximumPayloadLength: break
        case .failed(let error): fatalError("encrypted stream failed with an unexpected error: \(error)")
        }
        guard chunkSizes.isEmpty || decode(stream, chunkSizes: []) == outcome else {
            fatalError("the stream fed in chunks \(chunkSizes) decodes differently from the stream fed at once")
        }
    }

    /// The stream as plaintext frames: encrypted and decrypted in the same chunks, exactly the frames come back.
    static func checkRoundTrip(_ stream: [UInt8], chunkSizes: [Int]) {
        let plaintext = plaintextFrames(stream)
        var expected = Outcome()
        for frame in plaintext {
            let header = frame.withUnsafeBytes { Sv2FrameHeader($0) }!
            let length = frame.count - Sv2FrameHeader.size
            if header.payloadLength > maximumPayloadLength {
                expected.end = .failed(.frameTooLarge(length: header.payloadLength, maximum: maximumPayloadLength))
                break
            }
            if length < header.payloadLength {
                // The short payload went out as one chunk of `length` bytes and its tag (or as nothing at all).
                let sent = length == 0 ? 0 : NoiseFraming.encryptedPayloadSize(length)
                expected.end = .needMoreBytes(NoiseFraming.encryptedPayloadSize(header.payloadLength) - sent)
                break
            }
            expected.frames.append(Sv2Frame(
                extensionType: header.extensionType, isChannelMessage: header.isChannelMessage,
                messageType: header.messageType, payload: Array(frame.dropFirst(Sv2FrameHeader.size))))
        }
        let outcome = decode(encrypt(plaintext), chunkSizes: chunkSizes)
        guard outcome == expected else {
            fatalError("encrypted plaintext frames decrypt to \(outcome.frames.count) frames ending \(outcome.end), "
                + "expected \(expected.frames.count) ending \(expected.end)")
        }
        for (frame, original) in zip(outcome.frames, plaintext) where (try? frame.encoded()) != original {
            fatalError("a frame came back with different bytes")
        }
    }

    /// Splits a plaintext stream into frames by their headers; the last may be shorter than its header declares,
    /// and fewer than 6 bytes left over are dropped.
    static func plaintextFrames(_ stream: [UInt8]) -> [[UInt8]] {
        var frames = [[UInt8]]()
        var start = 0
        while stream.count - start >= Sv2FrameHeader.size {
            let header = stream.withUnsafeBytes { Sv2FrameHeader(UnsafeRawBufferPointer(rebasing: $0[start...])) }!
            let end = min(stream.count, start + Sv2FrameHeader.size + header.payloadLength)
            frames.append(Array(stream[start..<end]))
            start = end
        }
        return frames
    }

    /// The frames encrypted one after the other with the fixed key, from nonce 0.
    static func encrypt(_ frames: [[UInt8]]) -> [UInt8] {
        var encoder = NoiseFrameEncoder(cipher: NoiseCipher(key: FuzzKeys.transportKey))
        var out = [UInt8]()
        for frame in frames {
            do {
                let declared = frame.withUnsafeBytes { Sv2FrameHeader($0) }?.payloadLength ?? 0
                if declared == frame.count - Sv2FrameHeader.size {
                    out += try encoder.encrypt(frame: frame)
                } else {
                    // A stream cut short: the header and the payload bytes there are, each sealed as the encoder
                    // would seal the start of that frame (the encoder itself refuses a frame shorter than declared).
                    var cipher = encoder.cipher
                    out += try cipher.seal(Array(frame.prefix(Sv2FrameHeader.size)))
                    if frame.count > Sv2FrameHeader.size { out += try cipher.seal(Array(frame.dropFirst(Sv2FrameHeader.size))) }
                }
            } catch {
                fatalError("encrypting a frame of \(frame.count) bytes failed: \(error)")
            }
        }
        return out
    }

    /// Feeds `stream` to a fresh decoder in chunks of `chunkSizes` (cycling; 0 = all the rest; none = at once),
    /// taking every frame out after each chunk, until all is fed or it fails. Checks that no `next()` allocates
    /// more than a payload of the maximum needs and that no frame exceeds the maximum.
    static func decode(_ stream: [UInt8], chunkSizes: [Int]) -> Outcome {
        var decoder = NoiseFrameDecoder(cipher: NoiseCipher(key: FuzzKeys.transportKey), maximumPayloadLength: maximumPayloadLength)
        var outcome = Outcome()
        var fed = 0
        var chunk = 0
        repeat {
            let size = chunkSizes.isEmpty || chunkSizes[chunk % chunkSizes.count] == 0
                ? stream.count - fed : min(chunkSizes[chunk % chunkSizes.count], stream.count - fed)
            stream.withUnsafeBytes { decoder.feed(UnsafeRawBufferPointer(rebasing: $0[fed..<fed + size])) }
            fed += size
            chunk += 1
            drain: while true {
                sv2_alloc_counter_start()
                let result = Result { () throws(NoiseError) in try decoder.next() }
                _ = sv2_alloc_counter_stop()
                let largest = sv2_alloc_counter_largest()
                guard largest <= maximumPayloadLength + allocationSlack else {
                    fatalError("next() allocated \(largest) bytes at once; the maximum payload is \(maximumPayloadLength)")
                }
                switch result {
                case .success(.frame(let frame)):
                    guard frame.payload.count <= maximumPayloadLength else {
                        fatalError("a frame of \(frame.payload.count) bytes passed the maximum of \(maximumPayloadLength)")
                    }
                    outcome.frames.append(frame)
                case .success(.needMoreBytes(let count)):
                    guard count > 0 else { fatalError("the decoder asked for 0 more bytes") }
                    outcome.end = .needMoreBytes(count)
                    break drain
                case .failure(let error):
                    outcome.end = .failed(error)
                    return outcome
                }
            }
        } while fed < stream.count
        return outcome
    }
}
