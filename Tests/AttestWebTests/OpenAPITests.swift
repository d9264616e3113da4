import AttestTestSupport
import Foundation
import OpenAPIKit
import Testing
import Vapor

@testable import AttestWeb

@Suite("OpenAPI document")
struct OpenAPITests {
    func document(_ harness: TestHarness) throws -> OpenAPI.Document {
        try JSONDecoder().decode(OpenAPI.Document.self, from: harness.app.attest.openAPIDocument)
    }

    @Test("The document is valid OpenAPI 3.1 and is served at /api/v1/openapi.json")
    func valid() async throws {
        try await withAttest { harness in
            let document = try document(harness)
            #expect(document.openAPIVersion == .v3_1_0)
            try document.validate()
            var browser = Browser(harness.app)
            let served = try await browser.get("/api/v1/openapi.json")
            #expect(served.status == .ok)
            #expect(served.headers.contentType == .json)
        }
    }

    @Test("Every documented operation exists and every API and custody-log route is documented")
    func matchesRoutes() async throws {
        try await withAttest { harness in
            let document = try document(harness)
            var documented: Set<String> = []
            for (path, item) in document.paths {
                guard case .b(let pathItem) = item else { continue }
                for endpoint in pathItem.endpoints {
                    documented.insert("\(endpoint.method.rawValue.uppercased()) \(path.rawValue)")
                }
            }
            let routes = Set(
                harness.app.routes.all
                    .filter { ["api", "log"].contains($0.path.first?.description) }
                    .map { route in
                        let path = route.path.map { component -> String in
                            if case .parameter(let name) = component { return "{\(name)}" }
                            if case .catchall = component { return "{tilePath}" }
                            return component.description
                        }.joined(separator: "/")
                        return "\(route.method.rawValue) /\(path)"
                    }
            )
            #expect(routes.count >= 5)
            #expect(
                documented == routes,
                "documented but missing: \(documented.subtracting(routes)); undocumented: \(routes.subtracting(documented))"
            )
        }
    }

    @Test("Every stable error code the API can return is listed in the document")
    func errorCodes() async throws {
        try await withAttest { harness in
            let json = String(decoding: harness.app.attest.openAPIDocument, as: UTF8.self)
            for code in [
                "validation_failed", "malformed_json", "invalid_utf8", "unsupported_media_type", "payload_too_large",
                "rate_limited", "follow_up_denied", "too_many_supplements", "not_found", "invalid_type", "required",
                "blank", "too_long", "control_characters", "in_future", "reversed_window", "outside_jurisdiction",
                "unknown_value", "too_many", "missing_contact_method",
            ] {
                #expect(json.contains("\"\(code)\""), "\(code)")
            }
        }
    }
}
