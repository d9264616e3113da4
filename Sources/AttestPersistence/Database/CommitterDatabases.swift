import FluentKit
import Foundation
import Logging
import NIOCore
import NIOPosix

/// PostgreSQL: the group committer's own connection, on an event loop of its own. A batch makes a handful of
/// round trips one after another; on the application's event loops each answer waited behind the HTTP work
/// queued there (measured: `BEGIN` and the lock took 7 ms of a 23 ms batch under load), so the committer talks to
/// the database from a thread that does nothing else, as it has a connection of its own on SQLite.
final class CommitterDatabases: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let threadPool: NIOThreadPool
    private let databases: Databases
    private let logger: Logger

    init(kind: DatabaseKind) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        databases = Databases(threadPool: threadPool, on: group)
        var logger = Logger(label: "attest.committer")
        logger.logLevel = .warning
        self.logger = logger
        // One connection: the committer runs one batch at a time.
        try kind.register(in: databases, connectionsPerEventLoop: 1)
    }

    /// The committer's database (one event loop: its connection pool lives there).
    func database() -> any Database {
        databases.database(logger: logger, on: eventLoop)!
    }

    /// The one event loop of the committer's connection; the committer runs there too
    /// (`EventLoopCommitterExecutor`).
    var eventLoop: any EventLoop { group.next() }

    /// Closes the connections and stops the thread.
    func shutdown() async {
        await databases.shutdownAsync()
        try? await threadPool.shutdownGracefully()
        try? await group.shutdownGracefully()
    }
}
