import Foundation
import Testing

@testable import AttestPersistence

@Suite("SQLite writer connection")
struct SQLiteWriterTests {
    /// An empty database file (a valid SQLite database) in a directory of its own.
    private func databaseFile() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attest-writer-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("test.sqlite").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        return path
    }

    @Test("Configured FULL, the connection commits with NORMAL and syncs the log itself; NORMAL and OFF are left alone")
    func syncsItself() throws {
        let full = try SQLiteWriter(path: try databaseFile(), synchronous: "full")
        #expect(try full.synchronousLevel() == 1)
        #expect(full.syncer != nil)
        #expect(try full.begin() == false, "a first transaction has seen no version yet")
        try full.commit()
        for (setting, level) in [("normal", 1), ("off", 0)] {
            let writer = try SQLiteWriter(path: try databaseFile(), synchronous: setting)
            #expect(try writer.synchronousLevel() == level)
            #expect(writer.syncer == nil)
        }
    }

    @Test("A commit is acknowledged only after a sync of the log that began after it; one sync serves all waiting")
    func acknowledgedAfterSync() async throws {
        let path = try databaseFile()
        let writer = try SQLiteWriter(path: path, synchronous: "normal")
        try writer.execute("CREATE TABLE t (x INTEGER)")
        final class Gate: @unchecked Sendable {
            let entered = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let lock = NSLock()
            var calls = 0
            var failing = false
        }
        let gate = Gate()
        let syncer = WALSyncer(walPath: path + "-wal") { _ in
            gate.lock.withLock { gate.calls += 1 }
            gate.entered.signal()
            gate.release.wait()
            return gate.lock.withLock { gate.failing } ? -1 : 0
        }
        defer { syncer.stop() }
        final class Acknowledged: @unchecked Sendable {
            let lock = NSLock()
            var results: [Bool] = []
            func add(_ result: Result<Void, any Error>) {
                lock.withLock { results.append((try? result.get()) != nil) }
            }
            var count: Int { lock.withLock { results.count } }
        }
        let acknowledged = Acknowledged()
        syncer.afterSync { acknowledged.add($0) }
        gate.entered.wait()  // the first sync has begun; two more commits wait for the next one
        syncer.afterSync { acknowledged.add($0) }
        syncer.afterSync { acknowledged.add($0) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(acknowledged.count == 0, "nothing is acknowledged while its sync runs")
        gate.release.signal()
        gate.entered.wait()
        try await Task.sleep(for: .milliseconds(50))
        #expect(acknowledged.count == 1)
        gate.lock.withLock { gate.failing = true }
        gate.release.signal()
        var waited = 0
        while acknowledged.count < 3 && waited < 100 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(
            acknowledged.lock.withLock { acknowledged.results } == [true, false, false], "a failed sync fails its units"
        )
        #expect(gate.lock.withLock { gate.calls } == 2)
        #expect(syncer.syncs == 2)
    }

    @Test("The WAL is checkpointed mostly on the checkpointer's thread, and still starts over, so it stays bounded")
    func checkpointsElsewhere() async throws {
        let path = try databaseFile()
        let writer = try SQLiteWriter(path: path, synchronous: "normal")
        try writer.execute("CREATE TABLE pages (body BLOB NOT NULL)")
        // Three times the checkpoint threshold, a page and a bit per row, in transactions of 200 rows.
        let rows = Int(Checkpointer.pages) * 3
        for _ in 0..<(rows / 200) {
            _ = try writer.begin()
            try writer.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) "
                    + "INSERT INTO pages (body) SELECT randomblob(4000) FROM n")
            try writer.commit()
            // A moment between transactions, as the group committer has while it waits for submissions and syncs:
            // with the suite's other tests on both cores, back-to-back commits starved the checkpointer's thread
            // and the log outgrew the bound before it could start over.
            try await Task.sleep(for: .milliseconds(5))
        }
        var waited = 0
        while writer.checkpoints == 0 && waited < 100 {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        #expect(writer.checkpoints >= 1)
        let wal = try #require(try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int)
        let database = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        // Frames are a page and a 24-byte header; without restarts the log would hold every frame written.
        #expect(wal < (2 * Int(Checkpointer.pages) + 1_000) * 4_120, "the log restarted: \(wal) bytes")
        #expect(database > Int(Checkpointer.pages) * 4_096, "pages were copied into the file: \(database) bytes")
    }
}
