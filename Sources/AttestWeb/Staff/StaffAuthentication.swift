import AttestCore
import AttestPersistence
import Crypto
import NIOConcurrencyHelpers
import NIOPosix
import Vapor

/// Limits of staff sign-in (`ATTEST_STAFF_*`, read by `AttestConfiguration`).
struct StaffSignInLimits: Sendable, Equatable {
    /// Threads that hash passwords (`ATTEST_STAFF_HASH_THREADS`; default half the cores, at least one).
    var hashThreads = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
    /// Passwords being hashed or waiting at most; more are refused at once with 503 (`ATTEST_STAFF_HASH_QUEUE`).
    var hashQueue = 8
    /// Sign-in requests (password or code) per client and minute (`ATTEST_STAFF_SIGN_IN_PER_MINUTE`, 0 disables).
    var attemptsPerMinute = 10
    /// Failures that lock an account for clients without its trusted-device cookie, and that stop one client's
    /// tries at one account (`ATTEST_STAFF_MAX_FAILURES`)…
    var maxFailures = 5
    /// …for this many seconds (`ATTEST_STAFF_LOCKOUT_SECONDS`).
    var lockoutSeconds = 900
    /// Days a trusted-device cookie lasts after a complete sign-in (`ATTEST_STAFF_DEVICE_DAYS`).
    var deviceDays = 60
    /// Seconds a request for a second administrator's approval waits (`ATTEST_STAFF_APPROVAL_SECONDS`).
    var approvalSeconds = 86_400

    init() {}

    /// Reads the `ATTEST_STAFF_*` variables; a malformed value names its variable.
    init(environment: [String: String]) throws {
        func integer(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw AttestConfiguration.Error(
                    variable: name, reason: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        hashThreads = try integer("ATTEST_STAFF_HASH_THREADS", 1...64) ?? hashThreads
        hashQueue = try integer("ATTEST_STAFF_HASH_QUEUE", 1...10_000) ?? hashQueue
        attemptsPerMinute = try integer("ATTEST_STAFF_SIGN_IN_PER_MINUTE", 0...10_000) ?? attemptsPerMinute
        maxFailures = try integer("ATTEST_STAFF_MAX_FAILURES", 1...1_000) ?? maxFailures
        lockoutSeconds = try integer("ATTEST_STAFF_LOCKOUT_SECONDS", 60...86_400) ?? lockoutSeconds
        deviceDays = try integer("ATTEST_STAFF_DEVICE_DAYS", 1...400) ?? deviceDays
        approvalSeconds = try integer("ATTEST_STAFF_APPROVAL_SECONDS", 300...30 * 86_400) ?? approvalSeconds
    }

    /// The in-memory throttle these limits describe.
    func throttle(random: any RandomSource) -> SignInThrottle {
        SignInThrottle(
            limits: .init(
                attemptsPerMinute: attemptsPerMinute, triesPerPair: maxFailures, window: TimeInterval(lockoutSeconds)),
            random: random)
    }
}

/// bcrypt through Vapor, on a thread pool of its own: a hash takes a core for a quarter of a second at cost 12,
/// and on Swift's shared (cooperative) threads sixteen sign-ins at once stalled every other request for seconds.
/// At most `queueLimit` hashes run or wait; past that a hash is refused at once (`StaffError.busy`) rather than
/// queued without end.
final class BcryptPasswordHasher: StaffPasswordHasher, LifecycleHandler {
    /// Hashes done, checks done and requests refused, since start.
    struct Statistics: Sendable, Equatable {
        var hashed = 0
        var verified = 0
        var refused = 0
    }

    let cost: Int
    let decoy: String
    let queueLimit: Int
    private let pool: NIOThreadPool
    private let state = NIOLockedValueBox((inFlight: 0, statistics: Statistics()))

    /// Starts the pool and hashes the decoy on it.
    init(cost: Int, threads: Int, queueLimit: Int) async throws {
        self.cost = cost
        self.queueLimit = queueLimit
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        do {
            let password = UUID().uuidString
            decoy = try await pool.runIfActive { try Bcrypt.hash(password, cost: cost) }
        } catch {
            try? await pool.shutdownGracefully()
            throw error
        }
    }

    /// A hasher as configured, shut down with `application`.
    static func started(for application: Application, configuration: AttestConfiguration) async throws
        -> BcryptPasswordHasher
    {
        let hasher = try await BcryptPasswordHasher(
            cost: configuration.bcryptCost, threads: configuration.staffSignIn.hashThreads,
            queueLimit: configuration.staffSignIn.hashQueue)
        application.lifecycle.use(hasher)
        return hasher
    }

    var statistics: Statistics { state.withLockedValue { $0.statistics } }

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        let hash = try await run { try Bcrypt.hash(password, cost: cost) }
        state.withLockedValue { $0.statistics.hashed += 1 }
        return hash
    }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        let matches = try await run { try Bcrypt.verify(password, created: hash) }
        state.withLockedValue { $0.statistics.verified += 1 }
        return matches
    }

    /// Runs `work` on the pool if fewer than `queueLimit` hashes are running or waiting; throws `busy` otherwise.
    func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        let limit = queueLimit
        let admitted = state.withLockedValue { state -> Bool in
            guard state.inFlight < limit else {
                state.statistics.refused += 1
                return false
            }
            state.inFlight += 1
            return true
        }
        guard admitted else { throw StaffError.busy(retryAfterSeconds: 1) }
        defer { state.withLockedValue { $0.inFlight -= 1 } }
        return try await pool.runIfActive(work)
    }

    func shutdownAsync(_ application: Application) async { await shutdown() }

    /// Stops the pool's threads once the hashes queued have run.
    func shutdown() async { try? await pool.shutdownGracefully() }
}

/// The trusted-device cookie, set at each complete sign-in: it names the account and carries an HMAC under the
/// cookie key, and proves that this browser has signed in to that account before. Failures from elsewhere lock the
/// account against everyone else but not against this browser (see `SignInStaff`). `__Host-` prefixed and Secure
/// behind TLS, HttpOnly, SameSite=Strict; it signs nobody in by itself.
enum StaffDeviceCookie {
    static func name(for request: Request) -> String {
        request.attest.configuration.usesTLS ? "__Host-attest_staff_device" : "attest_staff_device"
    }

    private static func mac(_ payload: String, key: SymmetricKey) -> String {
        ContentHash.hex(HMAC<SHA256>.authenticationCode(for: Data("attest-staff-device|\(payload)".utf8), using: key))
    }

    static func set(for account: Identifier<StaffAccount>, on response: Response, for request: Request) {
        let services = request.attest
        let payload = "\(account.rawValue.uuidString).\(Int64(services.clock.now().timeIntervalSince1970))"
        let lifetime = services.configuration.staffSignIn.deviceDays * 86_400
        response.cookies[name(for: request)] = HTTPCookies.Value(
            string: "\(payload).\(mac(payload, key: services.cookieKey))", maxAge: lifetime, path: "/",
            isSecure: services.configuration.usesTLS, isHTTPOnly: true, sameSite: .strict)
    }

    /// The account this browser is trusted for, and the cookie's MAC (its throttling key), if the cookie is valid.
    static func trustedDevice(of request: Request) -> (account: Identifier<StaffAccount>, key: String)? {
        let services = request.attest
        guard let value = request.cookies[name(for: request)]?.string, value.utf8.count < 200 else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let id = UUID(uuidString: String(parts[0])), let issued = Int64(parts[1]) else {
            return nil
        }
        let payload = "\(parts[0]).\(parts[1])"
        let expected = mac(payload, key: services.cookieKey)
        let age = services.clock.now().timeIntervalSince1970 - Double(issued)
        guard ContentHash.constantTimeEquals(String(parts[2]), expected), age >= 0,
            age < Double(services.configuration.staffSignIn.deviceDays * 86_400)
        else { return nil }
        return (Identifier(id), expected)
    }
}

extension Request {
    /// Who is signing in, for throttling: the client's address key and this browser's trusted-device cookie.
    var signInClient: SignInClient {
        SignInClient(address: ContentHash.hex(clientKey), trustedDevice: StaffDeviceCookie.trustedDevice(of: self))
    }
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
        guard let (session, account) = try await attest.staffSessions.current(token: token) else { return nil }
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
