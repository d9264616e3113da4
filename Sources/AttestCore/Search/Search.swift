import Foundation

/// What a search can find.
public enum SearchKind: String, Codable, CaseIterable, Sendable {
    case report
    case incident
    case caseFile = "case_file"

    /// The permission needed to see results of this kind.
    public var permission: StaffPermission {
        switch self {
        case .report: .viewReport
        case .incident: .viewIncidents
        case .caseFile: .viewCaseFiles
        }
    }
}

/// A staff search, parsed: words matched as prefixes (all must occur), or a reference looked up directly.
/// Search terms are personal data in the making (names, plates): they are never logged or stored.
public struct SearchQuery: Equatable, Sendable {
    public enum Problem: Error, Equatable, Sendable {
        /// Nothing searchable: no word of at least `minimumTermLength` letters or digits.
        case noTerms(minimum: Int)
        /// Longer than `maximumLength` characters.
        case tooLong(max: Int)
        /// More than `maximumTerms` words.
        case tooManyTerms(max: Int)
        case controlCharacters
    }

    /// Limits on a query.
    public struct Limits: Equatable, Sendable {
        public var maximumLength: Int
        public var maximumTerms: Int
        public var minimumTermLength: Int

        public init(maximumLength: Int = 200, maximumTerms: Int = 8, minimumTermLength: Int = 2) {
            self.maximumLength = maximumLength
            self.maximumTerms = maximumTerms
            self.minimumTermLength = minimumTermLength
        }
    }

    /// Lower-cased words of letters and digits only: safe to hand to FTS5 and `to_tsquery` as they are.
    public var terms: [String]

    /// Longest word of letters only matched as the start of a word; longer ones match whole words. Prefix
    /// matching of a common long word means merging its whole posting list (30 ms at a million reports), while
    /// short fragments have prefix indexes and anything with a digit (a plate or badge fragment) is rare enough.
    public static let longestPrefixWord = 4

    /// Whether `term` matches the start of words (otherwise whole words), per `longestPrefixWord`.
    public static func matchesAsPrefix(_ term: String) -> Bool {
        term.unicodeScalars.count <= longestPrefixWord
            || term.unicodeScalars.contains { $0.properties.numericType == .decimal }
    }
    /// Set when the whole query is a report, incident or case file reference.
    public var reference: String?

    public init(_ text: String, limits: Limits = Limits()) throws(Problem) {
        guard text.count <= limits.maximumLength else { throw .tooLong(max: limits.maximumLength) }
        guard !TextRules.hasControlCharacters(text, multiline: false) else { throw .controlCharacters }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let reference = ReportReference(trimmed)?.description ?? IncidentReference(trimmed)?.description
            ?? CaseFileReference(trimmed)?.description
        {
            self.reference = reference
            terms = []
            return
        }
        reference = nil
        var words: [String] = []
        var current = ""
        for scalar in trimmed.lowercased().unicodeScalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType == .decimal
                || scalar.properties.generalCategory == .nonspacingMark
            {
                current.unicodeScalars.append(scalar)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        var seen = Set<String>()
        terms = words.filter { $0.count >= limits.minimumTermLength && seen.insert($0).inserted }
        guard !terms.isEmpty else { throw .noTerms(minimum: limits.minimumTermLength) }
        guard terms.count <= limits.maximumTerms else { throw .tooManyTerms(max: limits.maximumTerms) }
    }
}

/// A record as someone was shown it: what a `record.viewed` entry names.
public struct ViewedRecord: Hashable, Sendable {
    /// `report:R-…`, `report:R-…/message:…`, `incident:INC-…`, a case file part's record id.
    public var recordID: String
    /// Lower-case hex SHA-256 of the record's canonical content, as its custody entries hash it.
    public var contentHash: String

    public init(recordID: String, contentHash: String) {
        self.recordID = recordID
        self.contentHash = contentHash
    }
}

/// One thing found.
public struct SearchHit: Equatable, Sendable {
    public var kind: SearchKind
    /// `R-…`, `INC-…` or `CF-…`.
    public var reference: String
    /// A few words around the match.
    public var excerpt: String
    /// The record the excerpt was cut from: a report's content, one message of its thread, an incident, one part
    /// of a case file. Nil when that record is gone (only a change behind the application's back does that).
    public var source: ViewedRecord?

    public init(kind: SearchKind, reference: String, excerpt: String, source: ViewedRecord?) {
        self.kind = kind
        self.reference = reference
        self.excerpt = excerpt
        self.source = source
    }
}

/// Full-text search over reports (narrative, place, identifiers, thread), incidents (place, operation,
/// summary) and case file parts (never their sealed personal data, nor any `CaseFilePartBody.restrictedFields`).
/// Newest first.
public protocol SearchIndex: Sendable {
    func search(_ query: SearchQuery, kinds: Set<SearchKind>, limit: Int) async throws -> [SearchHit]
}
