import AttestCore
import AttestTestSupport
import FluentKit
import FluentSQL
import Foundation
import Testing

@testable import AttestPersistence
@testable import AttestWeb

/// The row writer (`RowTable`, `RowBatch`) and the group committer behind every write, on both databases.
@Suite("Row writer and group commit")
struct RowWriterTests {
    struct Boom: Error {}

    /// A unit of work that forces its batch onto a Fluent transaction (on the SQLite writer's connection, `flush`
    /// throws and the unit is run again on Fluent; on PostgreSQL it always is).
    static func onFluent(_ unit: any UnitOfWork) async throws {
        try await (unit as! FluentUnitOfWork).batch.flush()
    }

    @Test(
        "Each table's rows written by the SQLite writer and by a Fluent transaction are stored alike, column by column, and read back as written",
        arguments: FluentReportStoreTests.databases)
    func bothRowWriters(postgres: Bool) async throws {
        try await withAttest(postgres: postgres) { harness in
            let services = harness.app.attest
            let store = services.store
            var submission = FluentReportStoreTests.withContact()
            submission.agents = [.init(badge: "4471", plateState: "IL", plateNumber: "ABC 1234")]
            let onWriter = try await services.submitReport.execute(.init(submission: submission))
            // The same submission through a Fluent transaction.
            let fluentSubmit = SubmitReport(
                store: FluentingStore(store: store), clock: harness.clock, random: SystemRandomSource(),
                validator: services.validator)
            let onFluent = try await fluentSubmit.execute(.init(submission: submission))
            let statistics = try #require(await store.groupCommitStatistics())
            #expect(statistics.unitsInTransactions >= 1, "the second report went through a Fluent transaction")

            // Read back: both reports equal what was submitted (contact opened, content and hashes intact).
            let first = try #require(try await store.report(reference: onWriter.reference))
            let second = try #require(try await store.report(reference: onFluent.reference))
            #expect(first.content == second.content && first.contact == second.contact)
            #expect(first.contact?.name == "Ana Ejemplo")
            #expect(first.contentHash == onWriter.contentHash && second.contentHash == onFluent.contentHash)

            // A message each way.
            let messages = [first, second].enumerated().map { offset, report in
                ThreadMessage(
                    id: Identifier(UUID()), reportID: report.id, author: .staff, body: "Pregunta \(offset) ñ",
                    createdAt: Date(timeIntervalSince1970: 1_790_000_000.25), contentHash: "ab")
            }
            try await store.transaction { unit in try await unit.reports.insert(messages[0]) }
            try await store.transaction { unit in
                try await Self.onFluent(unit)
                try await unit.reports.insert(messages[1])
            }
            for (message, report) in zip(messages, [first, second]) {
                #expect(try await store.messages(of: report.id) == [message])
            }

            // Column by column, the same storage on SQLite (a UUID as text, dates as reals, booleans as integers).
            let sql = try #require(harness.app.db as? any SQLDatabase)
            if sql.dialect.name == "sqlite" {
                for table in RowTable.allCases {
                    let types = table.columns.map { "typeof(\"\($0)\") AS \"\($0)\"" }.joined(separator: ", ")
                    let rows = try await sql.raw(SQLQueryString("SELECT \(types) FROM \"\(table.name)\"")).all()
                    let described = try rows.map { row in
                        try table.columns.map { try row.decode(column: $0, as: String.self) }
                    }
                    #expect(described.count >= 2, "\(table.name) has rows from both writers")
                    #expect(Set(described).count == 1, "\(table.name) stores every row alike: \(Set(described))")
                }
            }
            #expect(try await LogVerifier(ledger: services.ledger).verify().discrepancies == [])
        }
    }

    @Test(
        "A unit whose rows are refused when its batch is written fails alone; the others in its batch are acknowledged and numbered without gaps",
        arguments: FluentReportStoreTests.databases)
    func failedBatch(postgres: Bool) async throws {
        try await withAttest(postgres: postgres) { harness in
            let services = harness.app.attest
            let store = services.store
            let report = try #require(
                try await store.report(
                    reference: try await services.submitReport.execute(.init(submission: .minimal())).reference))
            let taken = ThreadMessage(
                id: Identifier(UUID()), reportID: report.id, author: .staff, body: "first", createdAt: Date(),
                contentHash: "00")
            try await store.transaction { unit in try await unit.reports.insert(taken) }
            let before = try #require(await store.groupCommitStatistics())

            // A unit holds the committer while the others queue up: they form the next batch together.
            let blocker = Task {
                try await store.transaction { _ in try await Task.sleep(for: .milliseconds(400)) }
            }
            try await Task.sleep(for: .milliseconds(100))
            let outcomes = try await withThrowingTaskGroup(of: (Int, Int64?).self) { group in
                for index in 0..<12 {
                    group.addTask {
                        do {
                            let receipt = try await store.transaction { unit in
                                let receipt = try await unit.custodyLog.append(
                                    CustodyEvent(
                                        kind: .recordChanged, occurredAt: Date(), actor: "system",
                                        recordID: "test:\(index)", contentHash: "00"))
                                // Unit 5 adds a message under an id already stored: only the database refuses it,
                                // when the batch's rows are written.
                                var message = taken
                                if index != 5 { message.id = Identifier(UUID()) }
                                try await unit.reports.insert(message)
                                return receipt
                            }
                            return (index, receipt.index)
                        } catch {
                            return (index, nil)
                        }
                    }
                }
                return try await group.reduce(into: [Int: Int64?]()) { $0[$1.0] = $1.1 }
            }
            try await blocker.value
            #expect(outcomes.count == 12)
            #expect(outcomes[5]! == nil, "the refused unit fails")
            let indexes = outcomes.compactMap { $0.value }.sorted()
            #expect(indexes.count == 11, "every other unit is acknowledged")
            let statistics = try #require(await store.groupCommitStatistics())
            #expect(statistics.failedBatches > before.failedBatches, "a batch was refused and run again unit by unit")
            // The acknowledged units hold consecutive indexes after the ones before: the failed one left no gap.
            let entries = try await services.ledger.entries(0..<500)
            #expect(indexes == Array(indexes.first!...indexes.first! + 10))
            #expect(Int64(entries.count) == indexes.last! + 1)
            #expect(try await LogVerifier(ledger: services.ledger).verify().discrepancies == [])
        }
    }
}

extension RowWriterTests {
    @Test(
        "A report's search document, now written with the report, holds the same words the trigger it replaced extracted from the stored JSON",
        arguments: FluentReportStoreTests.databases)
    func reportSearchText(postgres: Bool) async throws {
        try await withAttest(postgres: postgres) { harness in
            let services = harness.app.attest
            var submission = FluentReportStoreTests.withContact()
            submission.locationDescription = "Frente a la iglesia en Devon"
            submission.agents = [
                .init(vestText: "POLICE ICE", nameTape: "Ruiz", badge: "4471"),
                .init(plateState: "IL", plateNumber: "CK 22731"),
            ]
            let sql = try #require(harness.app.db as? any SQLDatabase)
            let receipt = try await services.submitReport.execute(.init(submission: submission))
            struct Row: Decodable { var body: String }
            // What the trigger extracted, by its own expression, over the stored row.
            let extraction =
                (sql.dialect.name == "sqlite"
                ? CreateSearchIndex.sqliteReportText : CreateSearchIndex.postgresReportText)
                .replacingOccurrences(of: "NEW.", with: "")
            let extracted = try #require(
                try await sql.raw(
                    SQLQueryString("SELECT \(extraction) AS body FROM reports WHERE reference = ")
                        + "\(bind: receipt.reference.description)"
                ).first(decoding: Row.self)?.body)
            let indexed = try #require(
                try await sql.select().column("body").from("search_documents")
                    .where("reference", .equal, SQLBind(receipt.reference.description)).first(decoding: Row.self)?.body)
            func words(_ text: String) -> [String] { text.split(whereSeparator: \.isWhitespace).map(String.init) }
            #expect(words(indexed) == words(extracted))
            #expect(words(indexed).contains("Devon") && indexed.contains("4471") && indexed.contains("22731"))
            #expect(!indexed.contains("Ana") && !indexed.contains("555"), "no contact details")
            let found = try await services.search.search(try SearchQuery("ruiz iglesia"), kinds: [.report], limit: 5)
            #expect(found.map(\.reference) == [receipt.reference.description])

            // The migration's revert puts the trigger back, and the trigger indexes as before.
            try await services.store.onFluentDatabase { try await IndexReportTextInSwift().revert(on: $0) }
            let triggers = try await sql.raw(
                sql.dialect.name == "sqlite"
                    ? "SELECT name AS body FROM sqlite_master WHERE type = 'trigger' AND name = 'reports_search'"
                    : "SELECT tgname AS body FROM pg_trigger WHERE tgname = 'reports_search'"
            ).all(decoding: Row.self)
            #expect(triggers.count == 1)
            try await services.store.onFluentDatabase { try await IndexReportTextInSwift().prepare(on: $0) }
        }
    }
}

extension RowWriterTests {
    @Test(
        "PostgreSQL: search documents are indexed after their batch, in the background; a search first indexes what is still pending; a changed body is pending again",
        .enabled(
            if: TestDatabase.postgresURL != nil, "needs PostgreSQL: ATTEST_TEST_DATABASE_URL is not set (CI sets it)"))
    func postgresDeferredIndexing() async throws {
        try await withAttest(postgres: true) { harness in
            let services = harness.app.attest
            let store = services.store
            let sql = try #require(harness.app.db as? any SQLDatabase)
            func pending() async throws -> Int {
                struct Row: Decodable { var count: Int }
                return try await sql.raw("SELECT count(*) AS count FROM search_documents WHERE tsv IS NULL")
                    .first(decoding: Row.self)?.count ?? -1
            }
            @Sendable func found(_ word: String) async throws -> [String] {
                try await services.search.search(try SearchQuery(word), kinds: [.report], limit: 10).map(\.reference)
            }
            for _ in 0..<3 {
                _ = try await services.submitReport.execute(
                    .init(submission: .minimal(narrative: "Agents near quillfern")))
            }
            var waited = 0
            while try await pending() > 0 && waited < 100 {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            #expect(try await pending() == 0, "indexed in the background, without a search")

            await store.stopBackgroundWork()
            let late = try await services.submitReport.execute(
                .init(submission: .minimal(narrative: "Agents near brindlemoss")))
            #expect(try await pending() == 1, "written without its vector")
            #expect(try await found("brindlemoss") == [late.reference.description], "a search indexes it first")
            #expect(try await pending() == 0)
            try await sql.raw(
                "UPDATE search_documents SET body = 'Agents near zephyrcall' WHERE body LIKE '%brindlemoss%'"
            ).run()
            #expect(try await pending() == 1, "a changed body is pending again")
            #expect(try await found("zephyrcall") == [late.reference.description])
            #expect(try await found("brindlemoss").isEmpty)

            // Another indexer has indexed a document and not yet committed: a search waits for it rather than
            // skipping the row and missing the document.
            let held = try await services.submitReport.execute(
                .init(submission: .minimal(narrative: "Agents near vantablue")))
            try await harness.app.db.withConnection { connection in
                let indexer = try #require(connection as? any SQLDatabase)
                try await indexer.raw("BEGIN").run()
                try await indexer.raw(
                    "UPDATE search_documents SET tsv = to_tsvector('simple', lower(body)) WHERE body LIKE '%vantablue%'"
                ).run()
                async let hits = found("vantablue")
                try await Task.sleep(for: .milliseconds(300))
                try await indexer.raw("COMMIT").run()
                #expect(try await hits == [held.reference.description])
            }

            // The revert brings the generated column back; the migration indexes every stored document.
            try await store.onFluentDatabase { try await DeferPostgresSearchIndexing().revert(on: $0) }
            struct Count: Decodable { var count: Int }
            let generated = try await sql.raw(
                "SELECT count(*) AS count FROM search_documents WHERE tsv @@ to_tsquery('simple', 'quillfern')"
            ).first(decoding: Count.self)?.count
            #expect(generated == 3, "the generated column indexes every document")
            try await store.onFluentDatabase { try await DeferPostgresSearchIndexing().prepare(on: $0) }
            #expect(try await pending() == 0)
            #expect(try await found("quillfern").count == 3)
        }
    }
}

extension RowWriterTests {
    @Test("Rows are cut into statements of bounded size, or of power-of-two sizes, in order and none lost")
    func chunking() {
        #expect(Array(0..<8).chunks(of: 3).map(Array.init) == [[0, 1, 2], [3, 4, 5], [6, 7]])
        #expect([Int]().chunks(of: 3).isEmpty)
        let sizes = Array(0..<300).powerOfTwoChunks(upTo: 128).map(\.count)
        #expect(sizes == [128, 128, 32, 8, 4])
        #expect(Array(0..<300).powerOfTwoChunks(upTo: 128).flatMap { $0 } == Array(0..<300))
        #expect(Array(0..<1).powerOfTwoChunks(upTo: 128).map(\.count) == [1])
    }

    @Test("PostgreSQL folding in Swift: documents' words and query terms fold alike (case, accents, punctuation)")
    func postgresFolding() {
        #expect(SearchIndexer.postgresWords("Ñandú-PÉREZ, 47th St. (Chicago)") == "nandu perez 47th st chicago")
        #expect(SearchIndexer.postgresWords("pe\u{301}rez") == "perez", "a combining accent is dropped")
        #expect(SearchIndexer.postgresQuery(["pérez", "ab"]) == "perez & ab:*")
        #expect(SearchIndexer.postgresQuery(["ärger"]) == "arger")
    }

    @Test(
        "PostgreSQL: accented and unaccented spellings find each other; the migration indexes every document again, its revert the old way",
        .enabled(
            if: TestDatabase.postgresURL != nil, "needs PostgreSQL: ATTEST_TEST_DATABASE_URL is not set (CI sets it)"))
    func postgresAccents() async throws {
        try await withAttest(postgres: true) { harness in
            let services = harness.app.attest
            let sql = try #require(harness.app.db as? any SQLDatabase)
            var references: [String] = []
            for narrative in ["Agents stopped Señor PÉREZ-Quiñónez", "Agents stopped senor perez quinonez"] {
                references.append(
                    try await services.submitReport.execute(.init(submission: .minimal(narrative: narrative)))
                        .reference.description)
            }
            @Sendable func found(_ text: String) async throws -> Set<String> {
                Set(
                    try await services.search.search(try SearchQuery(text), kinds: [.report], limit: 10).map(
                        \.reference))
            }
            for text in ["perez", "Pérez", "QUIÑÓNEZ", "señor pérez", "quiñ"] {
                #expect(try await found(text) == Set(references), "\(text)")
            }
            struct Count: Decodable { var count: Int }
            func pending() async throws -> Int {
                try await sql.raw("SELECT count(*) AS count FROM search_documents WHERE tsv IS NULL")
                    .first(decoding: Count.self)?.count ?? -1
            }
            await services.store.stopBackgroundWork()
            try await services.store.onFluentDatabase { try await IndexPostgresSearchInSwift().revert(on: $0) }
            #expect(try await pending() == 0, "the revert computes every vector the old way")
            try await services.store.onFluentDatabase { try await IndexPostgresSearchInSwift().prepare(on: $0) }
            #expect(try await pending() >= 2, "the migration leaves every document to index again")
            #expect(try await found("pérez") == Set(references), "a search indexes them first")
            #expect(try await pending() == 0)
        }
    }
}

extension FluentReportStore {
    /// Runs `body` (a migration, say) with the Fluent database of a write transaction.
    func onFluentDatabase(_ body: @escaping @Sendable (any Database) async throws -> Void) async throws {
        try await unitOfWork { unit in
            _ = try await unit.connection()
            try await body(unit.database)
        }
    }
}

/// A report store whose units of work each start by flushing their batch, so that on SQLite they run in a Fluent
/// transaction rather than on the writer's connection.
struct FluentingStore: ReportStore {
    let store: FluentReportStore

    func seal(_ contact: ContactDetails, of report: Identifier<Report>) throws -> String {
        try store.seal(contact, of: report)
    }

    func transaction<Result: Sendable>(_ work: @escaping @Sendable (any UnitOfWork) async throws -> Result)
        async throws -> Result
    {
        try await store.transaction { unit in
            try await RowWriterTests.onFluent(unit)
            return try await work(unit)
        }
    }

    func report(reference: ReportReference) async throws -> Report? { try await store.report(reference: reference) }
    func messages(of report: Identifier<Report>) async throws -> [ThreadMessage] {
        try await store.messages(of: report)
    }
    func countReports(samples: Bool) async throws -> Int { try await store.countReports(samples: samples) }
    func evidence(of report: Identifier<Report>) async throws -> [EvidenceItem] {
        try await store.evidence(of: report)
    }
    func evidenceItem(id: Identifier<EvidenceItem>) async throws -> EvidenceItem? {
        try await store.evidenceItem(id: id)
    }
    func incident(reference: IncidentReference) async throws -> Incident? {
        try await store.incident(reference: reference)
    }
    func incident(of report: Identifier<Report>) async throws -> Incident? { try await store.incident(of: report) }
    func reports(of incident: Identifier<Incident>) async throws -> [Report] {
        try await store.reports(of: incident)
    }
    func reports(in statuses: [TriageStatus], limit: Int) async throws -> [Report] {
        try await store.reports(in: statuses, limit: limit)
    }
    func incident(id: Identifier<Incident>) async throws -> Incident? { try await store.incident(id: id) }
    func incidents(of reports: [Identifier<Report>]) async throws -> [Identifier<Report>: IncidentReference] {
        try await store.incidents(of: reports)
    }
    func reports(sharingIdentifiersWith content: ReportContent, limit: Int) async throws
        -> [RelatedReports.Candidate]
    {
        try await store.reports(sharingIdentifiersWith: content, limit: limit)
    }
    func recurringIdentifiers() async throws -> [IdentifierPattern] { try await store.recurringIdentifiers() }
    func reports(overlapping window: ClosedRange<Date>, limit: Int) async throws -> [RelatedReports.Candidate] {
        try await store.reports(overlapping: window, limit: limit)
    }
}

extension RowWriterTests {
    @Test(
        "PostgreSQL: the sequencer's state, read in one round trip with its lock, equals the counters and frontier read apart, and a batch waiting for the lock reads what the batch before it committed",
        .enabled(
            if: TestDatabase.postgresURL != nil, "needs PostgreSQL: ATTEST_TEST_DATABASE_URL is not set (CI sets it)"))
    func postgresSequencerState() async throws {
        try await withAttest(postgres: true) { harness in
            let services = harness.app.attest
            for _ in 0..<5 { _ = try await services.submitReport.execute(.init(submission: .minimal())) }
            let database = harness.app.db

            // The state as the function reads it, against the counters and the frontier read apart.
            let state = try await database.transaction { transaction in
                try await SequencerState.lock(GroupCommitter.sequencerLock, on: transaction as! any SQLDatabase)
            }
            let sql = try #require(database as? any SQLDatabase)
            struct Counter: Decodable {
                var name: String
                var value: Int64
            }
            let counters = try await sql.raw("SELECT name, value FROM sequences").all(decoding: Counter.self)
            #expect(state.counters == Dictionary(uniqueKeysWithValues: counters.map { ($0.name, $0.value) }))
            let size = UInt64(try #require(state.counters["custody"]) + 1)
            #expect(size >= 6)
            #expect(state.frontier.size == size)
            #expect(state.frontier.root == (try await CustodyStorage.frontier(size: size, on: sql)).root)
            #expect(state.frontier.root == (try await services.ledger.root(size: size)))

            // One transaction holds the lock and moves a counter; another, asking for the lock meanwhile, waits and
            // then reads the moved counter (a statement that waited would otherwise see the database of before).
            let (held, release) = AsyncStream<Void>.makeStream()
            let (proceed, go) = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await database.transaction { transaction in
                    let sql = transaction as! any SQLDatabase
                    _ = try await SequencerState.lock(GroupCommitter.sequencerLock, on: sql)
                    try await sql.raw("INSERT INTO sequences (name, value) VALUES ('test-moved', 41)").run()
                    release.yield()
                    for await _ in proceed { break }
                }
            }
            for await _ in held { break }
            let waiter = Task {
                try await database.transaction { transaction in
                    try await SequencerState.lock(GroupCommitter.sequencerLock, on: transaction as! any SQLDatabase)
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            let waitedState = try await database.transaction { transaction in
                // Not waiting itself: the lock is only tried.
                struct Row: Decodable { var taken: Bool }
                return try await (transaction as! any SQLDatabase).raw(
                    "SELECT pg_try_advisory_xact_lock(\(bind: GroupCommitter.sequencerLock)) AS taken"
                ).first(decoding: Row.self)?.taken
            }
            #expect(waitedState == false, "the lock is held")
            go.yield()
            try await holder.value
            let after = try await waiter.value
            #expect(after.counters["test-moved"] == 41)
        }
    }
}
