import AttestCore
import Foundation

/// Capture metadata (time, GPS, device, duration…) read with exiftool when it is installed, stored beside the
/// original and never published. Without exiftool, nothing is extracted and uploads work as before.
struct MetadataExtractor: Sendable {
    /// The exiftool executable, or nil when metadata extraction is off or exiftool is not installed.
    let executable: URL?
    /// Longest an extraction may run, in seconds.
    var timeout: TimeInterval = 60

    /// Groups that describe the file on this server (name, permissions, paths), not the capture.
    static let droppedGroups = ["SourceFile", "File:", "System:", "ExifTool:"]

    /// Finds exiftool: `configured` ("off" disables it), or the first `exiftool` on `PATH`.
    static func locate(configured: String?, path: String?) -> MetadataExtractor {
        if let configured, !configured.isEmpty {
            if configured == "off" { return MetadataExtractor(executable: nil) }
            return MetadataExtractor(executable: URL(fileURLWithPath: configured))
        }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("exiftool")
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return MetadataExtractor(executable: candidate)
            }
        }
        return MetadataExtractor(executable: nil)
    }

    /// The capture metadata of the sealed file, as canonical JSON, or nil (no exiftool, or it failed).
    func extract(from file: URL) async -> Data? {
        guard let executable else { return nil }
        let process = Process()
        process.executableURL = executable
        process.arguments = ["-json", "-n", "-G", "-api", "largefilesupport=1", "--", file.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return nil
        }
        let deadline = Date().addingTimeInterval(timeout)
        let reader = Task.detached { output.fileHandleForReading.readDataToEndOfFile() }
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let data = await reader.value
        guard process.terminationStatus == 0,
            let parsed = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]], let tags = parsed.first
        else { return nil }
        let kept = tags.filter { key, _ in !Self.droppedGroups.contains { key.hasPrefix($0) } }
        return try? JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys])
    }
}
