import Foundation

/// One problem with one field of a submission. The field is a path such as `narrative` or `agents[1].badge`;
/// the web layer turns the problem into a stable code and a localized message.
public struct ValidationIssue: Equatable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Problem: Equatable, Sendable {
        /// A required value is missing.
        case required
        /// Only spaces or invisible characters.
        case blank
        /// Longer than the limit, in characters.
        case tooLong(max: Int)
        /// Contains control characters or NUL bytes.
        case controlCharacters
        /// Not in the expected format (a date, time, number, e-mail address or phone number).
        case malformed
        /// A date or time that cannot exist, e.g. 30 February.
        case impossibleDate
        /// Later than now (beyond the clock-skew tolerance).
        case inFuture
        /// Earlier than the earliest year accepted.
        case tooOld(earliestYear: Int)
        /// The end of a window is before its start.
        case reversedWindow
        /// The window is longer than allowed.
        case windowTooLong(maxDays: Int)
        /// A number outside its allowed range.
        case outOfRange(min: Double, max: Double)
        /// Coordinates far outside the jurisdiction.
        case outsideJurisdiction
        /// A value not among the allowed ones.
        case unknownValue(String)
        /// More items than allowed.
        case tooMany(max: Int)
        /// The same value given twice.
        case duplicate(String)
        /// Contact chosen, but neither phone nor e-mail given.
        case missingContactMethod
    }

    /// The field's path.
    public var field: String
    /// The problem.
    public var problem: Problem

    public init(_ field: String, _ problem: Problem) {
        self.field = field
        self.problem = problem
    }

    public var description: String { "\(field): \(problem)" }
}

/// A submission that failed validation, with every problem found.
public struct ValidationFailure: Error, Equatable, Sendable {
    /// All problems, in form order.
    public var issues: [ValidationIssue]

    public init(issues: [ValidationIssue]) {
        self.issues = issues
    }
}
