import AttestCore
import AttestPersistence
import Crypto
import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// The bytes of an upload in progress: `<data>/uploads/<id>.part`, written at explicit offsets and fsynced
/// before any offset is acknowledged. Its size is the upload's offset.
final class PartFile: @unchecked Sendable {
    let url: URL
    private let descriptor: Int32

    enum Error: Swift.Error, CustomStringConvertible {
        case system(String, Int32)
        var description: String {
            switch self {
            case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
            }
        }
    }

    private init(url: URL, descriptor: Int32) {
        self.url = url
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// A new, empty part file (owner-only).
    static func create(at url: URL) throws -> PartFile {
        let descriptor = Glibc.open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Error.system("open", errno) }
        return PartFile(url: url, descriptor: descriptor)
    }

    /// An existing part file, for appending.
    static func openExisting(at url: URL) throws -> PartFile {
        let descriptor = Glibc.open(url.path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { throw Error.system("open", errno) }
        return PartFile(url: url, descriptor: descriptor)
    }

    /// The size of the part file at `url`, or nil when there is none.
    static func size(at url: URL) -> Int64? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    func size() throws -> Int64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Error.system("fstat", errno) }
        return Int64(info.st_size)
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var written = 0
        while written < bytes.count {
            let count = pwrite(
                descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(offset) + off_t(written))
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw Error.system("pwrite", errno) }
            written += count
        }
    }

    /// Starts writing `[offset, offset + count)` to disk without waiting (Linux `sync_file_range`), so the final
    /// fdatasync of a large upload has little left to do and the disk works while the hashes are computed.
    func startWriteback(offset: Int64, count: Int) {
        #if os(Linux)
            _ = attest_sync_file_range(descriptor, offset, Int64(count), 2)  // SYNC_FILE_RANGE_WRITE
        #endif
    }

    func truncate(to size: Int64) throws {
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw Error.system("ftruncate", errno) }
    }

    func sync() throws {
        guard fdatasync(descriptor) == 0 else { throw Error.system("fdatasync", errno) }
    }

    /// Reads the whole file in chunks (to rebuild hashes after a restart).
    static func read(_ url: URL, chunkSize: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try FileEvidenceStore.read(path: url.path, chunkSize: chunkSize, body)
    }

    /// The first `count` bytes of the file at `url`.
    static func prefix(of url: URL, count: Int) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        return Array(try handle.read(upToCount: count) ?? Data())
    }
}

/// The running digests of one upload: SHA-256 and SHA-512 of every byte so far, kept between PATCH requests
/// so a resumed upload does not re-read what it already hashed. Two boxes, so the two hashes of a block can run
/// on two threads at once.
final class UploadDigests: @unchecked Sendable {
    final class Box<Hash: HashFunction>: @unchecked Sendable {
        var hash: Hash
        init(_ hash: Hash) { self.hash = hash }
    }

    let sha256 = Box(SHA256())
    let sha512 = Box(SHA512())
    /// How many bytes the digests cover.
    var count: Int64 = 0

    /// Copies, to roll back a chunk that failed its checksum.
    func snapshot() -> (SHA256, SHA512, Int64) { (sha256.hash, sha512.hash, count) }

    func restore(_ snapshot: (SHA256, SHA512, Int64)) {
        (sha256.hash, sha512.hash, count) = snapshot
    }

    func finalize() -> (sha256: String, sha512: String) {
        (ContentHash.hex(sha256.hash.finalize()), ContentHash.hex(sha512.hash.finalize()))
    }

    /// Digests of the file at `url` from its first byte (after a restart, or when two processes shared it).
    static func rebuild(from url: URL, pool: NIOThreadPool) async throws -> UploadDigests {
        let digests = UploadDigests()
        try await pool.runIfActive {
            try PartFile.read(url, chunkSize: 1 << 20) { bytes in
                digests.sha256.hash.update(bufferPointer: bytes)
                digests.sha512.hash.update(bufferPointer: bytes)
                digests.count += Int64(bytes.count)
            }
        }
        return digests
    }
}

#if os(Linux)
    /// glibc's `sync_file_range(2)`, which the Glibc module does not import.
    @_silgen_name("sync_file_range")
    private func attest_sync_file_range(_ fd: Int32, _ offset: Int64, _ count: Int64, _ flags: UInt32) -> Int32
#endif
