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

    @Test(
        "Work that may skip waiting for the disk runs with synchronous NORMAL, and FULL is back afterwards, even after an error"
    )
    func withoutWaitingForDisk() throws {
        let writer = try SQLiteWriter(path: try databaseFile(), synchronous: "full")
        #expect(try writer.synchronousLevel() == 2)
        let inside = try writer.withoutWaitingForDisk { try writer.synchronousLevel() }
        #expect(inside == 1)
        #expect(try writer.synchronousLevel() == 2)
        struct Refused: Error {}
        #expect(throws: Refused.self) { try writer.withoutWaitingForDisk { throw Refused() } }
        #expect(try writer.synchronousLevel() == 2)
        #expect(!writer.isBroken)
        #expect(try writer.begin() == false, "a first transaction has seen no version yet")
        try writer.commit()
    }

    @Test("A connection configured not to wait for the disk is left as configured")
    func alreadyRelaxed() throws {
        let writer = try SQLiteWriter(path: try databaseFile(), synchronous: "normal")
        #expect(try writer.withoutWaitingForDisk { try writer.synchronousLevel() } == 1)
        #expect(try writer.synchronousLevel() == 1)
        let off = try SQLiteWriter(path: try databaseFile(), synchronous: "off")
        #expect(try off.withoutWaitingForDisk { try off.synchronousLevel() } == 0)
    }

    @Test("The WAL is checkpointed on the checkpointer's thread, not in the writer's commits, and stays bounded")
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
        #expect(wal < rows * 4_096, "the log restarted after checkpoints: \(wal) bytes")
        #expect(database > Int(Checkpointer.pages) * 4_096, "pages were copied into the file: \(database) bytes")
    }
}
