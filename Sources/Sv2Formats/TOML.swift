/// A TOML document parsed into values: the subset sv2's configuration files use (TOML 1.0 without dates):
/// comments, bare and quoted keys, dotted keys, basic and literal strings (single-line and multi-line), integers
/// (decimal, hex, octal, binary, with underscores), floats, booleans, arrays, inline tables, `[table]` and
/// `[[array of tables]]` headers.
public indirect enum TOMLValue: Hashable, Sendable {
    /// A string.
    case string(String)
    /// An integer.
    case integer(Int64)
    /// A float.
    case float(Double)
    /// A boolean.
    case boolean(Bool)
    /// An array.
    case array([TOMLValue])
    /// A table: keys in document order.
    case table(TOMLTable)

    /// The TOML type name, for error messages.
    public var typeName: String {
        switch self {
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .boolean: return "boolean"
        case .array: return "array"
        case .table: return "table"
        }
    }
}

/// A TOML table with its keys in document order.
public struct TOMLTable: Hashable, Sendable {
    /// The entries in the order they were defined.
    public private(set) var entries: [(key: String, value: TOMLValue)] = []

    /// An empty table.
    public init() {}

    /// The value under `key`.
    public subscript(key: String) -> TOMLValue? {
        entries.first { $0.key == key }?.value
    }

    /// The keys in document order.
    public var keys: [String] { entries.map(\.key) }

    mutating func set(_ key: String, _ value: TOMLValue) {
        if let index = entries.firstIndex(where: { $0.key == key }) {
            entries[index].value = value
        } else {
            entries.append((key, value))
        }
    }

    /// Compares entries in order.
    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool {
        lhs.entries.map(\.key) == rhs.entries.map(\.key) && lhs.entries.map(\.value) == rhs.entries.map(\.value)
    }

    /// Hashes entries in order.
    public func hash(into hasher: inout Hasher) {
        for entry in entries {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
    }
}

/// A TOML syntax error with its line and column (both from 1).
public struct TOMLError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Line of the error.
    public var line: Int
    /// Column of the error.
    public var column: Int
    /// What was wrong.
    public var reason: String

    /// `line 3, column 7: expected '='`.
    public var description: String { "line \(line), column \(column): \(reason)" }
}

extension TOMLTable {
    /// Parses a TOML document.
    public init(parsing text: String) throws(TOMLError) {
        var parser = TOMLParser(text)
        self = try parser.document()
    }
}

/// A recursive-descent parser over the document's Unicode scalars.
private struct TOMLParser {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var root = TOMLTable()
    /// The path of the table the following key/value lines go into.
    private var current: [String] = []
    /// Tables defined by a header or by dotted keys, which may not be defined again.
    private var defined: Set<[String]> = []

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    private func error(_ reason: String) -> TOMLError {
        var line = 1
        var column = 1
        for scalar in scalars[..<min(index, scalars.count)] {
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return TOMLError(line: line, column: column, reason: reason)
    }

    private var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private mutating func skipBlank() {
        while let scalar = peek, scalar == " " || scalar == "\t" { index += 1 }
    }

    private mutating func skipComment() {
        if peek == "#" {
            while let scalar = peek, scalar != "\n" { index += 1 }
        }
    }

    /// After a value or header: blanks, an optional comment, then a newline or the end.
    private mutating func endOfLine() throws(TOMLError) {
        skipBlank()
        skipComment()
        if peek == "\r" { index += 1 }
        guard peek == nil || peek == "\n" else { throw error("unexpected text after the value (one key = value per line)") }
        if peek == "\n" { index += 1 }
    }

    mutating func document() throws(TOMLError) -> TOMLTable {
        while true {
            skipBlank()
            skipComment()
            guard let scalar = peek else { break }
            switch scalar {
            case "\n", "\r":
                index += 1
            case "[":
                try header()
            default:
                let key = try dottedKey()
                skipBlank()
                guard peek == "=" else { throw error("expected '=' after the key") }
                index += 1
                skipBlank()
                let value = try self.value(depth: 0)
                try insert(current + key, value)
                try endOfLine()
            }
        }
        return root
    }

    private mutating func header() throws(TOMLError) {
        index += 1
        let isArray = peek == "["
        if isArray { index += 1 }
        skipBlank()
        let path = try dottedKey()
        skipBlank()
        guard peek == "]" else { throw error("expected ']' to close the table header") }
        index += 1
        if isArray {
            guard peek == "]" else { throw error("expected ']]' to close the array-of-tables header") }
            index += 1
            try appendTable(at: path)
        } else {
            guard !defined.contains(path) else { throw error("table [\(path.joined(separator: "."))] is defined twice") }
            defined.insert(path)
            try ensureTable(path)
        }
        current = path
        try endOfLine()
    }

    private mutating func dottedKey() throws(TOMLError) -> [String] {
        var parts = [try simpleKey()]
        while true {
            skipBlank()
            guard peek == "." else { return parts }
            index += 1
            skipBlank()
            parts.append(try simpleKey())
        }
    }

    private mutating func simpleKey() throws(TOMLError) -> String {
        switch peek {
        case "\""?: return try basicString()
        case "'"?: return try literalString()
        default:
            var key = ""
            while let scalar = peek, ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || scalar == "_" || scalar == "-" {
                key.unicodeScalars.append(scalar)
                index += 1
            }
            guard !key.isEmpty else { throw error("expected a key") }
            return key
        }
    }

    private mutating func value(depth: Int) throws(TOMLError) -> TOMLValue {
        guard depth < 64 else { throw error("values nested too deeply") }
        guard let scalar = peek else { throw error("expected a value") }
        switch scalar {
        case "\"": return .string(try basicString())
        case "'": return .string(try literalString())
        case "[": return try array(depth: depth)
        case "{": return try inlineTable(depth: depth)
        case "t", "f":
            let word = bareWord()
            if word == "true" { return .boolean(true) }
            if word == "false" { return .boolean(false) }
            throw error("unknown value '\(word)' (strings need quotes)")
        default:
            return try number(bareWord())
        }
    }

    private mutating func bareWord() -> String {
        var word = ""
        while let scalar = peek, !" \t\r\n,]}#".unicodeScalars.contains(scalar) {
            word.unicodeScalars.append(scalar)
            index += 1
        }
        return word
    }

    private func number(_ word: String) throws(TOMLError) -> TOMLValue {
        let digits = String(word.filter { $0 != "_" })
        guard !digits.isEmpty else { throw error("expected a value") }
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
            guard let value = Int64(digits.dropFirst(2), radix: radix) else { throw error("'\(word)' is not a valid integer") }
            return .integer(value)
        }
        if let value = Int64(digits.hasPrefix("+") ? String(digits.dropFirst()) : digits) { return .integer(value) }
        let special: [String: Double] = ["inf": .infinity, "+inf": .infinity, "-inf": -.infinity, "nan": .nan, "+nan": .nan, "-nan": .nan]
        if let value = special[digits] { return .float(value) }
        if digits.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let value = Double(digits) { return .float(value) }
        throw error("'\(word)' is not a valid value (strings need quotes)")
    }

    private mutating func array(depth: Int) throws(TOMLError) -> TOMLValue {
        index += 1
        var values = [TOMLValue]()
        while true {
            skipArrayWhitespace()
            if peek == "]" {
                index += 1
                return .array(values)
            }
            values.append(try value(depth: depth + 1))
            skipArrayWhitespace()
            if peek == "," {
                index += 1
            } else if peek != "]" {
                throw error("expected ',' or ']' in the array")
            }
        }
    }

    private mutating func skipArrayWhitespace() {
        while let scalar = peek {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                index += 1
            } else if scalar == "#" {
                skipComment()
            } else {
                return
            }
        }
    }

    private mutating func inlineTable(depth: Int) throws(TOMLError) -> TOMLValue {
        index += 1
        var table = TOMLTable()
        skipBlank()
        if peek == "}" {
            index += 1
            return .table(table)
        }
        while true {
            skipBlank()
            let key = try dottedKey()
            skipBlank()
            guard peek == "=" else { throw error("expected '=' in the inline table") }
            index += 1
            skipBlank()
            let value = try self.value(depth: depth + 1)
            guard TOMLParser.insert(into: &table, key, value) else { throw error("key '\(key.joined(separator: "."))' is defined twice") }
            skipBlank()
            if peek == "}" {
                index += 1
                return .table(table)
            }
            guard peek == "," else { throw error("expected ',' or '}' in the inline table") }
            index += 1
        }
    }

    private mutating func basicString() throws(TOMLError) -> String {
        let multiline = scalars.count >= index + 3 && scalars[index + 1] == "\"" && scalars[index + 2] == "\""
        index += multiline ? 3 : 1
        if multiline, peek == "\n" { index += 1 }
        var result = String.UnicodeScalarView()
        while let scalar = peek {
            if scalar == "\"" {
                if !multiline {
                    index += 1
                    return String(result)
                }
                if index + 2 < scalars.count, scalars[index + 1] == "\"", scalars[index + 2] == "\"" {
                    index += 3
                    return String(result)
                }
            }
            if scalar == "\n" && !multiline { throw error("newline in a string (use \"\"\" for multi-line strings)") }
            index += 1
            if scalar == "\\" {
                guard let escape = peek else { break }
                index += 1
                switch escape {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "r": result.append("\r")
                case "b": result.append("\u{08}")
                case "f": result.append("\u{0C}")
                case "\"": result.append("\"")
                case "\\": result.append("\\")
                case "u", "U":
                    let count = escape == "u" ? 4 : 8
                    guard index + count <= scalars.count,
                          let code = UInt32(String(String.UnicodeScalarView(scalars[index..<index + count])), radix: 16),
                          let decoded = Unicode.Scalar(code)
                    else { throw error("bad \\\(escape) escape") }
                    result.append(decoded)
                    index += count
                case "\n" where multiline:
                    while let next = peek, next == " " || next == "\t" || next == "\n" || next == "\r" { index += 1 }
                default: throw error("unknown escape \\\(escape)")
                }
            } else {
                result.append(scalar)
            }
        }
        throw error("unterminated string")
    }

    private mutating func literalString() throws(TOMLError) -> String {
        let multiline = scalars.count >= index + 3 && scalars[index + 1] == "'" && scalars[index + 2] == "'"
        index += multiline ? 3 : 1
        if multiline, peek == "\n" { index += 1 }
        var result = String.UnicodeScalarView()
        while let scalar = peek {
            if scalar == "'" {
                if !multiline {
                    index += 1
                    return String(result)
                }
                if index + 2 < scalars.count, scalars[index + 1] == "'", scalars[index + 2] == "'" {
                    index += 3
                    return String(result)
                }
            }
            if scalar == "\n" && !multiline { throw error("newline in a string (use ''' for multi-line strings)") }
            result.append(scalar)
            index += 1
        }
        throw error("unterminated string")
    }

    /// Inserts into a detached table (inline tables); false when the key already exists.
    private static func insert(into table: inout TOMLTable, _ path: [String], _ value: TOMLValue) -> Bool {
        guard let first = path.first else { return false }
        if path.count == 1 {
            guard table[first] == nil else { return false }
            table.set(first, value)
            return true
        }
        var inner: TOMLTable
        switch table[first] {
        case nil: inner = TOMLTable()
        case let .table(existing)?: inner = existing
        default: return false
        }
        guard insert(into: &inner, Array(path.dropFirst()), value) else { return false }
        table.set(first, .table(inner))
        return true
    }

    /// Inserts `value` at `path` in the document, creating intermediate tables.
    private mutating func insert(_ path: [String], _ value: TOMLValue) throws(TOMLError) {
        let name = path.joined(separator: ".")
        guard Self.modify(&root, path: Array(path.dropLast()), { table in
            guard let last = path.last, table[last] == nil else { return false }
            table.set(last, value)
            return true
        }) else { throw error("key '\(name)' is defined twice, or a value is used as a table") }
    }

    private mutating func ensureTable(_ path: [String]) throws(TOMLError) {
        guard Self.modify(&root, path: path, { _ in true }) else {
            throw error("[\(path.joined(separator: "."))] names a value that is not a table")
        }
    }

    private mutating func appendTable(at path: [String]) throws(TOMLError) {
        guard let last = path.last, Self.modify(&root, path: Array(path.dropLast()), { table in
            switch table[last] {
            case nil:
                table.set(last, .array([.table(TOMLTable())]))
                return true
            case var .array(items)?:
                guard items.allSatisfy({ if case .table = $0 { return true } else { return false } }) else { return false }
                items.append(.table(TOMLTable()))
                table.set(last, .array(items))
                return true
            default:
                return false
            }
        }) else { throw error("[[\(path.joined(separator: "."))]] conflicts with a value of another type") }
    }

    /// Walks to the table at `path` (descending into the last element of arrays of tables), creating missing
    /// tables, and applies `change` to it. False when something on the way is not a table.
    private static func modify(_ table: inout TOMLTable, path: [String], _ change: (inout TOMLTable) -> Bool) -> Bool {
        guard let first = path.first else { return change(&table) }
        let rest = Array(path.dropFirst())
        switch table[first] {
        case nil:
            var inner = TOMLTable()
            guard modify(&inner, path: rest, change) else { return false }
            table.set(first, .table(inner))
            return true
        case var .table(inner)?:
            guard modify(&inner, path: rest, change) else { return false }
            table.set(first, .table(inner))
            return true
        case var .array(items)?:
            guard case var .table(inner)? = items.last else { return false }
            guard modify(&inner, path: rest, change) else { return false }
            items[items.count - 1] = .table(inner)
            table.set(first, .array(items))
            return true
        default:
            return false
        }
    }
}
