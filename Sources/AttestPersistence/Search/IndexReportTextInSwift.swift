import FluentKit
import FluentSQL

/// A new report's search document is a row the write path adds with the report (`ReportRows.searchDocument`,
/// from `ReportContent.searchableText`), instead of a trigger extracting the same text from the stored JSON.
///
/// On PostgreSQL the trigger parsed the content's JSON three times per report, and that cost more than everything
/// else the database did for a submission (measured: 390 µs of 530 µs per report, docs/benchmarks.md). The text
/// and the tokens are the same (the narrative, the place, the agents' vest text, name tape, badge and plate);
/// documents already stored are left as they are.
struct IndexReportTextInSwift: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        if sql.dialect.name == "sqlite" {
            try await sql.raw("DROP TRIGGER reports_search").run()
        } else {
            try await sql.raw("DROP TRIGGER reports_search ON reports").run()
        }
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        let trigger =
            sql.dialect.name == "sqlite"
            ? CreateSearchIndex.sqliteReportTrigger : CreateSearchIndex.postgresReportTrigger
        try await sql.raw(SQLQueryString(trigger)).run()
    }
}
