import CSv2Native
import Dispatch

/// Which SHA-256d nonce-search implementation of CSv2Native the engine runs.
public enum HashingKernel: String, CaseIterable, Sendable {
    /// SHA-NI when the CPU has it, else portable.
    case auto
    /// Plain C.
    case portable
    /// x86-64 SHA extensions.
    case shaNI = "sha-ni"

    /// The C enumeration value.
    var native: sv2_sha256d_kernel {
        switch self {
        case .auto: return SV2_KERNEL_AUTO
        case .portable: return SV2_KERNEL_PORTABLE
        case .shaNI: return SV2_KERNEL_SHANI
        }
    }

    /// Whether this CPU can run the kernel.
    public var isAvailable: Bool { sv2_sha256d_kernel_available(native) == 1 }

    /// The implementation that runs: `portable` or `sha-ni` (for ``auto``, the one it picks).
    public var implementationName: String { String(cString: sv2_sha256d_kernel_name(native)) }

    /// Hashes per second of one thread, measured by scanning nonces against an impossible target for about
    /// `seconds` (at least one batch of 2^14 nonces).
    public func measureHashRate(seconds: Double) -> Double {
        let header = (0..<80).map { UInt8(truncatingIfNeeded: $0 &* 29) }
        var midstate = [UInt32](repeating: 0, count: 8)
        sv2_sha256_midstate(header, &midstate)
        let tail = Array(header[64...])
        let impossible = [UInt8](repeating: 0, count: 32)
        let batch: UInt32 = 1 << 14
        let start = DispatchTime.now().uptimeNanoseconds
        let budget = UInt64(max(seconds, 0) * 1e9)
        var hashed: UInt64 = 0
        var found: UInt32 = 0
        repeat {
            _ = sv2_sha256d_scan(native, midstate, tail, UInt32(truncatingIfNeeded: hashed), batch, impossible, &found)
            hashed += UInt64(batch)
        } while DispatchTime.now().uptimeNanoseconds - start < budget
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        return Double(hashed) / (Double(max(elapsed, 1)) / 1e9)
    }
}
