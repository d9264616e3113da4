import Crypto
import Foundation

#if canImport(CCryptoBoringSSL)
    // swift-crypto's own BoringSSL (its backend on Linux), called with the context on the stack: swift-crypto's
    // `SHA256` allocates a context object per hash and zeroises it twice, a third of the cost of hashing a
    // 230-byte entry — and verifying a log hashes two values per entry. Where swift-crypto uses CryptoKit
    // instead (Apple platforms), the module is absent and the public API below is used.
    import CCryptoBoringSSL
#endif

/// A 32-byte SHA-256 value in an RFC 6962 Merkle tree: a leaf hash, an interior node or a root.
///
/// Stored inline (four words) rather than as `Data`, because verifying a log hashes two values per entry
/// and an allocation per hash would dominate the cost.
public struct TreeHash: Hashable, Sendable, CustomStringConvertible {
    private var storage: (UInt64, UInt64, UInt64, UInt64)

    /// The number of bytes in a hash.
    public static let byteCount = 32

    /// `MTH({})`, the hash of the empty tree: SHA-256 of no bytes.
    public static let emptyTree = TreeHash(digest: SHA256.hash(data: [UInt8]()))

    /// Wraps exactly 32 bytes; `nil` for any other length.
    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let isCopied = bytes.withContiguousStorageIfAvailable { source in
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(source)) }
        }
        if isCopied == nil {
            withUnsafeMutableBytes(of: &storage) { target in
                var offset = 0
                for byte in bytes {
                    target[offset] = byte
                    offset += 1
                }
            }
        }
        self.storage = storage
    }

    /// Decodes standard base64 (with padding) of exactly 32 bytes.
    public init?(base64: String) {
        guard let data = Data(base64Encoded: base64), data.base64EncodedString() == base64 else { return nil }
        self.init(data)
    }

    /// Decodes 64 hexadecimal digits.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        for pair in stride(from: 0, to: 64, by: 2) {
            guard let high = Self.nibble(digits[pair]), let low = Self.nibble(digits[pair + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.init(bytes)
    }

    private init(storage: (UInt64, UInt64, UInt64, UInt64)) {
        self.storage = storage
    }

    init(digest: SHA256.Digest) {
        storage = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &storage) { target in
            digest.withUnsafeBytes { source in target.copyMemory(from: source) }
        }
    }

    /// The leaf hash of one log entry: `SHA-256(0x00 || entry)`.
    public static func leaf(_ entry: some ContiguousBytes) -> TreeHash {
        entry.withUnsafeBytes { bytes in
            #if canImport(CCryptoBoringSSL)
                var context = SHA256_CTX()
                var prefix = UInt8(0x00)
                var result = TreeHash(storage: (0, 0, 0, 0))
                CCryptoBoringSSL_SHA256_Init(&context)
                CCryptoBoringSSL_SHA256_Update(&context, &prefix, 1)
                CCryptoBoringSSL_SHA256_Update(&context, bytes.baseAddress, bytes.count)
                withUnsafeMutableBytes(of: &result.storage) {
                    _ = CCryptoBoringSSL_SHA256_Final($0.baseAddress!.assumingMemoryBound(to: UInt8.self), &context)
                }
                return result
            #else
                // One contiguous update: swift-crypto's generic `update(data:)` walks a `DataProtocol` byte by byte.
                var hasher = SHA256()
                withUnsafeBytes(of: UInt8(0x00)) { hasher.update(bufferPointer: $0) }
                hasher.update(bufferPointer: bytes)
                return TreeHash(digest: hasher.finalize())
            #endif
        }
    }

    /// The leaf hash of an entry's UTF-8 text.
    public static func leaf(_ entry: String) -> TreeHash {
        var entry = entry
        return entry.withUTF8 { leaf(UnsafeRawBufferPointer($0)) }
    }

    /// An interior node: `SHA-256(0x01 || left || right)`.
    public static func node(_ left: TreeHash, _ right: TreeHash) -> TreeHash {
        // 0x01, left and right laid out in one 72-byte stack buffer; hashing bytes 7..<72 is one update.
        var buffer: (UInt64, (UInt64, UInt64, UInt64, UInt64), (UInt64, UInt64, UInt64, UInt64)) = (
            UInt64(1).bigEndian, left.storage, right.storage
        )
        return withUnsafeBytes(of: &buffer) { raw in
            #if canImport(CCryptoBoringSSL)
                var result = TreeHash(storage: (0, 0, 0, 0))
                withUnsafeMutableBytes(of: &result.storage) {
                    _ = CCryptoBoringSSL_SHA256(
                        raw.baseAddress! + 7, 65, $0.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
                return result
            #else
                var hasher = SHA256()
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[7..<72]))
                return TreeHash(digest: hasher.finalize())
            #endif
        }
    }

    /// The 32 bytes.
    public var bytes: [UInt8] { withUnsafeBytes(of: storage) { Array($0) } }

    /// The 32 bytes as `Data`.
    public var data: Data { withUnsafeBytes(of: storage) { Data($0) } }

    /// Standard base64 with padding (44 characters), as in checkpoints and proofs.
    public var base64: String { data.base64EncodedString() }

    /// Lower-case hexadecimal (64 characters).
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { hex }

    /// Flips one bit (0 ..< 256); for tests that check a changed hash is rejected.
    public func flippingBit(_ bit: Int) -> TreeHash {
        var copy = bytes
        copy[bit / 8] ^= 1 << (bit % 8)
        return TreeHash(copy)!
    }

    public static func == (lhs: TreeHash, rhs: TreeHash) -> Bool {
        lhs.storage.0 == rhs.storage.0 && lhs.storage.1 == rhs.storage.1 && lhs.storage.2 == rhs.storage.2
            && lhs.storage.3 == rhs.storage.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0)
        hasher.combine(storage.1)
        hasher.combine(storage.2)
        hasher.combine(storage.3)
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
