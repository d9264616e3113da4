import Foundation

/// A signed-in staff member's session, each request: it is valid while neither its idle time nor its absolute
/// lifetime has run out, and its account is still enrolled and active; its last use is refreshed at most once a
/// minute; signing out ends it, or every session of the account.
public struct StaffSessions: Sendable {
    /// How often a session's last use is written, in seconds.
    public static let refreshInterval: TimeInterval = 60

    public var store: any StaffStore
    public var clock: any Clock
    /// Seconds without a request after which a session ends.
    public var idle: TimeInterval
    /// Seconds after sign-in after which a session ends, whatever its use.
    public var absolute: TimeInterval

    public init(store: any StaffStore, clock: any Clock, idle: TimeInterval, absolute: TimeInterval) {
        self.store = store
        self.clock = clock
        self.idle = idle
        self.absolute = absolute
    }

    /// The signed-in session whose token is `token`, and its account; nil when there is none, or it ended (an
    /// expired session is deleted).
    public func current(token: String) async throws -> (session: StaffSession, account: StaffAccount)? {
        let now = clock.now()
        guard var session = try await store.session(tokenHash: ContentHash.sha256Hex(token)),
            session.stage == .signedIn
        else { return nil }
        guard session.isValid(at: now, idle: idle, absolute: absolute) else {
            let expired = session.tokenHash
            try await store.staffTransaction { try await $0.deleteSession(tokenHash: expired) }
            return nil
        }
        guard let account = try await store.account(id: session.accountID), account.isEnrolled else { return nil }
        if now.timeIntervalSince(session.lastSeenAt) >= Self.refreshInterval {
            session.lastSeenAt = now
            let refreshed = session
            try await store.staffTransaction { try await $0.update(refreshed) }
        }
        return (session, account)
    }

    /// Ends one session.
    public func signOut(_ session: StaffSession) async throws {
        let tokenHash = session.tokenHash
        try await store.staffTransaction { try await $0.deleteSession(tokenHash: tokenHash) }
    }

    /// Ends every session of an account ("sign out everywhere").
    public func signOutEverywhere(_ account: Identifier<StaffAccount>) async throws {
        try await store.staffTransaction { try await $0.deleteSessions(of: account) }
    }
}
