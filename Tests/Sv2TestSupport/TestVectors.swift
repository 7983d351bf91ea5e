import Foundation

/// The folder of test vectors copied from the shared known-answer files (Tests/Vectors).
public let vectorsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Vectors")

/// A JSON vector file's top-level object.
public func loadJSON(_ name: String) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: vectorsFolder.appendingPathComponent(name)))
    return object as? [String: Any] ?? [:]
}

/// A CSV vector file as rows of named cells (no quoted commas in these files).
public func loadCSV(_ name: String) throws -> [[String: String]] {
    let text = try String(contentsOf: vectorsFolder.appendingPathComponent(name), encoding: .utf8)
    let lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    guard let header = lines.first else { return [] }
    return lines.dropFirst().map { cells in
        Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0 < cells.count ? cells[$0] : "") })
    }
}

/// Bytes of a hex string (an odd trailing digit and non-hex pairs become 0, so a typo fails the comparison).
public func hex(_ text: String) -> [UInt8] {
    var out = [UInt8]()
    let chars = Array(text.utf8)
    var index = 0
    while index + 1 < chars.count {
        out.append(UInt8(String(decoding: chars[index..<index + 2], as: UTF8.self), radix: 16) ?? 0)
        index += 2
    }
    return out
}

/// Lower-case hex of bytes.
public func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
