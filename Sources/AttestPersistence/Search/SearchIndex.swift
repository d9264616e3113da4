import AttestCore
import FluentKit
import FluentSQL
import Foundation
import Logging

/// The search index: one `search_documents` row per searchable text (a report, each thread message, an
/// incident, each case file part), kept up to date by database triggers in the same transaction as the row it
/// mirrors, so every write path (the SQLite group committer's batches included) indexes without code of its
/// own. SQLite indexes it with FTS5 (`unicode61`, diacritics removed, prefix indexes for 2–4 letters so fragment searches do not merge thousands of terms); PostgreSQL with a `tsvector` (the
/// `simple` configuration: no stemming, the same for every language) under a GIN index.
///
/// What is indexed: a report's narrative, place description and observed identifiers (never its contact
/// details, which are sealed); thread messages; an incident's place, operation and summary; a case file part's
/// body (never its sealed identity or contact; since `IndexSearchableCaseFileText`, only its `searchableText`,
/// without the fields some roles may not see).
struct CreateSearchIndex: AsyncMigration {
    /// A report's searchable text, from its content JSON, in SQLite.
    static let sqliteReportText = """
        coalesce(json_extract(NEW.content_json, '$.narrative'), '') || ' ' ||
        coalesce(json_extract(NEW.content_json, '$.location.description'), '') || ' ' ||
        coalesce((SELECT group_concat(
            coalesce(json_extract(value, '$.vestText'), '') || ' ' || coalesce(json_extract(value, '$.nameTape'), '')
            || ' ' || coalesce(json_extract(value, '$.badge'), '') || ' ' ||
            coalesce(json_extract(value, '$.plateNumber'), ''), ' ')
          FROM json_each(NEW.content_json, '$.agents.descriptions')), '')
        """
    /// The trigger that indexed a new report until `IndexReportTextInSwift` (which drops it; its revert restores it).
    static let sqliteReportTrigger = """
        CREATE TRIGGER reports_search AFTER INSERT ON reports BEGIN
          INSERT INTO search_documents (source_id, kind, reference, body)
          VALUES (NEW.id, 'report', NEW.reference, \(sqliteReportText)); END
        """
    static let postgresReportTrigger = """
        CREATE TRIGGER reports_search AFTER INSERT ON reports
          FOR EACH ROW EXECUTE FUNCTION attest_search_index()
        """

    /// The triggers that keep FTS5 in step with `search_documents` in the writing transaction (replaced by
    /// `DeferSearchIndexing`, whose revert restores them).
    static let sqliteIndexTriggers = [
        """
        CREATE TRIGGER search_documents_insert AFTER INSERT ON search_documents BEGIN
          INSERT INTO search_fts(rowid, body) VALUES (NEW.id, NEW.body); END
        """,
        """
        CREATE TRIGGER search_documents_delete AFTER DELETE ON search_documents BEGIN
          INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', OLD.id, OLD.body); END
        """,
        """
        CREATE TRIGGER search_documents_update AFTER UPDATE ON search_documents BEGIN
          INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', OLD.id, OLD.body);
          INSERT INTO search_fts(rowid, body) VALUES (NEW.id, NEW.body); END
        """,
    ]
    static let sqliteIncidentText =
        "coalesce(NEW.place, '') || ' ' || coalesce(NEW.operation, '') || ' ' || coalesce(NEW.summary, '')"
    static let sqlitePartText =
        "coalesce((SELECT group_concat(value, ' ') FROM json_tree(NEW.body_json) WHERE type = 'text'), '')"

    static let postgresReportText = """
        concat_ws(' ', NEW.content_json::jsonb->>'narrative', NEW.content_json::jsonb#>>'{location,description}',
          (SELECT string_agg(concat_ws(' ', a->>'vestText', a->>'nameTape', a->>'badge', a->>'plateNumber'), ' ')
           FROM jsonb_array_elements(coalesce(NEW.content_json::jsonb#>'{agents,descriptions}', '[]'::jsonb)) a))
        """
    static let postgresIncidentText = "concat_ws(' ', NEW.place, NEW.operation, NEW.summary)"
    static let postgresPartText = """
        (SELECT coalesce(string_agg(v #>> '{}', ' '), '')
         FROM jsonb_path_query(NEW.body_json::jsonb, 'strict $.**') v WHERE jsonb_typeof(v) = 'string')
        """

    /// SQLite: the triggers that index a case file part as `text` (an expression over `NEW`) when it is added or
    /// changed.
    static func sqlitePartTriggers(text: String) -> [String] {
        [
            """
            CREATE TRIGGER case_file_parts_search AFTER INSERT ON case_file_parts BEGIN
              INSERT INTO search_documents (source_id, kind, reference, body)
              VALUES (NEW.id, 'case_file', NEW.case_file, \(text)); END
            """,
            """
            CREATE TRIGGER case_file_parts_search_update AFTER UPDATE ON case_file_parts BEGIN
              UPDATE search_documents SET body = \(text) WHERE source_id = NEW.id; END
            """,
        ]
    }

    /// PostgreSQL: the trigger function that indexes every searchable table (after `CREATE` or
    /// `CREATE OR REPLACE`), with a case file part's text given as `partText` (an expression over `NEW`).
    static func postgresFunction(partText: String) -> String {
        """
        FUNCTION attest_search_index() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_TABLE_NAME = 'reports' THEN
            INSERT INTO search_documents (source_id, kind, reference, body)
            VALUES (NEW.id, 'report', NEW.reference, \(postgresReportText));
          ELSIF TG_TABLE_NAME = 'report_messages' THEN
            INSERT INTO search_documents (source_id, kind, reference, body)
            VALUES (NEW.id, 'report', (SELECT reference FROM reports WHERE id = NEW.report_id), NEW.body);
          ELSIF TG_TABLE_NAME = 'incidents' THEN
            INSERT INTO search_documents (source_id, kind, reference, body)
            VALUES (NEW.id, 'incident', NEW.reference, \(postgresIncidentText))
            ON CONFLICT (source_id) DO UPDATE SET body = EXCLUDED.body;
          ELSIF TG_TABLE_NAME = 'case_file_parts' THEN
            INSERT INTO search_documents (source_id, kind, reference, body)
            VALUES (NEW.id, 'case_file', NEW.case_file, \(partText))
            ON CONFLICT (source_id) DO UPDATE SET body = EXCLUDED.body;
          END IF;
          RETURN NULL;
        END $$
        """
    }

    /// Accent folding for PostgreSQL (which has no `remove_diacritics` without the `unaccent` extension):
    /// Latin letters with diacritics and their base letters, applied by `translate` to the indexed text and to
    /// every query alike. Never change these once deployed without re-indexing.
    static let foldFrom = TextFolding.from
    static let foldTo = TextFolding.to
    /// A PostgreSQL expression folding `expression` to lower case without diacritics.
    static func postgresFolded(_ expression: String) -> String {
        "translate(lower(\(expression)), '\(foldFrom)', '\(foldTo)')"
    }

    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        if sql.dialect.name == "sqlite" {
            try await prepareSQLite(sql)
        } else {
            try await preparePostgres(sql)
        }
    }

    private func prepareSQLite(_ sql: any SQLDatabase) async throws {
        let statements = [
            """
            CREATE TABLE search_documents (id INTEGER PRIMARY KEY, source_id BLOB NOT NULL UNIQUE,
              kind TEXT NOT NULL, reference TEXT NOT NULL, body TEXT NOT NULL)
            """,
            """
            CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_documents', content_rowid='id',
              tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')
            """,
            """
            CREATE INDEX search_documents_reference ON search_documents (reference)
            """,
            Self.sqliteReportTrigger,
            """
            CREATE TRIGGER report_messages_search AFTER INSERT ON report_messages BEGIN
              INSERT INTO search_documents (source_id, kind, reference, body)
              VALUES (NEW.id, 'report', (SELECT reference FROM reports WHERE id = NEW.report_id), NEW.body); END
            """,
            """
            CREATE TRIGGER incidents_search AFTER INSERT ON incidents BEGIN
              INSERT INTO search_documents (source_id, kind, reference, body)
              VALUES (NEW.id, 'incident', NEW.reference, \(Self.sqliteIncidentText)); END
            """,
            """
            CREATE TRIGGER incidents_search_update AFTER UPDATE ON incidents BEGIN
              UPDATE search_documents SET body = \(Self.sqliteIncidentText) WHERE source_id = NEW.id; END
            """,
        ]
        // The tables and their index, then FTS5's triggers, then the triggers that fill `search_documents`.
        for statement in statements.prefix(3) + Self.sqliteIndexTriggers + statements.dropFirst(3)
            + Self.sqlitePartTriggers(text: Self.sqlitePartText)
        {
            try await sql.raw(SQLQueryString(statement)).run()
        }
        try await backfill(
            sql, report: Self.sqliteReportText, incident: Self.sqliteIncidentText,
            part: Self.sqlitePartText)
    }

    private func preparePostgres(_ sql: any SQLDatabase) async throws {
        let statements = [
            """
            CREATE TABLE search_documents (id BIGSERIAL PRIMARY KEY, source_id UUID NOT NULL UNIQUE,
              kind TEXT NOT NULL, reference TEXT NOT NULL, body TEXT NOT NULL,
              tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', \(Self.postgresFolded("body")))) STORED)
            """,
            "CREATE INDEX search_documents_tsv ON search_documents USING GIN (tsv)",
            "CREATE INDEX search_documents_reference ON search_documents (reference)",
            "CREATE " + Self.postgresFunction(partText: Self.postgresPartText),
            Self.postgresReportTrigger,
            """
            CREATE TRIGGER report_messages_search AFTER INSERT ON report_messages
              FOR EACH ROW EXECUTE FUNCTION attest_search_index()
            """,
            """
            CREATE TRIGGER incidents_search AFTER INSERT OR UPDATE ON incidents
              FOR EACH ROW EXECUTE FUNCTION attest_search_index()
            """,
            """
            CREATE TRIGGER case_file_parts_search AFTER INSERT OR UPDATE ON case_file_parts
              FOR EACH ROW EXECUTE FUNCTION attest_search_index()
            """,
        ]
        for statement in statements { try await sql.raw(SQLQueryString(statement)).run() }
        try await backfill(
            sql, report: Self.postgresReportText, incident: Self.postgresIncidentText,
            part: Self.postgresPartText)
    }

    /// Indexes what was stored before the index existed.
    private func backfill(_ sql: any SQLDatabase, report: String, incident: String, part: String) async throws {
        func rows(_ text: String) -> String { text.replacingOccurrences(of: "NEW.", with: "src.") }
        let statements = [
            """
            INSERT INTO search_documents (source_id, kind, reference, body)
            SELECT src.id, 'report', src.reference, \(rows(report)) FROM reports src
            """,
            """
            INSERT INTO search_documents (source_id, kind, reference, body)
            SELECT src.id, 'report', r.reference, src.body FROM report_messages src JOIN reports r ON r.id = src.report_id
            """,
            """
            INSERT INTO search_documents (source_id, kind, reference, body)
            SELECT src.id, 'incident', src.reference, \(rows(incident)) FROM incidents src
            """,
            """
            INSERT INTO search_documents (source_id, kind, reference, body)
            SELECT src.id, 'case_file', src.case_file, \(rows(part)) FROM case_file_parts src
            """,
        ]
        for statement in statements { try await sql.raw(SQLQueryString(statement)).run() }
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        if sql.dialect.name == "sqlite" {
            for trigger in [
                "reports_search", "report_messages_search", "incidents_search", "incidents_search_update",
                "case_file_parts_search", "case_file_parts_search_update",
            ] {
                try await sql.raw(SQLQueryString("DROP TRIGGER IF EXISTS \(trigger)")).run()
            }
            try await sql.raw("DROP TABLE IF EXISTS search_fts").run()
            try await sql.raw("DROP TABLE IF EXISTS search_documents").run()
        } else {
            for table in ["reports", "report_messages", "incidents", "case_file_parts"] {
                let trigger = table == "report_messages" ? "report_messages_search" : "\(table)_search"
                try await sql.raw(SQLQueryString("DROP TRIGGER IF EXISTS \(trigger) ON \(table)")).run()
            }
            try await sql.raw("DROP FUNCTION IF EXISTS attest_search_index()").run()
            try await sql.raw("DROP TABLE IF EXISTS search_documents").run()
        }
    }
}

/// Searches the index. Queries run on a database handle whose logger discards everything, so search terms
/// never reach the logs, even at trace level.
public struct FluentSearchIndex: SearchIndex {
    let database: @Sendable (Logger) -> any Database
    let catchUp: @Sendable () async throws -> Void

    /// - Parameters:
    ///   - database: gives a database that logs to the given logger.
    ///   - catchUp: indexes what is still pending before each search (`FluentReportStore.indexPendingSearch`).
    public init(
        database: @escaping @Sendable (Logger) -> any Database,
        catchUp: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.database = database
        self.catchUp = catchUp
    }

    /// A document's `source_id`; nil for one that is not a record's id (only written behind the application's
    /// back), whose record is then unknown.
    struct SourceID: Decodable {
        var id: UUID?

        init(from decoder: any Decoder) throws {
            id = try? decoder.singleValueContainer().decode(UUID.self)
        }
    }

    static let silent = Logger(label: "attest.search") { _ in SwiftLogNoOpLogHandler() }

    struct Row: Decodable {
        var source_id: SourceID
        var kind: String
        var reference: String
        var excerpt: String
    }

    public func search(_ query: SearchQuery, kinds: Set<SearchKind>, limit: Int) async throws -> [SearchHit] {
        guard !kinds.isEmpty, limit > 0 else { return [] }
        try await catchUp()
        let sql = database(Self.silent) as! any SQLDatabase
        let kindList = SQLList(kinds.map(\.rawValue).sorted().map { SQLBind($0) })
        var rows: [Row]
        if let reference = query.reference {
            rows = try await sql.select().column("source_id").column("kind").column("reference")
                .column(
                    SQLAlias(
                        SQLFunction(
                            "substr", args: SQLIdentifier("body"), SQLLiteral.numeric("1"),
                            SQLLiteral.numeric("160")), as: SQLIdentifier("excerpt"))
                )
                .from("search_documents")
                .where("reference", .equal, SQLBind(reference))
                .where("kind", .in, kinds.map(\.rawValue).sorted())
                .orderBy("id", .descending).limit(1)
                .all(decoding: Row.self)
        } else if sql.dialect.name == "sqlite" {
            // Every term must occur (short ones and those with digits as word prefixes); terms are letters and
            // digits only, quoted anyway.
            let match = query.terms.map { SearchQuery.matchesAsPrefix($0) ? "\"\($0)\"*" : "\"\($0)\"" }
                .joined(separator: " AND ")
            rows = try await sql.raw(
                """
                SELECT d.source_id AS source_id, d.kind AS kind, d.reference AS reference,
                  snippet(search_fts, 0, '', '', '…', 16) AS excerpt
                FROM search_fts JOIN search_documents d ON d.id = search_fts.rowid
                WHERE search_fts MATCH \(bind: match) AND d.kind IN (\(kindList))
                ORDER BY search_fts.rowid DESC LIMIT \(literal: limit * 4)
                """
            ).all(decoding: Row.self)
        } else {
            // Folded as documents are (`SearchIndexer.postgresWords`); letters and digits only (`SearchQuery`), and
            // bound all the same, never spliced.
            let tsquery = SearchIndexer.postgresQuery(query.terms)
            rows = try await sql.raw(
                """
                SELECT source_id, kind, reference, ts_headline('simple', body, q, 'MaxWords=20, MinWords=8, StartSel="", StopSel=""')
                  AS excerpt
                FROM (SELECT source_id, kind, reference, body, id, to_tsquery('simple', \(bind: tsquery)) AS q
                      FROM search_documents
                      WHERE tsv @@ to_tsquery('simple', \(bind: tsquery)) AND kind IN (\(kindList))
                      ORDER BY id DESC LIMIT \(literal: limit * 4)) found
                ORDER BY id DESC
                """
            ).all(decoding: Row.self)
        }
        var seen = Set<String>()
        var shown: [(Row, SearchKind)] = []
        for row in rows where shown.count < limit {
            guard let kind = SearchKind(rawValue: row.kind), seen.insert(row.reference).inserted else { continue }
            shown.append((row, kind))
        }
        let sources = try await Self.sources(
            of: shown.compactMap { row, kind in row.source_id.id.map { ($0, kind) } }, on: sql)
        return shown.map { row, kind in
            let excerpt = row.excerpt.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            return SearchHit(
                kind: kind, reference: row.reference, excerpt: excerpt, source: row.source_id.id.flatMap { sources[$0] }
            )
        }
    }

    /// The record each document was cut from, with its content hash: a report (`content_hash`) or one message
    /// of its thread, an incident, a case file part (hashed as their custody entries hash them). One query per
    /// table, whatever the number of results; a record that is gone is left out.
    static func sources(of documents: [(UUID, SearchKind)], on sql: any SQLDatabase) async throws
        -> [UUID: ViewedRecord]
    {
        func ids(_ kind: SearchKind) -> [UUID] { documents.filter { $0.1 == kind }.map(\.0) }
        var sources: [UUID: ViewedRecord] = [:]
        let reports = ids(.report)
        if !reports.isEmpty {
            struct Hashed: Decodable {
                var id: UUID
                var reference: String
                var content_hash: String
            }
            for row in try await sql.select().columns("id", "reference", "content_hash").from("reports")
                .where("id", .in, reports).all(decoding: Hashed.self)
            {
                sources[row.id] = ViewedRecord(recordID: "report:\(row.reference)", contentHash: row.content_hash)
            }
            for row in try await sql.select().column(SQLColumn("id", table: "m"))
                .column(SQLColumn("reference", table: "r")).column(SQLColumn("content_hash", table: "m"))
                .from(SQLAlias(SQLIdentifier("report_messages"), as: SQLIdentifier("m")))
                .join(
                    SQLAlias(SQLIdentifier("reports"), as: SQLIdentifier("r")), method: SQLJoinMethod.inner,
                    on: SQLColumn("report_id", table: "m"), .equal, SQLColumn("id", table: "r")
                )
                .where(SQLColumn("id", table: "m"), .in, SQLBind.group(reports)).all(decoding: Hashed.self)
            {
                sources[row.id] = ViewedRecord(
                    recordID: "report:\(row.reference)/message:\(Identifier<ThreadMessage>(row.id))",
                    contentHash: row.content_hash)
            }
        }
        let incidents = ids(.incident)
        if !incidents.isEmpty {
            for row in try await sql.select().column("*").from("incidents").where("id", .in, incidents)
                .all(decoding: IncidentRow.self)
            {
                let incident = try row.incident()
                sources[row.id] = ViewedRecord(recordID: incident.recordID, contentHash: incident.contentHash)
            }
        }
        let parts = ids(.caseFile)
        if !parts.isEmpty {
            // The hash leaves the sealed personal data out, so the part is read without opening it.
            for row in try await sql.select().columns(UnsealedPartRow.columns).from("case_file_parts")
                .where("id", .in, parts).all(decoding: UnsealedPartRow.self)
            {
                let part = try row.part()
                sources[row.id] = ViewedRecord(recordID: part.recordID, contentHash: part.contentHash)
            }
        }
        return sources
    }
}
