import NIOCore

/// Splits what a benchmark socket reads into newline-terminated lines without copying them: only the unfinished
/// line at the end of a read is kept (copied, so the read buffer is not held), and at most `limit` bytes of it.
struct BenchLineSplitter {
    private var partial: ByteBuffer?
    private let limit: Int

    /// A splitter keeping at most `limit` bytes of an unfinished line.
    init(limit: Int = 16_384) {
        self.limit = limit
    }

    /// Calls `body` with each complete line of `buffer` (after what earlier reads left), without its newline.
    /// Returns false when an unfinished line is longer than the limit: close the connection.
    mutating func forEachLine(in buffer: ByteBuffer, _ body: (ByteBufferView) -> Void) -> Bool {
        var input = buffer
        if var partial {
            partial.writeImmutableBuffer(buffer)
            input = partial
            self.partial = nil
        }
        while let newline = input.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            body(input.readableBytesView[input.readerIndex..<newline])
            input.moveReaderIndex(to: newline + 1)
        }
        guard input.readableBytes > 0 else { return true }
        guard input.readableBytes <= limit else { return false }
        partial = ByteBuffer(bytes: input.readableBytesView)
        return true
    }
}

extension ByteBufferView {
    /// True when the view ends with `suffix`.
    func hasSuffix(_ suffix: [UInt8]) -> Bool {
        count >= suffix.count && self[index(endIndex, offsetBy: -suffix.count)...].elementsEqual(suffix)
    }
}
