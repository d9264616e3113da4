import AttestCore
import AttestPersistence
import AttestTestSupport
import FluentSQL
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

extension TestHarness {
    var hasher: BcryptPasswordHasher { app.attest.passwordHasher as! BcryptPasswordHasher }

    /// Runs the sign-in use case's password step from a client of its own.
    func passwordStep(_ email: String, _ password: String, from address: String) async throws -> String {
        try await app.attest.signInStaff.password(
            email: email, password: password, client: SignInClient(address: address)
        ).token
    }
}

/// A page with what differs per request (the CSRF token, the address typed) blanked out.
func normalizedSignInPage(_ response: TestingHTTPResponse) -> String {
    response.body.string.replacing(/name="csrf" value="[^"]*"/, with: "csrf")
        .replacing(/name="email" value="[^"]*"/, with: "email")
}

@Suite("Staff sign-in: bounded hashing, throttling, atomic lockout and codes")
struct StaffSignInHardeningTests {
    @Test("Hashing runs on a bounded pool of its own: past its queue it refuses at once, and shared threads stay free")
    func boundedHasher() async throws {
        let hasher = try await BcryptPasswordHasher(cost: 13, threads: 1, queueLimit: 2)
        let hash = try await hasher.hash("violet tram umbrella")
        let first = Task { try await hasher.verify("violet tram umbrella", against: hash) }
        let second = Task { try await hasher.verify("wrong", against: hash) }
        try await Task.sleep(for: .milliseconds(50))
        await #expect(throws: StaffError.busy(retryAfterSeconds: 1)) {
            _ = try await hasher.verify("third", against: hash)
        }
        // Two verifications at cost 13 take about a second; the third was refused before either ended.
        #expect(hasher.statistics.verified == 0, "refused at once, not queued behind the running hashes")
        // While the pool's only thread hashes, work on Swift's shared threads goes on: more tasks than there are
        // cores all finish long before the two hashes (about a second at cost 13) do.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<(4 * ProcessInfo.processInfo.activeProcessorCount) {
                group.addTask { _ = (0..<10_000).reduce(0, &+) }
            }
        }
        #expect(hasher.statistics.verified < 2, "the shared threads' work ended while the pool still hashed")
        #expect(try await first.value == true)
        #expect(try await second.value == false)
        #expect(hasher.statistics == .init(hashed: 1, verified: 2, refused: 1))
        await hasher.shutdown()
    }

    @Test("Parallel sign-ins past the hashing queue get 503 quickly while other pages keep answering")
    func busyHasher() async throws {
        try await withAttest(configure: {
            $0.bcryptCost = 12
            $0.staffSignIn.hashThreads = 1
            $0.staffSignIn.hashQueue = 1
        }) { harness in
            var browsers: [(Browser, String)] = []
            for _ in 0..<6 {
                var browser = Browser(harness.app)
                let page = try await browser.get("/staff/sign-in")
                browsers.append((browser, try #require(Browser.csrfToken(in: page.body.string))))
            }
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for (index, (browser, token)) in browsers.enumerated() {
                    group.addTask {
                        var browser = browser
                        let response = try await browser.post(
                            "/staff/sign-in",
                            form: [("csrf", token), ("email", "nobody\(index)@city.example"), ("password", "guess")])
                        if response.status == .serviceUnavailable {
                            #expect(response.headers.first(name: "Retry-After") == "1")
                        }
                        return response.status
                    }
                }
                group.addTask {
                    var reader = Browser(harness.app)
                    return try await reader.get("/report").status
                }
                return try await group.reduce(into: [HTTPStatus]()) { $0.append($1) }
            }
            #expect(statuses.contains(.ok), "the report form answered")
            #expect(statuses.contains(.serviceUnavailable))
            #expect(statuses.contains(.unauthorized))
            #expect(harness.hasher.statistics.refused >= 1)
        }
    }

    @Test("A client past its sign-in attempts per minute gets 429 without a password being checked")
    func perClientThrottle() async throws {
        try await withAttest(configure: { $0.staffSignIn.attemptsPerMinute = 3 }) { harness in
            var browser = Browser(harness.app)
            for index in 0..<3 {
                let response = try await browser.submit(
                    "/staff/sign-in", to: "/staff/sign-in",
                    [("email", "someone\(index)@city.example"), ("password", "guess")])
                #expect(response.status == .unauthorized)
            }
            let checked = harness.hasher.statistics.verified
            let refused = try await browser.submit(
                "/staff/sign-in", to: "/staff/sign-in", [("email", "someone@city.example"), ("password", "guess")])
            #expect(refused.status == .tooManyRequests)
            #expect(Int(refused.headers.first(name: "Retry-After") ?? "") ?? 0 > 0)
            #expect(harness.hasher.statistics.verified == checked)
            harness.clock.advance(by: 61)
            let later = try await browser.submit(
                "/staff/sign-in", to: "/staff/sign-in", [("email", "someone@city.example"), ("password", "guess")])
            #expect(later.status == .unauthorized)
        }
    }

    @Test("Concurrent reservations of sign-in attempts never exceed the limit; the lock lifts when it expires")
    func atomicReservations() async throws {
        try await withAttest { harness in
            let login = try await harness.enroll(.investigator)
            let account = try #require(try await harness.app.attest.store.account(email: login.email))
            let store = harness.app.attest.store
            let now = harness.clock.now()
            let granted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await store.staffTransaction {
                            try await $0.reserveSignInAttempt(
                                of: account.id, limit: 5, lockUntil: now.addingTimeInterval(900), now: now)
                        }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(granted == 5)
            let locked = try #require(try await store.account(id: account.id))
            #expect(locked.failedAttempts == 5)
            #expect(locked.lockedUntil == now.addingTimeInterval(900))
            let again = try await store.staffTransaction {
                try await $0.reserveSignInAttempt(
                    of: account.id, limit: 5, lockUntil: now.addingTimeInterval(1_800), now: now.addingTimeInterval(899)
                )
            }
            #expect(again == false)
            let afterLock = try await store.staffTransaction {
                try await $0.reserveSignInAttempt(
                    of: account.id, limit: 5, lockUntil: now.addingTimeInterval(1_801), now: now.addingTimeInterval(901)
                )
            }
            #expect(afterLock)
            #expect(try await store.account(id: account.id)?.failedAttempts == 1, "counted again from zero")
        }
    }

    @Test("Concurrent wrong passwords from many clients lock the account after the limit, not after all of them")
    func concurrentGuesses() async throws {
        try await withAttest(configure: { $0.staffSignIn.hashQueue = 64 }) { harness in
            let login = try await harness.enroll(.investigator)
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<12 {
                    group.addTask {
                        do {
                            _ = try await harness.passwordStep(login.email, "guess \(index)", from: "192.0.2.\(index)")
                            return true
                        } catch StaffError.invalidCredentials {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes == Array(repeating: false, count: 12))
            let account = try #require(try await harness.app.attest.store.account(email: login.email))
            #expect(account.failedAttempts == 5, "twelve guesses, five counted: the rest were refused unchecked")
            #expect(account.lockedUntil != nil)
            await #expect(throws: StaffError.invalidCredentials) {
                _ = try await harness.passwordStep(login.email, login.password, from: "198.51.100.1")
            }
            // The owner's browser, trusted for the account since an earlier complete sign-in, is not locked out.
            let owner = SignInClient(address: "198.51.100.2", trustedDevice: (account.id, "owner-device"))
            let (_, token) = try await harness.app.attest.signInStaff.password(
                email: login.email, password: login.password, client: owner)
            _ = try await harness.app.attest.signInStaff.secondFactor(
                sessionToken: token, code: TOTP(secret: login.secret).code(at: harness.clock.now()), client: owner)
            let after = try #require(try await harness.app.attest.store.account(email: login.email))
            #expect(after.failedAttempts == 0 && after.lockedUntil == nil, "a complete sign-in clears the count")
        }
    }

    @Test("One TOTP code, or one recovery code, is accepted once even when two requests race")
    func racingCodes() async throws {
        try await withAttest { harness in
            let login = try await harness.enroll(.supervisor)
            let signIn = harness.app.attest.signInStaff
            func race(_ code: String) async throws -> [Bool] {
                let first = try await harness.passwordStep(login.email, login.password, from: "192.0.2.1")
                let second = try await harness.passwordStep(login.email, login.password, from: "192.0.2.2")
                return try await withThrowingTaskGroup(of: Bool.self) { group in
                    for (token, address) in [(first, "192.0.2.1"), (second, "192.0.2.2")] {
                        group.addTask {
                            do {
                                _ = try await signIn.secondFactor(
                                    sessionToken: token, code: code, client: SignInClient(address: address))
                                return true
                            } catch StaffError.invalidSecondFactor {
                                return false
                            }
                        }
                    }
                    return try await group.reduce(into: [Bool]()) { $0.append($1) }
                }
            }
            let totp = try await race(TOTP(secret: login.secret).code(at: harness.clock.now()))
            #expect(totp.filter { $0 }.count == 1 && totp.count == 2)
            let recovery = try await race(login.recoveryCodes[3])
            #expect(recovery.filter { $0 }.count == 1 && recovery.count == 2)

            let account = try #require(try await harness.app.attest.store.account(email: login.email))
            let store = harness.app.attest.store
            let step = TOTP(secret: login.secret).step(at: harness.clock.now()) + 40
            let accepted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        try await store.staffTransaction { try await $0.acceptTOTPStep(step, of: account.id) }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(accepted == 1)
            let earlier = try await store.staffTransaction { try await $0.acceptTOTPStep(step - 1, of: account.id) }
            #expect(earlier == false, "an earlier step is refused")
        }
    }

    @Test("A locked account, an unknown address and a wrong password answer alike, after the same work")
    func identicalFailures() async throws {
        try await withAttest { harness in
            let locked = try await harness.enroll(.investigator)
            let other = try await harness.enroll(.intake)
            for index in 0..<5 {
                _ = try? await harness.passwordStep(locked.email, "guess", from: "192.0.2.\(index)")
            }
            #expect(try await harness.app.attest.store.account(email: locked.email)?.lockedUntil != nil)
            var browser = Browser(harness.app)
            var responses: [TestingHTTPResponse] = []
            for (email, password) in [
                (locked.email, locked.password), ("nobody@city.example", locked.password), (other.email, "wrong guess"),
            ] {
                let checked = harness.hasher.statistics.verified
                responses.append(
                    try await browser.submit(
                        "/staff/sign-in", to: "/staff/sign-in", [("email", email), ("password", password)]))
                #expect(harness.hasher.statistics.verified == checked + 1, "one password check for \(email)")
            }
            #expect(responses.allSatisfy { $0.status == .unauthorized })
            let pages = Set(responses.map(normalizedSignInPage))
            #expect(pages.count == 1, "the same page for all three")
            #expect(responses[0].body.string.contains("not right"))
        }
    }

    @Test("A stranger's failures do not lock the owner out of their own browser")
    func ownerNotLockedOut() async throws {
        // Every browser here is the same client address to the server; its sign-in requests are not limited.
        try await withAttest(configure: { $0.staffSignIn.attemptsPerMinute = 0 }) { harness in
            let login = try await harness.enroll(.investigator)
            var owner = Browser(harness.app)
            _ = try await owner.signIn(login, clock: harness.clock)
            #expect(owner.cookies["attest_staff_device"] != nil, "a trusted-device cookie after a complete sign-in")
            var stranger = Browser(harness.app)
            for _ in 0..<7 {
                let guess = try await stranger.submit(
                    "/staff/sign-in", to: "/staff/sign-in", [("email", login.email), ("password", "guess guess")])
                #expect(guess.status == .unauthorized)
            }
            #expect(try await harness.app.attest.store.account(email: login.email)?.lockedUntil != nil)
            let signedIn = try await owner.signIn(login, clock: harness.clock)
            #expect(signedIn.headers.first(name: .location) == "/staff/home")
            var newBrowser = Browser(harness.app)
            let refused = try await newBrowser.submit(
                "/staff/sign-in", to: "/staff/sign-in", [("email", login.email), ("password", login.password)])
            #expect(refused.status == .unauthorized, "the account is still locked for browsers it does not trust")
            // A forged or foreign device cookie trusts nothing.
            let cookie = try #require(owner.cookies["attest_staff_device"])
            newBrowser.cookies["attest_staff_device"] = cookie.dropLast() + (cookie.hasSuffix("0") ? "1" : "0")
            let forged = try await newBrowser.submit(
                "/staff/sign-in", to: "/staff/sign-in", [("email", login.email), ("password", login.password)])
            #expect(forged.status == .unauthorized)
        }
    }
}
