import Foundation

/// Loads a JSON file from Tests/Vectors (copied from the shared test vectors).
func loadVector(_ name: String) throws -> [String: Any] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Vectors").appendingPathComponent(name)
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    return object as? [String: Any] ?? [:]
}

/// Bytes from hex, failing the caller's expectation on bad hex by returning an empty array.
func bytes(_ hex: String) -> [UInt8] {
    var out = [UInt8]()
    var chars = Array(hex.utf8)
    if chars.count % 2 == 1 { chars.append(UInt8(ascii: "0")) }
    for index in stride(from: 0, to: chars.count, by: 2) {
        out.append(UInt8(String(decoding: chars[index..<index + 2], as: UTF8.self), radix: 16) ?? 0)
    }
    return out
}
