import AsyncHTTPClient
import AttestCore
import AttestTestSupport
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

@Suite("Security by default")
struct SecurityTests {
    @Test(
        "Every page carries a strict CSP, nosniff, no-referrer and no framing; nothing loads from elsewhere",
        arguments: ["/", "/report", "/follow-up", "/no-such-page", "/api/v1/openapi.json", "/css/attest.css"])
    func headers(path: String) async throws {
        try await withAttest { harness in
            var browser = Browser(harness.app)
            let response = try await browser.get(path)
            let csp = try #require(response.headers.first(name: "Content-Security-Policy"))
            #expect(csp.contains("default-src 'none'"))
            #expect(csp.contains("script-src 'self'") && csp.contains("style-src 'self'"))
            #expect(csp.contains("frame-ancestors 'none'"))
            #expect(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"))
            #expect(response.headers.first(name: "X-Content-Type-Options") == "nosniff")
            #expect(response.headers.first(name: "Referrer-Policy") == "no-referrer")
            let html = response.body.string
            #expect(!html.contains("<script>") && !html.contains("style=\""), "no inline script or style")
            for pattern in [#"src="http"#, #"href="http"#, #"src="//"#, #"href="//"#, "@import"] {
                #expect(!html.contains(pattern), "no third-party asset: \(pattern)")
            }
        }
    }

    @Test("The bundled stylesheet and script are served from memory with an ETag; nothing else is")
    func staticFiles() async throws {
        try await withAttest { harness in
            var browser = Browser(harness.app)
            let bundled = AttestResources.directory.appendingPathComponent("Public/css/attest.css")
            let css = try await browser.get("/css/attest.css")
            #expect(css.status == .ok)
            #expect(css.headers.contentType?.subType == "css")
            #expect(css.body.string == (try String(contentsOf: bundled, encoding: .utf8)))
            let etag = try #require(css.headers.first(name: .eTag))
            #expect(
                try await browser.get("/css/attest.css", headers: [HTTPHeaders.Name.ifNoneMatch.description: etag])
                    .status == .notModified)
            #expect(try await browser.get("/css/attest.css", headers: ["If-None-Match": "\"other\""]).status == .ok)
            #expect(try await browser.get("/js/attest.js").headers.contentType?.subType == "javascript")
            for path in [
                "/css/", "/css/missing.css", "/css/../js/attest.js", "/Public/css/attest.css", "/css/attest.css/",
            ] {
                #expect(try await browser.get(path).status == .notFound, "\(path)")
            }
            let post = try await browser.post("/css/attest.css", body: ByteBuffer(), contentType: "text/plain")
            #expect(post.status == .notFound || post.status == .forbidden, "only GET and HEAD are served")
        }
    }

    @Test("Behind TLS, cookies are Secure with the __Host- prefix, SameSite and HttpOnly, and HSTS is sent")
    func secureCookies() async throws {
        try await withAttest(configure: { $0.publicURL = "https://attest.example.gov" }) { harness in
            var browser = Browser(harness.app)
            let response = try await browser.get("/report")
            let cookie = try #require(response.headers.setCookie?["__Host-attest_csrf"])
            #expect(cookie.isSecure && cookie.isHTTPOnly && cookie.sameSite == .strict && cookie.path == "/")
            #expect(response.headers.first(name: .strictTransportSecurity) != nil)
            let language = try await browser.get("/?lang=es")
            #expect(language.headers.setCookie?["attest_lang"]?.isSecure == true)
        }
        try await withAttest { harness in
            var browser = Browser(harness.app)
            let cookie = try #require(try await browser.get("/report").headers.setCookie?["attest_csrf"])
            #expect(!cookie.isSecure && cookie.isHTTPOnly && cookie.sameSite == .strict)
        }
    }

    @Test("No client address reaches the logs or the database, over a real TCP connection")
    func noClientAddress() async throws {
        try await withAttest(
            postgres: false,
            configure: {
                $0.trustProxy = true; $0.rateLimitPerMinute = 100
            }
        ) { harness in
            let tester = try harness.app.testing(method: .running(hostname: "127.0.0.1", port: 0))
            let forwarded = "203.0.113.77"
            let logStart = CapturedLogs.all.count
            var created = ""
            try await tester.test(
                .POST, "/api/v1/reports", headers: ["Content-Type": "application/json", "X-Forwarded-For": forwarded],
                body: ByteBuffer(string: validReportJSON)
            ) { response in
                #expect(response.status == .created)
                created = try response.decoded(APIReceiptBody.self).followUpCode
            }
            try await tester.test(
                .POST, "/api/v1/reports", headers: ["Content-Type": "application/json", "X-Forwarded-For": forwarded],
                body: ByteBuffer(string: "{broken")
            ) { response in
                #expect(response.status == .badRequest)
            }
            try await tester.test(.GET, "/report", headers: ["X-Forwarded-For": forwarded, "X-Real-IP": forwarded]) {
                response in
                #expect(response.status == .ok)
            }
            try await tester.test(
                .GET, "/api/v1/reports/R-2026-000001", headers: ["Authorization": "Bearer \(created)"]
            ) { response in
                #expect(response.status == .ok)
            }
            // The server's own bind address is announced at start; no line about a request may name an address.
            let lines = CapturedLogs.all.dropFirst(logStart).filter { !$0.contains("Server start") }
            #expect(lines.count >= 4, "requests were logged")
            for line in lines {
                #expect(!line.contains(forwarded) && !line.contains("127.0.0.1"), "log line: \(line)")
            }
            var bytes = Data()
            for suffix in ["", "-wal", "-shm"] {
                let url = harness.dataDirectory.appendingPathComponent("attest.sqlite" + suffix)
                bytes.append((try? Data(contentsOf: url)) ?? Data())
            }
            #expect(bytes.count > 10_000)
            for address in [forwarded, "127.0.0.1"] {
                #expect(bytes.range(of: Data(address.utf8)) == nil, "\(address) is not stored")
            }
        }
    }

    @Test("The rate limiter keeps no address, only keyed hashes that are forgotten each minute")
    func rateLimiterMemory() async throws {
        let limiter = RateLimiter(limitPerMinute: 2, random: SystemRandomSource())
        let now = Date()
        #expect(limiter.admit(client: "198.51.100.4", now: now) == nil)
        #expect(limiter.admit(client: "198.51.100.4", now: now) == nil)
        #expect(limiter.admit(client: "198.51.100.4", now: now) != nil)
        #expect(limiter.admit(client: "198.51.100.5", now: now) == nil, "clients are counted apart")
        var state = ""
        dump(limiter, to: &state)  // every stored property, recursively
        #expect(state.contains("counts"), "the dump reaches the limiter's stored state")
        #expect(!state.contains("198.51.100") && !state.contains(Data("198.51.100.4".utf8).base64EncodedString()))
        #expect(limiter.admit(client: "198.51.100.4", now: now.addingTimeInterval(60)) == nil, "a new minute")
    }
}
