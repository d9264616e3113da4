import Foundation

/// What a staff member may do is decided by their role (and, for prosecutors, their receiving office).
public enum StaffRole: String, Codable, Sendable, CaseIterable {
    case intake
    case investigator
    case supervisor
    case prosecutor
    /// Read-only, plus verification.
    case auditor
    case administrator

    /// Granting this role, or resetting an account that holds it, needs a second administrator's approval.
    public var isPrivileged: Bool { self == .supervisor || self == .administrator }
}

/// A person who works in Attest. Every staff account has two-factor authentication.
public struct StaffAccount: Equatable, Sendable {
    public var id: Identifier<StaffAccount>
    /// Lower-case e-mail address: the sign-in name.
    public var email: String
    public var displayName: String
    public var role: StaffRole
    /// The receiving office a prosecutor belongs to (prosecutors only).
    public var receivingOffice: String?
    /// bcrypt hash of the password; nil until the person sets one through their setup link.
    public var passwordHash: String?
    /// The TOTP secret (sealed at rest by the store); nil until two-factor is enrolled.
    public var totpSecret: [UInt8]?
    /// The last TOTP step accepted: a code is never accepted twice.
    public var lastTOTPStep: Int64?
    /// SHA-256 hashes of unused recovery codes.
    public var recoveryCodeHashes: [String]
    /// Sign-in attempts counted against the account (see `StaffStore.reserveSignInAttempt`).
    public var failedAttempts: Int
    /// Until when clients without a trusted-device cookie for this account are refused.
    public var lockedUntil: Date?
    public var isActive: Bool
    public var createdAt: Date

    public init(
        id: Identifier<StaffAccount>, email: String, displayName: String, role: StaffRole, receivingOffice: String?,
        createdAt: Date
    ) {
        self.id = id
        self.email = email
        self.displayName = displayName
        self.role = role
        self.receivingOffice = receivingOffice
        passwordHash = nil
        totpSecret = nil
        lastTOTPStep = nil
        recoveryCodeHashes = []
        failedAttempts = 0
        lockedUntil = nil
        isActive = true
        self.createdAt = createdAt
    }

    /// The pseudonymous actor id written into custody entries: never the name or e-mail.
    public var actorID: String { Self.pseudonym(of: id) }

    /// The pseudonym of an account id: `staff:` and the id's first eight hex digits.
    public static func pseudonym(of id: Identifier<StaffAccount>) -> String {
        "staff:\(String(id.description.prefix(8)))"
    }

    /// Whether the account can sign in (password and two-factor set up, not disabled).
    public var isEnrolled: Bool { passwordHash != nil && totpSecret != nil && isActive }

    public func isLocked(at time: Date) -> Bool { lockedUntil.map { $0 > time } ?? false }
}

/// The rules a new password must meet.
public struct PasswordPolicy: Sendable {
    public var minimumLength = 12
    public var maximumLength = 128

    public init() {}

    public enum Problem: Equatable, Sendable {
        case tooShort(minimum: Int)
        case tooLong(maximum: Int)
        case common
        case containsEmail
    }

    /// The problem with `password` for the account `email`, or nil when it is acceptable.
    public func problem(with password: String, email: String) -> Problem? {
        if password.count < minimumLength { return .tooShort(minimum: minimumLength) }
        if password.count > maximumLength { return .tooLong(maximum: maximumLength) }
        let lowered = password.lowercased()
        let localPart = email.split(separator: "@").first.map { String($0).lowercased() } ?? ""
        if localPart.count >= 4, lowered.contains(localPart) { return .containsEmail }
        if CommonPasswords.contains(lowered) { return .common }
        return nil
    }
}

/// One-time recovery codes for when the authenticator is lost: ten, 50 random bits each, shown once; only their
/// SHA-256 is stored and each works once.
public enum RecoveryCodes {
    public static let count = 10
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    public static func generate(random: any RandomSource) -> [String] {
        (0..<count).map { _ in
            let characters = random.bytes(count: 10).map { alphabet[Int($0 & 31)] }
            return String(characters[0..<5]) + "-" + String(characters[5..<10])
        }
    }

    /// The stored form of a code, as typed (case, spaces and dashes ignored).
    public static func hash(_ typed: String) -> String {
        ContentHash.sha256Hex(typed.uppercased().filter { $0.isLetter || $0.isNumber })
    }
}
