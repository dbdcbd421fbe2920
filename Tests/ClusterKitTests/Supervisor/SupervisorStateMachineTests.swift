import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

@Suite struct SupervisorStateMachineTests {
    typealias Machine = SupervisorStateMachine

    @Test func revivalDelaysFollowZeeksSequence() {
        var backoff = RevivalBackoff()
        var delays: [Duration] = []
        for _ in 0..<13 {
            delays.append(backoff.delay)
            backoff.recordAttempt()
        }
        #expect(delays == [1, 1, 1, 2, 2, 2, 4, 4, 4, 8, 8, 8, 16].map { Duration.seconds($0) })
    }

    @Test func revivalCountersStartOverAfterMoreThanThirtySecondsOfUptime() {
        var backoff = RevivalBackoff()
        for _ in 0..<4 { backoff.recordAttempt() }
        backoff.observe(uptime: .seconds(30))
        #expect(backoff.delay == .seconds(2))
        backoff.observe(uptime: .seconds(30) + .milliseconds(1))
        #expect(backoff.delay == .seconds(1))
        #expect(backoff.attempts == 0)
    }

    @Test func instantlyDyingNodeIsRespawnedAfterTheBackOffFromItsPreviousSpawn() throws {
        var machine = Machine(stopSequence: .standard)
        var now = Duration.zero
        var key = try #require(spawnKey(in: machine.create(.init(name: "w"), now: now)))
        var pid: Int32 = 100
        var waits: [Duration] = []
        for _ in 0..<7 {
            let spawned = machine.spawnCompleted(key, result: .spawned(pid: pid), now: now)
            #expect(spawned.contains(.emit(.nodeStatus(node: "w", pid: Int(pid)))))
            let exited = machine.processExited(serial: key.serial, pid: pid, termination: .exited(status: 1), now: now)
            #expect(exited.first == .emit(.prematureExit(node: "w", pid: Int(pid), termination: .exited(status: 1))))
            let (timer, deadline) = try #require(schedule(in: exited))
            // The exit says when the node comes back, for an agent to tell whoever dispatches to it meanwhile.
            #expect(exited.dropFirst().first == .emit(.revivalScheduled(node: "w", delay: deadline - now)))
            waits.append(deadline - now)
            now = deadline
            key = try #require(spawnKey(in: machine.timerFired(timer, now: now)))
            pid += 1
        }
        #expect(waits == [1, 1, 1, 2, 2, 2, 4].map { Duration.seconds($0) })
        let revived = machine.spawnCompleted(key, result: .spawned(pid: pid), now: now)
        #expect(
            revived == [.emit(.revived(node: "w", pid: Int(pid))), .emit(.nodeStatus(node: "w", pid: Int(pid)))]
        )
    }

    @Test func restartKeepsTheRevivalCounters() throws {
        var machine = Machine(stopSequence: .standard)
        var now = Duration.zero
        var key = try #require(spawnKey(in: machine.create(.init(name: "w"), now: now)))
        // Three quick deaths raise the delay to 2 s.
        for pid: Int32 in 1...3 {
            _ = machine.spawnCompleted(key, result: .spawned(pid: pid), now: now)
            let (timer, deadline) = try #require(
                schedule(in: machine.processExited(serial: key.serial, pid: pid, termination: .unknown, now: now))
            )
            now = deadline
            key = try #require(spawnKey(in: machine.timerFired(timer, now: now)))
        }
        _ = machine.spawnCompleted(key, result: .spawned(pid: 4), now: now)
        let (restarted, stopActions) = machine.restart("w", now: now)
        #expect(restarted)
        #expect(stopActions.contains(.signal(pid: 4, signal: SupervisorSignal.terminate)))
        key = try #require(
            spawnKey(in: machine.processExited(serial: key.serial, pid: 4, termination: .unknown, now: now))
        )
        _ = machine.spawnCompleted(key, result: .spawned(pid: 5), now: now)
        let (_, deadline) = try #require(
            schedule(in: machine.processExited(serial: key.serial, pid: 5, termination: .unknown, now: now))
        )
        #expect(deadline - now == .seconds(2))
    }

    @Test func staleTimersAreIgnored() throws {
        var machine = Machine(stopSequence: .standard)
        let key = try #require(spawnKey(in: machine.create(.init(name: "w"), now: .zero)))
        _ = machine.spawnCompleted(key, result: .spawned(pid: 7), now: .zero)
        let (timer, _) = try #require(
            schedule(in: machine.processExited(serial: key.serial, pid: 7, termination: .unknown, now: .zero))
        )
        // A restart spawns at once; the revival timer set before is stale.
        #expect(spawnKey(in: machine.restart("w", now: .zero).1) != nil)
        #expect(machine.timerFired(timer, now: .seconds(1)) == [])
    }

    @Test func destroyDuringSpawnStopsTheNodeOnceItRuns() throws {
        var machine = Machine(stopSequence: .standard)
        let key = try #require(spawnKey(in: machine.create(.init(name: "w"), now: .zero)))
        #expect(machine.destroy("w", now: .zero) == (true, []))
        let actions = machine.spawnCompleted(key, result: .spawned(pid: 9), now: .zero)
        #expect(actions.contains(.signal(pid: 9, signal: SupervisorSignal.terminate)))
        #expect(machine.status("").nodes.isEmpty)
    }

    @Test func stopSequenceSendsTermThenKill() throws {
        let stop = ProcessSupervisor.Configuration.StopSequence(terminateAttempts: 2, interval: .seconds(2))
        var machine = Machine(stopSequence: stop)
        let key = try #require(spawnKey(in: machine.create(.init(name: "w"), now: .zero)))
        _ = machine.spawnCompleted(key, result: .spawned(pid: 3), now: .zero)
        var actions = machine.destroy("w", now: .zero).1
        var signals: [Int32] = []
        for step in 1...4 {
            signals += actions.compactMap {
                if case .signal(_, let signal) = $0 { return signal }
                return nil
            }
            let (timer, deadline) = try #require(schedule(in: actions))
            #expect(deadline == .seconds(2 * Int64(step)))
            actions = machine.timerFired(timer, now: deadline)
        }
        let term = SupervisorSignal.terminate
        let kill = SupervisorSignal.kill
        #expect(signals == [term, term, kill, kill])
        #expect(ProcessSupervisor.Configuration.StopSequence.standard.signal(forAttempt: 12) == term)
        #expect(ProcessSupervisor.Configuration.StopSequence.standard.signal(forAttempt: 13) == kill)
        #expect(ProcessSupervisor.Configuration.StopSequence(sendsKill: false).signal(forAttempt: 100) == term)
    }

    @Test func zeekReturnValuesForUnknownAndAllNodes() {
        var machine = Machine(stopSequence: .standard)
        #expect(machine.destroy("nope", now: .zero).0 == false)
        #expect(machine.restart("nope", now: .zero).0 == false)
        #expect(machine.destroy("", now: .zero).0 == true)
        #expect(machine.restart("", now: .zero).0 == true)
        #expect(machine.status("nope") == Supervisor.Status())
    }

    private func spawnKey(in actions: [Machine.Action]) -> Machine.SpawnKey? {
        for case .spawn(let key, _) in actions { return key }
        return nil
    }

    private func schedule(in actions: [Machine.Action]) -> (Machine.TimerKey, Duration)? {
        for case .schedule(let key, let deadline) in actions { return (key, deadline) }
        return nil
    }
}
