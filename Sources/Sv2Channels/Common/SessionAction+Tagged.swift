import Sv2Messages
import Sv2Sessions

extension SessionAction where Outbound == Sv2TaggedMessage {
    /// Send `message` without TLV fields.
    public static func send(_ message: Sv2Message) -> Self {
        .send(Sv2TaggedMessage(message))
    }
}
