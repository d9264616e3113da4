import AttestCore
import FluentKit
import FluentSQL
import Foundation

/// Staff accounts, their one-time setup links and their sessions (in the database, so several Attest processes
/// serve one deployment).
struct CreateStaff: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("staff_accounts")
            .field("id", .uuid, .identifier(auto: false))
            .field("email", .string, .required)
            .field("display_name", .string, .required)
            .field("role", .string, .required)
            .field("receiving_office", .string)
            .field("password_hash", .string)
            .field("totp_secret", .string)
            .field("last_totp_step", .int64)
            .field("recovery_codes", .string, .required)
            .field("failed_attempts", .int64, .required)
            .field("locked_until", .datetime)
            .field("is_active", .bool, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "email")
            .create()
        try await database.schema("staff_setup_links")
            .field("token_hash", .string, .identifier(auto: false))
            .field("account_id", .uuid, .required)
            .field("expires_at", .datetime, .required)
            .field("used_at", .datetime)
            .create()
        try await database.schema("staff_sessions")
            .field("token_hash", .string, .identifier(auto: false))
            .field("account_id", .uuid, .required)
            .field("stage", .string, .required)
            .field("created_at", .datetime, .required)
            .field("last_seen_at", .datetime, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        try await sql.raw("CREATE INDEX staff_sessions_account_id ON staff_sessions (account_id)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("staff_sessions").delete()
        try await database.schema("staff_setup_links").delete()
        try await database.schema("staff_accounts").delete()
    }
}

/// Administration under two administrators and its trail: setup links that need the requester's partner code,
/// approval requests, and the account-activity rows (one per custody entry about an account, naming its index).
struct CreateStaffAdministration: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("staff_setup_links").field("partner_hash", .string).update()
        try await database.schema("staff_approval_requests")
            .field("id", .uuid, .identifier(auto: false))
            .field("account_id", .uuid, .required)
            .field("change", .string, .required)
            .field("role", .string, .required)
            .field("requested_by", .uuid, .required)
            .field("requested_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("partner_hash", .string, .required)
            .field("decided_by", .uuid)
            .field("decided_at", .datetime)
            .field("approved", .bool)
            .create()
        try await database.schema("staff_account_events")
            .field("custody_index", .int64, .identifier(auto: false))
            .field("account_id", .uuid, .required)
            .field("action", .string, .required)
            .field("role", .string)
            .field("actor", .string, .required)
            .field("occurred_at", .datetime, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("staff_account_events").delete()
        try await database.schema("staff_approval_requests").delete()
        try await database.schema("staff_setup_links").deleteField("partner_hash").update()
    }
}

struct StaffAccountRow: Codable {
    var id: UUID
    var email: String
    var display_name: String
    var role: String
    var receiving_office: String?
    var password_hash: String?
    var totp_secret: String?
    var last_totp_step: Int64?
    var recovery_codes: String
    var failed_attempts: Int64
    var locked_until: Date?
    var is_active: Bool
    var created_at: Date
}

struct StaffSessionRow: Codable {
    var token_hash: String
    var account_id: UUID
    var stage: String
    var created_at: Date
    var last_seen_at: Date
}

struct StaffApprovalRequestRow: Codable {
    var id: UUID
    var account_id: UUID
    var change: String
    var role: String
    var requested_by: UUID
    var requested_at: Date
    var expires_at: Date
    var partner_hash: String
    var decided_by: UUID?
    var decided_at: Date?
    var approved: Bool?

    init(_ request: StaffApprovalRequest) {
        id = request.id.rawValue
        account_id = request.account.rawValue
        change = request.change.rawValue
        role = request.role.rawValue
        requested_by = request.requestedBy.rawValue
        requested_at = request.requestedAt
        expires_at = request.expiresAt
        partner_hash = request.partnerCodeHash
    }

    func request() throws -> StaffApprovalRequest {
        guard let change = StaffApprovalRequest.Change(rawValue: change), let role = StaffRole(rawValue: role) else {
            throw PersistenceError.corruptRow("staff_approval_requests \(id)")
        }
        return StaffApprovalRequest(
            id: Identifier(id), account: Identifier(account_id), change: change, role: role,
            requestedBy: Identifier(requested_by), requestedAt: requested_at, expiresAt: expires_at,
            partnerCodeHash: partner_hash)
    }
}

struct StaffAccountEventRow: Codable {
    var custody_index: Int64
    var account_id: UUID
    var action: String
    var role: String?
    var actor: String
    var occurred_at: Date
}

extension ContactCipher {
    /// The staff account as stored: the TOTP secret sealed, bound to the account's id.
    func row(of account: StaffAccount) throws -> StaffAccountRow {
        StaffAccountRow(
            id: account.id.rawValue, email: account.email, display_name: account.displayName,
            role: account.role.rawValue, receiving_office: account.receivingOffice,
            password_hash: account.passwordHash,
            totp_secret: try account.totpSecret.map {
                try seal(bytes: Data($0), recordID: "staff:\(account.id.rawValue.uuidString)")
            },
            last_totp_step: account.lastTOTPStep,
            recovery_codes: CanonicalJSON.array(account.recoveryCodeHashes),
            failed_attempts: Int64(account.failedAttempts), locked_until: account.lockedUntil,
            is_active: account.isActive, created_at: account.createdAt)
    }
}

/// The staff store on the same database (and, on SQLite, the same single writer) as reports.
extension FluentReportStore: StaffStore {

    func account(from row: StaffAccountRow) throws -> StaffAccount {
        guard let role = StaffRole(rawValue: row.role),
            let codes = try? JSONDecoder().decode([String].self, from: Data(row.recovery_codes.utf8))
        else { throw PersistenceError.corruptRow("staff_accounts \(row.id)") }
        var account = StaffAccount(
            id: Identifier(row.id), email: row.email, displayName: row.display_name, role: role,
            receivingOffice: row.receiving_office, createdAt: row.created_at)
        account.passwordHash = row.password_hash
        account.totpSecret = try row.totp_secret.map {
            Array(try cipher.openBytes($0, recordID: "staff:\(row.id.uuidString)"))
        }
        account.lastTOTPStep = row.last_totp_step
        account.recoveryCodeHashes = codes
        account.failedAttempts = Int(row.failed_attempts)
        account.lockedUntil = row.locked_until
        account.isActive = row.is_active
        return account
    }

    public func account(email: String) async throws -> StaffAccount? {
        try await sql.select().column("*").from("staff_accounts").where("email", .equal, SQLBind(email))
            .first(decoding: StaffAccountRow.self).map(account(from:))
    }

    public func account(id: Identifier<StaffAccount>) async throws -> StaffAccount? {
        try await sql.select().column("*").from("staff_accounts").where("id", .equal, SQLBind(id.rawValue))
            .first(decoding: StaffAccountRow.self).map(account(from:))
    }

    public func accounts() async throws -> [StaffAccount] {
        try await sql.select().column("*").from("staff_accounts").orderBy("email")
            .all(decoding: StaffAccountRow.self).map(account(from:))
    }

    public func setupLink(tokenHash: String, now: Date) async throws -> StaffSetupLink? {
        struct Row: Decodable {
            var account_id: UUID
            var expires_at: Date
            var used_at: Date?
            var partner_hash: String?
        }
        guard
            let row = try await sql.select().columns("account_id", "expires_at", "used_at", "partner_hash")
                .from("staff_setup_links").where("token_hash", .equal, SQLBind(tokenHash)).first(decoding: Row.self),
            row.used_at == nil, row.expires_at > now
        else { return nil }
        return StaffSetupLink(
            tokenHash: tokenHash, account: Identifier(row.account_id), expiresAt: row.expires_at,
            partnerCodeHash: row.partner_hash)
    }

    public func session(tokenHash: String) async throws -> StaffSession? {
        guard
            let row = try await sql.select().column("*").from("staff_sessions")
                .where("token_hash", .equal, SQLBind(tokenHash)).first(decoding: StaffSessionRow.self),
            let stage = StaffSession.Stage(rawValue: row.stage)
        else { return nil }
        var session = StaffSession(
            tokenHash: row.token_hash, accountID: Identifier(row.account_id), stage: stage, createdAt: row.created_at)
        session.lastSeenAt = row.last_seen_at
        return session
    }

    public func approvalRequests(pendingAt now: Date) async throws -> [StaffApprovalRequest] {
        try await sql.select().column("*").from("staff_approval_requests").where("decided_at", .is, SQLLiteral.null)
            .where("expires_at", .greaterThan, SQLBind(now)).orderBy("requested_at")
            .all(decoding: StaffApprovalRequestRow.self).map { try $0.request() }
    }

    public func approvalRequest(id: Identifier<StaffApprovalRequest>) async throws -> StaffApprovalRequest? {
        try await sql.select().column("*").from("staff_approval_requests").where("id", .equal, SQLBind(id.rawValue))
            .first(decoding: StaffApprovalRequestRow.self).map { try $0.request() }
    }

    public func accountActivity(before: Int64?, limit: Int) async throws -> [StaffAccountEvent] {
        let query = sql.select().column("*").from("staff_account_events")
        if let before { query.where("custody_index", .lessThan, SQLBind(before)) }
        return try await query.orderBy("custody_index", .descending).limit(limit)
            .all(decoding: StaffAccountEventRow.self).map { row in
                guard let action = StaffAccountEvent.Action(rawValue: row.action) else {
                    throw PersistenceError.corruptRow("staff_account_events \(row.custody_index)")
                }
                return StaffAccountEvent(
                    account: Identifier(row.account_id), action: action, role: row.role.flatMap(StaffRole.init),
                    actor: row.actor, occurredAt: row.occurred_at, custodyIndex: row.custody_index)
            }
    }
}

/// Staff accounts, setup links, sessions and approval requests, written in a unit of work (on its connection,
/// everything batched before written: `FluentUnitOfWork.connection`).
struct FluentStaffRepository: StaffRepository {
    let unit: FluentUnitOfWork
    var cipher: ContactCipher { unit.cipher }

    func insert(_ account: StaffAccount) async throws {
        let sql = try await unit.connection()
        let row = try cipher.row(of: account)
        struct Found: Decodable { var id: UUID }
        if try await sql.select().column("id").from("staff_accounts").where("email", .equal, SQLBind(row.email))
            .first(decoding: Found.self) != nil
        {
            throw StaffError.emailTaken
        }
        try await sql.insert(into: "staff_accounts").model(row).run()
    }

    func update(_ account: StaffAccount) async throws {
        let sql = try await unit.connection()
        let row = try cipher.row(of: account)
        try await sql.update("staff_accounts")
            .set("role", to: SQLBind(row.role)).set("receiving_office", to: SQLBind(row.receiving_office))
            .set("is_active", to: SQLBind(row.is_active)).set("password_hash", to: SQLBind(row.password_hash))
            .set("totp_secret", to: SQLBind(row.totp_secret)).set("recovery_codes", to: SQLBind(row.recovery_codes))
            .where("id", .equal, SQLBind(row.id)).run()
    }

    func startSignIns(of account: Identifier<StaffAccount>, lastTOTPStep: Int64) async throws {
        let sql = try await unit.connection()
        try await sql.update("staff_accounts").set("failed_attempts", to: SQLBind(0))
            .set("locked_until", to: SQLLiteral.null).set("last_totp_step", to: SQLBind(lastTOTPStep))
            .where("id", .equal, SQLBind(account.rawValue)).run()
    }

    func insert(_ link: StaffSetupLink) async throws {
        let sql = try await unit.connection()
        try await sql.insert(into: "staff_setup_links")
            .columns("token_hash", "account_id", "expires_at", "partner_hash")
            .values(
                SQLBind(link.tokenHash), SQLBind(link.account.rawValue), SQLBind(link.expiresAt),
                SQLBind(link.partnerCodeHash)
            ).run()
    }

    func claimSetupLink(tokenHash: String, now: Date) async throws -> Bool {
        let sql = try await unit.connection()
        struct Claimed: Decodable { var token_hash: String }
        return try await sql.update("staff_setup_links").set("used_at", to: SQLBind(now))
            .where("token_hash", .equal, SQLBind(tokenHash)).where("used_at", .is, SQLLiteral.null)
            .where("expires_at", .greaterThan, SQLBind(now))
            .returning("token_hash").all(decoding: Claimed.self).count == 1
    }

    func revokeSetupLinks(of account: Identifier<StaffAccount>) async throws {
        let sql = try await unit.connection()
        try await sql.update("staff_setup_links").set("expires_at", to: SQLBind(Date(timeIntervalSince1970: 0)))
            .where("account_id", .equal, SQLBind(account.rawValue)).where("used_at", .is, SQLLiteral.null).run()
    }

    func deleteSessions(of account: Identifier<StaffAccount>) async throws {
        let sql = try await unit.connection()
        try await sql.delete(from: "staff_sessions").where("account_id", .equal, SQLBind(account.rawValue)).run()
    }

    func insert(_ request: StaffApprovalRequest) async throws {
        let sql = try await unit.connection()
        try await sql.insert(into: "staff_approval_requests").model(StaffApprovalRequestRow(request)).run()
    }

    func decide(
        _ request: Identifier<StaffApprovalRequest>, by administrator: Identifier<StaffAccount>, approved: Bool,
        at time: Date
    ) async throws -> Bool {
        let sql = try await unit.connection()
        struct Decided: Decodable { var id: UUID }
        return try await sql.update("staff_approval_requests").set("decided_at", to: SQLBind(time))
            .set("decided_by", to: SQLBind(administrator.rawValue)).set("approved", to: SQLBind(approved))
            .where("id", .equal, SQLBind(request.rawValue)).where("decided_at", .is, SQLLiteral.null)
            .where("expires_at", .greaterThan, SQLBind(time))
            .returning("id").all(decoding: Decided.self).count == 1
    }

    func record(_ event: StaffAccountEvent) async throws {
        let sql = try await unit.connection()
        let receipt = try await unit.custodyLog.append(event.custodyEvent)
        try await sql.insert(into: "staff_account_events")
            .model(
                StaffAccountEventRow(
                    custody_index: receipt.index, account_id: event.account.rawValue, action: event.action.rawValue,
                    role: event.role?.rawValue, actor: event.actor, occurred_at: event.occurredAt)
            ).run()
    }

    /// Runs one conditional UPDATE (`RETURNING id`, on SQLite and PostgreSQL alike); whether it changed the row.
    private func changed(_ update: (any SQLDatabase) -> SQLUpdateBuilder) async throws -> Bool {
        struct Changed: Decodable { var id: UUID }
        return try await update(try await unit.connection()).returning("id").all(decoding: Changed.self).count == 1
    }

    func reserveSignInAttempt(of account: Identifier<StaffAccount>, limit: Int, lockUntil: Date, now: Date)
        async throws -> Bool
    {
        let id = account.rawValue
        let sql = try await unit.connection()
        try await sql.update("staff_accounts").set("failed_attempts", to: SQLBind(0))
            .set("locked_until", to: SQLLiteral.null)
            .where("id", .equal, SQLBind(id)).where("locked_until", .lessThanOrEqual, SQLBind(now)).run()
        struct Changed: Decodable { var id: UUID }
        // SET expressions read the row as it was: the attempt that takes the count to the limit sets the lock.
        return try await sql.update("staff_accounts")
            .set("failed_attempts", to: SQLRaw("failed_attempts + 1"))
            .set(
                "locked_until",
                to: SQLQueryString(
                    "CASE WHEN failed_attempts + 1 >= \(bind: Int64(limit)) THEN \(bind: lockUntil) ELSE locked_until END"
                )
            )
            .where("id", .equal, SQLBind(id)).where("failed_attempts", .lessThan, SQLBind(Int64(limit)))
            .returning("id").all(decoding: Changed.self).count == 1
    }

    func releaseSignInAttempt(of account: Identifier<StaffAccount>) async throws {
        _ = try await changed { sql in
            sql.update("staff_accounts").set("failed_attempts", to: SQLRaw("failed_attempts - 1"))
                .set("locked_until", to: SQLLiteral.null)
                .where("id", .equal, SQLBind(account.rawValue)).where("failed_attempts", .greaterThan, SQLBind(0))
        }
    }

    func resetSignInAttempts(of account: Identifier<StaffAccount>) async throws {
        _ = try await changed { sql in
            sql.update("staff_accounts").set("failed_attempts", to: SQLBind(0)).set("locked_until", to: SQLLiteral.null)
                .where("id", .equal, SQLBind(account.rawValue))
        }
    }

    func acceptTOTPStep(_ step: Int64, of account: Identifier<StaffAccount>) async throws -> Bool {
        try await changed { sql in
            sql.update("staff_accounts").set("last_totp_step", to: SQLBind(step))
                .where("id", .equal, SQLBind(account.rawValue))
                .where(group: {
                    $0.where("last_totp_step", .is, SQLLiteral.null).orWhere("last_totp_step", .lessThan, SQLBind(step))
                })
        }
    }

    func consumeRecoveryCode(_ hash: String, of account: Identifier<StaffAccount>) async throws -> Bool {
        struct Row: Decodable { var recovery_codes: String }
        // Compare and swap on the whole list: a racing request that used another code makes this one read again.
        for _ in 0..<8 {
            guard
                let stored = try await unit.connection().select().column("recovery_codes").from("staff_accounts")
                    .where("id", .equal, SQLBind(account.rawValue)).first(decoding: Row.self)?.recovery_codes,
                var codes = try? JSONDecoder().decode([String].self, from: Data(stored.utf8)),
                let index = codes.firstIndex(of: hash)
            else { return false }
            codes.remove(at: index)
            let remaining = CanonicalJSON.array(codes)
            if try await changed({ sql in
                sql.update("staff_accounts").set("recovery_codes", to: SQLBind(remaining))
                    .where("id", .equal, SQLBind(account.rawValue)).where("recovery_codes", .equal, SQLBind(stored))
            }) {
                return true
            }
        }
        return false
    }

    func insert(_ session: StaffSession) async throws {
        let sql = try await unit.connection()
        try await sql.insert(into: "staff_sessions")
            .model(
                StaffSessionRow(
                    token_hash: session.tokenHash, account_id: session.accountID.rawValue,
                    stage: session.stage.rawValue, created_at: session.createdAt, last_seen_at: session.lastSeenAt)
            ).run()
    }

    func update(_ session: StaffSession) async throws {
        let sql = try await unit.connection()
        try await sql.update("staff_sessions")
            .set("last_seen_at", to: SQLBind(session.lastSeenAt)).set("stage", to: SQLBind(session.stage.rawValue))
            .where("token_hash", .equal, SQLBind(session.tokenHash)).run()
    }

    func deleteSession(tokenHash: String) async throws {
        let sql = try await unit.connection()
        try await sql.delete(from: "staff_sessions")
            .where("token_hash", .equal, SQLBind(tokenHash)).run()
    }
}

extension FluentReportStore {
    /// Reports in `statuses`, newest first: the triage queue.
    public func reports(in statuses: [TriageStatus], limit: Int) async throws -> [Report] {
        let records = try await ReportRecord.query(on: database())
            .filter(\.$status ~~ statuses.map(\.rawValue))
            .filter(\.$isSample == false)
            .sort(\.$receivedAt, .descending)
            .limit(limit)
            .all()
        return try records.map { try ReportMapping.report(from: $0, cipher: cipher) }
    }
}
