import ArgumentParser
import Foundation
import NIOConcurrencyHelpers

/// `sv2 repl`: craft raw Sv2 messages, send them to a peer and watch what comes back.
struct ReplCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "Interactive shell to send Sv2 messages to a peer and watch the answers.",
        discussion: """
            Commands: connect HOST:PORT [AUTHORITY_PUBKEY] [--plaintext]; listen HOST:PORT \
            [--authority-secret-key KEY] [--plaintext]; send MESSAGE field=value ... (the sv2 encode syntax); \
            raw HEX; expect MESSAGE [SECONDS]; sleep SECONDS; close; help; quit. Connections use Noise unless \
            --plaintext is given; without an authority public key, connect does not check the server's certificate \
            (it says so). Every frame received is printed as sv2 decode prints it. On a terminal, lines are edited \
            with readline (history in --history-file, tab completion of commands, messages and fields). When \
            standard input is not a terminal the commands are read from it, one per line (# starts a comment), and \
            the first failing command ends the REPL with exit status 1: expect makes such scripts wait for answers.
            """
    )

    @Option(help: "History file for interactive use.")
    var historyFile: String = (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.sv2_history"

    func run() throws {
        let interactive = isatty(STDIN_FILENO) == 1
        let outputLock = NIOLock()
        let session = ReplSession(print: { text in
            outputLock.withLock {
                if interactive {
                    LineEditor.printAbovePrompt(text)
                } else {
                    Swift.print(text)
                    fflush(nil)
                }
            }
        })
        defer { session.shutdown() }
        if interactive {
            LineEditor.start(historyFile: historyFile)
            defer { LineEditor.finish(historyFile: historyFile) }
            print("sv2 repl: type help for the commands")
            while let line = LineEditor.readLine(prompt: "sv2> ") {
                do {
                    guard try session.execute(line) else { break }
                } catch {
                    outputLock.withLock { print("error: \(error)") }
                }
            }
            return
        }
        while let line = readLine() {
            let command = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !command.allSatisfy(\.isWhitespace) else { continue }
            outputLock.withLock {
                print("sv2> \(command.trimmingCharacters(in: .whitespaces))")
                fflush(nil)
            }
            do {
                guard try session.execute(command) else { break }
            } catch {
                throw CommandFailure("\(command.trimmingCharacters(in: .whitespaces)): \(error)")
            }
        }
    }
}
