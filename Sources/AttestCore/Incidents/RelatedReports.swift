import Foundation

/// Suggests reports that may describe the same event or the same agents as a given report, with the reasons
/// shown to staff: overlapping time, the same area or a short distance, shared identifiers (plate or badge
/// fragments, vest text, unit patch) and similar wording. Staff decide; nothing is merged automatically.
public struct RelatedReports: Sendable {
    /// Reports whose time windows come within this many hours of each other are "at the same time".
    public var hours: Double
    /// Coordinates within this many kilometres are "nearby".
    public var kilometres: Double
    /// Word-set similarity (Jaccard) at or above this is "similar wording".
    public var similarity: Double

    public init(hours: Double = 6, kilometres: Double = 1.5, similarity: Double = 0.3) {
        self.hours = hours
        self.kilometres = kilometres
        self.similarity = similarity
    }

    public enum Reason: Equatable, Hashable, Sendable {
        case sameTime
        case sameArea(Int)
        case nearby(kilometres: Double)
        case sharedPlate(String)
        case sharedBadge(String)
        case sharedVestText(String)
        case similarWording(percent: Int)
    }

    /// What suggestions need of a stored report: its time, status and place, and its profile. Stores read these
    /// columns and the stored profile directly instead of decoding whole reports (a time window may hold a
    /// thousand).
    public struct Candidate: Equatable, Sendable {
        public var id: Identifier<Report>
        public var reference: ReportReference
        public var status: TriageStatus
        public var receivedAt: Date
        public var start: Date
        public var end: Date
        public var area: Int?
        public var profile: Profile

        public init(
            id: Identifier<Report>, reference: ReportReference, status: TriageStatus, receivedAt: Date, start: Date,
            end: Date, area: Int?, profile: Profile
        ) {
            self.id = id
            self.reference = reference
            self.status = status
            self.receivedAt = receivedAt
            self.start = start
            self.end = end
            self.area = area
            self.profile = profile
        }

        public init(_ report: Report) {
            let content = report.content
            self.init(
                id: report.id, reference: report.reference, status: report.status, receivedAt: report.receivedAt,
                start: content.occurrence.start, end: content.occurrence.end, area: content.location.area,
                profile: Profile(content))
        }
    }

    public struct Suggestion: Equatable, Sendable {
        public var report: Candidate
        public var reasons: [Reason]
    }

    /// The window in which candidates are looked for (the store narrows by it before `suggest`).
    public func window(of report: Report) -> ClosedRange<Date> {
        let margin = hours * 3600
        let occurrence = report.content.occurrence
        return occurrence.start.addingTimeInterval(-margin)...occurrence.end.addingTimeInterval(margin)
    }

    /// Candidates with at least one reason besides time, strongest first. Shared identifiers count whatever the
    /// time (agents return); place and wording count only at the same time.
    public func suggest(for report: Report, among candidates: [Report]) -> [Suggestion] {
        suggest(for: report, among: candidates.map(Candidate.init))
    }

    public func suggest(for report: Report, among candidates: [Candidate]) -> [Suggestion] {
        let profile = Profile(report.content)
        let window = window(of: report)
        var suggestions: [Suggestion] = []
        for candidate in candidates where candidate.id != report.id {
            var reasons: [Reason] = []
            let sameTime = candidate.start <= window.upperBound && candidate.end >= window.lowerBound
            if sameTime {
                if let area = report.content.location.area, area == candidate.area {
                    reasons.append(.sameArea(area))
                }
                if let a = profile.coordinate, let b = candidate.profile.coordinate {
                    let distance = Self.kilometres(a, b)
                    if distance <= kilometres { reasons.append(.nearby(kilometres: (distance * 10).rounded() / 10)) }
                }
                let score = profile.similarity(to: candidate.profile)
                if score >= similarity { reasons.append(.similarWording(percent: Int((score * 100).rounded()))) }
            }
            reasons += profile.shared(with: candidate.profile)
            guard !reasons.isEmpty else { continue }
            suggestions.append(Suggestion(report: candidate, reasons: (sameTime ? [.sameTime] : []) + reasons))
        }
        return suggestions.sorted {
            ($0.reasons.count, $1.report.receivedAt) > ($1.reasons.count, $0.report.receivedAt)
        }
    }

    /// One row of the identifier index: a normalised identifier (or, for plates and badges, one of its suffixes,
    /// so that a prefix lookup finds fragments anywhere in it).
    public struct IndexKey: Hashable, Sendable {
        public var kind: String
        public var value: String
        /// Whether `value` is the whole identifier rather than a suffix of it.
        public var isWhole: Bool
    }

    /// Longest identifier indexed with its suffixes, in characters (longer ones are indexed whole only).
    public static let longestIndexedFragment = 16

    /// What a report contributes to the identifier index.
    public static func indexKeys(of content: ReportContent) -> [IndexKey] {
        let identifiers = Identifiers(content)
        var keys: [IndexKey] = []
        for (kind, values) in [("plate", identifiers.plates), ("badge", identifiers.badges)] {
            for value in values.sorted() {
                keys.append(IndexKey(kind: kind, value: value, isWhole: true))
                guard value.count <= longestIndexedFragment else { continue }
                var suffix = Substring(value).dropFirst()
                while suffix.count >= 2 {
                    keys.append(IndexKey(kind: kind, value: String(suffix), isWhole: false))
                    suffix = suffix.dropFirst()
                }
            }
        }
        keys += identifiers.vestTexts.sorted().map { IndexKey(kind: "vest", value: $0, isWhole: true) }
        return keys
    }

    /// How to find, in the identifier index, reports sharing an identifier with `content` at any time: for each
    /// plate or badge, stored suffixes starting with it (it occurs in theirs) and stored whole identifiers that
    /// occur in it; for vest text, the same text.
    public struct IdentifierLookup: Equatable, Sendable {
        public var kind: String
        /// Stored values (suffixes included) starting with this.
        public var prefix: String?
        /// Whole stored values equal to one of these.
        public var wholeValues: [String]
    }

    public static func identifierLookups(of content: ReportContent) -> [IdentifierLookup] {
        let identifiers = Identifiers(content)
        var lookups: [IdentifierLookup] = []
        for (kind, values) in [("plate", identifiers.plates), ("badge", identifiers.badges)] {
            for value in values.sorted() {
                let characters = Array(value.prefix(longestIndexedFragment))
                var substrings = Set<String>()
                for start in characters.indices {
                    for end in (start + 2)...max(start + 2, characters.count) where end <= characters.count {
                        substrings.insert(String(characters[start..<end]))
                    }
                }
                substrings.insert(value)
                lookups.append(IdentifierLookup(kind: kind, prefix: value, wholeValues: substrings.sorted()))
            }
        }
        lookups += identifiers.vestTexts.sorted().map {
            IdentifierLookup(kind: "vest", prefix: nil, wholeValues: [$0])
        }
        return lookups
    }

    /// Observed identifiers, normalised: upper case, letters and digits only.
    struct Identifiers {
        var plates: Set<String> = []
        var badges: Set<String> = []
        var vestTexts: Set<String> = []

        init(_ content: ReportContent) {
            for agent in content.agents.descriptions {
                if let plate = agent.plateNumber.map(Self.normalise), plate.count >= 2 { plates.insert(plate) }
                if let badge = agent.badge.map(Self.normalise), badge.count >= 2 { badges.insert(badge) }
                if let vest = agent.vestText.map(Self.normalise), vest.count >= 3 { vestTexts.insert(vest) }
            }
        }

        static func normalise(_ text: String) -> String {
            TextFolding.words(text).joined().filter(\.isASCII).uppercased()
        }
    }

    /// Words of four letters or more, lower case, accents folded — as 64-bit hashes of their folded scalars
    /// (FNV-1a), which is all a Jaccard score needs and spares building a string per word: a time window may
    /// hold a thousand narratives. Two different words colliding is a 2⁻⁶⁴ event per pair.
    static func words(_ text: String) -> Set<UInt64> {
        var words = Set<UInt64>()
        TextFolding.forEachWord(in: text) { hash, length in
            if length >= 4 { words.insert(hash) }
        }
        return words
    }

    /// Great-circle distance (haversine), in kilometres.
    static func kilometres(_ a: Coordinate, _ b: Coordinate) -> Double {
        let radians = Double.pi / 180
        let dLat = (b.latitude - a.latitude) * radians
        let dLon = (b.longitude - a.longitude) * radians
        let h =
            sin(dLat / 2) * sin(dLat / 2)
            + cos(a.latitude * radians) * cos(b.latitude * radians) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * 6371 * asin(min(1, sqrt(h)))
    }
}
