import AttestCore
import AttestPersistence
import AttestTestSupport
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

/// Deny by default, as a full matrix: every role, and the public, against every route.
@Suite("Authorisation matrix")
struct AuthorizationMatrixTests {
    /// Every route that needs no staff session. A new route that is neither here nor a staff route (with a
    /// permission) fails the test until someone decides which it is.
    static let publicRoutes: Set<String> = [
        "GET /", "GET /report", "POST /report", "GET /follow-up", "POST /follow-up", "GET /follow-up/report",
        "POST /follow-up/supplements", "POST /follow-up/evidence", "POST /follow-up/sign-out", "GET /follow-up/proof",
        "GET /api/v1/openapi.json", "GET /api/v1/jurisdiction", "POST /api/v1/reports",
        "GET /api/v1/reports/:reference",
        "POST /api/v1/reports/:reference/supplements", "POST /api/v1/reports/:reference/evidence",
        "GET /log/checkpoint", "GET /log/vkey", "GET /log/tile/**", "GET /log/proof/inclusion",
        "GET /log/proof/consistency", "GET /integrity", "OPTIONS /uploads", "OPTIONS /uploads/:id", "POST /uploads",
        "HEAD /uploads/:id", "PATCH /uploads/:id", "DELETE /uploads/:id",
        // Staff pages reachable before signing in.
        "GET /staff", "GET /staff/sign-in", "POST /staff/sign-in", "GET /staff/sign-in/verify",
        "POST /staff/sign-in/verify", "GET /staff/setup/:token", "POST /staff/setup/:token",
    ]

    static func key(_ route: Route) -> String {
        "\(route.method.rawValue) /\(route.path.map(\.description).joined(separator: "/"))"
    }

    @Test("Every route is either public (listed) or a staff route that requires a permission")
    func everyRouteIsClassified() async throws {
        try await withAttest { harness in
            var seen = Set<String>()
            for route in harness.app.routes.all {
                let key = Self.key(route)
                seen.insert(key)
                let permission = route.userInfo[StaffPermissionKey()] as? StaffPermission
                #expect(
                    Self.publicRoutes.contains(key) != (permission != nil),
                    "\(key): \(permission.map { "requires \($0)" } ?? "public") — classify it")
                if key.contains(" /staff/"), permission == nil {
                    #expect(Self.publicRoutes.contains(key), "\(key) is a staff path without a permission")
                }
            }
            #expect(Self.publicRoutes.isSubset(of: seen), "listed public routes that do not exist")
        }
    }

    @Test(
        "Every role × every staff route: allowed exactly when the policy grants the permission; the public is sent to sign in"
    )
    func matrix() async throws {
        try await withAttest { harness in
            let receipt = try await harness.app.attest.submitReport.execute(.init(submission: .minimal()))
            var logins: [StaffRole: StaffLogin] = [:]
            for role in StaffRole.allCases { logins[role] = try await harness.enroll(role) }
            let staffRoutes = harness.app.routes.all.compactMap { route -> (Route, StaffPermission)? in
                (route.userInfo[StaffPermissionKey()] as? StaffPermission).map { (route, $0) }
            }
            #expect(staffRoutes.count >= 10)
            for (route, permission) in staffRoutes {
                let victim = try await harness.app.attest.createStaffAccount.execute(
                    .init(email: "victim-\(UUID().uuidString.prefix(8))@city.example", displayName: "V", role: .intake))
                let path =
                    "/"
                    + route.path.map { component -> String in
                        switch component.description {
                        case ":reference": receipt.reference.description
                        case ":id": victim.0.id.description
                        default: component.description
                        }
                    }.joined(separator: "/")

                // The public: GET goes to sign-in, anything else is refused.
                var anonymous = Browser(harness.app)
                let publicResponse = try await send(route.method, path, with: &anonymous)
                if route.method == .GET {
                    #expect(publicResponse.status == .seeOther, "public \(Self.key(route))")
                    #expect(publicResponse.headers.first(name: .location) == "/staff/sign-in")
                } else {
                    #expect(publicResponse.status == .unauthorized, "public \(Self.key(route))")
                }

                for role in StaffRole.allCases {
                    var browser = Browser(harness.app)
                    _ = try await browser.signIn(logins[role]!, clock: harness.clock)
                    let response = try await send(route.method, path, with: &browser)
                    let allowed = StaffPolicy.allows(role, permission)
                    // Without a session a GET is sent to sign in and anything else gets 401; a POST that is reached
                    // may itself end at sign-in (signing out).
                    let reached =
                        response.status != .forbidden && response.status != .unauthorized
                        && (route.method != .GET || response.headers.first(name: .location) != "/staff/sign-in")
                    #expect(
                        reached == allowed,
                        "\(role) × \(Self.key(route)) (\(permission)): \(response.status.code), expected \(allowed ? "allowed" : "denied")"
                    )
                }
            }
        }
    }

    /// Sends a request as a staff page would: POSTs carry the page's CSRF token.
    func send(_ method: HTTPMethod, _ path: String, with browser: inout Browser) async throws -> TestingHTTPResponse {
        if method == .GET { return try await browser.get(path) }
        let page = try await browser.get("/staff/sign-in")
        let token = Browser.csrfToken(in: page.body.string) ?? ""
        return try await browser.post(path, form: [("csrf", token)])
    }
}
