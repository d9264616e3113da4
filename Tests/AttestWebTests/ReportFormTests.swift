import AttestCore
import AttestTestSupport
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

@Suite("Report form and receipt")
struct ReportFormTests {
    static let validFields: [(String, String)] = [
        ("lang", "en"), ("date", "2026-11-20"), ("time", "14:30"), ("approximate", "yes"),
        ("location.description", "26th St & Pulaski"), ("location.communityArea", "30"),
        ("narrative", "Three agents in vests pushed a woman to the ground."), ("categories", "physical_force"),
        ("categories", "failure_to_identify"), ("agents.count", "3"), ("agents.agency", "ice"),
        ("agents.descriptions[0].vestText", "POLICE ICE"), ("agents.descriptions[0].masked", "fully"),
        ("agents.descriptions[0].bodyCamera", "no"), ("harm.injuries", "yes"), ("reporterRole", "witness"),
        ("contactChoice", "anonymous"), ("consents.publicStatistics", "yes"), ("website", ""),
    ]

    @Test("The form renders every field labelled, and asks nothing about citizenship or immigration status")
    func formIsLabelled() async throws {
        try await withAttest { harness in
            var browser = Browser(harness.app)
            let page = try await browser.get("/report")
            #expect(page.status == .ok)
            let html = page.body.string
            let ids = Self.matches(#"<(?:input|select|textarea)[^>]*\sid="([^"]+)""#, in: html)
            #expect(ids.count > 40)
            for id in ids {
                #expect(html.contains("for=\"\(id)\""), "field \(id) has a label")
            }
            let names = Self.matches(#"\sname="([^"]+)""#, in: html).map { $0.lowercased() }
            for forbidden in ["citizen", "immigration", "nationality", "visa", "status", "alien", "ssn", "passport"] {
                #expect(!names.contains { $0.contains(forbidden) }, "no field named like \(forbidden)")
            }
            #expect(html.contains("never asks about citizenship or immigration status"))
            #expect(!html.contains("field_"), "no untranslated label keys")
            #expect(!html.contains("problem_") && !html.contains("section_"))
        }
    }

    @Test("A resident files a report in English and gets a receipt with reference and code")
    func submitEnglish() async throws {
        try await withAttest { harness in
            var browser = Browser(harness.app)
            let response = try await browser.submit("/report", to: "/report", Self.validFields)
            #expect(response.status == .created)
            let html = response.body.string
            #expect(html.contains("R-2026-000001"))
            let code = try #require(Self.matches(#"id="receipt-code">([^<]+)<"#, in: html).first)
            #expect(FollowUpCode(typed: code) != nil)
            #expect(response.headers.first(name: .cacheControl) == "no-store")
            let report = try #require(
                try await harness.app.attest.store.report(reference: ReportReference("R-2026-000001")!))
            #expect(report.followUpCodeHash == FollowUpCode(typed: code)!.hash)
            #expect(report.content.categories == ["physical_force", "failure_to_identify"])
            #expect(report.content.agents.descriptions.first?.masked == .fully)
            #expect(report.content.location.area == 30)
            #expect(report.contact == nil)
            #expect(html.contains(report.contentHash))
        }
    }

    @Test("Spanish from Accept-Language: the form, its errors and the receipt are in Spanish")
    func submitSpanish() async throws {
        try await withAttest { harness in
            var browser = Browser(harness.app, acceptLanguage: "es-US,es;q=0.9")
            let form = try await browser.get("/report")
            #expect(form.body.string.contains("<html lang=\"es\""))
            #expect(form.body.string.contains("¿Qué pasó?"))
            let invalid = try await browser.submit(
                "/report", to: "/report", [("lang", "es"), ("date", "2026-11-20"), ("narrative", "\u{200B}")])
            #expect(invalid.status == .unprocessableEntity)
            #expect(invalid.body.string.contains("Esto contiene solo espacios o caracteres invisibles."))
            var fields = Self.validFields.filter { $0.0 != "lang" }
            fields.append(("lang", "es"))
            let receipt = try await browser.submit("/report", to: "/report", fields)
            #expect(receipt.status == .created)
            #expect(receipt.body.string.contains("Recibimos su reporte"))
            let report = try await harness.app.attest.store.report(reference: ReportReference("R-2026-000001")!)
            #expect(report?.content.language == "es")
        }
    }

    @Test("The language switcher's choice is remembered in a cookie")
    func languageSwitcher() async throws {
        try await withAttest { harness in
            var browser = Browser(harness.app, acceptLanguage: "en")
            let switched = try await browser.get("/report?lang=es")
            #expect(switched.body.string.contains("lang=\"es\""))
            #expect(browser.cookies["attest_lang"] == "es")
            let next = try await browser.get("/")
            #expect(next.body.string.contains("<html lang=\"es\""))
            #expect(next.body.string.contains("href=\"/?lang=en\""))
        }
    }

    @Test("Field errors are listed in a summary linked to their fields, which are marked invalid, and values are kept")
    func fieldErrors() async throws {
        try await withAttest { harness in
            var browser = Browser(harness.app)
            let response = try await browser.submit(
                "/report", to: "/report",
                [
                    ("date", "2026-02-30"), ("narrative", "   "), ("location.description", "Kedzie & 26th <b>"),
                    ("location.latitude", "95"), ("location.longitude", "-87.6"),
                    ("agents.descriptions[1].masked", "half"),
                ]
            )
            #expect(response.status == .unprocessableEntity)
            let html = response.body.string
            for (id, message) in [
                ("date", "This date or time does not exist."),
                ("narrative", "This contains only spaces or invisible characters."),
                ("location-latitude", "Must be between -90 and 90."),
                ("agents-descriptions-1--masked", "“half” is not one of the choices."),
            ] {
                #expect(html.contains("href=\"#\(id)\""), "summary links to \(id)")
                #expect(
                    html.contains("id=\"\(id)-error\">\(message.replacingOccurrences(of: "“", with: "“"))"),
                    "\(id) error")
            }
            #expect(html.contains(#"id="narrative" name="narrative""#))
            #expect(html.contains(#"aria-invalid="true" aria-describedby="narrative-hint narrative-error""#))
            #expect(html.contains("Kedzie &amp; 26th &lt;b&gt;"), "values kept, escaped")
            #expect(try await harness.reportCount() == 0)
        }
    }

    @Test("Without a valid CSRF token nothing is stored and the answers are kept for resubmission")
    func csrf() async throws {
        try await withAttest { harness in
            var browser = Browser(harness.app)
            _ = try await browser.get("/report")
            let missing = try await browser.post("/report", form: Self.validFields)
            #expect(missing.status == .forbidden)
            #expect(missing.body.string.contains("please send the form again"))
            #expect(missing.body.string.contains("Three agents in vests pushed a woman"))
            let forged = try await browser.post(
                "/report", form: [("csrf", String(repeating: "A", count: 43))] + Self.validFields)
            #expect(forged.status == .forbidden)
            var stranger = Browser(harness.app)
            let token = try #require(Browser.csrfToken(in: try await browser.get("/report").body.string))
            let crossSite = try await stranger.post("/report", form: [("csrf", token)] + Self.validFields)
            #expect(crossSite.status == .forbidden, "a token without its cookie is refused")
            #expect(try await harness.reportCount() == 0)
        }
    }

    @Test("The honeypot field refuses bots and stores nothing")
    func honeypot() async throws {
        try await withAttest { harness in
            var browser = Browser(harness.app)
            let response = try await browser.submit(
                "/report", to: "/report",
                Self.validFields.filter { $0.0 != "website" } + [("website", "http://spam.example")]
            )
            #expect(response.status == .unprocessableEntity)
            #expect(try await harness.reportCount() == 0)
        }
    }

    @Test("A body that is not valid UTF-8 or not percent-encoded is refused cleanly")
    func badEncoding() async throws {
        try await withAttest { harness in
            var browser = Browser(harness.app)
            let token = try #require(Browser.csrfToken(in: try await browser.get("/report").body.string))
            for body in [
                "csrf=\(token)&date=2026-11-20&narrative=%FF%FE", "csrf=\(token)&narrative=%E2%28",
                "csrf=\(token)&narrative=%G1",
            ] {
                let response = try await browser.post(
                    "/report", body: ByteBuffer(string: body), contentType: "application/x-www-form-urlencoded"
                )
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.body.string.contains("The form arrived damaged"))
            }
            var raw = ByteBuffer(string: "csrf=\(token)&date=2026-11-20&narrative=")
            raw.writeBytes([0xC0, 0xAF])
            let response = try await browser.post(
                "/report", body: raw, contentType: "application/x-www-form-urlencoded")
            #expect(response.status == .badRequest)
            let json = try await browser.post(
                "/report", body: ByteBuffer(string: "{}"), contentType: "application/json")
            #expect(json.status == .unsupportedMediaType)
            #expect(try await harness.reportCount() == 0)
        }
    }

    @Test("An oversized form gets a localized 413 page and stores nothing")
    func oversized() async throws {
        try await withAttest(configure: { $0.maxBodyBytes = 4_096 }) { harness in
            var browser = Browser(harness.app, acceptLanguage: "es")
            let response = try await browser.submit(
                "/report", to: "/report", [("date", "2026-11-20"), ("narrative", String(repeating: "x", count: 5_000))]
            )
            #expect(response.status == .payloadTooLarge)
            #expect(response.body.string.contains("Lo que envió es demasiado grande."))
            #expect(try await harness.reportCount() == 0)
        }
    }

    @Test("No form body yields a server error: random bytes and mutated fields after a valid token")
    func formNeverServerError() async throws {
        try await withAttest { harness in
            var browser = Browser(harness.app)
            let token = try #require(Browser.csrfToken(in: try await browser.get("/report").body.string))
            var generator = SystemRandomNumberGenerator()
            let valid = Array(Browser.encode(Self.validFields).utf8)
            for round in 0..<120 {
                var bytes = Array("csrf=\(token)&".utf8)
                if round % 2 == 0 {
                    bytes += (0..<Int.random(in: 0...300, using: &generator)).map { _ in
                        UInt8.random(in: 0...255, using: &generator)
                    }
                } else {
                    var mutated = valid
                    for _ in 0..<Int.random(in: 1...8, using: &generator) {
                        mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(
                            in: 0...255, using: &generator)
                    }
                    bytes += mutated
                }
                let response = try await browser.post(
                    "/report", body: ByteBuffer(bytes: bytes), contentType: "application/x-www-form-urlencoded"
                )
                #expect(response.status.code < 500, "round \(round): \(response.status)")
            }
        }
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: pattern)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }
}
