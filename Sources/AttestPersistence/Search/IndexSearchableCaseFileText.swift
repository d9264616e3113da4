import AttestCore
import FluentKit
import FluentSQL
import Foundation

/// Search indexes a case file part's `searchableText` (Core's rule: no field some role may not see, never the
/// sealed personal data) instead of every text in its body. Until now the reason a supervisor gave for
/// attaching a real identity was indexed, so investigators and auditors found it in excerpts the case file page
/// hides from them.
///
/// The text is computed where the part is written (`case_file_parts.search_text`) and the triggers copy it, so
/// the rule lives in Swift, once, and a field added to `CaseFilePartBody.restrictedFields` leaves the index of
/// every part written after. The migration recomputes every stored part's text; each update goes through the
/// triggers to `search_documents` and from there to FTS5 (the old terms deleted, unless still pending) or to
/// PostgreSQL's generated `tsvector`, so reasons indexed before disappear from every search.
struct IndexSearchableCaseFileText: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        try await sql.raw("ALTER TABLE case_file_parts ADD COLUMN search_text TEXT NOT NULL DEFAULT ''").run()
        try await replaceTriggers(
            on: sql, sqliteText: "NEW.search_text", postgresText: "NEW.search_text")
        try await Self.recompute(on: sql)
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        try await replaceTriggers(
            on: sql, sqliteText: CreateSearchIndex.sqlitePartText, postgresText: CreateSearchIndex.postgresPartText)
        // Dropping the column fires no trigger: the documents get their bodies back from the JSON first.
        try await sql.raw("UPDATE case_file_parts SET search_text = ''").run()
        try await sql.raw("ALTER TABLE case_file_parts DROP COLUMN search_text").run()
    }

    private func replaceTriggers(on sql: any SQLDatabase, sqliteText: String, postgresText: String) async throws {
        if sql.dialect.name == "sqlite" {
            try await sql.raw("DROP TRIGGER case_file_parts_search").run()
            try await sql.raw("DROP TRIGGER case_file_parts_search_update").run()
            for statement in CreateSearchIndex.sqlitePartTriggers(text: sqliteText) {
                try await sql.raw(SQLQueryString(statement)).run()
            }
        } else {
            try await sql.raw(
                SQLQueryString("CREATE OR REPLACE " + CreateSearchIndex.postgresFunction(partText: postgresText))
            ).run()
        }
    }

    /// Recomputes every part's `search_text` from its body; the triggers carry each into the index.
    static func recompute(on sql: any SQLDatabase) async throws {
        var after: UUID?
        while true {
            let query = sql.select().columns(UnsealedPartRow.columns).from("case_file_parts")
            if let after { query.where("id", .greaterThan, SQLBind(after)) }
            let rows = try await query.orderBy("id").limit(500).all(decoding: UnsealedPartRow.self)
            for row in rows {
                try await sql.update("case_file_parts").set("search_text", to: SQLBind(try row.part().searchableText))
                    .where("id", .equal, SQLBind(row.id)).run()
            }
            guard rows.count == 500, let last = rows.last else { break }
            after = last.id
        }
    }
}
