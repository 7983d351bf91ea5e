import Foundation

/// The target every input goes to: set once, before the first input (by ``fuzzInitialize(_:_:)`` under
/// libFuzzer, by the replay main otherwise), and only read afterwards.
nonisolated(unsafe) private(set) var activeTarget = FuzzTarget.frames

/// Selects the target named by `arguments` or the environment (see ``FuzzTarget``) and builds its fixed state;
/// exits with status 2, naming the targets, when the name is not a target's.
func selectTarget(_ arguments: [String]) {
    let (name, target) = FuzzTarget.selected(arguments: arguments, environment: ProcessInfo.processInfo.environment)
    guard let target else {
        FileHandle.standardError.write(Data("unknown fuzz target '\(name)' (targets: \(FuzzTarget.names))\n".utf8))
        exit(2)
    }
    activeTarget = target
    target.prepare()
}

/// libFuzzer's initialisation hook, called once with the command line before any input: selects the target.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    let arguments = (0..<Int(argc.pointee)).compactMap { index in argv.pointee?[index].map { String(cString: $0) } }
    selectTarget(arguments)
    FileHandle.standardError.write(Data("Sv2Fuzz: target \(activeTarget.name)\n".utf8))
    return 0
}

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    activeTarget.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if !SV2_LIBFUZZER
/// In a normal build, replays inputs through one target: `Sv2Fuzz [--target NAME] PATH...`, each PATH a file or a
/// folder of files (such as Tests/Fuzz/NAME/seeds and Tests/Fuzz/NAME/regressions, the inputs the fuzzer once
/// failed on). Built with `-DSV2_LIBFUZZER --sanitize=fuzzer` (scripts/fuzz) there is no main here: libFuzzer's
/// own main drives `LLVMFuzzerTestOneInput`.
@main
enum FuzzMain {
    /// Replays the files and folders the command line names through the selected target.
    static func main() {
        var targetArguments = [String]()
        var paths = [String]()
        var arguments = CommandLine.arguments.dropFirst()
        while let argument = arguments.popFirst() {
            if argument == "--target" {
                guard let name = arguments.popFirst() else { fail("--target needs a name (targets: \(FuzzTarget.names))") }
                targetArguments.append("--target=\(name)")
            } else if argument.hasPrefix("--target=") {
                targetArguments.append(argument)
            } else {
                paths.append(argument)
            }
        }
        selectTarget(targetArguments)
        var count = 0
        for path in paths.flatMap(inputFiles) {
            guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
            FileHandle.standardError.write(Data("Running: \(path)\n".utf8))
            activeTarget.run(Array(data))
            count += 1
        }
        print("replayed \(count) \(activeTarget.name) input\(count == 1 ? "" : "s") without a failure")
    }

    /// The files a path names: itself, or the files of a folder in name order.
    static func inputFiles(_ path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return [path] }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { fail("cannot list \(path)") }
        return names.sorted().map { "\(path)/\($0)" }.filter { file in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: file, isDirectory: &isFolder) && !isFolder.boolValue
        }
    }

    /// Stops with `message` on standard error and status 2.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
        exit(2)
    }
}
#endif
