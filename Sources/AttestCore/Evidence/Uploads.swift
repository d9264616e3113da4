import Foundation

/// One tus upload as the database knows it. Its bytes so far live in the upload directory; the offset is
/// the size of that file, so what was fsynced before an acknowledgement is exactly what a restart sees.
public struct StoredUpload: Equatable, Sendable {
    public enum State: String, Sendable {
        /// Receiving bytes.
        case open
        /// Every byte arrived, hashed, typed and sealed in the evidence store; waiting to be attached.
        case complete
        /// Attached to a report as evidence.
        case attached
        /// The content was refused (type not allowed, or not the hash the sender computed); nothing was kept.
        case rejected
        /// Not completed or not attached in time; its bytes were removed.
        case expired
    }

    public var id: String
    public var length: Int64
    public var source: EvidenceSource
    public var state: State
    public var senderSHA256: String?
    /// The client's `Upload-Metadata` header, echoed on HEAD as tus requires; kept only while the upload is
    /// pending (it may carry a file name) and cleared when it is attached, refused or expired.
    public var metadata: String?
    public var createdAt: Date
    public var expiresAt: Date
    public var completedAt: Date?
    public var sha256: String?
    public var sha512: String?
    public var mediaType: String?

    public init(
        id: String, length: Int64, source: EvidenceSource, state: State = .open, senderSHA256: String?,
        createdAt: Date, expiresAt: Date
    ) {
        self.id = id
        self.length = length
        self.source = source
        self.state = state
        self.senderSHA256 = senderSHA256
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// The completed upload, when it is complete.
    public var completed: CompletedUpload? {
        guard state == .complete, let sha256, let sha512, let mediaType, let completedAt else { return nil }
        return CompletedUpload(
            id: id, sha256: sha256, sha512: sha512, size: length, mediaType: mediaType, source: source,
            completedAt: completedAt, senderSHA256: senderSHA256)
    }
}

/// Writing uploads, within a unit of work.
public protocol UploadRepository: Sendable {
    /// Records a new upload (before its first byte is acknowledged).
    func insert(_ upload: StoredUpload) async throws
    /// Records that an open upload's bytes are sealed in the evidence store under its hashes (`complete`).
    func complete(
        id: String, sha256: String, sha512: String, mediaType: String, completedAt: Date, expiresAt: Date?
    ) async throws
    /// Moves an upload to `state` (rejected or expired), forgetting its metadata.
    func mark(id: String, as state: StoredUpload.State) async throws
    /// Forgets an upload (tus termination). Attached uploads stay: they are evidence.
    func delete(id: String) async throws
    /// Marks every open or complete-but-unattached upload whose time ran out at `now` as expired; returns them.
    func expire(now: Date) async throws -> [StoredUpload]
}

/// Reading uploads; writing goes through a unit of work (`UploadRepository`).
public protocol UploadStore: Transactional {
    /// The upload with `id`, or nil.
    func upload(id: String) async throws -> StoredUpload?
    /// Uploads still receiving bytes.
    func openUploads() async throws -> [StoredUpload]
    /// Whether a stored file is still needed: by evidence, or by an upload that may yet be attached.
    func isReferenced(sha256: String) async throws -> Bool
    /// Every stored file something still needs (the orphan sweep's one query).
    func referencedSHA256s() async throws -> Set<String>
}
