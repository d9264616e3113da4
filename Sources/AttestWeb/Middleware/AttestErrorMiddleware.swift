import Vapor

/// Turns every error into a response: structured JSON with a stable code under `/api/`, a localized HTML
/// page elsewhere. Internal errors are logged (without request details) and shown as a generic message.
///
/// A plain (future-based) middleware, like the others here: Vapor runs each `AsyncMiddleware` as a task of its own,
/// two thread hops per middleware and request, which cost submissions a measurable share of their throughput
/// (docs/benchmarks.md). Only a failed request starts a task here, to render its page.
struct AttestErrorMiddleware: Middleware {
    struct Body: Encodable {
        struct Details: Encodable {
            var code: String
            var message: String
            var fields: [ErrorDescription.Field]?
        }
        var error: Details
    }

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).flatMapError { error in
            request.eventLoop.makeFutureWithTask { try await Self.response(to: error, for: request) }
        }
    }

    private static func response(to error: any Error, for request: Request) async throws -> Response {
        let mapping = ErrorMapping(catalogs: request.attest.catalogs, language: request.language)
        let description = mapping.describe(error)
        if description.status == .internalServerError {
            request.logger.error("internal error: \(String(reflecting: type(of: error))): \(error)")
        }
        let response: Response
        if request.url.path.hasPrefix("/api/") {
            response = Response(status: description.status)
            try response.content.encode(
                Body(
                    error: .init(
                        code: description.code, message: description.message,
                        fields: description.fields.isEmpty ? nil : description.fields
                    )
                ),
                as: .json
            )
        } else if request.url.path.hasPrefix("/log/") || request.url.path.hasPrefix(Paths.uploads) {
            // Verifiers, tus clients and scripts read these: plain text, one line.
            response = Response(status: description.status, body: .init(string: description.message + "\n"))
            response.headers.contentType = HTTPMediaType(
                type: "text", subType: "plain", parameters: ["charset": "utf-8"])
        } else {
            response = try await Page.render(
                "error", title: description.message,
                content: ErrorPageContent(status: Int(description.status.code), message: description.message),
                for: request
            ).encodeResponse(status: description.status, for: request)
        }
        if request.url.path.hasPrefix(Paths.uploads) { UploadsController.tusHeaders(&response.headers) }
        for (name, value) in description.headers {
            response.headers.replaceOrAdd(name: name, value: value)
        }
        return response
    }
}

struct ErrorPageContent: Encodable {
    var status: Int
    var message: String
}

/// Chooses the language of each request and remembers an explicit choice in a session cookie: it ends with the
/// browser session, so a reporter's phone does not keep a sign of the choice for a year.
struct LanguageMiddleware: Middleware {
    static let cookieName = "attest_lang"

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).map { response in
            Self.rememberChoice(of: request, in: response)
            return response
        }
    }

    private static func rememberChoice(of request: Request, in response: Response) {
        if let chosen = request.languageInQuery, request.attest.languages.contains(chosen) {
            response.cookies[Self.cookieName] = HTTPCookies.Value(
                string: chosen, path: "/", isSecure: request.attest.configuration.usesTLS,
                isHTTPOnly: true, sameSite: .lax
            )
        }
    }
}

extension Request {
    private struct LanguageKey: StorageKey {
        typealias Value = String
    }

    /// The language for this request: an explicit `?lang=` (or form field `lang`), then the cookie, then
    /// `Accept-Language`, then the jurisdiction's default.
    var language: String {
        if let cached = storage[LanguageKey.self] { return cached }
        let offered = attest.languages
        var chosen = attest.jurisdiction.defaultLanguage
        if let value = languageInQuery, offered.contains(value) {
            chosen = value
        } else if let value = cookies[LanguageMiddleware.cookieName]?.string, offered.contains(value) {
            chosen = value
        } else if let header = headers.first(name: .acceptLanguage),
            let negotiated = MessageCatalogs.negotiate(acceptLanguage: header, offered: offered)
        {
            chosen = negotiated
        }
        storage[LanguageKey.self] = chosen
        return chosen
    }

    /// `?lang=` from the query. Vapor's query decoder runs only when the query names it: it cost 2 % of a
    /// submission's CPU time on every request.
    var languageInQuery: String? {
        guard let query = url.query, query.contains("lang") else { return nil }
        return try? self.query.get(String.self, at: "lang")
    }

    /// Overrides the language for the rest of this request (a form's hidden `lang` field).
    func setLanguage(_ language: String) {
        if attest.languages.contains(language) { storage[LanguageKey.self] = language }
    }
}
