import AttestCore
import Foundation
import Vapor

/// The JSON API under `/api/v1`, described by `Resources/openapi.json` (served at `/api/v1/openapi.json`).
struct ReportsAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let api = routes.grouped("api", "v1")
        api.get("openapi.json", use: openAPI)
        api.get("jurisdiction", use: jurisdiction)
        api.post("reports", use: create)
        api.get("reports", ":reference", use: show)
        api.post("reports", ":reference", "supplements", use: supplement)
        api.post("reports", ":reference", "evidence", use: attachEvidence)
    }

    func openAPI(request: Request) async throws -> Response {
        Response(
            status: .ok, headers: ["Content-Type": "application/json"],
            body: .init(data: request.attest.openAPIDocument)
        )
    }

    func jurisdiction(request: Request) async throws -> Response {
        let jurisdiction = request.attest.jurisdiction
        let language = request.language
        let fallback = jurisdiction.defaultLanguage
        let body = APIJurisdiction(
            code: jurisdiction.code, name: jurisdiction.name.text(in: language, fallback: fallback),
            timeZone: jurisdiction.timeZone.identifier, languages: request.attest.languages,
            categories: jurisdiction.categories.map {
                .init(code: $0.code, label: $0.labels.text(in: language, fallback: fallback))
            },
            agencies: jurisdiction.agencies.map {
                .init(code: $0.code, label: $0.labels.text(in: language, fallback: fallback))
            },
            areas: jurisdiction.geography.areas.map { .init(number: $0.number, name: $0.name) },
            areaAttribution: jurisdiction.geography.attribution
        )
        return try await body.encodeResponse(status: .ok, for: request)
    }

    func create(request: Request) async throws -> Response {
        let input = try APIBody.decode(APIReportInput.self, from: request)
        let receipt = try await request.attest.submitReport.execute(
            .init(submission: input.submission(), uploads: input.uploads ?? []))
        let body = APIReceipt(
            reference: receipt.reference.description, followUpCode: receipt.followUpCode.grouped,
            status: receipt.status.rawValue, receivedAt: RFC3339.string(from: receipt.receivedAt),
            contentHash: receipt.contentHash,
            custody: .init(index: receipt.custody.index, entryHash: receipt.custody.entryHash),
            evidence: receipt.evidence.map { APIEvidence($0.item, custody: $0.custody) }
        )
        let response = Response(status: .created, body: .init(string: body.json))
        response.headers.contentType = .json
        response.headers.replaceOrAdd(name: .location, value: "\(Paths.apiReports)/\(receipt.reference)")
        return response
    }

    func show(request: Request) async throws -> APIReportStatus {
        let (reference, code) = try credentials(request)
        let view = try await request.attest.viewReportStatus.execute(reference: reference, code: code)
        return APIReportStatus(
            reference: view.reference.description, status: view.status.rawValue,
            receivedAt: RFC3339.string(from: view.receivedAt), contentHash: view.contentHash,
            messages: view.messages.map {
                .init(author: $0.author.rawValue, body: $0.body, createdAt: RFC3339.string(from: $0.createdAt))
            },
            evidence: view.evidence.map { APIEvidence($0) }
        )
    }

    func supplement(request: Request) async throws -> Response {
        let (reference, code) = try credentials(request)
        let input = try APIBody.decode(APISupplementInput.self, from: request)
        let (message, custody) = try await request.attest.addSupplement.execute(
            reference: reference, code: code, text: input.text
        )
        let body = APISupplementReceipt(
            createdAt: RFC3339.string(from: message.createdAt), contentHash: message.contentHash,
            custody: .init(index: custody.index, entryHash: custody.entryHash)
        )
        return try await body.encodeResponse(status: .created, for: request)
    }

    func attachEvidence(request: Request) async throws -> Response {
        let (reference, code) = try credentials(request)
        let input = try APIBody.decode(APIEvidenceInput.self, from: request)
        let attached = try await request.attest.addEvidence.execute(
            reference: reference, code: code, uploads: input.uploads)
        let body = APIEvidenceReceipt(evidence: attached.map { APIEvidence($0.item, custody: $0.custody) })
        return try await body.encodeResponse(status: .created, for: request)
    }

    /// The reference from the path and the follow-up code from `Authorization: Bearer <code>`.
    private func credentials(_ request: Request) throws -> (ReportReference, FollowUpCode) {
        guard let bearer = request.headers.bearerAuthorization?.token, let code = FollowUpCode(typed: bearer) else {
            throw AttestHTTPError.missingCredentials
        }
        guard let text = request.parameters.get("reference"), let reference = ReportReference(text) else {
            throw FollowUpError.denied
        }
        return (reference, code)
    }
}

/// Reads JSON request bodies strictly: `application/json` only, valid UTF-8, RFC 8259 JSON (`StrictJSON`), no type
/// coercion; errors name the field.
enum APIBody {
    static func decode<T: JSONFieldsDecodable>(_ type: T.Type, from request: Request) throws -> T {
        guard isJSON(request.headers) else { throw AttestHTTPError.unsupportedMediaType }
        guard let buffer = request.body.data, buffer.readableBytes > 0 else { throw AttestHTTPError.malformedJSON }
        // Vapor enforces the limit while collecting from the network; this also covers bodies handed over whole.
        guard buffer.readableBytes <= request.attest.configuration.maxBodyBytes else { throw Abort(.payloadTooLarge) }
        return try decode(type, from: Array(buffer.readableBytesView))
    }

    static func decode<T: JSONFieldsDecodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw AttestHTTPError.invalidUTF8 }
        do {
            return try T(fields: try JSONFields(document: try StrictJSON.parse(bytes)))
        } catch let error as JSONFields.WrongType {
            throw AttestHTTPError.invalidType(field: error.path)
        } catch let error as JSONFields.Missing {
            throw ValidationFailure(issues: [ValidationIssue(error.path, .required)])
        } catch {
            throw AttestHTTPError.malformedJSON
        }
    }

    /// Whether the body is `application/json` (any parameters). The plain header is checked before Vapor's
    /// media-type parser, which cost 3 % of a submission's CPU time.
    static func isJSON(_ headers: HTTPHeaders) -> Bool {
        guard let value = headers.first(name: .contentType) else { return false }
        if value.utf8.count == 16, value.lowercased() == "application/json" { return true }
        guard let type = headers.contentType else { return false }
        return type.type == "application" && type.subType == "json"
    }
}
