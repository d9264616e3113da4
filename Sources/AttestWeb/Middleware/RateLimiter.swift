import AttestCore
import Crypto
import Foundation
import Vapor

#if canImport(Glibc)
    import Glibc
#endif

/// Which address is the client's, and how addresses are grouped into clients.
///
/// Behind reverse proxies the peer is the nearest proxy; each proxy appends the address it saw to
/// `X-Forwarded-For`, and everything to the left of what a trusted proxy wrote is whatever the client chose to send.
/// So the client is found from the right: with `hops` trusted proxies, the entry `hops` from the right end; with
/// a list of proxy addresses, the rightmost entry that is not one of them (and only when the peer is one of them).
/// An IPv6 client is its /64 (one household or phone gets a /64, and can pick any address in it); IPv4-mapped
/// IPv6 addresses count as IPv4.
struct ClientAddressPolicy: Sendable, Equatable {
    /// Trusted reverse proxies in front of Attest, counted (`ATTEST_TRUSTED_PROXY_HOPS`; `ATTEST_TRUST_PROXY=true`
    /// means 1).
    var hops = 0
    /// Trusted reverse proxies by address or CIDR network (`ATTEST_TRUSTED_PROXIES`, comma-separated).
    var proxies: [Network] = []

    /// An address or a network: `192.0.2.10`, `10.0.0.0/8`, `2001:db8::/48`.
    struct Network: Sendable, Equatable {
        var address: [UInt8]
        var prefix: Int

        init?(_ text: Substring) {
            let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", maxSplits: 1)
            guard let first = parts.first, let address = ClientAddressPolicy.bytes(of: String(first)) else {
                return nil
            }
            let bits = address.count * 8
            if parts.count == 2 {
                guard let prefix = Int(parts[1]), (0...bits).contains(prefix) else { return nil }
                self.prefix = prefix
            } else {
                prefix = bits
            }
            self.address = address
        }

        func contains(_ other: [UInt8]) -> Bool {
            guard other.count == address.count else { return false }
            var remaining = prefix
            for index in address.indices where remaining > 0 {
                let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
                guard address[index] & mask == other[index] & mask else { return false }
                remaining -= 8
            }
            return true
        }
    }

    /// Parses `ATTEST_TRUSTED_PROXIES`; nil when an entry is not an address or network.
    static func networks(_ text: String) -> [Network]? {
        var result: [Network] = []
        for entry in text.split(separator: ",") where !entry.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let network = Network(entry) else { return nil }
            result.append(network)
        }
        return result
    }

    /// The bytes of an IPv4 (4) or IPv6 (16) address; an IPv4-mapped IPv6 address gives its IPv4 bytes.
    static func bytes(of text: String) -> [UInt8]? {
        // Proxies may append a port (`203.0.113.5:443`, `[2001:db8::1]:443`) or a zone (`fe80::1%eth0`).
        var text = text.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("["), let end = text.firstIndex(of: "]") {
            text = String(text[text.index(after: text.startIndex)..<end])
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            text = String(text[..<colon])
        }
        if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }

    /// The client's key: its IPv4 address, or its IPv6 /64; nil when no address can be told.
    func client(peer: String?, forwardedFor: [String]) -> [UInt8]? {
        let chain = forwardedFor.flatMap { $0.split(separator: ",").map { String($0) } }
        var address = peer.flatMap(Self.bytes(of:))
        if !proxies.isEmpty {
            guard let peerAddress = address, proxies.contains(where: { $0.contains(peerAddress) }) else {
                return address.map(Self.group)
            }
            for entry in chain.reversed() {
                guard let hop = Self.bytes(of: entry) else { break }
                address = hop
                if !proxies.contains(where: { $0.contains(hop) }) { break }
            }
        } else if hops > 0 {
            // The entry the outermost trusted proxy wrote; fewer entries than proxies means fewer proxies were
            // passed, and the leftmost entry is then the nearest thing to the client that a proxy wrote.
            // An entry that is not an address (a proxy's `unknown`) leaves the peer as the client, not one shared
            // bucket for every such request.
            if let entry = chain.dropLast(hops - 1).last ?? chain.first, let hop = Self.bytes(of: entry) {
                address = hop
            }
        }
        return address.map(Self.group)
    }

    static func group(_ address: [UInt8]) -> [UInt8] { address.count == 16 ? Array(address.prefix(8)) : address }
}

/// Counts what each client does per minute, in memory only: write requests, upload requests (chunks, offset
/// checks, terminations) and upload bytes. A client is known by an HMAC of its address key under a salt that is
/// replaced every minute together with the counts, so no address, nor any value that could be matched to one
/// later, is kept.
///
/// A lock, not an actor: every write request passes here, and an actor would cost each one a hop to the
/// shared pool and back for a few microseconds of work. `@unchecked Sendable`: the state is guarded by `lock`.
final class RateLimiter: @unchecked Sendable {
    /// What is counted; each has its own limit per client and minute.
    enum Bucket: UInt8, Sendable {
        /// POST and other writes (`ATTEST_RATE_LIMIT_PER_MINUTE`).
        case writes
        /// PATCH, HEAD and DELETE of uploads (`ATTEST_UPLOAD_REQUESTS_PER_MINUTE`).
        case uploadRequests
        /// Bytes of uploaded files, by tus or in forms (`ATTEST_UPLOAD_BYTES_PER_MINUTE`).
        case uploadBytes
    }

    struct Limits: Sendable, Equatable {
        var writes = 30
        var uploadRequests = 600
        var uploadBytes: Int64 = 2 << 30
    }

    let limits: Limits
    private let random: any RandomSource
    private let lock = NSLock()
    private var windowStart = Date.distantPast
    private var salt = SymmetricKey(size: .bits256)
    private var counts: [Data: Int64] = [:]

    init(limits: Limits, random: any RandomSource) {
        self.limits = limits
        self.random = random
    }

    convenience init(limitPerMinute: Int, random: any RandomSource) {
        var limits = Limits()
        limits.writes = limitPerMinute
        self.init(limits: limits, random: random)
    }

    var limitPerMinute: Int { limits.writes }

    private func limit(of bucket: Bucket) -> Int64 {
        switch bucket {
        case .writes: Int64(limits.writes)
        case .uploadRequests: Int64(limits.uploadRequests)
        case .uploadBytes: limits.uploadBytes
        }
    }

    /// Counts one request from `client`; returns the seconds to wait when over the limit, nil otherwise.
    func admit(client: String, now: Date) -> Int? {
        admit(key: Array(client.utf8), bucket: .writes, amount: 1, now: now)
    }

    /// Adds `amount` to `client`'s count in `bucket`; returns the seconds to wait when that passes the limit (0
    /// disables a bucket), nil otherwise.
    func admit(key client: [UInt8], bucket: Bucket, amount: Int64, now: Date) -> Int? {
        let limit = limit(of: bucket)
        guard limit > 0 else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if now.timeIntervalSince(windowStart) >= 60 || now < windowStart {
            windowStart = now
            salt = SymmetricKey(data: random.bytes(count: 32))
            counts = [:]
        }
        let key = Data(HMAC<SHA256>.authenticationCode(for: [bucket.rawValue] + client, using: salt).prefix(16))
        let count = (counts[key] ?? 0) + amount
        counts[key] = count
        guard count > limit else { return nil }
        return max(1, Int(60 - now.timeIntervalSince(windowStart)))
    }
}

extension Request {
    private struct ClientKey: StorageKey {
        typealias Value = [UInt8]
    }

    /// The key the rate limiter knows this request's client by (see `ClientAddressPolicy`).
    var clientKey: [UInt8] {
        if let cached = storage[ClientKey.self] { return cached }
        let key =
            attest.configuration.clientAddresses.client(
                peer: remoteAddress?.ipAddress, forwardedFor: headers[.xForwardedFor]) ?? Array("unknown".utf8)
        storage[ClientKey.self] = key
        return key
    }

    /// Counts `bytes` of uploaded file content against the client's budget; throws `rateLimited` past it.
    func chargeUploadBytes(_ bytes: Int) throws {
        if let wait = attest.rateLimiter.admit(
            key: clientKey, bucket: .uploadBytes, amount: Int64(bytes), now: attest.clock.now())
        {
            throw AttestHTTPError.rateLimited(retryAfterSeconds: wait)
        }
    }
}

/// Applies the rate limits: every write request (POST and other unsafe methods) counts in `writes`; the
/// requests of an upload already created (PATCH, HEAD, DELETE: a 2 GiB video arrives in hundreds of PATCH
/// requests) count in `uploadRequests`, and their bytes in `uploadBytes` as they arrive.
struct RateLimitMiddleware: Middleware {
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let isUpload = request.url.path.hasPrefix(Paths.uploads + "/")
        let bucket: RateLimiter.Bucket
        switch request.method {
        case .GET, .OPTIONS: return next.respond(to: request)
        case .HEAD:
            guard isUpload else { return next.respond(to: request) }
            bucket = .uploadRequests
        case .PATCH where isUpload, .DELETE where isUpload: bucket = .uploadRequests
        default: bucket = .writes
        }
        if let wait = request.attest.rateLimiter.admit(
            key: request.clientKey, bucket: bucket, amount: 1, now: request.attest.clock.now())
        {
            return request.eventLoop.makeFailedFuture(AttestHTTPError.rateLimited(retryAfterSeconds: wait))
        }
        return next.respond(to: request)
    }
}

/// A body whose bytes are charged to the client's upload budget as they arrive.
struct ChargedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let request: Request

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let request: Request

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            try request.chargeUploadBytes(buffer.readableBytes)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), request: request) }
}
