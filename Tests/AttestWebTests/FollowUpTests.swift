import AttestCore
import AttestTestSupport
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

@Suite("Follow-up page")
struct FollowUpTests {
    func fileReport(_ harness: TestHarness) async throws -> SubmitReport.Receipt {
        try await harness.app.attest.submitReport.execute(.init(submission: .minimal()))
    }

    @Test("Reference and code open the status page; the reporter adds information; sign-out ends it")
    func flow() async throws {
        try await withAttest { harness in
            let receipt = try await fileReport(harness)
            var browser = Browser(harness.app)
            let signIn = try await browser.submit(
                "/follow-up", to: "/follow-up",
                [
                    ("reference", receipt.reference.description.lowercased()),
                    ("code", receipt.followUpCode.grouped.lowercased()),
                ]
            )
            #expect(signIn.status == .seeOther)
            #expect(signIn.headers.first(name: .location) == "/follow-up/report")
            let cookie = try #require(signIn.headers.setCookie?["attest_follow_up"])
            #expect(cookie.isHTTPOnly && cookie.sameSite == .strict)
            #expect(!cookie.string.contains(receipt.followUpCode.normalized), "the cookie is sealed")
            let status = try await browser.get("/follow-up/report")
            #expect(status.status == .ok)
            #expect(status.body.string.contains(receipt.reference.description))
            #expect(status.body.string.contains("Received"))
            let token = try #require(Browser.csrfToken(in: status.body.string))
            let added = try await browser.post(
                "/follow-up/supplements",
                form: [("csrf", token), ("text", "<script>alert('x')</script> \u{202E}gnp.exe")]
            )
            #expect(added.status == .seeOther)
            let thread = try await browser.get("/follow-up/report?added=1")
            let html = thread.body.string
            #expect(html.contains("Your information was added"))
            #expect(html.contains("<bdi>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; \u{202E}gnp.exe</bdi>"))
            #expect(!html.contains("<script>alert"))
            let messages = try await harness.app.attest.store.messages(
                of: try #require(try await harness.app.attest.store.report(reference: receipt.reference)).id
            )
            #expect(messages.map(\.body) == ["<script>alert('x')</script> \u{202E}gnp.exe"], "stored verbatim")
            let signOutToken = try #require(Browser.csrfToken(in: html))
            _ = try await browser.post("/follow-up/sign-out", form: [("csrf", signOutToken)])
            let after = try await browser.get("/follow-up/report")
            #expect(after.status == .seeOther)
        }
    }

    @Test("A wrong code is refused with a clear message and no session")
    func wrongCode() async throws {
        try await withAttest { harness in
            let receipt = try await fileReport(harness)
            var browser = Browser(harness.app, acceptLanguage: "es")
            for code in [FollowUpCode(random: SystemRandomSource()).grouped, "1234", ""] {
                let response = try await browser.submit(
                    "/follow-up", to: "/follow-up", [("reference", receipt.reference.description), ("code", code)]
                )
                #expect(response.status == .unauthorized)
                #expect(response.body.string.contains("no coinciden con ningún reporte"))
                #expect(browser.cookies["attest_follow_up"] == nil)
            }
        }
    }

    @Test("A forged, tampered or expired session cookie leads back to sign-in")
    func sessionCookie() async throws {
        try await withAttest(configure: { $0.followUpSessionSeconds = 600 }) { harness in
            let receipt = try await fileReport(harness)
            var browser = Browser(harness.app)
            _ = try await browser.submit(
                "/follow-up", to: "/follow-up",
                [("reference", receipt.reference.description), ("code", receipt.followUpCode.grouped)]
            )
            let sealed = try #require(browser.cookies["attest_follow_up"])
            browser.cookies["attest_follow_up"] = String(sealed.dropLast(2)) + (sealed.hasSuffix("AA") ? "BB" : "AA")
            #expect(try await browser.get("/follow-up/report").status == .seeOther)
            browser.cookies["attest_follow_up"] = sealed
            #expect(try await browser.get("/follow-up/report").status == .ok)
            harness.clock.advance(by: 601)
            #expect(try await browser.get("/follow-up/report").status == .seeOther)
        }
    }

    @Test("A blank supplement is refused on the page with a localized message, and nothing is added")
    func blankSupplement() async throws {
        try await withAttest { harness in
            let receipt = try await fileReport(harness)
            var browser = Browser(harness.app, acceptLanguage: "es")
            _ = try await browser.submit(
                "/follow-up", to: "/follow-up",
                [("reference", receipt.reference.description), ("code", receipt.followUpCode.grouped)]
            )
            let response = try await browser.submit(
                "/follow-up/report", to: "/follow-up/supplements", [("text", "\u{3000}\u{200B}")])
            #expect(response.status == .unprocessableEntity)
            #expect(response.body.string.contains("Esto contiene solo espacios o caracteres invisibles."))
            #expect(response.body.string.contains(#"aria-invalid="true""#))
        }
    }
}
