import ArgumentParser
import Sv2Binary
import Sv2Messages

/// `sv2 decode`: hex frames to readable messages.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode hex Sv2 frames into readable messages.",
        discussion: """
            Reads plaintext frames (6-byte header, then payload) as hex from the arguments, from --file, or from \
            standard input. Whitespace, newlines and 0x prefixes are ignored, and several frames may follow one \
            another. Each frame is printed as its message name and fields; --json prints one JSON object per frame \
            (one per line) that `sv2 encode --json` reads back. On bad input the exit status is 1 and the error names \
            the frame (counting from 1), the byte within that frame (the header starts at byte 0) and the problem.
            """
    )

    @Argument(help: "Hex of one or more frames (read from standard input when absent).")
    var hex: [String] = []

    @Option(name: .shortAndLong, help: "Read the hex from this file.")
    var file: String?

    @Flag(help: "Print one JSON object per frame, field names as in the spec.")
    var json = false

    func run() throws {
        let text: String
        if let file {
            text = try InputReading.file(file)
        } else if hex.isEmpty {
            text = InputReading.standardInput()
        } else {
            text = hex.joined(separator: " ")
        }
        let bytes = try InputReading.hexBytes(text)
        guard !bytes.isEmpty else { throw CommandFailure("no input: give the hex of at least one frame") }
        let frames: [Sv2DecodedFrame]
        do {
            frames = try Sv2DecodedFrame.decodeAll(bytes)
        } catch {
            throw CommandFailure(error.description)
        }
        for (index, frame) in frames.enumerated() {
            if json {
                print(frame.message.json(tlvs: frame.tlvs).text)
                continue
            }
            if index > 0 { print() }
            for line in frame.textLines { print(line) }
        }
    }
}
