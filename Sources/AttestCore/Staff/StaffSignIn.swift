import Foundation

/// A signed-in (or half signed-in) staff member's session. The browser holds a random token; the store keeps
/// only its SHA-256, so a copy of the database cannot be used to sign in.
public struct StaffSession: Equatable, Sendable {
    public enum Stage: String, Sendable {
        /// The password was right; the second factor is still due.
        case awaitingSecondFactor
        /// Fully signed in.
        case signedIn
    }

    public var tokenHash: String
    public var accountID: Identifier<StaffAccount>
    public var stage: Stage
    public var createdAt: Date
    public var lastSeenAt: Date

    public init(tokenHash: String, accountID: Identifier<StaffAccount>, stage: Stage, createdAt: Date) {
        self.tokenHash = tokenHash
        self.accountID = accountID
        self.stage = stage
        self.createdAt = createdAt
        lastSeenAt = createdAt
    }

    /// Whether the session is still valid at `time`: used within `idle` seconds and younger than `absolute`.
    /// A session waiting for its second factor lasts five minutes at most.
    public func isValid(at time: Date, idle: TimeInterval, absolute: TimeInterval) -> Bool {
        let limit = stage == .signedIn ? absolute : min(absolute, 300)
        return time.timeIntervalSince(lastSeenAt) < idle && time.timeIntervalSince(createdAt) < limit
    }
}

/// Staff accounts, setup links and sessions.
public protocol StaffStore: Sendable {
    /// The account with this (lower-case) e-mail address, or nil.
    func account(email: String) async throws -> StaffAccount?
    func account(id: Identifier<StaffAccount>) async throws -> StaffAccount?
    /// Every account, by e-mail address.
    func accounts() async throws -> [StaffAccount]
    /// Stores a new account; throws `StaffError.emailTaken` when the address is in use.
    func insert(_ account: StaffAccount) async throws
    /// Replaces a stored account.
    func update(_ account: StaffAccount) async throws
    /// Stores a one-time setup link (its token's SHA-256) for an account, valid until `expiresAt`.
    func insertSetupLink(tokenHash: String, account: Identifier<StaffAccount>, expiresAt: Date) async throws
    /// The account a valid, unused setup link is for.
    func setupLink(tokenHash: String, now: Date) async throws -> Identifier<StaffAccount>?
    /// Marks a setup link used.
    func useSetupLink(tokenHash: String) async throws
    func insert(_ session: StaffSession) async throws
    func session(tokenHash: String) async throws -> StaffSession?
    func update(_ session: StaffSession) async throws
    func deleteSession(tokenHash: String) async throws
    /// Ends every session of an account ("sign out everywhere", password or two-factor reset).
    func deleteSessions(of account: Identifier<StaffAccount>) async throws
    /// Records `staff.signed_in` in the custody log.
    func recordSignIn(of account: StaffAccount, at time: Date) async throws
}

/// Hashes and checks passwords (bcrypt in the web layer).
public protocol StaffPasswordHasher: Sendable {
    func hash(_ password: String) throws -> String
    func verify(_ password: String, against hash: String) throws -> Bool
    /// A hash of a random password, checked when an e-mail address is unknown so that timing does not tell.
    var decoy: String { get }
}

/// Why a staff action failed.
public enum StaffError: Error, Equatable, Sendable {
    /// Wrong e-mail or password — deliberately the same for both.
    case invalidCredentials
    /// Too many failures; try again after this time.
    case locked(until: Date)
    case invalidSecondFactor
    case weakPassword(PasswordPolicy.Problem)
    case passwordsDiffer
    case emailTaken
    case invalidEmail
    case invalidName
    /// A prosecutor needs a receiving office of the jurisdiction; other roles must not have one.
    case invalidOffice
    case setupLinkInvalid
    case sessionExpired
    case forbidden
}

/// Signing in: password, then a TOTP code or a recovery code. Five failures lock the account for 15 minutes.
public struct SignInStaff: Sendable {
    public var store: any StaffStore
    public var hasher: any StaffPasswordHasher
    public var clock: any Clock
    public var random: any RandomSource
    public var maxFailures = 5
    public var lockout: TimeInterval = 15 * 60

    public init(store: any StaffStore, hasher: any StaffPasswordHasher, clock: any Clock, random: any RandomSource) {
        self.store = store
        self.hasher = hasher
        self.clock = clock
        self.random = random
    }

    /// Checks e-mail and password. Returns the account and a new session token (to put in the cookie); the
    /// session still needs the second factor.
    public func password(email: String, password: String) async throws -> (StaffAccount, token: String) {
        let now = clock.now()
        let normalized = email.trimmingCharacters(in: .whitespaces).lowercased()
        guard var account = try await store.account(email: normalized), account.isEnrolled,
            let hash = account.passwordHash
        else {
            _ = try? hasher.verify(password, against: hasher.decoy)
            throw StaffError.invalidCredentials
        }
        if let until = account.lockedUntil, until > now { throw StaffError.locked(until: until) }
        guard try hasher.verify(password, against: hash) else {
            try await recordFailure(&account, now: now)
            throw StaffError.invalidCredentials
        }
        let token = ContentHash.hex(random.bytes(count: 32))
        try await store.insert(
            StaffSession(
                tokenHash: ContentHash.sha256Hex(token), accountID: account.id, stage: .awaitingSecondFactor,
                createdAt: now))
        return (account, token)
    }

    /// Checks the second factor for a session waiting for it; on success the session is signed in (under a
    /// new token, so a token seen before sign-in is worthless after) and `staff.signed_in` is recorded.
    public func secondFactor(sessionToken: String, code: String) async throws -> (StaffAccount, token: String) {
        let now = clock.now()
        let oldHash = ContentHash.sha256Hex(sessionToken)
        guard let session = try await store.session(tokenHash: oldHash), session.stage == .awaitingSecondFactor,
            session.isValid(at: now, idle: 300, absolute: 300),
            var account = try await store.account(id: session.accountID), account.isEnrolled,
            let secret = account.totpSecret
        else { throw StaffError.sessionExpired }
        if let until = account.lockedUntil, until > now { throw StaffError.locked(until: until) }
        let totp = TOTP(secret: secret)
        if let step = totp.matchingStep(code, at: now), step > (account.lastTOTPStep ?? Int64.min) {
            account.lastTOTPStep = step
        } else if let index = account.recoveryCodeHashes.firstIndex(of: RecoveryCodes.hash(code)),
            code.filter({ $0.isLetter || $0.isNumber }).count == 10
        {
            account.recoveryCodeHashes.remove(at: index)
        } else {
            try await recordFailure(&account, now: now)
            throw StaffError.invalidSecondFactor
        }
        account.failedAttempts = 0
        account.lockedUntil = nil
        try await store.update(account)
        try await store.deleteSession(tokenHash: oldHash)
        let token = ContentHash.hex(random.bytes(count: 32))
        try await store.insert(
            StaffSession(
                tokenHash: ContentHash.sha256Hex(token), accountID: account.id, stage: .signedIn, createdAt: now))
        try await store.recordSignIn(of: account, at: now)
        return (account, token)
    }

    private func recordFailure(_ account: inout StaffAccount, now: Date) async throws {
        account.failedAttempts += 1
        if account.failedAttempts >= maxFailures {
            account.lockedUntil = now.addingTimeInterval(lockout)
            account.failedAttempts = 0
        }
        try await store.update(account)
        if let until = account.lockedUntil, until > now { throw StaffError.locked(until: until) }
    }
}

/// Completing a setup link: the person chooses a password and enrolls their authenticator (the code proves it
/// works), and receives recovery codes, shown once.
public struct CompleteStaffSetup: Sendable {
    public var store: any StaffStore
    public var hasher: any StaffPasswordHasher
    public var clock: any Clock
    public var random: any RandomSource
    public var policy = PasswordPolicy()

    public init(store: any StaffStore, hasher: any StaffPasswordHasher, clock: any Clock, random: any RandomSource) {
        self.store = store
        self.hasher = hasher
        self.clock = clock
        self.random = random
    }

    public struct Input: Sendable {
        public var token: String
        public var password: String
        public var passwordAgain: String
        /// The TOTP secret shown on the setup page.
        public var secret: [UInt8]
        public var code: String

        public init(token: String, password: String, passwordAgain: String, secret: [UInt8], code: String) {
            self.token = token
            self.password = password
            self.passwordAgain = passwordAgain
            self.secret = secret
            self.code = code
        }
    }

    /// The account a setup link is for, if the link is valid.
    public func account(forToken token: String) async throws -> StaffAccount {
        guard let id = try await store.setupLink(tokenHash: ContentHash.sha256Hex(token), now: clock.now()),
            let account = try await store.account(id: id)
        else { throw StaffError.setupLinkInvalid }
        return account
    }

    /// Checks a password and an enrollment code without changing anything; returns the code's step.
    public func check(_ input: Input, email: String) throws -> Int64 {
        if let problem = policy.problem(with: input.password, email: email) { throw StaffError.weakPassword(problem) }
        guard input.password == input.passwordAgain else { throw StaffError.passwordsDiffer }
        guard input.secret.count >= 20, let step = TOTP(secret: input.secret).matchingStep(input.code, at: clock.now())
        else { throw StaffError.invalidSecondFactor }
        return step
    }

    /// Sets password and two-factor; returns the recovery codes (shown once). Every session of the account ends.
    public func execute(_ input: Input) async throws -> [String] {
        var account = try await account(forToken: input.token)
        let step = try check(input, email: account.email)
        let codes = RecoveryCodes.generate(random: random)
        account.passwordHash = try hasher.hash(input.password)
        account.totpSecret = input.secret
        account.lastTOTPStep = step
        account.recoveryCodeHashes = codes.map(RecoveryCodes.hash)
        account.failedAttempts = 0
        account.lockedUntil = nil
        try await store.update(account)
        try await store.useSetupLink(tokenHash: ContentHash.sha256Hex(input.token))
        try await store.deleteSessions(of: account.id)
        return codes
    }
}

/// An administrator (or `attest staff create`) creates an account; the person completes it through a one-time
/// setup link, valid for an hour.
public struct CreateStaffAccount: Sendable {
    public var store: any StaffStore
    public var clock: any Clock
    public var random: any RandomSource
    /// The receiving offices of the jurisdiction (prosecutors belong to one).
    public var offices: [String]
    public var linkLifetime: TimeInterval = 3600

    public init(store: any StaffStore, clock: any Clock, random: any RandomSource, offices: [String]) {
        self.store = store
        self.clock = clock
        self.random = random
        self.offices = offices
    }

    public struct Input: Sendable {
        public var email: String
        public var displayName: String
        public var role: StaffRole
        public var receivingOffice: String?

        public init(email: String, displayName: String, role: StaffRole, receivingOffice: String? = nil) {
            self.email = email
            self.displayName = displayName
            self.role = role
            self.receivingOffice = receivingOffice
        }
    }

    /// Creates the account and returns it with its setup token (to be sent as a link).
    public func execute(_ input: Input) async throws -> (StaffAccount, setupToken: String) {
        let email = input.email.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !email.contains(where: { $0.isWhitespace || $0.isNewline })
        else { throw StaffError.invalidEmail }
        let name = input.displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100,
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw StaffError.invalidName }
        let office = input.receivingOffice.flatMap { $0.isEmpty ? nil : $0 }
        if input.role == .prosecutor {
            guard let office, offices.contains(office) else { throw StaffError.invalidOffice }
        } else if office != nil {
            throw StaffError.invalidOffice
        }
        let now = clock.now()
        let account = StaffAccount(
            id: Identifier(random.uuid()), email: email, displayName: name, role: input.role,
            receivingOffice: office, createdAt: now)
        try await store.insert(account)
        let token = try await issueSetupLink(for: account.id)
        return (account, token)
    }

    /// A new one-time setup link for an existing account (also how two-factor is reset).
    public func issueSetupLink(for account: Identifier<StaffAccount>) async throws -> String {
        let token = ContentHash.hex(random.bytes(count: 32))
        try await store.insertSetupLink(
            tokenHash: ContentHash.sha256Hex(token), account: account,
            expiresAt: clock.now().addingTimeInterval(linkLifetime))
        return token
    }
}
