import AttestCore
import FluentKit
import FluentSQL
import FluentSQLiteDriver

/// SQLite: full-text indexing leaves the writing transaction. A new `search_documents` row is only noted in
/// `search_pending`; `SearchIndexer` moves pending rows into `search_fts` in chunks — the group committer when it
/// has nothing else to do (or when too many are waiting), and every search first, so a search never misses a
/// document.
///
/// Why: FTS5 writes a segment for every statement that adds to it and merges segments as they pile up; inside each
/// batch of submissions that was the largest share of the single writer's work and of its slowest batches
/// (docs/benchmarks.md). Indexing a chunk of a hundred documents at once costs less per document, and happens
/// between batches rather than inside them.
///
/// An update or deletion of a document still pending must not touch `search_fts` (FTS5 would be told to remove
/// terms it never indexed, which corrupts an external-content index); the triggers check. PostgreSQL keeps its
/// generated `tsvector`, updated in the writing transaction.
struct DeferSearchIndexing: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "sqlite" else { return }
        for statement in [
            "CREATE TABLE search_pending (id INTEGER PRIMARY KEY)",
            "DROP TRIGGER search_documents_insert",
            "DROP TRIGGER search_documents_update",
            "DROP TRIGGER search_documents_delete",
            """
            CREATE TRIGGER search_documents_insert AFTER INSERT ON search_documents BEGIN
              INSERT INTO search_pending (id) VALUES (NEW.id); END
            """,
            """
            CREATE TRIGGER search_documents_update AFTER UPDATE ON search_documents BEGIN
              INSERT INTO search_fts (search_fts, rowid, body) SELECT 'delete', OLD.id, OLD.body
                WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE id = OLD.id);
              INSERT INTO search_fts (rowid, body) SELECT NEW.id, NEW.body
                WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE id = NEW.id); END
            """,
            """
            CREATE TRIGGER search_documents_delete AFTER DELETE ON search_documents BEGIN
              INSERT INTO search_fts (search_fts, rowid, body) SELECT 'delete', OLD.id, OLD.body
                WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE id = OLD.id);
              DELETE FROM search_pending WHERE id = OLD.id; END
            """,
        ] {
            try await sql.raw(SQLQueryString(statement)).run()
        }
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "sqlite" else { return }
        while try await SearchIndexer.indexPending(on: sql) > 0 {}
        for statement in [
            "DROP TRIGGER search_documents_insert",
            "DROP TRIGGER search_documents_update",
            "DROP TRIGGER search_documents_delete",
            "DROP TABLE search_pending",
        ] + CreateSearchIndex.sqliteIndexTriggers {
            try await sql.raw(SQLQueryString(statement)).run()
        }
    }
}

/// SQLite: FTS5 merges its segments in small steps between submissions instead of all at once inside one.
///
/// By default FTS5 merges a level's segments as soon as 4 pile up, within the statement that added the last one,
/// and with three prefix indexes a merge could hold the single writer for 20-30 ms (docs/benchmarks.md). Here
/// automatic merging is off, a level is merged once 16 segments wait (`usermerge`), and every indexing chunk ends
/// with a bounded `merge` (`SearchIndexer.mergePages` pages written). Each document is rewritten about half as
/// often; a query reads up to 16 segments per level instead of 4. `crisismerge` stays a backstop far above.
struct TuneSearchMerging: AsyncMigration {
    static let settings = [("automerge", 0), ("usermerge", 16), ("crisismerge", 64)]
    /// FTS5's defaults.
    static let defaults = [("automerge", 4), ("usermerge", 4), ("crisismerge", 16)]

    func prepare(on database: any Database) async throws {
        try await apply(Self.settings, on: database)
    }

    func revert(on database: any Database) async throws {
        try await apply(Self.defaults, on: database)
    }

    private func apply(_ settings: [(String, Int)], on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "sqlite" else { return }
        for (name, value) in settings {
            try await sql.raw("INSERT INTO search_fts (search_fts, rank) VALUES (\(bind: name), \(bind: value))").run()
        }
    }
}

/// Moves pending documents into SQLite's full-text index (see `DeferSearchIndexing`).
enum SearchIndexer {
    /// Documents per chunk: small enough that a submission arriving meanwhile waits a few milliseconds at most.
    static let chunk = 128

    /// The statements of one chunk, to run in one write transaction: index the oldest pending documents, then
    /// forget them. `?1` is the chunk size.
    static let statements = [
        """
        INSERT INTO search_fts (rowid, body)
        SELECT d.id, d.body FROM search_documents d
        WHERE d.id IN (SELECT id FROM search_pending ORDER BY id LIMIT ?1) ORDER BY d.id
        """,
        "DELETE FROM search_pending WHERE id IN (SELECT id FROM search_pending ORDER BY id LIMIT ?1)",
    ]

    /// At most this many pages of segment merging follow each chunk (see `TuneSearchMerging`).
    static let mergePages = 50

    /// One bounded step of segment merging; `?1` is `mergePages`.
    static let merge = "INSERT INTO search_fts (search_fts, rank) VALUES ('merge', ?1)"

    /// Indexes one chunk on `sql`, inside the caller's write transaction; returns how many were pending before.
    static func indexPending(on sql: any SQLDatabase, limit: Int = chunk) async throws -> Int {
        struct Row: Decodable { var count: Int }
        let pending =
            try await sql.raw("SELECT count(*) AS count FROM search_pending").first(decoding: Row.self)?.count ?? 0
        guard pending > 0 else { return 0 }
        guard let sqlite = sql as? any SQLiteDatabase else { throw PersistenceError.unsupportedDatabase }
        for statement in statements {
            _ = try await sqlite.query(statement, [.integer(limit)])
        }
        _ = try await sqlite.query(merge, [.integer(mergePages)])
        return pending
    }
}

/// PostgreSQL indexes search documents after their transaction too: the `tsvector` of a new or changed document
/// is computed by `BackgroundSearchIndexer` on a connection of its own, and by every search for what is still
/// pending, instead of in the writing transaction (a generated column). Computing it cost about 270 µs per
/// document, a third of a batch of submissions, inside the one transaction at a time that numbers them
/// (docs/benchmarks.md). A document is pending while `tsv` is NULL; changing a body makes it pending again.
/// Nothing on SQLite, which has its own (`DeferSearchIndexing`).
struct DeferPostgresSearchIndexing: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        guard sql.dialect.name != "sqlite" else { return }
        let statements = [
            "ALTER TABLE search_documents DROP COLUMN tsv",
            "ALTER TABLE search_documents ADD COLUMN tsv TSVECTOR",
            "UPDATE search_documents SET tsv = \(SearchIndexer.postgresVector)",
            "CREATE INDEX search_documents_tsv ON search_documents USING GIN (tsv)",
            "CREATE INDEX search_documents_unindexed ON search_documents (id) WHERE tsv IS NULL",
            """
            CREATE FUNCTION attest_search_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.body IS DISTINCT FROM OLD.body THEN NEW.tsv := NULL; END IF;
              RETURN NEW;
            END $$
            """,
            """
            CREATE TRIGGER search_documents_changed BEFORE UPDATE OF body ON search_documents
              FOR EACH ROW EXECUTE FUNCTION attest_search_changed()
            """,
        ]
        try await Self.run(statements, on: sql)
    }

    private static func run(_ statements: [String], on sql: any SQLDatabase) async throws {
        for statement in statements { try await sql.raw(SQLQueryString(statement)).run() }
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        guard sql.dialect.name != "sqlite" else { return }
        let statements = [
            "DROP TRIGGER search_documents_changed ON search_documents",
            "DROP FUNCTION attest_search_changed()",
            "ALTER TABLE search_documents DROP COLUMN tsv",
            """
            ALTER TABLE search_documents ADD COLUMN tsv TSVECTOR GENERATED ALWAYS AS (\(SearchIndexer.postgresVector))
              STORED
            """,
            "CREATE INDEX search_documents_tsv ON search_documents USING GIN (tsv)",
        ]
        try await Self.run(statements, on: sql)
    }
}

extension SearchIndexer {
    /// A document's `tsvector` as PostgreSQL computed it before `IndexPostgresSearchInSwift`: its body folded by
    /// `translate` (`CreateSearchIndex.postgresFolded`), `simple` configuration.
    static let postgresVector = "to_tsvector('simple', \(CreateSearchIndex.postgresFolded("body")))"

    /// What PostgreSQL's `simple` configuration indexes of a document: its words folded in Swift
    /// (`TextFolding.words`), one space apart. Queries fold their terms the same way (`postgresQuery`).
    static func postgresWords(_ body: String) -> String {
        TextFolding.words(body).joined(separator: " ")
    }

    /// PostgreSQL: indexes up to `limit` of the oldest pending documents, in a transaction of its own: the rows
    /// are locked and read, their words folded here, and their `tsvector`s written in one statement. Returns how
    /// many.
    ///
    /// - Parameter skipLocked: skip the rows another indexer is indexing instead of waiting for it: for the
    ///   background indexer only. A search must wait, or it would miss a document indexed but not yet committed.
    static func indexPendingPostgres(on database: any Database, limit: Int, skipLocked: Bool) async throws -> Int {
        let lock = skipLocked ? "FOR UPDATE SKIP LOCKED" : "FOR UPDATE"
        return try await database.transaction { database in
            guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
            struct Row: Decodable {
                var id: Int64
                var body: String
            }
            let rows = try await sql.raw(
                """
                SELECT id, body FROM search_documents WHERE tsv IS NULL ORDER BY id LIMIT \(bind: limit)
                \(unsafeRaw: lock)
                """
            ).all(decoding: Row.self)
            guard !rows.isEmpty else { return 0 }
            let values = rows.map { SQLQueryString("(\(bind: $0.id), \(bind: postgresWords($0.body)))") }
            try await sql.raw(
                """
                UPDATE search_documents d SET tsv = to_tsvector('simple', v.words)
                FROM (VALUES \(values.joined(separator: ", "))) AS v(id, words) WHERE d.id = v.id
                """
            ).run()
            return rows.count
        }
    }

    /// A PostgreSQL `tsquery` for `terms`, folded as documents are (`postgresWords`); a term that matches as a
    /// prefix (`SearchQuery.matchesAsPrefix`) gets `:*`.
    static func postgresQuery(_ terms: [String]) -> String {
        terms.compactMap { term in
            let folded = TextFolding.words(term).joined()
            guard !folded.isEmpty else { return nil }
            return SearchQuery.matchesAsPrefix(term) ? "\(folded):*" : folded
        }.joined(separator: " & ")
    }
}

/// PostgreSQL: search documents' words are folded in Swift (`SearchIndexer.postgresWords`, Core's `TextFolding`)
/// rather than by `translate` in the database, which cost about five times `to_tsvector` itself (measured: 2,000
/// documents of 1 KB, 1.7 s against 0.3 s); queries fold their terms the same way. Every document is indexed
/// again, in the background.
struct IndexPostgresSearchInSwift: AsyncMigration {
    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        guard sql.dialect.name != "sqlite" else { return }
        try await sql.raw("UPDATE search_documents SET tsv = NULL").run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        guard sql.dialect.name != "sqlite" else { return }
        try await sql.raw("UPDATE search_documents SET tsv = \(unsafeRaw: SearchIndexer.postgresVector)").run()
    }
}
