import AttestCore
import AttestPersistence
import AttestTestSupport
import FluentKit
import FluentSQL
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

extension TestHarness {
    /// A case file for one accepted report, opened by a supervisor: `CF-2026-000001`.
    func openCaseFile() async throws -> CaseFile {
        let services = app.attest
        let receipt = try await services.submitReport.execute(.init(submission: .minimal()))
        let login = try await enroll(.supervisor, email: "opening-supervisor@city.example")
        let supervisor = try #require(try await services.store.account(email: login.email))
        _ = try await TriageReport(store: services.store, clock: clock, random: SeededRandom(), limits: ReportLimits())
            .execute(.init(reference: receipt.reference, to: .screening, actor: supervisor))
        let incident = try await AcceptReport(
            store: services.store, clock: clock, random: SeededRandom(), jurisdiction: services.jurisdiction
        ).execute(reference: receipt.reference, into: .newIncident, actor: supervisor)
        return try await services.openCaseFile.execute(for: incident, actor: supervisor)
    }

    /// A new staff member of `role`: how they sign in, and their account.
    func enrollAccount(_ role: StaffRole) async throws -> (login: StaffLogin, account: StaffAccount) {
        let login = try await enroll(role)
        return (login, try #require(try await app.attest.store.account(email: login.email)))
    }

    /// The case file use case, drawing ids from a seed of its own so that they never meet other fixtures' ids.
    func caseFileEditor(seed: UInt64) -> EditCaseFile {
        let services = app.attest
        return EditCaseFile(
            store: services.store, staff: services.store, jurisdiction: services.jurisdiction, clock: clock,
            random: SeededRandom(seed: seed))
    }

    /// The raw `case_file_parts` rows, as stored.
    func storedParts() async throws -> [(kind: String, body: String, sealed: String?)] {
        struct Row: Decodable {
            var kind: String
            var body_json: String
            var sealed: String?
        }
        let sql = app.db as! any SQLDatabase
        return try await sql.select().columns("kind", "body_json", "sealed").from("case_file_parts")
            .all(decoding: Row.self).map { ($0.kind, $0.body_json, $0.sealed) }
    }
}

@Suite("Case file parts")
struct CaseFilePartsTests {
    @Test(
        "An investigator adds a subject, a person, an allegation, a timeline event, a note and a task; each is a record.changed entry and the log verifies"
    )
    func build() async throws {
        try await withAttest { harness in
            let caseFile = try await harness.openCaseFile()
            let path = "/staff/case-files/\(caseFile.reference)"
            let login = try await harness.enroll(.investigator)
            let investigator = try #require(try await harness.app.attest.store.account(email: login.email))
            var browser = Browser(harness.app)
            _ = try await browser.signIn(login, clock: harness.clock)
            let csrf = try #require(Browser.csrfToken(in: try await browser.get(path).body.string))

            let subject = try await browser.post(
                "\(path)/subjects",
                form: [
                    ("csrf", csrf), ("agency", "ice"), ("vest_text", "POLICE ERO"), ("badge", "4471"),
                    ("plate", "IL 7K42X"), ("masked", "fully"), ("plain_clothes", "no"), ("body_camera", "no"),
                    ("is_supervisor", "unknown"), ("credential_check", "Refused to show credentials"),
                ])
            #expect(subject.status == .seeOther)
            #expect(subject.headers.first(name: .location) == "\(path)#subjects")
            let person = try await browser.post(
                "\(path)/persons",
                form: [
                    ("csrf", csrf), ("label", "Person A"), ("role", "victim"), ("description", "Adult, injured wrist"),
                    ("contact_phone", "+1 312 555 0142"),
                ])
            #expect(person.status == .seeOther)
            let personID = try #require(
                try await harness.app.attest.store.parts(of: caseFile.reference).first { $0.body.kind == .person }?.id)
            let allegation = try await browser.post(
                "\(path)/allegations",
                form: [
                    ("csrf", csrf), ("category", "unlawful_entry"), ("subjects", "SA-0001"),
                    ("persons", personID.description), ("summary", "Entered the apartment without consent."),
                    ("warrant_shown", "yes"), ("warrant_kind", "administrative_i205"), ("consent_to_entry", "no"),
                    ("stated_purpose", "Looking for someone else"), ("recommended_finding", "substantiated_referred"),
                ])
            #expect(allegation.status == .seeOther)
            #expect(
                try await browser.post(
                    "\(path)/events",
                    form: [
                        ("csrf", csrf), ("event_date", "2026-11-20"), ("event_time", "14:05"),
                        ("event_text", "Agents force the door"),
                    ]
                ).status == .seeOther)
            #expect(
                try await browser.post("\(path)/notes", form: [("csrf", csrf), ("note", "Neighbour has video.")]).status
                    == .seeOther)
            #expect(
                try await browser.post(
                    "\(path)/tasks",
                    form: [
                        ("csrf", csrf), ("title", "Request the neighbour's video"),
                        ("assignee", investigator.id.description), ("due", "2026-12-01"),
                    ]
                ).status == .seeOther)
            #expect(
                try await browser.post(
                    "\(path)/assignee", form: [("csrf", csrf), ("assignee", investigator.id.description)]
                ).status == .seeOther)

            let parts = try await harness.app.attest.store.parts(of: caseFile.reference)
            #expect(parts.map(\.body.kind) == [.subject, .person, .allegation, .event, .note, .task])
            let task = try #require(parts.first { $0.body.kind == .task })
            #expect(
                try await browser.post("\(path)/tasks/\(task.id)/done", form: [("csrf", csrf)]).status == .seeOther)

            let page = try await browser.get(path).body.string
            for text in [
                "SA-0001", "POLICE ERO", "Refused to show credentials", "Person A", "+1 312 555 0142",
                "Entry into a home or building without a judicial warrant", "Administrative warrant (I-205)",
                "Looking for someone else",
                "Substantiated, referred", "Agents force the door", "INC-2026-000001 began", "Neighbour has video.",
                "Request the neighbour&#39;s video", "Investigator Tester",
            ] {
                #expect(page.contains(text), "page shows \(text)")
            }
            #expect(page.contains("<strong>Done</strong>"))
            // The timeline is in time order: the incident began before the door was forced.
            let began = try #require(page.range(of: "INC-2026-000001 began"))
            let door = try #require(page.range(of: "Agents force the door"))
            #expect(began.lowerBound < door.lowerBound)

            // The phone number is sealed: it is in no stored column, and an auditor does not see it.
            let stored = try await harness.storedParts()
            // (Not the bare "555": a UUID in a body or a base64 ciphertext contains it by chance, about once in fifty runs.)
            let phoneForms = ["555 0142", "5550142", "555-0142", "555\\u00a00142"]
            #expect(
                !stored.contains { part in
                    phoneForms.contains { part.body.contains($0) || (part.sealed ?? "").contains($0) }
                })
            #expect(stored.filter { $0.sealed != nil }.count == 1)
            let auditorLogin = try await harness.enroll(.auditor)
            var auditor = Browser(harness.app)
            _ = try await auditor.signIn(auditorLogin, clock: harness.clock)
            let audited = try await auditor.get(path).body.string
            #expect(audited.contains("Person A") && !audited.contains("555 0142"))
            #expect(!audited.contains("/subjects\""), "no forms for a read-only role")

            #expect(try await harness.custodyKinds(of: "subject:SA-0001") == ["record.changed"])
            #expect(try await harness.custodyKinds(of: "case-file:CF-2026-000001/task:\(task.id)").count == 2)
            #expect(try await VerifyLogCommand.verify(harness.app.attest).isClean)
        }
    }

    @Test("Bad input is refused with a specific message and stores nothing")
    func refusals() async throws {
        try await withAttest { harness in
            let caseFile = try await harness.openCaseFile()
            let path = "/staff/case-files/\(caseFile.reference)"
            let login = try await harness.enroll(.investigator)
            var browser = Browser(harness.app, acceptLanguage: "es")
            _ = try await browser.signIn(login, clock: harness.clock)
            let csrf = try #require(Browser.csrfToken(in: try await browser.get(path).body.string))
            _ = try await browser.post("\(path)/subjects", form: [("csrf", csrf), ("badge", "12")])
            let before = try await harness.storedParts().count
            let entries = try await harness.custodyKinds(of: "case-file:CF-2026-000001").filter {
                $0 == "record.changed"
            }
            .count

            let cases: [(String, [(String, String)], HTTPStatus, String)] = [
                (
                    "allegations", [("category", "jaywalking"), ("subjects", "SA-0001")], .unprocessableEntity,
                    "jaywalking no es una categoría"
                ),
                ("allegations", [("category", "physical_force")], .unprocessableEntity, "al menos un agente sujeto"),
                (
                    "allegations", [("category", "physical_force"), ("subjects", "SA-0099")], .unprocessableEntity,
                    "solo puede nombrar"
                ),
                (
                    "allegations",
                    [("category", "physical_force"), ("subjects", "SA-0001"), ("warrant_kind", "verbal")],
                    .unprocessableEntity, "Tipo de orden"
                ),
                ("notes", [("note", " \u{200B}\u{3000} ")], .unprocessableEntity, "Nota"),
                ("notes", [("note", String(repeating: "x", count: 5_001))], .unprocessableEntity, "Nota"),
                ("subjects", [("badge", "12\u{0}34")], .unprocessableEntity, "Placa"),
                ("subjects", [("agency", "fbi")], .unprocessableEntity, "Agencia"),
                ("persons", [("label", "B"), ("report", "not-a-reference")], .unprocessableEntity, "Referencia"),
                (
                    "events", [("event_date", "2026-02-30"), ("event_time", "10:00"), ("event_text", "x")],
                    .unprocessableEntity, "Fecha"
                ),
                (
                    "events", [("event_date", "2027-01-01"), ("event_time", "10:00"), ("event_text", "x")],
                    .unprocessableEntity, "Fecha"
                ),
                (
                    "tasks", [("title", "Call"), ("assignee", UUID().uuidString)], .unprocessableEntity,
                    "investigador o supervisor activo"
                ),
                ("tasks", [("title", "Call"), ("due", "tomorrow")], .unprocessableEntity, "Fecha límite"),
                ("assignee", [("assignee", "nobody")], .unprocessableEntity, "Asignado a"),
            ]
            for (route, fields, status, message) in cases {
                let response = try await browser.post("\(path)/\(route)", form: [("csrf", csrf)] + fields)
                #expect(response.status == status, "\(route) \(fields)")
                #expect(response.body.string.contains(message), "\(route) \(fields): \(message)")
            }
            #expect(try await browser.post("\(path)/notes", form: [("note", "no token")]).status == .forbidden)
            #expect(
                try await browser.post("/staff/case-files/CF-2026-000999/notes", form: [("csrf", csrf), ("note", "x")])
                    .status == .notFound)
            #expect(
                try await browser.post("\(path)/tasks/\(UUID())/done", form: [("csrf", csrf)]).status == .notFound)
            #expect(try await harness.storedParts().count == before)
            #expect(
                try await harness.custodyKinds(of: "case-file:CF-2026-000001").filter { $0 == "record.changed" }.count
                    == entries)
        }
    }

    @Test(
        "Only a supervisor attaches a real identity (with a reason, sealed at rest, surviving key rotation) and decides the final finding"
    )
    func supervisorOnly() async throws {
        try await withAttest { harness in
            let caseFile = try await harness.openCaseFile()
            let path = "/staff/case-files/\(caseFile.reference)"
            let investigatorLogin = try await harness.enroll(.investigator)
            var investigator = Browser(harness.app)
            _ = try await investigator.signIn(investigatorLogin, clock: harness.clock)
            var csrf = try #require(Browser.csrfToken(in: try await investigator.get(path).body.string))
            _ = try await investigator.post("\(path)/subjects", form: [("csrf", csrf), ("badge", "4471")])
            _ = try await investigator.post(
                "\(path)/allegations", form: [("csrf", csrf), ("category", "physical_force"), ("subjects", "SA-0001")])
            let parts = try await harness.app.attest.store.parts(of: caseFile.reference)
            let subjectID = try #require(parts.first { $0.body.kind == .subject }?.id)
            let allegationID = try #require(parts.first { $0.body.kind == .allegation }?.id)

            let refused = try await investigator.post(
                "\(path)/subjects/\(subjectID)/identity",
                form: [("csrf", csrf), ("identity", "John Roe"), ("reason", "FOIA response")])
            #expect(refused.status == .forbidden)
            #expect(
                try await investigator.post(
                    "\(path)/allegations/\(allegationID)/finding",
                    form: [("csrf", csrf), ("final_finding", "unfounded"), ("standard_of_proof", "preponderance")]
                ).status == .forbidden)

            let supervisorLogin = try await harness.enroll(.supervisor)
            var supervisor = Browser(harness.app)
            _ = try await supervisor.signIn(supervisorLogin, clock: harness.clock)
            csrf = try #require(Browser.csrfToken(in: try await supervisor.get(path).body.string))
            let noReason = try await supervisor.post(
                "\(path)/subjects/\(subjectID)/identity", form: [("csrf", csrf), ("identity", "John Roe")])
            #expect(noReason.status == .unprocessableEntity)
            #expect(noReason.body.string.contains("Reason"))
            #expect(
                try await supervisor.post(
                    "\(path)/subjects/\(subjectID)/identity",
                    form: [
                        ("csrf", csrf), ("identity", "John Roe"), ("reason", "Named in the FOIA response of 12 Nov"),
                    ]
                ).status == .seeOther)
            #expect(
                try await supervisor.post(
                    "\(path)/allegations/\(allegationID)/finding",
                    form: [
                        ("csrf", csrf), ("final_finding", "substantiated_referred"),
                        ("standard_of_proof", "clear_and_convincing"),
                    ]
                ).status == .seeOther)
            #expect(
                try await supervisor.post(
                    "\(path)/allegations/\(allegationID)/finding",
                    form: [("csrf", csrf), ("final_finding", "guilty"), ("standard_of_proof", "preponderance")]
                ).status == .unprocessableEntity)

            let supervisorPage = try await supervisor.get(path).body.string
            #expect(supervisorPage.contains("John Roe") && supervisorPage.contains("Named in the FOIA response"))
            #expect(supervisorPage.contains(#"data-finding="substantiated_referred""#))
            #expect(supervisorPage.contains("Clear and convincing evidence"))
            let investigatorPage = try await investigator.get(path).body.string
            #expect(!investigatorPage.contains("John Roe") && investigatorPage.contains("A real identity is on file"))
            #expect(
                !(try await harness.storedParts().contains {
                    ($0.sealed ?? "").contains("Roe") || $0.body.contains("Roe")
                }))
            #expect(try await harness.custodyKinds(of: "subject:SA-0001") == ["record.changed", "record.changed"])

            // Rotating the contact key re-seals the identity; it still opens.
            let sealedBefore = try #require(try await harness.storedParts().compactMap(\.sealed).first)
            _ = try await RotateKeysCommand.rotate(harness.app.attest)
            let sealedAfter = try #require(try await harness.storedParts().compactMap(\.sealed).first)
            #expect(ContactCipher.keyID(of: sealedBefore) != ContactCipher.keyID(of: sealedAfter))
            #expect(
                try await harness.app.attest.store.parts(of: caseFile.reference).first { $0.id == subjectID }?.sealed
                    == "John Roe")
            #expect(try await VerifyLogCommand.verify(harness.app.attest).isClean)
        }
    }

    @Test(
        "Every edit of a closed case file (each edit route: parts, assignment, checklist, identity, finding, tasks, timeline) is refused with 409 and a clear message, storing nothing, until a supervisor reopens it"
    )
    func closedCaseFile() async throws {
        try await withAttest { harness in
            let services = harness.app.attest
            let caseFile = try await harness.openCaseFile()
            let path = "/staff/case-files/\(caseFile.reference)"
            let (login, supervisor) = try await harness.enrollAccount(.supervisor)
            let editor = harness.caseFileEditor(seed: 11)
            let subject = try await editor.add(.subject(SubjectAgent()), to: caseFile.reference, actor: supervisor)
            var allegation = Allegation(category: "physical_force")
            allegation.subjects = [try #require(subject.number)]
            let alleged = try await editor.add(.allegation(allegation), to: caseFile.reference, actor: supervisor)
            let task = try await editor.add(
                .task(CaseTask(title: "Call the witness")), to: caseFile.reference, actor: supervisor)

            // Every edit route, with input it accepts on an open case file. The route table is checked below, so a
            // new edit route fails this test until it is added here.
            let edits: [(route: String, path: String, fields: [(String, String)])] = [
                ("assignee", "assignee", [("assignee", supervisor.id.description)]),
                ("subjects", "subjects", [("badge", "4471")]),
                (
                    "subjects/:part/identity", "subjects/\(subject.id)/identity",
                    [("identity", "John Roe"), ("reason", "Named in a court filing")]
                ),
                ("persons", "persons", [("label", "Person A")]),
                ("allegations", "allegations", [("category", "physical_force"), ("subjects", "SA-0001")]),
                (
                    "allegations/:part/finding", "allegations/\(alleged.id)/finding",
                    [("final_finding", "unfounded"), ("standard_of_proof", "preponderance")]
                ),
                ("notes", "notes", [("note", "Neighbour has video.")]),
                ("tasks", "tasks", [("title", "Request the video")]),
                ("tasks/:part/done", "tasks/\(task.id)/done", []),
                (
                    "events", "events",
                    [("event_date", "2026-11-20"), ("event_time", "14:05"), ("event_text", "Door forced")]
                ),
                ("checklist", "checklist", [("police_report_number", "JB-123456")]),
            ]
            let editRoutes = Set(
                harness.app.routes.all.filter { $0.method == .POST }.map { $0.path.map(\.description) }
                    .filter { $0.starts(with: ["staff", "case-files", ":reference"]) && $0.count > 3 }
                    .map { $0.dropFirst(3).joined(separator: "/") })
            #expect(editRoutes.subtracting(["status"]) == Set(edits.map(\.route)), "every edit route is tried")

            let move = MoveCaseFile(store: services.store, clock: harness.clock)
            for next in [CaseFileStatus.active, .supervisorReview] {
                _ = try await move.execute(caseFile.reference, to: next, outcome: nil, actor: supervisor)
            }
            _ = try await move.execute(caseFile.reference, to: .closed, outcome: .referred, actor: supervisor)

            var browser = Browser(harness.app)
            _ = try await browser.signIn(login, clock: harness.clock)
            let page = try await browser.get(path).body.string
            #expect(page.contains(#"id="case-file-closed""#))
            for edit in edits { #expect(!page.contains("\(path)/\(edit.path)\""), "no form for \(edit.route)") }
            #expect(page.contains("\(path)/status\""), "the supervisor can still reopen it")
            let csrf = try #require(Browser.csrfToken(in: page))
            let parts = try await harness.storedParts()
            // Refusals show the page again, which records a view: only changes are counted.
            func changes() async throws -> Int {
                struct Count: Decodable { var count: Int }
                return try await (harness.app.db as! any SQLDatabase).raw(
                    "SELECT count(*) AS count FROM custody_entries WHERE kind = 'record.changed'"
                ).first(decoding: Count.self)?.count ?? 0
            }
            let entries = try await changes()
            for edit in edits {
                let response = try await browser.post("\(path)/\(edit.path)", form: [("csrf", csrf)] + edit.fields)
                #expect(response.status == .conflict, "\(edit.route) on a closed case file")
                #expect(response.body.string.contains("This case file is closed"), "\(edit.route)")
            }
            var spanish = Browser(harness.app, acceptLanguage: "es")
            _ = try await spanish.signIn(login, clock: harness.clock)
            let refused = try await spanish.submit(path, to: "\(path)/notes", [("note", "Otra nota")])
            #expect(refused.status == .conflict && refused.body.string.contains("Este expediente está cerrado"))
            #expect(try await harness.storedParts().map(\.body) == parts.map(\.body))
            #expect(try await changes() == entries, "no record.changed entry")
            let closed = try #require(try await services.store.caseFile(reference: caseFile.reference))
            #expect(closed.status == .closed && closed.assignee == nil && closed.checklist == ExecutiveOrderChecklist())

            // Reopened by a supervisor, the case file takes every edit again.
            let reopened = try await browser.post("\(path)/status", form: [("csrf", csrf), ("status", "active")])
            #expect(reopened.status == .seeOther)
            for edit in edits {
                let response = try await browser.post("\(path)/\(edit.path)", form: [("csrf", csrf)] + edit.fields)
                #expect(
                    response.status == .seeOther, "\(edit.route) after reopening: \(response.body.string.prefix(200))")
            }
            let edited = try #require(try await services.store.caseFile(reference: caseFile.reference))
            #expect(edited.assignee == supervisor.id && edited.checklist.policeReportNumber == "JB-123456")
            #expect(try await harness.storedParts().count == parts.count + 6)
            #expect(try await VerifyLogCommand.verify(services).isClean)
        }
    }

    @Test("An edit checked before a supervisor closes the case file is still refused when it is written")
    func closedBetweenCheckAndWrite() async throws {
        try await withAttest { harness in
            let services = harness.app.attest
            let caseFile = try await harness.openCaseFile()
            let (_, supervisor) = try await harness.enrollAccount(.supervisor)
            let note = try await harness.caseFileEditor(seed: 12).add(
                .note(CaseNote(text: "Before the close")), to: caseFile.reference, actor: supervisor)
            let move = MoveCaseFile(store: services.store, clock: harness.clock)
            for next in [CaseFileStatus.active, .supervisorReview] {
                _ = try await move.execute(caseFile.reference, to: next, outcome: nil, actor: supervisor)
            }
            _ = try await move.execute(caseFile.reference, to: .closed, outcome: .referred, actor: supervisor)
            // EditCaseFile's first check reads the case file as it was before the close (as it would had the
            // close come just after the check): the unit of work that writes refuses the edit all the same.
            var editor = harness.caseFileEditor(seed: 13)
            editor.store = StaleCaseFileReads(store: services.store, stale: caseFile)
            await #expect(throws: CaseFileEditError.caseFileClosed) {
                _ = try await editor.add(
                    .note(CaseNote(text: "After the close")), to: caseFile.reference, actor: supervisor)
            }
            await #expect(throws: CaseFileEditError.caseFileClosed) {
                _ = try await editor.update(note.id, of: caseFile.reference, actor: supervisor) { part in
                    part.body = .note(CaseNote(text: "Changed after the close"))
                }
            }
            await #expect(throws: CaseFileEditError.caseFileClosed) {
                try await editor.assign(caseFile.reference, to: supervisor.id, actor: supervisor)
            }
            let stored = try await harness.storedParts()
            #expect(stored.count == 1 && stored[0].body.contains("Before the close"), "\(stored)")
        }
    }

    @Test("attest log verify names a case file part changed, deleted or added behind the application's back")
    func tampering() async throws {
        try await withAttest { harness in
            let caseFile = try await harness.openCaseFile()
            let services = harness.app.attest
            let login = try await harness.enroll(.investigator)
            let investigator = try #require(try await services.store.account(email: login.email))
            let editor = harness.caseFileEditor(seed: 7)
            let note = try await editor.add(
                .note(CaseNote(text: "Original note")), to: caseFile.reference, actor: investigator)
            let subject = try await editor.add(.subject(SubjectAgent()), to: caseFile.reference, actor: investigator)
            #expect(try await VerifyLogCommand.verify(services).isClean)
            let sql = harness.app.db as! any SQLDatabase

            try await sql.raw(
                "UPDATE case_file_parts SET body_json = '{\"text\":\"Rewritten note\"}' WHERE kind = 'note'"
            ).run()
            var outcome = try await VerifyLogCommand.verify(services)
            #expect(outcome.discrepancies.contains { $0.contains(note.recordID) && $0.contains("does not match") })

            try await sql.raw("DELETE FROM case_file_parts WHERE kind = 'subject'").run()
            outcome = try await VerifyLogCommand.verify(services)
            #expect(outcome.discrepancies.contains { $0.contains("subject:SA-0001") && $0.contains("deleted?") })
            _ = subject

            try await sql.raw(
                """
                INSERT INTO case_file_parts (id, case_file, kind, number, position, body_json, sealed, author, created_at)
                SELECT \(bind: UUID()), case_file, 'note', NULL, 99, '{"text":"Planted"}', NULL, author, created_at
                FROM case_file_parts WHERE kind = 'note'
                """
            ).run()
            outcome = try await VerifyLogCommand.verify(services)
            #expect(outcome.discrepancies.contains { $0.contains("added behind the application's back") })
        }
    }

    @Test("The case file lists its incidents' evidence with each item's custody history, downloads included")
    func evidenceHistory() async throws {
        try await withAttest { harness in
            let services = harness.app.attest
            let photo = Samples.jpeg(size: 50_000)
            let upload = try await TusClient(app: harness.app).upload(photo)
            let receipt = try await services.submitReport.execute(.init(submission: .minimal(), uploads: [upload]))
            let item = try #require(receipt.evidence.first?.item)
            let login = try await harness.enroll(.supervisor)
            let supervisor = try #require(try await services.store.account(email: login.email))
            _ = try await TriageReport(
                store: services.store, clock: harness.clock, random: SeededRandom(), limits: ReportLimits()
            ).execute(.init(reference: receipt.reference, to: .screening, actor: supervisor))
            let incident = try await AcceptReport(
                store: services.store, clock: harness.clock, random: SeededRandom(), jurisdiction: services.jurisdiction
            ).execute(reference: receipt.reference, into: .newIncident, actor: supervisor)
            let caseFile = try await services.openCaseFile.execute(for: incident, actor: supervisor)
            var browser = Browser(harness.app)
            _ = try await browser.signIn(login, clock: harness.clock)
            let path = "/staff/case-files/\(caseFile.reference)"
            var page = try await browser.get(path).body.string
            #expect(page.contains(item.sha256) && page.contains("evidence.ingested"))
            #expect(page.contains("/staff/evidence/\(item.id)") && !page.contains("export.made"))
            #expect(try await browser.get("/staff/evidence/\(item.id)").status == .ok)
            page = try await browser.get(path).body.string
            #expect(
                page.contains(
                    "export.made \(RFC3339.string(from: harness.clock.now().wholeSeconds)) \(supervisor.actorID)"))
        }
    }
}
