import Sv2Binary
import Sv2Crypto

/// Encrypted framing (spec 4.6): the 6-byte header is encrypted alone (22 bytes with its tag), then the payload
/// in chunks of at most 65519 plaintext bytes, each its own AEAD message with the next nonce.
public enum NoiseFraming {
    /// Size of the encrypted header.
    public static let encryptedHeaderSize = Sv2FrameHeader.size + ChaChaPoly.tagSize
    /// Largest plaintext chunk (65535 - 16).
    public static let maximumChunk = 65519

    /// Bytes on the wire for a payload of `length` plaintext bytes, header excluded:
    /// length + ceil(length / 65519) * 16.
    public static func encryptedPayloadSize(_ length: Int) -> Int {
        length + (length + maximumChunk - 1) / maximumChunk * ChaChaPoly.tagSize
    }
}

/// Encrypts plaintext frames for sending.
public struct NoiseFrameEncoder: Sendable {
    /// The sending cipher.
    public private(set) var cipher: NoiseCipher

    /// An encoder sending with `cipher`.
    public init(cipher: NoiseCipher) {
        self.cipher = cipher
    }

    /// Bytes on the wire for a frame with a payload of `payloadLength` bytes.
    public static func encryptedSize(payloadLength: Int) -> Int {
        NoiseFraming.encryptedHeaderSize + NoiseFraming.encryptedPayloadSize(payloadLength)
    }

    /// Encrypts a frame given as its header and payload into `output`, which must hold
    /// ``encryptedSize(payloadLength:)`` bytes; each part is sealed straight into place (no copy first).
    public mutating func encrypt(
        header: Sv2FrameHeader, payload: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(NoiseError) {
        guard header.payloadLength == payload.count, output.count >= Self.encryptedSize(payloadLength: payload.count) else {
            throw .invalidState("the header's msg_length must match the payload and the output must fit the frame")
        }
        var plainHeader = (UInt64(0), UInt64(0))
        try withUnsafeMutableBytes(of: &plainHeader) { headerBytes throws(NoiseError) in
            var writer = Sv2Writer(UnsafeMutableRawBufferPointer(rebasing: headerBytes[..<Sv2FrameHeader.size]))
            do {
                try header.encode(to: &writer)
            } catch {
                throw .invalidState("frame header: \(error)")
            }
            try cipher.seal(
                UnsafeRawBufferPointer(rebasing: headerBytes[..<Sv2FrameHeader.size]),
                into: UnsafeMutableRawBufferPointer(rebasing: output[..<NoiseFraming.encryptedHeaderSize]))
        }
        var read = 0
        var write = NoiseFraming.encryptedHeaderSize
        while read < payload.count {
            let chunk = min(NoiseFraming.maximumChunk, payload.count - read)
            try cipher.seal(
                UnsafeRawBufferPointer(rebasing: payload[read..<read + chunk]),
                into: UnsafeMutableRawBufferPointer(rebasing: output[write..<write + chunk + ChaChaPoly.tagSize]))
            read += chunk
            write += chunk + ChaChaPoly.tagSize
        }
    }

    /// Encrypts one plaintext frame (6-byte header, then the payload its header announces).
    public mutating func encrypt(frame: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard let header = frame.withUnsafeBytes({ Sv2FrameHeader($0) }), header.payloadLength == frame.count - Sv2FrameHeader.size else {
            throw .invalidState("a frame needs its 6-byte header and exactly the payload it announces")
        }
        let total = Self.encryptedSize(payloadLength: header.payloadLength)
        var failure: NoiseError?
        var cipher = self
        let out = [UInt8](unsafeUninitializedCapacity: total) { output, initialized in
            frame.withUnsafeBytes { input in
                do throws(NoiseError) {
                    try cipher.encrypt(
                        header: header, payload: UnsafeRawBufferPointer(rebasing: input[Sv2FrameHeader.size...]),
                        into: UnsafeMutableRawBufferPointer(output))
                } catch {
                    failure = error
                }
            }
            initialized = failure == nil ? total : 0
        }
        if let failure { throw failure }
        self = cipher
        return out
    }
}

/// A sans-IO stream decoder for encrypted frames: feed it bytes as they arrive, take decrypted frames out.
///
/// The decrypted header's payload length is checked against ``maximumPayloadLength`` before any payload byte is
/// buffered for it. Any authentication failure is final: the connection must be closed.
public struct NoiseFrameDecoder: Sendable {
    /// Largest payload accepted.
    public let maximumPayloadLength: Int
    /// The receiving cipher.
    public private(set) var cipher: NoiseCipher
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var pendingHeader: Sv2FrameHeader?

    /// A decoder receiving with `cipher`, accepting payloads up to `maximumPayloadLength` bytes.
    public init(cipher: NoiseCipher, maximumPayloadLength: Int = Sv2FrameHeader.maximumPayloadLength) {
        self.cipher = cipher
        self.maximumPayloadLength = min(max(0, maximumPayloadLength), Sv2FrameHeader.maximumPayloadLength)
    }

    /// Bytes received and not yet consumed.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Appends received bytes.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Appends received bytes from an array (a plain copy, without the generic path).
    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Appends received bytes from memory (a plain copy, without the generic path).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Drops consumed bytes once they make up half the buffer, before more are appended.
    private mutating func compact() {
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
    }

    /// The next decrypted frame, or how many more bytes are needed.
    public mutating func next() throws(NoiseError) -> Sv2FrameDecoder.Output {
        if pendingHeader == nil {
            let available = buffer.count - readIndex
            guard available >= NoiseFraming.encryptedHeaderSize else {
                return .needMoreBytes(NoiseFraming.encryptedHeaderSize - available)
            }
            // The 6 plaintext header bytes live on the stack.
            var plain: (UInt32, UInt32) = (0, 0)
            var cipher = self.cipher
            let start = readIndex
            let result = buffer.withUnsafeBytes { input in
                withUnsafeMutableBytes(of: &plain) { output in
                    Result { () throws(NoiseError) in
                        try cipher.open(
                            UnsafeRawBufferPointer(rebasing: input[start..<start + NoiseFraming.encryptedHeaderSize]),
                            into: UnsafeMutableRawBufferPointer(rebasing: output[..<Sv2FrameHeader.size]), what: "frame header")
                    }
                }
            }
            try result.get()
            self.cipher = cipher
            readIndex += NoiseFraming.encryptedHeaderSize
            guard let header = withUnsafeBytes(of: plain, { Sv2FrameHeader(UnsafeRawBufferPointer(rebasing: $0[..<Sv2FrameHeader.size])) }) else {
                throw .invalidState("short header")
            }
            guard header.payloadLength <= maximumPayloadLength else {
                throw .frameTooLarge(length: header.payloadLength, maximum: maximumPayloadLength)
            }
            pendingHeader = header
        }
        guard let header = pendingHeader else { return .needMoreBytes(NoiseFraming.encryptedHeaderSize) }
        let encryptedLength = NoiseFraming.encryptedPayloadSize(header.payloadLength)
        let available = buffer.count - readIndex
        guard available >= encryptedLength else { return .needMoreBytes(encryptedLength - available) }
        var cipher = self.cipher
        let start = readIndex
        var result: Result<Void, NoiseError> = .success(())
        // Decrypted straight into the payload's storage, which is not zeroed first.
        let payload = [UInt8](unsafeUninitializedCapacity: header.payloadLength) { storage, initialized in
            let output = UnsafeMutableRawBufferPointer(storage)
            result = buffer.withUnsafeBytes { input in
                Result { () throws(NoiseError) in
                    var read = start
                    var write = 0
                    while write < header.payloadLength {
                        let chunk = min(NoiseFraming.maximumChunk, header.payloadLength - write)
                        try cipher.open(
                            UnsafeRawBufferPointer(rebasing: input[read..<read + chunk + ChaChaPoly.tagSize]),
                            into: UnsafeMutableRawBufferPointer(rebasing: output[write..<write + chunk]), what: "frame payload")
                        read += chunk + ChaChaPoly.tagSize
                        write += chunk
                    }
                }
            }
            initialized = (try? result.get()) != nil ? header.payloadLength : 0
        }
        try result.get()
        self.cipher = cipher
        readIndex += encryptedLength
        pendingHeader = nil
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        return .frame(Sv2Frame(
            extensionType: header.extensionType, isChannelMessage: header.isChannelMessage,
            messageType: header.messageType, payload: payload))
    }
}
