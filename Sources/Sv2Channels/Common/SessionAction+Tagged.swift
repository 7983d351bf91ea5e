import Sv2Binary
import Sv2Messages
import Sv2Sessions

extension SessionAction where Outbound == Sv2TaggedMessage {
    /// Send `message` without TLV fields.
    public static func send(_ message: Sv2Message) -> Self {
        .send(Sv2TaggedMessage(message))
    }
}

extension Sv2TLV {
    /// Extension 0x0002's user_identity field for `worker`, cut to its first 32 bytes (at a character boundary) when
    /// longer.
    public static func userIdentity(truncating worker: String) -> Sv2TLV {
        var name = Substring(worker)
        while name.utf8.count > 32 { name = name.dropLast() }
        return Sv2TLV(extensionType: userIdentityType.extensionType, fieldType: userIdentityType.fieldType, value: Array(name.utf8))
    }
}
