import Foundation

/// A one-time link where a person sets their password and enrolls two-factor authentication. The browser gets a
/// random token; the store keeps its SHA-256.
public struct StaffSetupLink: Equatable, Sendable {
    public var tokenHash: String
    public var account: Identifier<StaffAccount>
    public var expiresAt: Date
    /// Dual control: the SHA-256 of the code the requesting administrator holds. A link issued on approval works
    /// only with that code, so neither administrator alone can complete the account.
    public var partnerCodeHash: String?

    public init(tokenHash: String, account: Identifier<StaffAccount>, expiresAt: Date, partnerCodeHash: String? = nil) {
        self.tokenHash = tokenHash
        self.account = account
        self.expiresAt = expiresAt
        self.partnerCodeHash = partnerCodeHash
    }
}

/// Something that happened to a staff account, as its custody entry and the account-activity page record it:
/// pseudonyms and the role granted, never a name or an e-mail address.
public struct StaffAccountEvent: Equatable, Sendable {
    public enum Action: String, Sendable, CaseIterable {
        case created
        case setupLinkIssued = "setup_link_issued"
        case setupCompleted = "setup_completed"
        case disabled
        case enabled
        case roleChanged = "role_changed"
        case approvalRequested = "approval_requested"
        case approvalGiven = "approval_given"
        case approvalDeclined = "approval_declined"
        case signedIn = "signed_in"

        /// The custody log's type for the action.
        public var custodyKind: CustodyEventKind {
            switch self {
            case .created: .staffAccountCreated
            case .setupLinkIssued: .staffSetupLinkIssued
            case .setupCompleted: .staffSetupCompleted
            case .disabled: .staffAccountDisabled
            case .enabled: .staffAccountEnabled
            case .roleChanged: .staffRoleChanged
            case .approvalRequested: .staffApprovalRequested
            case .approvalGiven: .staffApprovalGiven
            case .approvalDeclined: .staffApprovalDeclined
            case .signedIn: .staffSignedIn
            }
        }
    }

    /// The actor of what the operator does (`attest staff create`, the first administrator).
    public static let system = "system"

    public var account: Identifier<StaffAccount>
    public var action: Action
    /// The role granted (or requested, approved, declined), when the action concerns one.
    public var role: StaffRole?
    /// Who acted: a staff pseudonym (`StaffAccount.actorID`) or `system`.
    public var actor: String
    /// Stamped to whole seconds, so the time hashed is the time stored.
    public var occurredAt: Date
    /// The custody entry's index, once stored.
    public var custodyIndex: Int64?

    public init(
        account: Identifier<StaffAccount>, action: Action, role: StaffRole?, actor: String, occurredAt: Date,
        custodyIndex: Int64? = nil
    ) {
        self.account = account
        self.action = action
        self.role = role
        self.actor = actor
        self.occurredAt = occurredAt.wholeSeconds
        self.custodyIndex = custodyIndex
    }

    /// The record the entry names: the account, and the role when one is granted
    /// (`staff-account:<id>/role:supervisor`).
    public var recordID: String {
        "staff-account:\(account)" + (role.map { "/role:\($0.rawValue)" } ?? "")
    }

    /// SHA-256 of the event's canonical description (account, action, role, actor, time).
    public var contentHash: String {
        ContentHash.sha256Hex(
            "\(account)|\(action.rawValue)|\(role?.rawValue ?? "")|\(actor)|\(RFC3339.string(from: occurredAt))")
    }

    /// The custody log's entry for this event.
    public var custodyEvent: CustodyEvent {
        CustodyEvent(
            kind: action.custodyKind, occurredAt: occurredAt, actor: actor, recordID: recordID,
            contentHash: contentHash)
    }
}

/// A change that needs a second administrator: granting supervisor or administrator (to a new or an existing
/// account) or resetting an account that holds one. Nothing changes until a different administrator approves; then
/// the account gets the role, loses its credentials and sessions, and a dual-control setup link is issued.
public struct StaffApprovalRequest: Equatable, Sendable {
    public enum Change: String, Sendable {
        /// Give the account `role`.
        case grant
        /// New credentials for an account that holds `role`.
        case reset
    }

    public var id: Identifier<StaffApprovalRequest>
    public var account: Identifier<StaffAccount>
    public var change: Change
    public var role: StaffRole
    public var requestedBy: Identifier<StaffAccount>
    public var requestedAt: Date
    public var expiresAt: Date
    /// SHA-256 of the code shown to the requesting administrator (see `StaffSetupLink.partnerCodeHash`).
    public var partnerCodeHash: String

    public init(
        id: Identifier<StaffApprovalRequest>, account: Identifier<StaffAccount>, change: Change, role: StaffRole,
        requestedBy: Identifier<StaffAccount>, requestedAt: Date, expiresAt: Date, partnerCodeHash: String
    ) {
        self.id = id
        self.account = account
        self.change = change
        self.role = role
        self.requestedBy = requestedBy
        self.requestedAt = requestedAt
        self.expiresAt = expiresAt
        self.partnerCodeHash = partnerCodeHash
    }

    /// A partner code: 20 random bytes in base32, in groups of four (`ABCD EFGH …`).
    static func partnerCode(random: any RandomSource) -> String {
        let encoded = Array(Base32.encode(random.bytes(count: 20)))
        return stride(from: 0, to: encoded.count, by: 4).map { String(encoded[$0..<min($0 + 4, encoded.count)]) }
            .joined(separator: " ")
    }

    /// The stored form of a partner code, as typed (case, spaces and dashes ignored).
    public static func hash(partnerCode typed: String) -> String {
        ContentHash.sha256Hex(typed.uppercased().filter { $0.isLetter || $0.isNumber })
    }
}

/// What administrators do to staff accounts. Every action is recorded in the custody log (pseudonymous, with the
/// role granted) in the transaction that makes it. Granting supervisor or administrator, or resetting an account
/// that holds one, only files a `StaffApprovalRequest`: the requester sees a partner code, and a different
/// administrator's approval issues the setup link, which works only with that code.
public struct AdministerStaffAccounts: Sendable {
    public var store: any StaffStore
    public var clock: any Clock
    public var random: any RandomSource
    /// The receiving offices of the jurisdiction (prosecutors belong to one).
    public var offices: [String]
    public var linkLifetime: TimeInterval = 3600
    /// How long a request waits for a second administrator.
    public var approvalLifetime: TimeInterval = 86_400

    public init(store: any StaffStore, clock: any Clock, random: any RandomSource, offices: [String]) {
        self.store = store
        self.clock = clock
        self.random = random
        self.offices = offices
    }

    /// What an action produced for the acting administrator to pass on.
    public struct Outcome: Equatable, Sendable {
        /// A setup link's token, to send to the person.
        public var setupToken: String?
        /// The code the requesting administrator gives the person once another administrator approves.
        public var partnerCode: String?
        /// The request now waiting for another administrator.
        public var request: StaffApprovalRequest?

        public init(setupToken: String? = nil, partnerCode: String? = nil, request: StaffApprovalRequest? = nil) {
            self.setupToken = setupToken
            self.partnerCode = partnerCode
            self.request = request
        }
    }

    private var creator: CreateStaffAccount {
        var creator = CreateStaffAccount(store: store, clock: clock, random: random, offices: offices)
        creator.linkLifetime = linkLifetime
        return creator
    }

    private func event(
        _ account: Identifier<StaffAccount>, _ action: StaffAccountEvent.Action, role: StaffRole? = nil,
        by administrator: StaffAccount
    ) -> StaffAccountEvent {
        StaffAccountEvent(
            account: account, action: action, role: role, actor: administrator.actorID, occurredAt: clock.now())
    }

    private func authorize(_ administrator: StaffAccount) throws {
        guard administrator.isEnrolled, StaffPolicy.allows(administrator.role, .manageAccounts) else {
            throw StaffError.forbidden
        }
    }

    private func target(_ id: Identifier<StaffAccount>, by administrator: StaffAccount, own: Bool = false)
        async throws -> StaffAccount
    {
        try authorize(administrator)
        guard let account = try await store.account(id: id) else { throw StaffError.accountNotFound }
        if !own, account.id == administrator.id { throw StaffError.ownAccount }
        return account
    }

    /// Files a request for `change` of `account` (a new account is stored with it, `created` recorded first) and
    /// returns the requester's partner code.
    private func fileRequest(
        _ change: StaffApprovalRequest.Change, role: StaffRole, of account: StaffAccount, new: Bool = false,
        by administrator: StaffAccount
    ) async throws -> Outcome {
        let code = StaffApprovalRequest.partnerCode(random: random)
        let now = clock.now()
        let request = StaffApprovalRequest(
            id: Identifier(random.uuid()), account: account.id, change: change, role: role,
            requestedBy: administrator.id, requestedAt: now, expiresAt: now.addingTimeInterval(approvalLifetime),
            partnerCodeHash: StaffApprovalRequest.hash(partnerCode: code))
        var events = [event(account.id, .approvalRequested, role: role, by: administrator)]
        if new { events.insert(event(account.id, .created, role: role, by: administrator), at: 0) }
        try await store.staffTransaction { [events] unit in
            if new { try await unit.insert(account) }
            try await unit.insert(request)
            for event in events { try await unit.record(event) }
        }
        return Outcome(partnerCode: code, request: request)
    }

    /// Creates an account. A supervisor or administrator is created without a setup link and with a request for
    /// a second administrator's approval; any other role gets its setup link at once.
    public func create(_ input: CreateStaffAccount.Input, by administrator: StaffAccount) async throws -> Outcome {
        try authorize(administrator)
        let account = try creator.validated(input)
        if account.role.isPrivileged {
            return try await fileRequest(.grant, role: account.role, of: account, new: true, by: administrator)
        }
        let created = event(account.id, .created, role: account.role, by: administrator)
        let (link, token) = creator.link(for: account.id)
        let issued = event(account.id, .setupLinkIssued, by: administrator)
        try await store.staffTransaction { unit in
            try await unit.insert(account)
            try await unit.insert(link)
            try await unit.record(created)
            try await unit.record(issued)
        }
        return Outcome(setupToken: token)
    }

    /// A new setup link: the person chooses a new password and enrolls a new authenticator; until then the account
    /// cannot sign in and every session of it has ended (a disabled account is enabled again). For a supervisor or
    /// administrator this only requests it.
    public func reset(_ id: Identifier<StaffAccount>, by administrator: StaffAccount) async throws -> Outcome {
        let account = try await target(id, by: administrator, own: true)
        if account.role.isPrivileged {
            return try await fileRequest(.reset, role: account.role, of: account, by: administrator)
        }
        let (link, token) = creator.link(for: account.id)
        var events = [event(account.id, .setupLinkIssued, by: administrator)]
        if !account.isActive { events.append(event(account.id, .enabled, by: administrator)) }
        try await store.staffTransaction { [events] unit in
            try await Self.clearCredentials(of: account, unit: unit)
            try await unit.insert(link)
            for event in events { try await unit.record(event) }
        }
        return Outcome(setupToken: token)
    }

    private static func clearCredentials(of account: StaffAccount, unit: any StaffRepository) async throws {
        var cleared = account
        cleared.passwordHash = nil
        cleared.totpSecret = nil
        cleared.recoveryCodeHashes = []
        cleared.isActive = true
        try await unit.update(cleared)
        try await unit.revokeSetupLinks(of: account.id)
        try await unit.deleteSessions(of: account.id)
    }

    /// Gives an account another role. Granting supervisor or administrator only requests it; any other change
    /// applies at once (the account's next request sees it).
    public func changeRole(
        of id: Identifier<StaffAccount>, to role: StaffRole, office typed: String?, by administrator: StaffAccount
    ) async throws -> Outcome {
        let account = try await target(id, by: administrator)
        let office = try creator.office(typed, for: role)
        guard role != account.role || office != account.receivingOffice else { return Outcome() }
        if role.isPrivileged {
            return try await fileRequest(.grant, role: role, of: account, by: administrator)
        }
        var changed = account
        changed.role = role
        changed.receivingOffice = office
        let recorded = event(account.id, .roleChanged, role: role, by: administrator)
        try await store.staffTransaction { [changed] unit in
            try await unit.update(changed)
            try await unit.record(recorded)
        }
        return Outcome()
    }

    /// Disables an account (its sessions end) or enables it again.
    public func setActive(_ active: Bool, of id: Identifier<StaffAccount>, by administrator: StaffAccount)
        async throws
    {
        var account = try await target(id, by: administrator)
        guard account.isActive != active else { return }
        account.isActive = active
        let recorded = event(account.id, active ? .enabled : .disabled, by: administrator)
        try await store.staffTransaction { [account] unit in
            try await unit.update(account)
            if !active { try await unit.deleteSessions(of: account.id) }
            try await unit.record(recorded)
        }
    }

    /// Approves another administrator's request: the account takes the role, loses its credentials, sessions and
    /// earlier links, and gets a setup link (returned, for the approver to send) that works only with the
    /// requester's partner code.
    public func approve(_ id: Identifier<StaffApprovalRequest>, by administrator: StaffAccount) async throws
        -> Outcome
    {
        try authorize(administrator)
        let now = clock.now()
        guard let request = try await store.approvalRequest(id: id), request.expiresAt > now,
            var account = try await store.account(id: request.account)
        else { throw StaffError.approvalRequestInvalid }
        guard request.requestedBy != administrator.id, request.account != administrator.id else {
            throw StaffError.approvalNeedsAnotherAdministrator
        }
        var events = [event(account.id, .approvalGiven, role: request.role, by: administrator)]
        if account.role != request.role {
            events.append(event(account.id, .roleChanged, role: request.role, by: administrator))
        }
        events.append(event(account.id, .setupLinkIssued, by: administrator))
        account.role = request.role
        account.receivingOffice = nil
        let (link, token) = creator.link(for: account.id, partnerCodeHash: request.partnerCodeHash)
        try await store.staffTransaction { [account, events] unit in
            guard try await unit.decide(request.id, by: administrator.id, approved: true, at: now) else {
                throw StaffError.approvalRequestInvalid
            }
            try await Self.clearCredentials(of: account, unit: unit)
            try await unit.insert(link)
            for event in events { try await unit.record(event) }
        }
        return Outcome(setupToken: token)
    }

    /// Declines a request (the requester may withdraw their own).
    public func decline(_ id: Identifier<StaffApprovalRequest>, by administrator: StaffAccount) async throws {
        try authorize(administrator)
        let now = clock.now()
        guard let request = try await store.approvalRequest(id: id) else { throw StaffError.approvalRequestInvalid }
        let recorded = event(request.account, .approvalDeclined, role: request.role, by: administrator)
        try await store.staffTransaction { unit in
            guard try await unit.decide(request.id, by: administrator.id, approved: false, at: now) else {
                throw StaffError.approvalRequestInvalid
            }
            try await unit.record(recorded)
        }
    }
}
