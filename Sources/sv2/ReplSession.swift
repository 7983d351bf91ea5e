import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Sv2Binary
import Sv2Crypto
import Sv2Messages
import Sv2Network

/// A command of `sv2 repl` that could not be carried out.
struct ReplError: Error, CustomStringConvertible {
    /// The sentence for the user.
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// The state of one `sv2 repl`: at most one listening socket and one peer connection that `send` writes to (the
/// connection made with `connect`, or the latest one accepted by `listen`), and the frames received so far that
/// no `expect` has taken yet. Commands run on the caller's thread; frames arrive on the event loop.
final class ReplSession: @unchecked Sendable {
    /// Commands and their one-line help, in the order `help` lists them.
    static let commands: [(name: String, usage: String)] = [
        ("connect", "connect HOST:PORT [AUTHORITY_PUBKEY] [--plaintext]   open a connection (Noise unless --plaintext)"),
        ("listen", "listen HOST:PORT [--authority-secret-key KEY] [--plaintext]   accept connections (port 0: any free port)"),
        ("send", "send MESSAGE field=value ... [--tlv EXT:FIELD:HEX]   send a message (the sv2 encode syntax)"),
        ("raw", "raw HEX   send a frame given as hex (header and payload; msg_length is taken from the bytes)"),
        ("expect", "expect MESSAGE [SECONDS]   wait for a message (default 10 s); fails if none comes"),
        ("sleep", "sleep SECONDS   pause"),
        ("close", "close   close the connection and stop listening"),
        ("help", "help   this list"),
        ("quit", "quit   leave (also exit, or end of input)"),
    ]

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let condition = NSCondition()
    private var peer: Channel?
    private var server: Channel?
    private var inbox: [Sv2DecodedFrame] = []
    private let print: @Sendable (String) -> Void

    /// A session that writes everything it reports through `print`.
    init(print: @escaping @Sendable (String) -> Void) {
        self.print = print
    }

    /// Closes everything and stops the event loop.
    func shutdown() {
        close()
        try? group.syncShutdownGracefully()
    }

    /// Runs one command line; returns false when the line asks to quit.
    func execute(_ line: String) throws -> Bool {
        let words = ReplSession.split(line)
        guard let command = words.first?.lowercased() else { return true }
        let arguments = Array(words.dropFirst())
        switch command {
        case "connect": try connect(arguments)
        case "listen": try listen(arguments)
        case "send": try send(arguments)
        case "raw": try raw(arguments)
        case "expect": try expect(arguments)
        case "sleep", "wait":
            guard arguments.count == 1, let seconds = Double(arguments[0]), seconds >= 0 else { throw ReplError("usage: sleep SECONDS") }
            Thread.sleep(forTimeInterval: seconds)
        case "close": close()
        case "help", "?": for entry in Self.commands { print(entry.usage) }
        case "quit", "exit": return false
        default: throw ReplError("unknown command '\(command)' (help lists the commands)")
        }
        return true
    }

    /// Splits a line into words; double quotes group words with spaces (`endpoint_host="a b"`).
    static func split(_ line: String) -> [String] {
        var words = [String]()
        var current = ""
        var quoted = false
        var inWord = false
        for character in line {
            if character == "\"" {
                quoted.toggle()
                inWord = true
            } else if character.isWhitespace && !quoted {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    private static func hostPort(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ReplError("'\(text)' is not HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    /// Splits `--flag` and `--option VALUE` words from positional ones.
    private static func options(_ words: [String], flags: Set<String>, valued: Set<String>) throws -> (positional: [String], flags: Set<String>, values: [String: [String]]) {
        var positional = [String]()
        var seen = Set<String>()
        var values = [String: [String]]()
        var index = 0
        while index < words.count {
            let word = words[index]
            if flags.contains(word) {
                seen.insert(word)
            } else if valued.contains(word) {
                guard index + 1 < words.count else { throw ReplError("\(word) needs a value") }
                values[word, default: []].append(words[index + 1])
                index += 1
            } else if word.hasPrefix("--") {
                throw ReplError("unknown option \(word)")
            } else {
                positional.append(word)
            }
            index += 1
        }
        return (positional, seen, values)
    }

    private func handler(for channel: Channel, ready: EventLoopPromise<Void>?) -> ReplPeerHandler {
        ReplPeerHandler(session: self, ready: ready)
    }

    private func connect(_ words: [String]) throws {
        let parsed = try Self.options(words, flags: ["--plaintext"], valued: [])
        guard (1...2).contains(parsed.positional.count) else { throw ReplError("usage: connect HOST:PORT [AUTHORITY_PUBKEY] [--plaintext]") }
        let (host, port) = try Self.hostPort(parsed.positional[0])
        let security: Sv2TransportSecurity
        if parsed.flags.contains("--plaintext") {
            security = .plaintext
        } else if parsed.positional.count == 2 {
            do {
                security = .initiator(authority: try AuthorityKeyText.publicKey(parsed.positional[1]))
            } catch {
                throw ReplError("authority public key: \(error)")
            }
        } else {
            print("warning: no authority public key given: the server's certificate will not be checked")
            security = .initiator(authority: nil)
        }
        close()
        let ready = group.next().makePromise(of: Void.self)
        let channel: Channel
        do {
            channel = try Sv2Connections.connect(
                host: host, port: port, group: group, configuration: Sv2TransportConfiguration(security: security),
                closesOnMalformedMessage: false
            ) { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ReplPeerHandler(session: self, ready: ready)) }
            }.wait()
        } catch {
            ready.fail(error)
            throw ReplError("cannot connect to \(host):\(port): \(error)")
        }
        setPeer(channel)
        do {
            try ready.futureResult.wait()
        } catch {
            throw ReplError("connection to \(host):\(port) failed: \(error)")
        }
    }

    private func listen(_ words: [String]) throws {
        let parsed = try Self.options(words, flags: ["--plaintext"], valued: ["--authority-secret-key"])
        guard parsed.positional.count == 1 else { throw ReplError("usage: listen HOST:PORT [--authority-secret-key KEY] [--plaintext]") }
        let (host, port) = try Self.hostPort(parsed.positional[0])
        let security: Sv2TransportSecurity
        if parsed.flags.contains("--plaintext") {
            security = .plaintext
        } else {
            let authority: Secp256k1SecretKey
            if let text = parsed.values["--authority-secret-key"]?.last {
                do {
                    authority = try AuthorityKeyText.secretKey(text)
                } catch {
                    throw ReplError("authority secret key: \(error)")
                }
            } else {
                var random = SystemRandom()
                authority = .generate(using: &random)
                print("generated an authority key for this session")
            }
            print("authority_public_key = \"\(AuthorityKeyText.encode(authority.xOnlyPublicKey))\"")
            security = .responder(Sv2ResponderIdentity(authoritySecretKey: authority))
        }
        close()
        let channel: Channel
        do {
            channel = try Sv2Connections.listen(
                host: host, port: port, group: group, configuration: Sv2TransportConfiguration(security: security),
                closesOnMalformedMessage: false
            ) { channel in
                self.print("accepted a connection from \(channel.peerDescription)")
                self.setPeer(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplPeerHandler(session: self, ready: nil))
                }
            }.wait()
        } catch {
            throw ReplError("cannot listen on \(host):\(port): \(error)")
        }
        condition.lock()
        server = channel
        condition.unlock()
        print("listening on \(channel.localAddress?.hostPortDescription ?? "?")")
    }

    private func currentPeer() throws -> Channel {
        condition.lock()
        defer { condition.unlock() }
        guard let peer, peer.isActive else { throw ReplError("not connected (connect, or listen and wait for a client)") }
        return peer
    }

    private func send(_ words: [String]) throws {
        let parsed = try Self.options(words, flags: [], valued: ["--tlv"])
        guard let name = parsed.positional.first else { throw ReplError("usage: send MESSAGE field=value ...") }
        let message: Sv2Message
        let tlvs: [Sv2TLV]
        do {
            message = try Sv2MessageInput.message(named: name, assignments: Array(parsed.positional.dropFirst()))
            tlvs = try (parsed.values["--tlv"] ?? []).map(Sv2MessageInput.tlv(text:))
        } catch {
            throw ReplError("\(error)")
        }
        try write(.message(message, tlvs: tlvs), describing: message.name)
    }

    private func raw(_ words: [String]) throws {
        let bytes = try InputReading.hexBytes(words.joined())
        guard let header = bytes.withUnsafeBytes({ Sv2FrameHeader($0) }) else { throw ReplError("a frame needs at least its 6-byte header") }
        let frame = Sv2Frame(
            extensionType: header.extensionType, isChannelMessage: header.isChannelMessage, messageType: header.messageType,
            payload: Array(bytes[Sv2FrameHeader.size...]))
        try write(.frame(frame), describing: "raw frame of \(bytes.count) bytes")
    }

    private func write(_ outbound: Sv2Outbound, describing what: String) throws {
        let peer = try currentPeer()
        do {
            try peer.writeAndFlush(outbound).wait()
        } catch {
            throw ReplError("sending \(what) failed: \(error)")
        }
        print(">> sent \(what)")
    }

    private func expect(_ words: [String]) throws {
        guard (1...2).contains(words.count) else { throw ReplError("usage: expect MESSAGE [SECONDS]") }
        let name: String
        do {
            name = try Sv2MessageRegistry.lookup(words[0]).name
        } catch {
            throw ReplError("\(error)")
        }
        let seconds = words.count == 2 ? Double(words[1]) ?? -1 : 10
        guard seconds >= 0 else { throw ReplError("usage: expect MESSAGE [SECONDS]") }
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let index = inbox.firstIndex(where: { $0.message.name == name }) {
                inbox.remove(at: index)
                return
            }
            guard condition.wait(until: deadline) else { throw ReplError("no \(name) within \(words.count == 2 ? words[1] : "10") s") }
        }
    }

    private func close() {
        condition.lock()
        let channels = [peer, server].compactMap { $0 }
        peer = nil
        server = nil
        inbox.removeAll()
        condition.unlock()
        for channel in channels { try? channel.close().wait() }
    }

    private func setPeer(_ channel: Channel) {
        condition.lock()
        peer = channel
        condition.unlock()
    }

    /// Called on the event loop for every frame received: printed as `sv2 decode` would, and kept for `expect`.
    fileprivate func received(_ frame: Sv2DecodedFrame) {
        print((["<< received " + (frame.textLines.first ?? "")] + frame.textLines.dropFirst()).joined(separator: "\n"))
        condition.lock()
        inbox.append(frame)
        condition.broadcast()
        condition.unlock()
    }

    /// Reports connection events.
    fileprivate func report(_ text: String) {
        print(text)
    }
}

/// Prints what arrives on a REPL connection and tells the session.
final class ReplPeerHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Sv2DecodedFrame

    private let session: ReplSession
    private let ready: EventLoopPromise<Void>?

    init(session: ReplSession, ready: EventLoopPromise<Void>?) {
        self.session = session
        self.ready = ready
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? Sv2TransportReady {
            if event.certificate != nil {
                let validity = event.certificate.map { " (certificate valid \($0.validFrom) to \($0.notValidAfter))" } ?? ""
                session.report("Noise handshake complete\(validity)")
            } else {
                session.report("connected in plaintext")
            }
            ready?.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session.received(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        session.report("error: \(error)")
        ready?.fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        session.report("connection with \(context.channel.peerDescription) closed")
        ready?.fail(Sv2NetworkError.closedDuringHandshake)
        context.fireChannelInactive()
    }
}
