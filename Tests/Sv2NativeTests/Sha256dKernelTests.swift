import CSv2Native
import Sv2TestSupport
import Testing

/// The SHA-256d nonce-search kernels (sha256d_kernel.c) against the one-shot hash and known block headers.
@Suite("SHA-256d nonce-search kernels")
struct Sha256dKernelTests {
    /// Every kernel, AUTO excepted.
    static let allKernels = [
        SV2_KERNEL_PORTABLE, SV2_KERNEL_SHANI, SV2_KERNEL_SHANI_X2, SV2_KERNEL_SHANI_X4, SV2_KERNEL_SHANI_X4_AVX512,
        SV2_KERNEL_AVX2, SV2_KERNEL_AVX512,
    ]
    /// The kernels this CPU can run (portable always; the others by CPU features), each forced in turn below.
    static let kernels = allKernels.filter { sv2_sha256d_kernel_available($0) == 1 }

    /// One-shot SHA256d of `bytes`, internal order.
    static func sha256d(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        sv2_sha256d(bytes, bytes.count, &out)
        return out
    }

    /// `hash <= target`, both read as little-endian 256-bit integers.
    static func atMost(_ hash: [UInt8], _ target: [UInt8]) -> Bool {
        for index in stride(from: 31, through: 0, by: -1) where hash[index] != target[index] {
            return hash[index] < target[index]
        }
        return true
    }

    /// The first nonce in `start ..< start + count` (wrapping) whose one-shot SHA256d meets `target`.
    static func bruteForce(_ header: [UInt8], start: UInt32, count: UInt32, target: [UInt8]) -> UInt32? {
        var header = header
        for offset in 0..<count {
            let nonce = start &+ offset
            withUnsafeBytes(of: nonce.littleEndian) { header.replaceSubrange(76..<80, with: $0) }
            if atMost(sha256d(header), target) { return nonce }
        }
        return nil
    }

    /// The kernel's answer for `header` with nonces `start ..< start + count`.
    static func scan(_ kernel: sv2_sha256d_kernel, _ header: [UInt8], start: UInt32, count: UInt32, target: [UInt8]) -> UInt32? {
        var midstate = [UInt32](repeating: 0, count: 8)
        sv2_sha256_midstate(header, &midstate)
        let tail = Array(header[64..<80])
        var found: UInt32 = 0
        let result = sv2_sha256d_scan(kernel, midstate, tail, start, count, target, &found)
        #expect(result == 0 || result == 1)
        return result == 1 ? found : nil
    }

    /// 0x7fffff << 232 (regtest nBits 0x207fffff) as little-endian bytes.
    static let regtestTarget = [UInt8](repeating: 0, count: 29) + [0xff, 0xff, 0x7f]

    @Test("one-shot SHA256d of the regtest and mainnet genesis headers")
    func knownAnswers() throws {
        let headers = try loadJSON("headers.json")
        let regtest = headers["regtest_genesis"] as? [String: Any] ?? [:]
        let regtestHeader = hex(regtest["header_hex"] as? String ?? "")
        #expect(regtestHeader.count == 80)
        #expect(hexString(Self.sha256d(regtestHeader)) == "06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f")
        #expect(hexString(Self.sha256d(regtestHeader)) == regtest["hash_internal_hex"] as? String)
        let mainnet = headers["mainnet_genesis"] as? [String: Any] ?? [:]
        let mainnetHeader = hex(mainnet["header_hex"] as? String ?? "")
        #expect(hexString(Self.sha256d(mainnetHeader).reversed()) == mainnet["hash_be_hex"] as? String)
        #expect(hexString(Self.sha256d([])) == "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456")
    }

    @Test("the midstate is SHA-256's state after the first 64 bytes")
    func midstate() {
        var midstate = [UInt32](repeating: 0, count: 8)
        sv2_sha256_midstate([UInt8](repeating: 0, count: 64), &midstate)
        // SHA-256 compression of one zero block from the IV (the well-known first state of SHA-256(0^64...)).
        #expect(midstate.map { String($0, radix: 16) } == ["da5698be", "17b9b469", "62335799", "779fbeca", "8ce5d491", "c0d26243", "bafef9ea", "1837a9d8"])
    }

    @Test("regtest genesis from nonce 0: every kernel finds the brute-force first nonce")
    func regtestFirstNonce() throws {
        let regtest = try loadJSON("headers.json")["regtest_genesis"] as? [String: Any] ?? [:]
        let header = hex(regtest["header_hex"] as? String ?? "")
        let expected = Self.bruteForce(header, start: 0, count: 64, target: Self.regtestTarget)
        #expect(expected != nil)
        for kernel in Self.kernels {
            #expect(Self.scan(kernel, header, start: 0, count: 64, target: Self.regtestTarget) == expected, "\(String(cString: sv2_sha256d_kernel_name(kernel)))")
            // The block's own nonce (2) is found when the scan starts there.
            #expect(Self.scan(kernel, header, start: 2, count: 1, target: Self.regtestTarget) == 2)
        }
    }

    @Test("mainnet genesis: its nonce is the first under its 0x1d00ffff target in a 20,000-nonce window")
    func mainnetGenesisNonce() throws {
        let mainnet = try loadJSON("headers.json")["mainnet_genesis"] as? [String: Any] ?? [:]
        let header = hex(mainnet["header_hex"] as? String ?? "")
        let target = [UInt8](repeating: 0, count: 26) + [0xff, 0xff, 0, 0, 0, 0]
        for kernel in Self.kernels {
            #expect(Self.scan(kernel, header, start: 2_083_236_893 &- 10_000, count: 20_000, target: target) == 2_083_236_893)
            #expect(Self.scan(kernel, header, start: 2_083_236_894, count: 10_000, target: target) == nil)
        }
    }

    @Test("2,000 random headers and easy targets: kernels agree with the one-shot hash on the first nonce")
    func randomAgreement() {
        var rng = SplitMix64(seed: 0x5eed_5a25_6d)
        for round in 0..<2000 {
            let header = (0..<80).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            // Top byte 0..3 (and sometimes top two bytes small): about one hash in 64 to 2^10 meets it.
            var target = (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            target[31] = UInt8(rng.next() % 4)
            if round % 3 == 0 { target[31] = 0; target[30] = UInt8(rng.next() % 64) }
            let start = UInt32(truncatingIfNeeded: rng.next())
            let count = UInt32(96 + round % 7)
            let expected = Self.bruteForce(header, start: start, count: count, target: target)
            for kernel in Self.kernels {
                let found = Self.scan(kernel, header, start: start, count: count, target: target)
                #expect(found == expected, "round \(round) kernel \(String(cString: sv2_sha256d_kernel_name(kernel)))")
            }
        }
    }

    @Test("the early-out boundary: a hash whose top word equals the target's is found when the rest is below, not above")
    func earlyOutBoundary() {
        var rng = SplitMix64(seed: 0xb0da_2e)
        for round in 0..<200 {
            let header = (0..<80).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let start = UInt32(truncatingIfNeeded: rng.next())
            let count = UInt32(40 + round % 33)
            // The nonce whose hash has the smallest top word: no other hash in the range reaches that word.
            var best: (nonce: UInt32, hash: [UInt8])?
            var scratch = header
            for offset in 0..<count {
                let nonce = start &+ offset
                withUnsafeBytes(of: nonce.littleEndian) { scratch.replaceSubrange(76..<80, with: $0) }
                let hash = Self.sha256d(scratch)
                if best == nil || !Self.atMost(best?.hash ?? [], hash) { best = (nonce, hash) }
            }
            guard let best else { continue }
            // Target = that hash: met exactly. Target = that hash minus one below the top word: missed.
            var below = best.hash
            var index = 0
            while index < 28 && below[index] == 0 { below[index] = 0xff; index += 1 }
            guard index < 28 else { continue }
            below[index] -= 1
            for kernel in Self.kernels {
                let name = String(cString: sv2_sha256d_kernel_name(kernel))
                #expect(Self.scan(kernel, header, start: start, count: count, target: best.hash) == best.nonce, "round \(round) \(name)")
                #expect(Self.scan(kernel, header, start: start, count: count, target: below) == nil, "round \(round) \(name)")
            }
        }
    }

    @Test("nonces wrap around 2^32, and a hit just past the range's end is not reported")
    func wrapAndRangeEnd() {
        var rng = SplitMix64(seed: 0x77a9_2001)
        var hits = 0
        for round in 0..<150 {
            let header = (0..<80).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var target = [UInt8](repeating: 0xff, count: 32)
            target[31] = UInt8(rng.next() % 4)
            let start = UInt32.max - UInt32(rng.next() % 48)
            let count: UInt32 = 80
            let expected = Self.bruteForce(header, start: start, count: count, target: target)
            for kernel in Self.kernels {
                let name = String(cString: sv2_sha256d_kernel_name(kernel))
                #expect(Self.scan(kernel, header, start: start, count: count, target: target) == expected, "round \(round) \(name)")
            }
            // The first hit at offset k: a scan of k nonces (ending just before it, in any lane) finds nothing.
            guard let hit = expected, hit &- start > 0 else { continue }
            hits += 1
            for kernel in Self.kernels {
                #expect(Self.scan(kernel, header, start: start, count: hit &- start, target: target) == nil, "round \(round)")
            }
        }
        #expect(hits > 50)
    }

    @Test("dispatch: each kernel runs only where the CPU has it; AUTO picks one of them, once")
    func dispatch() {
        #expect(sv2_sha256d_kernel_available(SV2_KERNEL_PORTABLE) == 1)
        #expect(String(cString: sv2_sha256d_kernel_name(SV2_KERNEL_PORTABLE)) == "portable")
        let zero = [UInt8](repeating: 0, count: 32)
        let midstate = [UInt32](repeating: 1, count: 8)
        for kernel in Self.allKernels {
            var found: UInt32 = 0
            let result = sv2_sha256d_scan(kernel, midstate, Array(zero.prefix(16)), 0, 64, zero, &found)
            // An unavailable kernel refuses to run (-1) instead of executing instructions the CPU lacks.
            #expect(result == (sv2_sha256d_kernel_available(kernel) == 1 ? 0 : -1), "\(String(cString: sv2_sha256d_kernel_name(kernel)))")
        }
        // AUTO is measured once: an available kernel (not portable when a faster one exists), the same every time.
        let auto = String(cString: sv2_sha256d_kernel_name(SV2_KERNEL_AUTO))
        let available = Self.kernels.map { String(cString: sv2_sha256d_kernel_name($0)) }
        #expect(available.contains(auto))
        #expect(auto != "portable" || available == ["portable"])
        #expect(String(cString: sv2_sha256d_kernel_name(SV2_KERNEL_AUTO)) == auto)
        #expect(Set(Self.allKernels.map { String(cString: sv2_sha256d_kernel_name($0)) }).count == Self.allKernels.count)
    }
}

/// A small deterministic generator (SplitMix64) so failures reproduce.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
