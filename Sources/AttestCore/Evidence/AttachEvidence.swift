import Foundation

/// An upload whose last byte has arrived, been hashed, typed and sealed in the store, waiting to be attached.
public struct CompletedUpload: Equatable, Sendable {
    /// The upload's id: 128 random bits, hex. Knowing it is what lets a sender attach it.
    public var id: String
    public var sha256: String
    public var sha512: String
    public var size: Int64
    public var mediaType: String
    public var source: EvidenceSource
    /// When the last byte arrived (whole seconds).
    public var completedAt: Date
    /// The SHA-256 the sender's device computed, if it sent one (the server checked it matches).
    public var senderSHA256: String?

    public init(
        id: String, sha256: String, sha512: String, size: Int64, mediaType: String, source: EvidenceSource,
        completedAt: Date, senderSHA256: String? = nil
    ) {
        self.id = id
        self.sha256 = sha256
        self.sha512 = sha512
        self.size = size
        self.mediaType = mediaType
        self.source = source
        self.completedAt = completedAt
        self.senderSHA256 = senderSHA256
    }
}

/// A file attached to a report, with the custody entry that recorded it.
public struct AttachedEvidence: Equatable, Sendable {
    public var item: EvidenceItem
    public var custody: CustodyReceipt

    public init(item: EvidenceItem, custody: CustodyReceipt) {
        self.item = item
        self.custody = custody
    }
}

/// Writing evidence, within a unit of work.
public protocol EvidenceRepository: Sendable {
    /// How many files, and how many bytes, are attached to a report.
    func totals(of report: Identifier<Report>) async throws -> (count: Int, bytes: Int64)
    /// Marks a completed, unattached, unexpired upload as attached to `report` and returns it; throws
    /// `EvidenceError` otherwise.
    func claimUpload(_ id: String, for report: Identifier<Report>) async throws -> CompletedUpload
    /// Stores a new evidence item.
    func insert(_ evidence: EvidenceItem) async throws
}

/// Attaches completed uploads to a report inside a unit of work: each becomes an evidence item with its
/// `evidence.ingested` entry, in the same transaction, within the report's file and byte limits.
public enum EvidenceAttachment {
    /// Most uploads named in one request (a bound on work before any limit is checked).
    public static let maxUploadsPerRequest = 100

    public static func attach(
        _ uploadIDs: [String], to report: Identifier<Report>, actor: String, limits: EvidenceLimits,
        random: any RandomSource, in unit: any UnitOfWork
    ) async throws -> [AttachedEvidence] {
        var seen = Set<String>()
        let unique = uploadIDs.filter { seen.insert($0).inserted }
        guard !unique.isEmpty else { return [] }
        let existing = try await unit.evidence.totals(of: report)
        guard unique.count <= maxUploadsPerRequest, existing.count + unique.count <= limits.filesPerReportMax else {
            throw EvidenceError.tooManyFiles(limit: limits.filesPerReportMax)
        }
        var bytes = existing.bytes
        var attached: [AttachedEvidence] = []
        for id in unique {
            let upload = try await unit.evidence.claimUpload(id, for: report)
            bytes += upload.size
            guard bytes <= limits.totalBytesPerReportMax else {
                throw EvidenceError.reportTooLarge(limit: limits.totalBytesPerReportMax)
            }
            let item = EvidenceItem(
                id: Identifier(random.uuid()), reportID: report, uploadID: upload.id, sha256: upload.sha256,
                sha512: upload.sha512,
                size: upload.size, mediaType: upload.mediaType, source: upload.source, receivedAt: upload.completedAt,
                senderSHA256: upload.senderSHA256
            )
            try await unit.evidence.insert(item)
            let custody = try await unit.custodyLog.append(item.ingestedEvent(actor: actor))
            attached.append(AttachedEvidence(item: item, custody: custody))
        }
        return attached
    }
}

/// A reporter adds files to their report through `/follow-up`.
public struct AddEvidence: Sendable {
    public var store: any ReportStore
    public var random: any RandomSource
    public var limits: EvidenceLimits

    public init(store: any ReportStore, random: any RandomSource, limits: EvidenceLimits) {
        self.store = store
        self.random = random
        self.limits = limits
    }

    public func execute(reference: ReportReference, code: FollowUpCode, uploads: [String]) async throws
        -> [AttachedEvidence]
    {
        let report = try await ViewReportStatus.authenticate(store: store, reference: reference, code: code)
        let limits = self.limits
        let random = self.random
        return try await store.transaction { unit in
            try await EvidenceAttachment.attach(
                uploads, to: report.id, actor: "public", limits: limits, random: random, in: unit)
        }
    }
}
