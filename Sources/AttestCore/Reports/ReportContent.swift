import Foundation

/// Yes, no, or not known.
public enum TriState: String, Codable, CaseIterable, Sendable {
    case yes, no, unknown
}

/// How much of an agent's face was covered.
public enum Masking: String, Codable, CaseIterable, Sendable {
    case no, partly, fully
}

/// Who is reporting.
public enum ReporterRole: String, Codable, CaseIterable, Sendable {
    case victim
    case witness
    case familyMember = "family_member"
    case journalist
    case legalObserver = "legal_observer"
    case other
}

/// When the incident happened: an instant or a window, and whether the times are approximate.
public struct Occurrence: Codable, Equatable, Sendable {
    /// Start of the window (or the instant).
    public var start: Date
    /// End of the window; equal to `start` for an instant.
    public var end: Date
    /// Whether the reporter said the times are approximate.
    public var isApproximate: Bool
}

/// Where the incident happened.
public struct IncidentLocation: Codable, Equatable, Sendable {
    /// The reporter's own words.
    public var description: String?
    /// The jurisdiction area, chosen or derived from coordinates.
    public var area: Int?
    /// Coordinates, when the reporter shared them.
    public var coordinate: Coordinate?
}

/// One agent as observed.
public struct AgentDescription: Codable, Equatable, Sendable {
    public var vestText: String?
    public var nameTape: String?
    public var badge: String?
    public var plateState: String?
    public var plateNumber: String?
    public var masked: Masking?
    public var plainClothes: TriState
    public var bodyCamera: TriState
}

/// The agents seen.
public struct AgentsSeen: Codable, Equatable, Sendable {
    /// How many, when the reporter could say.
    public var count: Int?
    /// Agency as seen (a jurisdiction agency code).
    public var agency: String?
    /// Individual descriptions.
    public var descriptions: [AgentDescription]
}

/// Harm to people.
public struct Harm: Codable, Equatable, Sendable {
    public var injuries: TriState
    public var medicalCareNeeded: TriState
    public var medicalCareDeniedOrDelayed: TriState
}

/// What the reporter allows.
public struct Consents: Codable, Equatable, Sendable {
    /// Staff may contact the reporter.
    public var mayContact: Bool
    /// The report may be shared with a prosecutor.
    public var mayShareWithProsecutor: Bool
    /// The report may be counted in anonymous public statistics.
    public var mayCountInStatistics: Bool

    public init(mayContact: Bool, mayShareWithProsecutor: Bool, mayCountInStatistics: Bool) {
        self.mayContact = mayContact
        self.mayShareWithProsecutor = mayShareWithProsecutor
        self.mayCountInStatistics = mayCountInStatistics
    }
}

/// How to reach a reporter who chose to be reachable. Personal data: encrypted at rest.
public struct ContactDetails: Codable, Equatable, Sendable {
    public var name: String?
    public var phone: String?
    public var email: String?
    public var preferredLanguage: String?

    public init(name: String? = nil, phone: String? = nil, email: String? = nil, preferredLanguage: String? = nil) {
        self.name = name
        self.phone = phone
        self.email = email
        self.preferredLanguage = preferredLanguage
    }
}

/// A validated report's content: everything the reporter said, except how to contact them.
/// Its canonical JSON is what the custody log's content hash covers.
public struct ReportContent: Codable, Equatable, Sendable {
    public var occurrence: Occurrence
    public var location: IncidentLocation
    public var narrative: String
    public var categories: [String]
    public var agents: AgentsSeen
    public var harm: Harm
    public var reporterRole: ReporterRole?
    public var consents: Consents
    public var language: String

    /// SHA-256 of the canonical JSON of this content, lower-case hex.
    public func contentHash() throws -> String {
        ContentHash.sha256Hex(canonicalJSON())
    }

    /// What search indexes of a report: the narrative, the place as described, and what the reporter read on
    /// the agents (vest text, name tape, badge, plate), separated by spaces. Never contact details, which are not
    /// part of the content.
    public var searchableText: String {
        var texts = [narrative]
        if let place = location.description { texts.append(place) }
        for agent in agents.descriptions {
            texts += [agent.vestText, agent.nameTape, agent.badge, agent.plateNumber].compactMap { $0 }
        }
        return texts.filter { !$0.isEmpty }.joined(separator: " ")
    }
}
