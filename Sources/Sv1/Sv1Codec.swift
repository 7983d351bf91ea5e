import Sv2Formats

/// Stratum V1 lines <-> ``Sv1Message``: tolerant when reading what firmware and pools send, strict and compact when
/// writing.
public enum Sv1Codec {
    /// Decodes one line (without its newline).
    ///
    /// Tolerant as deployed peers need: the id may be a number, a string, null or absent; `params` absent or null
    /// reads as `[]` and an object as `[that object]`; `jsonrpc` and other extra fields are ignored; a null `method`
    /// counts as absent. Throws ``Sv1Error/malformedJSON(_:)`` unless the line is exactly one JSON value,
    /// ``Sv1Error/notAnObject`` when that value is not an object and ``Sv1Error/badField(_:)`` for an id, method or
    /// params of another type.
    public static func decode(_ line: [UInt8]) throws(Sv1Error) -> Sv1Message {
        guard let text = String(validating: line, as: UTF8.self) else { throw .malformedJSON("not UTF-8") }
        let values: [JSONValue]
        do {
            values = try JSONValue.parseAll(text)
        } catch {
            throw .malformedJSON(error.description)
        }
        guard values.count == 1, let value = values.first else {
            throw .malformedJSON(values.isEmpty ? "no value" : "more than one value")
        }
        guard case .object = value else { throw .notAnObject }
        let id = try Self.id(value["id"])
        switch value["method"] {
        case nil, .null?:
            return .response(id: id, result: value["result"] ?? .null, error: value["error"] ?? .null)
        case let .string(method)?:
            let params = try Self.params(value["params"])
            if case .null = id { return .notification(method: method, params: params) }
            return .request(id: id, method: method, params: params)
        default:
            throw .badField("method")
        }
    }

    /// The compact JSON of `message` followed by `"\n"`.
    ///
    /// Ids are written as received (a number keeps its literal). Requests are `{"id","method","params"}`,
    /// notifications the same with `"id":null` as pools send them, responses always `{"id","result","error"}`.
    public static func encode(_ message: Sv1Message) -> [UInt8] {
        let object: JSONValue
        switch message {
        case let .request(id, method, params):
            object = .object([("id", id.json), ("method", .string(method)), ("params", .array(params))])
        case let .notification(method, params):
            object = .object([("id", .null), ("method", .string(method)), ("params", .array(params))])
        case let .response(id, result, error):
            object = .object([("id", id.json), ("result", result), ("error", error)])
        }
        return Array((object.text + "\n").utf8)
    }

    private static func id(_ value: JSONValue?) throws(Sv1Error) -> Sv1ID {
        switch value {
        case nil, .null?: return .null
        case let .number(text)?: return .number(text)
        case let .string(text)?: return .string(text)
        default: throw .badField("id")
        }
    }

    private static func params(_ value: JSONValue?) throws(Sv1Error) -> [JSONValue] {
        switch value {
        case nil, .null?: return []
        case let .array(values)?: return values
        case let .object(pairs)?: return [.object(pairs)]
        default: throw .badField("params")
        }
    }
}
