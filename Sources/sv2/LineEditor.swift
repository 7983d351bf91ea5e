import CReadline
import Foundation
import Sv2Messages

/// The REPL's terminal line editor: GNU readline with a history file and tab completion of commands, message
/// names and field names.
enum LineEditor {
    /// Completion candidates for the word being completed (readline calls back without context).
    nonisolated(unsafe) private static var candidates: [String] = []
    nonisolated(unsafe) private static var candidateIndex = 0

    /// Sets up completion and loads `historyFile`.
    static func start(historyFile: String) {
        sv2_rl_configure(strdup("sv2")) { text, start, _ in
            LineEditor.prepareCandidates(prefixEnd: Int(start))
            sv2_rl_completion_over()
            return rl_completion_matches(text) { text, state in
                if state == 0 { LineEditor.candidateIndex = 0 }
                let prefix = text.map { String(cString: $0) } ?? ""
                while LineEditor.candidateIndex < LineEditor.candidates.count {
                    let candidate = LineEditor.candidates[LineEditor.candidateIndex]
                    LineEditor.candidateIndex += 1
                    if candidate.hasPrefix(prefix) { return strdup(candidate) }
                }
                return nil
            }
        }
        read_history(historyFile)
    }

    /// Works out what the word ending at the cursor can be from the words before it.
    private static func prepareCandidates(prefixEnd: Int) {
        let line = sv2_rl_line_buffer().map { String(cString: $0) } ?? ""
        let before = ReplSession.split(String(decoding: line.utf8.prefix(prefixEnd), as: UTF8.self))
        sv2_rl_set_completion_append_character(Int32(UInt8(ascii: " ")))
        switch (before.first?.lowercased(), before.count) {
        case (nil, _):
            candidates = ReplSession.commands.map(\.name)
        case ("send", 1), ("expect", 1):
            candidates = Sv2MessageRegistry.names
        case ("send", _):
            guard let type = try? Sv2MessageRegistry.lookup(before[1]) else {
                candidates = []
                return
            }
            sv2_rl_set_completion_append_character(0)
            candidates = Sv2FieldCollector.fields(of: type.init()).map { $0.name + "=" } + ["--tlv"]
        case ("connect", _):
            candidates = ["--plaintext"]
        case ("listen", _):
            candidates = ["--plaintext", "--authority-secret-key"]
        default:
            candidates = []
        }
    }

    /// Reads a line with `prompt`; nil at end of input. Non-empty lines go to the history.
    static func readLine(prompt: String) -> String? {
        guard let raw = readline(prompt) else { return nil }
        defer { free(raw) }
        let line = String(cString: raw)
        if !line.allSatisfy(\.isWhitespace) { add_history(line) }
        return line
    }

    /// Writes the history back to `historyFile`.
    static func finish(historyFile: String) {
        write_history(historyFile)
    }

    /// Prints a line while readline may be showing a prompt: clear the prompt line, print, redraw.
    static func printAbovePrompt(_ text: String) {
        FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + text + "\n").utf8))
        rl_on_new_line()
        rl_redisplay()
    }
}
