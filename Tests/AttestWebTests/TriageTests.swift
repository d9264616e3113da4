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

@Suite("Triage")
struct TriageTests {
    func custodyKinds(_ harness: TestHarness, record: String) async throws -> [String] {
        struct Row: Decodable { var kind: String }
        return try await (harness.app.db as! any SQLDatabase).raw(
            "SELECT kind FROM custody_entries WHERE record_id = \(bind: record) ORDER BY entry_index"
        ).all(decoding: Row.self).map(\.kind)
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
            _ = try await reporter.submit(
                "/follow-up", to: "/follow-up",
                [("reference", receipt.reference.description), ("code", receipt.followUpCode.grouped)])
            let status = try await reporter.get("/follow-up/report")
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
