import AttestCore
import FluentKit
import FluentSQL
import FluentSQLiteDriver
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
        // Covering: lookups read the index only (a short fragment like "71" is the suffix of thousands of values,
        // and checking `is_whole` in the table for each cost a row read apiece).
        try await sql.raw(
            "CREATE INDEX report_identifiers_value ON report_identifiers (kind, value, is_whole, report_id)"
        ).run()
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
                try await RowTable.identifiers.insert(
                    ReportIdentifiers.rows(RelatedReports.indexKeys(of: content), of: row.id), on: sql)
            }
            guard rows.count == 1_000 else { break }
            offset += rows.count
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema("report_identifiers").delete()
    }
}

/// Time-window lookups for related reports read only the index: occurrence start and end together, so the
/// reports of a 31-day look-back are filtered by their end without reading each row.
struct CreateOccurrenceWindowIndex: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        // It replaces the index on the start alone, which the planner would otherwise prefer (without statistics)
        // and which reads every row of the look-back from the table.
        try await sql.raw("DROP INDEX IF EXISTS reports_occurred_start").run()
        try await sql.raw(
            "CREATE INDEX reports_occurrence_window ON reports (occurred_start, occurred_end, is_sample)"
        ).run()
        try await sql.raw(
            SQLQueryString(
                "CREATE INDEX reports_long_windows ON reports (occurred_start, occurred_end) WHERE "
                    + Self.longWindow(dialect: sql.dialect.name))
        ).run()
    }

    /// Reports whose window is longer than a day (the predicate of the partial index and of queries using it,
    /// written identically so the planner matches them). SQLite stores times as seconds since 1970.
    static func longWindow(dialect: String) -> String {
        dialect == "sqlite"
            ? "occurred_end - occurred_start > 86400" : "occurred_end - occurred_start > interval '1 day'"
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        try await sql.raw("DROP INDEX reports_long_windows").run()
        try await sql.raw("DROP INDEX reports_occurrence_window").run()
        try await sql.raw("CREATE INDEX reports_occurred_start ON reports (occurred_start)").run()
    }
}

enum ReportIdentifiers {
    /// An identifier shared with more reports than this is too common to be a lead (a vest reading "POLICE"):
    /// it is not looked up across time (within the time window it still counts).
    static let commonAbove = 200

    /// The `report_identifiers` rows of a report's keys (`RowTable.identifiers`).
    static func rows(_ keys: [RelatedReports.IndexKey], of report: UUID) -> [[Cell]] {
        keys.map { [.uuid(report), .text($0.kind), .text($0.value), .bool($0.isWhole)] }
    }
}

extension FluentReportStore {
    /// Reports (not samples) sharing an observed identifier with `content`, whenever they happened, at most
    /// `limit`, newest first.
    public func reports(sharingIdentifiersWith content: ReportContent, limit: Int) async throws
        -> [RelatedReports.Candidate]
    {
        let lookups = RelatedReports.identifierLookups(of: content)
        guard !lookups.isEmpty, limit > 0 else { return [] }
        var ids: [UUID] = []
        var seen = Set<UUID>()
        struct Row: Decodable { var report_id: UUID }
        for lookup in lookups where ids.count < limit {
            // Two index range reads, not one OR (which SQLite would answer by scanning every row of the kind).
            // Values are upper-case ASCII letters and digits; "~" sorts after all of them.
            let whole = SQLQueryString(
                """
                SELECT report_id FROM report_identifiers
                WHERE kind = \(bind: lookup.kind) AND is_whole = \(bind: true) AND value IN (\(SQLList(lookup.wholeValues.map { SQLBind($0) })))
                """)
            let statement: SQLQueryString
            if let prefix = lookup.prefix {
                statement = """
                    SELECT report_id FROM report_identifiers
                    WHERE kind = \(bind: lookup.kind) AND value >= \(bind: prefix) AND value < \(bind: prefix + "~")
                    UNION \(whole) LIMIT \(literal: ReportIdentifiers.commonAbove + 1)
                    """
            } else {
                statement = "\(whole) LIMIT \(literal: ReportIdentifiers.commonAbove + 1)"
            }
            let rows = try await sql.raw(statement).all(decoding: Row.self)
            guard rows.count <= ReportIdentifiers.commonAbove else { continue }
            for row in rows where seen.insert(row.report_id).inserted {
                ids.append(row.report_id)
            }
        }
        guard !ids.isEmpty else { return [] }
        let chosen = Array(ids.prefix(limit))
        if let sqlite = sql as? any SQLiteDatabase {
            return try await ReportMapping.sqliteCandidates(
                sqlite,
                where: "id IN (" + Array(repeating: "?", count: chosen.count).joined(separator: ", ")
                    + ") AND is_sample = 0", chosen.map { .text($0.uuidString) }, order: "ORDER BY received_at DESC",
                limit: limit)
        }
        return try await ReportMapping.candidates(
            sql.select().columns(ReportMapping.candidateColumns(dialect: sql.dialect.name)).from(ReportRecord.schema)
                .where("id", .in, chosen)
                .where("is_sample", .equal, SQLBind(false))
                .orderBy("received_at", .descending))
    }
}
