import Foundation

/// The source of the current time. Core never calls `Date()` itself, so tests can fix the clock.
public protocol Clock: Sendable {
    /// The current instant.
    func now() -> Date
}

/// The source of randomness: identifiers, follow-up codes and nonces. Tests may substitute a seeded source.
public protocol RandomSource: Sendable {
    /// `count` bytes of cryptographically secure randomness.
    func bytes(count: Int) -> [UInt8]
    /// A fresh random UUID.
    func uuid() -> UUID
}

/// The system clock.
public struct SystemClock: Clock {
    public init() {}
    public func now() -> Date { Date() }
}

/// The operating system's cryptographically secure random number generator.
public struct SystemRandomSource: RandomSource {
    public init() {}

    public func bytes(count: Int) -> [UInt8] {
        // Eight bytes per draw: `UInt8.random` would make one getrandom(2) system call per byte (measured: a
        // 32-byte nonce cost 32 system calls on every custody entry).
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            withUnsafeBytes(of: generator.next()) { bytes.append(contentsOf: $0) }
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    public func uuid() -> UUID { UUID() }
}
