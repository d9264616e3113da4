import Foundation

/// Strict parsing and formatting of RFC 3339 timestamps and of the local dates and times a form sends.
///
/// Foundation's formatters are lenient (they roll 30 February over into March), so the components are
/// parsed by hand and every one of them is checked against the calendar.
public enum RFC3339 {
    /// A calendar date as written in a form: `YYYY-MM-DD`.
    public struct LocalDate: Equatable, Sendable {
        public var year: Int
        public var month: Int
        public var day: Int
    }

    /// A wall-clock time as written in a form: `HH:MM` or `HH:MM:SS`.
    public struct LocalTime: Equatable, Sendable {
        public var hour: Int
        public var minute: Int
        public var second: Int
    }

    /// The outcome of parsing: a value, text that is not in the expected format, or a date that cannot exist.
    public enum Outcome<Value: Sendable>: Sendable {
        case value(Value)
        case malformed
        case impossible
    }

    /// Formats `date` as `YYYY-MM-DDTHH:MM:SSZ`.
    /// (Arithmetic on the proleptic Gregorian calendar rather than `Calendar` and `String(format:)`: this runs
    /// several times per submission.)
    public static func string(from date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDaysSinceEpoch: days)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2) + ":"
            + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2) + "Z"
    }

    /// Year, month and day of a count of days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    static func civil(fromDaysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPart = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPart + 2) / 5 + 1
        let month = monthPart < 10 ? monthPart + 3 : monthPart - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Parses `YYYY-MM-DD`.
    public static func parseDate(_ text: String) -> Outcome<LocalDate> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = digits(parts[0]), let month = digits(parts[1]), let day = digits(parts[2])
        else { return .malformed }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), year >= 1 else {
            return .impossible
        }
        return .value(LocalDate(year: year, month: month, day: day))
    }

    /// Parses `HH:MM` or `HH:MM:SS`.
    public static func parseTime(_ text: String) -> Outcome<LocalTime> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ $0.count == 2 }),
            let hour = digits(parts[0]), let minute = digits(parts[1])
        else { return .malformed }
        let second = parts.count == 3 ? digits(parts[2]) : 0
        guard let second else { return .malformed }
        guard hour < 24, minute < 60, second < 60 else { return .impossible }
        return .value(LocalTime(hour: hour, minute: minute, second: second))
    }

    /// A JSON decoder whose dates are RFC 3339 timestamps with an offset (`parseTimestamp`), as Attest's canonical
    /// JSON writes them; anything else is `DecodingError.dataCorrupted`.
    public static func jsonDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard case .value(let date) = parseTimestamp(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: text))
            }
            return date
        }
        return decoder
    }

    /// Parses a full RFC 3339 timestamp with an offset, e.g. `2026-11-20T14:30:00-06:00`.
    public static func parseTimestamp(_ text: String) -> Outcome<Date> {
        let scalars = Array(text.utf8)
        guard scalars.count >= 20, scalars[10] == UInt8(ascii: "T") || scalars[10] == UInt8(ascii: "t") else {
            return .malformed
        }
        let datePart = String(decoding: scalars[0..<10], as: UTF8.self)
        let timePart = String(decoding: scalars[11..<19], as: UTF8.self)
        var rest = scalars[19...]
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst()
            let fractionDigits = rest.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard !fractionDigits.isEmpty, fractionDigits.count <= 9 else { return .malformed }
            rest = rest.dropFirst(fractionDigits.count)
        }
        let offsetSeconds: Int
        if rest.count == 1, rest.first == UInt8(ascii: "Z") || rest.first == UInt8(ascii: "z") {
            offsetSeconds = 0
        } else if rest.count == 6, rest.first == UInt8(ascii: "+") || rest.first == UInt8(ascii: "-") {
            let offsetText = String(decoding: rest.dropFirst(), as: UTF8.self)
            let offsetParts = offsetText.split(separator: ":", omittingEmptySubsequences: false)
            guard offsetParts.count == 2, offsetParts[0].count == 2, offsetParts[1].count == 2,
                let hours = digits(offsetParts[0]), let minutes = digits(offsetParts[1])
            else { return .malformed }
            guard hours < 24, minutes < 60 else { return .impossible }
            offsetSeconds = (hours * 3600 + minutes * 60) * (rest.first == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return .malformed
        }
        guard timePart.utf8.count == 8 else { return .malformed }
        let date: LocalDate
        switch parseDate(datePart) {
        case .value(let parsed): date = parsed
        case .malformed: return .malformed
        case .impossible: return .impossible
        }
        let time: LocalTime
        switch parseTime(timePart) {
        case .value(let parsed): time = parsed
        case .malformed: return .malformed
        case .impossible: return .impossible
        }
        // Foundation's limit for a time zone's offset, which this parser kept when it built one.
        guard abs(offsetSeconds) <= 18 * 3_600 else { return .impossible }
        // A fixed offset has no skipped hours: the instant is arithmetic (`Calendar` cost 2 % of a submission).
        let days = daysSinceEpoch(year: date.year, month: date.month, day: date.day)
        let seconds = days * 86_400 + time.hour * 3_600 + time.minute * 60 + time.second - offsetSeconds
        return .value(Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`), the inverse of
    /// `civil(fromDaysSinceEpoch:)`.
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The instant a local date and time denote in `zone`, or nil when that wall-clock time does not exist
    /// there (the hour skipped when clocks go forward).
    public static func instant(date: LocalDate, time: LocalTime, in zone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let components = DateComponents(
            year: date.year, month: date.month, day: date.day,
            hour: time.hour, minute: time.minute, second: time.second
        )
        guard let instant = calendar.date(from: components) else { return nil }
        let roundTrip = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: instant)
        guard roundTrip.year == date.year, roundTrip.month == date.month, roundTrip.day == date.day,
            roundTrip.hour == time.hour, roundTrip.minute == time.minute, roundTrip.second == time.second
        else { return nil }
        return instant
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func digits(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int(text)
    }
}

extension Date {
    /// This instant without fractions of a second (what custody entries and RFC 3339 strings carry).
    public var wholeSeconds: Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.down)) }
}
