import AttestCore
import AttestTestSupport
import FluentSQL
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import AttestPersistence
@testable import AttestWeb

@Suite("Search")
struct SearchTests {
    @Test("Query parsing: words of letters and digits, prefixes, references; limits refused with a reason")
    func parsing() throws {
        #expect(try SearchQuery("Plate IL-7K42X, badge #44").terms == ["plate", "il", "7k42x", "badge", "44"])
        #expect(try SearchQuery("  r-2026-000123 ").reference == "R-2026-000123")
        #expect(try SearchQuery("CF-2026-000001").reference == "CF-2026-000001")
        #expect(try SearchQuery("Pérez pérez PÉREZ").terms == ["pérez"])
        #expect(try SearchQuery("\"x\" OR y* NEAR(a b) -- ; DROP TABLE").terms == ["or", "near", "drop", "table"])
        #expect(throws: SearchQuery.Problem.noTerms(minimum: 2)) { try SearchQuery("a * \" - ") }
        #expect(throws: SearchQuery.Problem.tooLong(max: 10)) {
            try SearchQuery("abcdefghijk", limits: .init(maximumLength: 10))
        }
        #expect(throws: SearchQuery.Problem.tooManyTerms(max: 8)) { try SearchQuery("aa bb cc dd ee ff gg hh ii") }
        #expect(throws: SearchQuery.Problem.controlCharacters) { try SearchQuery("ab\u{0}cd") }
        #expect(SearchQuery.matchesAsPrefix("7k4") && SearchQuery.matchesAsPrefix("7k42xq"))
        #expect(SearchQuery.matchesAsPrefix("vest") && !SearchQuery.matchesAsPrefix("puerta"))
    }

    @Test(
        "Staff find reports, incidents and case files by words, fragments and references, only what their role may read; terms never reach the logs"
    )
    func findsWhatTheRoleMayRead() async throws {
        try await withAttest { harness in
            let services = harness.app.attest
            var first = ReportSubmission.minimal(
                narrative: "Agentes enmascarados detuvieron a Pérez frente a la panadería Xóchiquetzal.")
            first.agents = [.init(plateNumber: "ZQ8841")]
            let one = try await services.submitReport.execute(.init(submission: first))
            let two = try await services.submitReport.execute(
                .init(submission: .minimal(narrative: "A van boxed in a car near the school on Wabanquux.")))
            let caseFile = try await harness.openCaseFile()
            let login = try await harness.enroll(.investigator)
            var browser = Browser(harness.app)
            _ = try await browser.signIn(login, clock: harness.clock)
            let path = "/staff/case-files/\(caseFile.reference)"
            let csrf = try #require(Browser.csrfToken(in: try await browser.get(path).body.string))
            _ = try await browser.post(
                "\(path)/notes", form: [("csrf", csrf), ("note", "Zyxwvutsrq footage requested from the bodega")])
            _ = try await browser.post(
                "\(path)/persons",
                form: [("csrf", csrf), ("label", "Witness B"), ("contact_name", "Qwertyname Secretperson")])

            func results(_ query: String, kind: String = "", as browser: inout Browser) async throws -> String {
                var components = URLComponents()
                components.queryItems = [
                    URLQueryItem(name: "q", value: query), URLQueryItem(name: "kind", value: kind),
                ]
                let response = try await browser.get("/staff/search?\(components.percentEncodedQuery ?? "")")
                #expect(response.status == .ok, "\(query)")
                #expect(response.headers.first(name: .cacheControl) == "no-store")
                return response.body.string
            }
            // From here on nothing is written but searches: no log line may carry a search term.
            let logMark = CapturedLogs.all.count
            var page = try await results("perez xochiquetzal", as: &browser)
            #expect(page.contains(one.reference.description) && !page.contains(two.reference.description))
            page = try await results("zq88", as: &browser)
            #expect(page.contains(one.reference.description))
            page = try await results("wabanquux school", as: &browser)
            #expect(page.contains(two.reference.description) && !page.contains(one.reference.description))
            page = try await results("zyxwvutsrq", as: &browser)
            #expect(page.contains(caseFile.reference.description))
            page = try await results("zyxwvutsrq", kind: "report", as: &browser)
            #expect(!page.contains(caseFile.reference.description) && page.contains(#"id="search-none""#))
            page = try await results(two.reference.description.lowercased(), as: &browser)
            #expect(page.contains("/staff/reports/\(two.reference)"))
            // Sealed personal data is not searchable.
            page = try await results("qwertyname", as: &browser)
            #expect(page.contains(#"id="search-none""#))
            // An incident's summary is searchable once staff write it.
            let incidentID = try #require(caseFile.incidents.first)
            let bad = try await browser.get("/staff/search?q=%22%20*")
            #expect(bad.status == .unprocessableEntity)
            #expect(bad.body.string.contains("at least one word of 2"))
            #expect(try await browser.get("/staff/search?q=abc&kind=staff").status == .unprocessableEntity)

            // Intake may not read case files: the same words find nothing for them.
            let intakeLogin = try await harness.enroll(.intake)
            var intake = Browser(harness.app)
            _ = try await intake.signIn(intakeLogin, clock: harness.clock)
            page = try await results("zyxwvutsrq", as: &intake)
            #expect(!page.contains(caseFile.reference.description))
            #expect(try await intake.get("/staff/search?q=zyxwvutsrq&kind=case_file").status == .unprocessableEntity)

            let searchLogs = CapturedLogs.all.dropFirst(logMark)
            #expect(searchLogs.contains { $0.contains("/staff/search") }, "the requests themselves are logged")
            for term in ["zyxwvutsrq", "xochiquetzal", "wabanquux", "zq88", "qwertyname"] {
                #expect(!searchLogs.contains { $0.lowercased().contains(term) }, "\(term) logged")
            }

            // An incident's place, operation and summary are searchable, and the index follows their changes.
            var incident = try #require(try await services.store.incident(id: incidentID))
            incident.operation = "Operation Quillfeather"
            try await services.store.transaction { [incident] unit in try await unit.incidents.update(incident) }
            page = try await results("quillfeather", as: &browser)
            #expect(page.contains(incident.reference.description))
            incident.operation = "Operation Other"
            try await services.store.transaction { [incident] unit in try await unit.incidents.update(incident) }
            page = try await results("quillfeather", as: &browser)
            #expect(!page.contains(incident.reference.description), "the index follows an update")

        }
    }
}

@Suite("Related reports across time")
struct RelatedAcrossTimeTests {
    @Test(
        "A plate or badge fragment seen months apart is suggested through the identifier index, both ways and anywhere in the identifier"
    )
    func sharedIdentifiers() async throws {
        try await withAttest { harness in
            let services = harness.app.attest
            func submit(date: String, plate: String? = nil, badge: String? = nil, vest: String? = nil) async throws
                -> SubmitReport.Receipt
            {
                var submission = ReportSubmission.minimal(date: date, narrative: "Unrelated words \(date).")
                submission.agents = [.init(vestText: vest, badge: badge, plateNumber: plate)]
                return try await services.submitReport.execute(.init(submission: submission))
            }
            let old = try await submit(date: "2026-03-02", plate: "IL 7K-42X", badge: "4471", vest: "POLICE ERO")
            let unrelated = try await submit(date: "2026-03-03", plate: "QQ999", badge: "1234")
            for (fragment, kind) in [("K42", "plate"), ("il7k42xz", "plate"), ("44 71", "badge")] {
                let new = try await submit(
                    date: "2026-11-20", plate: kind == "plate" ? fragment : nil, badge: kind == "badge" ? fragment : nil
                )
                let report = try #require(try await services.store.report(reference: new.reference))
                let found = try await services.store.reports(sharingIdentifiersWith: report.content, limit: 50)
                #expect(found.map(\.reference).contains(old.reference), "\(fragment)")
                #expect(!found.map(\.reference).contains(unrelated.reference), "\(fragment)")
            }
            let vest = try await submit(date: "2026-11-21", vest: "police-ero")
            let report = try #require(try await services.store.report(reference: vest.reference))
            #expect(
                try await services.store.reports(sharingIdentifiersWith: report.content, limit: 50).map(\.reference)
                    .filter { $0 != vest.reference } == [old.reference])

            // The triage page shows it with its reason, eight months later.
            let login = try await harness.enroll(.intake)
            var browser = Browser(harness.app)
            _ = try await browser.signIn(login, clock: harness.clock)
            let page = try await browser.get("/staff/reports/\(vest.reference)").body.string
            #expect(page.contains(old.reference.description) && page.contains("Same vest text POLICEERO"))
        }
    }

    @Test("A report with a long window (ten days) is a candidate for a report within it; short ones only nearby")
    func longWindows() async throws {
        try await withAttest { harness in
            let services = harness.app.attest
            var long = ReportSubmission.minimal()
            long.occurrence = .local(date: "2026-11-01", time: "08:00", endDate: "2026-11-11", endTime: "20:00")
            let longReceipt = try await services.submitReport.execute(.init(submission: long))
            var short = ReportSubmission.minimal()
            short.occurrence = .local(date: "2026-11-09", time: "10:00", endDate: nil, endTime: "11:00")
            short.agents = [.init(vestText: "ERO", plateNumber: "7K42X"), .init(badge: "9911")]
            let shortReceipt = try await services.submitReport.execute(.init(submission: short))
            var early = ReportSubmission.minimal()
            early.occurrence = .local(date: "2026-11-02", time: "10:00", endDate: nil, endTime: "11:00")
            let earlyReceipt = try await services.submitReport.execute(.init(submission: early))
            let report = try #require(try await services.store.report(reference: shortReceipt.reference))
            let window = RelatedReports(hours: 6).window(of: report)
            let found = try await services.store.reports(overlapping: window, limit: 100).map(\.reference)
            #expect(found.contains(longReceipt.reference) && found.contains(shortReceipt.reference))
            #expect(!found.contains(earlyReceipt.reference))
            // A candidate carries every agent's identifiers, from the profile stored with the report.
            let candidate = try #require(
                try await services.store.reports(overlapping: window, limit: 100).first {
                    $0.reference == shortReceipt.reference
                })
            #expect(candidate.profile.plates == ["7K42X"] && candidate.profile.badges == ["9911"])
            #expect(candidate.profile.vestTexts == ["ERO"])
            #expect(candidate.profile == RelatedReports.Profile(report.content))
        }
    }

    @Test(
        "Each report's profile is stored with it, backfilled by its migration, and recomputed from the content when missing or of another version"
    )
    func storedProfiles() async throws {
        try await withAttest { harness in
            let services = harness.app.attest
            let sql = harness.app.db as! any SQLDatabase
            var references: [ReportReference] = []
            for (index, plate) in ["7K42X", "ZQ8841", "7K4"].enumerated() {
                var submission = ReportSubmission.minimal(
                    date: "2026-10-0\(index + 1)", narrative: "Agentes enmascarados número \(index) en la esquina.")
                submission.agents = [.init(vestText: "ERO", badge: "44\(index)", plateNumber: plate)]
                references.append(try await services.submitReport.execute(.init(submission: submission)).reference)
            }
            struct Row: Decodable {
                var reference: String
                var content_json: String
                var related_profile: Data?
            }
            func stored() async throws -> [String: Row] {
                let rows = try await sql.select().columns("reference", "content_json", "related_profile")
                    .from("reports").all(decoding: Row.self)
                return Dictionary(uniqueKeysWithValues: rows.map { ($0.reference, $0) })
            }
            func expected(_ row: Row) async throws -> RelatedReports.Profile {
                let reference = try #require(ReportReference(row.reference))
                return RelatedReports.Profile(
                    try #require(try await services.store.report(reference: reference)).content)
            }
            // Written with each report, by the batching SQLite writer and the PostgreSQL one.
            for (reference, row) in try await stored() {
                let profile = try #require(row.related_profile.flatMap { RelatedReports.Profile(encoded: $0) })
                #expect(profile == (try await expected(row)), "\(reference)")
            }

            // Missing (a row written before the column) or of another version: recomputed from the content.
            try await sql.update("reports").set("related_profile", to: SQLLiteral.null)
                .where("reference", .equal, SQLBind(references[0].description)).run()
            try await sql.update("reports").set("related_profile", to: SQLBind(Data([9, 0])))
                .where("reference", .equal, SQLBind(references[1].description)).run()
            let rows = try await stored()
            // 2026-09-30 … 2026-10-05 UTC.
            let window = Date(timeIntervalSince1970: 1_790_726_400)...Date(timeIntervalSince1970: 1_791_158_400)
            let candidates = try await services.store.reports(overlapping: window, limit: 100)
            #expect(Set(candidates.map(\.reference)) == Set(references))
            for candidate in candidates {
                let row = try #require(rows[candidate.reference.description])
                #expect(candidate.profile == (try await expected(row)), "\(candidate.reference)")
            }
            let report = try #require(try await services.store.report(reference: references[0]))
            #expect(
                Set(
                    try await services.store.reports(sharingIdentifiersWith: report.content, limit: 50).map(\.reference)
                )
                    == Set(references))

            // A damaged profile of the current version is named, not guessed at.
            try await sql.update("reports").set("related_profile", to: SQLBind(Data([1, 0])))
                .where("reference", .equal, SQLBind(references[2].description)).run()
            await #expect(throws: PersistenceError.self) {
                try await services.store.reports(overlapping: window, limit: 100)
            }

            // The migration's backfill: every report without a profile gets it back.
            try await sql.update("reports").set("related_profile", to: SQLLiteral.null).run()
            try await AddRelatedProfiles.backfill(on: harness.app.db)
            let backfilled = try await stored()
            #expect(backfilled.count == 3)
            for (reference, row) in backfilled {
                let profile = try #require(row.related_profile.flatMap { RelatedReports.Profile(encoded: $0) })
                #expect(profile == (try await expected(row)), "\(reference)")
            }
        }
    }
}

@Suite("Search indexing on SQLite")
struct SearchIndexingTests {
    /// The `count` column of the first row of `query`.
    private static func count(_ query: SQLQueryString, on sql: any SQLDatabase) async throws -> Int {
        struct Count: Decodable { var count: Int }
        return try await sql.raw(query).first(decoding: Count.self)!.count
    }

    @Test(
        "SQLite: full-text indexing happens between batches and before every search; updates and deletions of pending documents keep the index consistent"
    )
    func deferredIndexing() async throws {
        try await withAttest(postgres: false) { harness in
            let services = harness.app.attest
            let sql = try #require(harness.app.db as? any SQLDatabase)
            func pending() async throws -> Int {
                try await Self.count("SELECT count(*) AS count FROM search_pending", on: sql)
            }
            // More documents than one chunk, concurrently: the committer indexes them when it has nothing else to do.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<(SearchIndexer.chunk + 40) {
                    group.addTask {
                        _ = try await services.submitReport.execute(
                            .init(submission: .minimal(narrative: "Agents at gate \(index) quxbatch")))
                    }
                }
                try await group.waitForAll()
            }
            var waited = 0
            while try await pending() > 0 && waited < 200 {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            #expect(try await pending() == 0, "indexed between batches, without a search")
            // The committer may still try one more (empty) chunk; give it time to finish, so that what follows is
            // left pending until a search.
            try await Task.sleep(for: .milliseconds(300))
            let statistics = try #require(await services.store.groupCommitStatistics())
            #expect(statistics.searchIndexed >= SearchIndexer.chunk + 40)
            let found = try await services.search.search(
                try SearchQuery("quxbatch"), kinds: [.report], limit: 500)
            #expect(found.count == SearchIndexer.chunk + 40)

            // Documents written on a Fluent connection (as incidents and case files are) stay pending until a search
            // indexes them first; changing or deleting a pending document must not touch the index.
            @Sendable func document(_ body: String) -> SQLQueryString {
                "INSERT INTO search_documents (source_id, kind, reference, body) VALUES (randomblob(16), 'incident', 'I-2026-999999', \(bind: body))"
            }
            _ = try await services.store.write { sql in
                try await sql.raw(document("zorblat pending then changed")).run()
                try await sql.raw(
                    "UPDATE search_documents SET body = 'zorblat changed while pending' WHERE body LIKE 'zorblat pending%'"
                ).run()
                try await sql.raw(document("glimmerfox pending then deleted")).run()
                try await sql.raw("DELETE FROM search_documents WHERE body LIKE 'glimmerfox%'").run()
                try await sql.raw(document("quokkaline pending")).run()
            }
            #expect(try await pending() == 2)
            let changed = try await services.search.search(
                try SearchQuery("zorblat changed"), kinds: [.incident], limit: 5)
            #expect(changed.map(\.reference) == ["I-2026-999999"], "a search indexes what is pending first")
            #expect(try await pending() == 0)
            #expect(
                try await services.search.search(try SearchQuery("glimmerfox"), kinds: [.incident], limit: 5).isEmpty)
            // Indexed documents changed and deleted through the same triggers.
            _ = try await services.store.write { sql in
                try await sql.raw(
                    "UPDATE search_documents SET body = 'quokkaline renamed' WHERE body = 'quokkaline pending'"
                ).run()
                try await sql.raw("DELETE FROM search_documents WHERE body LIKE 'zorblat%'").run()
            }
            #expect(try await services.search.search(try SearchQuery("zorblat"), kinds: [.incident], limit: 5).isEmpty)
            #expect(
                try await services.search.search(try SearchQuery("quokkaline renamed"), kinds: [.incident], limit: 5)
                    .count == 1)
            // FTS5 compares its index with the content table and throws on any difference.
            try await sql.raw("INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 1)").run()
        }
    }

    @Test("SQLite: deferred indexing reverts to indexing in the transaction and back, losing no document")
    func deferredIndexingMigration() async throws {
        try await withAttest(postgres: false) { harness in
            let services = harness.app.attest
            let sql = try #require(harness.app.db as? any SQLDatabase)
            func indexed(_ word: String) async throws -> Int {
                try await Self.count(
                    "SELECT count(*) AS count FROM search_fts WHERE search_fts MATCH \(bind: word)", on: sql)
            }
            @Sendable func document(_ body: String) -> SQLQueryString {
                "INSERT INTO search_documents (source_id, kind, reference, body) VALUES (randomblob(16), 'incident', 'I-2026-999998', \(bind: body))"
            }
            // Pending when the revert runs: the same transaction, so nothing else can index it first.
            try await services.store.onFluent { database in
                try await (database as! any SQLDatabase).raw(document("plumbobs pending at revert")).run()
                try await DeferSearchIndexing().revert(on: database)
            }
            #expect(try await indexed("plumbobs") == 1, "the revert indexes what was pending")
            _ = try await services.store.write { sql in
                try await sql.raw(document("wompler after revert")).run()
            }
            #expect(try await indexed("wompler") == 1, "indexed in the writing transaction again")
            try await services.store.onFluent { try await DeferSearchIndexing().prepare(on: $0) }
            _ = try await services.submitReport.execute(.init(submission: .minimal(narrative: "Agents near zintaro")))
            #expect(try await services.search.search(try SearchQuery("zintaro"), kinds: [.report], limit: 5).count == 1)
            try await sql.raw("INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 1)").run()
        }
    }

    @Test(
        "SQLite: FTS5 merges segments only in the bounded step after each chunk, and the revert restores its defaults"
    )
    func searchMerging() async throws {
        try await withAttest(postgres: false) { harness in
            let services = harness.app.attest
            let sql = try #require(harness.app.db as? any SQLDatabase)
            func count(_ query: SQLQueryString) async throws -> Int {
                try await Self.count(query, on: sql)
            }
            func setting(_ name: String) async throws -> Int {
                try await count("SELECT v AS count FROM search_fts_config WHERE k = \(bind: name)")
            }
            #expect(try await setting("automerge") == 0)
            #expect(try await setting("usermerge") == 16)
            // 40 chunks of documents, each indexed in a transaction of its own, as the committer does: without the
            // merge step there would be a segment per chunk.
            let chunks = 40
            for chunk in 0..<chunks {
                _ = try await services.store.write { sql in
                    for index in 0..<SearchIndexer.chunk {
                        let body = "agents vest \(chunk) badge \(index) quelbrin"
                        try await sql.raw(
                            "INSERT INTO search_documents (source_id, kind, reference, body) VALUES (randomblob(16), 'incident', 'I-2026-999997', \(bind: body))"
                        ).run()
                    }
                    _ = try await SearchIndexer.indexPending(on: sql)
                }
            }
            let segments = try await count("SELECT count(DISTINCT segid) AS count FROM search_fts_idx")
            #expect(segments < chunks / 2, "merged: \(segments) segments for \(chunks) chunks")
            #expect(
                try await count("SELECT count(*) AS count FROM search_fts WHERE search_fts MATCH 'quelbrin'")
                    == chunks * SearchIndexer.chunk)
            try await sql.raw("INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 1)").run()
            try await services.store.onFluent { try await TuneSearchMerging().revert(on: $0) }
            #expect(try await setting("automerge") == 4)
            #expect(try await setting("usermerge") == 4)
            #expect(try await setting("crisismerge") == 16)
        }
    }
}

extension FluentReportStore {
    /// Runs `body` (a migration, say) with the Fluent database of a write transaction.
    func onFluent(_ body: @escaping @Sendable (any Database) async throws -> Void) async throws {
        try await unitOfWork { unit in
            _ = try await unit.connection()
            try await body(unit.database)
        }
    }
}
