import AttestCore
import AttestPersistence
import Vapor

/// Staff sign-in (password, then a TOTP or recovery code), one-time setup links, sign-out (here or
/// everywhere), the workspace home page and account administration.
struct StaffController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let staff = routes.grouped("staff")
        staff.get(use: entry)
        staff.get("sign-in", use: showSignIn)
        staff.post("sign-in", use: signIn)
        staff.get("sign-in", "verify", use: showSecondFactor)
        staff.post("sign-in", "verify", use: secondFactor)
        staff.get("setup", ":token", use: showSetup)
        staff.post("setup", ":token", use: completeSetup)
        staff.staff(.GET, "home", permission: .viewWorkspace, use: home)
        staff.staff(.POST, "sign-out", permission: .viewWorkspace, use: signOut)
        staff.staff(.POST, "sign-out-everywhere", permission: .viewWorkspace, use: signOutEverywhere)
        staff.staff(.GET, "accounts", permission: .manageAccounts, use: accounts)
        staff.staff(.POST, "accounts", permission: .manageAccounts, use: createAccount)
        staff.staff(.POST, "accounts", ":id", "disable", permission: .manageAccounts, use: disableAccount)
        staff.staff(.POST, "accounts", ":id", "enable", permission: .manageAccounts, use: enableAccount)
        staff.staff(.POST, "accounts", ":id", "role", permission: .manageAccounts, use: changeRole)
        staff.staff(.POST, "accounts", ":id", "reset", permission: .manageAccounts, use: resetAccount)
        staff.staff(.POST, "account-requests", ":id", "approve", permission: .manageAccounts, use: approveRequest)
        staff.staff(.POST, "account-requests", ":id", "decline", permission: .manageAccounts, use: declineRequest)
        staff.staff(.GET, "account-activity", permission: .viewAccountActivity, use: activity)
    }

    // MARK: Sign-in

    struct SignInContent: Encodable {
        var csrf: String
        var email: String
        var error: String
        var hasError: Bool
    }

    func entry(request: Request) async throws -> Response {
        let signedIn = try await request.signedInStaff() != nil
        return request.redirect(to: signedIn ? Paths.staffHome : Paths.staffSignIn, redirectType: .normal)
    }

    func showSignIn(request: Request) async throws -> Response {
        try await renderSignIn(request, email: "", error: nil, status: .ok)
    }

    private func renderSignIn(
        _ request: Request, email: String, error: String?, status: HTTPStatus, headers: HTTPHeaders = [:]
    ) async throws -> Response {
        let mapping = ErrorMapping(catalogs: request.attest.catalogs, language: request.language)
        let token = CSRF.token(for: request)
        let response = try await Page.render(
            "staff/sign-in", title: mapping.text("staff_sign_in_title"),
            content: SignInContent(csrf: token, email: email, error: error ?? "", hasError: error != nil),
            for: request
        ).encodeResponse(status: status, for: request)
        // Retry-After, for a client throttled or a busy server.
        for (name, value) in headers { response.headers.replaceOrAdd(name: name, value: value) }
        CSRF.attach(token, to: response, for: request)
        return response
    }

    func signIn(request: Request) async throws -> Response {
        let form = try FormBody(request: request)
        let email = form["email"] ?? ""
        let mapping = ErrorMapping(catalogs: request.attest.catalogs, language: request.language)
        guard CSRF.isValid(form[CSRF.fieldName], for: request) else {
            return try await renderSignIn(request, email: email, error: mapping.text("error_csrf"), status: .forbidden)
        }
        do {
            let (_, token) = try await request.attest.signInStaff.password(
                email: email, password: form["password"] ?? "", client: request.signInClient)
            let response = request.redirect(to: Paths.staffVerify, redirectType: .normal)
            StaffCookie.set(token, on: response, for: request)
            return response
        } catch let error as StaffError {
            let description = mapping.describe(error)
            return try await renderSignIn(
                request, email: email, error: description.message, status: description.status,
                headers: description.headers)
        }
    }

    struct SecondFactorContent: Encodable {
        var csrf: String
        var error: String
        var hasError: Bool
    }

    func showSecondFactor(request: Request) async throws -> Response {
        try await renderSecondFactor(request, error: nil, status: .ok)
    }

    private func renderSecondFactor(
        _ request: Request, error: String?, status: HTTPStatus, headers: HTTPHeaders = [:]
    ) async throws -> Response {
        let mapping = ErrorMapping(catalogs: request.attest.catalogs, language: request.language)
        let token = CSRF.token(for: request)
        let response = try await Page.render(
            "staff/second-factor", title: mapping.text("staff_verify_title"),
            content: SecondFactorContent(csrf: token, error: error ?? "", hasError: error != nil), for: request
        ).encodeResponse(status: status, for: request)
        for (name, value) in headers { response.headers.replaceOrAdd(name: name, value: value) }
        CSRF.attach(token, to: response, for: request)
        return response
    }

    func secondFactor(request: Request) async throws -> Response {
        let form = try FormBody(request: request)
        let mapping = ErrorMapping(catalogs: request.attest.catalogs, language: request.language)
        guard CSRF.isValid(form[CSRF.fieldName], for: request) else {
            return try await renderSecondFactor(request, error: mapping.text("error_csrf"), status: .forbidden)
        }
        guard let sessionToken = StaffCookie.token(of: request) else {
            return request.redirect(to: Paths.staffSignIn, redirectType: .normal)
        }
        do {
            let (account, token) = try await request.attest.signInStaff.secondFactor(
                sessionToken: sessionToken, code: form["code"] ?? "", client: request.signInClient)
            let response = request.redirect(to: Paths.staffHome, redirectType: .normal)
            StaffCookie.set(token, on: response, for: request)
            StaffDeviceCookie.set(for: account.id, on: response, for: request)
            return response
        } catch StaffError.sessionExpired {
            return request.redirect(to: Paths.staffSignIn, redirectType: .normal)
        } catch let error as StaffError {
            let description = mapping.describe(error)
            return try await renderSecondFactor(
                request, error: description.message, status: description.status, headers: description.headers)
        }
    }

    // MARK: Setup links

    struct SetupContent: Encodable {
        var csrf: String
        var action: String
        /// The first administrator: e-mail and name are asked here.
        var isFirstAdministrator: Bool
        var email: String
        var displayName: String
        var secret: String
        var secretGrouped: String
        var provisioningURI: String
        var minimumLength: Int
        /// A link issued on a second administrator's approval: the requester's code is asked for too.
        var needsPartnerCode: Bool
        var error: String
        var hasError: Bool
    }

    struct RecoveryContent: Encodable {
        var codes: [String]
        var signInPath: String
    }

    /// The setup link of the request's token and its account (nil for a first-start link, which names none).
    private func setupAccount(_ request: Request) async throws -> (
        token: String, link: StaffSetupLink, account: StaffAccount?
    ) {
        let token = request.parameters.get("token") ?? ""
        guard token.utf8.count == 64,
            let link = try await request.attest.staff.setupLink(
                tokenHash: ContentHash.sha256Hex(token), now: request.attest.clock.now())
        else { throw StaffError.setupLinkInvalid }
        if let account = try await request.attest.staff.account(id: link.account) { return (token, link, account) }
        // A first-start link names no account yet: it creates the administrator, and only while there is none.
        guard try await !request.attest.staff.accounts().contains(where: { $0.role == .administrator }) else {
            throw StaffError.setupLinkInvalid
        }
        return (token, link, nil)
    }

    func showSetup(request: Request) async throws -> Response {
        let (token, link, account) = try await setupAccount(request)
        let secret = request.attest.random.bytes(count: 20)
        return try await renderSetup(
            request, token: token, link: link, account: account, secret: secret, email: "", name: "", error: nil,
            status: .ok)
    }

    private func renderSetup(
        _ request: Request, token: String, link: StaffSetupLink, account: StaffAccount?, secret: [UInt8],
        email: String, name: String, error: String?, status: HTTPStatus
    ) async throws -> Response {
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let encoded = Base32.encode(secret)
        let grouped = stride(from: 0, to: encoded.count, by: 4).map { start -> String in
            let from = encoded.index(encoded.startIndex, offsetBy: start)
            return String(encoded[from..<encoded.index(from, offsetBy: min(4, encoded.count - start))])
        }.joined(separator: " ")
        let csrf = CSRF.token(for: request)
        let content = SetupContent(
            csrf: csrf, action: "\(Paths.staffSetup)/\(token)", isFirstAdministrator: account == nil,
            email: account?.email ?? email, displayName: account?.displayName ?? name, secret: encoded,
            secretGrouped: grouped,
            provisioningURI: TOTP(secret: secret).provisioningURI(
                issuer: "Attest \(services.jurisdiction.code)",
                account: account?.email ?? (email.isEmpty ? "admin" : email)),
            minimumLength: PasswordPolicy().minimumLength, needsPartnerCode: link.partnerCodeHash != nil,
            error: error ?? "", hasError: error != nil)
        let response = try await Page.render(
            "staff/setup", title: mapping.text("staff_setup_title"), content: content, for: request
        ).encodeResponse(status: status, for: request)
        CSRF.attach(csrf, to: response, for: request)
        return response
    }

    func completeSetup(request: Request) async throws -> Response {
        let (token, link, existing) = try await setupAccount(request)
        let form = try FormBody(request: request)
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let secretText = (form["secret"] ?? "").uppercased().filter { !$0.isWhitespace }
        let secret = Base32.decode(secretText) ?? services.random.bytes(count: 20)
        let email = form["email"] ?? ""
        let name = form["display_name"] ?? ""
        func failure(_ message: String, _ status: HTTPStatus) async throws -> Response {
            try await renderSetup(
                request, token: token, link: link, account: existing, secret: secret, email: email, name: name,
                error: message, status: status)
        }
        guard CSRF.isValid(form[CSRF.fieldName], for: request) else {
            return try await failure(mapping.text("error_csrf"), .forbidden)
        }
        do {
            var input = CompleteStaffSetup.Input(
                token: token, password: form["password"] ?? "", passwordAgain: form["password_again"] ?? "",
                secret: secret, code: form["code"] ?? "", partnerCode: form["partner_code"] ?? "")
            // Everything is checked before the first administrator is created, so a refused form creates nothing.
            _ = try services.completeStaffSetup.check(input, email: existing?.email ?? email.lowercased())
            if existing == nil {
                input.token = try await services.createStaffAccount.firstAdministrator(
                    .init(email: email, displayName: name, role: .administrator), firstStartToken: token)
            }
            let codes = try await services.completeStaffSetup.execute(input)
            return try await Page.render(
                "staff/recovery-codes", title: mapping.text("staff_recovery_title"),
                content: RecoveryContent(codes: codes, signInPath: Paths.staffSignIn), for: request
            ).encodeResponse(status: .ok, for: request)
        } catch let error as StaffError {
            let description = mapping.describe(error)
            return try await failure(description.message, description.status)
        }
    }

    // MARK: Workspace

    struct HomeContent: Encodable {
        struct Link: Encodable {
            var href: String
            var label: String
        }
        var displayName: String
        var role: String
        var links: [Link]
        var csrf: String
    }

    func home(request: Request, staff: SignedInStaff) async throws -> Response {
        let mapping = ErrorMapping(catalogs: request.attest.catalogs, language: request.language)
        let role = staff.account.role
        var links: [HomeContent.Link] = []
        if StaffPolicy.allows(role, .viewTriage) {
            links.append(.init(href: Paths.staffTriage, label: mapping.text("staff_nav_triage")))
        }
        if StaffPolicy.allows(role, .search) {
            links.append(.init(href: Paths.staffSearch, label: mapping.text("staff_nav_search")))
        }
        if StaffPolicy.allows(role, .viewPatterns) {
            links.append(.init(href: Paths.staffPatterns, label: mapping.text("staff_nav_patterns")))
        }
        if StaffPolicy.allows(role, .manageAccounts) {
            links.append(.init(href: Paths.staffAccounts, label: mapping.text("staff_nav_accounts")))
        }
        if StaffPolicy.allows(role, .viewAccountActivity) {
            links.append(.init(href: Paths.staffAccountActivity, label: mapping.text("staff_nav_activity")))
        }
        if StaffPolicy.allows(role, .verifyLog) {
            links.append(.init(href: Paths.integrity, label: mapping.text("nav_integrity")))
        }
        let csrf = CSRF.token(for: request)
        let response = try await Page.render(
            "staff/home", title: mapping.text("staff_home_title"),
            content: HomeContent(
                displayName: staff.account.displayName, role: mapping.text("staff_role_\(role.rawValue)"), links: links,
                csrf: csrf),
            for: request
        ).encodeResponse(status: .ok, for: request)
        CSRF.attach(csrf, to: response, for: request)
        return response
    }

    /// Checks the CSRF token of a staff form post.
    static func form(_ request: Request) throws -> FormBody {
        let form = try FormBody(request: request)
        guard CSRF.isValid(form[CSRF.fieldName], for: request) else { throw StaffError.forbidden }
        return form
    }

    func signOut(request: Request, staff: SignedInStaff) async throws -> Response {
        _ = try Self.form(request)
        try await request.attest.staffSessions.signOut(staff.session)
        let response = request.redirect(to: Paths.staffSignIn, redirectType: .normal)
        StaffCookie.clear(on: response, for: request)
        return response
    }

    func signOutEverywhere(request: Request, staff: SignedInStaff) async throws -> Response {
        _ = try Self.form(request)
        try await request.attest.staffSessions.signOutEverywhere(staff.account.id)
        let response = request.redirect(to: Paths.staffSignIn, redirectType: .normal)
        StaffCookie.clear(on: response, for: request)
        return response
    }

    // MARK: Accounts

    struct AccountsContent: Encodable {
        struct Row: Encodable {
            var id: String
            var email: String
            var displayName: String
            var role: String
            var roleValue: String
            var office: String
            var state: String
            var isActive: Bool
            var isSelf: Bool
        }
        struct Pending: Encodable {
            var id: String
            var account: String
            var change: String
            var requestedBy: String
            var expiresAt: String
            var isOwn: Bool
        }
        struct Option: Encodable {
            var value: String
            var label: String
        }
        var csrf: String
        var accounts: [Row]
        var requests: [Pending]
        var roles: [Option]
        var offices: [Option]
        /// A setup link to send, and whether it came from approving a request (it then needs the partner code).
        var setupLink: String
        var hasSetupLink: Bool
        var isApprovedLink: Bool
        /// The code the requesting administrator gives the person once another administrator approves.
        var partnerCode: String
        var hasPartnerCode: Bool
        var error: String
        var hasError: Bool
    }

    func accounts(request: Request, staff: SignedInStaff) async throws -> Response {
        try await renderAccounts(request, staff: staff, outcome: .init(), error: nil, status: .ok)
    }

    private func renderAccounts(
        _ request: Request, staff: SignedInStaff, outcome: AdministerStaffAccounts.Outcome, approved: Bool = false,
        error: String?, status: HTTPStatus
    ) async throws -> Response {
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let csrf = CSRF.token(for: request)
        let accounts = try await services.staff.accounts()
        let pending = try await services.staff.approvalRequests(pendingAt: services.clock.now())
        let waiting = Set(pending.map(\.account))
        let names = Dictionary(accounts.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let rows = accounts.map { account in
            AccountsContent.Row(
                id: account.id.description, email: account.email, displayName: account.displayName,
                role: mapping.text("staff_role_\(account.role.rawValue)"), roleValue: account.role.rawValue,
                office: account.receivingOffice ?? "",
                state: mapping.text(
                    !account.isActive
                        ? "staff_state_disabled"
                        : waiting.contains(account.id)
                            ? "staff_state_awaiting_approval"
                            : account.isEnrolled ? "staff_state_active" : "staff_state_pending"),
                isActive: account.isActive, isSelf: account.id == staff.account.id)
        }
        let requests = pending.map { pending in
            AccountsContent.Pending(
                id: pending.id.description, account: names[pending.account]?.email ?? pending.account.description,
                change: mapping.text(
                    pending.change == .grant ? "staff_request_grant" : "staff_request_reset",
                    ["role": mapping.text("staff_role_\(pending.role.rawValue)")]),
                requestedBy: names[pending.requestedBy]?.displayName ?? pending.requestedBy.description,
                expiresAt: RFC3339.string(from: pending.expiresAt.wholeSeconds),
                isOwn: pending.requestedBy == staff.account.id || pending.account == staff.account.id)
        }
        let link = outcome.setupToken.map { "\(services.configuration.publicURL)\(Paths.staffSetup)/\($0)" }
        let content = AccountsContent(
            csrf: csrf, accounts: rows, requests: requests,
            roles: StaffRole.allCases.map {
                .init(value: $0.rawValue, label: mapping.text("staff_role_\($0.rawValue)"))
            },
            offices: services.jurisdiction.receivingOffices.map { .init(value: $0.code, label: $0.name) },
            setupLink: link ?? "", hasSetupLink: link != nil, isApprovedLink: approved,
            partnerCode: outcome.partnerCode ?? "", hasPartnerCode: outcome.partnerCode != nil, error: error ?? "",
            hasError: error != nil)
        let response = try await Page.render(
            "staff/accounts", title: mapping.text("staff_accounts_title"), content: content, for: request
        ).encodeResponse(status: status, for: request)
        CSRF.attach(csrf, to: response, for: request)
        return response
    }

    /// Runs an administrative action from a CSRF-checked form and shows the accounts page with what it produced
    /// (a setup link, or a partner code and a pending request), or with its error.
    private func administer(
        _ request: Request, _ staff: SignedInStaff, status: HTTPStatus = .ok, approved: Bool = false,
        _ action: (AdministerStaffAccounts, FormBody) async throws -> AdministerStaffAccounts.Outcome
    ) async throws -> Response {
        let form = try Self.form(request)
        do {
            let outcome = try await action(request.attest.administerStaffAccounts, form)
            return try await renderAccounts(
                request, staff: staff, outcome: outcome, approved: approved, error: nil,
                status: outcome.request != nil ? .accepted : status)
        } catch let error as StaffError where error != .forbidden {
            let description = ErrorMapping(catalogs: request.attest.catalogs, language: request.language)
                .describe(error)
            return try await renderAccounts(
                request, staff: staff, outcome: .init(), error: description.message, status: description.status)
        }
    }

    private static func role(_ form: FormBody) throws -> StaffRole {
        guard let role = StaffRole(rawValue: form["role"] ?? "") else { throw Abort(.unprocessableEntity) }
        return role
    }

    private static func id<T>(_ request: Request) throws -> Identifier<T> {
        guard let id = request.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw Abort(.notFound) }
        return Identifier(id)
    }

    func createAccount(request: Request, staff: SignedInStaff) async throws -> Response {
        try await administer(request, staff, status: .created) { administer, form in
            try await administer.create(
                .init(
                    email: form["email"] ?? "", displayName: form["display_name"] ?? "", role: try Self.role(form),
                    receivingOffice: form["receiving_office"]), by: staff.account)
        }
    }

    func disableAccount(request: Request, staff: SignedInStaff) async throws -> Response {
        try await setActive(false, request, staff)
    }

    func enableAccount(request: Request, staff: SignedInStaff) async throws -> Response {
        try await setActive(true, request, staff)
    }

    private func setActive(_ active: Bool, _ request: Request, _ staff: SignedInStaff) async throws -> Response {
        let response = try await administer(request, staff) { administer, _ in
            try await administer.setActive(active, of: try Self.id(request), by: staff.account)
            return .init()
        }
        return response.status == .ok ? request.redirect(to: Paths.staffAccounts, redirectType: .normal) : response
    }

    func changeRole(request: Request, staff: SignedInStaff) async throws -> Response {
        try await administer(request, staff) { administer, form in
            try await administer.changeRole(
                of: try Self.id(request), to: try Self.role(form), office: form["receiving_office"], by: staff.account)
        }
    }

    /// A new setup link (for a supervisor or administrator, a request for one).
    func resetAccount(request: Request, staff: SignedInStaff) async throws -> Response {
        try await administer(request, staff) { administer, _ in
            try await administer.reset(try Self.id(request), by: staff.account)
        }
    }

    func approveRequest(request: Request, staff: SignedInStaff) async throws -> Response {
        try await administer(request, staff, approved: true) { administer, _ in
            try await administer.approve(try Self.id(request), by: staff.account)
        }
    }

    func declineRequest(request: Request, staff: SignedInStaff) async throws -> Response {
        let response = try await administer(request, staff) { administer, _ in
            try await administer.decline(try Self.id(request), by: staff.account)
            return .init()
        }
        return response.status == .ok ? request.redirect(to: Paths.staffAccounts, redirectType: .normal) : response
    }

    // MARK: Account activity

    struct ActivityContent: Encodable {
        struct Row: Encodable {
            var time: String
            var entry: String
            var action: String
            var account: String
            var role: String
            var actor: String
        }
        var rows: [Row]
        var olderPath: String
        var hasOlder: Bool
    }

    /// Every account action and sign-in, newest first, 100 to a page, each with its custody entry's index.
    func activity(request: Request, staff: SignedInStaff) async throws -> Response {
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let before = try? request.query.get(Int64.self, at: "before")
        let events = try await services.staff.accountActivity(before: before, limit: 100)
        let accounts = try await services.staff.accounts()
        var names: [String: String] = [StaffAccountEvent.system: mapping.text("staff_actor_system")]
        for account in accounts { names[account.actorID] = "\(account.displayName) (\(account.actorID))" }
        func name(_ pseudonym: String) -> String { names[pseudonym] ?? pseudonym }
        let rows = events.map { event in
            ActivityContent.Row(
                time: RFC3339.string(from: event.occurredAt), entry: event.custodyIndex.map { "\($0)" } ?? "",
                action: mapping.text("staff_action_\(event.action.rawValue)"),
                account: name(StaffAccount.pseudonym(of: event.account)),
                role: event.role.map { mapping.text("staff_role_\($0.rawValue)") } ?? "", actor: name(event.actor))
        }
        let older = events.count == 100 ? events.last?.custodyIndex : nil
        return try await Page.render(
            "staff/account-activity", title: mapping.text("staff_activity_title"),
            content: ActivityContent(
                rows: rows, olderPath: older.map { "\(Paths.staffAccountActivity)?before=\($0)" } ?? "",
                hasOlder: older != nil),
            for: request
        ).encodeResponse(status: .ok, for: request)
    }
}
