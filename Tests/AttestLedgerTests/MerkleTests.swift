import Foundation
import Testing

@testable import AttestLedger

/// The custody-log spec's §7.1 leaves d0…d7.
let specLeaves: [Data] = [
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
].map { hex in
    Data(
        stride(from: 0, to: hex.count, by: 2).map { offset in
            let start = hex.index(hex.startIndex, offsetBy: offset)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
        })
}

func b64(_ text: String) -> TreeHash { TreeHash(base64: text)! }

@Suite("Merkle tree (RFC 6962)")
struct MerkleTests {
    let tree = ReferenceTree(leaves: specLeaves.map { TreeHash.leaf($0) })
    let named: [String: TreeHash] = [
        "L0": b64("bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="),
        "L1": b64("lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c="),
        "L2": b64("ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c="),
        "L3": b64("B1Bqhf2d0vEg62lPhgEeW7RmLlxBWmKRcDPUqWJEh+c="),
        "L4": b64("vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="),
        "L5": b64("QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg="),
        "L6": b64("sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8="),
        "L7": b64("Rvb/rdPQagn/PFhg0nVci5gZ2330QlF4jH2OMYDejrE="),
        "N1.0": b64("+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="),
        "N1.1": b64("Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4="),
        "N1.2": b64("DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o="),
        "N1.3": b64("yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA="),
        "N2.0": b64("037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="),
        "N2.1": b64("a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="),
    ]
    let roots: [TreeHash] = [
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
        "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=",
        "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
        "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=",
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
    ].map(b64)

    @Test("Leaf, node and root hashes match the spec's vectors (§7.1)")
    func hashes() {
        for index in 0..<8 { #expect(tree.leaves[index] == named["L\(index)"], "L\(index)") }
        for index in 0..<4 { #expect(tree.hash((2 * index)..<(2 * index + 2)) == named["N1.\(index)"]) }
        for index in 0..<2 { #expect(tree.hash((4 * index)..<(4 * index + 4)) == named["N2.\(index)"]) }
        #expect(TreeHash.emptyTree.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var frontier = MerkleFrontier()
        #expect(frontier.root == roots[0])
        let nodes = tree.storedNodes
        for size in 1...8 {
            frontier.append(tree.leaves[size - 1])
            #expect(frontier.root == roots[size], "frontier root R\(size)")
            #expect(Merkle.root(size: UInt64(size)) { nodes[$0] } == roots[size], "stored-node root R\(size)")
            #expect(tree.root(size: size) == roots[size], "reference root R\(size)")
        }
    }

    @Test(
        "Inclusion proofs match the spec's vectors and verify (§7.2)",
        arguments: [
            (0, 1, [String]()), (0, 8, ["L1", "N1.1", "N2.1"]), (5, 8, ["L4", "N1.3", "N2.0"]), (2, 3, ["N1.0"]),
            (1, 5, ["L0", "N1.1", "L4"]), (6, 7, ["N1.2", "N2.0"]),
        ])
    func inclusionVectors(index: UInt64, size: UInt64, expected: [String]) throws {
        let nodes = ReferenceTree(leaves: Array(tree.leaves.prefix(Int(size)))).storedNodes
        let proof = try storedInclusionProof(index: index, size: size, nodes: nodes)
        #expect(proof == expected.map { named[$0]! })
        try Merkle.verifyInclusion(
            index: index, size: size, leafHash: tree.leaves[Int(index)], proof: proof, root: roots[Int(size)])
    }

    @Test(
        "Consistency proofs match the spec's vectors and verify (§7.3)",
        arguments: [
            (1, 1, [String]()), (1, 8, ["L1", "N1.1", "N2.1"]), (6, 8, ["N1.2", "N1.3", "N2.0"]),
            (2, 5, ["N1.1", "L4"]),
            (6, 7, ["N1.2", "L6", "N2.0"]), (3, 8, ["L2", "L3", "N1.0", "N2.1"]), (7, 8, ["L6", "L7", "N1.2", "N2.0"]),
        ])
    func consistencyVectors(old: UInt64, new: UInt64, expected: [String]) throws {
        let nodes = ReferenceTree(leaves: Array(tree.leaves.prefix(Int(new)))).storedNodes
        let proof = try storedConsistencyProof(old: old, new: new, nodes: nodes)
        #expect(proof == expected.map { named[$0]! })
        try Merkle.verifyConsistency(
            old: old, new: new, oldRoot: roots[Int(old)], newRoot: roots[Int(new)], proof: proof)
    }

    @Test("The RFC 6962 seven-leaf example's paths and proofs")
    func rfcExample() throws {
        let seven = ReferenceTree(leaves: Array(tree.leaves.prefix(7)))
        let nodes = seven.storedNodes
        for index in [0, 3, 4, 6] {
            #expect(try storedInclusionProof(index: UInt64(index), size: 7, nodes: nodes) == seven.path(index, 0..<7))
        }
        for old in [3, 4, 6] {
            #expect(
                try storedConsistencyProof(old: UInt64(old), new: 7, nodes: nodes) == seven.subproof(old, 0..<7, true))
        }
    }

    @Test("Every inclusion and consistency proof for every size up to 300 equals the RFC's and verifies")
    func allProofsUpTo300() throws {
        let big = ReferenceTree(size: 300)
        let nodes = big.storedNodes
        for size in 1...300 {
            let root = big.root(size: size)
            #expect(Merkle.root(size: UInt64(size)) { nodes[$0] } == root)
            for index in 0..<size {
                let proof = try storedInclusionProof(index: UInt64(index), size: UInt64(size), nodes: nodes)
                #expect(proof == big.path(index, 0..<size))
                #expect(throws: Never.self) {
                    try Merkle.verifyInclusion(
                        index: UInt64(index), size: UInt64(size), leafHash: big.leaves[index], proof: proof, root: root)
                }
            }
            for old in 1...size {
                let proof = try storedConsistencyProof(old: UInt64(old), new: UInt64(size), nodes: nodes)
                #expect(proof == big.subproof(old, 0..<size, true))
                #expect(throws: Never.self) {
                    try Merkle.verifyConsistency(
                        old: UInt64(old), new: UInt64(size), oldRoot: big.root(size: old), newRoot: root, proof: proof)
                }
            }
        }
    }

    @Test("Any single-bit change to a proof, root or leaf is rejected (sampled over sizes up to 300)")
    func bitFlips() throws {
        let big = ReferenceTree(size: 300)
        let nodes = big.storedNodes
        var random = SplitMix(seed: 42)
        for _ in 0..<400 {
            let size = Int(random.next() % 300) + 1
            let index = Int(random.next() % UInt64(size))
            let root = big.root(size: size)
            let proof = try storedInclusionProof(index: UInt64(index), size: UInt64(size), nodes: nodes)
            let bit = Int(random.next() % 256)
            func rejectsInclusion(_ leaf: TreeHash, _ proof: [TreeHash], _ root: TreeHash) -> Bool {
                (try? Merkle.verifyInclusion(
                    index: UInt64(index), size: UInt64(size), leafHash: leaf, proof: proof, root: root)) == nil
            }
            #expect(rejectsInclusion(big.leaves[index].flippingBit(bit), proof, root))
            #expect(rejectsInclusion(big.leaves[index], proof, root.flippingBit(bit)))
            if !proof.isEmpty {
                var changed = proof
                let element = Int(random.next() % UInt64(proof.count))
                changed[element] = changed[element].flippingBit(bit)
                #expect(rejectsInclusion(big.leaves[index], changed, root))
            }

            let old = Int(random.next() % UInt64(size)) + 1
            let oldRoot = big.root(size: old)
            let consistency = try storedConsistencyProof(old: UInt64(old), new: UInt64(size), nodes: nodes)
            func rejectsConsistency(_ oldRoot: TreeHash, _ newRoot: TreeHash, _ proof: [TreeHash]) -> Bool {
                (try? Merkle.verifyConsistency(
                    old: UInt64(old), new: UInt64(size), oldRoot: oldRoot, newRoot: newRoot, proof: proof)) == nil
            }
            #expect(rejectsConsistency(oldRoot.flippingBit(bit), root, consistency))
            #expect(rejectsConsistency(oldRoot, root.flippingBit(bit), consistency))
            if !consistency.isEmpty {
                var changed = consistency
                let element = Int(random.next() % UInt64(consistency.count))
                changed[element] = changed[element].flippingBit(bit)
                #expect(rejectsConsistency(oldRoot, root, changed))
            }
        }
    }

    @Test("Every single-bit change to a proof element, root or leaf is rejected (exhaustively, for chosen trees)")
    func everyBitFlip() throws {
        let big = ReferenceTree(size: 300)
        let nodes = big.storedNodes
        for size in [7, 255, 256, 300] {
            let root = big.root(size: size)
            for index in [0, size / 2, size - 1] {
                let leaf = big.leaves[index]
                let proof = try storedInclusionProof(index: UInt64(index), size: UInt64(size), nodes: nodes)
                func accepts(_ leaf: TreeHash, _ proof: [TreeHash], _ root: TreeHash) -> Bool {
                    (try? Merkle.verifyInclusion(
                        index: UInt64(index), size: UInt64(size), leafHash: leaf, proof: proof, root: root)) != nil
                }
                #expect(accepts(leaf, proof, root))
                for bit in 0..<256 {
                    #expect(!accepts(leaf.flippingBit(bit), proof, root))
                    #expect(!accepts(leaf, proof, root.flippingBit(bit)))
                    for element in proof.indices {
                        var changed = proof
                        changed[element] = changed[element].flippingBit(bit)
                        #expect(
                            !accepts(leaf, changed, root), "size \(size) index \(index) element \(element) bit \(bit)")
                    }
                }
            }
            for old in [1, size / 3 + 1, size - 1] where old < size {
                let oldRoot = big.root(size: old)
                let proof = try storedConsistencyProof(old: UInt64(old), new: UInt64(size), nodes: nodes)
                func accepts(_ oldRoot: TreeHash, _ newRoot: TreeHash, _ proof: [TreeHash]) -> Bool {
                    (try? Merkle.verifyConsistency(
                        old: UInt64(old), new: UInt64(size), oldRoot: oldRoot, newRoot: newRoot, proof: proof)) != nil
                }
                #expect(accepts(oldRoot, root, proof))
                for bit in 0..<256 {
                    #expect(!accepts(oldRoot.flippingBit(bit), root, proof))
                    #expect(!accepts(oldRoot, root.flippingBit(bit), proof))
                    for element in proof.indices {
                        var changed = proof
                        changed[element] = changed[element].flippingBit(bit)
                        #expect(!accepts(oldRoot, root, changed), "\(old)→\(size) element \(element) bit \(bit)")
                    }
                }
            }
        }
    }

    @Test("Indexes and sizes out of range are rejected before any hashing")
    func ranges() {
        let leaf = tree.leaves[0]
        #expect(throws: Merkle.Error.indexOutOfRange(index: 1, size: 1)) {
            try Merkle.verifyInclusion(index: 1, size: 1, leafHash: leaf, proof: [], root: leaf)
        }
        #expect(throws: Merkle.Error.indexOutOfRange(index: .max, size: 8)) {
            try Merkle.inclusionRanges(index: .max, size: 8)
        }
        #expect(throws: Merkle.Error.invalidSizes(old: 0, new: 8)) { try Merkle.consistencyRanges(old: 0, new: 8) }
        #expect(throws: Merkle.Error.invalidSizes(old: 9, new: 8)) { try Merkle.consistencyRanges(old: 9, new: 8) }
    }
}

/// A small deterministic generator for sampled property tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
