/// Why a Stratum V1 line could not be framed or decoded.
public enum Sv1Error: Error, Hashable, Sendable, CustomStringConvertible {
    /// A line (bytes up to the next newline) is longer than the framer's limit.
    case lineTooLong(limit: Int)
    /// The line is not one JSON value; the parser's reason.
    case malformedJSON(String)
    /// The line is JSON but not an object.
    case notAnObject
    /// A field has a type no reading makes sense of; the field's name.
    case badField(String)

    /// A sentence for the log.
    public var description: String {
        switch self {
        case let .lineTooLong(limit):
            return "A Stratum V1 line is longer than \(limit) bytes without a newline."
        case let .malformedJSON(reason):
            return "A Stratum V1 line is not valid JSON: \(reason)."
        case .notAnObject:
            return "A Stratum V1 line is JSON but not an object."
        case let .badField(name):
            return "A Stratum V1 message has a \"\(name)\" field of the wrong type."
        }
    }
}
