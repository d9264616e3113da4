import AttestCore
import FluentKit
import FluentSQL
import Foundation

/// Each report's related-report profile (`RelatedReports.Profile`: coordinates, word hashes, normalised
/// identifiers), written with the report, so that suggestions compare a time window's reports without reading and
/// re-folding their narratives. Derived data: the backfill below and the readers' fallback recompute it from the
/// stored content.
struct AddRelatedProfiles: AsyncMigration {
    /// Reports profiled per transaction during the backfill.
    static let batchSize = 1_000

    func prepare(on database: any Database) async throws {
        try await database.schema("reports").field("related_profile", .data).update()
        try await Self.backfill(on: database)
    }

    /// Profiles the reports without one (stored before this column existed), a batch per transaction, in id order.
    static func backfill(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        struct Row: Decodable {
            var id: UUID
            var content_json: String
        }
        var after: UUID?
        while true {
            let query = sql.select().columns("id", "content_json").from("reports")
                .where(SQLIdentifier("related_profile"), .is, SQLLiteral.null).orderBy("id").limit(Self.batchSize)
            if let after { query.where("id", .greaterThan, SQLBind(after)) }
            let rows = try await query.all(decoding: Row.self)
            guard let last = rows.last else { break }
            try await database.transaction { transaction in
                let sql = transaction as! any SQLDatabase
                for row in rows {
                    guard let content = try? ReportMapping.decodeContent(row.content_json) else { continue }
                    try await sql.update("reports")
                        .set("related_profile", to: SQLBind(Data(RelatedReports.Profile(content).encoded())))
                        .where("id", .equal, SQLBind(row.id)).run()
                }
            }
            after = last.id
        }
    }

    func revert(on database: any Database) async throws {
        // Raw: Fluent's SQLite schema builder skips dropping columns (SQLite has had DROP COLUMN since 3.35).
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        try await sql.raw("ALTER TABLE reports DROP COLUMN related_profile").run()
    }
}

extension ReportMapping {
    /// The select expression for a report's content when its stored profile is missing or of another version
    /// (NULL otherwise, so a window's thousand narratives are not read).
    static func contentWithoutProfile(dialect: String) -> String {
        let version = RelatedReports.Profile.version
        let otherVersion =
            dialect == "sqlite"
            ? "substr(related_profile, 1, 1) <> x'\(String(format: "%02x", version))'"
            : "substring(related_profile from 1 for 1) <> '\\x\(String(format: "%02x", version))'::bytea"
        return "CASE WHEN related_profile IS NULL OR \(otherVersion) THEN content_json END"
    }

    /// A candidate's profile: recomputed from its content when the query selected it (`contentWithoutProfile`:
    /// the stored profile is missing or of another version), otherwise the stored one, decoded (nil when damaged).
    static func profile(stored: RelatedReports.Profile?, content: String?, reference: String) throws
        -> RelatedReports.Profile
    {
        if let content {
            return RelatedReports.Profile(try decodeContent(content))
        }
        guard let stored else { throw PersistenceError.corruptRow("reports \(reference) (related_profile)") }
        return stored
    }
}
