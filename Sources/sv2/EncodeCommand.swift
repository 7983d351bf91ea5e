import ArgumentParser
import Foundation
import Sv2Binary
import Sv2Formats
import Sv2Messages

/// `sv2 encode`: a message name and fields to a hex frame.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Build an Sv2 frame from a message name and its fields.",
        discussion: """
            Fields are given as field=value with the spec's snake_case names, every field exactly once: integers in \
            decimal or 0x hex, BOOL as true/false, U256 and byte arrays as hex in wire order, F32 as a decimal, \
            OPTION[U32] as a number or none, sequences as comma-separated values. With --json the input is the \
            JSON that `sv2 decode --json` prints (one object per frame, given inline, as a file, or - for standard \
            input). Prints each frame as one line of hex, or the raw bytes with --raw. --list shows every message \
            and its fields.

            Example: sv2 encode SetupConnection protocol=0 min_version=2 max_version=2 flags=0 \
            endpoint_host=pool.example endpoint_port=3333 vendor=x hardware_version=y firmware=z device_id=d
            """
    )

    @Argument(help: ArgumentHelp("The message name, then field=value for each of its fields.", valueName: "message-and-fields"))
    var words: [String] = []

    @Option(name: .customLong("json"), help: ArgumentHelp("JSON input: an object, a file name, or - for standard input.", valueName: "json|file|-"))
    var jsonInput: String?

    @Option(help: ArgumentHelp("Append a TLV field (repeatable).", valueName: "ext:field:hex"))
    var tlv: [String] = []

    @Flag(help: "Write the frame bytes instead of hex.")
    var raw = false

    @Flag(help: "List the messages and their fields, then exit.")
    var list = false

    func validate() throws {
        if jsonInput != nil && !words.isEmpty {
            throw ValidationError("give either --json or a message name with fields, not both")
        }
    }

    func run() throws {
        if !list && jsonInput == nil && words.isEmpty {
            // Checked here rather than in validate(), which runs before unknown options are reported.
            FileHandle.standardError.write(Data("""
                Error: name a message (sv2 encode --list shows them) or give --json
                Usage: sv2 \(Self.usageString())
                  See 'sv2 encode --help' for more information.

                """.utf8))
            throw ExitCode.validationFailure
        }
        if list {
            printList()
            return
        }
        var frames = [[UInt8]]()
        do {
            if let jsonInput {
                for value in try jsonValues(jsonInput) {
                    let (message, tlvs) = try Sv2MessageInput.message(json: value)
                    frames.append(try message.encodedFrame(tlvs: tlvs + tlv.map(Sv2MessageInput.tlv(text:))))
                }
            } else {
                let name = words.first ?? ""
                let message = try Sv2MessageInput.message(named: name, assignments: Array(words.dropFirst()))
                frames.append(try message.encodedFrame(tlvs: tlv.map(Sv2MessageInput.tlv(text:))))
            }
        } catch let error as CommandFailure {
            throw error
        } catch {
            throw CommandFailure("\(error)")
        }
        if raw {
            FileHandle.standardOutput.write(Data(frames.joined()))
        } else {
            for frame in frames { print(Hex.encode(frame)) }
        }
    }

    private func jsonValues(_ input: String) throws -> [JSONValue] {
        let text: String
        if input == "-" {
            text = InputReading.standardInput()
        } else if let first = input.drop(while: { $0 == " " || $0 == "\n" }).first, first == "{" || first == "[" {
            text = input
        } else {
            text = try InputReading.file(input)
        }
        let values = try JSONValue.parseAll(text)
        guard !values.isEmpty else { throw CommandFailure("no JSON object in the input") }
        return values
    }

    private func printList() {
        for type in Sv2Message.allPayloadTypes {
            let fields = Sv2FieldCollector.fields(of: type.init()).map { "\($0.name):\($0.value.typeName)" }
            let ids = "ext 0x\(String(type.extensionType, radix: 16)) type 0x\(String(type.messageType, radix: 16))"
            print("\(type.name) (\(ids)\(type.isChannelMessage ? ", channel_msg" : "")): \(fields.joined(separator: " "))")
        }
    }
}
