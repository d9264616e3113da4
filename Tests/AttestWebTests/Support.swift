import AttestCore
import AttestTestSupport
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

/// A tiny browser over the in-memory tester: keeps cookies, encodes forms, finds the CSRF token.
struct Browser {
    let app: Application
    var cookies: [String: String] = [:]
    var acceptLanguage: String?

    init(_ app: Application, acceptLanguage: String? = nil) {
        self.app = app
        self.acceptLanguage = acceptLanguage
    }

    private func headers(_ extra: HTTPHeaders) -> HTTPHeaders {
        var headers = extra
        if !cookies.isEmpty {
            headers.replaceOrAdd(name: .cookie, value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
        }
        if let acceptLanguage { headers.replaceOrAdd(name: .acceptLanguage, value: acceptLanguage) }
        return headers
    }

    private mutating func remember(_ response: TestingHTTPResponse) {
        for (name, value) in response.headers.setCookie?.all ?? [:] {
            if value.string.isEmpty || (value.maxAge ?? 1) <= 0 || (value.expires.map { $0 < Date() } ?? false) {
                cookies[name] = nil
            } else {
                cookies[name] = value.string
            }
        }
    }

    mutating func get(_ path: String, headers extra: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        let response = try await app.testing().sendRequest(.GET, path, headers: headers(extra))
        remember(response)
        return response
    }

    mutating func post(_ path: String, body: ByteBuffer, contentType: String, headers extra: HTTPHeaders = [:])
        async throws -> TestingHTTPResponse
    {
        var all = headers(extra)
        all.replaceOrAdd(name: .contentType, value: contentType)
        let response = try await app.testing().sendRequest(.POST, path, headers: all, body: body)
        remember(response)
        return response
    }

    mutating func post(_ path: String, form fields: [(String, String)]) async throws -> TestingHTTPResponse {
        try await post(
            path, body: ByteBuffer(string: Self.encode(fields)), contentType: "application/x-www-form-urlencoded"
        )
    }

    /// GETs `page`, then POSTs `fields` plus the page's CSRF token to `action`.
    mutating func submit(_ page: String, to action: String, _ fields: [(String, String)]) async throws
        -> TestingHTTPResponse
    {
        let form = try await get(page)
        let token = try #require(Self.csrfToken(in: form.body.string))
        return try await post(action, form: [("csrf", token)] + fields)
    }

    /// Signs in at `/follow-up` with a receipt's reference and code; returns the status page.
    mutating func followUp(_ receipt: SubmitReport.Receipt) async throws -> TestingHTTPResponse {
        _ = try await submit(
            "/follow-up", to: "/follow-up",
            [("reference", receipt.reference.description), ("code", receipt.followUpCode.grouped)])
        return try await get("/follow-up/report")
    }

    static func encode(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        allowed = allowed.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        return fields.map { name, value in
            name.addingPercentEncoding(withAllowedCharacters: allowed)! + "="
                + value.addingPercentEncoding(withAllowedCharacters: allowed)!
        }.joined(separator: "&")
    }

    static func csrfToken(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }
}

/// The JSON API as a client sees it.
struct APIClient {
    let app: Application

    func post(_ path: String, json: String, headers extra: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        try await post(path, bytes: Array(json.utf8), headers: extra)
    }

    func post(
        _ path: String, bytes: [UInt8], contentType: String = "application/json", headers extra: HTTPHeaders = [:]
    )
        async throws -> TestingHTTPResponse
    {
        var headers = extra
        headers.replaceOrAdd(name: .contentType, value: contentType)
        return try await app.testing().sendRequest(.POST, path, headers: headers, body: ByteBuffer(bytes: bytes))
    }

    func get(_ path: String, headers: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        try await app.testing().sendRequest(.GET, path, headers: headers)
    }
}

struct APIErrorBody: Decodable {
    struct Details: Decodable {
        struct Field: Decodable {
            var field: String
            var code: String
            var message: String
        }
        var code: String
        var message: String
        var fields: [Field]?
    }
    var error: Details
}

struct APIReceiptBody: Decodable {
    var reference: String
    var followUpCode: String
    var status: String
    var contentHash: String
}

extension TestingHTTPResponse {
    func decoded<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
    }
}

/// A valid API report body.
let validReportJSON = """
    {"occurredAt":{"from":"2026-11-20T14:30:00-06:00","approximate":true},
     "location":{"description":"Calle 26 y Pulaski","latitude":41.8445,"longitude":-87.7249},
     "narrative":"Agents pushed a woman and refused to show badges.",
     "categories":["physical_force","failure_to_identify"],
     "agents":{"count":3,"agency":"ice","descriptions":[{"vestText":"POLICE ICE","masked":"fully","bodyCamera":false}]},
     "harm":{"injuries":true,"medicalCareNeeded":true,"medicalCareDeniedOrDelayed":false},
     "reporterRole":"witness","consents":{"publicStatistics":true},"language":"es"}
    """
