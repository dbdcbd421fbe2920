import Testing

@testable import ZeekctlCLI

@Suite struct InvocationTests {
    @Test func unknownCommandIsAUsageError() async {
        let run = await runZeekctl(["frobnicate"])
        #expect(run.status == .usage)
        #expect(run.error == "error: unknown command 'frobnicate' (see 'zeekctl --help')\n")
        #expect(run.output.isEmpty)
    }

    @Test func unknownGlobalOptionIsAUsageError() async {
        let run = await runZeekctl(["--frobnicate"])
        #expect(run.status == .usage)
        #expect(run.error == "error: unknown option '--frobnicate'\n")
    }

    @Test func versionNamesClusterKit() async {
        let run = await runZeekctl(["--version"])
        #expect(run.status == .success)
        #expect(run.output.hasPrefix("zeekctl (ClusterKit) "))
    }

    @Test func helpListsEveryCommand() async {
        let run = await runZeekctl(["--help"])
        #expect(run.status == .success)
        for command in Invocation.commands {
            #expect(run.output.contains("  \(command.name) "), "missing \(command.name)")
        }
        #expect(run.output.contains("not ZeekControl"))
    }

    @Test func argumentsTakeBothValueSpellingsAndRejectUnknownOptions() throws {
        let options: [Arguments.Option] = [.value("--format"), .flag("--group"), .repeated("--set")]
        let parsed = try Arguments(
            ["a", "--format=json", "--set", "x=1", "--set=y=2", "--group", "--", "--not-an-option"],
            options: options,
            command: "test"
        )
        #expect(parsed.value("--format") == "json")
        #expect(parsed.all("--set") == ["x=1", "y=2"])
        #expect(parsed.flag("--group"))
        #expect(parsed.positionals == ["a", "--not-an-option"])
        #expect(throws: UsageError("unknown option '--fromat' for 'zeekctl test'")) {
            try Arguments(["--fromat", "json"], options: options, command: "test")
        }
        #expect(throws: UsageError("option '--format' needs a value")) {
            try Arguments(["--format"], options: options, command: "test")
        }
        #expect(throws: UsageError("option '--format' given more than once")) {
            try Arguments(["--format", "a", "--format", "b"], options: options, command: "test")
        }
        #expect(throws: UsageError("invalid value 'xml' for '--format' (expected 'text', 'json')")) {
            try Arguments(["--format", "xml"], options: options, command: "test").choice("--format", ["text", "json"])
        }
    }
}

@Suite struct EndToEndTests {
    @Test func binaryExitsWithUsageStatusForUnknownCommand() async throws {
        let run = try await ZeekctlBinary.run(["frobnicate"])
        #expect(run.status == 64)
        #expect(run.error == "error: unknown command 'frobnicate' (see 'zeekctl --help')\n")
    }
}
