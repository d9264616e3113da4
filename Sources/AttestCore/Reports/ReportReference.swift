import Foundation

/// What a kind of yearly reference is called: its prefix.
public protocol YearlyReferenceKind: Sendable {
    /// `R`, `INC`, `CF`.
    static var prefix: String { get }
}

/// A record's public reference, `R-2026-000123`, `INC-2026-000045`, `CF-2026-000012`: a prefix naming the kind of
/// record, the year, and a number counting that year, zero-padded to six digits. One type for every kind, so that
/// parsing, formatting and coding are written once; `Kind` keeps a report's reference from being taken for a case
/// file's.
public struct YearlyReference<Kind: YearlyReferenceKind>: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The year.
    public let year: Int
    /// The number within the year.
    public let number: Int

    public init(year: Int, number: Int) {
        self.year = year
        self.number = number
    }

    /// Parses `PREFIX-YYYY-NNNNNN` (case-insensitive, surrounding spaces ignored, 6 to 9 digits, not zero); nil for
    /// anything else.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).uppercased().split(
            separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == Kind.prefix, parts[1].count == 4, (6...9).contains(parts[2].count),
            parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), parts[2].allSatisfy({ $0.isASCII && $0.isNumber }),
            let year = Int(parts[1]), let number = Int(parts[2]), number > 0
        else { return nil }
        self.init(year: year, number: number)
    }

    public var description: String {
        // Not `String(format:)`, which goes through Foundation's locale-aware formatter (every submission
        // formats its reference inside the serial write path).
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value.magnitude)
            return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return Kind.prefix + "-" + padded(year, 4) + "-" + padded(number, 6)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let reference = Self(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad reference"))
        }
        self = reference
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A report's reference, `R-2026-000123`: the year it was received and a number counting that year.
public typealias ReportReference = YearlyReference<ReportReferenceKind>

public enum ReportReferenceKind: YearlyReferenceKind {
    public static let prefix = "R"
}
