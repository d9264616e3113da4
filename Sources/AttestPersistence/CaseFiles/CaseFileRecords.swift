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
        struct Link: Decodable { var case_file_id: UUID }
        let ids = try await sql.select().column("case_file_id").from("case_file_incidents")
            .where("incident_id", .equal, SQLBind(incident.rawValue)).all(decoding: Link.self).map(\.case_file_id)
        var result: [CaseFile] = []
        for id in ids {
            if let row = try await sql.select().column("*").from("case_files").where("id", .equal, SQLBind(id))
                .first(decoding: CaseFileRow.self)
            {
                result.append(try await Self.caseFile(from: row, on: sql))
            }
        }
        return result.sorted { $0.openedAt < $1.openedAt }
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
