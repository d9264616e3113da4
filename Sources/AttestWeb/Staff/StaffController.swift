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
        staff.staff(.POST, "accounts", ":id", "reset", permission: .manageAccounts, use: resetAccount)
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

    private func renderSignIn(_ request: Request, email: String, error: String?, status: HTTPStatus) async throws
        -> Response
    {
        let mapping = ErrorMapping(catalogs: request.attest.catalogs, language: request.language)
        let token = CSRF.token(for: request)
        let response = try await Page.render(
            "staff/sign-in", title: mapping.text("staff_sign_in_title"),
            content: SignInContent(csrf: token, email: email, error: error ?? "", hasError: error != nil),
            for: request
        ).encodeResponse(status: status, for: request)
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
                email: email, password: form["password"] ?? "")
            let response = request.redirect(to: Paths.staffVerify, redirectType: .normal)
            StaffCookie.set(token, on: response, for: request)
            return response
        } catch let error as StaffError {
            let description = mapping.describe(error)
            return try await renderSignIn(request, email: email, error: description.message, status: description.status)
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

    private func renderSecondFactor(_ request: Request, error: String?, status: HTTPStatus) async throws -> Response {
        let mapping = ErrorMapping(catalogs: request.attest.catalogs, language: request.language)
        let token = CSRF.token(for: request)
        let response = try await Page.render(
            "staff/second-factor", title: mapping.text("staff_verify_title"),
            content: SecondFactorContent(csrf: token, error: error ?? "", hasError: error != nil), for: request
        ).encodeResponse(status: status, for: request)
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
            let (_, token) = try await request.attest.signInStaff.secondFactor(
                sessionToken: sessionToken, code: form["code"] ?? "")
            let response = request.redirect(to: Paths.staffHome, redirectType: .normal)
            StaffCookie.set(token, on: response, for: request)
            return response
        } catch StaffError.sessionExpired {
            return request.redirect(to: Paths.staffSignIn, redirectType: .normal)
        } catch let error as StaffError {
            let description = mapping.describe(error)
            return try await renderSecondFactor(request, error: description.message, status: description.status)
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
        var error: String
        var hasError: Bool
    }

    struct RecoveryContent: Encodable {
        var codes: [String]
        var signInPath: String
    }

    private func setupAccount(_ request: Request) async throws -> (token: String, account: StaffAccount?) {
        let token = request.parameters.get("token") ?? ""
        guard token.utf8.count == 64,
            let id = try await request.attest.store.setupLink(
                tokenHash: ContentHash.sha256Hex(token), now: request.attest.clock.now())
        else { throw StaffError.setupLinkInvalid }
        if let account = try await request.attest.store.account(id: id) { return (token, account) }
        // A first-start link names no account yet: it creates the administrator, and only while there is none.
        guard try await !request.attest.store.accounts().contains(where: { $0.role == .administrator }) else {
            throw StaffError.setupLinkInvalid
        }
        return (token, nil)
    }

    func showSetup(request: Request) async throws -> Response {
        let (token, account) = try await setupAccount(request)
        let secret = request.attest.random.bytes(count: 20)
        return try await renderSetup(
            request, token: token, account: account, secret: secret, email: "", name: "", error: nil, status: .ok)
    }

    private func renderSetup(
        _ request: Request, token: String, account: StaffAccount?, secret: [UInt8], email: String, name: String,
        error: String?, status: HTTPStatus
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
            minimumLength: PasswordPolicy().minimumLength, error: error ?? "", hasError: error != nil)
        let response = try await Page.render(
            "staff/setup", title: mapping.text("staff_setup_title"), content: content, for: request
        ).encodeResponse(status: status, for: request)
        CSRF.attach(csrf, to: response, for: request)
        return response
    }

    func completeSetup(request: Request) async throws -> Response {
        let (token, existing) = try await setupAccount(request)
        let form = try FormBody(request: request)
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let secretText = (form["secret"] ?? "").uppercased().filter { !$0.isWhitespace }
        let secret = Base32.decode(secretText) ?? services.random.bytes(count: 20)
        let email = form["email"] ?? ""
        let name = form["display_name"] ?? ""
        func failure(_ message: String, _ status: HTTPStatus) async throws -> Response {
            try await renderSetup(
                request, token: token, account: existing, secret: secret, email: email, name: name, error: message,
                status: status)
        }
        guard CSRF.isValid(form[CSRF.fieldName], for: request) else {
            return try await failure(mapping.text("error_csrf"), .forbidden)
        }
        do {
            var setupToken = token
            let input = CompleteStaffSetup.Input(
                token: token, password: form["password"] ?? "", passwordAgain: form["password_again"] ?? "",
                secret: secret, code: form["code"] ?? "")
            // Everything is checked before the first administrator is created, so a refused form creates nothing.
            _ = try services.completeStaffSetup.check(input, email: existing?.email ?? email.lowercased())
            if existing == nil {
                // First start: create the administrator, then complete its setup with a link of its own.
                let create = services.createStaffAccount
                let (_, ownToken) = try await create.execute(
                    .init(email: email, displayName: name, role: .administrator))
                try await services.store.useSetupLink(tokenHash: ContentHash.sha256Hex(token))
                setupToken = ownToken
            }
            var completion = input
            completion.token = setupToken
            let codes = try await services.completeStaffSetup.execute(completion)
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
        try await request.attest.store.deleteSession(tokenHash: staff.session.tokenHash)
        let response = request.redirect(to: Paths.staffSignIn, redirectType: .normal)
        StaffCookie.clear(on: response, for: request)
        return response
    }

    func signOutEverywhere(request: Request, staff: SignedInStaff) async throws -> Response {
        _ = try Self.form(request)
        try await request.attest.store.deleteSessions(of: staff.account.id)
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
            var office: String
            var state: String
            var isActive: Bool
        }
        struct Option: Encodable {
            var value: String
            var label: String
        }
        var csrf: String
        var accounts: [Row]
        var roles: [Option]
        var offices: [Option]
        var setupLink: String
        var hasSetupLink: Bool
        var error: String
        var hasError: Bool
    }

    func accounts(request: Request, staff: SignedInStaff) async throws -> Response {
        try await renderAccounts(request, setupLink: nil, error: nil, status: .ok)
    }

    private func renderAccounts(_ request: Request, setupLink: String?, error: String?, status: HTTPStatus)
        async throws -> Response
    {
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        let csrf = CSRF.token(for: request)
        let rows = try await services.store.accounts().map { account in
            AccountsContent.Row(
                id: account.id.description, email: account.email, displayName: account.displayName,
                role: mapping.text("staff_role_\(account.role.rawValue)"), office: account.receivingOffice ?? "",
                state: mapping.text(
                    !account.isActive
                        ? "staff_state_disabled" : account.isEnrolled ? "staff_state_active" : "staff_state_pending"),
                isActive: account.isActive)
        }
        let content = AccountsContent(
            csrf: csrf, accounts: rows,
            roles: StaffRole.allCases.map {
                .init(value: $0.rawValue, label: mapping.text("staff_role_\($0.rawValue)"))
            },
            offices: services.jurisdiction.receivingOffices.map { .init(value: $0.code, label: $0.name) },
            setupLink: setupLink ?? "", hasSetupLink: setupLink != nil, error: error ?? "", hasError: error != nil)
        let response = try await Page.render(
            "staff/accounts", title: mapping.text("staff_accounts_title"), content: content, for: request
        ).encodeResponse(status: status, for: request)
        CSRF.attach(csrf, to: response, for: request)
        return response
    }

    private func link(_ request: Request, token: String) -> String {
        "\(request.attest.configuration.publicURL)\(Paths.staffSetup)/\(token)"
    }

    func createAccount(request: Request, staff: SignedInStaff) async throws -> Response {
        let form = try Self.form(request)
        let services = request.attest
        guard let role = StaffRole(rawValue: form["role"] ?? "") else {
            return try await renderAccounts(
                request, setupLink: nil,
                error: ErrorMapping(catalogs: services.catalogs, language: request.language).text("error_bad_request"),
                status: .unprocessableEntity)
        }
        do {
            let (_, token) = try await services.createStaffAccount.execute(
                .init(
                    email: form["email"] ?? "", displayName: form["display_name"] ?? "", role: role,
                    receivingOffice: form["receiving_office"]))
            return try await renderAccounts(
                request, setupLink: link(request, token: token), error: nil, status: .created)
        } catch let error as StaffError {
            let description = ErrorMapping(catalogs: services.catalogs, language: request.language).describe(error)
            return try await renderAccounts(
                request, setupLink: nil, error: description.message, status: description.status)
        }
    }

    private func target(_ request: Request) async throws -> StaffAccount {
        guard let id = request.parameters.get("id").flatMap(UUID.init(uuidString:)),
            let account = try await request.attest.store.account(id: Identifier(id))
        else { throw Abort(.notFound) }
        return account
    }

    func disableAccount(request: Request, staff: SignedInStaff) async throws -> Response {
        _ = try Self.form(request)
        var account = try await target(request)
        guard account.id != staff.account.id else { throw StaffError.forbidden }
        account.isActive = false
        try await request.attest.store.update(account)
        try await request.attest.store.deleteSessions(of: account.id)
        return request.redirect(to: Paths.staffAccounts, redirectType: .normal)
    }

    /// A new setup link: the person chooses a new password and enrolls a new authenticator; until then the account
    /// cannot sign in and every session of it has ended.
    func resetAccount(request: Request, staff: SignedInStaff) async throws -> Response {
        _ = try Self.form(request)
        var account = try await target(request)
        account.passwordHash = nil
        account.totpSecret = nil
        account.recoveryCodeHashes = []
        account.isActive = true
        try await request.attest.store.update(account)
        try await request.attest.store.deleteSessions(of: account.id)
        let token = try await request.attest.createStaffAccount.issueSetupLink(for: account.id)
        return try await renderAccounts(request, setupLink: link(request, token: token), error: nil, status: .ok)
    }
}
