import Foundation

/// A subject agent's pseudonymous code, `SA-0001`: one number per deployment, never reused.
public struct SubjectAgentCode: Hashable, Sendable, CustomStringConvertible {
    public let number: Int

    public init(number: Int) { self.number = number }

    /// Parses `SA-NNNN` (four or more digits, case-insensitive); nil for anything else.
    public init?(_ text: String) {
        let upper = text.uppercased()
        guard upper.hasPrefix("SA-") else { return nil }
        let digits = upper.dropFirst(3)
        guard (4...9).contains(digits.count), digits.allSatisfy(\.isASCII), let number = Int(digits), number > 0
        else { return nil }
        self.number = number
    }

    public var description: String {
        let digits = String(number)
        return "SA-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

/// One federal agent as observed, under a pseudonymous code. The real identity, when a supervisor attaches one,
/// is personal data: sealed at rest and left out of the content hash.
public struct SubjectAgent: Codable, Equatable, Sendable {
    /// Agency as claimed or observed (a jurisdiction agency code).
    public var agency: String?
    public var vestText: String?
    public var nameTape: String?
    public var badge: String?
    public var unitPatch: String?
    public var plate: String?
    public var vehicle: String?
    public var masked: Masking?
    public var plainClothes: TriState
    public var bodyCamera: TriState
    public var isSupervisor: TriState
    /// What happened when credentials were asked for (shown, refused, not asked…).
    public var credentialCheck: String?
    /// Why a supervisor attached an identity, who did and when; the identity itself is sealed.
    public var identityReason: String?
    public var identityAttachedBy: String?
    public var identityAttachedAt: Date?

    public init() {
        plainClothes = .unknown
        bodyCamera = .unknown
        isSupervisor = .unknown
    }

    /// The identifiers observed, for patterns and search.
    public var observedIdentifiers: [String] {
        [vestText, nameTape, badge, unitPatch, plate].compactMap { $0 }
    }
}

/// What a person was in the incident: the same roles a reporter can have.
public typealias PersonRole = ReporterRole

/// A person involved, kept minimal: a role, a non-identifying description and, sealed, how to reach them.
public struct InvolvedPerson: Codable, Equatable, Sendable {
    public var label: String
    public var role: PersonRole
    public var description: String?
    /// The report they made, if any (`R-2026-000123`).
    public var report: String?
    /// Whether sealed contact details exist.
    public var hasContact: Bool

    public init(label: String, role: PersonRole) {
        self.label = label
        self.role = role
        hasContact = false
    }
}

/// The kind of warrant shown, if any: only a judicial warrant authorises entry into a home without consent.
public enum WarrantKind: String, Codable, CaseIterable, Sendable {
    case judicial
    /// Form I-200, an administrative arrest warrant.
    case administrativeI200 = "administrative_i200"
    /// Form I-205, an administrative removal warrant.
    case administrativeI205 = "administrative_i205"
    case none
    case unknown
}

/// An investigative finding (the city cannot discipline federal agents).
public enum Finding: String, Codable, CaseIterable, Sendable {
    case open
    case substantiatedReferred = "substantiated_referred"
    case notSubstantiated = "not_substantiated"
    case unfounded
    case lawfulAuthorized = "lawful_authorized"
    case subjectUnidentified = "subject_unidentified"
    case administrativelyClosed = "administratively_closed"
    case referredOther = "referred_other"
}

/// The standard of proof a finding was made under.
public enum StandardOfProof: String, Codable, CaseIterable, Sendable {
    case preponderance
    case clearAndConvincing = "clear_and_convincing"
    case beyondReasonableDoubt = "beyond_reasonable_doubt"
}

/// One alleged act by one or more subjects against one or more persons, with the facts that decide legality.
public struct Allegation: Codable, Equatable, Sendable {
    /// A jurisdiction allegation category code.
    public var category: String
    public var subjects: [SubjectAgentCode.Stored]
    public var persons: [UUID]
    public var summary: String?
    // Authority facts.
    public var warrantShown: TriState
    public var warrantKind: WarrantKind
    public var consentToEntry: TriState
    public var statedPurpose: String?
    // Findings: the investigator recommends, a supervisor decides.
    public var recommendedFinding: Finding
    public var finalFinding: Finding
    public var standardOfProof: StandardOfProof
    public var decidedBy: String?

    public init(category: String) {
        self.category = category
        subjects = []
        persons = []
        warrantShown = .unknown
        warrantKind = .unknown
        consentToEntry = .unknown
        recommendedFinding = .open
        finalFinding = .open
        standardOfProof = .preponderance
    }
}

extension SubjectAgentCode {
    /// How an allegation stores a subject: its code's number.
    public typealias Stored = Int
}

/// A staff note on a case file.
public struct CaseNote: Codable, Equatable, Sendable {
    public var text: String
    public init(text: String) { self.text = text }
}

/// A task on a case file, optionally assigned to a staff member.
public struct CaseTask: Codable, Equatable, Sendable {
    public var title: String
    public var assignee: UUID?
    /// Due date, `YYYY-MM-DD` in the jurisdiction's time zone.
    public var due: String?
    public var isDone: Bool

    public init(title: String) {
        self.title = title
        isDone = false
    }
}

/// One entry of the case file's chronology of the incident, as established by the investigation.
public struct TimelineEvent: Codable, Equatable, Sendable {
    public var occurredAt: Date
    public var text: String
    public init(occurredAt: Date, text: String) {
        self.occurredAt = occurredAt
        self.text = text
    }
}

/// The parts a case file is built from.
public enum CaseFilePartBody: Equatable, Sendable {
    case subject(SubjectAgent)
    case person(InvolvedPerson)
    case allegation(Allegation)
    case note(CaseNote)
    case task(CaseTask)
    case event(TimelineEvent)

    public enum Kind: String, Codable, CaseIterable, Sendable {
        case subject, person, allegation, note, task, event
    }

    public var kind: Kind {
        switch self {
        case .subject: .subject
        case .person: .person
        case .allegation: .allegation
        case .note: .note
        case .task: .task
        case .event: .event
        }
    }

    /// The body as canonical JSON (RFC 8785), the form it is stored and hashed in.
    public func canonicalJSON() throws -> Data {
        switch self {
        case .subject(let value): try CanonicalJSON.encode(value)
        case .person(let value): try CanonicalJSON.encode(value)
        case .allegation(let value): try CanonicalJSON.encode(value)
        case .note(let value): try CanonicalJSON.encode(value)
        case .task(let value): try CanonicalJSON.encode(value)
        case .event(let value): try CanonicalJSON.encode(value)
        }
    }

    public static func decode(kind: Kind, json: Data) throws -> CaseFilePartBody {
        let decoder = RFC3339.jsonDecoder()
        return switch kind {
        case .subject: .subject(try decoder.decode(SubjectAgent.self, from: json))
        case .person: .person(try decoder.decode(InvolvedPerson.self, from: json))
        case .allegation: .allegation(try decoder.decode(Allegation.self, from: json))
        case .note: .note(try decoder.decode(CaseNote.self, from: json))
        case .task: .task(try decoder.decode(CaseTask.self, from: json))
        case .event: .event(try decoder.decode(TimelineEvent.self, from: json))
        }
    }
}

/// One part of a case file: a subject agent, person, allegation, note, task or timeline event. Personal data
/// (a subject's identity, a person's contact details) is kept apart in `sealed`, encrypted by the store.
public struct CaseFilePart: Equatable, Sendable {
    public var id: Identifier<CaseFilePart>
    public var caseFile: CaseFileReference
    /// The subject agent's code number (subjects only).
    public var number: Int?
    public var body: CaseFilePartBody
    /// Personal data in plain text while in memory: a subject's identity or a person's contact (JSON).
    public var sealed: String?
    /// The pseudonymous actor id of who added it.
    public var author: String
    public var createdAt: Date

    public init(
        id: Identifier<CaseFilePart>, caseFile: CaseFileReference, number: Int? = nil, body: CaseFilePartBody,
        sealed: String? = nil, author: String, createdAt: Date
    ) {
        self.id = id
        self.caseFile = caseFile
        self.number = number
        self.body = body
        self.sealed = sealed
        self.author = author
        self.createdAt = createdAt
    }

    /// `subject:SA-0001` for subjects (an agent is one record across case files), otherwise
    /// `case-file:CF-…/<kind>:<id>`.
    public var recordID: String {
        if case .subject = body, let number { return "subject:\(SubjectAgentCode(number: number))" }
        return "\(caseFileRecordID)/\(body.kind.rawValue):\(id)"
    }

    public var caseFileRecordID: String { "case-file:\(caseFile)" }

    /// SHA-256 of the part's canonical content (without the sealed personal data, whose hash could be reversed
    /// by enumerating phone numbers or names), for its custody entries.
    public var contentHash: String {
        let body = (try? body.canonicalJSON()).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return ContentHash.sha256Hex(
            CanonicalJSON.object([
                ("body", body), ("caseFile", caseFile.description), ("kind", self.body.kind.rawValue),
                ("number", number.map(String.init) ?? ""),
            ]))
    }
}
