import AttestCore
import AttestTestSupport
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

@Suite("Small leaks: cookies, logs, files, keys, the upload lock")
struct SmallLeaksTests {
    @Test("Signing out of /follow-up clears the __Host- cookie with Secure, as it was set")
    func followUpSignOut() async throws {
        try await withAttest(configure: { $0.publicURL = "https://attest.test" }) { harness in
            let receipt = try await harness.app.attest.submitReport.execute(.init(submission: .minimal()))
            var browser = Browser(harness.app)
            let status = try await browser.followUp(receipt)
            #expect(browser.cookies["__Host-attest_follow_up"] != nil)
            let token = try #require(Browser.csrfToken(in: status.body.string))
            let response = try await browser.post("/follow-up/sign-out", form: [("csrf", token)])
            let cleared = try #require(response.headers.setCookie?["__Host-attest_follow_up"])
            #expect(cleared.string.isEmpty && cleared.maxAge == 0)
            #expect(cleared.isSecure, "a __Host- cookie without Secure is ignored, and the session stays")
            #expect(cleared.path == "/" && cleared.isHTTPOnly)
        }
    }

    @Test("The language choice is a session cookie, gone when the browser closes")
    func languageCookie() async throws {
        try await withAttest { harness in
            let response = try await harness.app.testing().sendRequest(.GET, "/report?lang=es")
            let cookie = try #require(response.headers.setCookie?["attest_lang"])
            #expect(cookie.string == "es")
            #expect(cookie.maxAge == nil && cookie.expires == nil)
        }
    }

    @Test("At debug level no log line holds SQL values, a narrative, a contact, a reference or a follow-up code")
    func debugLogs() async throws {
        try await withAttest { harness in
            // This application's own log, at debug: the process-wide capture is shared by every test running at
            // once (and every test's first report is R-2026-000001).
            let lines = NIOLockedValueBox<[String]>([])
            var logger = Logger(label: "codes.vapor.application") { label in
                LineLogHandler(label: label) { line in lines.withLockedValue { $0.append(line) } }
            }
            logger.logLevel = .debug
            harness.app.logger = logger
            let narrative = "Quetzalcoatlus agents stopped the bakery van"
            let body = validReportJSON.replacingOccurrences(
                of: "Agents pushed a woman and refused to show badges.", with: narrative
            ).replacingOccurrences(
                of: #""language":"es""#, with: #""language":"es","contact":{"email":"zyxw-reporter@example.org"}"#)
            let created = try await APIClient(app: harness.app).post("/api/v1/reports", json: body)
            #expect(created.status == .created, "\(created.body.string)")
            let receipt = try created.decoded(APIReceiptBody.self)
            let status = try await APIClient(app: harness.app).get(
                "/api/v1/reports/\(receipt.reference)", headers: ["Authorization": "Bearer \(receipt.followUpCode)"])
            #expect(status.status == .ok)
            let logged = lines.withLockedValue { $0 }
            #expect(!logged.isEmpty, "the application logged at debug, into this handler")
            for secret in [
                "Quetzalcoatlus", "zyxw-reporter", receipt.reference, receipt.followUpCode,
                String(receipt.followUpCode.filter { $0 != "-" }), "INSERT", "SELECT",
            ] {
                let leaks = logged.filter { $0.contains(secret) }
                #expect(leaks.isEmpty, "\(secret) was logged: \(leaks.prefix(3))")
            }
        }
    }

    @Test("The SQLite database and its log are created owner-only (0600)")
    func databaseMode() async throws {
        try await withAttest(postgres: false) { harness in
            _ = try await harness.app.attest.submitReport.execute(.init(submission: .minimal()))
            for suffix in ["", "-wal"] {
                let path = harness.dataDirectory.appendingPathComponent("attest.sqlite" + suffix).path
                let attributes = try FileManager.default.attributesOfItem(atPath: path)
                let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
                #expect(mode & 0o077 == 0, "attest.sqlite\(suffix) is \(String(mode, radix: 8))")
            }
        }
    }

    @Test("Key files can live in a directory of their own, away from the database")
    func keyDirectory() async throws {
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("attest-keys-\(UUID())")
        defer { try? FileManager.default.removeItem(at: keys) }
        try await withAttest(configure: { $0.keyDirectoryOverride = keys }) { harness in
            let names = try FileManager.default.contentsOfDirectory(atPath: keys.path).sorted()
            #expect(names == ["contact-keys.json", "cookie.key", "log-signing.seed"])
            let inData = harness.dataDirectory.appendingPathComponent("keys")
            #expect(!FileManager.default.fileExists(atPath: inData.path), "nothing beside the database")
            let mode =
                try FileManager.default.attributesOfItem(atPath: keys.appendingPathComponent("cookie.key").path)[
                    .posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o600)
        }
    }

    @Test("HEADs while the last PATCH completes an upload wait for its lock: no error, one completion")
    func headDuringCompletion() async throws {
        try await withAttest { harness in
            let tus = TusClient(app: harness.app)
            for round in 0..<5 {
                let photo = Samples.jpeg(size: 200_000, seed: UInt8(round))
                let path = try await tus.create(length: photo.count)
                #expect(try await tus.patch(path, offset: 0, Array(photo.dropLast())).status == .noContent)
                let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                    group.addTask { try await tus.patch(path, offset: photo.count - 1, [photo.last!]).status }
                    for _ in 0..<6 { group.addTask { try await tus.send(.HEAD, path).status } }
                    var all: [HTTPStatus] = []
                    for try await status in group { all.append(status) }
                    return all
                }
                #expect(statuses.allSatisfy { $0 == .ok || $0 == .noContent }, "\(statuses)")
                let head = try await tus.send(.HEAD, path)
                #expect(head.headers.first(name: "Upload-Offset") == "\(photo.count)")
            }
            #expect(harness.storedFiles().count == 5)
        }
    }
}
