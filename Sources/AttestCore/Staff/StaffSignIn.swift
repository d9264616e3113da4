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

/// Looking staff up by id: what use cases outside staff administration need of accounts.
public protocol StaffDirectory: Sendable {
    func account(id: Identifier<StaffAccount>) async throws -> StaffAccount?
}

/// Reading staff accounts, setup links, sessions and approval requests. Every change goes through a unit of work
/// (`StaffRepository`): an account's together with the custody entry that records it, sign-in counters through
/// single conditional statements, so that concurrent requests cannot both pass a check.
public protocol StaffStore: StaffDirectory, Transactional {
    /// The account with this (lower-case) e-mail address, or nil.
    func account(email: String) async throws -> StaffAccount?
    /// Every account, by e-mail address.
    func accounts() async throws -> [StaffAccount]
    /// The valid (unexpired, unused) setup link with this token hash, or nil.
    func setupLink(tokenHash: String, now: Date) async throws -> StaffSetupLink?
    func session(tokenHash: String) async throws -> StaffSession?
    /// Requests waiting for a second administrator at `now`, oldest first.
    func approvalRequests(pendingAt now: Date) async throws -> [StaffApprovalRequest]
    /// A request, decided or not.
    func approvalRequest(id: Identifier<StaffApprovalRequest>) async throws -> StaffApprovalRequest?
    /// Account events (administration and sign-ins) recorded before custody entry `before` (or the latest), newest
    /// first.
    func accountActivity(before: Int64?, limit: Int) async throws -> [StaffAccountEvent]
}

extension StaffStore {
    /// Runs `work` in a unit of work with its staff repository (see `Transactional.transaction`).
    public func staffTransaction<Result: Sendable>(
        _ work: @escaping @Sendable (any StaffRepository) async throws -> Result
    ) async throws -> Result {
        try await transaction { try await work($0.staff) }
    }
}

/// Writing staff accounts, setup links, sessions and approval requests, within a unit of work.
public protocol StaffRepository: Sendable {
    /// Stores a new account; throws `StaffError.emailTaken` when the address is in use.
    func insert(_ account: StaffAccount) async throws
    /// Replaces an account's profile and credentials: role, office, whether active, password hash, TOTP secret,
    /// recovery codes. Sign-in counters and the last TOTP step are left alone.
    func update(_ account: StaffAccount) async throws
    /// After enrollment: no attempts counted, no lock, and the enrollment code's step as the last one accepted.
    func startSignIns(of account: Identifier<StaffAccount>, lastTOTPStep: Int64) async throws
    func insert(_ link: StaffSetupLink) async throws
    /// Marks a valid, unused setup link used; false when it was used or expired meanwhile.
    func claimSetupLink(tokenHash: String, now: Date) async throws -> Bool
    /// Makes every unused setup link of an account unusable.
    func revokeSetupLinks(of account: Identifier<StaffAccount>) async throws
    func insert(_ request: StaffApprovalRequest) async throws
    /// Marks a pending, unexpired request decided; false when another administrator decided it first or it has
    /// expired.
    func decide(
        _ request: Identifier<StaffApprovalRequest>, by administrator: Identifier<StaffAccount>, approved: Bool,
        at time: Date
    ) async throws -> Bool
    /// Appends the event's custody entry (and the row the account-activity page reads).
    func record(_ event: StaffAccountEvent) async throws

    /// Counts one sign-in attempt against the account unless `limit` are already counted; the attempt that
    /// reaches the limit locks the account until `lockUntil`. A lock that has expired at `now` is lifted (and
    /// the count started again) first. Returns false when the account is locked. One conditional statement.
    func reserveSignInAttempt(of account: Identifier<StaffAccount>, limit: Int, lockUntil: Date, now: Date)
        async throws -> Bool
    /// Gives back an attempt that succeeded (the count goes down by one and any lock is lifted).
    func releaseSignInAttempt(of account: Identifier<StaffAccount>) async throws
    /// After a complete sign-in: nothing counted, no lock.
    func resetSignInAttempts(of account: Identifier<StaffAccount>) async throws
    /// Records `step` as the last TOTP step accepted if it is later than the one recorded; false otherwise (the
    /// code was used already, perhaps by a request racing this one).
    func acceptTOTPStep(_ step: Int64, of account: Identifier<StaffAccount>) async throws -> Bool
    /// Removes one unused recovery code (by its hash); false when it is not (or no longer) there.
    func consumeRecoveryCode(_ hash: String, of account: Identifier<StaffAccount>) async throws -> Bool

    func insert(_ session: StaffSession) async throws
    func update(_ session: StaffSession) async throws
    func deleteSession(tokenHash: String) async throws
    /// Ends every session of an account ("sign out everywhere").
    func deleteSessions(of account: Identifier<StaffAccount>) async throws
}

/// Hashes and checks passwords (bcrypt in the web layer, off the shared threads). Either may throw
/// `StaffError.busy` when too many are waiting.
public protocol StaffPasswordHasher: Sendable {
    func hash(_ password: String) async throws -> String
    func verify(_ password: String, against hash: String) async throws -> Bool
    /// A hash of a random password, checked when an e-mail address is unknown so that timing does not tell.
    var decoy: String { get }
}

/// Why a staff action failed.
public enum StaffError: Error, Equatable, Sendable {
    /// Wrong e-mail or password, or an account refused for too many failures — deliberately the same for all.
    case invalidCredentials
    /// This client sent too many sign-in attempts; it may try again after this many seconds.
    case tooManyAttempts(retryAfterSeconds: Int)
    /// Too many passwords are being checked right now; try again after this many seconds.
    case busy(retryAfterSeconds: Int)
    case invalidSecondFactor
    case weakPassword(PasswordPolicy.Problem)
    case passwordsDiffer
    case emailTaken
    case invalidEmail
    case invalidName
    /// A prosecutor needs a receiving office of the jurisdiction; other roles must not have one.
    case invalidOffice
    case setupLinkInvalid
    /// The setup link needs the code the requesting administrator holds, and this is not it.
    case partnerCodeInvalid
    /// The approval request was decided already, has expired, or never existed.
    case approvalRequestInvalid
    /// A request must be approved by an administrator other than the one who made it (and not about their
    /// own account).
    case approvalNeedsAnotherAdministrator
    case accountNotFound
    /// Administrators do not disable or change the role of their own account.
    case ownAccount
    case sessionExpired
    case forbidden
}

/// Where a sign-in attempt comes from, for throttling.
public struct SignInClient: Sendable {
    /// The client's network identity (an address, or its network); throttled under an HMAC, never stored.
    public var address: String
    /// The account this browser completed a sign-in for before, proved by a signed cookie, and that cookie's key.
    public var trustedDevice: (account: Identifier<StaffAccount>, key: String)?

    public init(address: String, trustedDevice: (account: Identifier<StaffAccount>, key: String)? = nil) {
        self.address = address
        self.trustedDevice = trustedDevice
    }

    /// Whether this browser is trusted for `account`: it is then exempt from the account's lock (a stranger's
    /// failures cannot lock its owner out) and throttled by device instead of by address.
    func isTrusted(for account: StaffAccount?) -> Bool {
        guard let account, let device = trustedDevice else { return false }
        return device.account == account.id
    }

    /// The throttling key of this client and an account (or typed address, known or not).
    func pair(_ email: String, trusted: Bool) -> String {
        if trusted, let device = trustedDevice { return "device:\(device.key)|\(email)" }
        return "address:\(address)|\(email)"
    }
}

/// Signing in: password, then a TOTP code or a recovery code.
///
/// Every failure answers the same (`invalidCredentials` or `invalidSecondFactor`) after the same work (one bcrypt
/// check): an unknown address, a wrong password and an account refused for its failures are told apart neither by
/// answer nor by time. Failures are limited twice: per client and account (`SignInThrottle`, in memory), and per
/// account (`maxFailures` within `lockout`, counted atomically in the store) for clients without a trusted-device
/// cookie for that account, so a stranger's guesses lock strangers out, never the owner's own browser.
public struct SignInStaff: Sendable {
    public var store: any StaffStore
    public var hasher: any StaffPasswordHasher
    public var clock: any Clock
    public var random: any RandomSource
    public var throttle: SignInThrottle
    public var maxFailures = 5
    public var lockout: TimeInterval = 15 * 60

    public init(
        store: any StaffStore, hasher: any StaffPasswordHasher, clock: any Clock, random: any RandomSource,
        throttle: SignInThrottle
    ) {
        self.store = store
        self.hasher = hasher
        self.clock = clock
        self.random = random
        self.throttle = throttle
    }

    /// Checks e-mail and password. Returns the account and a new session token (to put in the cookie); the
    /// session still needs the second factor.
    public func password(email: String, password: String, client: SignInClient) async throws
        -> (StaffAccount, token: String)
    {
        let now = clock.now()
        if let wait = throttle.admit(client: client.address, now: now) {
            throw StaffError.tooManyAttempts(retryAfterSeconds: wait)
        }
        let normalized = email.trimmingCharacters(in: .whitespaces).lowercased()
        let found = try await store.account(email: normalized)
        let account = found.flatMap { $0.isEnrolled && $0.passwordHash != nil ? $0 : nil }
        let trusted = client.isTrusted(for: account)
        let pair = client.pair(normalized, trusted: trusted)
        var admitted = throttle.reserve(pair: pair, now: now)
        // An unknown address takes the same steps as a known one: a conditional update (of no row) and a check.
        let counted = trusted ? nil : account?.id ?? Identifier(random.uuid())
        if admitted, let counted {
            let lockUntil = now.addingTimeInterval(lockout)
            let limit = maxFailures
            admitted = try await store.staffTransaction { staff in
                try await staff.reserveSignInAttempt(of: counted, limit: limit, lockUntil: lockUntil, now: now)
            }
        }
        let matches: Bool
        do {
            matches = try await hasher.verify(password, against: account?.passwordHash ?? hasher.decoy)
        } catch {
            if admitted, let account {
                throttle.release(pair: pair, now: now)
                if !trusted { try await store.staffTransaction { try await $0.releaseSignInAttempt(of: account.id) } }
            }
            throw error
        }
        guard let account, admitted, matches else { throw StaffError.invalidCredentials }
        throttle.release(pair: pair, now: now)
        let token = ContentHash.hex(random.bytes(count: 32))
        let session = StaffSession(
            tokenHash: ContentHash.sha256Hex(token), accountID: account.id, stage: .awaitingSecondFactor,
            createdAt: now)
        try await store.staffTransaction { staff in
            if !trusted { try await staff.releaseSignInAttempt(of: account.id) }
            try await staff.insert(session)
        }
        return (account, token)
    }

    /// Checks the second factor for a session waiting for it; on success the session is signed in (under a
    /// new token, so a token seen before sign-in is worthless after) and `staff.signed_in` is recorded. A TOTP
    /// step and a recovery code are each accepted once, however many requests race with them.
    public func secondFactor(sessionToken: String, code: String, client: SignInClient) async throws
        -> (StaffAccount, token: String)
    {
        let now = clock.now()
        if let wait = throttle.admit(client: client.address, now: now) {
            throw StaffError.tooManyAttempts(retryAfterSeconds: wait)
        }
        let oldHash = ContentHash.sha256Hex(sessionToken)
        guard let session = try await store.session(tokenHash: oldHash), session.stage == .awaitingSecondFactor,
            session.isValid(at: now, idle: 300, absolute: 300),
            let account = try await store.account(id: session.accountID), account.isEnrolled,
            let secret = account.totpSecret
        else { throw StaffError.sessionExpired }
        let trusted = client.isTrusted(for: account)
        let pair = client.pair(account.email, trusted: trusted)
        var accepted = throttle.reserve(pair: pair, now: now)
        if accepted, !trusted {
            let lockUntil = now.addingTimeInterval(lockout)
            let limit = maxFailures
            accepted = try await store.staffTransaction { staff in
                try await staff.reserveSignInAttempt(of: account.id, limit: limit, lockUntil: lockUntil, now: now)
            }
        }
        if accepted {
            if let step = TOTP(secret: secret).matchingStep(code, at: now) {
                accepted = try await store.staffTransaction { try await $0.acceptTOTPStep(step, of: account.id) }
            } else if code.filter({ $0.isLetter || $0.isNumber }).count == 10 {
                let hash = RecoveryCodes.hash(code)
                accepted = try await store.staffTransaction { try await $0.consumeRecoveryCode(hash, of: account.id) }
            } else {
                accepted = false
            }
        }
        guard accepted else { throw StaffError.invalidSecondFactor }
        throttle.clear(pair: pair, now: now)
        let token = ContentHash.hex(random.bytes(count: 32))
        let signedIn = StaffSession(
            tokenHash: ContentHash.sha256Hex(token), accountID: account.id, stage: .signedIn, createdAt: now)
        let event = StaffAccountEvent(
            account: account.id, action: .signedIn, role: nil, actor: account.actorID, occurredAt: now)
        // One unit: the counters cleared, the old session replaced by the signed-in one, and the sign-in recorded.
        try await store.staffTransaction { staff in
            try await staff.resetSignInAttempts(of: account.id)
            try await staff.deleteSession(tokenHash: oldHash)
            try await staff.insert(signedIn)
            try await staff.record(event)
        }
        return (account, token)
    }
}

/// Completing a setup link: the person chooses a password and enrolls their authenticator (the code proves it
/// works), and receives recovery codes, shown once. A link issued on a second administrator's approval also needs
/// the code the requesting administrator holds.
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
        /// The requesting administrator's code, for a link that needs one.
        public var partnerCode: String

        public init(
            token: String, password: String, passwordAgain: String, secret: [UInt8], code: String,
            partnerCode: String = ""
        ) {
            self.token = token
            self.password = password
            self.passwordAgain = passwordAgain
            self.secret = secret
            self.code = code
            self.partnerCode = partnerCode
        }
    }

    /// The account a setup link is for, and the link, if the link is valid.
    public func account(forToken token: String) async throws -> (StaffAccount, StaffSetupLink) {
        guard let link = try await store.setupLink(tokenHash: ContentHash.sha256Hex(token), now: clock.now()),
            let account = try await store.account(id: link.account)
        else { throw StaffError.setupLinkInvalid }
        return (account, link)
    }

    /// Checks a password and an enrollment code without changing anything; returns the code's step.
    public func check(_ input: Input, email: String) throws -> Int64 {
        if let problem = policy.problem(with: input.password, email: email) { throw StaffError.weakPassword(problem) }
        guard input.password == input.passwordAgain else { throw StaffError.passwordsDiffer }
        guard input.secret.count >= 20, let step = TOTP(secret: input.secret).matchingStep(input.code, at: clock.now())
        else { throw StaffError.invalidSecondFactor }
        return step
    }

    /// Sets password and two-factor; returns the recovery codes (shown once). The link is used up, every session
    /// of the account ends and `staff.setup_completed` is recorded, in one transaction.
    public func execute(_ input: Input) async throws -> [String] {
        let (found, link) = try await account(forToken: input.token)
        if let expected = link.partnerCodeHash {
            guard ContentHash.constantTimeEquals(StaffApprovalRequest.hash(partnerCode: input.partnerCode), expected)
            else { throw StaffError.partnerCodeInvalid }
        }
        let step = try check(input, email: found.email)
        let codes = RecoveryCodes.generate(random: random)
        var account = found
        account.passwordHash = try await hasher.hash(input.password)
        account.totpSecret = input.secret
        account.recoveryCodeHashes = codes.map(RecoveryCodes.hash)
        let now = clock.now()
        let event = StaffAccountEvent(
            account: account.id, action: .setupCompleted, role: account.role, actor: account.actorID, occurredAt: now)
        let tokenHash = ContentHash.sha256Hex(input.token)
        let enrolled = account
        try await store.staffTransaction { unit in
            guard try await unit.claimSetupLink(tokenHash: tokenHash, now: now) else {
                throw StaffError.setupLinkInvalid
            }
            try await unit.update(enrolled)
            try await unit.startSignIns(of: enrolled.id, lastTOTPStep: step)
            try await unit.deleteSessions(of: enrolled.id)
            try await unit.record(event)
        }
        return codes
    }
}

/// The operator creates an account (`attest staff create`, the first administrator): no approval, recorded under
/// the actor `system`. Administrators use `AdministerStaffAccounts`. The person completes the account through a
/// one-time setup link, valid for an hour.
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

    /// The account `input` describes, checked (e-mail, name, office), not yet stored.
    public func validated(_ input: Input) throws -> StaffAccount {
        let email = input.email.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !email.contains(where: { $0.isWhitespace || $0.isNewline })
        else { throw StaffError.invalidEmail }
        let name = input.displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100,
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw StaffError.invalidName }
        return StaffAccount(
            id: Identifier(random.uuid()), email: email, displayName: name, role: input.role,
            receivingOffice: try office(input.receivingOffice, for: input.role), createdAt: clock.now())
    }

    /// The receiving office a role takes: one of the jurisdiction's for a prosecutor, none for anyone else.
    public func office(_ typed: String?, for role: StaffRole) throws -> String? {
        let office = typed.flatMap { $0.isEmpty ? nil : $0 }
        if role == .prosecutor {
            guard let office, offices.contains(office) else { throw StaffError.invalidOffice }
            return office
        }
        guard office == nil else { throw StaffError.invalidOffice }
        return nil
    }

    /// A one-time setup link for `account`, valid for `linkLifetime`, and the token to send.
    public func link(for account: Identifier<StaffAccount>, partnerCodeHash: String? = nil) -> (
        StaffSetupLink, token: String
    ) {
        let token = ContentHash.hex(random.bytes(count: 32))
        let link = StaffSetupLink(
            tokenHash: ContentHash.sha256Hex(token), account: account,
            expiresAt: clock.now().addingTimeInterval(linkLifetime), partnerCodeHash: partnerCodeHash)
        return (link, token)
    }

    /// On a start with no administrator: a setup link naming no account yet, which creates the administrator
    /// (and works only while there is none); its token, or nil when an administrator exists.
    public func firstStartLink() async throws -> String? {
        guard try await !store.accounts().contains(where: { $0.role == .administrator }) else { return nil }
        let (link, token) = link(for: Identifier(random.uuid()))
        try await store.staffTransaction { try await $0.insert(link) }
        return token
    }

    /// Creates the account and returns it with its setup token (to be sent as a link).
    public func execute(_ input: Input) async throws -> (StaffAccount, setupToken: String) {
        let account = try validated(input)
        return (account, try await insert(account, usingUp: nil))
    }

    /// Creates the first administrator through a first-start link (which names no account yet), using that link
    /// up in the same transaction; returns the administrator's own setup token.
    public func firstAdministrator(_ input: Input, firstStartToken: String) async throws -> String {
        var input = input
        input.role = .administrator
        return try await insert(try validated(input), usingUp: ContentHash.sha256Hex(firstStartToken))
    }

    private func insert(_ account: StaffAccount, usingUp firstStartLink: String?) async throws -> String {
        let (link, token) = link(for: account.id)
        let now = clock.now()
        try await store.staffTransaction { unit in
            if let firstStartLink, !(try await unit.claimSetupLink(tokenHash: firstStartLink, now: now)) {
                throw StaffError.setupLinkInvalid
            }
            try await unit.insert(account)
            try await unit.insert(link)
            try await unit.record(
                StaffAccountEvent(
                    account: account.id, action: .created, role: account.role, actor: StaffAccountEvent.system,
                    occurredAt: now))
            try await unit.record(
                StaffAccountEvent(
                    account: account.id, action: .setupLinkIssued, role: nil, actor: StaffAccountEvent.system,
                    occurredAt: now))
        }
        return token
    }
}
