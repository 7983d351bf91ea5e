import ArgumentParser
import Sv2Formats
import Sv2Roles

/// A value a command-line flag gives a setting, typed as the setting is (so that ``ConfigurationLayers`` checks a
/// flag's range like the file's and the environment's, and names the flag when it is wrong).
protocol SettingFlagValue {
    /// The value as the TOML file would hold it.
    var settingValue: TOMLValue { get }
}

extension String: SettingFlagValue {
    var settingValue: TOMLValue { .string(self) }
}

extension Int: SettingFlagValue {
    var settingValue: TOMLValue { .integer(Int64(self)) }
}

extension UInt64: SettingFlagValue {
    var settingValue: TOMLValue { .integer(Int64(clamping: self)) }
}

extension Double: SettingFlagValue {
    var settingValue: TOMLValue { .float(self) }
}

extension Bool: SettingFlagValue {
    var settingValue: TOMLValue { .boolean(self) }
}

extension HostPort: SettingFlagValue {
    var settingValue: TOMLValue { .string(description) }

    /// Parses a `HOST:PORT` flag, with ArgumentParser's error naming the flag when it is not one.
    static func argument(_ text: String) throws -> HostPort {
        guard let address = HostPort(text) else { throw ValidationError("expected HOST:PORT (e.g. 127.0.0.1:3333), got \"\(text)\"") }
        return address
    }
}

extension Array: SettingFlagValue where Element == String {
    var settingValue: TOMLValue { .array(map { .string($0) }) }
}

/// One setting given on the command line: its key and the flag's value (nil when the flag was not given).
struct SettingFlag {
    /// The settings key (the flag's name with underscores).
    var key: String
    /// The value, nil when not given.
    var value: TOMLValue?

    /// The flag for `key` with `value`.
    init(_ key: String, _ value: (some SettingFlagValue)?) {
        self.key = key
        self.value = value?.settingValue
    }
}
