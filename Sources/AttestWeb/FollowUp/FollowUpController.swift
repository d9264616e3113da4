import AttestCore
import AttestLedger
import Crypto
import Vapor

/// `/follow-up`: a reporter returns with reference and follow-up code, sees the status and thread, and adds
/// information. After sign-in the credentials ride in an encrypted, HttpOnly, SameSite=Strict cookie that
/// expires, so the code never appears in a URL or a page; every request proves the code again.
struct FollowUpController: RouteCollection {
    struct SignInContent: Encodable {
        var action: String
        var csrf: String
        var reference: String
        var error: String
        var hasError: Bool
    }

    struct StatusContent: Encodable {
        struct Message: Encodable {
            var author: String
            var isStaff: Bool
            var body: String
            var createdAt: String
        }
        var reference: String
        var status: String
        var statusExplanation: String
        var receivedAt: String
        var contentHash: String
        var custodyIndex: String
        var proofPath: String
        var messages: [Message]
        var csrf: String
        var supplementAction: String
        var signOutAction: String
        var supplementError: String
        var hasError: Bool
        var supplementText: String
        var isAdded: Bool
        var maxLength: Int
        var evidence: [EvidenceView]
        var evidenceAction: String
        var evidenceError: String
        var hasEvidenceError: Bool
        var isEvidenceAdded: Bool
        var upload: UploadFieldContent
    }

    func boot(routes: any RoutesBuilder) throws {
        let followUp = routes.grouped("follow-up")
        followUp.get(use: showSignIn)
        followUp.post(use: signIn)
        followUp.get("report", use: showStatus)
        followUp.post("supplements", use: addSupplement)
        followUp.on(.POST, "evidence", body: .stream, use: addEvidence)
        followUp.post("sign-out", use: signOut)
        followUp.get("proof", use: downloadProof)
    }

    func showSignIn(request: Request) async throws -> Response {
        try await renderSignIn(request: request, reference: "", error: nil, status: .ok)
    }

    func signIn(request: Request) async throws -> Response {
        let form: FormBody
        do {
            form = try FormBody(request: request)
        } catch FormBody.Error.invalidEncoding {
            return try await renderSignIn(
                request: request, reference: "", error: "error_invalid_form_encoding", status: .badRequest)
        }
        if let language = form["lang"] { request.setLanguage(language) }
        let typedReference = String((form["reference"] ?? "").prefix(40))
        guard CSRF.isValid(form[CSRF.fieldName], for: request) else {
            return try await renderSignIn(
                request: request, reference: typedReference, error: "error_csrf", status: .forbidden)
        }
        guard let reference = ReportReference(typedReference), let code = FollowUpCode(typed: form["code"] ?? "") else {
            return try await renderSignIn(
                request: request, reference: typedReference, error: "error_follow_up_denied", status: .unauthorized
            )
        }
        do {
            _ = try await request.attest.viewReportStatus.execute(reference: reference, code: code)
        } catch FollowUpError.denied {
            return try await renderSignIn(
                request: request, reference: typedReference, error: "error_follow_up_denied", status: .unauthorized
            )
        }
        let response = request.redirect(to: Paths.followUpReport, redirectType: .normal)
        FollowUpSession.attach(reference: reference, code: code, to: response, for: request)
        return response
    }

    func showStatus(request: Request) async throws -> Response {
        guard let (reference, code) = FollowUpSession.read(from: request) else {
            return request.redirect(to: Paths.followUp, redirectType: .normal)
        }
        let isAdded = (try? request.query.get(String.self, at: "added")) == "1"
        return try await renderStatus(
            request: request, reference: reference, code: code, error: nil, text: "", isAdded: isAdded, status: .ok
        )
    }

    func addSupplement(request: Request) async throws -> Response {
        guard let (reference, code) = FollowUpSession.read(from: request) else {
            return request.redirect(to: Paths.followUp, redirectType: .normal)
        }
        let form: FormBody
        do {
            form = try FormBody(request: request)
        } catch FormBody.Error.invalidEncoding {
            return try await renderStatus(
                request: request, reference: reference, code: code, error: "error_invalid_form_encoding", text: "",
                isAdded: false, status: .badRequest
            )
        }
        if let language = form["lang"] { request.setLanguage(language) }
        let text = form["text"] ?? ""
        guard CSRF.isValid(form[CSRF.fieldName], for: request) else {
            return try await renderStatus(
                request: request, reference: reference, code: code, error: "error_csrf", text: text, isAdded: false,
                status: .forbidden
            )
        }
        do {
            _ = try await request.attest.addSupplement.execute(reference: reference, code: code, text: text)
        } catch FollowUpError.invalidSupplement(let issue) {
            let mapping = ErrorMapping(catalogs: request.attest.catalogs, language: request.language)
            return try await renderStatus(
                request: request, reference: reference, code: code, error: nil,
                literalError: mapping.problemMessage(issue.problem), text: text, isAdded: false,
                status: .unprocessableEntity
            )
        } catch FollowUpError.tooManySupplements(let max) {
            let mapping = ErrorMapping(catalogs: request.attest.catalogs, language: request.language)
            return try await renderStatus(
                request: request, reference: reference, code: code, error: nil,
                literalError: mapping.text("error_too_many_supplements", ["max": "\(max)"]), text: text,
                isAdded: false, status: .unprocessableEntity
            )
        }
        return request.redirect(to: Paths.followUpReport + "?added=1", redirectType: .normal)
    }

    func signOut(request: Request) async throws -> Response {
        let response = request.redirect(to: Paths.followUp, redirectType: .normal)
        if let form = try? FormBody(request: request), CSRF.isValid(form[CSRF.fieldName], for: request) {
            FollowUpSession.clear(on: response, for: request)
        }
        return response
    }

    private func renderSignIn(request: Request, reference: String, error: String?, status: HTTPStatus) async throws
        -> Response
    {
        let token = CSRF.token(for: request)
        let mapping = ErrorMapping(catalogs: request.attest.catalogs, language: request.language)
        let response = try await Page.render(
            "follow-up/sign-in", title: mapping.text("title_follow_up"),
            content: SignInContent(
                action: Paths.followUp, csrf: token, reference: reference,
                error: error.map { mapping.text($0) } ?? "", hasError: error != nil
            ),
            for: request, switcherPath: Paths.followUp
        ).encodeResponse(status: status, for: request)
        CSRF.attach(token, to: response, for: request)
        return response
    }

    /// The c2sp.org/tlog-proof file for the report's `report.received` entry, against a signed checkpoint
    /// (published on the spot if the latest one does not cover the entry yet).
    func downloadProof(request: Request) async throws -> Response {
        guard let (reference, code) = FollowUpSession.read(from: request) else {
            return request.redirect(to: Paths.followUp, redirectType: .normal)
        }
        _ = try await request.attest.viewReportStatus.execute(reference: reference, code: code)
        let ledger = request.attest.ledger
        guard let index = try await ledger.entryIndex(kind: .reportReceived, recordID: "report:\(reference)") else {
            throw Abort(.notFound)
        }
        var checkpoint = try await ledger.latestCheckpoint()
        if (checkpoint?.size ?? 0) <= index {
            checkpoint = try await ledger.publishIfDue(now: request.attest.clock.now(), policy: .always)
        }
        guard let checkpoint, checkpoint.size > index else { throw Abort(.serviceUnavailable) }
        let path = try await ledger.inclusionProof(index: index, size: checkpoint.size)
        let proof = TlogProof(index: index, path: path, checkpoint: checkpoint.note)
        let response = Response(status: .ok, body: .init(string: proof.text))
        response.headers.contentType = HTTPMediaType(type: "text", subType: "plain", parameters: ["charset": "utf-8"])
        response.headers.replaceOrAdd(
            name: .contentDisposition, value: "attachment; filename=\"\(reference).tlog-proof\"")
        return response
    }

    /// Files added later: by the plain file field (streamed to disk) or as uploads finished by JavaScript.
    func addEvidence(request: Request) async throws -> Response {
        guard let (reference, code) = FollowUpSession.read(from: request) else {
            return request.redirect(to: Paths.followUp, redirectType: .normal)
        }
        let mapping = ErrorMapping(catalogs: request.attest.catalogs, language: request.language)
        func failure(_ message: String, _ status: HTTPStatus) async throws -> Response {
            try await renderStatus(
                request: request, reference: reference, code: code, error: nil, text: "", isAdded: false,
                evidenceError: message, status: status)
        }
        do {
            let input = try await FormInput.read(request, source: .publicForm)
            if let language = input.form["lang"] { request.setLanguage(language) }
            guard CSRF.isValid(input.form[CSRF.fieldName], for: request) else {
                return try await failure(mapping.text("error_csrf"), .forbidden)
            }
            if let error = input.fileError {
                let description = mapping.describe(error)
                return try await failure(description.message, description.status)
            }
            let uploads = input.form.all("uploads") + input.uploads
            guard !uploads.isEmpty else {
                return try await failure(mapping.text("error_evidence_none"), .unprocessableEntity)
            }
            _ = try await request.attest.addEvidence.execute(reference: reference, code: code, uploads: uploads)
        } catch FormInput.Error.invalidEncoding {
            return try await failure(mapping.text("error_invalid_form_encoding"), .badRequest)
        } catch FormInput.Error.csrf {
            return try await failure(mapping.text("error_csrf"), .forbidden)
        } catch let error as EvidenceError {
            let description = mapping.describe(error)
            return try await failure(description.message, description.status)
        }
        return request.redirect(to: Paths.followUpReport + "?evidence=1", redirectType: .normal)
    }

    private func renderStatus(
        request: Request, reference: ReportReference, code: FollowUpCode, error: String?, literalError: String? = nil,
        text: String, isAdded: Bool, evidenceError: String? = nil, status: HTTPStatus
    ) async throws -> Response {
        let services = request.attest
        let view: ReportStatusView
        do {
            view = try await services.viewReportStatus.execute(reference: reference, code: code)
        } catch FollowUpError.denied {
            let response = request.redirect(to: Paths.followUp, redirectType: .normal)
            FollowUpSession.clear(on: response, for: request)
            return response
        }
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let zone = services.jurisdiction.timeZone
        let token = CSRF.token(for: request)
        let content = StatusContent(
            reference: view.reference.description, status: mapping.text("status_\(view.status.rawValue)"),
            statusExplanation: mapping.text("status_\(view.status.rawValue)_explanation"),
            receivedAt: DisplayFormat.dateTime(view.receivedAt, language: request.language, zone: zone),
            contentHash: view.contentHash,
            custodyIndex: try await services.ledger.entryIndex(
                kind: .reportReceived, recordID: "report:\(view.reference)"
            ).map(String.init) ?? "",
            proofPath: Paths.followUpProof,
            messages: view.messages.map { message in
                StatusContent.Message(
                    author: mapping.text("author_\(message.author.rawValue)"), isStaff: message.author == .staff,
                    body: message.body,
                    createdAt: DisplayFormat.dateTime(message.createdAt, language: request.language, zone: zone)
                )
            },
            csrf: token, supplementAction: Paths.followUpSupplements, signOutAction: Paths.followUpSignOut,
            supplementError: literalError ?? error.map { mapping.text($0) } ?? "",
            hasError: literalError != nil || error != nil, supplementText: text, isAdded: isAdded,
            maxLength: services.configuration.limits.supplementMaxCharacters,
            evidence: try await view.evidence.asyncMap { item in
                EvidenceView(
                    item,
                    custodyIndex: try await services.ledger.entryIndex(kind: .evidenceIngested, recordID: item.recordID)
                        .map(Int64.init),
                    request: request)
            },
            evidenceAction: Paths.followUpEvidence, evidenceError: evidenceError ?? "",
            hasEvidenceError: evidenceError != nil,
            isEvidenceAdded: (try? request.query.get(String.self, at: "evidence")) == "1",
            upload: UploadFieldContent(request: request)
        )
        let response = try await Page.render(
            "follow-up/status", title: mapping.text("title_follow_up_status"), content: content, for: request,
            switcherPath: Paths.followUpReport
        ).encodeResponse(status: status, for: request)
        CSRF.attach(token, to: response, for: request)
        return response
    }
}

/// The follow-up sign-in cookie: reference, code and expiry sealed with AES-GCM under the server's cookie
/// key, so it can be neither read nor forged nor extended.
enum FollowUpSession {
    static func cookieName(for request: Request) -> String {
        request.attest.configuration.usesTLS ? "__Host-attest_follow_up" : "attest_follow_up"
    }

    static func attach(reference: ReportReference, code: FollowUpCode, to response: Response, for request: Request) {
        let services = request.attest
        let expiry = Int(services.clock.now().timeIntervalSince1970) + services.configuration.followUpSessionSeconds
        let plaintext = Data("\(reference)|\(code.normalized)|\(expiry)".utf8)
        guard let sealed = try? AES.GCM.seal(plaintext, using: services.cookieKey).combined else { return }
        response.cookies[cookieName(for: request)] = HTTPCookies.Value(
            string: sealed.base64URLEncoded(), maxAge: services.configuration.followUpSessionSeconds, path: "/",
            isSecure: services.configuration.usesTLS, isHTTPOnly: true, sameSite: .strict
        )
    }

    /// Ends the sign-in: the cookie is cleared with the attributes it was set with, or a browser keeps a
    /// `__Host-` cookie (which must be `Secure`) as it was.
    static func clear(on response: Response, for request: Request) {
        response.cookies[cookieName(for: request)] = HTTPCookies.Value(
            string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/",
            isSecure: request.attest.configuration.usesTLS, isHTTPOnly: true, sameSite: .strict)
    }

    static func read(from request: Request) -> (ReportReference, FollowUpCode)? {
        let services = request.attest
        guard let value = request.cookies[cookieName(for: request)]?.string, value.count < 512 else { return nil }
        var base64 = value.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let combined = Data(base64Encoded: base64), let box = try? AES.GCM.SealedBox(combined: combined),
            let plaintext = try? AES.GCM.open(box, using: services.cookieKey),
            let text = String(data: plaintext, encoding: .utf8)
        else { return nil }
        let parts = text.split(separator: "|")
        guard parts.count == 3, let reference = ReportReference(String(parts[0])),
            let code = FollowUpCode(typed: String(parts[1])), let expiry = Int(parts[2]),
            Double(expiry) > services.clock.now().timeIntervalSince1970
        else { return nil }
        return (reference, code)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
