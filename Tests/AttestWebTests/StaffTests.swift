import AttestCore
import AttestPersistence
import AttestTestSupport
import FluentKit
import FluentSQL
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

/// A staff member the tests sign in as.
struct StaffLogin {
    var email: String
    var password: String
    var secret: [UInt8]
    var recoveryCodes: [String]
}

extension TestHarness {
    /// Creates and fully enrolls an account (password, TOTP, recovery codes), then moves the clock past the
    /// enrollment code's step so a sign-in can use a fresh code.
    func enroll(_ role: StaffRole, email: String? = nil, office: String? = nil) async throws -> StaffLogin {
        let services = app.attest
        let address = email ?? "\(role.rawValue)-\(UUID().uuidString.prefix(6).lowercased())@city.example"
        let (_, token) = try await services.createStaffAccount.execute(
            .init(
                email: address, displayName: "\(role.rawValue.capitalized) Tester", role: role,
                receivingOffice: office
                    ?? (role == .prosecutor ? services.jurisdiction.receivingOffices.first?.code : nil)))
        let secret = Array((0..<20).map { UInt8($0 &* 7 &+ 3) })
        let password = "violet tram umbrella \(role.rawValue)"
        let codes = try await services.completeStaffSetup.execute(
            .init(
                token: token, password: password, passwordAgain: password, secret: secret,
                code: TOTP(secret: secret).code(at: clock.now())))
        clock.advance(by: 31)
        return StaffLogin(email: address, password: password, secret: secret, recoveryCodes: codes)
    }
}

extension Browser {
    /// Signs in with password and the current TOTP code; returns the final response (a redirect to home).
    mutating func signIn(_ login: StaffLogin, clock: TestClock) async throws -> TestingHTTPResponse {
        let first = try await submit(
            "/staff/sign-in", to: "/staff/sign-in", [("email", login.email), ("password", login.password)])
        #expect(first.status == .seeOther, "password step: \(first.body.string.prefix(300))")
        let code = TOTP(secret: login.secret).code(at: clock.now())
        let second = try await submit("/staff/sign-in/verify", to: "/staff/sign-in/verify", [("code", code)])
        clock.advance(by: 31)  // the next sign-in needs a fresh code: a code is never accepted twice
        return second
    }
}

@Suite("Staff accounts, two-factor and sessions")
struct StaffWebTests {
    @Test("A first-start setup link creates the administrator with two-factor; then they sign in with a code")
    func firstStart() async throws {
        try await withAttest { harness in
            let link = try #require(try await FirstStartSetupLink.issue(harness.app.attest))
            let path = String(link.dropFirst("http://attest.test".count))
            var browser = Browser(harness.app)
            let page = try await browser.get(path)
            #expect(page.status == .ok)
            let html = page.body.string
            let secret = try #require(html.firstMatch(of: /name="secret" value="([A-Z2-7]+)"/).map { String($0.1) })
            #expect(html.contains("otpauth://totp/"))
            let weak = try await browser.submit(
                path, to: path,
                [
                    ("email", "chief@city.example"), ("display_name", "Ana Chief"), ("password", "password1234"),
                    ("password_again", "password1234"), ("secret", secret), ("code", "000000"),
                ])
            #expect(weak.status == .unprocessableEntity)
            #expect(weak.body.string.contains("too common"))
            #expect(try await harness.app.attest.store.accounts().isEmpty, "nothing created by a refused setup")
            let code = TOTP(secret: Base32.decode(secret)!).code(at: harness.clock.now())
            let done = try await browser.submit(
                path, to: path,
                [
                    ("email", "Chief@City.example"), ("display_name", "Ana Chief"),
                    ("password", "violet tram umbrella 47"), ("password_again", "violet tram umbrella 47"),
                    ("secret", secret), ("code", code),
                ])
            #expect(done.status == .ok, "\(done.body.string.prefix(500))")
            #expect(done.body.string.matches(of: /[0-9A-Z]{5}-[0-9A-Z]{5}/).count == 10, "ten recovery codes shown")
            #expect(try await browser.get(path).status == .notFound, "the link works once")
            #expect(try await FirstStartSetupLink.issue(harness.app.attest) == nil, "an administrator exists")

            harness.clock.advance(by: 31)
            let login = StaffLogin(
                email: "chief@city.example", password: "violet tram umbrella 47", secret: Base32.decode(secret)!,
                recoveryCodes: [])
            let signedIn = try await browser.signIn(login, clock: harness.clock)
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers.first(name: .location) == "/staff/home")
            let home = try await browser.get("/staff/home")
            #expect(home.status == .ok)
            #expect(home.body.string.contains("Ana Chief"))
            #expect(home.body.string.contains("Staff accounts"))
            // Signing in is a custody event, under a pseudonym.
            let sql = harness.app.db as! any SQLDatabase
            struct Row: Decodable { var entry: String }
            let entries = try await sql.raw("SELECT entry FROM custody_entries WHERE kind = 'staff.signed_in'")
                .all(decoding: Row.self)
            #expect(entries.count == 1)
            #expect(!entries[0].entry.contains("chief") && !entries[0].entry.contains("Ana"))
        }
    }

    @Test(
        "Wrong passwords and codes fail alike; five failures stop a client's tries; codes and recovery codes work once")
    func failures() async throws {
        try await withAttest(configure: { $0.staffSignIn.attemptsPerMinute = 0 }) { harness in
            let login = try await harness.enroll(.intake)
            var browser = Browser(harness.app)
            let unknown = try await browser.submit(
                "/staff/sign-in", to: "/staff/sign-in", [("email", "nobody@city.example"), ("password", "whatever")])
            let wrong = try await browser.submit(
                "/staff/sign-in", to: "/staff/sign-in", [("email", login.email), ("password", "wrong password")])
            #expect(unknown.status == .unauthorized && wrong.status == .unauthorized)
            #expect(unknown.body.string.contains("not right") && wrong.body.string.contains("not right"))

            // Password right, code wrong, then a recovery code; the same recovery code fails next time.
            _ = try await browser.submit(
                "/staff/sign-in", to: "/staff/sign-in", [("email", login.email), ("password", login.password)])
            let badCode = try await browser.submit(
                "/staff/sign-in/verify", to: "/staff/sign-in/verify", [("code", "123456")])
            #expect(badCode.status == .unauthorized)
            let recovery = try await browser.submit(
                "/staff/sign-in/verify", to: "/staff/sign-in/verify", [("code", login.recoveryCodes[0].lowercased())])
            #expect(recovery.status == .seeOther && recovery.headers.first(name: .location) == "/staff/home")
            var other = Browser(harness.app)
            _ = try await other.submit(
                "/staff/sign-in", to: "/staff/sign-in", [("email", login.email), ("password", login.password)])
            let reused = try await other.submit(
                "/staff/sign-in/verify", to: "/staff/sign-in/verify", [("code", login.recoveryCodes[0])])
            #expect(reused.status == .unauthorized)
            // A TOTP code accepted once is refused the second time, even within its 30 seconds.
            let code = TOTP(secret: login.secret).code(at: harness.clock.now())
            #expect(
                try await other.submit("/staff/sign-in/verify", to: "/staff/sign-in/verify", [("code", code)]).status
                    == .seeOther)
            var third = Browser(harness.app)
            _ = try await third.submit(
                "/staff/sign-in", to: "/staff/sign-in", [("email", login.email), ("password", login.password)])
            #expect(
                try await third.submit("/staff/sign-in/verify", to: "/staff/sign-in/verify", [("code", code)]).status
                    == .unauthorized)

            // Five failures from one client stop that client's tries at the address, answered like any failure:
            // the right password too, until the window ends.
            var attacker = Browser(harness.app)
            for _ in 0..<5 {
                let guess = try await attacker.submit(
                    "/staff/sign-in", to: "/staff/sign-in", [("email", login.email), ("password", "guess guess guess")])
                #expect(guess.status == .unauthorized && guess.body.string.contains("not right"))
            }
            let whileStopped = try await attacker.submit(
                "/staff/sign-in", to: "/staff/sign-in", [("email", login.email), ("password", login.password)])
            #expect(whileStopped.status == .unauthorized, "the same answer as a wrong password")
            #expect(whileStopped.body.string.contains("not right"))
            harness.clock.advance(by: 15 * 60 + 1)
            let after = try await attacker.submit(
                "/staff/sign-in", to: "/staff/sign-in", [("email", login.email), ("password", login.password)])
            #expect(after.status == .seeOther)
        }
    }

    @Test("Sessions: idle and absolute timeouts, sign out, sign out everywhere, disabled accounts")
    func sessions() async throws {
        try await withAttest(configure: {
            $0.staffIdleSeconds = 600
            $0.staffSessionSeconds = 3_600
        }) { harness in
            let login = try await harness.enroll(.investigator)
            var laptop = Browser(harness.app)
            var phone = Browser(harness.app)
            _ = try await laptop.signIn(login, clock: harness.clock)
            _ = try await phone.signIn(login, clock: harness.clock)
            #expect(try await laptop.get("/staff/home").status == .ok)
            harness.clock.advance(by: 601)
            #expect(try await laptop.get("/staff/home").headers.first(name: .location) == "/staff/sign-in", "idle")
            _ = try await laptop.signIn(login, clock: harness.clock)
            for _ in 0..<8 {
                harness.clock.advance(by: 500)
                _ = try await laptop.get("/staff/home")
            }
            #expect(try await laptop.get("/staff/home").headers.first(name: .location) == "/staff/sign-in", "absolute")

            _ = try await laptop.signIn(login, clock: harness.clock)
            _ = try await phone.signIn(login, clock: harness.clock)
            let home = try await laptop.get("/staff/home")
            let token = try #require(Browser.csrfToken(in: home.body.string))
            let everywhere = try await laptop.post("/staff/sign-out-everywhere", form: [("csrf", token)])
            #expect(everywhere.status == .seeOther)
            #expect(try await phone.get("/staff/home").headers.first(name: .location) == "/staff/sign-in")

            // An administrator disables the account: its sessions end and it cannot sign in.
            let admin = try await harness.enroll(.administrator)
            var adminBrowser = Browser(harness.app)
            _ = try await adminBrowser.signIn(admin, clock: harness.clock)
            _ = try await phone.signIn(login, clock: harness.clock)
            let accounts = try await adminBrowser.get("/staff/accounts")
            let csrf = try #require(Browser.csrfToken(in: accounts.body.string))
            let target = try #require(try await harness.app.attest.store.account(email: login.email))
            let disabled = try await adminBrowser.post("/staff/accounts/\(target.id)/disable", form: [("csrf", csrf)])
            #expect(disabled.status == .seeOther)
            #expect(try await phone.get("/staff/home").headers.first(name: .location) == "/staff/sign-in")
            let refused = try await phone.submit(
                "/staff/sign-in", to: "/staff/sign-in", [("email", login.email), ("password", login.password)])
            #expect(refused.status == .unauthorized)
        }
    }

    @Test("An administrator creates an account; the setup link enrolls it; prosecutors need an office")
    func accounts() async throws {
        try await withAttest { harness in
            let admin = try await harness.enroll(.administrator)
            var browser = Browser(harness.app)
            _ = try await browser.signIn(admin, clock: harness.clock)
            let page = try await browser.get("/staff/accounts")
            let csrf = try #require(Browser.csrfToken(in: page.body.string))
            let noOffice = try await browser.post(
                "/staff/accounts",
                form: [("csrf", csrf), ("email", "p@city.example"), ("display_name", "P"), ("role", "prosecutor")])
            #expect(noOffice.status == .unprocessableEntity)
            let created = try await browser.post(
                "/staff/accounts",
                form: [
                    ("csrf", csrf), ("email", "inv@city.example"), ("display_name", "Inés Vega"),
                    ("role", "investigator"),
                ])
            #expect(created.status == .created)
            let link = try #require(created.body.string.firstMatch(of: /id="setup-link">([^<]+)</).map { String($0.1) })
            #expect(link.hasPrefix("http://attest.test/staff/setup/"))
            let duplicate = try await browser.post(
                "/staff/accounts",
                form: [("csrf", csrf), ("email", "INV@city.example"), ("display_name", "X"), ("role", "intake")])
            #expect(duplicate.status == .conflict)
            let forged = try await browser.post(
                "/staff/accounts",
                form: [("csrf", "forged"), ("email", "z@city.example"), ("display_name", "Z"), ("role", "intake")])
            #expect(forged.status == .forbidden)
            #expect(try await harness.app.attest.store.account(email: "z@city.example") == nil)

            var invited = Browser(harness.app)
            let setupPath = String(link.dropFirst("http://attest.test".count))
            let setup = try await invited.get(setupPath)
            #expect(setup.body.string.contains("inv@city.example"))
            let secret = try #require(
                setup.body.string.firstMatch(of: /name="secret" value="([A-Z2-7]+)"/).map { String($0.1) })
            let done = try await invited.submit(
                setupPath, to: setupPath,
                [
                    ("password", "orange kettle saturn 9"), ("password_again", "orange kettle saturn 9"),
                    ("secret", secret), ("code", TOTP(secret: Base32.decode(secret)!).code(at: harness.clock.now())),
                ])
            #expect(done.status == .ok)
            harness.clock.advance(by: 31)
            let login = StaffLogin(
                email: "inv@city.example", password: "orange kettle saturn 9", secret: Base32.decode(secret)!,
                recoveryCodes: [])
            #expect(
                try await invited.signIn(login, clock: harness.clock).headers.first(name: .location) == "/staff/home")
            #expect(
                try await invited.get("/staff/accounts").status == .forbidden, "an investigator manages no accounts")
        }
    }

    @Test("attest staff create prints a setup link and refuses bad options")
    func command() async throws {
        try await withAttest { harness in
            let link = try await CreateStaffCommand.create(
                harness.app.attest, email: "ops@city.example", name: "Ops", role: "administrator", office: nil)
            #expect(link.hasPrefix("http://attest.test/staff/setup/"))
            await #expect(throws: CreateStaffCommand.UsageError.self) {
                _ = try await CreateStaffCommand.create(
                    harness.app.attest, email: "x@city.example", name: "X", role: "sheriff", office: nil)
            }
            await #expect(throws: StaffError.invalidEmail) {
                _ = try await CreateStaffCommand.create(
                    harness.app.attest, email: "not-an-address", name: "X", role: "intake", office: nil)
            }
        }
    }

    @Test("The TOTP secret is encrypted at rest and passwords are bcrypt hashes")
    func atRest() async throws {
        try await withAttest { harness in
            let login = try await harness.enroll(.supervisor)
            struct Row: Decodable {
                var password_hash: String
                var totp_secret: String
            }
            let row = try #require(
                try await (harness.app.db as! any SQLDatabase).raw(
                    "SELECT password_hash, totp_secret FROM staff_accounts"
                ).first(decoding: Row.self))
            #expect(row.password_hash.hasPrefix("$2b$10$"))
            #expect(!row.password_hash.contains(login.password))
            #expect(row.totp_secret.hasPrefix("v1."))
            #expect(!row.totp_secret.contains(Base32.encode(login.secret)))
        }
    }
}
