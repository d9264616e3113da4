import Foundation
import Testing

@testable import AttestLedger

/// RFC 6962 §2.1 written as its recursive definitions, over leaf hashes in memory: the reference the
/// stored-node algorithms are checked against.
struct ReferenceTree {
    var leaves: [TreeHash]
    /// Subtree hashes already computed (the recursion asks for the same ones many times).
    private let cache = Cache()

    private final class Cache {
        var hashes: [Range<Int>: TreeHash] = [:]
    }

    init(leaves: [TreeHash]) {
        self.leaves = leaves
    }

    /// A tree of `size` distinct leaves (`"leaf <i>"`).
    init(size: Int) {
        leaves = (0..<size).map { TreeHash.leaf(Data("leaf \($0)".utf8)) }
    }

    func hash(_ range: Range<Int>) -> TreeHash {
        if let known = cache.hashes[range] { return known }
        let value = uncachedHash(range)
        cache.hashes[range] = value
        return value
    }

    private func uncachedHash(_ range: Range<Int>) -> TreeHash {
        switch range.count {
        case 0: return TreeHash.emptyTree
        case 1: return leaves[range.lowerBound]
        default:
            let k = Int(Merkle.split(UInt64(range.count)))
            return TreeHash.node(
                hash(range.lowerBound..<(range.lowerBound + k)), hash((range.lowerBound + k)..<range.upperBound))
        }
    }

    func root(size: Int) -> TreeHash { hash(0..<size) }

    func path(_ m: Int, _ range: Range<Int>) -> [TreeHash] {
        guard range.count > 1 else { return [] }
        let k = Int(Merkle.split(UInt64(range.count)))
        let split = range.lowerBound + k
        return m < k
            ? path(m, range.lowerBound..<split) + [hash(split..<range.upperBound)]
            : path(m - k, split..<range.upperBound) + [hash(range.lowerBound..<split)]
    }

    func subproof(_ m: Int, _ range: Range<Int>, _ isComplete: Bool) -> [TreeHash] {
        if m == range.count { return isComplete ? [] : [hash(range)] }
        let k = Int(Merkle.split(UInt64(range.count)))
        let split = range.lowerBound + k
        return m <= k
            ? subproof(m, range.lowerBound..<split, isComplete) + [hash(split..<range.upperBound)]
            : subproof(m - k, split..<range.upperBound, false) + [hash(range.lowerBound..<split)]
    }

    /// Every complete subtree, as an appender stores them.
    var storedNodes: [TreeNode: TreeHash] {
        var nodes: [TreeNode: TreeHash] = [:]
        var frontier = MerkleFrontier()
        for leaf in leaves { frontier.append(leaf) { nodes[$0] = $1 } }
        return nodes
    }
}

/// Proofs built the way the log builds them: ranges → stored nodes → hashes.
func storedInclusionProof(index: UInt64, size: UInt64, nodes: [TreeNode: TreeHash]) throws -> [TreeHash] {
    try Merkle.inclusionRanges(index: index, size: size).map { try #require(Merkle.hash(of: $0) { nodes[$0] }) }
}

func storedConsistencyProof(old: UInt64, new: UInt64, nodes: [TreeNode: TreeHash]) throws -> [TreeHash] {
    try Merkle.consistencyRanges(old: old, new: new).map { try #require(Merkle.hash(of: $0) { nodes[$0] }) }
}
