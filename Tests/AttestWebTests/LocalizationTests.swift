import AttestCore
import AttestTestSupport
import Foundation
import Testing

@testable import AttestWeb

@Suite("Translations and jurisdictions as data")
struct LocalizationTests {
    let catalogs: MessageCatalogs

    init() throws {
        catalogs = try MessageCatalogs.bundled()
    }

    @Test("Every catalog has exactly the same keys as English, and no empty message")
    func completeCatalogs() throws {
        let english = try #require(catalogs.catalogs["en"]).messages
        #expect(catalogs.catalogs.count >= 2)
        for (language, catalog) in catalogs.catalogs {
            #expect(Set(catalog.messages.keys) == Set(english.keys), "\(language)")
            #expect(catalog.messages.values.allSatisfy { !$0.isEmpty }, "\(language)")
        }
    }

    @Test("Every message a template or the error mapping uses exists")
    func usedKeysExist() throws {
        let english = try #require(catalogs.catalogs["en"]).messages
        let views = AttestResources.directory.appendingPathComponent("Views")
        let files = FileManager.default.enumerator(at: views, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "leaf" }
        #expect(files.count >= 6)
        let regex = try NSRegularExpression(pattern: #"\(t\.([A-Za-z0-9_]+)\)"#)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let key = String(text[Range(match.range(at: 1), in: text)!])
                #expect(english[key] != nil, "\(file.lastPathComponent) uses \(key)")
            }
        }
        let problems: [ValidationIssue.Problem] = [
            .required, .blank, .tooLong(max: 1), .controlCharacters, .malformed, .impossibleDate, .inFuture,
            .tooOld(earliestYear: 1), .reversedWindow, .windowTooLong(maxDays: 1), .outOfRange(min: 0, max: 1),
            .outsideJurisdiction, .unknownValue(""), .tooMany(max: 1), .duplicate(""), .missingContactMethod,
        ]
        for problem in problems {
            #expect(english["problem_\(ErrorMapping.code(of: problem))"] != nil, "\(problem)")
        }
        for status in TriageStatus.allCases {
            #expect(
                english["status_\(status.rawValue)"] != nil && english["status_\(status.rawValue)_explanation"] != nil)
        }
        for role in ReporterRole.allCases { #expect(english["role_\(role.rawValue)"] != nil) }
    }

    @Test(
        "Accept-Language is negotiated by quality, region and order",
        arguments: [
            ("es-MX,es;q=0.9,en;q=0.8", "es"), ("en-GB,en;q=0.9", "en"), ("fr-FR,fr;q=0.9,es;q=0.5", "es"),
            ("de", nil), ("*", "en"), ("es;q=0,en;q=0.1", "en"), ("", nil), ("en;q=0.2,es;q=0.8", "es"),
        ] as [(String, String?)])
    func negotiation(header: String, expected: String?) {
        #expect(MessageCatalogs.negotiate(acceptLanguage: header, offered: ["en", "es"]) == expected)
    }

    @Test(
        "A fictional jurisdiction changes the language, taxonomy, agencies, areas and time zone; nothing is Chicago's")
    func otherJurisdiction() async throws {
        try await withAttest(jurisdictionDirectory: Fixtures.rivertonDirectory) { harness in
            var browser = Browser(harness.app)
            let html = try await browser.get("/report").body.string
            #expect(html.contains("<html lang=\"es\""), "Riverton's default language is Spanish")
            #expect(html.contains("Fuerza excesiva") && html.contains("Patrulla del Río"))
            #expect(html.contains("Millbrook") && html.contains("Distrito"))
            for chicago in ["Chicago", "Rogers Park", "physical_force", "ICE (", "Loop"] {
                #expect(!html.contains(chicago), "\(chicago)")
            }
            let api = APIClient(app: harness.app)
            let jurisdiction = try await api.get("/api/v1/jurisdiction", headers: ["Accept-Language": "en"])
            struct Body: Decodable {
                struct Term: Decodable { var code: String; var label: String }
                var code: String
                var timeZone: String
                var categories: [Term]
            }
            let body = try jurisdiction.decoded(Body.self)
            #expect(body.code == "riverton" && body.timeZone == "America/Denver")
            #expect(body.categories.map(\.label) == ["Excessive force", "Records tampering"])
            let created = try await api.post(
                "/api/v1/reports",
                json: """
                    {"occurredAt":{"from":"2026-11-20T10:00:00-07:00"},"narrative":"x","categories":["excessive_force"],
                     "location":{"latitude":45.02,"longitude":-99.98}}
                    """)
            #expect(created.status == .created)
            let chicagoCategory = try await api.post(
                "/api/v1/reports",
                json: """
                    {"occurredAt":{"from":"2026-11-20T10:00:00-07:00"},"narrative":"x","categories":["physical_force"]}
                    """)
            #expect(chicagoCategory.status == .unprocessableEntity)
            let report = try await harness.app.attest.store.report(reference: ReportReference("R-2026-000001")!)
            #expect(report?.content.location.area == 7)
            #expect(report?.jurisdiction == "riverton")
        }
    }
}
