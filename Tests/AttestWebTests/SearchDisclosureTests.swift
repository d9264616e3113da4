import AttestCore
import AttestTestSupport
import FluentSQL
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import AttestPersistence
@testable import AttestWeb

/// A word planted in a field some roles may not see, with what a role needs to see it.
private struct Planted {
    var word: String
    var permission: StaffPermission
    var field: String
}

extension TestHarness {
    /// What a staff search shows as `browser`'s role: the page after the search form (which repeats the query).
    fileprivate func searchPage(_ query: String, as browser: inout Browser) async throws -> String {
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "q", value: query)]
        let response = try await browser.get("/staff/search?\(components.percentEncodedQuery ?? "")")
        #expect(response.status == .ok, "search \(query)")
        let page = response.body.string
        let form = try #require(page.range(of: #"role="search""#))
        let formEnd = try #require(page.range(of: "</form>", range: form.upperBound..<page.endIndex))
        return String(page[formEnd.upperBound...])
    }

    /// Every custody entry, as stored.
    fileprivate func custodyEntries() async throws -> [String] {
        struct Row: Decodable { var entry: String }
        return try await (app.db as! any SQLDatabase).select().column("entry").from("custody_entries")
            .all(decoding: Row.self).map(\.entry)
    }

    /// The `record.viewed` entries of `record`.
    fileprivate func views(of record: String) async throws -> [CustodyEntry] {
        try await app.attest.store.custodyHistory(of: record).map { try CustodyEntry(json: Data($0.entry.utf8)) }
            .filter { $0.kind == CustodyEventKind.recordViewed.rawValue }
    }
}

@Suite("Search shows only what the role may see, and records what it showed")
struct SearchDisclosureTests {
    /// A body of `kind` whose only text is `visible`. Exhaustive: a new kind of part must be added here.
    private static func body(_ kind: CaseFilePartBody.Kind, visible: String) -> CaseFilePartBody {
        switch kind {
        case .subject:
            var subject = SubjectAgent()
            subject.vestText = visible
            return .subject(subject)
        case .person: return .person(InvolvedPerson(label: visible, role: .witness))
        case .allegation:
            var allegation = Allegation(category: "physical_force")
            allegation.summary = visible
            return .allegation(allegation)
        case .note: return .note(CaseNote(text: visible))
        case .task: return .task(CaseTask(title: visible))
        case .event: return .event(TimelineEvent(occurredAt: Date(timeIntervalSince1970: 1_790_000_000), text: visible))
        }
    }

    /// Sealed personal data of `kind` as the page reads it: a subject's identity, a person's contact (JSON).
    private static func sealed(_ kind: CaseFilePartBody.Kind, word: String) throws -> String {
        switch kind {
        case .person: String(decoding: try CanonicalJSON.encode(ContactDetails(name: word)), as: UTF8.self)
        default: word
        }
    }

    /// `subject.identityReason` → `zqsubjectidentityreason`: one word, letters only, found nowhere by chance.
    private static func word(_ name: String) -> String {
        "zq" + name.lowercased().filter { $0.isLetter }
    }

    @Test(
        "For every role, every field a page hides from it (each restricted field, each kind of sealed personal data, a report's contact), planted with a word of its own, is never returned by its searches"
    )
    func hiddenFieldsAreNeverFound() async throws {
        try await withAttest { harness in
            let services = harness.app.attest
            let caseFile = try await harness.openCaseFile()
            let (author, supervisor) = try await harness.enrollAccount(.supervisor)
            let now = harness.clock.now().wholeSeconds

            // Derived from the definitions the pages use: `CaseFilePartBody.restrictedFields` and
            // `CaseFilePart.sealedPermission` (the case file page, through `CaseFilePart.visible(to:)`), and the
            // report page's contact rule (`viewContact`).
            var planted: [Planted] = []
            var visibleWords: [String] = []
            for kind in CaseFilePartBody.Kind.allCases {
                let fields = CaseFilePartBody.restrictedFields.filter { $0.kind == kind }
                let sealedPermission = CaseFilePart.sealedPermission(of: kind)
                guard !fields.isEmpty || sealedPermission != nil else { continue }
                let visible = Self.word("visible \(kind.rawValue)")
                visibleWords.append(visible)
                var body = Self.body(kind, visible: visible)
                for field in fields {
                    let word = Self.word(field.description)
                    field.set(word, in: &body)
                    planted.append(Planted(word: word, permission: field.permission, field: field.description))
                }
                var sealed: String?
                if let sealedPermission {
                    let word = Self.word("sealed \(kind.rawValue)")
                    sealed = try Self.sealed(kind, word: word)
                    planted.append(Planted(word: word, permission: sealedPermission, field: "\(kind.rawValue).sealed"))
                }
                let part = CaseFilePart(
                    id: Identifier(UUID()), caseFile: caseFile.reference, body: body, sealed: sealed,
                    author: supervisor.actorID, createdAt: now)
                try await services.store.transaction { unit in try await unit.caseFiles.insert(part) }
            }
            #expect(planted.contains { $0.field == "subject.identityReason" })
            var submission = ReportSubmission.minimal(narrative: "Agents stopped a car near zqvisiblereport.")
            submission.wantsContact = true
            submission.consentsToContact = true
            submission.contactName = Self.word("report contact")
            submission.contactEmail = "resident@example.org"
            let report = try await services.submitReport.execute(.init(submission: submission))
            planted.append(
                Planted(word: Self.word("report contact"), permission: .viewContact, field: "report.contact"))

            // Nothing hidden from any role is in the index at all.
            struct Document: Decodable { var body: String }
            let documents = try await (harness.app.db as! any SQLDatabase).select().column("body")
                .from("search_documents").all(decoding: Document.self).map { $0.body.lowercased() }
            for item in planted {
                #expect(!documents.contains { $0.contains(item.word) }, "\(item.field) is indexed")
            }

            let casePage = "/staff/case-files/\(caseFile.reference)"
            for role in StaffRole.allCases where StaffPolicy.allows(role, .search) {
                var browser = Browser(harness.app)
                _ = try await browser.signIn(try await harness.enroll(role), clock: harness.clock)
                let readsCaseFiles = StaffPolicy.allows(role, .viewCaseFiles)
                let hidden = planted.filter { !StaffPolicy.allows(role, $0.permission) }
                // The pages hide these from the role…
                let pages = [
                    readsCaseFiles ? try await browser.get(casePage).body.string : "",
                    try await browser.get("/staff/reports/\(report.reference)").body.string,
                ]
                for item in hidden {
                    #expect(!pages.contains { $0.contains(item.word) }, "\(role) sees \(item.field) on a page")
                }
                // …and so does search, although the parts themselves are found by what the role may see.
                for visible in visibleWords where readsCaseFiles {
                    #expect(
                        try await harness.searchPage(visible, as: &browser).contains(caseFile.reference.description),
                        "\(role) finds the part by \(visible)")
                }
                #expect(
                    try await harness.searchPage("zqvisiblereport", as: &browser).contains(
                        report.reference.description))
                for item in hidden {
                    let page = try await harness.searchPage(item.word, as: &browser)
                    #expect(page.contains(#"id="search-none""#), "\(role) finds \(item.field)")
                    #expect(!page.contains(item.word), "\(role) is shown \(item.field)")
                }
            }
            // The planted words are real: the case file page shows the reason and the sealed data to a supervisor.
            var supervisorBrowser = Browser(harness.app)
            _ = try await supervisorBrowser.signIn(author, clock: harness.clock)
            let supervisorPage = try await supervisorBrowser.get(casePage).body.string
            for field in ["subject.identityReason", "subject.sealed", "person.sealed"] {
                let item = try #require(planted.first { $0.field == field })
                #expect(supervisorPage.contains(item.word), "the supervisor sees \(field)")
            }
        }
    }

    @Test(
        "Existing databases: the migration re-indexes every case file part without its restricted fields, so a reason indexed before is no longer found; its revert restores the old index"
    )
    func migrationRemovesIndexedReasons() async throws {
        try await withAttest { harness in
            let services = harness.app.attest
            let caseFile = try await harness.openCaseFile()
            let (login, supervisor) = try await harness.enrollAccount(.supervisor)
            let editor = harness.caseFileEditor(seed: 3)
            var agent = SubjectAgent()
            agent.vestText = "zqvestbefore"
            let subject = try await editor.add(.subject(agent), to: caseFile.reference, actor: supervisor)
            try await editor.attachIdentity(
                "Jonas Roebuck", reason: "Named by zqoldreason in a court filing", to: subject.id,
                of: caseFile.reference, actor: supervisor)
            func found(_ word: String) async throws -> Bool {
                !(try await services.search.search(try SearchQuery(word), kinds: [.caseFile], limit: 5).isEmpty)
            }
            #expect(try await found("zqvestbefore"))
            #expect(!(try await found("zqoldreason")))

            // The index as it was before the migration: every text of the body, the reason included.
            // As the migrator runs it: each step in a transaction of its own. SQLite checks a connection's cached
            // schema only when a statement runs, but ALTER TABLE checks column names when it is prepared: on another
            // pooled connection, idle since before the DROP, ADD COLUMN met the dropped column ("duplicate column
            // name", seen twice in full suites). A read first brings that connection's schema up to date, as a
            // migrator's own bookkeeping reads do before each migration.
            try await harness.app.db.transaction { try await IndexSearchableCaseFileText().revert(on: $0) }
            #expect(try await found("zqoldreason"), "the old index had the reason")
            try await harness.app.db.transaction { database in
                _ = try await (database as! any SQLDatabase).raw("SELECT COUNT(*) FROM case_file_parts").all()
                try await IndexSearchableCaseFileText().prepare(on: database)
            }
            #expect(!(try await found("zqoldreason")), "the migration removed it")
            #expect(!(try await found("roebuck")))
            #expect(try await found("zqvestbefore"))
            let sql = try #require(harness.app.db as? any SQLDatabase)
            if sql.dialect.name == "sqlite" {
                try await sql.raw("INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 1)").run()
            }
            #expect(try await VerifyLogCommand.verify(services).isClean)
        }
    }

    @Test(
        "A results page records record.viewed for every record it shows an excerpt of (a report, a thread message, an incident, a case file part), before showing it; no entry and no log line carries the terms"
    )
    func resultsAreRecordedAsViews() async throws {
        try await withAttest { harness in
            let services = harness.app.attest
            let narrated = try await services.submitReport.execute(
                .init(submission: .minimal(narrative: "Agents blocked the trellisvane alley for an hour.")))
            let caseFile = try await harness.openCaseFile()
            let (_, supervisor) = try await harness.enrollAccount(.supervisor)
            // A question in another report's thread.
            let asked = try await services.submitReport.execute(.init(submission: .minimal()))
            let triage = TriageReport(
                store: services.store, clock: harness.clock, random: SeededRandom(seed: 9), limits: ReportLimits())
            try await triage.execute(.init(reference: asked.reference, to: .screening, actor: supervisor))
            try await triage.execute(
                .init(
                    reference: asked.reference, to: .needsInfo, question: "Was trellisvane the street?",
                    actor: supervisor))
            let askedReport = try #require(try await services.store.report(reference: asked.reference))
            let message = try #require(try await services.store.messages(of: askedReport.id).first)
            // The case file's incident and one of its notes.
            let incidentID = try #require(caseFile.incidents.first)
            var incident = try #require(try await services.store.incident(id: incidentID))
            incident.operation = "Operation Trellisvane"
            try await services.store.transaction { [incident] unit in try await unit.incidents.update(incident) }
            let note = try await harness.caseFileEditor(seed: 5).add(
                .note(CaseNote(text: "Trellisvane footage requested")), to: caseFile.reference, actor: supervisor)
            let narratedReport = try #require(try await services.store.report(reference: narrated.reference))
            let expected: [(String, String)] = [
                ("report:\(narrated.reference)", narratedReport.contentHash),
                ("report:\(asked.reference)/message:\(message.id)", message.contentHash),
                (incident.recordID, incident.contentHash),
                (note.recordID, note.contentHash),
            ]
            for (record, _) in expected { #expect(try await harness.views(of: record).isEmpty) }
            // A document whose record is gone (written behind the application's back) cannot be recorded: not shown.
            _ = try await services.store.write { sql in
                try await sql.raw(
                    "INSERT INTO search_documents (source_id, kind, reference, body) VALUES (\(bind: UUID()), 'report', 'R-2026-999999', 'trellisvane orphan')"
                ).run()
            }

            let (investigatorLogin, investigator) = try await harness.enrollAccount(.investigator)
            var browser = Browser(harness.app)
            _ = try await browser.signIn(investigatorLogin, clock: harness.clock)
            let logMark = CapturedLogs.all.count
            let entriesBefore = try await harness.custodyEntries().count
            let page = try await harness.searchPage("trellisvane", as: &browser)
            for reference in [
                narrated.reference.description, asked.reference.description, incident.reference.description,
                caseFile.reference.description,
            ] {
                #expect(page.contains(reference), "\(reference) shown")
            }
            #expect(!page.contains("R-2026-999999"), "a result without its record is not shown")
            for (record, hash) in expected {
                let views = try await harness.views(of: record)
                #expect(views.count == 1, "\(record) viewed once")
                #expect(views.first?.actor == investigator.actorID && views.first?.contentHash == hash, "\(record)")
            }
            #expect(try await harness.custodyEntries().count == entriesBefore + expected.count)

            // A search that finds nothing shows nothing and records nothing; a reference is recorded like a word.
            _ = try await harness.searchPage("quuxnothingmatches", as: &browser)
            #expect(try await harness.custodyEntries().count == entriesBefore + expected.count)
            _ = try await harness.searchPage(narrated.reference.description, as: &browser)
            #expect(try await harness.views(of: "report:\(narrated.reference)").count == 2)

            let entries = try await harness.custodyEntries()
            let logs = CapturedLogs.all.dropFirst(logMark)
            for term in ["trellisvane", "quuxnothingmatches"] {
                #expect(!entries.contains { $0.lowercased().contains(term) }, "\(term) in a custody entry")
                #expect(!logs.contains { $0.lowercased().contains(term) }, "\(term) logged")
            }
            #expect(try await VerifyLogCommand.verify(services).isClean)
        }
    }
}
