import Sv2Binary
import Testing
@testable import Bitcoin

/// 2^bit.
private func power(_ bit: Int) -> U256 {
    let limb = UInt64(1) << UInt64(bit % 64)
    switch bit / 64 {
    case 0: return U256(w0: limb, w1: 0, w2: 0, w3: 0)
    case 1: return U256(w0: 0, w1: limb, w2: 0, w3: 0)
    case 2: return U256(w0: 0, w1: 0, w2: limb, w3: 0)
    default: return U256(w0: 0, w1: 0, w2: 0, w3: limb)
    }
}

/// `a + b` when it fits, zero otherwise (so a wrong expectation fails).
private func sum(_ a: U256, _ b: U256) -> U256 {
    let (value, overflow) = a.addingReportingOverflow(b)
    return overflow ? .zero : value
}

/// A spread of values: small, limb boundaries, powers of two, patterns, the maximum.
private let samples: [U256] = [
    U256(1), U256(2), U256(3), U256(10), U256(UInt64.max),
    U256(w0: 0, w1: 1, w2: 0, w3: 0), U256(w0: .max, w1: .max, w2: 0, w3: 0), power(127), power(128), power(200),
    power(255), U256(w0: 0x0123_4567_89ab_cdef, w1: 0xfedc_ba98_7654_3210, w2: 0x0f0f_0f0f_0f0f_0f0f, w3: 0x1234),
    U256(w0: 0xdead_beef, w1: 0, w2: 0xcafe_babe, w3: 0x8000_0000_0000_0001), .max,
]

@Suite("U256 arithmetic")
struct U256ArithmeticTests {
    @Test("addition and subtraction carry across limbs and report overflow")
    func addSubtract() {
        #expect(U256(w0: .max, w1: 0, w2: 0, w3: 0).addingReportingOverflow(U256(1)) == (power(64), false))
        #expect(U256(w0: .max, w1: .max, w2: .max, w3: 0).addingReportingOverflow(U256(1)) == (power(192), false))
        #expect(U256.max.addingReportingOverflow(U256(1)) == (.zero, true))
        #expect(U256.max.addingReportingOverflow(.max) == (U256(w0: .max - 1, w1: .max, w2: .max, w3: .max), true))
        #expect(power(192).subtractingReportingOverflow(U256(1)) == (U256(w0: .max, w1: .max, w2: .max, w3: 0), false))
        #expect(U256.zero.subtractingReportingOverflow(U256(1)) == (.max, true))
        #expect(U256(5).subtractingReportingOverflow(U256(5)) == (.zero, false))
        for a in samples {
            for b in samples {
                let (difference, borrow) = a.subtractingReportingOverflow(b)
                #expect(borrow == (a < b))
                #expect(difference.addingReportingOverflow(b).partialValue == a)
            }
        }
    }

    @Test("multiplication by a 64-bit factor")
    func multiply() {
        #expect(U256.max.multipliedReportingOverflow(by: 0) == (.zero, false))
        #expect(U256.max.multipliedReportingOverflow(by: 1) == (.max, false))
        #expect(U256.max.multipliedReportingOverflow(by: 2) == (U256(w0: .max - 1, w1: .max, w2: .max, w3: .max), true))
        #expect(power(255).multipliedReportingOverflow(by: 2) == (.zero, true))
        #expect(power(254).multipliedReportingOverflow(by: 2) == (power(255), false))
        // (2^64 - 1)^2 = 2^128 - 2^65 + 1.
        #expect(U256(UInt64.max).multipliedReportingOverflow(by: .max) == (U256(w0: 1, w1: .max - 1, w2: 0, w3: 0), false))
        // Carries ripple through every limb: (2^192 - 1) * (2^64 - 1) = 2^256 - 2^192 - 2^64 + 1.
        let product = U256(w0: .max, w1: .max, w2: .max, w3: 0).multipliedReportingOverflow(by: .max)
        #expect(product == (U256(w0: 1, w1: .max, w2: .max, w3: .max - 1), false))
    }

    @Test("division: by 1, by itself, by the maximum, by a larger value, and known quotients")
    func divideEdges() {
        for value in samples {
            #expect(value.quotientAndRemainder(dividingBy: U256(1)) == (value, .zero))
            #expect(value.quotientAndRemainder(dividingBy: value) == (U256(1), .zero))
            let byMax = value.quotientAndRemainder(dividingBy: .max)
            #expect(byMax == (value == .max ? (U256(1), .zero) : (.zero, value)))
            if value != .max {
                #expect(value.quotientAndRemainder(dividingBy: sum(value, U256(1))) == (.zero, value))
            }
        }
        #expect(U256.zero.quotientAndRemainder(dividingBy: U256(7)) == (.zero, .zero))
        let thirds = U256(w0: 0x5555_5555_5555_5555, w1: 0x5555_5555_5555_5555, w2: 0x5555_5555_5555_5555, w3: 0x5555_5555_5555_5555)
        #expect(U256.max.quotientAndRemainder(dividingBy: U256(3)) == (thirds, .zero))
        // 2^256 - 1 = (2^128 - 1)(2^128 + 1).
        let low128 = U256(w0: .max, w1: .max, w2: 0, w3: 0)
        #expect(U256.max.quotientAndRemainder(dividingBy: low128) == (sum(power(128), U256(1)), .zero))
        #expect(U256.max.quotientAndRemainder(dividingBy: power(128)) == (low128, low128))
        // A divisor with the top bit set exercises the remainder's carry out of bit 255.
        let big = U256(w0: 1, w1: 0, w2: 0, w3: 1 << 63)
        #expect(U256.max.quotientAndRemainder(dividingBy: big) == (U256(1), U256(w0: .max - 1, w1: .max, w2: .max, w3: .max >> 1)))
    }

    @Test("division: quotient * divisor + remainder == dividend and remainder < divisor")
    func divideIdentity() {
        let divisors: [UInt64] = [1, 2, 3, 7, 10, 60001, 0xffff_ffff, 1 << 63, .max]
        for value in samples {
            for divisor in divisors {
                let (quotient, remainder) = value.quotientAndRemainder(dividingBy: U256(divisor))
                let (product, overflow) = quotient.multipliedReportingOverflow(by: divisor)
                #expect(!overflow)
                #expect(remainder < U256(divisor))
                #expect(sum(product, remainder) == value, "\(value.hex) / \(divisor)")
            }
            for divisor in samples {
                let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
                #expect(remainder < divisor)
                // A power-of-two divisor is a shift.
                if let bit = (0..<256).first(where: { power($0) == divisor }) {
                    #expect(quotient == value.shiftedRight(by: bit))
                }
            }
        }
    }

    @Test("Double conversions: powers of two round-trip exactly", arguments: 0..<256)
    func powersOfTwo(bit: Int) {
        let value = power(bit)
        #expect(Double(value) == Double(sign: .plus, exponent: bit, significand: 1))
        #expect(U256(clamping: Double(value)) == value)
        // 2^bit - 1 rounds to 2^bit once it has more than 53 bits.
        let belowPower = value.subtractingReportingOverflow(U256(1)).partialValue
        #expect(Double(belowPower) == (bit <= 53 ? Double(sign: .plus, exponent: bit, significand: 1) - 1 : Double(value)))
    }

    @Test("Double conversions: rounding to nearest (ties to even), truncation, saturation")
    func doubleEdges() {
        // Exactly halfway between 2^64 and its successor 2^64 + 2^12: ties to the even 2^64.
        #expect(Double(sum(power(64), power(11))) == 0x1p64)
        #expect(Double(sum(sum(power(64), power(11)), U256(1))) == 0x1p64 + 0x1p12)
        // A sticky bit 147 places under the halfway point still rounds up.
        #expect(Double(sum(power(200), power(147))) == 0x1p200)
        #expect(Double(sum(sum(power(200), power(147)), U256(1))) == 0x1p200 + 0x1p148)
        #expect(Double(sum(sum(power(200), power(148)), power(147))) == 0x1p200 + 0x1p149)
        #expect(Double(U256.max) == 0x1p256)
        #expect(Double(U256.zero) == 0)
        #expect(Double(U256(UInt64.max)) == 0x1p64)
        #expect(U256(clamping: 0x1p256) == .max)
        #expect(U256(clamping: .infinity) == .max)
        #expect(U256(clamping: .greatestFiniteMagnitude) == .max)
        #expect(U256(clamping: 0x1p256.nextDown) == U256(w0: 0, w1: 0, w2: 0, w3: 0xffff_ffff_ffff_f800))
        for value in [0, 0.99, -0.5, -1, -.infinity, .nan, .leastNonzeroMagnitude] as [Double] {
            #expect(U256(clamping: value) == .zero, "\(value)")
        }
        #expect(U256(clamping: 1.99) == U256(1))
        #expect(U256(clamping: 12148249.68) == U256(12_148_249))
        #expect(U256(clamping: 0x1p40 + 0x1p20 + 0.75) == sum(power(40), power(20)))
    }
}
