import Foundation

/// An observed identifier that recurs across incidents: the first step toward seeing agents who move between
/// operations.
public struct IdentifierPattern: Equatable, Sendable {
    public enum Kind: String, Sendable {
        case plate
        case badge
        case vestText = "vest_text"
    }

    public var kind: Kind
    /// The identifier, normalised (upper case, letters and digits).
    public var value: String
    public var incidents: [IncidentReference]

    public init(kind: Kind, value: String, incidents: [IncidentReference]) {
        self.kind = kind
        self.value = value
        self.incidents = incidents
    }
}

public enum Patterns {
    /// Identifiers seen in the reports of two or more incidents, most widespread first. A fragment seen in one
    /// incident and the full identifier in another count as the same (the shorter one is listed).
    public static func recurring(_ incidents: [(IncidentReference, [ReportContent])]) -> [IdentifierPattern] {
        var seen: [IdentifierPattern.Kind: [String: Set<IncidentReference>]] = [:]
        for (reference, contents) in incidents {
            for content in contents {
                let identifiers = RelatedReports.Identifiers(content)
                for plate in identifiers.plates { seen[.plate, default: [:]][plate, default: []].insert(reference) }
                for badge in identifiers.badges { seen[.badge, default: [:]][badge, default: []].insert(reference) }
                for vest in identifiers.vestTexts {
                    seen[.vestText, default: [:]][vest, default: []].insert(reference)
                }
            }
        }
        var patterns: [IdentifierPattern] = []
        for (kind, values) in seen {
            for (value, references) in values {
                var all = references
                if kind != .vestText {
                    // A longer identifier containing this fragment is the same agent's, as far as anyone can tell.
                    for (other, more) in values where other != value && other.contains(value) { all.formUnion(more) }
                    if values.keys.contains(where: { $0 != value && value.contains($0) }) { continue }
                }
                guard all.count >= 2 else { continue }
                patterns.append(
                    IdentifierPattern(
                        kind: kind, value: value,
                        incidents: all.sorted { ($0.year, $0.number) < ($1.year, $1.number) }))
            }
        }
        return patterns.sorted { ($0.incidents.count, $1.value) > ($1.incidents.count, $0.value) }
    }
}
