import Foundation
import Sv2Formats

/// A configuration value that could not be used: which key, where it came from, and why.
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The key, as in the TOML file.
    public var key: String
    /// Where the value came from: the file path, `--flag`, or the environment variable.
    public var source: String
    /// What is wrong.
    public var reason: String

    /// An error about `key` from `source`.
    public init(key: String, source: String, reason: String) {
        self.key = key
        self.source = source
        self.reason = reason
    }

    /// `config.toml: cert_validity_sec: expected an integer, got "soon"`.
    public var description: String { "\(source): \(key): \(reason)" }
}

/// The three layers a role's settings come from: the TOML file (`--config`), command-line flags that override it,
/// and environment variables `SV2_<ROLE>_<KEY>` that override both.
public struct ConfigurationLayers: Sendable {
    /// The parsed file, if any.
    public var file: TOMLTable
    /// The file's path, for messages.
    public var fileName: String
    /// Values given as flags, by key.
    public var flags: [String: String]
    /// Values from the environment, by key.
    public var environment: [String: String]
    /// The environment variable prefix, e.g. `SV2_TP_`.
    public let environmentPrefix: String

    /// Loads the layers: the file at `configPath` (if given), the `flags` given, and every environment variable
    /// starting with `SV2_<ROLE>_`. Unknown keys in the file or the environment are errors (typos must not pass
    /// silently).
    public init(
        role: String, configPath: String?, flags: [String: String], knownKeys: Set<String>,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) {
        environmentPrefix = "SV2_\(role.uppercased())_"
        self.flags = flags
        if let configPath {
            fileName = configPath
            guard let data = FileManager.default.contents(atPath: configPath) else {
                throw ConfigurationError(key: "--config", source: configPath, reason: "cannot read the file")
            }
            do {
                file = try TOMLTable(parsing: String(decoding: data, as: UTF8.self))
            } catch {
                throw ConfigurationError(key: "syntax", source: configPath, reason: error.description)
            }
            if let unknown = file.keys.first(where: { !knownKeys.contains($0) }) {
                throw ConfigurationError(
                    key: unknown, source: configPath, reason: "unknown key (known keys: \(knownKeys.sorted().joined(separator: ", ")))")
            }
        } else {
            fileName = "config"
            file = TOMLTable()
        }
        var fromEnvironment = [String: String]()
        for (name, value) in environment where name.hasPrefix(environmentPrefix) {
            let key = name.dropFirst(environmentPrefix.count).lowercased()
            guard knownKeys.contains(key) else {
                throw ConfigurationError(key: key, source: name, reason: "unknown setting")
            }
            fromEnvironment[key] = value
        }
        self.environment = fromEnvironment
    }

    /// Where the winning value of `key` comes from, and the value as text or TOML.
    private func lookup(_ key: String) -> (source: String, text: String?, toml: TOMLValue?)? {
        if let value = environment[key] { return (environmentPrefix + key.uppercased(), value, nil) }
        if let value = flags[key] { return ("--" + key.replacingOccurrences(of: "_", with: "-"), value, nil) }
        if let value = file[key] { return (fileName, nil, value) }
        return nil
    }

    /// A string setting.
    public func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let found = lookup(key) else { return nil }
        if let text = found.text { return text }
        guard case let .string(value)? = found.toml else {
            throw ConfigurationError(key: key, source: found.source, reason: "expected a string, got \(found.toml?.typeName ?? "nothing")")
        }
        return value
    }

    /// An integer setting within `range`.
    public func integer(_ key: String, in range: ClosedRange<Int64> = Int64.min...Int64.max) throws(ConfigurationError) -> Int64? {
        guard let found = lookup(key) else { return nil }
        let value: Int64
        if let text = found.text {
            guard let parsed = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError(key: key, source: found.source, reason: "expected an integer, got \"\(text)\"")
            }
            value = parsed
        } else if case let .integer(parsed)? = found.toml {
            value = parsed
        } else {
            throw ConfigurationError(key: key, source: found.source, reason: "expected an integer, got \(found.toml?.typeName ?? "nothing")")
        }
        guard range.contains(value) else {
            throw ConfigurationError(key: key, source: found.source, reason: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A number setting (integers accepted).
    public func number(_ key: String) throws(ConfigurationError) -> Double? {
        guard let found = lookup(key) else { return nil }
        if let text = found.text {
            guard let parsed = Double(text.trimmingCharacters(in: .whitespaces)), parsed.isFinite else {
                throw ConfigurationError(key: key, source: found.source, reason: "expected a number, got \"\(text)\"")
            }
            return parsed
        }
        switch found.toml {
        case let .integer(value)?: return Double(value)
        case let .float(value)? where value.isFinite: return value
        default: throw ConfigurationError(key: key, source: found.source, reason: "expected a number, got \(found.toml?.typeName ?? "nothing")")
        }
    }

    /// A boolean setting (`true`/`false`, also `1`/`0`, `yes`/`no` in flags and the environment).
    public func boolean(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let found = lookup(key) else { return nil }
        if let text = found.text {
            switch text.lowercased() {
            case "true", "1", "yes", "on": return true
            case "false", "0", "no", "off": return false
            default: throw ConfigurationError(key: key, source: found.source, reason: "expected true or false, got \"\(text)\"")
            }
        }
        guard case let .boolean(value)? = found.toml else {
            throw ConfigurationError(key: key, source: found.source, reason: "expected true or false, got \(found.toml?.typeName ?? "nothing")")
        }
        return value
    }

    /// A `host:port` setting (`[v6]:port` for IPv6).
    public func hostPort(_ key: String) throws(ConfigurationError) -> (host: String, port: Int)? {
        guard let text = try string(key) else { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigurationError(key: key, source: lookup(key)?.source ?? "", reason: "expected HOST:PORT, got \"\(text)\"")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else {
            throw ConfigurationError(key: key, source: lookup(key)?.source ?? "", reason: "expected HOST:PORT, got \"\(text)\"")
        }
        return (host, port)
    }
}
