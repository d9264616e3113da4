import AttestCore
import AttestTestSupport
import Foundation
import Testing

/// A password hasher for unit tests: not bcrypt, and no threads of its own.
struct PlainHasher: StaffPasswordHasher {
    func hash(_ password: String) async throws -> String { "plain:" + ContentHash.sha256Hex(password) }
    func verify(_ password: String, against hash: String) async throws -> Bool {
        hash == "plain:" + ContentHash.sha256Hex(password)
    }
    var decoy: String { "plain:decoy" }
}

/// Staff accounts, setup, sign-in, sessions and triage through units of work on the in-memory store.
@Suite("Staff and triage (in memory)")
struct StaffUseCaseTests {
    let clock = TestClock()
    let store = InMemoryReportStore()
    let random = SeededRandom(seed: 21)
    let password = "correct horse battery staple 1"
    let secret = Array(repeating: UInt8(7), count: 20)

    func create(_ role: StaffRole, email: String) async throws -> (StaffAccount, setupToken: String) {
        try await CreateStaffAccount(store: store, clock: clock, random: random, offices: [])
            .execute(.init(email: email, displayName: "Dana Reyes", role: role))
    }

    func complete(token: String) async throws -> [String] {
        let code = TOTP(secret: secret).code(at: clock.now())
        return try await CompleteStaffSetup(store: store, hasher: PlainHasher(), clock: clock, random: random)
            .execute(.init(token: token, password: password, passwordAgain: password, secret: secret, code: code))
    }

    func signIn(email: String) -> SignInStaff {
        SignInStaff(
            store: store, hasher: PlainHasher(), clock: clock, random: random,
            throttle: SignInThrottle(limits: .init(), random: random))
    }

    @Test("An account is created with its setup link and entries; setup uses the link up, once, and records it")
    func setup() async throws {
        let (account, token) = try await create(.investigator, email: " Dana@City.Example ")
        #expect(account.email == "dana@city.example" && !account.isEnrolled)
        let codes = try await complete(token: token)
        #expect(codes.count == 10)
        let state = await store.state
        let stored = try #require(state.accounts.first)
        #expect(stored.isEnrolled && stored.recoveryCodeHashes.count == 10)
        #expect(state.accountEvents.map(\.action) == [.created, .setupLinkIssued, .setupCompleted])
        #expect(state.accountEvents.map(\.custodyIndex) == [0, 1, 2])
        #expect(state.custody.map(\.kind) == [.staffAccountCreated, .staffSetupLinkIssued, .staffSetupCompleted])
        await #expect(throws: StaffError.setupLinkInvalid) { _ = try await complete(token: token) }
        #expect(await store.state.custody.count == 3)
        await #expect(throws: StaffError.emailTaken) { _ = try await create(.auditor, email: "dana@city.example") }
        #expect(await store.state.accounts.count == 1)
    }

    @Test("Sign-in: password, then the code once; the session is signed in and the sign-in recorded in one unit")
    func signInFlow() async throws {
        let (_, token) = try await create(.supervisor, email: "sup@city.example")
        _ = try await complete(token: token)
        clock.advance(by: 60)
        let client = SignInClient(address: "192.0.2.1")
        let (_, waiting) = try await signIn(email: "sup@city.example").password(
            email: "sup@city.example", password: password, client: client)
        let code = TOTP(secret: secret).code(at: clock.now())
        let (account, signedIn) = try await signIn(email: "sup@city.example").secondFactor(
            sessionToken: waiting, code: code, client: client)
        var state = await store.state
        #expect(state.sessions.count == 1)
        #expect(state.sessions[ContentHash.sha256Hex(signedIn)]?.stage == .signedIn)
        #expect(state.accountEvents.last?.action == .signedIn && state.custody.last?.kind == .staffSignedIn)
        // The same code again is refused (its step is used), and nothing changes.
        let (_, again) = try await signIn(email: "sup@city.example").password(
            email: "sup@city.example", password: password, client: client)
        await #expect(throws: StaffError.invalidSecondFactor) {
            _ = try await signIn(email: "sup@city.example").secondFactor(
                sessionToken: again, code: code, client: client)
        }
        state = await store.state
        #expect(state.accountEvents.filter { $0.action == .signedIn }.count == 1)

        let sessions = StaffSessions(store: store, clock: clock, idle: 600, absolute: 3600)
        #expect(try await sessions.current(token: signedIn)?.account.id == account.id)
        clock.advance(by: 601)
        #expect(try await sessions.current(token: signedIn) == nil, "idle too long")
        #expect(await store.state.sessions[ContentHash.sha256Hex(signedIn)] == nil, "an expired session is deleted")
    }

    @Test("Wrong passwords lock the account after the limit; a locked account refuses the right password")
    func lockout() async throws {
        let (account, token) = try await create(.intake, email: "intake@city.example")
        _ = try await complete(token: token)
        for index in 0..<5 {
            await #expect(throws: StaffError.invalidCredentials) {
                _ = try await signIn(email: "").password(
                    email: "intake@city.example", password: "wrong \(index)",
                    client: SignInClient(address: "192.0.2.\(index + 10)"))
            }
        }
        let locked = try #require(await store.state.accounts.first { $0.id == account.id })
        #expect(locked.failedAttempts == 5 && locked.isLocked(at: clock.now()))
        await #expect(throws: StaffError.invalidCredentials) {
            _ = try await signIn(email: "").password(
                email: "intake@city.example", password: password, client: SignInClient(address: "192.0.2.99"))
        }
    }

    @Test("Granting administrator needs a second administrator: the request, its decision and the link are recorded")
    func secondAdministrator() async throws {
        func administrator(_ email: String) -> StaffAccount {
            var account = StaffAccount(
                id: Identifier(random.uuid()), email: email, displayName: email, role: .administrator,
                receivingOffice: nil, createdAt: clock.now())
            account.passwordHash = "plain:x"
            account.totpSecret = secret
            return account
        }
        let first = administrator("a1@city.example")
        let second = administrator("a2@city.example")
        await store.add(first)
        await store.add(second)
        let administer = AdministerStaffAccounts(store: store, clock: clock, random: random, offices: [])
        let outcome = try await administer.create(
            .init(email: "a3@city.example", displayName: "A3", role: .administrator), by: first)
        let request = try #require(outcome.request)
        #expect(outcome.setupToken == nil && outcome.partnerCode != nil)
        await #expect(throws: StaffError.approvalNeedsAnotherAdministrator) {
            _ = try await administer.approve(request.id, by: first)
        }
        let approved = try await administer.approve(request.id, by: second)
        #expect(approved.setupToken != nil)
        let state = await store.state
        #expect(state.decisions[request.id] == true)
        #expect(
            state.accountEvents.map(\.action) == [.created, .approvalRequested, .approvalGiven, .setupLinkIssued])
        #expect(state.custody.count == 4)
    }

    @Test("Triage: a move is recorded, a question joins the thread, acceptance links the report to a new incident")
    func triage() async throws {
        let jurisdiction = try Fixtures.riverton()
        let receipt = try await SubmitReport(
            store: store, clock: clock, random: random,
            validator: ReportValidator(jurisdiction: jurisdiction, limits: ReportLimits())
        ).execute(.init(submission: .minimal()))
        let supervisor = StaffAccount(
            id: Identifier(random.uuid()), email: "s@city.example", displayName: "S", role: .supervisor,
            receivingOffice: nil, createdAt: clock.now())
        let triage = TriageReport(store: store, clock: clock, random: random, limits: ReportLimits())
        _ = try await triage.execute(.init(reference: receipt.reference, to: .screening, actor: supervisor))
        _ = try await triage.execute(
            .init(reference: receipt.reference, to: .needsInfo, question: "Which street?", actor: supervisor))
        await #expect(throws: TriageStatus.Error.self) {
            _ = try await triage.execute(.init(reference: receipt.reference, to: .received, actor: supervisor))
        }
        var state = await store.state
        #expect(state.reports.first?.status == .needsInfo)
        #expect(state.messages.map(\.body) == ["Which street?"])
        let before = state.custody.count
        _ = try await triage.execute(.init(reference: receipt.reference, to: .screening, actor: supervisor))
        let incident = try await AcceptReport(store: store, clock: clock, random: random, jurisdiction: jurisdiction)
            .execute(reference: receipt.reference, into: .newIncident, actor: supervisor)
        state = await store.state
        #expect(incident.reference.description == "INC-2026-000001")
        #expect(state.incidentOfReport[state.reports[0].id] == incident.id && state.reports[0].status == .accepted)
        #expect(
            state.custody.dropFirst(before).map(\.recordID) == [
                "report:\(receipt.reference)", incident.recordID, "report:\(receipt.reference)",
            ])
    }
}
