import Sv2Binary

/// nBits: a 256-bit target in Bitcoin's compact floating-point form (exponent byte, sign bit, 23-bit mantissa),
/// converted exactly as Bitcoin Core's `arith_uint256::SetCompact` / `GetCompact`.
public struct CompactTarget: Hashable, Sendable, CustomStringConvertible {
    /// The 32-bit compact value as it appears in the header.
    public var bits: UInt32

    /// Wraps a compact value.
    public init(bits: UInt32) {
        self.bits = bits
    }

    /// The compact form of `target` (`GetCompact`): the mantissa is rounded down to 3 significant bytes, and the sign
    /// bit is set only when `negative` and the mantissa is not zero.
    public init(target: U256, negative: Bool = false) {
        var size = (target.significantBitCount + 7) / 8
        var compact: UInt32
        if size <= 3 {
            compact = UInt32(truncatingIfNeeded: target.w0 << UInt64(8 * (3 - size)))
        } else {
            compact = UInt32(truncatingIfNeeded: target.shiftedRight(by: 8 * (size - 3)).w0)
        }
        // The mantissa's top bit is the sign: move a set bit into a longer exponent instead.
        if compact & 0x0080_0000 != 0 {
            compact >>= 8
            size += 1
        }
        compact |= UInt32(size) << 24
        if negative, compact & 0x007f_ffff != 0 { compact |= 0x0080_0000 }
        bits = compact
    }

    /// The decoded target with Bitcoin Core's flags (`SetCompact`): the value is the mantissa (sign bit cleared)
    /// shifted by the exponent; `isNegative` when the sign bit is set on a non-zero mantissa; `isOverflow` when the
    /// value would not fit in 256 bits (then `target` holds only the bits that fit).
    public var expanded: (target: U256, isNegative: Bool, isOverflow: Bool) {
        let size = Int(bits >> 24)
        var word = bits & 0x007f_ffff
        let target: U256
        if size <= 3 {
            word >>= UInt32(8 * (3 - size))
            target = U256(UInt64(word))
        } else {
            target = U256(UInt64(word)).shiftedLeft(by: 8 * (size - 3))
        }
        let negative = word != 0 && bits & 0x0080_0000 != 0
        let overflow = word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32))
        return (target, negative, overflow)
    }

    /// The target, or an error for nBits Bitcoin Core rejects in proof-of-work checks: negative, overflowing or zero.
    public func target() throws(BitcoinError) -> U256 {
        let (target, negative, overflow) = expanded
        if negative { throw .negativeTarget(bits: bits) }
        if overflow { throw .targetOverflow(bits: bits) }
        if target == .zero { throw .zeroTarget(bits: bits) }
        return target
    }

    /// `0x` and eight hex digits, the way nBits are usually written.
    public var description: String {
        let digits = String(bits, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
