import Foundation

/// One custody log entry as it is hashed and stored: RFC 8785 canonical JSON of
/// `{"actor","nonce","record","sha256","time","type","v"}`; `evidence.ingested` entries add the file's
/// `media` type, `size` and `source`. Verifiers hash its exact bytes; Attest parses it
/// back only to re-hash the record it names.
public struct CustodyEntry: Equatable, Sendable {
    /// The entry format's version.
    public static let version = 1
    /// The largest entry, in bytes (an entry bundle prefixes each entry with a 16-bit length).
    public static let maxBytes = 65_535

    public var kind: String
    /// RFC 3339 UTC, whole seconds.
    public var time: String
    public var actor: String
    public var recordID: String
    /// Lower-case hex SHA-256 of the record's canonical content.
    public var contentHash: String
    /// 32 random bytes, base64: makes leaf hashes of low-entropy entries impossible to confirm by guessing.
    public var nonce: String
    /// The file's size, detected type and source (`evidence.ingested` only).
    public var details: CustodyEvent.Details?

    /// Why an entry could not be made or read.
    public enum Error: Swift.Error, Equatable {
        case tooLarge(bytes: Int)
        case unreadable(String)
    }

    /// The entry for `event`, with `nonce` (32 bytes).
    public init(event: CustodyEvent, nonce: [UInt8]) {
        kind = event.kind.rawValue
        time = RFC3339.string(from: event.occurredAt)
        actor = event.actor
        recordID = event.recordID
        contentHash = event.contentHash
        self.nonce = Data(nonce).base64EncodedString()
        details = event.details
    }

    /// Parses stored entry bytes. Entries written before the Merkle log name the kind `kind` and carry no `v`.
    public init(json: Data) throws {
        struct Wire: Decodable {
            var type: String?
            var kind: String?
            var time: String
            var actor: String
            var record: String
            var sha256: String
            var nonce: String
            var media: String?
            var size: Int64?
            var source: String?
        }
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: json)
        } catch {
            throw Error.unreadable("not a custody entry object")
        }
        guard let kind = wire.type ?? wire.kind else { throw Error.unreadable("no type") }
        self.kind = kind
        time = wire.time
        actor = wire.actor
        recordID = wire.record
        contentHash = wire.sha256
        nonce = wire.nonce
        if let media = wire.media, let size = wire.size, let source = wire.source {
            details = .init(size: size, mediaType: media, source: source)
        }
    }

    /// The fields verification needs — type, record and content hash — read without a JSON decoder when the
    /// entry is flat and holds no escape sequences (see `essentialRanges(in:)`); otherwise, or when a field is
    /// missing, through the full parser. `nil` if the entry is not a custody entry.
    public static func essentials(of json: String) -> (kind: String, recordID: String, contentHash: String)? {
        var json = json
        let fast = json.withUTF8 { bytes -> (String, String, String)? in
            let raw = UnsafeRawBufferPointer(bytes)
            guard let ranges = essentialRanges(in: raw) else { return nil }
            func text(_ range: Range<Int>) -> String {
                String(decoding: UnsafeRawBufferPointer(rebasing: raw[range]), as: UTF8.self)
            }
            return (text(ranges.kind), text(ranges.recordID), text(ranges.contentHash))
        }
        if let fast { return fast }
        guard let entry = try? CustodyEntry(json: Data(json.utf8)) else { return nil }
        return (entry.kind, entry.recordID, entry.contentHash)
    }

    /// Where an entry's `type`, `record` and `sha256` string values lie in its bytes.
    public struct EssentialRanges: Equatable, Sendable {
        public var kind: Range<Int>
        public var recordID: Range<Int>
        public var contentHash: Range<Int>
    }

    /// The essential fields' places, found in one pass over a flat object (`{"key":value,…}`, no whitespace, as
    /// canonical JSON writes it) holding no backslash — then a quote can only open or close a key or a string, so
    /// no value can pass for a key. `nil` otherwise (escapes, nesting, a missing field): the caller then uses the
    /// full parser. Verification reads every entry of the log this way.
    public static func essentialRanges(in bytes: UnsafeRawBufferPointer) -> EssentialRanges? {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), close = UInt8(ascii: "}")
        guard let base = bytes.baseAddress, bytes.count >= 2, bytes[0] == UInt8(ascii: "{"),
            memchr(base, Int32(UInt8(ascii: "\\")), bytes.count) == nil
        else { return nil }
        let count = bytes.count
        func nextQuote(from offset: Int) -> Int? {
            guard offset < count, let found = memchr(base + offset, Int32(quote), count - offset) else { return nil }
            return UnsafeRawPointer(found) - base
        }
        var kind: Range<Int>?
        var record: Range<Int>?
        var hash: Range<Int>?
        var offset = 1
        while offset < count, bytes[offset] == quote {
            // Keys are a few letters: a loop beats a `memchr` call.
            var keyEnd = offset + 1
            while keyEnd < count, bytes[keyEnd] != quote { keyEnd += 1 }
            guard keyEnd + 1 < count, bytes[keyEnd + 1] == UInt8(ascii: ":") else { return nil }
            let key = UnsafeRawBufferPointer(rebasing: bytes[(offset + 1)..<keyEnd])
            var next = keyEnd + 2
            if next < count, bytes[next] == quote {
                guard let valueEnd = nextQuote(from: next + 1) else { return nil }
                let value = (next + 1)..<valueEnd
                func isKey(_ name: StaticString) -> Bool {
                    key.count == name.utf8CodeUnitCount
                        && memcmp(key.baseAddress!, name.utf8Start, key.count) == 0
                }
                if isKey("type") {
                    kind = value
                } else if isKey("record") {
                    record = value
                } else if isKey("sha256") {
                    hash = value
                }
                next = valueEnd + 1
            } else {
                // A number or literal: up to the next comma or the end (an object or array is not flat).
                while next < count, bytes[next] != comma, bytes[next] != close {
                    guard bytes[next] != UInt8(ascii: "{"), bytes[next] != UInt8(ascii: "[") else { return nil }
                    next += 1
                }
            }
            guard next < count else { return nil }
            if bytes[next] == close { break }
            guard bytes[next] == comma else { return nil }
            offset = next + 1
        }
        guard let kind, let record, let hash else { return nil }
        return EssentialRanges(kind: kind, recordID: record, contentHash: hash)
    }

    /// The canonical JSON text; throws when it would exceed `maxBytes`.
    public func canonicalJSON() throws -> String {
        // Written directly, members already in RFC 8785 order (appended on every custody entry; the
        // general `JSONValue` writer sorts members at run time). A test checks it equals `JSONValue`'s output.
        var text = #"{"actor":"#
        text.reserveCapacity(200 + recordID.utf8.count + actor.utf8.count)
        text += CanonicalJSON.quoted(actor)
        if let details { text += #","media":"# + CanonicalJSON.quoted(details.mediaType) }
        text += #","nonce":"# + CanonicalJSON.quoted(nonce)
        text += #","record":"# + CanonicalJSON.quoted(recordID)
        text += #","sha256":"# + CanonicalJSON.quoted(contentHash)
        if let details {
            text += #","size":"# + String(details.size) + #","source":"# + CanonicalJSON.quoted(details.source)
        }
        text += #","time":"# + CanonicalJSON.quoted(time)
        text += #","type":"# + CanonicalJSON.quoted(kind)
        text += #","v":"# + String(Self.version) + "}"
        guard text.utf8.count <= Self.maxBytes else { throw Error.tooLarge(bytes: text.utf8.count) }
        return text
    }
}
