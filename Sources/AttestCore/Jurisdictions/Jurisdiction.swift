import Foundation

/// Labels for one term in each language a jurisdiction speaks, e.g. `["en": "Physical force", "es": "Fuerza física"]`.
public struct LocalizedLabel: Codable, Equatable, Sendable {
    /// Label text by language code.
    public var byLanguage: [String: String]

    /// Creates a label from text keyed by language code.
    public init(_ byLanguage: [String: String]) {
        self.byLanguage = byLanguage
    }

    public init(from decoder: any Decoder) throws {
        byLanguage = try decoder.singleValueContainer().decode([String: String].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(byLanguage)
    }

    /// The label in `language`, falling back to `fallback`, then to any label at all.
    public func text(in language: String, fallback: String) -> String {
        byLanguage[language] ?? byLanguage[fallback] ?? byLanguage.values.sorted().first ?? ""
    }
}

/// A place that runs Attest: its languages, time zone, allegation taxonomy, agencies, geography, receiving
/// offices and publication rules. Nothing about any one city is written in code; it is all in this value.
public struct Jurisdiction: Sendable {
    /// One allegation category of the jurisdiction's taxonomy.
    public struct Category: Codable, Equatable, Sendable {
        /// Stable code, e.g. `physical_force`.
        public var code: String
        /// Label per language.
        public var labels: LocalizedLabel
        /// Whether reports in this category go to the front of the triage queue.
        public var isPriority: Bool

        enum CodingKeys: String, CodingKey {
            case code, labels
            case isPriority = "priority"
        }

        public init(code: String, labels: LocalizedLabel, isPriority: Bool = false) {
            self.code = code
            self.labels = labels
            self.isPriority = isPriority
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            code = try container.decode(String.self, forKey: .code)
            labels = try container.decode(LocalizedLabel.self, forKey: .labels)
            isPriority = try container.decodeIfPresent(Bool.self, forKey: .isPriority) ?? false
        }
    }

    /// A federal agency as a witness may name it.
    public struct Agency: Codable, Equatable, Sendable {
        /// Stable code, e.g. `ice`.
        public var code: String
        /// Label per language.
        public var labels: LocalizedLabel
    }

    /// An office that receives referrals, e.g. a county State's Attorney.
    public struct ReceivingOffice: Codable, Equatable, Sendable {
        /// Stable code.
        public var code: String
        /// The office's name.
        public var name: String
        /// What kind of office it is, e.g. `county_prosecutor`.
        public var kind: String
    }

    /// The rules for public, aggregate statistics.
    public struct PublicationRules: Codable, Equatable, Sendable {
        /// Days after a month ends before its figures may be published.
        public var delayDays: Int
        /// Counts from 1 up to this number are suppressed.
        public var suppressCountsUpTo: Int
    }

    /// Stable code, e.g. `chicago`.
    public var code: String
    /// The jurisdiction's name per language.
    public var name: LocalizedLabel
    /// The time zone in which residents give local dates and times.
    public var timeZone: TimeZone
    /// The language used when no other can be negotiated.
    public var defaultLanguage: String
    /// Languages offered to residents, in display order.
    public var languages: [String]
    /// The allegation taxonomy.
    public var categories: [Category]
    /// Agencies a witness may name.
    public var agencies: [Agency]
    /// The areas a reported place is assigned to.
    public var geography: Geography
    /// Offices that receive referrals.
    public var receivingOffices: [ReceivingOffice]
    /// Rules for public statistics.
    public var publication: PublicationRules

    public init(
        code: String, name: LocalizedLabel, timeZone: TimeZone, defaultLanguage: String, languages: [String],
        categories: [Category], agencies: [Agency], geography: Geography, receivingOffices: [ReceivingOffice],
        publication: PublicationRules
    ) {
        self.code = code
        self.name = name
        self.timeZone = timeZone
        self.defaultLanguage = defaultLanguage
        self.languages = languages
        self.categories = categories
        self.agencies = agencies
        self.geography = geography
        self.receivingOffices = receivingOffices
        self.publication = publication
    }

    /// Whether `code` is one of this jurisdiction's allegation categories.
    public func hasCategory(_ code: String) -> Bool { categories.contains { $0.code == code } }

    /// Whether `code` is one of this jurisdiction's agencies.
    public func hasAgency(_ code: String) -> Bool { agencies.contains { $0.code == code } }
}
