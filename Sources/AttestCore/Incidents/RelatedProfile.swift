import Foundation

extension RelatedReports {
    /// What suggestions compare of a report — its coordinates, the hashes of its words and its normalised observed
    /// identifiers — computed once when the report is stored and kept beside it (`related_profile`), so a time
    /// window of a thousand reports is compared without reading or re-folding a thousand narratives.
    ///
    /// A profile is derived data: it is not covered by the custody log (the report's content is), and it can be
    /// recomputed from the content at any time (`init(_:)`). Word hashes are FNV-1a over folded scalars
    /// (`TextFolding.forEachWord`), which do not depend on the process; a change to the folding must raise
    /// `version`, and rows of an older version are recomputed from their content when read.
    public struct Profile: Equatable, Sendable {
        public var coordinate: Coordinate?
        /// Hashes of the narrative's words of four letters or more, sorted, without repeats.
        public var words: [UInt64]
        /// Normalised identifiers (upper case, letters and digits only), each sorted, without repeats.
        public var plates: [String]
        public var badges: [String]
        public var vestTexts: [String]

        /// The encoding's version, its first byte.
        public static let version: UInt8 = 1

        public init(
            coordinate: Coordinate?, words: [UInt64], plates: [String], badges: [String], vestTexts: [String]
        ) {
            self.coordinate = coordinate
            self.words = words
            self.plates = plates
            self.badges = badges
            self.vestTexts = vestTexts
        }

        public init(_ content: ReportContent) {
            let identifiers = Identifiers(content)
            self.init(
                coordinate: content.location.coordinate, words: RelatedReports.words(content.narrative).sorted(),
                plates: identifiers.plates.sorted(), badges: identifiers.badges.sorted(),
                vestTexts: identifiers.vestTexts.sorted())
        }

        /// The stored form: version (1 byte); flags (1 byte, bit 0: coordinates follow); latitude and longitude as
        /// IEEE 754 binary64, little-endian; the number of words (UInt32 LE) and each word (UInt64 LE); then plates,
        /// badges and vest texts, each a count (UInt16 LE) of UTF-8 strings, each with its byte length (UInt16 LE).
        public func encoded() -> [UInt8] {
            var bytes: [UInt8] = [Self.version, coordinate == nil ? 0 : 1]
            bytes.reserveCapacity(2 + 16 + 4 + words.count * 8 + 64)
            func append<Integer: FixedWidthInteger>(_ value: Integer) {
                withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
            }
            if let coordinate {
                append(coordinate.latitude.bitPattern)
                append(coordinate.longitude.bitPattern)
            }
            append(UInt32(words.count))
            for word in words { append(word) }
            for list in [plates, badges, vestTexts] {
                let fitting = list.prefix(Int(UInt16.max))
                append(UInt16(fitting.count))
                for text in fitting {
                    let utf8 = Array(text.utf8.prefix(Int(UInt16.max)))
                    append(UInt16(utf8.count))
                    bytes.append(contentsOf: utf8)
                }
            }
            return bytes
        }

        /// A stored profile, or nil when `bytes` are not a profile of this version (the reader then recomputes
        /// it from the report's content).
        public init?(encoded bytes: UnsafeRawBufferPointer) {
            var offset = 0
            func read<Integer: FixedWidthInteger>(_: Integer.Type) -> Integer? {
                guard offset + MemoryLayout<Integer>.size <= bytes.count else { return nil }
                var value = Integer.zero
                withUnsafeMutableBytes(of: &value) {
                    $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + $0.count]))
                }
                offset += MemoryLayout<Integer>.size
                return Integer(littleEndian: value)
            }
            guard read(UInt8.self) == Self.version, let flags = read(UInt8.self), flags <= 1 else { return nil }
            if flags == 1 {
                guard let latitude = read(UInt64.self), let longitude = read(UInt64.self) else { return nil }
                coordinate = Coordinate(
                    latitude: Double(bitPattern: latitude), longitude: Double(bitPattern: longitude))
            } else {
                coordinate = nil
            }
            guard let count = read(UInt32.self), Int(count) <= (bytes.count - offset) / 8 else { return nil }
            words = []
            words.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let word = read(UInt64.self) else { return nil }
                words.append(word)
            }
            var lists: [[String]] = []
            for _ in 0..<3 {
                guard let count = read(UInt16.self) else { return nil }
                var list: [String] = []
                for _ in 0..<count {
                    guard let length = read(UInt16.self), offset + Int(length) <= bytes.count else { return nil }
                    list.append(
                        String(
                            decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(length)]),
                            as: UTF8.self))
                    offset += Int(length)
                }
                lists.append(list)
            }
            guard offset == bytes.count else { return nil }
            (plates, badges, vestTexts) = (lists[0], lists[1], lists[2])
        }

        public init?(encoded bytes: some Collection<UInt8>) {
            guard let profile = Array(bytes).withUnsafeBytes({ Profile(encoded: $0) }) else { return nil }
            self = profile
        }

        /// Word-set similarity (Jaccard) of two sorted word lists, by merging them.
        func similarity(to other: Profile) -> Double {
            let a = words
            let b = other.words
            guard !a.isEmpty || !b.isEmpty else { return 0 }
            var i = 0
            var j = 0
            var shared = 0
            while i < a.count && j < b.count {
                if a[i] == b[j] {
                    shared += 1
                    i += 1
                    j += 1
                } else if a[i] < b[j] {
                    i += 1
                } else {
                    j += 1
                }
            }
            return Double(shared) / Double(a.count + b.count - shared)
        }

        /// Identifiers this report shares with `other`; a fragment matches a longer identifier it is part of
        /// ("7K" and "7K42X").
        func shared(with other: Profile) -> [Reason] {
            func matches(_ a: String, _ b: String) -> Bool { a.contains(b) || b.contains(a) }
            var reasons: [Reason] = []
            for plate in plates where other.plates.contains(where: { matches(plate, $0) }) {
                reasons.append(.sharedPlate(plate))
            }
            for badge in badges where other.badges.contains(where: { matches(badge, $0) }) {
                reasons.append(.sharedBadge(badge))
            }
            for vest in vestTexts where other.vestTexts.contains(vest) {
                reasons.append(.sharedVestText(vest))
            }
            return reasons
        }
    }
}
