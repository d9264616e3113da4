import Foundation

/// Request bodies of the JSON API, parsed strictly as RFC 8259 says: no trailing commas, no comments, no leading
/// zeros, no unescaped control characters in strings, no lone surrogates, nothing after the value but white space
/// (a UTF-8 byte order mark before it is skipped). Anything else is malformed, wherever it is in the document,
/// including in members Attest does not read.
///
/// Why not `JSONDecoder`: it cost 8 % of a submission's CPU time, and it is lenient where a strict API should not
/// be (it accepts trailing commas, and leaves members it does not read unchecked). The mapping from a parsed
/// document to an input type (`JSONFields`) keeps its contract otherwise: a value of the wrong JSON type names its
/// field, `null` is an absent optional, no coercion, the first of duplicate members counts. `StrictJSONTests`
/// compare both on generated documents.
enum StrictJSON {
    /// A parsed JSON value. Objects keep their members in document order.
    /// (`Sendable` is stated: Swift 6.3 reports a circular reference when it infers it for this recursive type.)
    indirect enum Value: Sendable {
        case null
        case bool(Bool)
        case number(Double)
        case string(String)
        case array([Value])
        case object([(String, Value)])

        var isNull: Bool {
            if case .null = self { return true }
            return false
        }
    }

    /// The body is not JSON.
    struct Malformed: Error {}

    /// Arrays and objects nested deeper than this are refused as malformed (`JSONDecoder`'s limit too).
    static let maxDepth = 512

    static func parse(_ bytes: [UInt8]) throws -> Value {
        try bytes.withUnsafeBufferPointer { buffer in
            var parser = Parser(bytes: buffer)
            if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { parser.index = 3 }
            let value = try parser.value(depth: 0)
            parser.skipWhiteSpace()
            guard parser.index == buffer.count else { throw Malformed() }
            return value
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func skipWhiteSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        /// The next byte after white space, not consumed.
        mutating func peek() throws -> UInt8 {
            skipWhiteSpace()
            guard index < bytes.count else { throw Malformed() }
            return bytes[index]
        }

        mutating func expect(_ byte: UInt8) throws {
            guard try peek() == byte else { throw Malformed() }
            index += 1
        }

        mutating func value(depth: Int) throws -> Value {
            switch try peek() {
            case UInt8(ascii: "{"):
                guard depth < StrictJSON.maxDepth else { throw Malformed() }
                index += 1
                var members: [(String, Value)] = []
                if try peek() == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                }
                while true {
                    guard try peek() == UInt8(ascii: "\"") else { throw Malformed() }
                    let key = try string()
                    try expect(UInt8(ascii: ":"))
                    members.append((key, try value(depth: depth + 1)))
                    switch try peek() {
                    case UInt8(ascii: ","): index += 1
                    case UInt8(ascii: "}"):
                        index += 1
                        return .object(members)
                    default: throw Malformed()
                    }
                }
            case UInt8(ascii: "["):
                guard depth < StrictJSON.maxDepth else { throw Malformed() }
                index += 1
                var elements: [Value] = []
                if try peek() == UInt8(ascii: "]") {
                    index += 1
                    return .array(elements)
                }
                while true {
                    elements.append(try value(depth: depth + 1))
                    switch try peek() {
                    case UInt8(ascii: ","): index += 1
                    case UInt8(ascii: "]"):
                        index += 1
                        return .array(elements)
                    default: throw Malformed()
                    }
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default: return .number(try number())
            }
        }

        mutating func literal(_ text: StaticString, _ value: Value) throws -> Value {
            let count = text.utf8CodeUnitCount
            guard index + count <= bytes.count,
                UnsafeBufferPointer(rebasing: bytes[index..<index + count]).elementsEqual(
                    UnsafeBufferPointer(start: text.utf8Start, count: count))
            else { throw Malformed() }
            index += count
            return value
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, as a finite `Double`; a non-zero number too small
        /// for one is refused as `JSONDecoder` refuses it.
        mutating func number() throws -> Double {
            let start = index
            func digits() -> Int {
                let first = index
                while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
                return index - first
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, (0x30...0x39).contains(bytes[index]) else { throw Malformed() }
            let integerStart = index
            let integerDigits = digits()
            guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { throw Malformed() }
            var mantissaIsZero = bytes[integerStart..<index].allSatisfy { $0 == UInt8(ascii: "0") }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                let fractionStart = index
                guard digits() > 0 else { throw Malformed() }
                mantissaIsZero = mantissaIsZero && bytes[fractionStart..<index].allSatisfy { $0 == UInt8(ascii: "0") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    index += 1
                }
                guard digits() > 0 else { throw Malformed() }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            guard let value = Double(text), value.isFinite, value != 0 || mantissaIsZero else { throw Malformed() }
            return value
        }

        /// A string starting at the opening quote.
        mutating func string() throws -> String {
            index += 1
            let start = index
            // Most strings have no escape: one scan, one copy.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    defer { index += 1 }
                    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                }
                if byte == UInt8(ascii: "\\") { break }
                guard byte >= 0x20 else { throw Malformed() }
                index += 1
            }
            var scalars = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: scalars, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw Malformed() }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                    case UInt8(ascii: "b"): scalars.append(0x08)
                    case UInt8(ascii: "f"): scalars.append(0x0C)
                    case UInt8(ascii: "n"): scalars.append(0x0A)
                    case UInt8(ascii: "r"): scalars.append(0x0D)
                    case UInt8(ascii: "t"): scalars.append(0x09)
                    case UInt8(ascii: "u"):
                        var unit = try hex4()
                        if (0xDC00...0xDFFF).contains(unit) { throw Malformed() }
                        if (0xD800...0xDBFF).contains(unit) {
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                                bytes[index + 1] == UInt8(ascii: "u")
                            else { throw Malformed() }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw Malformed() }
                            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(unit) else { throw Malformed() }
                        scalars.append(contentsOf: UTF8.encode(scalar)!)
                    default: throw Malformed()
                    }
                default:
                    guard byte >= 0x20 else { throw Malformed() }
                    scalars.append(byte)
                }
            }
            throw Malformed()
        }

        mutating func hex4() throws -> UInt32 {
            guard index + 4 <= bytes.count else { throw Malformed() }
            var value: UInt32 = 0
            for byte in bytes[index..<index + 4] {
                let digit: UInt8
                switch byte {
                case 0x30...0x39: digit = byte - 0x30
                case 0x41...0x46: digit = byte - 0x41 + 10
                case 0x61...0x66: digit = byte - 0x61 + 10
                default: throw Malformed()
                }
                value = value << 4 | UInt32(digit)
            }
            index += 4
            return value
        }
    }
}

/// The members of a JSON object being read into an input type, with the path that names them in errors
/// (`agents.descriptions[0].masked`). Reading follows `JSONDecoder`'s contract for optionals: an absent member or
/// `null` is nil; a value of another JSON type is `WrongType`, never coerced.
struct JSONFields {
    /// A member's value has the wrong JSON type (or an array element is null): `path` names it.
    struct WrongType: Error {
        var path: String
    }

    /// A required member is missing or null.
    struct Missing: Error {
        var path: String
    }

    let members: [(String, StrictJSON.Value)]
    let path: String

    /// The top-level object of a body: anything else is malformed, as `JSONDecoder` has it.
    init(document: StrictJSON.Value) throws {
        guard case .object(let members) = document else { throw StrictJSON.Malformed() }
        self.members = members
        path = ""
    }

    private init(members: [(String, StrictJSON.Value)], path: String) {
        self.members = members
        self.path = path
    }

    private func path(of key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The first member named `key` that is not null.
    private func value(_ key: String) -> StrictJSON.Value? {
        guard let (_, value) = members.first(where: { $0.0 == key }), !value.isNull else { return nil }
        return value
    }

    /// The member `key` as `extract` reads it; a value it refuses is `WrongType`.
    private func read<T>(_ key: String, _ extract: (StrictJSON.Value) -> T?) throws -> T? {
        guard let value = value(key) else { return nil }
        guard let typed = extract(value) else { throw WrongType(path: path(of: key)) }
        return typed
    }

    func string(_ key: String) throws -> String? {
        try read(key) { if case .string(let text) = $0 { text } else { nil } }
    }

    func bool(_ key: String) throws -> Bool? {
        try read(key) { if case .bool(let flag) = $0 { flag } else { nil } }
    }

    func number(_ key: String) throws -> Double? {
        try read(key) { if case .number(let number) = $0 { number } else { nil } }
    }

    func object(_ key: String) throws -> JSONFields? {
        try read(key) {
            if case .object(let members) = $0 { JSONFields(members: members, path: path(of: key)) } else { nil }
        }
    }

    /// An array of strings; a null or non-string element is `WrongType` at its index.
    func strings(_ key: String) throws -> [String]? {
        try elements(key).map { elements in
            try elements.map { element, path in
                guard case .string(let text) = element else { throw WrongType(path: path) }
                return text
            }
        }
    }

    /// An array of objects, each read by `read` in turn (so the first problem in document order is the one
    /// reported); a null or non-object element is `WrongType` at its index.
    func objects<T>(_ key: String, _ read: (JSONFields) throws -> T) throws -> [T]? {
        try elements(key).map { elements in
            try elements.map { element, path in
                guard case .object(let members) = element else { throw WrongType(path: path) }
                return try read(JSONFields(members: members, path: path))
            }
        }
    }

    private func elements(_ key: String) throws -> [(StrictJSON.Value, String)]? {
        let base = path(of: key)
        return try read(key) { if case .array(let elements) = $0 { elements } else { nil } }?
            .enumerated().map { ($1, "\(base)[\($0)]") }
    }
}

/// An API input read from a JSON body with `JSONFields`.
protocol JSONFieldsDecodable {
    init(fields: JSONFields) throws
}
