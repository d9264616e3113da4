import AttestCore
import FluentKit
import FluentSQL
import Foundation

struct UploadRow: Decodable {
    var id: String
    var length: Int64
    var source: String
    var state: String
    var sender_sha256: String?
    var metadata: String?
    var created_at: Date
    var expires_at: Date
    var completed_at: Date?
    var sha256: String?
    var sha512: String?
    var media_type: String?

    func stored() throws -> StoredUpload {
        guard let source = EvidenceSource(rawValue: source), let state = StoredUpload.State(rawValue: state) else {
            throw PersistenceError.corruptRow("uploads \(id)")
        }
        var upload = StoredUpload(
            id: id, length: length, source: source, state: state, senderSHA256: sender_sha256, createdAt: created_at,
            expiresAt: expires_at)
        upload.completedAt = completed_at
        upload.metadata = metadata
        upload.sha256 = sha256
        upload.sha512 = sha512
        upload.mediaType = media_type
        return upload
    }
}

struct EvidenceRow: Decodable {
    var id: UUID
    var report_id: UUID
    var upload_id: String
    var sha256: String
    var sha512: String
    var size: Int64
    var media_type: String
    var source: String
    var received_at: Date
    var sender_sha256: String?

    func item() throws -> EvidenceItem {
        guard let source = EvidenceSource(rawValue: source) else { throw PersistenceError.corruptRow("evidence \(id)") }
        return EvidenceItem(
            id: Identifier(id), reportID: Identifier(report_id), uploadID: upload_id, sha256: sha256, sha512: sha512,
            size: size,
            mediaType: media_type, source: source, receivedAt: received_at, senderSHA256: sender_sha256)
    }
}

/// Uploads, written in a unit of work.
struct FluentUploadRepository: UploadRepository {
    let unit: FluentUnitOfWork

    func insert(_ upload: StoredUpload) async throws {
        try await unit.connection().insert(into: "uploads")
            .columns("id", "length", "source", "state", "sender_sha256", "metadata", "created_at", "expires_at")
            .values(
                SQLBind(upload.id), SQLBind(upload.length), SQLBind(upload.source.rawValue),
                SQLBind(upload.state.rawValue), SQLBind(upload.senderSHA256), SQLBind(upload.metadata),
                SQLBind(upload.createdAt), SQLBind(upload.expiresAt)
            ).run()
    }

    func complete(
        id: String, sha256: String, sha512: String, mediaType: String, completedAt: Date, expiresAt: Date?
    ) async throws {
        var update = try await unit.connection().update("uploads")
        if let expiresAt { update = update.set("expires_at", to: SQLBind(expiresAt)) }
        try await update
            .set("state", to: SQLBind(StoredUpload.State.complete.rawValue))
            .set("sha256", to: SQLBind(sha256)).set("sha512", to: SQLBind(sha512))
            .set("media_type", to: SQLBind(mediaType)).set("completed_at", to: SQLBind(completedAt))
            .where("id", .equal, SQLBind(id)).where("state", .equal, SQLBind(StoredUpload.State.open.rawValue))
            .run()
    }

    func mark(id: String, as state: StoredUpload.State) async throws {
        try await unit.connection().update("uploads").set("state", to: SQLBind(state.rawValue))
            .set("metadata", to: SQLLiteral.null).where("id", .equal, SQLBind(id)).run()
    }

    func delete(id: String) async throws {
        try await unit.connection().delete(from: "uploads").where("id", .equal, SQLBind(id))
            .where("state", .notEqual, SQLBind(StoredUpload.State.attached.rawValue)).run()
    }

    func expire(now: Date) async throws -> [StoredUpload] {
        let due = try await unit.connection().select().column("*").from("uploads")
            .where("expires_at", .lessThan, SQLBind(now))
            .where("state", .in, [StoredUpload.State.open.rawValue, StoredUpload.State.complete.rawValue])
            .all(decoding: UploadRow.self).map { try $0.stored() }
        for upload in due { try await mark(id: upload.id, as: .expired) }
        return due
    }
}

extension FluentReportStore: UploadStore {
    /// The upload with `id`, or nil.
    public func upload(id: String) async throws -> StoredUpload? {
        try await sql.select().column("*").from("uploads").where("id", .equal, SQLBind(id))
            .first(decoding: UploadRow.self)?.stored()
    }

    /// Uploads still receiving bytes.
    public func openUploads() async throws -> [StoredUpload] {
        try await sql.select().column("*").from("uploads")
            .where("state", .equal, SQLBind(StoredUpload.State.open.rawValue))
            .all(decoding: UploadRow.self).map { try $0.stored() }
    }

    /// Whether a stored file is still needed: by evidence, or by an upload that may yet be attached.
    public func isReferenced(sha256: String) async throws -> Bool {
        struct Row: Decodable { var found: Int64 }
        let query: SQLQueryString = """
            SELECT 1 AS found FROM evidence WHERE sha256 = \(bind: sha256)
            UNION ALL SELECT 1 AS found FROM uploads WHERE sha256 = \(bind: sha256) AND state IN ('complete', 'attached')
            """
        return try await sql.raw(query).first(decoding: Row.self) != nil
    }

    /// Every stored file something still needs (the orphan sweep's one query).
    public func referencedSHA256s() async throws -> Set<String> {
        struct Row: Decodable { var sha256: String }
        let rows = try await sql.raw(
            """
            SELECT sha256 FROM evidence UNION
            SELECT sha256 FROM uploads WHERE state IN ('complete', 'attached') AND sha256 IS NOT NULL
            """
        ).all(decoding: Row.self)
        return Set(rows.map(\.sha256))
    }

    public func evidence(of report: Identifier<Report>) async throws -> [EvidenceItem] {
        try await sql.select().column("*").from("evidence").where("report_id", .equal, SQLBind(report.rawValue))
            .orderBy("received_at").all(decoding: EvidenceRow.self).map { try $0.item() }
    }

    /// The evidence item with `id`, or nil.
    public func evidenceItem(id: Identifier<EvidenceItem>) async throws -> EvidenceItem? {
        try await sql.select().column("*").from("evidence").where("id", .equal, SQLBind(id.rawValue))
            .first(decoding: EvidenceRow.self)?.item()
    }

    /// Every custody entry naming `recordID`, oldest first: an evidence item's custody history.
    public func custodyHistory(of recordID: String) async throws -> [(index: Int64, entry: String)] {
        struct Row: Decodable {
            var entry_index: Int64
            var entry: String
        }
        return try await sql.select().columns("entry_index", "entry").from("custody_entries")
            .where("record_id", .equal, SQLBind(recordID)).orderBy("entry_index")
            .all(decoding: Row.self).map { ($0.entry_index, $0.entry) }
    }
}

/// Evidence items and the uploads they claim, written in a unit of work.
struct FluentEvidenceRepository: EvidenceRepository {
    let unit: FluentUnitOfWork

    func totals(of report: Identifier<Report>) async throws -> (count: Int, bytes: Int64) {
        struct Row: Decodable {
            var count: Int64
            var bytes: Int64?
        }
        let row = try await unit.connection().raw(
            "SELECT COUNT(*) AS count, SUM(size) AS bytes FROM evidence WHERE report_id = \(bind: report.rawValue)"
        ).first(decoding: Row.self)
        return (Int(row?.count ?? 0), row?.bytes ?? 0)
    }

    func claimUpload(_ id: String, for report: Identifier<Report>) async throws -> CompletedUpload {
        let sql = try await unit.connection()
        // Conditional on the state, so two requests (or processes) can never attach one upload twice: the
        // second finds no `complete` row once the first has committed.
        let claimed = try await sql.raw(
            """
            UPDATE uploads SET state = 'attached', report_id = \(bind: report.rawValue), metadata = NULL
            WHERE id = \(bind: id) AND state = 'complete' RETURNING *
            """
        ).first(decoding: UploadRow.self)?.stored()
        if let claimed {
            var upload = claimed
            upload.state = .complete
            guard let completed = upload.completed else { throw PersistenceError.corruptRow("uploads \(id)") }
            return completed
        }
        struct StateRow: Decodable { var state: String }
        let existing = try await sql.select().column("state").from("uploads").where("id", .equal, SQLBind(id))
            .first(decoding: StateRow.self)?.state
        switch existing.flatMap(StoredUpload.State.init(rawValue:)) {
        case .open: throw EvidenceError.uploadNotComplete
        case .attached: throw EvidenceError.uploadAlreadyAttached
        case .expired: throw EvidenceError.uploadExpired
        case .rejected, .complete, nil: throw EvidenceError.uploadNotFound
        }
    }

    func insert(_ evidence: EvidenceItem) async throws {
        try await unit.connection().insert(into: "evidence")
            .columns(
                "id", "report_id", "upload_id", "sha256", "sha512", "size", "media_type", "source", "received_at",
                "sender_sha256"
            )
            .values(
                SQLBind(evidence.id.rawValue), SQLBind(evidence.reportID.rawValue), SQLBind(evidence.uploadID),
                SQLBind(evidence.sha256), SQLBind(evidence.sha512), SQLBind(evidence.size),
                SQLBind(evidence.mediaType), SQLBind(evidence.source.rawValue), SQLBind(evidence.receivedAt),
                SQLBind(evidence.senderSHA256)
            ).run()
    }
}
