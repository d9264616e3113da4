import Foundation

/// Lets one write transaction at a time through. SQLite has a single writer; queueing writers here,
/// instead of inside SQLite's busy handler, keeps transactions short and avoids SQLITE_BUSY on upgrade
/// from a read lock. PostgreSQL needs no gate (row locks order its writers).
public actor WriteGate {
    public init() {}

    private var isBusy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public func withGate<Result: Sendable>(_ work: @Sendable () async throws -> Result) async throws -> Result {
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
