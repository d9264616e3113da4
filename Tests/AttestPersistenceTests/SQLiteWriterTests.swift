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
}
