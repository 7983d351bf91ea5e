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

    /// Bytes from hex text: whitespace and newlines anywhere, `0x` prefixes on any word, either case.
    static func hexBytes(_ text: String) throws -> [UInt8] {
        var digits = [UInt8]()
        var position = 0
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == "," }) {
            var utf8 = Array(word.utf8)
            if utf8.count >= 2, utf8[0] == UInt8(ascii: "0"), utf8[1] | 0x20 == UInt8(ascii: "x") { utf8.removeFirst(2) }
            for character in utf8 {
                guard Hex.nibble(character) != nil else {
                    throw CommandFailure("input is not hex: character '\(Character(Unicode.Scalar(character)))' after \(position) hex digits")
                }
                digits.append(character)
                position += 1
            }
        }
        guard digits.count % 2 == 0 else {
            throw CommandFailure("input has an odd number of hex digits (\(digits.count))")
        }
        return Hex.decode(String(decoding: digits, as: UTF8.self)) ?? []
    }
}
