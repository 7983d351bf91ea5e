import Sv2Binary

/// The arithmetic the mining target math needs: sums and differences that report overflow, products with a
/// 64-bit factor, division with remainder, and conversions from and to `Double`.
extension U256 {
    /// `self + other` modulo 2^256, and whether the exact sum did not fit.
    public func addingReportingOverflow(_ other: U256) -> (partialValue: U256, overflow: Bool) {
        let (r0, c0) = Self.add(w0, other.w0, carry: false)
        let (r1, c1) = Self.add(w1, other.w1, carry: c0)
        let (r2, c2) = Self.add(w2, other.w2, carry: c1)
        let (r3, c3) = Self.add(w3, other.w3, carry: c2)
        return (U256(w0: r0, w1: r1, w2: r2, w3: r3), c3)
    }

    /// `self - other` modulo 2^256, and whether the exact difference was negative.
    public func subtractingReportingOverflow(_ other: U256) -> (partialValue: U256, overflow: Bool) {
        let (r0, b0) = Self.subtract(w0, other.w0, borrow: false)
        let (r1, b1) = Self.subtract(w1, other.w1, borrow: b0)
        let (r2, b2) = Self.subtract(w2, other.w2, borrow: b1)
        let (r3, b3) = Self.subtract(w3, other.w3, borrow: b2)
        return (U256(w0: r0, w1: r1, w2: r2, w3: r3), b3)
    }

    /// `self * factor` modulo 2^256, and whether the exact product did not fit.
    public func multipliedReportingOverflow(by factor: UInt64) -> (partialValue: U256, overflow: Bool) {
        var carry: UInt64 = 0
        func limb(_ value: UInt64) -> UInt64 {
            let (high, low) = value.multipliedFullWidth(by: factor)
            let (sum, overflow) = low.addingReportingOverflow(carry)
            // high <= 2^64 - 2, so adding the carry bit cannot wrap.
            carry = high + (overflow ? 1 : 0)
            return sum
        }
        let product = U256(w0: limb(w0), w1: limb(w1), w2: limb(w2), w3: limb(w3))
        return (product, carry != 0)
    }

    /// The quotient rounded toward zero and the remainder of `self / divisor` (binary long division).
    ///
    /// - Precondition: `divisor` is not zero; like Swift's integer division, dividing by zero traps.
    public func quotientAndRemainder(dividingBy divisor: U256) -> (quotient: U256, remainder: U256) {
        precondition(divisor != .zero, "U256 division by zero")
        var quotient = U256.zero
        var remainder = U256.zero
        for bit in stride(from: significantBitCount - 1, through: 0, by: -1) {
            // When the remainder's top bit is set, the shifted value is at least 2^256 > divisor: subtracting
            // modulo 2^256 still gives the exact new remainder, which is below the divisor.
            let carriesOut = remainder.w3 >> 63 == 1
            remainder = remainder.shiftedLeft(by: 1)
            remainder.w0 |= shiftedRight(by: bit).w0 & 1
            quotient = quotient.shiftedLeft(by: 1)
            if carriesOut || remainder >= divisor {
                remainder = remainder.subtractingReportingOverflow(divisor).partialValue
                quotient.w0 |= 1
            }
        }
        return (quotient, remainder)
    }

    /// `value` rounded toward zero and clamped to `0...U256.max`: negative values and NaN give zero, values of
    /// 2^256 and more (including infinity) give ``U256/max``.
    public init(clamping value: Double) {
        guard value >= 1 else {
            self = .zero
            return
        }
        guard value < 0x1p256 else {
            self = .max
            return
        }
        // value = significand * 2^(exponent - 52) with a 53-bit integer significand; exponent is 0...255 here.
        let exponent = Int(value.exponent)
        let significand = U256(value.significandBitPattern | 1 << 52)
        self = exponent >= 52
            ? significand.shiftedLeft(by: exponent - 52)
            : significand.shiftedRight(by: 52 - exponent)
    }

    /// `a + b + carry` and the carry out.
    private static func add(_ a: UInt64, _ b: UInt64, carry: Bool) -> (UInt64, Bool) {
        let (sum, first) = a.addingReportingOverflow(b)
        let (total, second) = sum.addingReportingOverflow(carry ? 1 : 0)
        return (total, first || second)
    }

    /// `a - b - borrow` and the borrow out.
    private static func subtract(_ a: UInt64, _ b: UInt64, borrow: Bool) -> (UInt64, Bool) {
        let (difference, first) = a.subtractingReportingOverflow(b)
        let (total, second) = difference.subtractingReportingOverflow(borrow ? 1 : 0)
        return (total, first || second)
    }
}

extension Double {
    /// The `Double` nearest to `value` (ties to even); 2^256 - 1 gives 2^256.
    public init(_ value: U256) {
        let bits = value.significantBitCount
        guard bits > 64 else {
            self = Double(value.w0)
            return
        }
        // Keep the top 64 bits and fold every bit below them into the lowest one (a sticky bit): that bit lies
        // under the 53 bits a Double keeps, so converting the 64-bit value rounds exactly as the whole number would.
        let shift = bits - 64
        var top = value.shiftedRight(by: shift).w0
        if value.shiftedLeft(by: 256 - shift) != .zero { top |= 1 }
        self = Double(sign: .plus, exponent: shift, significand: Double(top))
    }
}
