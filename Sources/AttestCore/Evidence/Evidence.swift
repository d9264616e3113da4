import Foundation

/// Where a piece of evidence came from.
public enum EvidenceSource: String, Codable, Sendable, CaseIterable {
    /// A resident, through a resumable (tus) upload.
    case publicUpload = "public-upload"
    /// A resident, through the report form's plain file field (no JavaScript).
    case publicForm = "public-form"
    /// Staff, attaching records to a case file.
    case staff
}

/// A sealed original attached to a report: named by its content, never modified.
public struct EvidenceItem: Equatable, Sendable {
    public var id: Identifier<EvidenceItem>
    public var reportID: Identifier<Report>
    /// The upload it arrived through.
    public var uploadID: String
    /// Lower-case hex SHA-256 of the file: its name in the store and the hash its custody entry carries.
    public var sha256: String
    /// Lower-case hex SHA-512 of the file, a second independent digest for court.
    public var sha512: String
    public var size: Int64
    /// The media type detected from the content.
    public var mediaType: String
    public var source: EvidenceSource
    /// When the last byte arrived.
    public var receivedAt: Date
    /// The SHA-256 the sender's device computed, when it sent one (it matched, or the upload was refused).
    public var senderSHA256: String?

    public init(
        id: Identifier<EvidenceItem>, reportID: Identifier<Report>, uploadID: String, sha256: String, sha512: String,
        size: Int64,
        mediaType: String, source: EvidenceSource, receivedAt: Date, senderSHA256: String? = nil
    ) {
        self.id = id
        self.reportID = reportID
        self.uploadID = uploadID
        self.sha256 = sha256
        self.sha512 = sha512
        self.size = size
        self.mediaType = mediaType
        self.source = source
        self.receivedAt = receivedAt
        self.senderSHA256 = senderSHA256
    }

    /// The custody log's name for this item.
    public var recordID: String { "evidence:\(id)" }

    /// The `evidence.ingested` event: the file's SHA-256, its size, detected type and source, and the time
    /// it was received. Never the file, its name or its metadata.
    public func ingestedEvent(actor: String) -> CustodyEvent {
        CustodyEvent(
            kind: .evidenceIngested, occurredAt: receivedAt, actor: actor, recordID: recordID, contentHash: sha256,
            details: .init(size: size, mediaType: mediaType, source: source.rawValue)
        )
    }
}

/// Every evidence limit. Each has a documented default and a configuration variable.
public struct EvidenceLimits: Equatable, Sendable {
    /// Largest file, in bytes (default 4 GiB).
    public var maxFileBytes: Int64 = 4 << 30
    /// Most files attached to one report.
    public var filesPerReportMax = 20
    /// Most bytes attached to one report, all files together (default 16 GiB).
    public var totalBytesPerReportMax: Int64 = 16 << 30
    /// How long an upload may stay incomplete, in seconds (default 24 hours).
    public var uploadExpirySeconds = 24 * 3600
    /// How long a completed upload may wait to be attached to a report, in seconds (default 1 hour): files of a
    /// form that was refused, or that nobody names, do not hold disk space for a day.
    public var unattachedExpirySeconds = 3600
    /// How long an open upload's declared bytes stay promised without any byte arriving, in seconds (default 600).
    public var openPromiseSeconds = 600
    /// Most bytes one client may have declared for uploads still open (default 16 GiB, one report's worth).
    public var openBytesPerClientMax: Int64 = 16 << 30
    /// Free disk space under which new uploads are refused with 507 (default 1 GiB).
    public var freeDiskFloorBytes: Int64 = 1 << 30
    /// Largest file the browser hashes with WebCrypto before uploading (WebCrypto hashes whole buffers only).
    public var browserHashMaxBytes: Int64 = 256 << 20
    /// What the content may be.
    public var allowList = EvidenceAllowList.all

    public init() {}
}

/// The reasons evidence is refused, for the error mapping.
public enum EvidenceError: Error, Equatable, Sendable {
    case typeNotAllowed(detected: String?)
    case tooLarge(limit: Int64)
    case tooManyFiles(limit: Int)
    case reportTooLarge(limit: Int64)
    case senderHashMismatch
    case uploadNotFound
    case uploadNotComplete
    case uploadAlreadyAttached
    case uploadExpired
    case diskFull
    /// The client's open uploads already declare this many bytes.
    case tooMuchOpen(limit: Int64)
}
