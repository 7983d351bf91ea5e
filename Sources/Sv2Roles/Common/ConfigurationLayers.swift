import Foundation
import Sv2Formats

/// A configuration value that could not be used: which key, where its value came from, and why.
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Where a value came from.
    public enum Origin: Hashable, Sendable {
        /// A command-line flag, e.g. `--fee-delta`.
        case flag(String)
        /// An environment variable, e.g. `SV2_TP_FEE_DELTA`.
        case environment(String)
        /// The TOML file at this path.
        case file(String)
        /// No single place: a value is missing, or two settings do not fit together.
        case settings
    }

    /// The key, as in the TOML file.
    public var key: String
    /// Where the bad value came from.
    public var origin: Origin
    /// What is wrong.
    public var reason: String

    /// An error about `key` from `origin`.
    public init(key: String, origin: Origin = .settings, reason: String) {
        self.key = key
        self.origin = origin
        self.reason = reason
    }

    /// Names the place the user typed the value: `--fee-delta: …`, `SV2_TP_FEE_DELTA: …`,
    /// `fee_delta in pool.toml: …`, or `fee_delta: …` when no single place holds it.
    public var description: String {
        switch origin {
        case let .flag(name), let .environment(name): return "\(name): \(reason)"
        case let .file(path): return "\(key) in \(path): \(reason)"
        case .settings: return "\(key): \(reason)"
        }
    }
}

/// `HOST:PORT` (`[v6]:PORT` for IPv6): a typed address setting.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    /// Host name or address (IPv6 without brackets).
    public var host: String
    /// Port, 0 to 65535 (0: any free port where a server binds).
    public var port: Int

    /// An address from its parts.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; nil when it is not of that form.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    /// `127.0.0.1:3333` or `[::1]:3333`.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The three layers a role's settings come from, in increasing precedence: the TOML file (`--config`), environment
/// variables `SV2_<ROLE>_<KEY>`, and command-line flags (what the user typed last wins over what was deployed).
public struct ConfigurationLayers: Sendable {
    /// The parsed file, if any.
    public var file: TOMLTable
    /// The file's path, for messages.
    public var fileName: String
    /// Values given as flags, by key, typed as the flag is.
    public var flags: [String: TOMLValue]
    /// Values from the environment, by key.
    public var environment: [String: String]
    /// The environment variable prefix, e.g. `SV2_TP_`.
    public let environmentPrefix: String

    /// A value with its origin: text from the environment, a typed value from a flag or the file.
    private struct Found {
        var origin: ConfigurationError.Origin
        var text: String?
        var toml: TOMLValue?
    }

    /// Loads the layers: the file at `configPath` (if given), the `flags` given, and every environment variable
    /// starting with `SV2_<ROLE>_`. Unknown keys in the file or the environment are errors (typos must not pass
    /// silently).
    public init(
        role: String, configPath: String?, flags: [String: TOMLValue], knownKeys: Set<String>,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) {
        environmentPrefix = "SV2_\(role.uppercased())_"
        self.flags = flags
        if let configPath {
            fileName = configPath
            guard let data = FileManager.default.contents(atPath: configPath) else {
                throw ConfigurationError(key: "--config", origin: .flag("--config"), reason: "cannot read \(configPath)")
            }
            do {
                file = try TOMLTable(parsing: String(decoding: data, as: UTF8.self))
            } catch {
                throw ConfigurationError(key: "syntax", origin: .file(configPath), reason: error.description)
            }
            if let unknown = file.keys.first(where: { !knownKeys.contains($0) }) {
                throw ConfigurationError(
                    key: unknown, origin: .file(configPath), reason: "unknown key (known keys: \(knownKeys.sorted().joined(separator: ", ")))")
            }
        } else {
            fileName = "config"
            file = TOMLTable()
        }
        var fromEnvironment = [String: String]()
        for (name, value) in environment where name.hasPrefix(environmentPrefix) {
            let key = name.dropFirst(environmentPrefix.count).lowercased()
            guard knownKeys.contains(key) else {
                throw ConfigurationError(key: key, origin: .environment(name), reason: "unknown setting")
            }
            fromEnvironment[key] = value
        }
        self.environment = fromEnvironment
    }

    /// The flag that sets `key`: `--fee-delta` for `fee_delta`.
    public static func flagName(_ key: String) -> String { "--" + key.replacingOccurrences(of: "_", with: "-") }

    /// The winning value of `key`: flag, then environment, then file.
    private func lookup(_ key: String) -> Found? {
        if let value = flags[key] { return Found(origin: .flag(Self.flagName(key)), toml: value) }
        if let value = environment[key] { return Found(origin: .environment(environmentPrefix + key.uppercased()), text: value) }
        if let value = file[key] { return Found(origin: .file(fileName), toml: value) }
        return nil
    }

    /// An error about `key` naming where its winning value came from (or the key alone when no layer sets it).
    public func error(_ key: String, _ reason: String) -> ConfigurationError {
        ConfigurationError(key: key, origin: lookup(key)?.origin ?? .settings, reason: reason)
    }

    /// Whether a layer sets `key`.
    public func isSet(_ key: String) -> Bool { lookup(key) != nil }

    /// A string setting.
    public func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let found = lookup(key) else { return nil }
        if let text = found.text { return text }
        guard case let .string(value)? = found.toml else {
            throw ConfigurationError(key: key, origin: found.origin, reason: "expected a string, got \(found.toml?.typeName ?? "nothing")")
        }
        return value
    }

    /// An integer setting within `range`.
    public func integer(_ key: String, in range: ClosedRange<Int64> = Int64.min...Int64.max) throws(ConfigurationError) -> Int64? {
        guard let found = lookup(key) else { return nil }
        let value: Int64
        if let text = found.text {
            guard let parsed = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError(key: key, origin: found.origin, reason: "expected an integer, got \"\(text)\"")
            }
            value = parsed
        } else if case let .integer(parsed)? = found.toml {
            value = parsed
        } else {
            throw ConfigurationError(key: key, origin: found.origin, reason: "expected an integer, got \(found.toml?.typeName ?? "nothing")")
        }
        guard range.contains(value) else {
            throw ConfigurationError(key: key, origin: found.origin, reason: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A number setting (integers accepted) within `range`; `unit` is named in the range error (e.g. "seconds").
    public func number(_ key: String, in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude, unit: String = "") throws(ConfigurationError) -> Double? {
        guard let found = lookup(key) else { return nil }
        let value: Double
        if let text = found.text {
            guard let parsed = Double(text.trimmingCharacters(in: .whitespaces)), parsed.isFinite else {
                throw ConfigurationError(key: key, origin: found.origin, reason: "expected a number, got \"\(text)\"")
            }
            value = parsed
        } else {
            switch found.toml {
            case let .integer(parsed)?: value = Double(parsed)
            case let .float(parsed)? where parsed.isFinite: value = parsed
            default: throw ConfigurationError(key: key, origin: found.origin, reason: "expected a number, got \(found.toml?.typeName ?? "nothing")")
            }
        }
        guard range.contains(value) else {
            let suffix = unit.isEmpty ? "" : " \(unit)"
            throw ConfigurationError(key: key, origin: found.origin, reason: "\(value) is outside \(range.lowerBound)...\(range.upperBound)\(suffix)")
        }
        return value
    }

    /// A duration in seconds (integers or fractions) within `range`.
    public func seconds(_ key: String, in range: ClosedRange<Double>) throws(ConfigurationError) -> Duration? {
        try number(key, in: range, unit: "seconds").map { .milliseconds(Int64(($0 * 1000).rounded())) }
    }

    /// A boolean setting (`true`/`false`, also `1`/`0`, `yes`/`no`, `on`/`off` in the environment).
    public func boolean(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let found = lookup(key) else { return nil }
        if let text = found.text {
            switch text.lowercased() {
            case "true", "1", "yes", "on": return true
            case "false", "0", "no", "off": return false
            default: throw ConfigurationError(key: key, origin: found.origin, reason: "expected true or false, got \"\(text)\"")
            }
        }
        switch found.toml {
        case let .boolean(value)?: return value
        case let .string(text)? where ["true", "false"].contains(text.lowercased()): return text.lowercased() == "true"
        default: throw ConfigurationError(key: key, origin: found.origin, reason: "expected true or false, got \(found.toml?.typeName ?? "nothing")")
        }
    }

    /// A list of strings: an array (flags given several times, a TOML array) or one string of items separated by
    /// commas or spaces (the environment, a TOML string).
    public func strings(_ key: String) throws(ConfigurationError) -> [String]? {
        guard let found = lookup(key) else { return nil }
        let split = { (text: String) in text.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init) }
        if let text = found.text { return split(text) }
        switch found.toml {
        case let .string(text)?: return split(text)
        case let .array(items)?:
            var result = [String]()
            for item in items {
                guard case let .string(text) = item else {
                    throw ConfigurationError(key: key, origin: found.origin, reason: "expected strings, got \(item.typeName)")
                }
                result.append(text)
            }
            return result
        default:
            throw ConfigurationError(key: key, origin: found.origin, reason: "expected a list of strings, got \(found.toml?.typeName ?? "nothing")")
        }
    }

    /// A `HOST:PORT` setting (`[v6]:PORT` for IPv6).
    public func hostPort(_ key: String) throws(ConfigurationError) -> HostPort? {
        guard let text = try string(key) else { return nil }
        guard let address = HostPort(text) else { throw error(key, "expected HOST:PORT, got \"\(text)\"") }
        return address
    }
}
