import Foundation

/// A media type recognised from a file's first bytes (its magic number), never from its name or the type
/// a client declares.
public struct DetectedMedia: Equatable, Hashable, Sendable {
    /// The IANA media type, e.g. `image/jpeg`.
    public var mediaType: String
    /// The top-level category the allow-list may name: `image`, `video`, `audio` or `document`.
    public var category: Category

    public enum Category: String, Sendable, CaseIterable {
        case image, video, audio, document
    }

    public init(_ mediaType: String, _ category: Category) {
        self.mediaType = mediaType
        self.category = category
    }
}

/// Detects the type of evidence from its content. Only formats a phone, camera or scanner produces are
/// recognised; everything else (executables, scripts, archives, HTML, office macros…) is `nil` and refused.
public enum ContentSniffer {
    /// How many leading bytes `detect` needs at most.
    public static let prefixLength = 64

    /// Every type `detect` can return, for documentation and configuration checks.
    public static let known: [DetectedMedia] = [
        .init("image/jpeg", .image), .init("image/png", .image), .init("image/gif", .image),
        .init("image/webp", .image), .init("image/heic", .image), .init("image/avif", .image),
        .init("image/tiff", .image), .init("video/mp4", .video), .init("video/quicktime", .video),
        .init("video/3gpp", .video), .init("video/webm", .video), .init("video/x-matroska", .video),
        .init("video/x-msvideo", .video), .init("audio/mpeg", .audio), .init("audio/mp4", .audio),
        .init("audio/wav", .audio), .init("audio/ogg", .audio), .init("audio/flac", .audio),
        .init("audio/amr", .audio), .init("audio/aac", .audio), .init("application/pdf", .document),
    ]

    /// The type of a file starting with `prefix` (at least its first `prefixLength` bytes, or the whole file
    /// when shorter), or nil when it is not a recognised evidence format.
    public static func detect<Bytes: Collection<UInt8>>(prefix: Bytes) -> DetectedMedia? {
        let bytes = Array(prefix.prefix(prefixLength))
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + magic.count && Array(bytes[offset..<offset + magic.count]) == magic
        }
        func ascii(_ text: String, at offset: Int = 0) -> Bool { starts(Array(text.utf8), at: offset) }

        if starts([0xFF, 0xD8, 0xFF]) { return .init("image/jpeg", .image) }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .init("image/png", .image) }
        if ascii("GIF87a") || ascii("GIF89a") { return .init("image/gif", .image) }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .init("image/tiff", .image) }
        if ascii("%PDF-") { return .init("application/pdf", .document) }
        if ascii("RIFF") && bytes.count >= 12 {
            if ascii("WEBP", at: 8) { return .init("image/webp", .image) }
            if ascii("WAVE", at: 8) { return .init("audio/wav", .audio) }
            if ascii("AVI ", at: 8) { return .init("video/x-msvideo", .video) }
            return nil
        }
        if ascii("ftyp", at: 4), bytes.count >= 12 {
            return isoMedia(brand: String(decoding: bytes[8..<12], as: UTF8.self))
        }
        // QuickTime files from older cameras may start with another top-level atom.
        if ["moov", "mdat", "wide"].contains(where: { ascii($0, at: 4) }) { return .init("video/quicktime", .video) }
        if starts([0x1A, 0x45, 0xDF, 0xA3]) {
            // EBML: the DocType says WebM or Matroska.
            let text = String(decoding: bytes, as: UTF8.self)
            return text.contains("webm") ? .init("video/webm", .video) : .init("video/x-matroska", .video)
        }
        if ascii("OggS") { return .init("audio/ogg", .audio) }
        if ascii("fLaC") { return .init("audio/flac", .audio) }
        if ascii("#!AMR") { return .init("audio/amr", .audio) }
        if ascii("ID3") { return .init("audio/mpeg", .audio) }
        if bytes.count >= 2, bytes[0] == 0xFF {
            // ADTS AAC: sync word, layer 00. MPEG audio: sync word, layer ≠ 00, valid bitrate.
            if bytes[1] & 0xF6 == 0xF0 { return .init("audio/aac", .audio) }
            if bytes[1] & 0xE0 == 0xE0, bytes[1] & 0x06 != 0, bytes[1] & 0x18 != 0x08, bytes.count >= 3,
                bytes[2] & 0xF0 != 0xF0
            {
                return .init("audio/mpeg", .audio)
            }
        }
        return nil
    }

    /// ISO base media files (MP4, QuickTime, 3GP, HEIF, AVIF) by major brand.
    private static func isoMedia(brand: String) -> DetectedMedia? {
        switch brand {
        case "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1":
            .init("image/heic", .image)
        case "avif", "avis": .init("image/avif", .image)
        case "qt  ": .init("video/quicktime", .video)
        case "M4A ", "M4B ": .init("audio/mp4", .audio)
        case "3gp4", "3gp5", "3gp6", "3gp7", "3g2a", "3g2b", "3g2c", "3ge6", "3gs7": .init("video/3gpp", .video)
        case "isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "dash", "M4V ", "M4VH", "M4VP", "MSNV",
            "NDAS", "XAVC", "mmp4":
            .init("video/mp4", .video)
        default: nil
        }
    }
}

/// Which detected types an instance accepts as evidence: media types (`image/jpeg`) or whole categories
/// (`image`, `video`, `audio`, `document`).
public struct EvidenceAllowList: Equatable, Sendable {
    public var entries: Set<String>

    /// Every recognised image, video, audio and PDF format.
    public static let all = EvidenceAllowList(entries: Set(DetectedMedia.Category.allCases.map(\.rawValue)))

    public init(entries: Set<String>) {
        self.entries = entries
    }

    /// Parses a comma-separated list; nil when an item is neither a category nor a recognised media type.
    public init?(parsing text: String) {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
        let valid = Set(DetectedMedia.Category.allCases.map(\.rawValue) + ContentSniffer.known.map(\.mediaType))
        guard !items.isEmpty, items.allSatisfy(valid.contains) else { return nil }
        entries = Set(items)
    }

    public func allows(_ media: DetectedMedia) -> Bool {
        entries.contains(media.category.rawValue) || entries.contains(media.mediaType)
    }
}
