import AttestCore
import FluentKit
import FluentSQL
import Foundation

/// The parts a case file is built from, one table for all kinds: the body as canonical JSON, personal data
/// (a subject's identity, a person's contact) sealed apart.
struct CreateCaseFileParts: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("case_file_parts")
            .field("id", .uuid, .identifier(auto: false))
            .field("case_file", .string, .required)
            .field("kind", .string, .required)
            .field("number", .int)
            .field("position", .int64, .required)
            .field("body_json", .string, .required)
            .field("sealed", .string)
            .field("author", .string, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "number")
            .create()
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        try await sql.raw("CREATE INDEX case_file_parts_case_file ON case_file_parts (case_file, position)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("case_file_parts").delete()
    }
}

struct CaseFilePartRow: Codable {
    var id: UUID
    var case_file: String
    var kind: String
    var number: Int?
    /// Order of addition, across all case files (times can be equal).
    var position: Int64
    var body_json: String
    var sealed: String?
    var author: String
    var created_at: Date
    /// What search indexes of the part (`CaseFilePart.searchableText`; see `IndexSearchableCaseFileText`).
    var search_text: String
}

/// A `case_file_parts` row without its sealed personal data, for readers that need a part's record id, content
/// hash or text and must not open what is sealed (search, its migrations).
struct UnsealedPartRow: Decodable {
    static let columns = ["id", "case_file", "kind", "number", "body_json", "author", "created_at"]

    var id: UUID
    var case_file: String
    var kind: String
    var number: Int?
    var body_json: String
    var author: String
    var created_at: Date

    func part() throws -> CaseFilePart {
        guard let reference = CaseFileReference(case_file), let kind = CaseFilePartBody.Kind(rawValue: kind),
            let body = try? CaseFilePartBody.decode(kind: kind, json: Data(body_json.utf8))
        else { throw PersistenceError.corruptRow("case_file_parts \(id)") }
        return CaseFilePart(
            id: Identifier(id), caseFile: reference, number: number, body: body, author: author, createdAt: created_at)
    }
}

extension FluentReportStore {
    static func row(of part: CaseFilePart, position: Int64, cipher: ContactCipher) throws -> CaseFilePartRow {
        CaseFilePartRow(
            id: part.id.rawValue, case_file: part.caseFile.description, kind: part.body.kind.rawValue,
            number: part.number, position: position,
            body_json: String(decoding: try part.body.canonicalJSON(), as: UTF8.self),
            sealed: try part.sealed.map {
                try cipher.seal(bytes: Data($0.utf8), recordID: part.id.rawValue.uuidString)
            },
            author: part.author, created_at: part.createdAt, search_text: part.searchableText)
    }

    func part(from row: CaseFilePartRow) throws -> CaseFilePart {
        var part = try UnsealedPartRow(
            id: row.id, case_file: row.case_file, kind: row.kind, number: row.number, body_json: row.body_json,
            author: row.author, created_at: row.created_at
        ).part()
        let sealed = try row.sealed.map { ciphertext in
            do {
                return try cipher.openBytes(ciphertext, recordID: row.id.uuidString)
            } catch ContactCipher.Error.unknownKey {
                // Keys were rotated by another process since this one started.
                try reloadKeys()
                return try cipher.openBytes(ciphertext, recordID: row.id.uuidString)
            }
        }
        part.sealed = sealed.map { String(decoding: $0, as: UTF8.self) }
        return part
    }

    public func parts(of caseFile: CaseFileReference) async throws -> [CaseFilePart] {
        return try await sql.select().column("*").from("case_file_parts")
            .where("case_file", .equal, SQLBind(caseFile.description))
            .orderBy("position")
            .all(decoding: CaseFilePartRow.self)
            .map { try part(from: $0) }
    }

    /// Re-seals every case file part's personal data under `cipher`'s active key (key rotation).
    func reencryptCaseFileParts(with cipher: ContactCipher, on sql: any SQLDatabase) async throws -> Int {
        struct Sealed: Decodable {
            var id: UUID
            var sealed: String
        }
        let rows = try await sql.select().columns("id", "sealed").from("case_file_parts")
            .where("sealed", .isNot, SQLLiteral.null).all(decoding: Sealed.self)
        var rewritten = 0
        for row in rows where ContactCipher.keyID(of: row.sealed) != cipher.ring.activeID {
            let plaintext = try cipher.openBytes(row.sealed, recordID: row.id.uuidString)
            try await sql.update("case_file_parts")
                .set("sealed", to: SQLBind(try cipher.seal(bytes: plaintext, recordID: row.id.uuidString)))
                .where("id", .equal, SQLBind(row.id)).run()
            rewritten += 1
        }
        return rewritten
    }
}
