/// Finds message types by the names people type.
public enum Sv2MessageRegistry {
    /// The extension types whose messages this implementation knows (0x0000 for the spec's protocols, and the
    /// extensions it implements); spec 3: messages of any other extension type are discarded.
    public static let knownExtensionTypes: Set<UInt16> = Set(Sv2Message.allPayloadTypes.map { $0.extensionType })

    /// The canonical names, in spec order.
    public static let names: [String] = Sv2Message.allPayloadTypes.map { $0.name }

    private static func key(_ name: String) -> String {
        String(name.lowercased().filter { $0 != "." && $0 != "_" && $0 != "-" })
    }

    private static let byKey: [String: [any Sv2MessagePayload.Type]] = {
        var table = [String: [any Sv2MessagePayload.Type]]()
        for type in Sv2Message.allPayloadTypes {
            var keys: Set<String> = [key(type.name), key(String(describing: type))]
            if let dot = type.name.firstIndex(of: "."), type.name.prefix(upTo: dot).first?.isUppercase == true,
               ["Mining", "TemplateDistribution"].contains(String(type.name[..<dot])) {
                keys.insert(key(String(type.name[type.name.index(after: dot)...])))
            }
            for name in keys { table[name, default: []].append(type) }
        }
        return table
    }()

    /// What went wrong looking a name up.
    public enum LookupError: Error, Hashable, CustomStringConvertible {
        /// No message has that name.
        case unknown(String)
        /// Several messages have that name; the canonical names of the candidates.
        case ambiguous(String, [String])

        /// A sentence for the user.
        public var description: String {
            switch self {
            case let .unknown(name):
                return "unknown message '\(name)' (sv2 encode --list shows the names)"
            case let .ambiguous(name, candidates):
                return "'\(name)' is ambiguous: say \(candidates.joined(separator: " or "))"
            }
        }
    }

    /// The message type called `name`: canonical names (`SetupConnection.Success`), the Swift type names
    /// (`SetupConnectionSuccess`), any case; `SetNewPrevHash` needs its subprotocol (`Mining.SetNewPrevHash`).
    public static func lookup(_ name: String) throws(LookupError) -> any Sv2MessagePayload.Type {
        guard let candidates = byKey[key(name)], !candidates.isEmpty else { throw .unknown(name) }
        guard candidates.count == 1, let type = candidates.first else {
            throw .ambiguous(name, candidates.map { $0.name })
        }
        return type
    }

    /// The message type with these identifiers, if any.
    public static func lookup(extensionType: UInt16, messageType: UInt8) -> (any Sv2MessagePayload.Type)? {
        Sv2Message.allPayloadTypes.first { $0.extensionType == extensionType && $0.messageType == messageType }
    }
}
