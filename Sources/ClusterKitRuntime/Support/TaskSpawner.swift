/// Runs work handed to it as child tasks of one ``run()`` call: structured concurrency for components that
/// start long-lived work (nodes, agents) in reaction to events.
///
/// Cancelling the task that runs ``run()`` cancels every child; ``finish()`` lets ``run()`` return once
/// the children are done.
final class TaskSpawner: Sendable {
    typealias Work = @Sendable () async -> Void

    private let stream: AsyncStream<Work>
    private let continuation: AsyncStream<Work>.Continuation

    init() {
        (stream, continuation) = AsyncStream<Work>.makeStream()
    }

    /// Hands work to ``run()``; returns `false` after ``finish()``.
    @discardableResult
    func spawn(_ work: @escaping Work) -> Bool {
        if case .terminated = continuation.yield(work) { return false }
        return true
    }

    /// Accepts no more work; ``run()`` returns when the running children end.
    func finish() {
        continuation.finish()
    }

    /// Runs the handed work as child tasks until ``finish()`` and the children are done, or cancellation.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await work in stream {
                group.addTask { await work() }
            }
        }
    }
}
