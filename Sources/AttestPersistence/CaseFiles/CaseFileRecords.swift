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

    func caseFile(from row: CaseFileRow) async throws -> CaseFile {
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

    public func openCaseFile(for incident: Incident, year: Int, id: Identifier<CaseFile>, at time: Date, actor: String)
        async throws -> CaseFile
    {
        return try await unitOfWork { unit in
            let number = try await unit.nextNumber(in: "case-file-\(year)")
            let caseFile = CaseFile(
                id: id, reference: CaseFileReference(year: year, number: number), incidents: [incident.id],
                openedAt: time)
            let sql = try await unit.connection()
            try await sql.insert(into: "case_files").model(try Self.row(of: caseFile)).run()
            try await sql.insert(into: "case_file_incidents").columns("case_file_id", "incident_id")
                .values(SQLBind(id.rawValue), SQLBind(incident.id.rawValue)).run()
            _ = try await unit.custodyLog.append(
                CustodyEvent(
                    kind: .recordChanged, occurredAt: time, actor: actor, recordID: caseFile.recordID,
                    contentHash: caseFile.contentHash))
            return caseFile
        }
    }

    public func caseFile(reference: CaseFileReference) async throws -> CaseFile? {
        guard
            let row = try await sql.select().column("*").from("case_files")
                .where("reference", .equal, SQLBind(reference.description)).first(decoding: CaseFileRow.self)
        else { return nil }
        return try await caseFile(from: row)
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
                result.append(try await caseFile(from: row))
            }
        }
        return result.sorted { $0.openedAt < $1.openedAt }
    }

    public func save(_ caseFile: CaseFile, at time: Date, actor: String) async throws {
        let row = try Self.row(of: caseFile)
        _ = try await unitOfWork { unit in
            try await unit.connection().update("case_files").set(model: row)
                .where("id", .equal, SQLBind(row.id)).run()
            return try await unit.custodyLog.append(
                CustodyEvent(
                    kind: .recordChanged, occurredAt: time, actor: actor, recordID: caseFile.recordID,
                    contentHash: caseFile.contentHash))
        }
    }

    public func recordView(of recordID: String, contentHash: String, at time: Date, actor: String) async throws {
        _ = try await transaction { unit in
            try await unit.custodyLog.append(
                CustodyEvent(
                    kind: .recordViewed, occurredAt: time, actor: actor, recordID: recordID, contentHash: contentHash))
        }
    }
}
