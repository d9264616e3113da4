import AttestCore
import FluentKit
import FluentSQL
import Foundation

/// The identifier index: each report's observed plates and badges (normalised, with their suffixes, so a prefix
/// lookup finds a fragment anywhere in them) and vest texts, written in the same transaction as the report. It
/// lets related-report suggestions find shared identifiers across all time, not only in the time window.
struct CreateReportIdentifiers: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("report_identifiers")
            .field("report_id", .uuid, .required)
            .field("kind", .string, .required)
            .field("value", .string, .required)
            .field("is_whole", .bool, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        try await sql.raw("CREATE INDEX report_identifiers_value ON report_identifiers (kind, value)").run()
        // Index the reports stored before this index existed, a page at a time.
        struct Row: Decodable {
            var id: UUID
            var content_json: String
        }
        var offset = 0
        while true {
            let rows = try await sql.select().columns("id", "content_json").from("reports").orderBy("id")
                .limit(1_000).offset(offset).all(decoding: Row.self)
            for row in rows {
                guard let content = try? ReportMapping.decodeContent(row.content_json) else { continue }
                try await ReportIdentifiers.insert(RelatedReports.indexKeys(of: content), of: row.id, on: sql)
            }
            guard rows.count == 1_000 else { break }
            offset += rows.count
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema("report_identifiers").delete()
    }
}

enum ReportIdentifiers {
    static let columns = ["report_id", "kind", "value", "is_whole"]

    static func insert(_ keys: [RelatedReports.IndexKey], of report: UUID, on sql: any SQLDatabase) async throws {
        guard !keys.isEmpty else { return }
        var insert = sql.insert(into: "report_identifiers").columns(columns)
        for key in keys {
            insert = insert.values(SQLBind(report), SQLBind(key.kind), SQLBind(key.value), SQLBind(key.isWhole))
        }
        try await insert.run()
    }
}

extension FluentReportStore {
    /// Reports (not samples) sharing an observed identifier with `content`, whenever they happened, at most
    /// `limit`, newest first.
    public func reports(sharingIdentifiersWith content: ReportContent, limit: Int) async throws -> [Report] {
        let lookups = RelatedReports.identifierLookups(of: content)
        guard !lookups.isEmpty, limit > 0 else { return [] }
        let sql = database() as! any SQLDatabase
        var ids: [UUID] = []
        var seen = Set<UUID>()
        struct Row: Decodable { var report_id: UUID }
        for lookup in lookups where ids.count < limit {
            var query = sql.select().distinct().column("report_id").from("report_identifiers")
                .where("kind", .equal, SQLBind(lookup.kind))
            query = query.where { group in
                var group = group
                if let prefix = lookup.prefix {
                    // Values are upper-case ASCII letters and digits; "~" sorts after all of them.
                    group = group.orWhere { range in
                        range.where("value", .greaterThanOrEqual, SQLBind(prefix))
                            .where("value", .lessThan, SQLBind(prefix + "~"))
                    }
                }
                return group.orWhere { whole in
                    whole.where("is_whole", .equal, SQLBind(true))
                        .where("value", .in, lookup.wholeValues)
                }
            }
            for row in try await query.limit(limit).all(decoding: Row.self) where seen.insert(row.report_id).inserted {
                ids.append(row.report_id)
            }
        }
        guard !ids.isEmpty else { return [] }
        return try await ReportRecord.query(on: database())
            .filter(\.$id ~~ Array(ids.prefix(limit)))
            .filter(\.$isSample == false)
            .sort(\.$receivedAt, .descending)
            .all()
            .map { try ReportMapping.report(from: $0, cipher: cipher) }
    }
}
