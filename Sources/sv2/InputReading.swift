import Foundation
import Sv2Binary

/// Reading the inputs the subcommands accept: literal text, a file, or standard input.
enum InputReading {
    /// All of standard input as text.
    static func standardInput() -> String {
        String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    }

    /// The contents of the file at `path`, or a validation error naming it.
    static func file(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("cannot read file '\(path)'")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Bytes from hex text: ASCII whitespace (CR and LF included) and commas anywhere, a `0x` prefix on any word,
    /// either case.
    static func hexBytes(_ text: String) throws -> [UInt8] {
        var digits = [UInt8]()
        var previous: Unicode.Scalar = " "
        var skipX = false
        for scalar in text.unicodeScalars {
            defer { previous = scalar }
            if isSeparator(scalar) { continue }
            // A "0x" at the start of a word: drop the 0 already taken and skip the x.
            if (scalar == "x" || scalar == "X"), previous == "0", skipX {
                digits.removeLast()
                skipX = false
                continue
            }
            skipX = scalar == "0" && isSeparator(previous)
            guard scalar.isASCII, Hex.nibble(UInt8(scalar.value)) != nil else {
                throw CommandFailure("input is not hex: \(describe(scalar)) after \(digits.count) hex digits")
            }
            digits.append(UInt8(scalar.value))
        }
        guard digits.count % 2 == 0 else {
            throw CommandFailure("input has an odd number of hex digits (\(digits.count))")
        }
        return Hex.decode(String(decoding: digits, as: UTF8.self)) ?? []
    }

    private static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case " ", "\t", "\n", "\r", "\u{0B}", "\u{0C}", ",": return true
        default: return false
        }
    }

    /// `character 'g'`, `character 'é' (U+00E9)`, or `character U+001B` for a control character (never printed raw).
    static func describe(_ scalar: Unicode.Scalar) -> String {
        let code = String(scalar.value, radix: 16, uppercase: true)
        let codePoint = "U+" + String(repeating: "0", count: max(0, 4 - code.count)) + code
        if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format {
            return "character \(codePoint)"
        }
        return scalar.isASCII ? "character '\(scalar)'" : "character '\(scalar)' (\(codePoint))"
    }
}
