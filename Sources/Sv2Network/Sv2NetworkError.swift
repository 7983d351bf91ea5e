import Sv2Binary
import Sv2Noise

/// Why a connection was closed by the Sv2 transport or message handlers. Only that connection is affected.
public enum Sv2NetworkError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The Noise handshake did not complete within the configured time.
    case handshakeTimeout(seconds: Int)
    /// The Noise handshake or an encrypted frame failed.
    case noise(NoiseError)
    /// A plaintext frame declares a payload over the configured maximum.
    case frameTooLarge(length: Int, maximum: Int)
    /// A frame did not decode as a message.
    case malformedMessage(Sv2CodecError)
    /// The peer closed the connection during the handshake.
    case closedDuringHandshake

    /// A sentence naming the failure.
    public var description: String {
        switch self {
        case let .handshakeTimeout(seconds): return "Noise handshake not completed within \(seconds) s"
        case let .noise(error): return "Noise: \(error)"
        case let .frameTooLarge(length, maximum): return "frame payload of \(length) bytes exceeds the maximum of \(maximum)"
        case let .malformedMessage(error): return "malformed message: \(error)"
        case .closedDuringHandshake: return "the peer closed the connection during the Noise handshake"
        }
    }
}
