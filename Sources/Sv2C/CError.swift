import CSv2
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of a C entry point: the code it returns and the sentence `sv2_last_error_detail` gives.
struct CFailure: Error {
    /// The code returned to C.
    var code: sv2_error
    /// The detail sentence.
    var detail: String

    init(_ code: sv2_error, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}

/// The per-thread detail of the last failure: a malloc'd C string under a pthread key (freed when the thread ends
/// or the next failure replaces it).
private let detailKey: pthread_key_t? = {
    var key = pthread_key_t()
    return pthread_key_create(&key, { free($0) }) == 0 ? key : nil
}()

/// Records `detail` as this thread's last failure.
private func setDetail(_ detail: String) {
    guard let key = detailKey else { return }
    free(pthread_getspecific(key))
    pthread_setspecific(key, strdup(detail))
}

/// The detailed sentence of the last failure on this thread, "" when none.
@_cdecl("sv2_last_error_detail")
public func sv2_last_error_detail() -> UnsafePointer<CChar> {
    if let key = detailKey, let detail = pthread_getspecific(key) {
        return UnsafePointer(detail.assumingMemoryBound(to: CChar.self))
    }
    return emptyCString
}

/// A NUL-terminated empty string with static storage (never written: safe to share).
nonisolated(unsafe) private let emptyCString: UnsafePointer<CChar> = {
    let storage = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
    storage.initialize(to: 0)
    return UnsafePointer(storage)
}()

/// Runs the body of a C entry point: SV2_OK when it returns, the failure's code (with its detail recorded) when it
/// throws.
func cCall(_ body: () throws(CFailure) -> Void) -> sv2_error {
    do {
        try body()
        return SV2_OK
    } catch {
        setDetail(error.detail)
        return error.code
    }
}

/// Unwraps a pointer argument that must not be NULL.
func required<T>(_ pointer: T?, _ name: String) throws(CFailure) -> T {
    guard let pointer else { throw CFailure(SV2_ERR_INVALID_ARGUMENT, "\(name) must not be NULL") }
    return pointer
}

/// `len` bytes at `data` as an array (NULL is allowed for zero bytes).
func bytes(_ data: UnsafePointer<UInt8>?, _ len: Int, _ name: String) throws(CFailure) -> [UInt8] {
    guard len >= 0 else { throw CFailure(SV2_ERR_INVALID_ARGUMENT, "\(name): a length over the address space") }
    guard len > 0 else { return [] }
    let data = try required(data, name)
    return Array(UnsafeBufferPointer(start: data, count: len))
}

/// Copies `output` into the caller's buffer (out, capacity), setting *written; SV2_ERR_BUFFER_TOO_SMALL with the
/// size needed when it does not fit.
func deliver(_ output: [UInt8], _ out: UnsafeMutablePointer<UInt8>?, _ capacity: Int, _ written: UnsafeMutablePointer<Int>?) throws(CFailure) {
    let written = try required(written, "written")
    written.pointee = output.count
    guard output.count <= capacity else {
        throw CFailure(SV2_ERR_BUFFER_TOO_SMALL, "the output needs \(output.count) bytes, the buffer holds \(capacity)")
    }
    guard !output.isEmpty else { return }
    let out = try required(out, "out")
    _ = UnsafeMutableBufferPointer(start: out, count: output.count).update(fromContentsOf: output)
}

/// Copies exactly `value.count` bytes to a fixed-size output array argument.
func copy(_ value: [UInt8], to out: UnsafeMutablePointer<UInt8>?, _ name: String) throws(CFailure) {
    let out = try required(out, name)
    for (index, byte) in value.enumerated() { out[index] = byte }
}

/// A C string that lives for the process (for names handed out by the catalogue).
func immortalCString(_ text: String) -> UnsafePointer<CChar> {
    UnsafePointer(strdup(text) ?? UnsafeMutablePointer(mutating: emptyCString))
}
