import AttestCore
import Vapor

/// Double-submit CSRF protection for the public forms, which have no session: a random token in a cookie
/// (HttpOnly, SameSite=Strict, `__Host-` prefixed and Secure behind TLS) must equal the token in the form.
/// A cross-site page can neither read nor set that cookie, so it cannot forge the pair.
enum CSRF {
    static let fieldName = "csrf"

    static func cookieName(for request: Request) -> String {
        request.attest.configuration.usesTLS ? "__Host-attest_csrf" : "attest_csrf"
    }

    /// The request's token: the cookie's when it has a well-formed one, a new one otherwise.
    static func token(for request: Request) -> String {
        if let existing = request.cookies[cookieName(for: request)]?.string, isWellFormed(existing) {
            return existing
        }
        return Data(request.attest.random.bytes(count: 32)).base64URLEncoded()
    }

    /// Sets the token cookie on `response`.
    static func attach(_ token: String, to response: Response, for request: Request) {
        response.cookies[cookieName(for: request)] = HTTPCookies.Value(
            string: token, path: "/", isSecure: request.attest.configuration.usesTLS, isHTTPOnly: true,
            sameSite: .strict
        )
    }

    /// Whether the form's token matches the cookie's.
    static func isValid(_ formToken: String?, for request: Request) -> Bool {
        guard let formToken, let cookie = request.cookies[cookieName(for: request)]?.string, isWellFormed(cookie)
        else { return false }
        return ContentHash.constantTimeEquals(formToken, cookie)
    }

    private static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 43
            && token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}

extension Data {
    func base64URLEncoded() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
