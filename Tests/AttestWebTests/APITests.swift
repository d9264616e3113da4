import AttestCore
import AttestLedger
import AttestTestSupport
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

@Suite("JSON API")
struct APITests {
    @Test("The receipt is JSON with every field: reference, code, status, time, content hash and custody entry")
    func receiptFields() async throws {
        try await withAttest { harness in
            let response = try await APIClient(app: harness.app).post("/api/v1/reports", json: validReportJSON)
            #expect(response.status == .created)
            #expect(response.headers.contentType == .json)
            let receipt = try JSONDecoder().decode(APIReceipt.self, from: Data(response.body.readableBytesView))
            #expect(receipt.reference == "R-2026-000001" && receipt.status == "received")
            #expect(FollowUpCode(typed: receipt.followUpCode) != nil)
            #expect(receipt.receivedAt == "2026-11-25T18:00:00Z")
            let stored = try #require(
                try await harness.app.attest.store.report(reference: ReportReference("R-2026-000001")!))
            #expect(receipt.contentHash == stored.contentHash)
            #expect(receipt.custody.index == 1)
            let entry = try #require(try await harness.app.attest.ledger.entries(1..<2).first)
            #expect(receipt.custody.entryHash == TreeHash.leaf(entry.entry).hex)
            #expect(response.headers.first(name: .location) == "/api/v1/reports/R-2026-000001")
        }
    }

    @Test("A report is filed, then read and supplemented with its follow-up code")
    func lifecycle() async throws {
        try await withAttest { harness in
            let api = APIClient(app: harness.app)
            let created = try await api.post("/api/v1/reports", json: validReportJSON)
            #expect(created.status == .created)
            let receipt = try created.decoded(APIReceiptBody.self)
            #expect(receipt.reference == "R-2026-000001")
            #expect(created.headers.first(name: .location) == "/api/v1/reports/R-2026-000001")
            let stored = try #require(
                try await harness.app.attest.store.report(reference: ReportReference(receipt.reference)!))
            #expect(stored.content.location.area == 30, "South Lawndale, derived from the coordinates")
            #expect(stored.content.language == "es")
            #expect(stored.content.harm.injuries == .yes)
            let auth: HTTPHeaders = ["Authorization": "Bearer \(receipt.followUpCode.lowercased())"]
            let supplement = try await api.post(
                "/api/v1/reports/\(receipt.reference)/supplements", json: #"{"text":"Una camioneta gris."}"#,
                headers: auth
            )
            #expect(supplement.status == .created)
            let status = try await api.get("/api/v1/reports/\(receipt.reference)", headers: auth)
            #expect(status.status == .ok)
            struct Status: Decodable {
                struct Message: Decodable { var author: String; var body: String }
                var status: String
                var messages: [Message]
            }
            let body = try status.decoded(Status.self)
            #expect(body.status == "received")
            #expect(body.messages.map(\.body) == ["Una camioneta gris."])
        }
    }

    @Test("Reading a report needs the right code; wrong, missing and unknown all get 401")
    func credentials() async throws {
        try await withAttest { harness in
            let api = APIClient(app: harness.app)
            let receipt = try await api.post("/api/v1/reports", json: validReportJSON).decoded(APIReceiptBody.self)
            let wrong = FollowUpCode(random: SystemRandomSource()).grouped
            for (path, headers) in [
                ("/api/v1/reports/\(receipt.reference)", ["Authorization": "Bearer \(wrong)"]),
                ("/api/v1/reports/\(receipt.reference)", [:]),
                ("/api/v1/reports/\(receipt.reference)", ["Authorization": "Basic dXNlcjpwYXNz"]),
                ("/api/v1/reports/R-2026-000999", ["Authorization": "Bearer \(receipt.followUpCode)"]),
                ("/api/v1/reports/not-a-reference", ["Authorization": "Bearer \(receipt.followUpCode)"]),
            ] as [(String, HTTPHeaders)] {
                let response = try await api.get(path, headers: headers)
                #expect(response.status == .unauthorized, "\(path)")
                #expect(try response.decoded(APIErrorBody.self).error.code == "follow_up_denied")
            }
        }
    }

    /// Bad bodies: each must be refused with its status and stable code, and nothing stored.
    static let badBodies: [(String, String, HTTPStatus, String, String?)] = [
        ("malformed JSON", #"{"narrative": "x""#, .badRequest, "malformed_json", nil),
        ("not an object", #"["narrative"]"#, .badRequest, "malformed_json", nil),
        ("empty body", "", .badRequest, "malformed_json", nil),
        (
            "boolean as string",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"x","consents":{"shareWithProsecutor":"false"}}"#,
            .unprocessableEntity, "validation_failed", "consents.shareWithProsecutor"
        ),
        (
            "number as string",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"x","location":{"latitude":"41.8","longitude":-87.6}}"#,
            .unprocessableEntity, "validation_failed", "location.latitude"
        ),
        (
            "string as number", #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":42}"#,
            .unprocessableEntity, "validation_failed", "narrative"
        ),
        (
            "object as array", #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"x","categories":{"a":1}}"#,
            .unprocessableEntity, "validation_failed", "categories"
        ),
        (
            "fractional count",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"x","agents":{"count":2.5}}"#,
            .unprocessableEntity, "validation_failed", "agents.count"
        ),
        (
            "number beyond double range",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"x","agents":{"count":1e400}}"#,
            .badRequest, "malformed_json", nil
        ),
        (
            "huge count",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"x","agents":{"count":99999999999999999999}}"#,
            .unprocessableEntity, "validation_failed", "agents.count"
        ),
        (
            "negative count", #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"x","agents":{"count":-2}}"#,
            .unprocessableEntity, "validation_failed", "agents.count"
        ),
        (
            "nested wrong type",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"x","agents":{"descriptions":[{"bodyCamera":"yes"}]}}"#,
            .unprocessableEntity, "validation_failed", "agents.descriptions[0].bodyCamera"
        ),
        (
            "missing narrative", #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"}}"#, .unprocessableEntity,
            "validation_failed", "narrative"
        ),
        ("missing time", #"{"narrative":"x"}"#, .unprocessableEntity, "validation_failed", "occurredAt.from"),
        (
            "zero-width narrative",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"\u200b\u2060\ufeff \u3000"}"#,
            .unprocessableEntity, "validation_failed", "narrative"
        ),
        (
            "NUL in narrative", #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"a\u0000b"}"#,
            .unprocessableEntity, "validation_failed", "narrative"
        ),
        (
            "future", #"{"occurredAt":{"from":"2031-01-01T00:00:00Z"},"narrative":"x"}"#, .unprocessableEntity,
            "validation_failed", "occurredAt.from"
        ),
        (
            "impossible date", #"{"occurredAt":{"from":"2026-02-30T10:00:00Z"},"narrative":"x"}"#, .unprocessableEntity,
            "validation_failed", "occurredAt.from"
        ),
        (
            "reversed window",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z","until":"2026-11-20T13:30:00Z"},"narrative":"x"}"#,
            .unprocessableEntity, "validation_failed", "occurredAt.until"
        ),
        (
            "coordinates out of range",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"x","location":{"latitude":95,"longitude":-87.6}}"#,
            .unprocessableEntity, "validation_failed", "location.latitude"
        ),
        (
            "far outside Chicago",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"x","location":{"latitude":34.05,"longitude":-118.24}}"#,
            .unprocessableEntity, "validation_failed", "location.latitude"
        ),
        (
            "unknown category",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"x","categories":["jaywalking"]}"#,
            .unprocessableEntity, "validation_failed", "categories"
        ),
        (
            "unknown enum",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"x","reporterRole":"president"}"#,
            .unprocessableEntity, "validation_failed", "reporterRole"
        ),
        (
            "too many agents",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"x","agents":{"descriptions":["#
                + String(repeating: #"{"badge":"1"},"#, count: 20) + #"{"badge":"2"}]}}"#,
            .unprocessableEntity, "validation_failed", "agents.descriptions"
        ),
        (
            "narrative too long",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":""# + String(repeating: "ab", count: 10_001)
                + #""}"#,
            .unprocessableEntity, "validation_failed", "narrative"
        ),
        (
            "contact without method",
            #"{"occurredAt":{"from":"2026-11-20T14:30:00Z"},"narrative":"x","contact":{"name":"Ana"}}"#,
            .unprocessableEntity, "validation_failed", "contact"
        ),
    ]

    @Test("Bad input is refused with a stable code, names the field, and stores nothing", arguments: badBodies)
    func badInput(_ name: String, body: String, status: HTTPStatus, code: String, field: String?) async throws {
        try await withAttest { harness in
            let before = try await harness.custodyEntryCount()
            let response = try await APIClient(app: harness.app).post("/api/v1/reports", json: body)
            #expect(response.status == status, "\(name): \(response.body.string)")
            let error = try response.decoded(APIErrorBody.self).error
            #expect(error.code == code, "\(name)")
            if let field { #expect(error.fields?.contains { $0.field == field } == true, "\(name): \(error)") }
            #expect(try await harness.reportCount() == 0)
            #expect(try await harness.custodyEntryCount() == before)
        }
    }

    @Test("Invalid UTF-8, a wrong content type and an oversized body are refused")
    func transportErrors() async throws {
        try await withAttest(configure: { $0.maxBodyBytes = 8_192 }) { harness in
            let api = APIClient(app: harness.app)
            var response = try await api.post(
                "/api/v1/reports", bytes: Array(#"{"narrative":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8))
            #expect(response.status == .badRequest)
            #expect(try response.decoded(APIErrorBody.self).error.code == "invalid_utf8")
            response = try await api.post(
                "/api/v1/reports", bytes: Array(validReportJSON.utf8), contentType: "text/plain")
            #expect(response.status == .unsupportedMediaType)
            #expect(try response.decoded(APIErrorBody.self).error.code == "unsupported_media_type")
            response = try await api.post("/api/v1/reports", bytes: Array(repeating: UInt8(ascii: " "), count: 9_000))
            #expect(response.status == .payloadTooLarge)
            #expect(try response.decoded(APIErrorBody.self).error.code == "payload_too_large")
            #expect(try await harness.reportCount() == 0)
        }
    }

    @Test("Error messages follow Accept-Language; codes do not")
    func localizedErrors() async throws {
        try await withAttest { harness in
            let response = try await APIClient(app: harness.app).post(
                "/api/v1/reports", json: #"{"narrative":" "}"#, headers: ["Accept-Language": "es-MX,es;q=0.9,en;q=0.5"]
            )
            let error = try response.decoded(APIErrorBody.self).error
            #expect(error.code == "validation_failed")
            #expect(error.message == "Algunas respuestas necesitan atención. No se guardó nada.")
            #expect(error.fields?.first { $0.field == "narrative" }?.message.contains("Qué pasó") == true)
        }
    }

    @Test("Unknown API routes answer with JSON 404")
    func notFound() async throws {
        try await withAttest { harness in
            let response = try await APIClient(app: harness.app).get("/api/v1/nothing-here")
            #expect(response.status == .notFound)
            #expect(try response.decoded(APIErrorBody.self).error.code == "not_found")
        }
    }

    @Test("Public writes are rate limited per client, with Retry-After")
    func rateLimit() async throws {
        try await withAttest(configure: { $0.rateLimitPerMinute = 3 }) { harness in
            let api = APIClient(app: harness.app)
            for _ in 0..<3 {
                #expect(try await api.post("/api/v1/reports", json: validReportJSON).status == .created)
            }
            let limited = try await api.post("/api/v1/reports", json: validReportJSON)
            #expect(limited.status == .tooManyRequests)
            #expect(Int(limited.headers.first(name: "Retry-After") ?? "") ?? 0 > 0)
            #expect(try limited.decoded(APIErrorBody.self).error.code == "rate_limited")
            #expect(try await harness.reportCount() == 3)
            harness.clock.advance(by: 61)
            #expect(try await api.post("/api/v1/reports", json: validReportJSON).status == .created)
        }
    }

    @Test("No input yields a server error: random bytes and mutated JSON")
    func neverServerError() async throws {
        try await withAttest { harness in
            let api = APIClient(app: harness.app)
            var generator = SystemRandomNumberGenerator()
            let valid = Array(validReportJSON.utf8)
            for round in 0..<150 {
                var bytes: [UInt8]
                if round % 2 == 0 {
                    bytes = (0..<Int.random(in: 0...300, using: &generator)).map { _ in
                        UInt8.random(in: 0...255, using: &generator)
                    }
                } else {
                    bytes = valid
                    for _ in 0..<Int.random(in: 1...6, using: &generator) {
                        bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(
                            in: 0...255, using: &generator)
                    }
                }
                let response = try await api.post("/api/v1/reports", bytes: bytes)
                #expect(response.status.code < 500, "round \(round): \(response.status)")
            }
        }
    }
}
