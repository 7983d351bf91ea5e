#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Where the node keeps its blocks: an append-only file of records, or memory.
///
/// A record is Bitcoin Core's `blk*.dat` framing: the regtest message start `fa bf b5 da`, the block size as a
/// little-endian UInt32, the raw block (with witnesses). The first record is the genesis block, so the file can be
/// fed to Bitcoin Core's `-loadblock` as it is. Every append is followed by `fsync`.
final class BlockFile {
    /// The regtest message start that begins every record.
    static let magic: [UInt8] = [0xfa, 0xbf, 0xb5, 0xda]
    /// Bytes before a record's block: magic and size.
    static let recordHeaderSize = 8
    /// The largest block a record may hold (a 4,000,000 weight block is at most 4,000,000 bytes).
    static let maximumBlockSize = 4_000_000

    /// Name of the block file inside the datadir.
    static let blocksFileName = "blocks.dat"
    /// Name of the network marker file inside the datadir.
    static let networkFileName = "network"
    /// Name of the lock file inside the datadir.
    static let lockFileName = ".lock"

    /// The blocks file path, nil in memory.
    let path: String?
    /// (offset of the block bytes, length) of each record, by height.
    private(set) var records: [(offset: Int, length: Int)] = []
    /// Blocks kept in memory (memory mode only).
    private var memoryBlocks: [[UInt8]] = []
    /// The append descriptor of the file, -1 in memory or after close.
    private var descriptor: Int32 = -1
    /// The lock file descriptor, -1 when none.
    private var lockDescriptor: Int32 = -1
    /// End of the file (where the next record goes).
    private var end = 0

    /// A store in memory.
    init() {
        path = nil
    }

    /// What opening a datadir found: the raw blocks in order and a warning if a truncated last record was cut off.
    struct Contents {
        /// Each stored block's bytes, by height (genesis first).
        var blocks: [[UInt8]]
        /// Set when a partial record at the end (a crash while writing) was truncated away.
        var warning: String?
    }

    /// Opens (creating if needed) `datadir`: takes its lock, checks or writes the `network` marker, reads every record
    /// of `blocks.dat`, truncating a partial last record.
    init(datadir: String) throws(NodeError) {
        let directory = URL(fileURLWithPath: datadir)
        let blocksPath = directory.appendingPathComponent(BlockFile.blocksFileName).path
        path = blocksPath
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: datadir, isDirectory: &isDirectory) {
            do {
                try FileManager.default.createDirectory(atPath: datadir, withIntermediateDirectories: true)
            } catch {
                throw .unreadable(path: datadir, reason: "cannot create the directory: \(error.localizedDescription)")
            }
        } else if !isDirectory.boolValue {
            throw .unreadable(path: datadir, reason: "not a directory")
        }
        let lockPath = directory.appendingPathComponent(BlockFile.lockFileName).path
        lockDescriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockDescriptor >= 0 else { throw .unreadable(path: lockPath, reason: BlockFile.errnoText()) }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(lockDescriptor)
            lockDescriptor = -1
            throw .inUse(path: datadir)
        }
    }

    deinit {
        closeFile()
    }

    /// Reads and checks the marker and the records; creates both files in an empty datadir.
    func load(datadir: String) throws(NodeError) -> Contents {
        let directory = URL(fileURLWithPath: datadir)
        let markerPath = directory.appendingPathComponent(BlockFile.networkFileName).path
        guard let path else { return Contents(blocks: []) }
        let blocksExist = FileManager.default.fileExists(atPath: path)
        if let marker = FileManager.default.contents(atPath: markerPath) {
            let text = String(decoding: marker, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard text == "regtest" else { throw .foreignNetwork(path: markerPath, found: text) }
        } else if blocksExist {
            throw .missingNetworkMarker(path: datadir)
        } else {
            guard FileManager.default.createFile(atPath: markerPath, contents: Data("regtest\n".utf8)) else {
                throw .unwritable(path: markerPath, reason: "cannot create the network marker")
            }
        }
        var bytes = [UInt8]()
        if blocksExist {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .unreadable(path: path, reason: "cannot read the file")
            }
            bytes = [UInt8](data)
        }
        var blocks = [[UInt8]]()
        var offset = 0
        var warning: String?
        while offset < bytes.count {
            let remaining = bytes.count - offset
            // A record header or body cut short at the end of the file is a crash mid-append: cut it away.
            if remaining < BlockFile.recordHeaderSize {
                guard bytes[offset...].elementsEqual(BlockFile.magic.prefix(min(remaining, 4))) else {
                    throw .corrupt(path: path, offset: offset, reason: "bytes after the last record are not a record start")
                }
                warning = "block file \(path): removed a truncated record of \(remaining) bytes at offset \(offset) (interrupted write)"
                break
            }
            guard Array(bytes[offset..<offset + 4]) == BlockFile.magic else {
                throw .corrupt(path: path, offset: offset, reason: "record does not start with the regtest magic fabfb5da")
            }
            var length = 0
            for index in 0..<4 { length |= Int(bytes[offset + 4 + index]) << (8 * index) }
            guard length > 0, length <= BlockFile.maximumBlockSize else {
                throw .corrupt(path: path, offset: offset, reason: "record length \(length) is out of range")
            }
            let start = offset + BlockFile.recordHeaderSize
            if length > bytes.count - start {
                warning = "block file \(path): removed a truncated record at offset \(offset) (\(bytes.count - start) of \(length) bytes; interrupted write)"
                break
            }
            blocks.append(Array(bytes[start..<start + length]))
            records.append((start, length))
            offset = start + length
        }
        if warning != nil {
            guard truncate(path, off_t(offset)) == 0 else {
                throw .unwritable(path: path, reason: "cannot truncate the partial last record: \(BlockFile.errnoText())")
            }
        }
        end = offset
        descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .unwritable(path: path, reason: BlockFile.errnoText()) }
        if !blocksExist {
            // Make the new files' directory entries durable too.
            let directoryDescriptor = open(datadir, O_RDONLY | O_CLOEXEC)
            if directoryDescriptor >= 0 {
                _ = fsync(directoryDescriptor)
                close(directoryDescriptor)
            }
        }
        return Contents(blocks: blocks, warning: warning)
    }

    /// Appends a block and syncs it to disk.
    func append(_ block: [UInt8]) throws(NodeError) {
        guard let path else {
            memoryBlocks.append(block)
            records.append((0, block.count))
            return
        }
        guard descriptor >= 0 else { throw .unwritable(path: path, reason: "the node is closed") }
        var record = BlockFile.magic
        record.reserveCapacity(BlockFile.recordHeaderSize + block.count)
        for index in 0..<4 { record.append(UInt8(truncatingIfNeeded: block.count >> (8 * index))) }
        record += block
        var written = 0
        while written < record.count {
            let result = record.withUnsafeBytes { buffer in
                pwrite(descriptor, buffer.baseAddress! + written, record.count - written, off_t(end + written))
            }
            if result < 0 {
                if errno == EINTR { continue }
                let reason = BlockFile.errnoText()
                _ = ftruncate(descriptor, off_t(end))
                throw .unwritable(path: path, reason: reason)
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            let reason = BlockFile.errnoText()
            _ = ftruncate(descriptor, off_t(end))
            throw .unwritable(path: path, reason: "fsync failed: \(reason)")
        }
        records.append((end + BlockFile.recordHeaderSize, block.count))
        end += record.count
    }

    /// The bytes of the block at `height`, nil if there is none or it cannot be read.
    func read(height: Int) -> [UInt8]? {
        guard height >= 0, height < records.count else { return nil }
        guard let path else { return memoryBlocks[height] }
        let (offset, length) = records[height]
        let readDescriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard readDescriptor >= 0 else { return nil }
        defer { close(readDescriptor) }
        var bytes = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let result = bytes.withUnsafeMutableBytes { buffer in
                pread(readDescriptor, buffer.baseAddress! + done, length - done, off_t(offset + done))
            }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { return nil }
            done += result
        }
        return bytes
    }

    /// Total bytes stored (blocks and record headers).
    var sizeOnDisk: Int {
        path == nil ? records.reduce(0) { $0 + $1.length + BlockFile.recordHeaderSize } : end
    }

    /// Closes the file and releases the lock; later appends fail.
    func closeFile() {
        if descriptor >= 0 {
            _ = fsync(descriptor)
            close(descriptor)
            descriptor = -1
        }
        if lockDescriptor >= 0 {
            flock(lockDescriptor, LOCK_UN)
            close(lockDescriptor)
            lockDescriptor = -1
        }
    }

    /// The text of the current errno.
    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
