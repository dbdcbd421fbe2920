import ClusterKit
import Foundation
import Testing

@testable import ZeekctlCLI

#if canImport(Glibc)
import Glibc
#endif

/// Numbers on the command line, output that cannot be written, files written in place of others, and state
/// directories: never a trap, a one-line error and a defined exit status.
@Suite(.timeLimit(.minutes(2))) struct CommandLineHardeningTests {
    // MARK: - Numbers

    @Test func secondsArePlainDecimalsFromOneMillisecondToOneDay() throws {
        let options: [Arguments.Option] = [.value("--timeout")]
        func parse(_ text: String) throws(UsageError) -> Duration? {
            try Arguments(["--timeout", text], options: options, command: "test").seconds("--timeout")
        }
        #expect(try parse("10") == .seconds(10))
        #expect(try parse("0.5") == .milliseconds(500))
        #expect(try parse(".25") == .milliseconds(250))
        #expect(try parse("0.001") == .milliseconds(1))
        #expect(try parse("86400") == .seconds(86_400))
        #expect(try parse("0086400.000") == .seconds(86_400))
        #expect(try Arguments([], options: options, command: "test").seconds("--timeout") == nil)
        for text in ["0", "0.0004", "-1", "+1", "1e16", "1e3", "inf", "nan", "0x10", "86400.1", "", ".", "1.2.3", "١"] {
            #expect(
                throws: UsageError(
                    "invalid value '\(text)' for '--timeout' (expected a number of seconds from 0.001 to 86400)"
                ),
                "\(text)"
            ) { try parse(text) }
        }
    }

    @Test func integersAreDigitsWithinTheirRange() throws {
        let options: [Arguments.Option] = [.value("--count")]
        func parse(_ text: String) throws(UsageError) -> Int? {
            try Arguments(["--count", text], options: options, command: "test").integer("--count", in: 1...1000)
        }
        #expect(try parse("1") == 1)
        #expect(try parse("1000") == 1000)
        for text in ["0", "1001", "-5", "+5", "1e3", "99999999999999999999999", "", "x"] {
            #expect(
                throws: UsageError("invalid value '\(text)' for '--count' (expected an integer from 1 to 1000)"),
                "\(text)"
            ) { try parse(text) }
        }
    }

    @Test(arguments: [
        ["dispatch", "get_id_value", "Cluster::node", "--timeout", "1e16"],
        ["dispatch", "get_id_value", "Cluster::node", "--timeout=inf"],
        ["cluster", "start", "--timeout", "1e300"],
        ["cluster", "stop", "--timeout", "100000"],
        ["controller", "--listen", "127.0.0.1:99999999999999999999999"],
        ["controller", "--listen", "99999999999999999999"],
        ["controller", "--listen", "127.0.0.1:-1"],
        ["controller", "--listen", "[::1]:65536"],
        ["cluster", "start", "--listen", "127.0.0.1:½"],
        ["cluster", "status", "--controller", "127.0.0.1:99999999999999999999"],
        ["dispatch", "get_id_value", "x", "--controller", "127.0.0.1:0"],
        ["dispatch", "get_id_value", "x", "--websocket", "[::1]:-3"],
        ["node", "--hub", "127.0.0.1:70000"],
    ])
    func badNumbersAreUsageErrorsOfOneLine(arguments: [String]) async {
        let run = await runZeekctl(arguments)
        #expect(run.status == .usage)
        #expect(run.error.hasPrefix("error: invalid "), "\(run.error)")
        #expect(run.error.filter { $0 == "\n" }.count == 1, "\(run.error)")
        #expect(run.output.isEmpty)
    }

    @Test func theBuiltBinaryRefusesAHugeTimeoutInsteadOfTrapping() async throws {
        let run = try await ZeekctlBinary.run(["dispatch", "get_id_value", "Cluster::node", "--timeout", "1e16"])
        #expect(run.status == 64)
        #expect(
            run.error
                == "error: invalid value '1e16' for '--timeout' (expected a number of seconds from 0.001 to 86400)\n"
        )
    }

    @Test func extremeStartTimesFromTheControllerGiveABoundedUptime() {
        func status(startedAt nanoseconds: Int64) -> NodeProcessStatus {
            NodeProcessStatus(
                node: "w",
                instance: "agent",
                role: .worker,
                state: .running,
                pid: 1,
                startedAt: Broker.Timestamp(nanosecondsSinceEpoch: nanoseconds)
            )
        }
        for startedAt in [Int64.min, .max, 0] {
            let table = ClusterStatusRenderer.table([status(startedAt: startedAt)], now: 1_000)
            #expect(table.contains("w     worker"), "\(table)")
            let uptime = ClusterStatusRenderer.uptime(of: status(startedAt: startedAt), now: 1_000)
            #expect(uptime.map { (0...ClusterStatusRenderer.maximumUptime).contains($0) } == true)
        }
        #expect(ClusterStatusRenderer.duration(1e300) == "36600d 00h")
        #expect(ClusterStatusRenderer.duration(.nan) == "0s")
        #expect(ClusterStatusRenderer.duration(-5) == "0s")
    }

    // MARK: - Output that cannot be written

    /// A pipe-like channel for a child's standard output: a stream socket pair.
    ///
    /// It is close-on-exec from its creation (Swift does not see `pipe2`), so that no other child of this test
    /// process keeps the reading end open. As with a pipe, writing after the reading end is closed fails with
    /// EPIPE (and raises SIGPIPE).
    static func makeOutputChannel(_ descriptors: inout [Int32]) -> Bool {
        socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &descriptors) == 0
    }

    /// Runs the built binary with standard output a pipe whose read end is already closed.
    static func runWithClosedOutput(_ arguments: [String]) async throws -> (status: Int32, error: String) {
        let errorPath = FileManager.default.temporaryDirectory.path + "/.zeekctl-epipe-\(UUID().uuidString)"
        defer { unlink(errorPath) }
        var descriptors: [Int32] = [-1, -1]
        guard Self.makeOutputChannel(&descriptors) else {
            throw BackgroundBinary.Failure(description: "pipe: \(errno)")
        }
        close(descriptors[0])
        defer { close(descriptors[1]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, descriptors[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([ZeekctlBinary.path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        // The default disposition of SIGPIPE in the child, whatever this test process has.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        let spawned = posix_spawn(&pid, ZeekctlBinary.path, &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw BackgroundBinary.Failure(description: "posix_spawn: \(spawned)") }
        let child = pid
        let status = try await withDeadline(.seconds(30), "zeekctl \(arguments)") {
            var status: Int32 = 0
            while waitpid(child, &status, WNOHANG) == 0 { try await Task.sleep(for: .milliseconds(5)) }
            return status
        }
        let exit: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (exit, (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
    }

    @Test func aOneShotCommandWhoseOutputIsGoneSaysSoAndExitsOne() async throws {
        // Killed by SIGPIPE (exit 141) before the fix.
        for arguments in [["--help"], ["dispatch", "get_id_value", "Cluster::manager_is_logger"]] {
            let run = try await Self.runWithClosedOutput(arguments)
            #expect(run.status == 1, "\(arguments): \(run.error)")
            #expect(run.error == "error: cannot write to standard output: Broken pipe\n")
        }
    }

    @Test func aVerboseControllerWhoseOutputIsClosedKeepsAnsweringAndStopsOnSIGTERM() async throws {
        // `zeekctl controller --verbose | head -1`.
        let errorPath = FileManager.default.temporaryDirectory.path + "/.zeekctl-epipe-\(UUID().uuidString)"
        defer { unlink(errorPath) }
        var descriptors: [Int32] = [-1, -1]
        #expect(Self.makeOutputChannel(&descriptors))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, descriptors[1], 1)
        posix_spawn_file_actions_addclose(&actions, descriptors[0])
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let words = [ZeekctlBinary.path, "controller", "--verbose", "--listen", "127.0.0.1:0"]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, ZeekctlBinary.path, &actions, nil, argv, envp)
        close(descriptors[1])
        try #require(spawned == 0)
        var reaped = false
        defer {
            if !reaped {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                _ = waitpid(pid, &status, 0)
            }
        }
        // Read the first line, then close the pipe as `head -1` does.
        let reader = descriptors[0]
        let line = try await withDeadline(.seconds(30), "the controller's first line") {
            var bytes: [UInt8] = []
            var byte: UInt8 = 0
            _ = fcntl(reader, F_SETFL, fcntl(reader, F_GETFL) | O_NONBLOCK)
            while true {
                let count = read(reader, &byte, 1)
                if count == 1 {
                    if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
                    bytes.append(byte)
                } else if count == 0 {
                    return String(decoding: bytes, as: UTF8.self)
                } else {
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
        }
        close(reader)
        try #require(line.hasPrefix("listening on "), "\(line)")
        let url = String(line.dropFirst("listening on ".count))
        // Each connection makes the controller write verbose lines to the closed pipe.
        for _ in 0..<2 {
            let status = try await BinaryRunner.run(["cluster", "status", "--controller", url])
            #expect(status.status == 0, "\(status.error)")
        }
        kill(pid, SIGTERM)
        let child = pid
        let status = try await withDeadline(.seconds(30), "the controller's exit") {
            var status: Int32 = 0
            while waitpid(child, &status, WNOHANG) == 0 { try await Task.sleep(for: .milliseconds(5)) }
            return status
        }
        reaped = true
        #expect(status & 0x7F == 0, "killed by signal \(status & 0x7F)")
        #expect((status >> 8) & 0xFF == 1)
        let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        #expect(errors == "error: cannot write to standard output: Broken pipe\n")
    }

    // MARK: - Files written in place of others

    @Test func layoutOutputReplacesAPlantedSymbolicLinkInsteadOfWritingThroughIt() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            try write("victim\n", to: "victim", in: directory)
            #expect(symlink(directory + "/victim", directory + "/out.zeek") == 0)
            let run = await runZeekctl(["layout", "node.cfg", "-o", "out.zeek"], currentDirectory: directory)
            #expect(run.status == .success, "\(run.error)")
            #expect(try String(contentsOfFile: directory + "/victim", encoding: .utf8) == "victim\n")
            var info = stat()
            #expect(lstat(directory + "/out.zeek", &info) == 0 && info.st_mode & S_IFMT == S_IFREG)
            #expect(try String(contentsOfFile: directory + "/out.zeek", encoding: .utf8) == clusterLayoutText)
            let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            #expect(names == ["node.cfg", "out.zeek", "victim"])
        }
    }

    @Test func aLayoutWriteThatFailsLeavesTheOldFileIntact() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            try write("old layout\n", to: "out.zeek", in: directory)
            // Files may not grow past 512 bytes (the layout is longer); SIGXFSZ ignored, so the write fails with
            // EFBIG. Before the fix the old file was truncated first.
            let run = try await BinaryRunner.run(
                [
                    "-c", #"trap '' XFSZ; ulimit -f 1; exec "$0" "$@""#, ZeekctlBinary.path, "layout", "node.cfg", "-o",
                    "out.zeek",
                ],
                executable: "/bin/sh",
                currentDirectory: directory
            )
            #expect(run.status == 1)
            #expect(run.error == "error: out.zeek: cannot write: File too large\n")
            #expect(try String(contentsOfFile: directory + "/out.zeek", encoding: .utf8) == "old layout\n")
            let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            #expect(names == ["node.cfg", "out.zeek"])
        }
    }

    @Test func aZeekctlCfgThatIsNotARegularFileIsRefusedAtOnce() async throws {
        // Read for ever before the fix.
        let run = await runZeekctl(["layout", "node.cfg", "--zeekctl-cfg", "/dev/zero"])
        #expect(run.status == .failure)
        #expect(run.error == "error: cannot read file: /dev/zero: not a regular file\n")
    }

    // MARK: - State directories

    @Test func unsafeStateDirectoriesAreRefused() async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory + "/real", withIntermediateDirectories: false)
            #expect(symlink(directory + "/real", directory + "/link") == 0)
            try FileManager.default.createDirectory(atPath: directory + "/shared", withIntermediateDirectories: false)
            chmod(directory + "/shared", 0o1777)
            for arguments in [
                ["cluster", "start", "--state-dir", "link"],
                ["controller", "--processes", "--state-dir", "link"],
            ] {
                let run = await runZeekctl(arguments + ["--listen", "127.0.0.1:0"], currentDirectory: directory)
                #expect(run.status == .failure)
                #expect(
                    run.error
                        == "error: state directory \(directory)/link: is a symbolic link; give the directory itself\n"
                )
            }
            let shared = await runZeekctl(["cluster", "start", "--state-dir", "shared"], currentDirectory: directory)
            #expect(shared.status == .failure)
            #expect(shared.error.hasPrefix("error: state directory \(directory)/shared: is writable by its group or"))
        }
    }

    @Test func aPlantedControllerLogLinkIsNotWrittenThrough() async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: false)
            chmod(directory + "/state", 0o700)
            try write("victim\n", to: "victim", in: directory)
            #expect(symlink(directory + "/victim", directory + "/state/controller.log") == 0)
            let run = await runZeekctl(
                ["cluster", "start", "--state-dir", "state", "--listen", "127.0.0.1:0"],
                currentDirectory: directory
            )
            #expect(run.status == .failure)
            #expect(
                run.error == "error: cannot open the controller's log: \(directory)/state/controller.log: "
                    + "is a symbolic link (not followed)\n"
            )
            #expect(try String(contentsOfFile: directory + "/victim", encoding: .utf8) == "victim\n")
        }
    }

    @Test func clusterStartWithoutAStateDirectoryUsesAFreshPrivateOneInTheRuntimeDirectory() async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory + "/runtime", withIntermediateDirectories: false)
            chmod(directory + "/runtime", 0o700)
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let port = try await ClusterEndToEndTests.freePort()
            var environment = ProcessInfo.processInfo.environment
            environment["XDG_RUNTIME_DIR"] = directory + "/runtime"
            let start = try await BinaryRunner.run(
                ["cluster", "start", "--listen", "127.0.0.1:\(port)"],
                currentDirectory: directory,
                environment: environment
            )
            try #require(start.status == 0, "\(start.output)\(start.error)")
            let controllerPID = try #require(ClusterEndToEndTests.controllerPID(start.output))
            defer { if LocalCluster.processExists(controllerPID) { kill(pid_t(controllerPID), SIGTERM) } }
            let stop = try await BinaryRunner.run(["cluster", "stop", "--controller", "127.0.0.1:\(port)"])
            #expect(stop.status == 0, "\(stop.error)")

            let states = try FileManager.default.contentsOfDirectory(atPath: directory + "/runtime")
            try #require(states.count == 1 && states[0].hasPrefix("zeekctl-cluster-"), "\(states)")
            let state = directory + "/runtime/" + states[0]
            #expect(start.output.contains("(log: \(state)/controller.log)\n"), "\(start.output)")
            var info = stat()
            #expect(lstat(state, &info) == 0 && info.st_mode & 0o7777 == 0o700)
            #expect(lstat(state + "/controller.log", &info) == 0 && info.st_mode & 0o7777 == 0o600)
        }
    }
}
