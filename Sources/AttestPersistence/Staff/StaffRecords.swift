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

/// The staff store on the same database (and, on SQLite, the same single writer) as reports.
extension FluentReportStore: StaffStore {
    private var sql: any SQLDatabase { database() as! any SQLDatabase }

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

    func row(of account: StaffAccount) throws -> StaffAccountRow {
        StaffAccountRow(
            id: account.id.rawValue, email: account.email, display_name: account.displayName,
            role: account.role.rawValue, receiving_office: account.receivingOffice,
            password_hash: account.passwordHash,
            totp_secret: try account.totpSecret.map {
                try cipher.seal(bytes: Data($0), recordID: "staff:\(account.id.rawValue.uuidString)")
            },
            last_totp_step: account.lastTOTPStep,
            recovery_codes: CanonicalJSON.array(account.recoveryCodeHashes),
            failed_attempts: Int64(account.failedAttempts), locked_until: account.lockedUntil,
            is_active: account.isActive, created_at: account.createdAt)
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

    public func insert(_ account: StaffAccount) async throws {
        let row = try row(of: account)
        try await write { database in
            let sql = database as! any SQLDatabase
            struct Found: Decodable { var id: UUID }
            if try await sql.select().column("id").from("staff_accounts").where("email", .equal, SQLBind(row.email))
                .first(decoding: Found.self) != nil
            {
                throw StaffError.emailTaken
            }
            try await sql.insert(into: "staff_accounts").model(row).run()
        }
    }

    public func update(_ account: StaffAccount) async throws {
        let row = try row(of: account)
        try await write { database in
            try await (database as! any SQLDatabase).update("staff_accounts").set(model: row)
                .where("id", .equal, SQLBind(row.id)).run()
        }
    }

    public func insertSetupLink(tokenHash: String, account: Identifier<StaffAccount>, expiresAt: Date) async throws {
        try await write { database in
            try await (database as! any SQLDatabase).insert(into: "staff_setup_links")
                .columns("token_hash", "account_id", "expires_at")
                .values(SQLBind(tokenHash), SQLBind(account.rawValue), SQLBind(expiresAt)).run()
        }
    }

    public func setupLink(tokenHash: String, now: Date) async throws -> Identifier<StaffAccount>? {
        struct Row: Decodable {
            var account_id: UUID
            var expires_at: Date
            var used_at: Date?
        }
        guard
            let row = try await sql.select().columns("account_id", "expires_at", "used_at").from("staff_setup_links")
                .where("token_hash", .equal, SQLBind(tokenHash)).first(decoding: Row.self),
            row.used_at == nil, row.expires_at > now
        else { return nil }
        return Identifier(row.account_id)
    }

    public func useSetupLink(tokenHash: String) async throws {
        try await write { database in
            try await (database as! any SQLDatabase).update("staff_setup_links").set("used_at", to: SQLBind(Date()))
                .where("token_hash", .equal, SQLBind(tokenHash)).run()
        }
    }

    public func insert(_ session: StaffSession) async throws {
        try await write { database in
            try await (database as! any SQLDatabase).insert(into: "staff_sessions")
                .model(
                    StaffSessionRow(
                        token_hash: session.tokenHash, account_id: session.accountID.rawValue,
                        stage: session.stage.rawValue, created_at: session.createdAt, last_seen_at: session.lastSeenAt)
                ).run()
        }
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

    public func update(_ session: StaffSession) async throws {
        try await write { database in
            try await (database as! any SQLDatabase).update("staff_sessions")
                .set("last_seen_at", to: SQLBind(session.lastSeenAt)).set("stage", to: SQLBind(session.stage.rawValue))
                .where("token_hash", .equal, SQLBind(session.tokenHash)).run()
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await write { database in
            try await (database as! any SQLDatabase).delete(from: "staff_sessions")
                .where("token_hash", .equal, SQLBind(tokenHash)).run()
        }
    }

    public func deleteSessions(of account: Identifier<StaffAccount>) async throws {
        try await write { database in
            try await (database as! any SQLDatabase).delete(from: "staff_sessions")
                .where("account_id", .equal, SQLBind(account.rawValue)).run()
        }
    }

    public func recordSignIn(of account: StaffAccount, at time: Date) async throws {
        let whole = time.wholeSeconds
        _ = try await transaction { unit in
            try await unit.custodyLog.append(
                CustodyEvent(
                    kind: .staffSignedIn, occurredAt: whole, actor: account.actorID,
                    recordID: "staff-account:\(account.id)",
                    contentHash: ContentHash.sha256Hex("\(account.id)|\(RFC3339.string(from: whole))")))
        }
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
