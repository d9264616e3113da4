import Foundation

/// A report's public reference, `R-2026-000123`: the year it was received and a number counting that year.
public struct ReportReference: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The year.
    public let year: Int
    /// The number within the year.
    public let number: Int

    public init(year: Int, number: Int) {
        self.year = year
        self.number = number
    }

    /// Parses `R-YYYY-NNNNNN` (case-insensitive, surrounding spaces ignored); nil for anything else.
    public init?(_ text: String) {
        guard let (year, number) = YearlyReference.parse(text, prefix: "R") else { return nil }
        self.init(year: year, number: number)
    }

    public var description: String { YearlyReference.format(prefix: "R", year: year, number: number) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let reference = ReportReference(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad reference"))
        }
        self = reference
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The shape every yearly reference shares (`R-2026-000123`, `INC-2026-000045`, `CF-2026-000012`): a prefix, the
/// year, and a number counting that year, zero-padded to six digits.
enum YearlyReference {
    static func parse(_ text: String, prefix: String) -> (year: Int, number: Int)? {
        let parts = text.trimmingCharacters(in: .whitespaces).uppercased().split(
            separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == prefix, parts[1].count == 4, (6...9).contains(parts[2].count),
            parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), parts[2].allSatisfy({ $0.isASCII && $0.isNumber }),
            let year = Int(parts[1]), let number = Int(parts[2]), number > 0
        else { return nil }
        return (year, number)
    }

    static func format(prefix: String, year: Int, number: Int) -> String {
        // Not `String(format:)`, which goes through Foundation's locale-aware formatter (every submission
        // formats its reference inside the serial write path).
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value.magnitude)
            return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return prefix + "-" + padded(year, 4) + "-" + padded(number, 6)
    }
}
