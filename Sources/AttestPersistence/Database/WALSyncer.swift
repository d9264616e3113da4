import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Makes the group committer's commits durable on a thread of its own, so that the committer runs the next batch
/// while the disk syncs the last one (commit pipelining).
///
/// With `synchronous = FULL` SQLite syncs the write-ahead log inside every `COMMIT`, and the committer's thread
/// waited for the disk about a third of its time; under load it was the one thread every submission queued
/// behind (docs/benchmarks.md). Here the committer's connection commits with `synchronous = NORMAL` (the log is
/// written, not synced: consistent, but not yet durable against power loss) and hands the batch's units to this
/// thread, which syncs the log (`fdatasync`) and only then lets them return. A sync covers every commit before
/// it, so units of several batches wait for one sync. Nothing is acknowledged before the log holding it is on
/// disk; a crash of the process alone loses nothing either way (the log is in the page cache).
///
/// Checkpoints stay safe: with `NORMAL` SQLite still syncs the log before copying it into the database file, and
/// the file before the log starts over. `@unchecked Sendable`: the queue is guarded by `condition`; the file
/// descriptor is used by the thread only.
final class WALSyncer: @unchecked Sendable {
    typealias Completion = @Sendable (Result<Void, any Error>) -> Void

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let condition = NSCondition()
    private var waiting: [Completion] = []
    private var isStopped = false
    private var completed = 0
    private let walPath: String
    private let sync: @Sendable (Int32) -> Int32
    /// The log, opened on the first sync; reopened if the file at `walPath` is another one (`st_ino`).
    private var descriptor: Int32 = -1

    /// - Parameters:
    ///   - walPath: the database's `-wal` file.
    ///   - sync: syncs a file descriptor, returning 0 or -1 with `errno` (`fdatasync`; tests hold it up).
    init(walPath: String, sync: @escaping @Sendable (Int32) -> Int32 = { fdatasync($0) }) {
        self.walPath = walPath
        self.sync = sync
        let thread = Thread { [self] in
            while let batch = nextBatch() {
                let result = syncLog()
                for completion in batch { completion(result) }
                condition.withLock { completed += 1 }
            }
            if descriptor >= 0 { close(descriptor) }
        }
        thread.name = "attest-wal-sync"
        thread.start()
    }

    /// Syncs run so far (each covering every completion queued before it began).
    var syncs: Int { condition.withLock { completed } }

    /// Calls `completion` once the log, as written so far, is on disk (or could not be synced).
    func afterSync(_ completion: @escaping Completion) {
        condition.signal { waiting.append(completion) }
    }

    /// Lets the thread sync what is queued, complete it, and end.
    func stop() {
        condition.signal { isStopped = true }
    }

    /// Every completion queued so far, once there is one; nil when stopped with none left.
    private func nextBatch() -> [Completion]? {
        condition.lock()
        defer { condition.unlock() }
        while waiting.isEmpty && !isStopped { condition.wait() }
        if waiting.isEmpty { return nil }
        defer { waiting.removeAll(keepingCapacity: true) }
        return waiting
    }

    private func syncLog() -> Result<Void, any Error> {
        var current = stat()
        guard stat(walPath, &current) == 0 else {
            return .failure(Failure(description: "\(walPath): \(String(cString: strerror(errno)))"))
        }
        var opened = stat()
        if descriptor < 0 || fstat(descriptor, &opened) != 0 || opened.st_ino != current.st_ino
            || opened.st_dev != current.st_dev
        {
            if descriptor >= 0 { close(descriptor) }
            descriptor = open(walPath, O_RDWR | O_CLOEXEC)
            guard descriptor >= 0 else {
                return .failure(Failure(description: "\(walPath): \(String(cString: strerror(errno)))"))
            }
        }
        guard sync(descriptor) == 0 else {
            return .failure(Failure(description: "syncing \(walPath): \(String(cString: strerror(errno)))"))
        }
        return .success(())
    }
}
