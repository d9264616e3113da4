import AttestCore
import AttestPersistence
import AttestTestSupport
import FluentSQL
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import AttestWeb

/// A custody entry about a staff account.
struct StaffEntry: Decodable {
    var kind: String
    var record_id: String
    var entry: String
}

extension TestHarness {
    /// The custody entries about `account` (sign-ins left out), oldest first.
    func entries(about account: Identifier<StaffAccount>) async throws -> [StaffEntry] {
        try await (app.db as! any SQLDatabase).raw(
            """
            SELECT kind, record_id, entry FROM custody_entries
            WHERE record_id LIKE \(bind: "staff-account:\(account)%") AND kind <> 'staff.signed_in'
            ORDER BY entry_index
            """
        ).all(decoding: StaffEntry.self)
    }

    func accountID(_ email: String) async throws -> Identifier<StaffAccount> {
        try #require(try await app.attest.store.account(email: email)).id
    }
}

extension Browser {
    /// POSTs `fields` to `action` with the accounts page's CSRF token.
    mutating func administer(_ action: String, _ fields: [(String, String)] = []) async throws -> TestingHTTPResponse {
        try await submit("/staff/accounts", to: action, fields)
    }

    /// Completes a setup link in this browser; returns the login.
    mutating func completeSetup(
        _ link: String, email: String, partnerCode: String? = nil, clock: TestClock
    ) async throws -> (TestingHTTPResponse, StaffLogin) {
        let path = String(link.dropFirst("http://attest.test".count))
        let page = try await get(path)
        let secret = try #require(
            page.body.string.firstMatch(of: /name="secret" value="([A-Z2-7]+)"/).map { String($0.1) })
        let bytes = try #require(Base32.decode(secret))
        var fields = [
            ("password", "orange kettle saturn 9"), ("password_again", "orange kettle saturn 9"), ("secret", secret),
            ("code", TOTP(secret: bytes).code(at: clock.now())),
        ]
        if let partnerCode { fields.append(("partner_code", partnerCode)) }
        let done = try await submit(path, to: path, fields)
        return (done, StaffLogin(email: email, password: "orange kettle saturn 9", secret: bytes, recoveryCodes: []))
    }
}

func setupLink(in response: TestingHTTPResponse) -> String? {
    response.body.string.firstMatch(of: /id="setup-link">([^<]+)</).map { String($0.1) }
}

func partnerCode(in response: TestingHTTPResponse) -> String? {
    response.body.string.firstMatch(of: /id="partner-code">([^<]+)</).map { String($0.1) }
}

@Suite("Staff administration: every action recorded, two administrators for privileged roles")
struct StaffAdministrationTests {
    @Test("Every account action is a custody entry, by pseudonym and with the role granted, never a name or address")
    func everyActionRecorded() async throws {
        try await withAttest { harness in
            let admin = try await harness.enroll(.administrator)
            let adminAccount = try #require(try await harness.app.attest.store.account(email: admin.email))
            var browser = Browser(harness.app)
            _ = try await browser.signIn(admin, clock: harness.clock)
            let created = try await browser.administer(
                "/staff/accounts",
                [("email", "ines.vega@city.example"), ("display_name", "Inés Vega"), ("role", "investigator")])
            #expect(created.status == .created)
            var invited = Browser(harness.app)
            let (done, _) = try await invited.completeSetup(
                try #require(setupLink(in: created)), email: "ines.vega@city.example", clock: harness.clock)
            #expect(done.status == .ok)
            let id = try await harness.accountID("ines.vega@city.example")
            let office = try #require(harness.app.attest.jurisdiction.receivingOffices.first?.code)
            let role = try await browser.administer(
                "/staff/accounts/\(id)/role", [("role", "prosecutor"), ("receiving_office", office)])
            #expect(role.status == .ok)
            #expect(try await harness.app.attest.store.account(id: id)?.role == .prosecutor)
            #expect(try await browser.administer("/staff/accounts/\(id)/disable").status == .seeOther)
            #expect(try await browser.administer("/staff/accounts/\(id)/enable").status == .seeOther)
            let reset = try await browser.administer("/staff/accounts/\(id)/reset")
            #expect(setupLink(in: reset) != nil)
            let own = try await browser.administer("/staff/accounts/\(adminAccount.id)/disable")
            #expect(own.status == .conflict, "an administrator does not disable their own account")

            let entries = try await harness.entries(about: id)
            #expect(
                entries.map(\.kind) == [
                    "staff.account_created", "staff.setup_link_issued", "staff.setup_completed", "staff.role_changed",
                    "staff.account_disabled", "staff.account_enabled", "staff.setup_link_issued",
                ])
            #expect(entries[0].record_id == "staff-account:\(id)/role:investigator")
            #expect(entries[3].record_id == "staff-account:\(id)/role:prosecutor")
            for (index, entry) in entries.enumerated() {
                let actor = index == 2 ? StaffAccount.pseudonym(of: id) : adminAccount.actorID
                #expect(entry.entry.contains("\"actor\":\"\(actor)\""), "\(entry.kind)")
                for personal in ["ines", "Inés", "Vega", "city.example", admin.email] {
                    #expect(!entry.entry.contains(personal), "\(entry.kind) contains \(personal)")
                }
            }
            #expect(try await LogVerifier(ledger: harness.app.attest.ledger).verify().discrepancies == [])
        }
    }

    @Test("Granting supervisor needs a second administrator, and its setup link works only with the requester's code")
    func secondAdministrator() async throws {
        try await withAttest { harness in
            let first = try await harness.enroll(.administrator)
            let second = try await harness.enroll(.administrator)
            let secondAccount = try #require(try await harness.app.attest.store.account(email: second.email))
            var requester = Browser(harness.app)
            var approver = Browser(harness.app)
            _ = try await requester.signIn(first, clock: harness.clock)
            _ = try await approver.signIn(second, clock: harness.clock)

            let requested = try await requester.administer(
                "/staff/accounts",
                [("email", "sup@city.example"), ("display_name", "Sam Upton"), ("role", "supervisor")])
            #expect(requested.status == .accepted)
            #expect(setupLink(in: requested) == nil, "the requester gets no link")
            let code = try #require(partnerCode(in: requested))
            let id = try await harness.accountID("sup@city.example")
            struct Count: Decodable { var count: Int }
            let links = try await (harness.app.db as! any SQLDatabase).raw(
                "SELECT COUNT(*) AS count FROM staff_setup_links WHERE account_id = \(bind: id.rawValue)"
            ).first(decoding: Count.self)?.count
            #expect(links == 0)
            let pending = try #require(
                try await harness.app.attest.store.approvalRequests(pendingAt: harness.clock.now()).first)
            let ownApproval = try await requester.administer("/staff/account-requests/\(pending.id)/approve")
            #expect(ownApproval.status == .conflict, "the requester cannot approve their own request")
            #expect(setupLink(in: ownApproval) == nil)

            let approved = try await approver.administer("/staff/account-requests/\(pending.id)/approve")
            #expect(approved.status == .ok)
            let link = try #require(setupLink(in: approved))
            #expect(partnerCode(in: approved) == nil, "the approver never sees the requester's code")
            #expect(
                try await approver.administer("/staff/account-requests/\(pending.id)/approve").status == .conflict,
                "a request is decided once")

            var person = Browser(harness.app)
            let (withoutCode, _) = try await person.completeSetup(link, email: "sup@city.example", clock: harness.clock)
            #expect(withoutCode.status == .unprocessableEntity, "the link alone (the approver's part) is not enough")
            let (wrongCode, _) = try await person.completeSetup(
                link, email: "sup@city.example", partnerCode: "AAAA BBBB", clock: harness.clock)
            #expect(wrongCode.status == .unprocessableEntity)
            let (done, login) = try await person.completeSetup(
                link, email: "sup@city.example", partnerCode: code.lowercased(), clock: harness.clock)
            #expect(done.status == .ok)
            harness.clock.advance(by: 31)
            #expect(
                try await person.signIn(login, clock: harness.clock).headers.first(name: .location) == "/staff/home")

            let kinds = try await harness.entries(about: id).map(\.kind)
            #expect(
                kinds == [
                    "staff.account_created", "staff.approval_requested", "staff.approval_given",
                    "staff.setup_link_issued", "staff.setup_completed",
                ])
            let given = try await harness.entries(about: id)[2]
            #expect(given.entry.contains("\"actor\":\"\(secondAccount.actorID)\""))
            #expect(given.record_id.hasSuffix("/role:supervisor"))

            // Resetting a supervisor is a request too: nothing changes until another administrator approves.
            let resetRequest = try await requester.administer("/staff/accounts/\(id)/reset")
            #expect(resetRequest.status == .accepted && partnerCode(in: resetRequest) != nil)
            #expect(try await harness.app.attest.store.account(id: id)?.isEnrolled == true)
            let reset = try #require(
                try await harness.app.attest.store.approvalRequests(pendingAt: harness.clock.now()).first)
            #expect(try await approver.administer("/staff/account-requests/\(reset.id)/approve").status == .ok)
            #expect(try await harness.app.attest.store.account(id: id)?.isEnrolled == false)

            // Promoting an investigator to administrator: a request, declined by the other administrator.
            let investigator = try await harness.enroll(.investigator)
            let investigatorID = try await harness.accountID(investigator.email)
            let promotion = try await requester.administer(
                "/staff/accounts/\(investigatorID)/role", [("role", "administrator")])
            #expect(promotion.status == .accepted)
            #expect(try await harness.app.attest.store.account(id: investigatorID)?.role == .investigator)
            let request = try #require(
                try await harness.app.attest.store.approvalRequests(pendingAt: harness.clock.now()).first)
            #expect(try await approver.administer("/staff/account-requests/\(request.id)/decline").status == .seeOther)
            #expect(try await harness.app.attest.store.account(id: investigatorID)?.role == .investigator)
            #expect(
                try await harness.entries(about: investigatorID).map(\.kind).suffix(2) == [
                    "staff.approval_requested", "staff.approval_declined",
                ])
            #expect(try await harness.app.attest.store.approvalRequests(pendingAt: harness.clock.now()).isEmpty)
        }
    }

    @Test("Auditors read the account-activity page: actions and sign-ins with pseudonyms and custody entries")
    func activityPage() async throws {
        try await withAttest { harness in
            let admin = try await harness.enroll(.administrator)
            let auditor = try await harness.enroll(.auditor)
            var adminBrowser = Browser(harness.app)
            _ = try await adminBrowser.signIn(admin, clock: harness.clock)
            _ = try await adminBrowser.administer(
                "/staff/accounts", [("email", "new@city.example"), ("display_name", "Nadia New"), ("role", "intake")])
            var browser = Browser(harness.app)
            _ = try await browser.signIn(auditor, clock: harness.clock)
            let page = try await browser.get("/staff/account-activity")
            #expect(page.status == .ok)
            let html = page.body.string
            let adminAccount = try #require(try await harness.app.attest.store.account(email: admin.email))
            let created = try await harness.accountID("new@city.example")
            for text in [
                "Account created", "Setup link issued", "Setup completed", "Signed in", "System (operator)",
                adminAccount.actorID, StaffAccount.pseudonym(of: created), "Intake",
            ] {
                #expect(html.contains(text), "\(text)")
            }
            #expect(!html.contains("new@city.example"), "no e-mail addresses")
            let home = try await browser.get("/staff/home")
            #expect(home.body.string.contains("/staff/account-activity"))
            let older = try await browser.get("/staff/account-activity?before=1")
            #expect(older.body.string.contains("No account activity yet."))
            var investigator = Browser(harness.app)
            _ = try await investigator.signIn(try await harness.enroll(.investigator), clock: harness.clock)
            #expect(try await investigator.get("/staff/account-activity").status == .forbidden)
        }
    }
}
