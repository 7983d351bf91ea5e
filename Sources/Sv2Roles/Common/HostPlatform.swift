#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the roles put in SetupConnection's hardware_version (spec 3.6.1: SHOULD be filled): the machine and
/// operating system they run on, as `uname` gives them (`x86_64 Linux`).
enum HostPlatform {
    /// `MACHINE SYSNAME`, or `unknown` when uname fails.
    static let hardwareVersion: String = {
        var names = utsname()
        guard uname(&names) == 0 else { return "unknown" }
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { bytes in String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return "\(field(names.machine)) \(field(names.sysname))"
    }()
}
