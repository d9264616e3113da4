import AttestCore
import FluentKit
import FluentSQL
import Foundation

/// Case files and the incidents they investigate.
struct CreateCaseFiles: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("case_files")
            .field("id", .uuid, .identifier(auto: false))
            .field("reference", .string, .required)
            .field("status", .string, .required)
            .field("outcome", .string)
            .field("assignee", .uuid)
            .field("checklist_json", .string, .required)
            .field("opened_at", .datetime, .required)
            .unique(on: "reference")
            .create()
        try await database.schema("case_file_incidents")
            .field("case_file_id", .uuid, .required)
            .field("incident_id", .uuid, .required)
            .compositeIdentifier(over: "case_file_id", "incident_id")
            .create()
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        try await sql.raw("CREATE INDEX case_file_incidents_incident_id ON case_file_incidents (incident_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("case_file_incidents").delete()
        try await database.schema("case_files").delete()
    }
}

struct CaseFileRow: Codable {
    var id: UUID
    var reference: String
    var status: String
    var outcome: String?
    var assignee: UUID?
    var checklist_json: String
    var opened_at: Date
}

extension FluentReportStore: CaseFileStore {

    static func row(of caseFile: CaseFile) throws -> CaseFileRow {
        CaseFileRow(
            id: caseFile.id.rawValue, reference: caseFile.reference.description, status: caseFile.status.rawValue,
            outcome: caseFile.outcome?.rawValue, assignee: caseFile.assignee?.rawValue,
            checklist_json: String(decoding: try CanonicalJSON.encode(caseFile.checklist), as: UTF8.self),
            opened_at: caseFile.openedAt)
    }

    static func caseFile(from row: CaseFileRow, on sql: any SQLDatabase) async throws -> CaseFile {
        guard let reference = CaseFileReference(row.reference), let status = CaseFileStatus(rawValue: row.status),
            let checklist = try? JSONDecoder().decode(ExecutiveOrderChecklist.self, from: Data(row.checklist_json.utf8))
        else { throw PersistenceError.corruptRow("case_files \(row.id)") }
        struct Link: Decodable { var incident_id: UUID }
        let incidents = try await sql.select().column("incident_id").from("case_file_incidents")
            .where("case_file_id", .equal, SQLBind(row.id)).all(decoding: Link.self).map {
                Identifier<Incident>($0.incident_id)
            }
        var caseFile = CaseFile(
            id: Identifier(row.id), reference: reference, incidents: incidents, openedAt: row.opened_at)
        caseFile.status = status
        caseFile.outcome = row.outcome.flatMap(CaseFileOutcome.init(rawValue:))
        caseFile.assignee = row.assignee.map(Identifier.init)
        caseFile.checklist = checklist
        return caseFile
    }

    public func caseFile(reference: CaseFileReference) async throws -> CaseFile? {
        guard
            let row = try await sql.select().column("*").from("case_files")
                .where("reference", .equal, SQLBind(reference.description)).first(decoding: CaseFileRow.self)
        else { return nil }
        return try await Self.caseFile(from: row, on: sql)
    }

    public func caseFiles(of incident: Identifier<Incident>) async throws -> [CaseFile] {
        let sql = self.sql
        let rows = try await sql.raw(
            """
            SELECT c.* FROM case_files c JOIN case_file_incidents l ON l.case_file_id = c.id
            WHERE l.incident_id = \(bind: incident.rawValue) ORDER BY c.opened_at, c.reference
            """
        ).all(decoding: CaseFileRow.self)
        var result: [CaseFile] = []
        for row in rows { result.append(try await Self.caseFile(from: row, on: sql)) }
        return result
    }

    public func incidents(of caseFile: CaseFile) async throws -> [Incident] {
        guard !caseFile.incidents.isEmpty else { return [] }
        return try await sql.raw(
            """
            SELECT * FROM incidents WHERE id IN (\(binds: caseFile.incidents.map(\.rawValue)))
            ORDER BY opened_at, reference
            """
        ).all(decoding: IncidentRow.self).map { try $0.incident() }
    }

    public func evidence(of caseFile: CaseFile) async throws -> [CaseFileEvidence] {
        guard !caseFile.incidents.isEmpty else { return [] }
        let sql = self.sql
        let rows = try await sql.raw(
            """
            SELECT e.*, r.reference AS report_reference FROM evidence e JOIN reports r ON r.id = e.report_id
            JOIN incident_reports l ON l.report_id = e.report_id
            WHERE l.incident_id IN (\(binds: caseFile.incidents.map(\.rawValue)))
            ORDER BY r.received_at, r.reference, e.received_at, e.id
            """
        ).all()
        let items = try rows.map { row in
            let reference = try row.decode(column: "report_reference", as: String.self)
            guard let report = ReportReference(reference) else {
                throw PersistenceError.corruptRow("reports \(reference)")
            }
            return (report, try row.decode(model: EvidenceRow.self).item())
        }
        guard !items.isEmpty else { return [] }
        struct Entry: Decodable {
            var entry_index: Int64
            var record_id: String
            var entry: String
        }
        var histories: [String: [CustodyHistoryEntry]] = [:]
        for row in try await sql.raw(
            """
            SELECT entry_index, record_id, entry FROM custody_entries
            WHERE record_id IN (\(binds: items.map(\.1.recordID))) ORDER BY entry_index
            """
        ).all(decoding: Entry.self) {
            // An entry that does not parse is still listed by its index (`attest log verify` names it).
            let entry = try? CustodyEntry(json: Data(row.entry.utf8))
            histories[row.record_id, default: []].append(
                CustodyHistoryEntry(
                    index: row.entry_index, kind: entry?.kind ?? "", time: entry?.time ?? "", actor: entry?.actor ?? "")
            )
        }
        return items.map { CaseFileEvidence(report: $0.0, item: $0.1, history: histories[$0.1.recordID] ?? []) }
    }
}

/// Case files and their parts, written in a unit of work.
struct FluentCaseFileRepository: CaseFileRepository {
    let unit: FluentUnitOfWork

    /// On SQLite the unit's transaction holds the write lock; on PostgreSQL `FOR UPDATE` waits for a transaction
    /// changing the case file and then reads what it committed.
    func lock(_ reference: CaseFileReference) async throws -> CaseFile? {
        let sql = try await unit.connection()
        let lock = sql.dialect.name == "postgresql" ? " FOR UPDATE" : ""
        let query: SQLQueryString = "SELECT * FROM case_files WHERE reference = \(bind: reference.description)"
        guard let row = try await sql.raw(query + SQLQueryString(lock)).first(decoding: CaseFileRow.self) else {
            return nil
        }
        return try await FluentReportStore.caseFile(from: row, on: sql)
    }

    func insert(_ caseFile: CaseFile) async throws {
        let sql = try await unit.connection()
        try await sql.insert(into: "case_files").model(try FluentReportStore.row(of: caseFile)).run()
        for incident in caseFile.incidents {
            try await sql.insert(into: "case_file_incidents").columns("case_file_id", "incident_id")
                .values(SQLBind(caseFile.id.rawValue), SQLBind(incident.rawValue)).run()
        }
    }

    func update(_ caseFile: CaseFile) async throws {
        let row = try FluentReportStore.row(of: caseFile)
        try await unit.connection().update("case_files").set(model: row).where("id", .equal, SQLBind(row.id)).run()
    }

    func insert(_ part: CaseFilePart) async throws {
        let position = Int64(try await unit.nextNumber(in: "case-file-part"))
        try await unit.connection().insert(into: "case_file_parts")
            .model(try FluentReportStore.row(of: part, position: position, cipher: unit.cipher)).run()
    }

    func update(_ part: CaseFilePart) async throws {
        let row = try FluentReportStore.row(of: part, position: 0, cipher: unit.cipher)
        try await unit.connection().update("case_file_parts")
            .set("body_json", to: SQLBind(row.body_json)).set("sealed", to: SQLBind(row.sealed))
            .set("search_text", to: SQLBind(row.search_text))
            .where("id", .equal, SQLBind(row.id)).run()
    }
}
