import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct SupervisorOutputTests {
    fileprivate struct Case: Sendable, CustomTestStringConvertible {
        var line: String
        var node: String
        var message: String
        var testDescription: String { line }
    }

    @Test(
        arguments: [
            Case(line: "[worker-1] hello", node: "worker-1", message: "hello"),
            Case(line: "[worker-1]hello", node: "worker-1", message: "hello"),
            Case(line: "[worker-1]  two spaces", node: "worker-1", message: " two spaces"),
            Case(line: "[a]b] text", node: "a", message: "b] text"),
            Case(line: "[] x", node: "", message: "x"),
            Case(line: "no prefix [a] b", node: "", message: "no prefix [a] b"),
            Case(line: "[unclosed text", node: "", message: "[unclosed text"),
        ]
    )
    fileprivate func prefixIsParsedAsZeekDoes(_ testCase: Case) {
        let line = ProcessSupervisor.OutputLine(channel: .stdout, line: testCase.line)
        #expect(line.node == testCase.node)
        #expect(line.message == testCase.message)
        #expect(line.text == "[supervisor:STDOUT] " + testCase.line)
    }

    @Test func nodeOutputGetsTheStemPrefix() {
        let line = ProcessSupervisor.OutputLine(channel: .stderr, node: "grault", text: "hello")
        #expect(line.line == "[grault] hello")
        #expect(line.text == "[supervisor:STDERR] [grault] hello")
        #expect(line.node == "grault")
        #expect(line.message == "hello")
    }

    @Test func splitterEmitsCompleteLinesAndKeepsTheRest() {
        var splitter = LineSplitter(maximumLineLength: 100)
        #expect(splitter.append(Array("one\ntwo\n\nthr".utf8)[...]) == [Array("one".utf8), Array("two".utf8), []])
        #expect(splitter.append(Array("ee\nfour".utf8)[...]) == [Array("three".utf8)])
        #expect(splitter.finish() == Array("four".utf8))
        #expect(splitter.finish() == nil)
    }

    @Test func splitterBoundsLineLength() {
        var splitter = LineSplitter(maximumLineLength: 4)
        #expect(splitter.append(Array("abcdefghij\nxy".utf8)[...]) == ["abcd", "efgh", "ij"].map { Array($0.utf8) })
        #expect(splitter.append(Array("z".utf8)[...]) == [])
        #expect(splitter.finish() == Array("xyz".utf8))
    }

    @Test func eventTextsAreZeeks() {
        typealias Event = ProcessSupervisor.Event
        #expect(
            Event.prematureExit(node: "w", pid: 12, termination: .exited(status: 3)).description
                == "Supervised node 'w' (PID 12) exited prematurely with status 3"
        )
        #expect(
            Event.prematureExit(node: "w", pid: 12, termination: .signaled(signal: 9)).description
                == "Supervised node 'w' (PID 12) terminated prematurely by signal 9"
        )
        #expect(
            Event.revived(node: "w", pid: 13).description == "Supervised node 'w' (PID 13) revived after premature exit"
        )
        #expect(Event.nodeStatus(node: "w", pid: 13).node == "w")
        let error = SupervisorError(.spawnFailed, "fork: Resource temporarily unavailable", node: "w")
        #expect(error.description == "node 'w': fork: Resource temporarily unavailable")
        #expect(
            Event.spawnFailed(node: "w", error: error).description
                == "failed to spawn node 'w': fork: Resource temporarily unavailable"
        )
    }
}
