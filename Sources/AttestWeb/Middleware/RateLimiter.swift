import AttestCore
import Crypto
import Foundation
import Vapor

/// Counts write requests per client per minute, in memory only. A client is known by an HMAC of its address
/// under a salt that is replaced every minute together with the counts, so no address, nor any value
/// that could be matched to one later, is kept.
///
/// A lock, not an actor: every write request passes here, and an actor would cost each one a hop to the
/// shared pool and back for a few microseconds of work. `@unchecked Sendable`: the state is guarded by `lock`.
final class RateLimiter: @unchecked Sendable {
    let limitPerMinute: Int
    private let random: any RandomSource
    private let lock = NSLock()
    private var windowStart = Date.distantPast
    private var salt = SymmetricKey(size: .bits256)
    private var counts: [Data: Int] = [:]

    init(limitPerMinute: Int, random: any RandomSource) {
        self.limitPerMinute = limitPerMinute
        self.random = random
    }

    /// Counts one request from `client`; returns the seconds to wait when over the limit, nil otherwise.
    func admit(client: String, now: Date) -> Int? {
        guard limitPerMinute > 0 else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if now.timeIntervalSince(windowStart) >= 60 || now < windowStart {
            windowStart = now
            salt = SymmetricKey(data: random.bytes(count: 32))
            counts = [:]
        }
        let key = Data(HMAC<SHA256>.authenticationCode(for: Data(client.utf8), using: salt).prefix(16))
        let count = (counts[key] ?? 0) + 1
        counts[key] = count
        guard count > limitPerMinute else { return nil }
        return max(1, Int(60 - now.timeIntervalSince(windowStart)))
    }
}

/// Applies the rate limit to every request that writes (POST and other unsafe methods), except the chunks of
/// an upload already created (its creation counted; a 2 GiB video arrives in hundreds of PATCH requests).
struct RateLimitMiddleware: Middleware {
    let trustProxy: Bool

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let isUploadChunk =
            [.PATCH, .DELETE].contains(request.method) && request.url.path.hasPrefix(Paths.uploads + "/")
        guard request.method != .GET, request.method != .HEAD, request.method != .OPTIONS, !isUploadChunk else {
            return next.respond(to: request)
        }
        var client = request.remoteAddress?.ipAddress ?? "unknown"
        if trustProxy, let forwarded = request.headers.first(name: "X-Forwarded-For")?.split(separator: ",").first {
            client = forwarded.trimmingCharacters(in: .whitespaces)
        }
        if let wait = request.attest.rateLimiter.admit(client: client, now: request.attest.clock.now()) {
            return request.eventLoop.makeFailedFuture(AttestHTTPError.rateLimited(retryAfterSeconds: wait))
        }
        return next.respond(to: request)
    }
}
