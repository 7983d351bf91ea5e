import Foundation

/// Heap allocation counts for `sv2 bench codec`, from the `libsv2alloccount.so` product preloaded into the
/// process (the shipping binary never replaces glibc's allocator).
///
/// The counter's functions are looked up at run time; when they are absent, ``preloadOrContinue()`` re-executes
/// the same command with `LD_PRELOAD` naming the library next to this executable, and when that library is missing
/// too the figures are reported as unavailable.
struct AllocationCounter {
    private typealias Start = @convention(c) () -> Void
    private typealias Stop = @convention(c) () -> UInt

    private let start: Start
    private let stop: Stop

    /// The library's file name, as `swift build` makes it from the `sv2alloccount` product.
    static let libraryName = "libsv2alloccount.so"
    private static let marker = "SV2_ALLOC_COUNTER_PRELOADED"

    /// The counter when the library is loaded in this process, else nil.
    static func loaded() -> AllocationCounter? {
        guard let handle = dlopen(nil, RTLD_NOW),
              let start = dlsym(handle, "sv2_alloc_counter_start"), let stop = dlsym(handle, "sv2_alloc_counter_stop")
        else { return nil }
        return AllocationCounter(start: unsafeBitCast(start, to: Start.self), stop: unsafeBitCast(stop, to: Stop.self))
    }

    /// Re-executes this process with the counter preloaded when it is not loaded yet and the library sits next to
    /// the executable (returns only when it does not re-execute); the environment marks the second run so that it
    /// cannot loop.
    static func preloadOrContinue() {
        guard loaded() == nil, ProcessInfo.processInfo.environment[marker] == nil else { return }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let library = executable.deletingLastPathComponent().appendingPathComponent(libraryName).path
        guard FileManager.default.isReadableFile(atPath: library) else { return }
        setenv("LD_PRELOAD", library, 1)
        setenv(marker, "1", 1)
        let arguments = CommandLine.arguments
        var pointers = arguments.map { strdup($0) } + [nil]
        execv(executable.path, &pointers)
        // Only reached when execv failed: go on without counts.
        unsetenv("LD_PRELOAD")
    }

    /// Heap allocations per call of `body`, counted on this thread over `iterations` calls.
    func allocationsPerCall(iterations: Int = 1000, _ body: () -> Void) -> Double {
        body()
        start()
        for _ in 0..<iterations { body() }
        return Double(stop()) / Double(iterations)
    }
}
