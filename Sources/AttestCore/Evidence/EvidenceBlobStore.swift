import Foundation

/// Where sealed originals live, named by their SHA-256. The filesystem implementation keeps them in the data
/// directory; the port is shaped so that an S3-compatible object store can implement it (whole-object puts
/// of a finished local file, streamed reads, no in-place changes).
public protocol EvidenceBlobStore: Sendable {
    /// Seals a finished, fsynced local file under `sha256`, consuming it: the file is moved into the store, or
    /// discarded when identical content is already stored. Returns whether new content was stored.
    func seal(file: URL, sha256: String) async throws -> Bool
    /// The stored size of `sha256`, or nil when absent.
    func size(sha256: String) async throws -> Int64?
    /// Streams the stored bytes of `sha256` to `body`, in chunks of at most `chunkSize` bytes.
    func read(sha256: String, chunkSize: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) async throws
    /// Stores capture metadata (JSON) beside the original; never published.
    func setMetadata(_ json: Data, sha256: String) async throws
    /// The capture metadata stored beside `sha256`, if any.
    func metadata(sha256: String) async throws -> Data?
    /// Removes unreferenced content (the caller checked nothing refers to it).
    func remove(sha256: String) async throws
    /// Every SHA-256 stored before `cutoff` (for the orphan sweep, which leaves recent content alone: another
    /// process may have sealed it a moment ago and not yet recorded it).
    func all(storedBefore cutoff: Date) async throws -> [String]
    /// The stored original as a local file that tools may read (exiftool), or nil for a store without one.
    func localFile(sha256: String) -> URL?
}

extension EvidenceBlobStore {
    /// SHA-256, SHA-512 and size of stored content, streamed.
    public func digests(sha256: String) async throws -> (sha256: String, sha512: String, size: Int64) {
        var hasher = FileHasher()
        try await read(sha256: sha256, chunkSize: 1 << 20) { hasher.update($0) }
        return hasher.finalize()
    }
}
