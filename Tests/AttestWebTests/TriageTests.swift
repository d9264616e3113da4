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
    /// The types of the custody entries naming `record`, oldest first.
    func custodyKinds(of record: String) async throws -> [String] {
        try await app.attest.store.custodyHistory(of: record).map { try CustodyEntry(json: Data($0.entry.utf8)).kind }
    }
}

@Suite("Triage")
struct TriageTests {
    func custodyKinds(_ harness: TestHarness, record: String) async throws -> [String] {
        try await harness.custodyKinds(of: record)
    }

    @Test("Intake sees the queue, opens a report (record.viewed), asks the reporter a question they see at /follow-up")
    func askForInformation() async throws {
        try await withAttest { harness in
            var submission = ReportSubmission.minimal(narrative: "Agentes detuvieron a un hombre en la parada del bus.")
            submission.wantsContact = true
            submission.contactPhone = "+1 312 555 0199"
            submission.consentsToContact = true
            let receipt = try await harness.app.attest.submitReport.execute(.init(submission: submission))
            let intake = try await harness.enroll(.intake)
            var staff = Browser(harness.app)
            _ = try await staff.signIn(intake, clock: harness.clock)
            let queue = try await staff.get("/staff/triage")
            #expect(queue.status == .ok)
            #expect(queue.body.string.contains(receipt.reference.description))

            let page = try await staff.get("/staff/reports/\(receipt.reference)")
            #expect(page.status == .ok)
            #expect(page.body.string.contains("parada del bus"))
            #expect(page.body.string.contains("+1 312 555 0199"), "intake sees the contact")
            #expect(
                try await custodyKinds(harness, record: "report:\(receipt.reference)") == [
                    "report.received", "record.viewed",
                ])
            let csrf = try #require(Browser.csrfToken(in: page.body.string))

            let forbidden = try await staff.post(
                "/staff/reports/\(receipt.reference)/status", form: [("csrf", csrf), ("status", "accepted")])
            #expect(forbidden.status == .conflict, "received → accepted skips screening")
            _ = try await staff.post(
                "/staff/reports/\(receipt.reference)/status", form: [("csrf", csrf), ("status", "screening")])
            let noQuestion = try await staff.post(
                "/staff/reports/\(receipt.reference)/status", form: [("csrf", csrf), ("status", "needs_info")])
            #expect(noQuestion.status == .unprocessableEntity)
            let asked = try await staff.post(
                "/staff/reports/\(receipt.reference)/status",
                form: [("csrf", csrf), ("status", "needs_info"), ("question", "¿Vio la placa del vehículo?")])
            #expect(asked.status == .seeOther)
            #expect(try await harness.app.attest.store.report(reference: receipt.reference)?.status == .needsInfo)

            // The reporter sees the question in their thread, answers, and the report returns to screening.
            var reporter = Browser(harness.app)
            let status = try await reporter.followUp(receipt)
            #expect(status.body.string.contains("¿Vio la placa del vehículo?"))
            let token = try #require(Browser.csrfToken(in: status.body.string))
            _ = try await reporter.post("/follow-up/supplements", form: [("csrf", token), ("text", "Sí: IL 7K…")])
            #expect(try await harness.app.attest.store.report(reference: receipt.reference)?.status == .screening)
            #expect(
                try await custodyKinds(harness, record: "report:\(receipt.reference)").filter { $0 == "record.changed" }
                    .count
                    == 2)
            #expect(try await VerifyLogCommand.verify(harness.app.attest).isClean, "the log verifies afterwards")
        }
    }

    @Test("An auditor reads a report without its contact details and cannot move it")
    func auditor() async throws {
        try await withAttest { harness in
            var submission = ReportSubmission.minimal()
            submission.wantsContact = true
            submission.contactEmail = "witness@example.org"
            submission.consentsToContact = true
            let receipt = try await harness.app.attest.submitReport.execute(.init(submission: submission))
            let auditor = try await harness.enroll(.auditor)
            var browser = Browser(harness.app)
            _ = try await browser.signIn(auditor, clock: harness.clock)
            let page = try await browser.get("/staff/reports/\(receipt.reference)")
            #expect(page.status == .ok)
            #expect(!page.body.string.contains("witness@example.org"))
            #expect(!page.body.string.contains("id=\"move-submit\""))
            #expect(try await browser.get("/staff/reports/R-2026-999999").status == .notFound)
        }
    }
}

@Suite("Incidents")
struct IncidentTests {
    @Test("Three related reports are suggested to each other and accepted into one incident; an investigator edits it")
    func threeIntoOne() async throws {
        try await withAttest { harness in
            var references: [ReportReference] = []
            for (time, narrative) in [
                ("14:00", "Masked agents in a grey van with plate 7K42X pushed a man at 26th and Pulaski."),
                ("14:20", "Agents from a grey van pushed a man near 26th and Pulaski; plate 7K42X."),
                ("14:45", "I saw a grey van leave 26th Street, agents had masks."),
            ] {
                var submission = ReportSubmission.minimal(narrative: narrative)
                submission.occurrence = .local(date: "2026-11-20", time: time, endDate: nil, endTime: nil)
                submission.latitude = "41.8445"
                submission.longitude = "-87.7249"
                submission.agents = [.init(vestText: "POLICE ICE", plateNumber: "7K42X")]
                references.append(
                    try await harness.app.attest.submitReport.execute(.init(submission: submission)).reference)
            }
            let intake = try await harness.enroll(.intake)
            var browser = Browser(harness.app)
            _ = try await browser.signIn(intake, clock: harness.clock)
            var incidentPath = ""
            for (number, reference) in references.enumerated() {
                let page = try await browser.get("/staff/reports/\(reference)")
                let html = page.body.string
                for other in references where other != reference {
                    #expect(html.contains(">\(other)</a>"), "\(reference) suggests \(other)")
                }
                #expect(html.contains("Same plate fragment 7K42X"))
                // Read from the stored JSON by the database (coordinates) and compared in Swift (wording).
                #expect(html.contains("0.0 km apart") && html.contains("Same vest text POLICEICE"))
                #expect(html.contains("Same community area"))
                var csrf = try #require(Browser.csrfToken(in: html))
                _ = try await browser.post(
                    "/staff/reports/\(reference)/status", form: [("csrf", csrf), ("status", "screening")])
                let screened = try await browser.get("/staff/reports/\(reference)")
                csrf = try #require(Browser.csrfToken(in: screened.body.string))
                let choice = number == 0 ? "new" : String(incidentPath.split(separator: "/").last!)
                let accepted = try await browser.post(
                    "/staff/reports/\(reference)/accept", form: [("csrf", csrf), ("incident", choice)])
                #expect(accepted.status == .seeOther)
                incidentPath = try #require(accepted.headers.first(name: .location))
            }
            #expect(incidentPath == "/staff/incidents/INC-2026-000001")
            let incident = try await browser.get(incidentPath)
            #expect(incident.status == .ok)
            for reference in references { #expect(incident.body.string.contains(">\(reference)</a>")) }
            #expect(!incident.body.string.contains("id=\"incident-save\""), "intake does not edit incidents")
            let reportPage = try await browser.get("/staff/reports/\(references[0])")
            #expect(reportPage.body.string.contains("INC-2026-000001"))
            let bogus = try await browser.post(
                "/staff/reports/\(references[0])/accept",
                form: [("csrf", try #require(Browser.csrfToken(in: reportPage.body.string))), ("incident", "new")])
            #expect(bogus.status == .conflict, "an accepted report cannot be accepted again")

            let investigator = try await harness.enroll(.investigator)
            var other = Browser(harness.app)
            _ = try await other.signIn(investigator, clock: harness.clock)
            let page = try await other.get(incidentPath)
            let csrf = try #require(Browser.csrfToken(in: page.body.string))
            let saved = try await other.post(
                incidentPath,
                form: [
                    ("csrf", csrf), ("place", "26th St & S Pulaski Rd"), ("operation", "Midway Blitz"),
                    ("summary", "Three witnesses; one man pushed; van plate 7K42X."),
                ])
            #expect(saved.status == .seeOther)
            let after = try await other.get(incidentPath)
            #expect(after.body.string.contains("Midway Blitz"))
            let kinds = try await harness.custodyKinds(of: "incident:INC-2026-000001")
            #expect(kinds.first == "record.changed" && kinds.contains("record.viewed") && kinds.last == "record.viewed")
            #expect(kinds.filter { $0 == "record.changed" }.count == 2, "opened, then edited")
            #expect(try await VerifyLogCommand.verify(harness.app.attest).isClean)
        }
    }
}

@Suite("Case files")
struct CaseFileWebTests {
    @Test("An investigator opens a case file and sends it to review; only a supervisor closes it, with an outcome")
    func review() async throws {
        try await withAttest { harness in
            let receipt = try await harness.app.attest.submitReport.execute(.init(submission: .minimal()))
            let supervisorLogin = try await harness.enroll(.supervisor)
            let supervisor = try #require(try await harness.app.attest.store.account(email: supervisorLogin.email))
            _ = try await TriageReport(
                store: harness.app.attest.store, clock: harness.clock, random: SeededRandom(), limits: ReportLimits()
            ).execute(.init(reference: receipt.reference, to: .screening, actor: supervisor))
            let incident = try await AcceptReport(
                store: harness.app.attest.store, clock: harness.clock, random: SeededRandom(),
                jurisdiction: harness.app.attest.jurisdiction
            ).execute(reference: receipt.reference, into: .newIncident, actor: supervisor)

            let investigatorLogin = try await harness.enroll(.investigator)
            var investigator = Browser(harness.app)
            _ = try await investigator.signIn(investigatorLogin, clock: harness.clock)
            let incidentPage = try await investigator.get("/staff/incidents/\(incident.reference)")
            var csrf = try #require(Browser.csrfToken(in: incidentPage.body.string))
            let opened = try await investigator.post(
                "/staff/incidents/\(incident.reference)/case-file", form: [("csrf", csrf)])
            let path = try #require(opened.headers.first(name: .location))
            #expect(path == "/staff/case-files/CF-2026-000001")
            let page = try await investigator.get(path)
            #expect(page.body.string.contains(#"data-status="open""#))
            csrf = try #require(Browser.csrfToken(in: page.body.string))
            for status in ["active", "supervisor_review"] {
                #expect(
                    try await investigator.post("\(path)/status", form: [("csrf", csrf), ("status", status)]).status
                        == .seeOther)
            }
            let closeAttempt = try await investigator.post(
                "\(path)/status", form: [("csrf", csrf), ("status", "closed"), ("outcome", "referred")])
            #expect(closeAttempt.status == .forbidden)
            #expect(closeAttempt.body.string.contains("Only a supervisor"))
            let checklist = try await investigator.post(
                "\(path)/checklist",
                form: [
                    ("csrf", csrf), ("body_camera_preserved", "yes"), ("body_camera_ids", "CPD-BWC-88123"),
                    ("supervisor_identification_attempted", "yes"),
                    ("supervisor_identification_result", "Refused to give a name"),
                    ("ems_summoned", "yes"), ("ems_summoned_at", "14:32"), ("aid_rendered", "no"),
                    ("police_report_number", "JH-412233"),
                ])
            #expect(checklist.status == .seeOther)

            var supervisorBrowser = Browser(harness.app)
            _ = try await supervisorBrowser.signIn(supervisorLogin, clock: harness.clock)
            let review = try await supervisorBrowser.get(path)
            #expect(review.body.string.contains("JH-412233") && review.body.string.contains("Refused to give a name"))
            let token = try #require(Browser.csrfToken(in: review.body.string))
            let noOutcome = try await supervisorBrowser.post(
                "\(path)/status", form: [("csrf", token), ("status", "closed")])
            #expect(noOutcome.status == .unprocessableEntity)
            let closed = try await supervisorBrowser.post(
                "\(path)/status", form: [("csrf", token), ("status", "closed"), ("outcome", "referred")])
            #expect(closed.status == .seeOther)
            let final = try await supervisorBrowser.get(path)
            #expect(final.body.string.contains(#"data-status="closed""#))
            #expect(final.body.string.contains("Referred"))
            let kinds = try await harness.custodyKinds(of: "case-file:CF-2026-000001")
            #expect(kinds.filter { $0 == "record.changed" }.count == 5, "opened, two moves, checklist, closed")
            #expect(kinds.contains("record.viewed"))
            #expect(try await VerifyLogCommand.verify(harness.app.attest).isClean)
        }
    }
}

@Suite("Evidence download and patterns")
struct StaffEvidenceTests {
    @Test(
        "Staff download an original byte for byte; each download is an export.made entry; patterns list recurring plates"
    )
    func download() async throws {
        try await withAttest { harness in
            let photo = Samples.jpeg(size: 200_000)
            let upload = try await TusClient(app: harness.app).upload(photo)
            var submission = ReportSubmission.minimal()
            submission.agents = [.init(plateNumber: "7K42X")]
            let receipt = try await harness.app.attest.submitReport.execute(
                .init(submission: submission, uploads: [upload]))
            let item = try #require(receipt.evidence.first?.item)
            let auditor = try await harness.enroll(.auditor)
            var browser = Browser(harness.app)
            _ = try await browser.signIn(auditor, clock: harness.clock)
            let page = try await browser.get("/staff/reports/\(receipt.reference)")
            #expect(page.body.string.contains("/staff/evidence/\(item.id)"))
            let file = try await browser.get("/staff/evidence/\(item.id)")
            #expect(file.status == .ok)
            #expect(Array(file.body.readableBytesView) == photo)
            #expect(file.headers.contentType?.description.hasPrefix("image/jpeg") == true)
            #expect(file.headers.first(name: .contentDisposition)?.hasPrefix("attachment") == true)
            let kinds = try await harness.custodyKinds(of: item.recordID)
            #expect(kinds == ["evidence.ingested", "export.made"])
            #expect(try await browser.get("/staff/evidence/\(UUID())").status == .notFound)

            // Two incidents sharing a plate show up as a pattern.
            let supervisorLogin = try await harness.enroll(.supervisor)
            let supervisor = try #require(try await harness.app.attest.store.account(email: supervisorLogin.email))
            var second = ReportSubmission.minimal(date: "2026-11-01")
            second.agents = [.init(plateNumber: "7K42")]
            let other = try await harness.app.attest.submitReport.execute(.init(submission: second))
            for reference in [receipt.reference, other.reference] {
                _ = try await TriageReport(
                    store: harness.app.attest.store, clock: harness.clock, random: SeededRandom(),
                    limits: ReportLimits()
                ).execute(.init(reference: reference, to: .screening, actor: supervisor))
                _ = try await AcceptReport(
                    store: harness.app.attest.store, clock: harness.clock,
                    random: SeededRandom(seed: UInt64(reference.number)),
                    jurisdiction: harness.app.attest.jurisdiction
                ).execute(reference: reference, into: .newIncident, actor: supervisor)
            }
            let patterns = try await browser.get("/staff/patterns")
            #expect(patterns.status == .ok)
            #expect(patterns.body.string.contains("<code>7K42</code>"))
            #expect(
                patterns.body.string.contains("INC-2026-000001") && patterns.body.string.contains("INC-2026-000002"))
        }
    }
}
