import AttestCore
import AttestTestSupport
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

@Suite("Rate limits: the client is who the trusted proxy saw")
struct RateLimitTests {
    static func key(_ text: String) -> [UInt8] { ClientAddressPolicy.bytes(of: text).map(ClientAddressPolicy.group)! }

    @Test("With one trusted hop the client is the rightmost X-Forwarded-For entry, whatever the client wrote before it")
    func hops() {
        let one = ClientAddressPolicy(hops: 1)
        #expect(one.client(peer: "127.0.0.1", forwardedFor: ["198.51.100.9, 203.0.113.5"]) == Self.key("203.0.113.5"))
        #expect(
            one.client(peer: "127.0.0.1", forwardedFor: ["198.51.100.9", "203.0.113.5"]) == Self.key("203.0.113.5"),
            "several header lines are one list")
        #expect(one.client(peer: "127.0.0.1", forwardedFor: []) == Self.key("127.0.0.1"))
        let two = ClientAddressPolicy(hops: 2)
        #expect(
            two.client(peer: "10.0.0.2", forwardedFor: ["6.6.6.6, 203.0.113.5, 10.0.0.1"]) == Self.key("203.0.113.5"))
        #expect(one.client(peer: "127.0.0.1", forwardedFor: ["203.0.113.5:443"]) == Self.key("203.0.113.5"), "a port")
        #expect(one.client(peer: "127.0.0.1", forwardedFor: ["[2001:db8::1]:443"]) == Self.key("2001:db8::9"))
        #expect(one.client(peer: "127.0.0.1", forwardedFor: ["fe80::1%eth0"]) == Self.key("fe80::2"), "a zone")
        #expect(one.client(peer: "192.0.2.3", forwardedFor: ["unknown"]) == Self.key("192.0.2.3"), "not one bucket")
        let none = ClientAddressPolicy()
        #expect(none.client(peer: "192.0.2.1", forwardedFor: ["203.0.113.5"]) == Self.key("192.0.2.1"))
    }

    @Test("With trusted proxy addresses, entries are read from the right past the proxies, and only from a proxy")
    func proxies() throws {
        let policy = ClientAddressPolicy(proxies: try #require(ClientAddressPolicy.networks("10.0.0.0/8, 192.0.2.7")))
        #expect(
            policy.client(peer: "192.0.2.7", forwardedFor: ["6.6.6.6, 203.0.113.5, 10.1.2.3"])
                == Self.key("203.0.113.5"))
        #expect(
            policy.client(peer: "198.51.100.1", forwardedFor: ["203.0.113.5"]) == Self.key("198.51.100.1"),
            "a peer that is not a proxy is the client, whatever it claims")
        #expect(policy.client(peer: "10.9.9.9", forwardedFor: ["garbage, 203.0.113.5"]) == Self.key("203.0.113.5"))
        #expect(ClientAddressPolicy.networks("10.0.0.0/33") == nil)
        #expect(ClientAddressPolicy.networks("not-an-address") == nil)
    }

    @Test("An IPv6 client is its /64; an IPv4-mapped address is the IPv4 address")
    func ipv6() {
        let policy = ClientAddressPolicy()
        let a = policy.client(peer: "2001:db8:1:2::1", forwardedFor: [])
        #expect(a == policy.client(peer: "2001:db8:1:2:ffff:ffff:ffff:fffe", forwardedFor: []))
        #expect(a != policy.client(peer: "2001:db8:1:3::1", forwardedFor: []))
        #expect(policy.client(peer: "::ffff:192.0.2.1", forwardedFor: []) == Self.key("192.0.2.1"))
    }

    @Test(
        "Behind a proxy, spoofed X-Forwarded-For values neither escape the limit nor spend a victim's; uploads count too"
    )
    func overHTTP() async throws {
        try await withAttest(
            postgres: false,
            configure: {
                $0.trustProxy = true
                $0.rateLimitPerMinute = 5
                $0.uploadRateLimits.uploadRequests = 4
                $0.uploadRateLimits.uploadBytes = 1_000
            }
        ) { harness in
            let tester = try harness.app.testing(method: .running(hostname: "127.0.0.1", port: 0))
            func post(_ forwarded: String) async throws -> HTTPStatus {
                var status = HTTPStatus.ok
                try await tester.test(
                    .POST, "/api/v1/reports",
                    headers: ["Content-Type": "application/json", "X-Forwarded-For": forwarded],
                    body: ByteBuffer(string: "{")
                ) { status = $0.status }
                return status
            }
            // The attacker at 203.0.113.66 writes a new address at the left each time; the proxy appends theirs.
            var statuses: [HTTPStatus] = []
            for number in 0..<8 { statuses.append(try await post("198.51.100.\(number), 203.0.113.66")) }
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 3, "\(statuses)")
            // Naming the victim spends the attacker's own bucket, not the victim's.
            #expect(try await post("203.0.113.10, 203.0.113.66") == .tooManyRequests)
            #expect(try await post("203.0.113.10") == .badRequest, "the victim is still answered")

            // Upload requests and bytes have budgets of their own.
            var headers: HTTPHeaders = [
                "Tus-Resumable": "1.0.0", "Upload-Length": "4000", "X-Forwarded-For": "192.0.2.50",
            ]
            var location = ""
            try await tester.test(.POST, "/uploads", headers: headers) { response in
                #expect(response.status == .created)
                location = response.headers.first(name: .location) ?? ""
            }
            headers = [
                "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
                "X-Forwarded-For": "192.0.2.50",
            ]
            try await tester.test(.PATCH, location, headers: headers, body: ByteBuffer(repeating: 1, count: 1_500)) {
                response in
                #expect(response.status == .tooManyRequests, "past 1,000 bytes a minute")
            }
            var patches: [HTTPStatus] = []
            for _ in 0..<4 {
                try await tester.test(
                    .HEAD, location, headers: ["Tus-Resumable": "1.0.0", "X-Forwarded-For": "192.0.2.50"]
                ) { patches.append($0.status) }
            }
            #expect(
                patches.filter { $0 == .tooManyRequests }.count == 1, "\(patches): HEAD counts as an upload request")
        }
    }

    @Test("The limiter keeps no address, only keyed hashes that are forgotten each minute")
    func memory() {
        let limiter = RateLimiter(limitPerMinute: 2, random: SystemRandomSource())
        let now = Date()
        let client = Self.key("198.51.100.4")
        #expect(limiter.admit(key: client, bucket: .writes, amount: 1, now: now) == nil)
        #expect(limiter.admit(key: client, bucket: .uploadRequests, amount: 1, now: now) == nil, "buckets apart")
        #expect(limiter.admit(key: client, bucket: .writes, amount: 1, now: now) == nil)
        #expect(limiter.admit(key: client, bucket: .writes, amount: 1, now: now) != nil)
        var state = ""
        dump(limiter, to: &state)
        #expect(state.contains("counts"))
        #expect(!state.contains("198.51.100") && !state.contains("198, 51, 100, 4"), "no address, as text or bytes")
    }
}
