import Vapor

/// Headers on every response: a strict Content-Security-Policy (own origin only, no inline script or style,
/// no framing), no MIME sniffing, no referrer, no caching of pages that may show a report, HSTS behind TLS.
struct SecurityHeadersMiddleware: Middleware {
    static let contentSecurityPolicy = [
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
        "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
    ].joined(separator: "; ")

    let usesTLS: Bool

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).map { response in
            addHeaders(to: response, for: request)
            return response
        }
    }

    private func addHeaders(to response: Response, for request: Request) {
        let headers = [
            ("Content-Security-Policy", Self.contentSecurityPolicy),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Cross-Origin-Resource-Policy", "same-origin"),
            ("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)"),
        ]
        // One copy of the headers in and out: each access to `Response.headers` takes the response's lock.
        var all = response.headers
        for (name, value) in headers {
            all.replaceOrAdd(name: name, value: value)
        }
        if usesTLS {
            all.replaceOrAdd(name: .strictTransportSecurity, value: "max-age=31536000")
        }
        let path = request.url.path
        if !path.hasPrefix("/css/") && !path.hasPrefix("/js/") {
            all.replaceOrAdd(name: .cacheControl, value: "no-store")
        }
        response.headers = all
    }
}

/// Logs one line per request: method, route pattern (never the raw path or query, which may carry a
/// reference), status and duration. Never the client address.
struct RequestLogMiddleware: Middleware {
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let start = ContinuousClock.now
        return next.respond(to: request).map { response in
            Self.log(response, of: request, since: start)
            return response
        }
    }

    private static func log(_ response: Response, of request: Request, since start: ContinuousClock.Instant) {
        let route = request.route.map { "/" + $0.path.map(\.description).joined(separator: "/") } ?? "(no route)"
        let elapsed = ContinuousClock.now - start
        request.logger.info(
            "\(request.method.rawValue) \(route) \(response.status.code)",
            metadata: [
                "duration_ms":
                    "\(elapsed.components.attoseconds / 1_000_000_000_000_000 + elapsed.components.seconds * 1000)"
            ]
        )
    }
}
