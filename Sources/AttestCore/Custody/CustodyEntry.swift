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
    /// entry holds no escape sequences (then every `"key":"` can only be a key, never inside a string); otherwise,
    /// or when a field is missing, through the full parser. `nil` if the entry is not a custody entry.
    public static func essentials(of json: String) -> (kind: String, recordID: String, contentHash: String)? {
        var json = json
        let fast = json.withUTF8 { bytes -> (String, String, String)? in
            guard !bytes.contains(UInt8(ascii: "\\")), let kind = value(of: typeKey, in: bytes),
                let record = value(of: recordKey, in: bytes), let hash = value(of: hashKey, in: bytes)
            else { return nil }
            return (kind, record, hash)
        }
        if let fast { return fast }
        guard let entry = try? CustodyEntry(json: Data(json.utf8)) else { return nil }
        return (entry.kind, entry.recordID, entry.contentHash)
    }

    private static let typeKey = Array(#""type":""#.utf8)
    private static let recordKey = Array(#""record":""#.utf8)
    private static let hashKey = Array(#""sha256":""#.utf8)

    /// The string after the first `"key":"`, up to the next quote (the caller has ruled out escapes).
    private static func value(of key: [UInt8], in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard bytes.count >= key.count else { return nil }
        var offset = 0
        while offset <= bytes.count - key.count {
            var matches = true
            for index in 0..<key.count where bytes[offset + index] != key[index] {
                matches = false
                break
            }
            if matches {
                let start = offset + key.count
                guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
            }
            offset += 1
        }
        return nil
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
