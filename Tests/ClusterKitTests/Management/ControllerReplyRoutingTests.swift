import Testing

@testable import ClusterKitModel
@testable import ClusterKitRuntime

/// A client response goes only to the hub endpoint that sent its request (issue 12: no answer crosses to another
/// client), on a manual clock without a backend.
@Suite struct ControllerReplyRoutingTests {
    /// The request ids and recipients of the client responses among `effects`.
    private func recipients(_ effects: [ControllerStateMachine.Effect]) -> [String: UInt64?] {
        var found: [String: UInt64?] = [:]
        for effect in effects {
            if case .respond(let response) = effect, response.delivery == .client {
                found[response.reqid] = response.recipient
            }
        }
        return found
    }

    @Test func aLaterAnswerGoesToItsSenderAndADuplicateIDsRefusalToTheOther() {
        var machine = ControllerMachine()
        #expect(recipients(machine.step(.request(.testTimeout(reqid: "X", withState: true), from: 7))).isEmpty)
        #expect(machine.machine.replyTo == ["X": 7])

        // Another client reuses the pending id: only it hears the refusal, and the first keeps its address.
        let refused = machine.step(.request(.getNodes(reqid: "X"), from: 9))
        #expect(recipients(refused) == ["X": 9])
        let malformed = machine.step(.malformedRequest(.deploy, reqid: "X", message: "bad", from: 11))
        #expect(recipients(malformed) == ["X": 11])
        #expect(machine.machine.replyTo == ["X": 7])

        // The first request ends at its deadline: its answer goes to 7, and nothing is kept.
        #expect(recipients(machine.advance(by: .seconds(10))) == ["X": 7])
        #expect(machine.machine.replyTo.isEmpty)
    }

    @Test func anAnswerAtOnceGoesToItsSenderAndOneWithoutASenderToEveryone() {
        var machine = ControllerMachine()
        #expect(recipients(machine.step(.request(.getInstances(reqid: "A"), from: 3))) == ["A": 3])
        let toEveryone = recipients(machine.step(.request(.getInstances(reqid: "B"))))
        #expect(toEveryone.keys.sorted() == ["B"] && toEveryone["B"] == .some(nil))
        #expect(machine.machine.replyTo.isEmpty)
    }
}
