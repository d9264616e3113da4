import AttestCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Sealed originals on the local filesystem: `objects/ab/cd/<sha256>` (read-only, mode 0400), capture metadata
/// beside each as `<sha256>.metadata.json`. A file enters the store only by an atomic rename of a finished,
/// fsynced file, so a partial file is never visible under a content name; identical content is stored once.
public struct FileEvidenceStore: EvidenceBlobStore {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("objects"), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
    }

    /// Why a store operation failed.
    public enum Error: Swift.Error, CustomStringConvertible {
        case invalidName(String)
        case system(String, Int32)

        public var description: String {
            switch self {
            case .invalidName(let name): "not a SHA-256: \(name)"
            case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
            }
        }
    }

    public func url(sha256: String) throws -> URL {
        guard sha256.utf8.count == 64,
            sha256.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { throw Error.invalidName(sha256) }
        let first = sha256.prefix(2)
        let second = sha256.dropFirst(2).prefix(2)
        return root.appendingPathComponent("objects/\(first)/\(second)/\(sha256)")
    }

    public func seal(file: URL, sha256: String) async throws -> Bool {
        let destination = try url(sha256: sha256)
        let directory = destination.deletingLastPathComponent()
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if FileManager.default.fileExists(atPath: destination.path) {
            try? FileManager.default.removeItem(at: file)
            return false
        }
        guard chmod(file.path, 0o400) == 0 else { throw Error.system("chmod", errno) }
        guard rename(file.path, destination.path) == 0 else { throw Error.system("rename", errno) }
        try Self.syncDirectory(directory)
        return true
    }

    public func size(sha256: String) async throws -> Int64? {
        var info = stat()
        guard stat(try url(sha256: sha256).path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    public func read(sha256: String, chunkSize: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) async throws {
        try Self.read(path: try url(sha256: sha256).path, chunkSize: chunkSize, body)
    }

    /// Streams a file's bytes to `body` in chunks of at most `chunkSize` (one buffer, reused).
    public static func read(path: String, chunkSize: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Error.system("open", errno) }
        defer { close(descriptor) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, chunkSize)
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw Error.system("read", errno) }
            if count == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    public func setMetadata(_ json: Data, sha256: String) async throws {
        let destination = try url(sha256: sha256).appendingPathExtension("metadata.json")
        try json.write(to: destination, options: [.atomic])
        _ = chmod(destination.path, 0o400)
    }

    public func localFile(sha256: String) -> URL? {
        guard let url = try? url(sha256: sha256), FileManager.default.fileExists(atPath: url.path) else { return nil }
        return url
    }

    public func metadata(sha256: String) async throws -> Data? {
        let source = try url(sha256: sha256).appendingPathExtension("metadata.json")
        return FileManager.default.contents(atPath: source.path)
    }

    public func remove(sha256: String) async throws {
        let target = try url(sha256: sha256)
        try? FileManager.default.removeItem(at: target.appendingPathExtension("metadata.json"))
        if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
    }

    public func all(storedBefore cutoff: Date) async throws -> [String] {
        let objects = root.appendingPathComponent("objects")
        guard let walker = FileManager.default.enumerator(atPath: objects.path) else { return [] }
        var names: [String] = []
        while let path = walker.nextObject() as? String {
            let name = (path as NSString).lastPathComponent
            guard name.utf8.count == 64, let url = try? url(sha256: name),
                let modified = try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date,
                modified < cutoff
            else { continue }
            names.append(name)
        }
        return names
    }

    /// Makes a rename in `directory` durable.
    static func syncDirectory(_ directory: URL) throws {
        let descriptor = open(directory.path, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { throw Error.system("open", errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Error.system("fsync", errno) }
    }
}
