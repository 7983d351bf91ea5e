import CSv2Native
import Dispatch

/// Which SHA-256d nonce-search implementation of CSv2Native the engine runs.
public enum HashingKernel: String, CaseIterable, Sendable {
    /// The fastest the CPU has, measured once per process (portable when there is no SIMD or SHA kernel).
    case auto
    /// Plain C.
    case portable
    /// x86-64 SHA extensions, one nonce at a time.
    case shaNI = "sha-ni"
    /// SHA extensions, two nonces interleaved.
    case shaNIx2 = "sha-ni-x2"
    /// SHA extensions, four nonces interleaved.
    case shaNIx4 = "sha-ni-x4"
    /// The four-nonce SHA-NI kernel with AVX-512VL's 32 registers.
    case shaNIx4AVX512 = "sha-ni-x4-avx512"
    /// AVX2, 8 nonces per vector.
    case avx2
    /// AVX-512, 16 nonces per vector.
    case avx512

    /// The C enumeration value (for callers of `sv2_sha256d_scan`).
    public var native: sv2_sha256d_kernel {
        switch self {
        case .auto: return SV2_KERNEL_AUTO
        case .portable: return SV2_KERNEL_PORTABLE
        case .shaNI: return SV2_KERNEL_SHANI
        case .shaNIx2: return SV2_KERNEL_SHANI_X2
        case .shaNIx4: return SV2_KERNEL_SHANI_X4
        case .shaNIx4AVX512: return SV2_KERNEL_SHANI_X4_AVX512
        case .avx2: return SV2_KERNEL_AVX2
        case .avx512: return SV2_KERNEL_AVX512
        }
    }

    /// The `--kernel` values, for help texts: `auto, portable, sha-ni, ...`.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Whether this CPU can run the kernel.
    public var isAvailable: Bool { sv2_sha256d_kernel_available(native) == 1 }

    /// The implementation that runs (for ``auto``, the one it picks).
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
