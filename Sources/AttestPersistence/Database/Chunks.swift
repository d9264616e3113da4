extension Collection {
    /// Consecutive slices of at most `size` elements, in order (statements with bounded bind counts).
    func chunks(of size: Int) -> [SubSequence] {
        precondition(size > 0)
        var slices: [SubSequence] = []
        var start = startIndex
        while start != endIndex {
            let end = index(start, offsetBy: size, limitedBy: endIndex) ?? endIndex
            slices.append(self[start..<end])
            start = end
        }
        return slices
    }

    /// Consecutive slices whose sizes are powers of two: each the largest up to `largest` that what remains
    /// holds, so that a statement per slice comes in at most log2(`largest`) + 1 shapes, each prepared once.
    func powerOfTwoChunks(upTo largest: Int) -> [SubSequence] {
        precondition(largest > 0 && largest & (largest - 1) == 0)
        var slices: [SubSequence] = []
        var start = startIndex
        var remaining = count
        while remaining > 0 {
            var size = largest
            while size > remaining { size /= 2 }
            let end = index(start, offsetBy: size)
            slices.append(self[start..<end])
            start = end
            remaining -= size
        }
        return slices
    }
}
