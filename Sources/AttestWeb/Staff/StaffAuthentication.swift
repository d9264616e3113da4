import AttestCore
import AttestPersistence
import Vapor

/// bcrypt through Vapor (cost 12).
struct BcryptPasswordHasher: StaffPasswordHasher {
    let cost: Int
    let decoy: String

    init(cost: Int = 12) throws {
        self.cost = cost
        decoy = try Bcrypt.hash(UUID().uuidString, cost: cost)
    }

    func hash(_ password: String) throws -> String { try Bcrypt.hash(password, cost: cost) }
    func verify(_ password: String, against hash: String) throws -> Bool { try Bcrypt.verify(password, created: hash) }
}

/// The signed-in staff member of a request.
struct SignedInStaff: Sendable {
    var account: StaffAccount
    var session: StaffSession
}

/// The staff session cookie: a random token whose SHA-256 names the session row. `__Host-` prefixed and Secure
/// behind TLS, HttpOnly, SameSite=Strict, path `/staff`.
enum StaffCookie {
    static func name(for request: Request) -> String {
        request.attest.configuration.usesTLS ? "__Host-attest_staff" : "attest_staff"
    }

    static func set(_ token: String, on response: Response, for request: Request) {
        response.cookies[name(for: request)] = HTTPCookies.Value(
            string: token, path: "/", isSecure: request.attest.configuration.usesTLS, isHTTPOnly: true,
            sameSite: .strict)
    }

    static func clear(on response: Response, for request: Request) {
        response.cookies[name(for: request)] = HTTPCookies.Value(
            string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/",
            isSecure: request.attest.configuration.usesTLS, isHTTPOnly: true, sameSite: .strict)
    }

    static func token(of request: Request) -> String? {
        guard let value = request.cookies[name(for: request)]?.string, value.utf8.count == 64,
            value.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        return value
    }
}

extension Request {
    private struct StaffKey: StorageKey {
        typealias Value = SignedInStaff
    }

    /// The signed-in staff member, if the session cookie names a valid, fully signed-in session of an active,
    /// enrolled account. Refreshes the session's last use (at most once a minute).
    func signedInStaff() async throws -> SignedInStaff? {
        if let cached = storage[StaffKey.self] { return cached }
        guard let token = StaffCookie.token(of: self) else { return nil }
        let services = attest
        let store = services.store
        let now = services.clock.now()
        guard var session = try await store.session(tokenHash: ContentHash.sha256Hex(token)),
            session.stage == .signedIn
        else { return nil }
        let configuration = services.configuration
        guard
            session.isValid(
                at: now, idle: TimeInterval(configuration.staffIdleSeconds),
                absolute: TimeInterval(configuration.staffSessionSeconds))
        else {
            try await store.deleteSession(tokenHash: session.tokenHash)
            return nil
        }
        guard let account = try await store.account(id: session.accountID), account.isEnrolled else { return nil }
        if now.timeIntervalSince(session.lastSeenAt) >= 60 {
            session.lastSeenAt = now
            try await store.update(session)
        }
        let staff = SignedInStaff(account: account, session: session)
        storage[StaffKey.self] = staff
        return staff
    }
}

/// Route metadata: the permission a staff route requires. Every route under `/staff` carries one, except the
/// sign-in and setup pages (`StaffRoutes.open`); the authorisation matrix test checks both.
struct StaffPermissionKey: Hashable {}

extension RoutesBuilder {
    /// A staff route: only a signed-in staff member whose role holds `permission` reaches `handler`; anyone
    /// else is sent to sign in (GET) or refused (403).
    @discardableResult
    func staff(
        _ method: HTTPMethod, _ path: PathComponent..., permission: StaffPermission,
        use handler: @escaping @Sendable (Request, SignedInStaff) async throws -> Response
    ) -> Route {
        let route = on(method, path) { request async throws -> Response in
            guard let staff = try await request.signedInStaff() else {
                if method == .GET { return request.redirect(to: Paths.staffSignIn, redirectType: .normal) }
                throw StaffError.sessionExpired
            }
            guard StaffPolicy.allows(staff.account.role, permission) else { throw StaffError.forbidden }
            return try await handler(request, staff)
        }
        route.userInfo[StaffPermissionKey()] = permission
        return route
    }
}
