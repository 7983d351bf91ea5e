/// The fuzz targets of Sv2Fuzz. One process fuzzes or replays one target, chosen by name before the first input:
/// `--target=NAME` on the command line (libFuzzer ignores flags that start with `--`; the replay mode also takes
/// `--target NAME`), else the environment variable `SV2_FUZZ_TARGET`, else `frames`.
enum FuzzTarget: String, CaseIterable, Sendable {
    /// The plaintext stream frame decoder and the message decoder, with the re-encoding round trip.
    case frames
    /// The responder's handshake input (act 1 of any length) and the initiator's act 2 input.
    case handshake
    /// The encrypted stream frame decoder fed in chunks, and the encrypt-then-decode round trip.
    case noiseFrames = "noise-frames"

    /// The environment variable naming the target when no `--target` is given.
    static let environmentVariable = "SV2_FUZZ_TARGET"

    /// The target's name, as given to `--target` and used for its folders (Tests/Fuzz/NAME, fuzz-corpus/NAME).
    var name: String { rawValue }

    /// Every target's name, for messages.
    static var names: String { allCases.map(\.name).joined(separator: ", ") }

    /// Runs one input through the target; a property that does not hold stops the process with a message.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .frames: FramesFuzz.run(bytes)
        case .handshake: HandshakeFuzz.run(bytes)
        case .noiseFrames: NoiseFramesFuzz.run(bytes)
        }
    }

    /// Builds the target's fixed state (keys, certificate, warm-up) now rather than during the first input.
    func prepare() {
        switch self {
        case .frames: break
        case .handshake: HandshakeFuzz.prepare()
        case .noiseFrames: NoiseFramesFuzz.prepare()
        }
    }

    /// The target named by `--target=NAME` in `arguments` (the last one wins), else by `SV2_FUZZ_TARGET` in
    /// `environment`, else `frames`; nil when the name given is not a target's.
    static func selected(arguments: [String], environment: [String: String]) -> (name: String, target: FuzzTarget?) {
        let prefix = "--target="
        let name = arguments.last { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
            ?? environment[environmentVariable] ?? FuzzTarget.frames.name
        return (name, FuzzTarget(rawValue: name))
    }
}
