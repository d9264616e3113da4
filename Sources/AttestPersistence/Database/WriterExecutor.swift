import Foundation
import NIOCore

/// A thread of its own for one SQLite group committer: its actor and every unit of work it runs execute here,
/// never on Swift's shared cooperative pool.
///
/// Why: the committer is the serial path every submission waits on. On the shared pool (as many threads as
/// cores) each step of a batch — the committer resuming, a unit of work starting or ending — queued behind the
/// request handlers filling that pool, so under load a batch took far longer than its work (docs/benchmarks.md).
/// Here the committer's steps queue only behind each other, and its connection's blocking calls (an fsync at each
/// commit) hold up no request.
///
/// One thread per committer, not one per process: a committer may block its thread waiting for SQLite's write lock
/// (`busy_timeout`), which another committer on the same file must then be able to release.
/// The thread holds the executor until `stop()`, then ends once its queue is empty. `@unchecked Sendable`: the queue
/// is guarded by `condition`.
final class WriterExecutor: CommitterExecutor, @unchecked Sendable {
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var jobs: [UnownedJob] = []
        var isStopped = false
    }

    private let queue = Queue()

    init(name: String) {
        let queue = self.queue
        let thread = Thread { [self, queue] in
            var ready: [UnownedJob] = []
            while true {
                queue.condition.lock()
                while queue.jobs.isEmpty && !queue.isStopped { queue.condition.wait() }
                if queue.jobs.isEmpty {
                    queue.condition.unlock()
                    return
                }
                swap(&ready, &queue.jobs)
                queue.condition.unlock()
                for job in ready {
                    job.runSynchronously(
                        isolatedTo: self.asUnownedSerialExecutor(), taskExecutor: self.asUnownedTaskExecutor())
                }
                ready.removeAll(keepingCapacity: true)
            }
        }
        thread.name = name
        thread.start()
    }

    /// Lets the thread end once every job queued so far has run (the committer is gone).
    func stop() {
        queue.condition.signal { queue.isStopped = true }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.condition.signal { queue.jobs.append(job) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}

/// Where a group committer runs: its actor and the units of work it starts (`Task(executorPreference:)`).
protocol CommitterExecutor: SerialExecutor, TaskExecutor {
    /// The committer is gone: let the executor's thread end once its queue is empty.
    func stop()
}

/// PostgreSQL: a group committer that runs on the event loop of its own connection (`CommitterDatabases`). Each
/// answer from PostgreSQL then resumes the committer on the thread that read it, in the same turn of the loop,
/// instead of waking another thread: measured, the hops between the connection's thread and a committer thread
/// of its own cost about a millisecond per round trip under load, four or five times per batch
/// (docs/benchmarks.md). Nothing else runs on that loop.
final class EventLoopCommitterExecutor: CommitterExecutor, @unchecked Sendable {
    private let loop: any EventLoop

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute {
            job.runSynchronously(isolatedTo: self.asUnownedSerialExecutor(), taskExecutor: self.asUnownedTaskExecutor())
        }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// The loop belongs to `CommitterDatabases`, which stops it.
    func stop() {}
}

extension NSCondition {
    /// Makes `change` under the lock and wakes the waiting thread: how the committer's, the syncer's and the
    /// checkpointer's threads are handed work or told to stop.
    func signal(after change: () -> Void) {
        lock()
        change()
        signal()
        unlock()
    }
}
