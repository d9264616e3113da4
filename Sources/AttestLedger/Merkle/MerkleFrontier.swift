/// The right edge of a growing tree: the roots of its complete subtrees, one per set bit of its size. With it,
/// appending a leaf yields every newly completed subtree (what an appender stores) and the current root,
/// in O(log n) hashes and memory — how the log appends and how a verifier streams millions of entries.
public struct MerkleFrontier: Sendable, Equatable {
    /// Leaves appended so far.
    public private(set) var size: UInt64
    /// `roots[level]` is the complete subtree of `2^level` leaves on the right edge, when bit `level` of
    /// `size` is set.
    private var roots: [TreeHash?]

    /// An empty tree.
    public init() {
        size = 0
        roots = []
    }

    /// The frontier of a tree of `size` leaves, from its stored nodes (see `nodes(forSize:)`); `nil` if one
    /// is missing.
    public init?(size: UInt64, nodes lookup: (TreeNode) -> TreeHash?) {
        self.size = size
        roots = Array(repeating: nil, count: 64)
        for node in Self.nodes(forSize: size) {
            guard let hash = lookup(node) else { return nil }
            roots[node.level] = hash
        }
    }

    /// The stored nodes a frontier for `size` leaves consists of.
    public static func nodes(forSize size: UInt64) -> [TreeNode] {
        (0..<64).compactMap { level in
            size >> UInt64(level) & 1 == 1 ? TreeNode(level: level, index: (size >> UInt64(level)) - 1) : nil
        }
    }

    /// Appends one leaf hash, calling `completed` with the leaf itself and every subtree it completes,
    /// lowest level first.
    public mutating func append(_ leaf: TreeHash, completed: (TreeNode, TreeHash) -> Void = { _, _ in }) {
        if roots.count < 64 { roots += Array(repeating: nil, count: 64 - roots.count) }
        var hash = leaf
        var level = 0
        completed(TreeNode(level: 0, index: size), leaf)
        while let left = roots[level] {
            roots[level] = nil
            hash = TreeHash.node(left, hash)
            level += 1
            completed(TreeNode(level: level, index: size >> UInt64(level)), hash)
        }
        roots[level] = hash
        size += 1
    }

    /// The tree hash of everything appended so far (`MTH`; SHA-256 of nothing for an empty tree).
    public var root: TreeHash {
        var result: TreeHash?
        for case let hash? in roots {
            result = result.map { TreeHash.node(hash, $0) } ?? hash
        }
        return result ?? TreeHash.emptyTree
    }
}
