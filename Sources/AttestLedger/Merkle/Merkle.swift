import Foundation

/// A complete subtree of the log: the `2^level` leaves starting at `index << level`. Level 0 nodes are
/// leaf hashes. Only complete subtrees are ever stored; the hash of any other range is computed from them.
public struct TreeNode: Hashable, Sendable, CustomStringConvertible {
    public let level: Int
    public let index: UInt64

    public init(level: Int, index: UInt64) {
        self.level = level
        self.index = index
    }

    /// The leaves this node covers.
    public var leaves: Range<UInt64> { (index << UInt64(level))..<((index + 1) << UInt64(level)) }

    public var description: String { "(\(level), \(index))" }
}

/// RFC 6962 / RFC 9162 §2.1 Merkle tree algorithms over SHA-256: tree hashes, inclusion and consistency
/// proofs and their verification.
///
/// Proofs are built in two steps so that storage can be read in one round trip: `inclusionRanges` and
/// `consistencyRanges` say which ranges of leaves the proof hashes cover, `nodes(covering:)` which stored
/// complete subtrees those ranges consist of, and `hash(of:nodes:)` folds them into the proof hashes.
public enum Merkle {
    /// Why a proof or its inputs were rejected.
    public enum Error: Swift.Error, Equatable, Sendable {
        /// The leaf index is not below the tree size.
        case indexOutOfRange(index: UInt64, size: UInt64)
        /// The sizes are not 0 < old ≤ new.
        case invalidSizes(old: UInt64, new: UInt64)
        /// The proof has the wrong number of hashes for these sizes or indexes.
        case wrongProofLength(expected: Int, actual: Int)
        /// The recomputed root differs from the one given.
        case rootMismatch
        /// A hash needed to build a proof is not stored.
        case missingNode(TreeNode)
    }

    /// The largest power of two strictly smaller than `n` (n > 1): where RFC 6962 splits a tree of n leaves.
    static func split(_ n: UInt64) -> UInt64 {
        precondition(n > 1)
        return 1 << (63 - UInt64((n - 1).leadingZeroBitCount))
    }

    /// The complete subtrees that make up the leaves `range`, left to right, each as large as alignment allows.
    /// For every range an RFC 6962 proof or root needs, folding their hashes from the right gives `MTH(range)`.
    public static func nodes(covering range: Range<UInt64>) -> [TreeNode] {
        var nodes: [TreeNode] = []
        var low = range.lowerBound
        while low < range.upperBound {
            let remaining = range.upperBound - low
            let fits = 63 - remaining.leadingZeroBitCount
            let aligned = low == 0 ? 63 : low.trailingZeroBitCount
            let level = min(fits, aligned)
            nodes.append(TreeNode(level: level, index: low >> UInt64(level)))
            low += 1 << UInt64(level)
        }
        return nodes
    }

    /// `MTH` of a range from the hashes of the nodes covering it; `nil` if one is missing.
    public static func hash(of range: Range<UInt64>, nodes lookup: (TreeNode) -> TreeHash?) -> TreeHash? {
        guard !range.isEmpty else { return TreeHash.emptyTree }
        let covering = nodes(covering: range)
        guard var result = lookup(covering[covering.count - 1]) else { return nil }
        for node in covering.dropLast().reversed() {
            guard let left = lookup(node) else { return nil }
            result = TreeHash.node(left, result)
        }
        return result
    }

    /// The ranges whose tree hashes form the inclusion proof of leaf `index` in a tree of `size` leaves
    /// (RFC 6962 `PATH`), leaf sibling first.
    public static func inclusionRanges(index: UInt64, size: UInt64) throws(Error) -> [Range<UInt64>] {
        guard index < size else { throw .indexOutOfRange(index: index, size: size) }
        var ranges: [Range<UInt64>] = []
        var (low, high) = (UInt64(0), size)
        while high - low > 1 {
            let k = split(high - low)
            if index - low < k {
                ranges.append((low + k)..<high)
                high = low + k
            } else {
                ranges.append(low..<(low + k))
                low += k
            }
        }
        return ranges.reversed()
    }

    /// The ranges whose tree hashes form the consistency proof from `old` to `new` leaves (RFC 6962
    /// `PROOF`), for 0 < old ≤ new. Empty when old == new.
    public static func consistencyRanges(old: UInt64, new: UInt64) throws(Error) -> [Range<UInt64>] {
        guard old > 0, old <= new else { throw .invalidSizes(old: old, new: new) }
        var ranges: [Range<UInt64>] = []
        var (low, high, m, isComplete) = (UInt64(0), new, old, true)
        // SUBPROOF(m, D[low:high], b), unrolled: each step records one sibling and descends into one half.
        while true {
            let n = high - low
            if m == n {
                if !isComplete { ranges.append(low..<high) }
                break
            }
            let k = split(n)
            if m <= k {
                ranges.append((low + k)..<high)
                high = low + k
            } else {
                ranges.append(low..<(low + k))
                low += k
                m -= k
                isComplete = false
            }
        }
        return ranges.reversed()
    }

    /// The root of a tree of `size` leaves from stored nodes.
    public static func root(size: UInt64, nodes lookup: (TreeNode) -> TreeHash?) -> TreeHash? {
        hash(of: 0..<size, nodes: lookup)
    }

    /// Checks an inclusion proof (RFC 9162 §2.1.3.2).
    public static func verifyInclusion(
        index: UInt64, size: UInt64, leafHash: TreeHash, proof: [TreeHash], root: TreeHash
    ) throws(Error) {
        guard index < size else { throw .indexOutOfRange(index: index, size: size) }
        let inner = 64 - (index ^ (size - 1)).leadingZeroBitCount
        let border = (index >> UInt64(inner)).nonzeroBitCount
        guard proof.count == inner + border else {
            throw .wrongProofLength(expected: inner + border, actual: proof.count)
        }
        var (fn, sn, result) = (index, size - 1, leafHash)
        for sibling in proof {
            guard sn != 0 else { throw .wrongProofLength(expected: inner + border, actual: proof.count) }
            if fn & 1 == 1 || fn == sn {
                result = TreeHash.node(sibling, result)
                if fn & 1 == 0 { skipRightEdgeLevels(&fn, &sn) }
            } else {
                result = TreeHash.node(result, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0, result == root else { throw .rootMismatch }
    }

    /// Checks a consistency proof (RFC 9162 §2.1.4.2), for 0 < old ≤ new.
    public static func verifyConsistency(
        old: UInt64, new: UInt64, oldRoot: TreeHash, newRoot: TreeHash, proof: [TreeHash]
    ) throws(Error) {
        guard old > 0, old <= new else { throw .invalidSizes(old: old, new: new) }
        if old == new {
            guard proof.isEmpty else { throw .wrongProofLength(expected: 0, actual: proof.count) }
            guard oldRoot == newRoot else { throw .rootMismatch }
            return
        }
        let expected = try consistencyRanges(old: old, new: new).count
        guard proof.count == expected else { throw .wrongProofLength(expected: expected, actual: proof.count) }
        var path = proof
        if old & (old - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = old - 1
        var sn = new - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var firstRoot = path[0]
        var secondRoot = path[0]
        for sibling in path.dropFirst() {
            guard sn != 0 else { throw .rootMismatch }
            if fn & 1 == 1 || fn == sn {
                firstRoot = TreeHash.node(sibling, firstRoot)
                secondRoot = TreeHash.node(sibling, secondRoot)
                if fn & 1 == 0 { skipRightEdgeLevels(&fn, &sn) }
            } else {
                secondRoot = TreeHash.node(secondRoot, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        guard firstRoot == oldRoot, secondRoot == newRoot, sn == 0 else { throw .rootMismatch }
    }

    /// RFC 9162's inner loop `repeat { fn >>= 1; sn >>= 1 } until LSB(fn) == 1 or fn == 0`: climbs past the
    /// levels where the node is the right edge's left child and has no sibling in the proof.
    private static func skipRightEdgeLevels(_ fn: inout UInt64, _ sn: inout UInt64) {
        repeat {
            fn >>= 1
            sn >>= 1
        } while fn & 1 == 0 && fn != 0
    }
}
