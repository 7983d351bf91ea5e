import Bitcoin
import Foundation
import Sv2Binary
import Sv2TestSupport
import Testing

/// Expects `body` to throw a ``BitcoinError`` with `code`.
func expectError(
    _ code: String, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws(BitcoinError) -> Void
) {
    do {
        try body()
        Issue.record("expected \(code), nothing was thrown \(comment.map { "(\($0))" } ?? "")", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == code, "\(comment.map { "\($0): " } ?? "")\(error)", sourceLocation: sourceLocation)
    }
}

/// A U256 from display-order (big-endian) hex; zero when malformed, so a typo fails the comparison.
func display(_ text: String?) -> U256 {
    U256(displayHex: text ?? "") ?? .zero
}

/// A U256 from wire-order (internal, little-endian) hex.
func wire(_ text: String?) -> U256 {
    U256(hex: text ?? "") ?? .zero
}

/// A dictionary value of a JSON object.
func object(_ value: Any?) -> [String: Any] { value as? [String: Any] ?? [:] }

/// An array of JSON objects.
func objects(_ value: Any?) -> [[String: Any]] { value as? [[String: Any]] ?? [] }

/// A string of a JSON object, "" when absent.
func string(_ value: Any?) -> String { value as? String ?? "" }

/// An integer of a JSON object (a number, or a string in 0x hex or decimal).
func integer(_ value: Any?) -> UInt64 {
    if let number = value as? NSNumber { return number.uint64Value }
    if let text = value as? String {
        if text.hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) ?? .max }
        return UInt64(text) ?? .max
    }
    return .max
}

/// A deterministic pseudo-random generator (SplitMix64) for garbage inputs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
