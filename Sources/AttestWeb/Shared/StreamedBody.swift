import NIOConcurrencyHelpers
import NIOCore
import Vapor

/// A request body as an async sequence of buffers, with backpressure: at most `window` buffers wait for the
/// consumer; beyond that the connection stops reading until the consumer catches up. Built on `drain` because
/// Vapor's own `AsyncSequence` conformance can hit a `preconditionFailure` under load (vapor/vapor#3153, seen
/// here with twenty concurrent uploads after a restart).
///
/// Once the consumer stops early (it refused the body), the connection stops reading: what the client still sends
/// is neither read nor parsed, and the idle timeout closes the connection. With a time limit, a body still arriving
/// when it runs out ends in `TimedOut`.
struct StreamedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    static let window = 16

    /// The body took longer than its time limit (408).
    struct TimedOut: Error {}
    /// The consumer stopped before the end of the body: the connection reads no more of it.
    struct Abandoned: Error {}

    struct State {
        var buffered = 0
        var pending: EventLoopPromise<Void>?
        var finished = false
        /// Buffers answered with a completed future since the stack last unwound.
        var sinceUnwind = 0
    }

    private let stream: AsyncThrowingStream<ByteBuffer, any Error>
    private let state: NIOLockedValueBox<State>

    /// The body of `request`; with `seconds`, it must arrive within that time.
    init(_ request: Request, seconds: Int? = nil) {
        let state = NIOLockedValueBox(State())
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let eventLoop = request.eventLoop
        let timer = seconds.map { seconds in
            eventLoop.scheduleTask(in: .seconds(Int64(seconds))) { continuation.finish(throwing: TimedOut()) }
        }
        continuation.onTermination = { _ in
            timer?.cancel()
            // The consumer stopped: release the reader and drop what still arrives.
            let pending = state.withLockedValue { state -> EventLoopPromise<Void>? in
                state.finished = true
                defer { state.pending = nil }
                return state.pending
            }
            pending?.succeed()
        }
        request.body.drain { part in
            switch part {
            case .buffer(let buffer):
                // One look at the state per buffer: abandoned (a failed future makes Vapor stop reading the
                // connection), over the window (wait for the consumer), or neither. Not always an
                // already-completed future: Vapor answers one by handing over the next buffered chunk inside the
                // same call, so a body of many tiny chunks (1-byte HTTP chunks) recursed until the stack
                // overflowed; every `window`th buffer completes on the next tick of the event loop instead.
                enum Answer {
                    case abandoned, wait(EventLoopPromise<Void>), unwind, now
                }
                let answer = state.withLockedValue { state -> Answer in
                    guard !state.finished else { return .abandoned }
                    state.buffered += 1
                    if state.buffered >= Self.window {
                        let promise = eventLoop.makePromise(of: Void.self)
                        state.pending = promise
                        return .wait(promise)
                    }
                    state.sinceUnwind += 1
                    guard state.sinceUnwind >= Self.window else { return .now }
                    state.sinceUnwind = 0
                    return .unwind
                }
                switch answer {
                case .abandoned: return eventLoop.makeFailedFuture(Abandoned())
                case .wait(let promise):
                    continuation.yield(buffer)
                    return promise.futureResult
                case .unwind:
                    continuation.yield(buffer)
                    return eventLoop.submit {}
                case .now:
                    continuation.yield(buffer)
                    return eventLoop.makeSucceededVoidFuture()
                }
            case .error(let error):
                continuation.finish(throwing: error)
                return eventLoop.makeSucceededVoidFuture()
            case .end:
                continuation.finish()
                return eventLoop.makeSucceededVoidFuture()
            }
        }
        self.stream = stream
        self.state = state
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator
        let state: NIOLockedValueBox<State>

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            let pending = state.withLockedValue { state -> EventLoopPromise<Void>? in
                state.buffered -= 1
                guard state.buffered < StreamedBody.window else { return nil }
                defer { state.pending = nil }
                return state.pending
            }
            pending?.succeed()
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), state: state)
    }
}
