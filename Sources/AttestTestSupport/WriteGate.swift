import Foundation

/// Lets one async critical section at a time through, in arrival order (used by the in-memory store of the
/// test support; the SQLite store serialises writers through `GroupCommitter`).
actor WriteGate {
    init() {}

    private var isBusy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func withGate<Result: Sendable>(_ work: @Sendable () async throws -> Result) async throws -> Result {
        await acquire()
        defer { release() }
        return try await work()
    }

    private func acquire() async {
        guard isBusy else {
            isBusy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            isBusy = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
