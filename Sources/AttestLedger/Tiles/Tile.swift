import Foundation

/// A c2sp.org/tlog-tiles tile: 256 hashes (or, for a partial tile, `width` < 256) of one level of the tree,
/// or an entry bundle (`level == nil`) of up to 256 entries.
public struct Tile: Hashable, Sendable, CustomStringConvertible {
    /// The tile level (0–63); `nil` for an entry bundle.
    public var level: Int?
    /// The tile index within its level.
    public var index: UInt64
    /// How many hashes (or entries) it holds: 256 for a full tile.
    public var width: Int

    /// Hashes or entries per full tile.
    public static let fullWidth = 256

    public init(level: Int?, index: UInt64, width: Int) {
        self.level = level
        self.index = index
        self.width = width
    }

    /// The path below the log prefix: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`, with N in
    /// three-digit groups, all but the last prefixed `x`.
    public var path: String {
        var groups = [String(format: "%03llu", index % 1000)]
        var rest = index / 1000
        while rest > 0 {
            groups.insert(String(format: "x%03llu", rest % 1000), at: 0)
            rest /= 1000
        }
        let levelPart = level.map(String.init) ?? "entries"
        let partial = width < Self.fullWidth ? ".p/\(width)" : ""
        return "tile/\(levelPart)/\(groups.joined(separator: "/"))\(partial)"
    }

    public var description: String { path }

    /// Parses the path components after `tile/` (e.g. `["0", "x001", "234.p", "7"]`); `nil` if malformed.
    public init?(components: [Substring]) {
        guard components.count >= 2 else { return nil }
        if components[0] == "entries" {
            level = nil
        } else {
            guard let level = Int(components[0]), String(level) == components[0], (0...63).contains(level) else {
                return nil
            }
            self.level = level
        }
        var groups = Array(components.dropFirst())
        width = Self.fullWidth
        if groups.count >= 2, groups[groups.count - 2].hasSuffix(".p") {
            guard let width = Int(groups[groups.count - 1]), String(width) == groups[groups.count - 1],
                (1..<Self.fullWidth).contains(width)
            else { return nil }
            self.width = width
            groups.removeLast()
            groups[groups.count - 1] = groups[groups.count - 1].dropLast(2)
        }
        var index: UInt64 = 0
        for (position, group) in groups.enumerated() {
            let isLast = position == groups.count - 1
            let digits = isLast ? group : (group.first == "x" ? group.dropFirst() : "")
            guard digits.count == 3, digits.allSatisfy(\.isASCII), let value = UInt64(digits) else { return nil }
            let (shifted, overflow) = index.multipliedReportingOverflow(by: 1000)
            guard !overflow else { return nil }
            index = shifted + value
        }
        // Leading zero groups are not canonical (`x000/005` names the same tile as `005`).
        guard groups.count == 1 || groups[0] != "x000" else { return nil }
        self.index = index
    }

    /// The stored nodes a hash tile holds, left to right (level 8·L of the tree).
    public var nodes: [TreeNode] {
        let level = (self.level ?? 0) * 8
        let first = index * UInt64(Self.fullWidth)
        return (0..<UInt64(width)).map { TreeNode(level: level, index: first + $0) }
    }

    /// Whether a log of `size` leaves holds this tile: full tiles once complete, partial tiles of any width
    /// up to what the size covers (a partial tile is a prefix of the full one, so earlier checkpoints' partial
    /// tiles stay available).
    public func exists(inTreeOfSize size: UInt64) -> Bool {
        let levelShift = UInt64((level ?? 0) * 8)
        guard levelShift < 64 else { return false }
        let available = size >> levelShift
        let (end, overflow) = index.multipliedReportingOverflow(by: UInt64(Self.fullWidth))
        guard !overflow else { return false }
        return end + UInt64(width) <= available
    }

    /// Every tile a log of `size` leaves publishes at that size: full tiles and the one partial tile of each
    /// level, entry bundles included.
    public static func all(forTreeOfSize size: UInt64) -> [Tile] {
        var tiles: [Tile] = []
        var level = 0
        while level < 8, size >> UInt64(level * 8) > 0 {
            let count = size >> UInt64(level * 8)
            let full = count / UInt64(fullWidth)
            let partial = Int(count % UInt64(fullWidth))
            for index in 0..<full { tiles.append(Tile(level: level, index: index, width: fullWidth)) }
            if partial > 0 { tiles.append(Tile(level: level, index: full, width: partial)) }
            if level == 0 {
                for index in 0..<full { tiles.append(Tile(level: nil, index: index, width: fullWidth)) }
                if partial > 0 { tiles.append(Tile(level: nil, index: full, width: partial)) }
            }
            level += 1
        }
        return tiles
    }

    /// The leaves an entry bundle holds.
    public var entries: Range<UInt64> {
        (index * UInt64(Self.fullWidth))..<(index * UInt64(Self.fullWidth) + UInt64(width))
    }

    /// An entry bundle's bytes: each entry as a big-endian `uint16` length and its bytes.
    public static func bundle(_ entries: [Data]) -> Data {
        var data = Data()
        for entry in entries {
            precondition(entry.count <= Int(UInt16.max), "a log entry is at most 65,535 bytes")
            data.append(UInt8(entry.count >> 8))
            data.append(UInt8(entry.count & 0xff))
            data.append(entry)
        }
        return data
    }

    /// A hash tile's bytes: the hashes, 32 bytes each.
    public static func hashTile(_ hashes: [TreeHash]) -> Data {
        var data = Data(capacity: hashes.count * TreeHash.byteCount)
        for hash in hashes { data.append(hash.data) }
        return data
    }
}
