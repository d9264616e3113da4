import AttestCore
import Foundation
import Testing

@Suite("Staff: TOTP, passwords, roles")
struct StaffCoreTests {
    static let vectors: [(Int, String, String, String)] = [
        (59, "94287082", "46119246", "90693936"),
        (1_111_111_109, "07081804", "68084774", "25091201"),
        (1_111_111_111, "14050471", "67062674", "99943326"),
        (1_234_567_890, "89005924", "91819424", "93441116"),
        (2_000_000_000, "69279037", "90698825", "38618901"),
        (20_000_000_000, "65353130", "77737706", "47863826"),
    ]

    @Test("TOTP reproduces every RFC 6238 test vector (SHA-1, SHA-256, SHA-512, 8 digits)")
    func rfc6238() {
        let sha1 = TOTP(secret: Array("12345678901234567890".utf8), algorithm: .sha1, digits: 8)
        let sha256 = TOTP(secret: Array("12345678901234567890123456789012".utf8), algorithm: .sha256, digits: 8)
        let sha512 = TOTP(
            secret: Array("1234567890123456789012345678901234567890123456789012345678901234".utf8),
            algorithm: .sha512, digits: 8)
        for (time, one, two, five) in Self.vectors {
            let date = Date(timeIntervalSince1970: TimeInterval(time))
            #expect(sha1.code(at: date) == one, "SHA-1 at \(time)")
            #expect(sha256.code(at: date) == two, "SHA-256 at \(time)")
            #expect(sha512.code(at: date) == five, "SHA-512 at \(time)")
        }
    }

    @Test("A code matches within one step of drift, never with other digits or a wrong length")
    func matching() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        let now = Date(timeIntervalSince1970: 1_234_567_890)
        let step = totp.step(at: now)
        #expect(totp.matchingStep(totp.code(at: now), at: now) == step)
        #expect(totp.matchingStep(totp.code(step: step - 1), at: now) == step - 1)
        #expect(totp.matchingStep(totp.code(step: step + 1), at: now) == step + 1)
        #expect(totp.matchingStep(totp.code(step: step - 2), at: now) == nil)
        for typed in ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "123 45"] {
            #expect(totp.matchingStep(typed, at: now) == nil, "\(typed)")
        }
        let spaced = totp.code(at: now).enumerated().map { "\($1)" + ($0 == 2 ? " " : "") }.joined()
        #expect(totp.matchingStep(spaced, at: now) == step)
    }

    @Test("Base32 round-trips and the provisioning URI carries secret, issuer and parameters")
    func base32() {
        let bytes: [UInt8] = Array("12345678901234567890".utf8)
        #expect(Base32.encode(bytes) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        #expect(Base32.decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") == bytes)
        #expect(Base32.decode("not base32!") == nil)
        let uri = TOTP(secret: bytes).provisioningURI(issuer: "Attest chicago", account: "ana@city.gov")
        #expect(
            uri
                == "otpauth://totp/Attest%20chicago%3Aana%40city.gov?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Attest%20chicago&algorithm=SHA1&digits=6&period=30"
        )
    }

    @Test("Passwords: length, common passwords and patterns, and the e-mail address are refused")
    func passwords() {
        let policy = PasswordPolicy()
        let email = "maria.lopez@chicago.gov"
        #expect(policy.problem(with: "short", email: email) == .tooShort(minimum: 12))
        #expect(policy.problem(with: String(repeating: "x", count: 129), email: email) == .tooLong(maximum: 128))
        for common in ["Password1234", "qwertyuiop12", "aaaaaaaaaaaa", "abcabcabcabc", "123456789012", "abcdefghijklm"]
        {
            #expect(policy.problem(with: common, email: email) == .common, "\(common)")
        }
        #expect(policy.problem(with: "x-Maria.Lopez-2026", email: email) == .containsEmail)
        #expect(policy.problem(with: "violet tram umbrella 47", email: email) == nil)
        #expect(policy.problem(with: "çalışkan kedi 2026", email: email) == nil)
    }

    @Test("Roles hold exactly the permissions of the policy table (full matrix)")
    func policyTable() {
        let expected: [StaffRole: Set<StaffPermission>] = [
            .intake: [
                .viewWorkspace, .viewTriage, .viewReport, .viewContact, .triageReports, .viewIncidents,
                .downloadEvidence, .search,
            ],
            .investigator: [
                .viewWorkspace, .viewTriage, .viewReport, .viewContact, .triageReports, .viewIncidents,
                .manageIncidents, .viewCaseFiles, .manageCaseFiles, .downloadEvidence, .viewPatterns, .search,
            ],
            .supervisor: [
                .viewWorkspace, .viewTriage, .viewReport, .viewContact, .triageReports, .viewIncidents,
                .manageIncidents, .viewCaseFiles, .manageCaseFiles, .downloadEvidence, .viewPatterns, .verifyLog,
                .attachIdentity, .decideFindings, .search,
            ],
            .prosecutor: [.viewWorkspace],
            .auditor: [
                .viewWorkspace, .viewTriage, .viewReport, .viewIncidents, .viewCaseFiles, .downloadEvidence,
                .viewPatterns, .verifyLog, .search, .viewAccountActivity,
            ],
            .administrator: [.viewWorkspace, .manageAccounts, .viewAccountActivity, .verifyLog],
        ]
        for role in StaffRole.allCases {
            for permission in StaffPermission.allCases {
                #expect(
                    StaffPolicy.allows(role, permission) == (expected[role]?.contains(permission) ?? false),
                    "\(role) × \(permission)")
            }
        }
    }

    @Test("Sessions end after the idle time, the absolute time, or five minutes before the second factor")
    func sessions() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var session = StaffSession(tokenHash: "h", accountID: Identifier(UUID()), stage: .signedIn, createdAt: start)
        #expect(session.isValid(at: start.addingTimeInterval(1_799), idle: 1_800, absolute: 43_200))
        #expect(!session.isValid(at: start.addingTimeInterval(1_800), idle: 1_800, absolute: 43_200))
        session.lastSeenAt = start.addingTimeInterval(43_000)
        #expect(!session.isValid(at: start.addingTimeInterval(43_200), idle: 1_800, absolute: 43_200))
        let half = StaffSession(
            tokenHash: "h", accountID: Identifier(UUID()), stage: .awaitingSecondFactor, createdAt: start)
        #expect(half.isValid(at: start.addingTimeInterval(299), idle: 1_800, absolute: 43_200))
        #expect(!half.isValid(at: start.addingTimeInterval(300), idle: 1_800, absolute: 43_200))
    }

    @Test("Recovery codes: ten, distinct, hashed ignoring case, spaces and dashes")
    func recoveryCodes() {
        let codes = RecoveryCodes.generate(random: SystemRandomSource())
        #expect(codes.count == 10 && Set(codes).count == 10)
        #expect(codes.allSatisfy { $0.wholeMatch(of: /[0-9A-Z]{5}-[0-9A-Z]{5}/) != nil })
        let code = codes[0]
        #expect(
            RecoveryCodes.hash(code.lowercased().replacingOccurrences(of: "-", with: " ")) == RecoveryCodes.hash(code))
    }
}
