import Crypto
import Foundation

/// Staff sign-in throttling, in memory (per process): attempts per client per minute, and tries per pair of client
/// and account within a window. Clients and pairs are known by HMACs under salts replaced with each window, along
/// with the counts, so no address, nor anything that could be matched to one later, is kept.
///
/// A pair's tries are reserved before a password or code is checked and given back when it was right, so requests
/// racing on one pair cannot together try more than `triesPerPair`. The tables are bounded (`maxEntries`): past
/// that, new clients and pairs go uncounted until the window ends (the store's per-account count still holds).
public final class SignInThrottle: @unchecked Sendable {
    public struct Limits: Sendable {
        /// Sign-in requests (password or code) a client may send per minute; 0 for no limit.
        public var attemptsPerMinute: Int
        /// Failed tries a pair of client and account has per window.
        public var triesPerPair: Int
        /// The window, in seconds.
        public var window: TimeInterval
        /// Clients, and pairs, counted at most per window.
        public var maxEntries: Int

        public init(
            attemptsPerMinute: Int = 10, triesPerPair: Int = 5, window: TimeInterval = 900, maxEntries: Int = 100_000
        ) {
            self.attemptsPerMinute = attemptsPerMinute
            self.triesPerPair = triesPerPair
            self.window = window
            self.maxEntries = maxEntries
        }
    }

    /// Counts under one salt, for one fixed window.
    private struct Table {
        var start = Date.distantPast
        var salt = SymmetricKey(size: .bits256)
        var counts: [Data: Int] = [:]

        mutating func roll(at now: Date, length: TimeInterval, random: any RandomSource) {
            guard now.timeIntervalSince(start) >= length || now < start else { return }
            start = now
            salt = SymmetricKey(data: random.bytes(count: 32))
            counts = [:]
        }

        func key(_ text: String) -> Data {
            Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: salt).prefix(16))
        }
    }

    public let limits: Limits
    private let random: any RandomSource
    private let lock = NSLock()
    private var clients = Table()
    private var pairs = Table()

    public init(limits: Limits, random: any RandomSource) {
        self.limits = limits
        self.random = random
    }

    /// Counts one request from `client`; the seconds to wait when it is over the limit, nil otherwise.
    public func admit(client: String, now: Date) -> Int? {
        guard limits.attemptsPerMinute > 0 else { return nil }
        return lock.withLock {
            clients.roll(at: now, length: 60, random: random)
            let key = clients.key(client)
            let count = (clients.counts[key] ?? 0) + 1
            guard clients.counts[key] != nil || clients.counts.count < limits.maxEntries else { return nil }
            clients.counts[key] = count
            guard count > limits.attemptsPerMinute else { return nil }
            return max(1, Int((60 - now.timeIntervalSince(clients.start)).rounded(.up)))
        }
    }

    /// Reserves one try for `pair`; false when its tries in this window are used up.
    public func reserve(pair: String, now: Date) -> Bool {
        lock.withLock {
            pairs.roll(at: now, length: limits.window, random: random)
            let key = pairs.key(pair)
            let count = pairs.counts[key] ?? 0
            guard count > 0 || pairs.counts.count < limits.maxEntries else { return true }
            guard count < limits.triesPerPair else { return false }
            pairs.counts[key] = count + 1
            return true
        }
    }

    /// Gives back a try that succeeded.
    public func release(pair: String, now: Date) {
        lock.withLock {
            pairs.roll(at: now, length: limits.window, random: random)
            let key = pairs.key(pair)
            if let count = pairs.counts[key] { pairs.counts[key] = count > 1 ? count - 1 : nil }
        }
    }

    /// Forgets a pair's failures (after a complete sign-in).
    public func clear(pair: String, now: Date) {
        lock.withLock {
            pairs.roll(at: now, length: limits.window, random: random)
            pairs.counts[pairs.key(pair)] = nil
        }
    }
}
