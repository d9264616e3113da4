import NIOCore

/// The limits on a `multipart/form-data` body that an anonymous client sends. Everything but the bytes of file
/// parts is bounded here: each part's header section (bytes and lines), the part name, the number of parts, and
/// (with the caller's text limit) every byte that is not a file's content.
struct MultipartLimits: Sendable, Equatable {
    /// Longest header section of one part, in bytes (`ATTEST_MULTIPART_HEADER_BYTES`, default 4096).
    var headerBytes = 4_096
    /// Most header lines in one part (`ATTEST_MULTIPART_HEADERS`, default 8).
    var headers = 8
    /// Most parts in one body, empty ones included (`ATTEST_MULTIPART_PARTS`, default 1000).
    var parts = 1_000
    /// Longest part name, in bytes (`ATTEST_MULTIPART_NAME_BYTES`, default 200).
    var nameBytes = 200
    /// Longest time a form body (urlencoded or multipart) may take to arrive, in seconds
    /// (`ATTEST_FORM_BODY_SECONDS`, default 1800).
    var bodySeconds = 1_800
}

/// A streaming `multipart/form-data` reader (RFC 7578 on RFC 2046's syntax) that holds at most one part's header
/// section and a delimiter's length of content in memory, whatever arrives. It replaces MultipartKit's parser,
/// whose header parser accumulates a header value until it sees CR with no limit, copying it on every chunk.
///
/// Feed it the body's buffers in order; each call returns what they completed. Content bytes come out as slices
/// of the buffers fed, so a file part streams through without being collected.
struct MultipartReader {
    enum Event: Equatable {
        /// A part starts: its `Content-Disposition` name and filename (nil for a text field).
        case part(name: String, filename: String?)
        /// Content bytes of the current part.
        case content(ByteBuffer)
        /// The current part ended.
        case end
    }

    /// Why a body was refused; every case leaves the rest of the body unread.
    enum Failure: Error, Equatable {
        /// A part's header section is longer than `headerBytes` or has more than `headers` lines (413).
        case headerTooLarge
        /// More than `parts` parts (413).
        case tooManyParts
        /// A part name longer than `nameBytes` (413).
        case nameTooLong
        /// Bytes outside file contents (headers, fields, preamble, epilogue) beyond the text limit (413).
        case tooMuchText
        /// Not multipart syntax: a header line without a colon, a part without `Content-Disposition: form-data`
        /// and a name, a delimiter not followed by CRLF, or a body that ends before the closing delimiter (400).
        case malformed
    }

    private enum State {
        /// Before the first delimiter.
        case preamble
        /// Just after a delimiter: either `--` (the close) or optional padding and CRLF.
        case afterDelimiter
        /// In a part's header section.
        case headers
        /// In a part's content.
        case content
        /// After the closing delimiter.
        case epilogue
    }

    let limits: MultipartLimits
    /// Largest number of bytes outside file contents.
    let maxTextBytes: Int
    /// `CRLF--boundary`.
    private let delimiter: [UInt8]
    private var state = State.preamble
    /// Bytes carried over from the last buffer: a possible start of a delimiter, or the header section so far.
    private var carry: [UInt8]
    private var partCount = 0
    private var textBytes = 0
    private var isFilePart = false
    /// How much of the header section in `carry` has been searched for its end already: a section arriving a
    /// byte at a time is searched once, not once per byte.
    private var headerSearched = 0

    /// The names of the parts whose files stream to disk; the bytes of any other part, file or not, count against
    /// `maxTextBytes`, so an unexpected file part cannot stream without limit.
    let fileFields: Set<String>

    init(boundary: String, limits: MultipartLimits, maxTextBytes: Int, fileFields: Set<String> = []) {
        self.fileFields = fileFields
        self.limits = limits
        self.maxTextBytes = maxTextBytes
        delimiter = Array("\r\n--\(boundary)".utf8)
        // A body starts with `--boundary`, without the CRLF that precedes later delimiters: pretend it was there,
        // so one search finds every delimiter.
        carry = [0x0D, 0x0A]
    }

    /// Reads one more buffer of the body; returns the events it completed.
    mutating func read(_ buffer: ByteBuffer) throws(Failure) -> [Event] {
        var events: [Event] = []
        var bytes: [UInt8] = carry
        bytes.append(contentsOf: buffer.readableBytesView)
        carry = []
        var position = 0
        while position < bytes.count {
            switch state {
            case .preamble, .content, .epilogue:
                if state == .epilogue {
                    try countText(bytes.count - position)
                    return events
                }
                let (found, safeEnd) = search(bytes, from: position)
                let contentEnd = found ?? safeEnd
                if contentEnd > position {
                    if state == .content {
                        if !isFilePart { try countText(contentEnd - position) }
                        events.append(.content(ByteBuffer(bytes: bytes[position..<contentEnd])))
                    } else {
                        try countText(contentEnd - position)
                    }
                }
                guard let found else {
                    carry = Array(bytes[safeEnd...])
                    return events
                }
                if state == .content { events.append(.end) }
                position = found + delimiter.count
                state = .afterDelimiter
            case .afterDelimiter:
                // `--` closes the body; otherwise linear white space, then CRLF.
                guard bytes.count - position >= 2 else {
                    carry = Array(bytes[position...])
                    return events
                }
                if bytes[position] == 0x2D, bytes[position + 1] == 0x2D {
                    position += 2
                    state = .epilogue
                    continue
                }
                var index = position
                while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 {
                    index += 1
                    guard index - position <= limits.headerBytes else { throw .headerTooLarge }
                }
                guard index + 1 < bytes.count else {
                    carry = Array(bytes[position...])
                    return events
                }
                guard bytes[index] == 0x0D, bytes[index + 1] == 0x0A else { throw .malformed }
                try countText(index + 2 - position)
                position = index + 2
                partCount += 1
                guard partCount <= limits.parts else { throw .tooManyParts }
                state = .headers
            case .headers:
                // The section ends at the first empty line: CRLF at its start, or CRLFCRLF.
                guard let end = headerEnd(bytes, from: position, searched: headerSearched) else {
                    guard bytes.count - position <= limits.headerBytes else { throw .headerTooLarge }
                    carry = Array(bytes[position...])
                    headerSearched = carry.count
                    return events
                }
                headerSearched = 0
                guard end.sectionEnd - position <= limits.headerBytes else { throw .headerTooLarge }
                try countText(end.next - position)
                let (name, filename) = try disposition(in: bytes[position..<end.sectionEnd])
                isFilePart = filename != nil && fileFields.contains(name)
                events.append(.part(name: name, filename: filename))
                position = end.next
                state = .content
            }
        }
        return events
    }

    /// Called when the body ended: refuses one that did not reach its closing delimiter.
    func finish() throws(Failure) {
        guard state == .epilogue else { throw .malformed }
    }

    private mutating func countText(_ count: Int) throws(Failure) {
        textBytes += count
        guard textBytes <= maxTextBytes else { throw .tooMuchText }
    }

    /// The first delimiter at or after `start`, and the end of the bytes that cannot be the start of one (the
    /// rest may be completed by the next buffer).
    private func search(_ bytes: [UInt8], from start: Int) -> (found: Int?, safeEnd: Int) {
        let count = bytes.count
        let length = delimiter.count
        return bytes.withUnsafeBufferPointer { pointer in
            var index = start
            while index < count {
                guard pointer[index] == 0x0D else {
                    index += 1
                    continue
                }
                var matched = 1
                while matched < length, index + matched < count, pointer[index + matched] == delimiter[matched] {
                    matched += 1
                }
                if matched == length { return (index, index) }
                if index + matched == count { return (nil, index) }
                index += 1
            }
            return (nil, count)
        }
    }

    /// The end of a header section starting at `start` (where its last line's CRLF starts) and where the content
    /// begins, or nil when the section is not complete yet; the first `searched` bytes were searched before.
    private func headerEnd(_ bytes: [UInt8], from start: Int, searched: Int) -> (sectionEnd: Int, next: Int)? {
        if bytes.count - start >= 2, bytes[start] == 0x0D, bytes[start + 1] == 0x0A { return (start, start + 2) }
        var index = start + max(0, searched - 3)
        while index + 3 < bytes.count {
            if bytes[index] == 0x0D, bytes[index + 1] == 0x0A, bytes[index + 2] == 0x0D, bytes[index + 3] == 0x0A {
                return (index, index + 4)
            }
            index += 1
        }
        return nil
    }

    /// The part's name and filename from its header lines; every line must be `Name: value`, at most `headers`
    /// of them, and `Content-Disposition: form-data; name=…` must be among them.
    private func disposition(in section: ArraySlice<UInt8>) throws(Failure) -> (String, String?) {
        var result: (String, String?)?
        var lines = 0
        var lineStart = section.startIndex
        var index = section.startIndex
        while lineStart < section.endIndex {
            while index < section.endIndex, section[index] != 0x0D { index += 1 }
            lines += 1
            guard lines <= limits.headers else { throw .headerTooLarge }
            guard let line = String(validating: section[lineStart..<index], as: UTF8.self),
                let colon = line.firstIndex(of: ":")
            else { throw .malformed }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            if name == "content-disposition" {
                let value = String(line[line.index(after: colon)...])
                guard
                    value.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
                        == "form-data",
                    let parsed = Self.parseDisposition(value), result == nil
                else { throw .malformed }
                guard parsed.name.utf8.count <= limits.nameBytes, (parsed.filename?.utf8.count ?? 0) <= limits.nameBytes
                else { throw .nameTooLong }
                result = parsed
            }
            index += 2
            lineStart = index
        }
        guard let result else { throw .malformed }
        return result
    }

    /// `form-data; name="narrative"` or `form-data; name="evidence"; filename="IMG_0001.jpg"`.
    static func parseDisposition(_ value: String) -> (name: String, filename: String?)? {
        var name: String?
        var filename: String?
        for parameter in value.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let key = pair[0].trimmingCharacters(in: .whitespaces).lowercased()
            var raw = pair[1].trimmingCharacters(in: .whitespaces)
            if raw.hasPrefix("\""), raw.hasSuffix("\""), raw.count >= 2 { raw = String(raw.dropFirst().dropLast()) }
            if key == "name" { name = raw }
            if key == "filename" { filename = raw }
        }
        return name.map { ($0, filename) }
    }
}
