import Crypto
import Foundation

/// SHA-256 helpers shared by the domain: follow-up code hashes and record content hashes.
public enum ContentHash {
    /// Lower-case hexadecimal SHA-256 of `data`.
    public static func sha256Hex<D: DataProtocol>(_ data: D) -> String {
        hex(SHA256.hash(data: data))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Lower-case hexadecimal of `bytes` (on a hot path: `String(format:)` per byte costs microseconds).
    public static func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var characters: [UInt8] = []
        characters.reserveCapacity(64)
        for byte in bytes {
            characters.append(hexDigits[Int(byte >> 4)])
            characters.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// Lower-case hexadecimal SHA-256 of the UTF-8 bytes of `string`.
    public static func sha256Hex(_ string: String) -> String {
        sha256Hex(Data(string.utf8))
    }

    /// Compares two strings in time that depends only on their lengths, for secrets and their hashes.
    public static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices {
            difference |= left[index] ^ right[index]
        }
        return difference == 0
    }
}

/// RFC 8785 member order: keys compared by their UTF-16 code units.
enum RFC8785 {
    static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        // For ASCII keys (all of Attest's), UTF-8 byte order is UTF-16 order, and comparing bytes allocates nothing.
        if lhs.utf8.allSatisfy({ $0 < 0x80 }) && rhs.utf8.allSatisfy({ $0 < 0x80 }) {
            return lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
        }
        return Array(lhs.utf16).lexicographicallyPrecedes(Array(rhs.utf16))
    }
}

/// Deterministic JSON for hashing: sorted keys, no insignificant whitespace, dates as RFC 3339 UTC seconds.
public enum CanonicalJSON {
    /// Encodes `value` canonically.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        return try encoder.encode(value)
    }

    /// A JSON string literal as RFC 8785 writes it: `"` and `\\` escaped, control characters as `\\b \\t \\n
    /// \\f \\r` or `\\u00xx`, everything else as it is.
    public static func quoted(_ string: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(string.utf8.count + 2)
        appendQuoted(string, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends `string` as `quoted(_:)` writes it, as UTF-8. Byte by byte is scalar by scalar here: every
    /// character escaped is ASCII, and no byte of a multi-byte UTF-8 sequence is.
    public static func appendQuoted(_ string: String, to output: inout [UInt8]) {
        var string = string
        string.withUTF8 { bytes in
            output.append(UInt8(ascii: "\""))
            defer { output.append(UInt8(ascii: "\"")) }
            // Most strings need no escape: copy them whole (on every submission).
            if !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                output.append(contentsOf: bytes)
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
                case 0x08: output.append(contentsOf: #"\b"#.utf8)
                case 0x09: output.append(contentsOf: #"\t"#.utf8)
                case 0x0A: output.append(contentsOf: #"\n"#.utf8)
                case 0x0C: output.append(contentsOf: #"\f"#.utf8)
                case 0x0D: output.append(contentsOf: #"\r"#.utf8)
                case 0..<0x20: output.append(contentsOf: ("\\u00" + ContentHash.hex([byte])).utf8)
                default: output.append(byte)
                }
            }
        }
    }

    /// A JSON object of string members, keys sorted as RFC 8785 sorts them (by UTF-16 code units), without
    /// going through `JSONEncoder` (on the submission hot path).
    public static func object(_ members: [(key: String, value: String)]) -> String {
        let sorted = members.sorted { RFC8785.precedes($0.key, $1.key) }
        return "{" + sorted.map { quoted($0.key) + ":" + quoted($0.value) }.joined(separator: ",") + "}"
    }

    /// A JSON array of strings.
    public static func array(_ strings: [String]) -> String {
        "[" + strings.map(quoted).joined(separator: ",") + "]"
    }
}

/// SHA-256 and SHA-512 of a stream of bytes, with its length: how evidence is fingerprinted.
public struct FileHasher: Sendable {
    public private(set) var sha256 = SHA256()
    public private(set) var sha512 = SHA512()
    public private(set) var count: Int64 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        sha256.update(bufferPointer: bytes)
        sha512.update(bufferPointer: bytes)
        count += Int64(bytes.count)
    }

    /// Lower-case hex digests and the byte count.
    public func finalize() -> (sha256: String, sha512: String, size: Int64) {
        (ContentHash.hex(sha256.finalize()), ContentHash.hex(sha512.finalize()), count)
    }
}
