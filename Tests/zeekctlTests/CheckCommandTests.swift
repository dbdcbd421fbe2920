import Testing

@testable import ZeekctlCLI

@Suite struct CheckCommandTests {
    @Test func validFileExitsZeroWithSummary() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let run = await runZeekctl(["check", "node.cfg"], currentDirectory: directory)
            #expect(run.status == .success)
            #expect(run.output == "0 errors, 0 warnings in 1 file\n")
            #expect(run.error.isEmpty)
        }
    }

    @Test func everyIssueIsOneLocatedLineThenTheSummary() async throws {
        try await withTemporaryDirectory { directory in
            try write(
                "[manager]\ntype=manager\nhost=127.0.0.1\nfoo=1\n[w]\ntype=wrker\nhost=127.0.0.1\n",
                to: "node.cfg",
                in: directory
            )
            let run = await runZeekctl(["check", "node.cfg"], currentDirectory: directory)
            #expect(run.status == .failure)
            #expect(
                run.output == """
                    node.cfg:4: warning: ignoring unrecognized node config option 'foo' given for node 'manager'
                    node.cfg:6: error: unknown node type 'wrker' given for node 'w'
                    1 error, 1 warning in 1 file

                    """
            )
        }
    }

    @Test func warningsAloneExitZero() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg + "zone_id=x\n", to: "node.cfg", in: directory)
            let run = await runZeekctl(["check", "node.cfg"], currentDirectory: directory)
            #expect(run.status == .success)
            #expect(run.output.hasSuffix("0 errors, 1 warning in 1 file\n"))
        }
    }

    @Test func jsonListsFilesIssuesAndTotals() async throws {
        try await withTemporaryDirectory { directory in
            try write("[manager]\nrole = manager\n\n[w]\nrole = worker\ninstance = a\n", to: "c.ini", in: directory)
            let run = await runZeekctl(["check", "c.ini", "--format", "json"], currentDirectory: directory)
            #expect(run.status == .failure)
            #expect(
                run.output == """
                    {
                      "files": [
                        {
                          "file": "c.ini",
                          "format": "ini",
                          "errors": 1,
                          "warnings": 0,
                          "issues": [
                            {
                              "file": "c.ini",
                              "line": null,
                              "severity": "error",
                              "code": "mixedInstances",
                              "message": "either all or no nodes must state instances",
                              "node": null,
                              "key": null
                            }
                          ]
                        }
                      ],
                      "errors": 1,
                      "warnings": 0
                    }

                    """
            )
        }
    }

    @Test func inputFormatOverridesTheFileName() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "cluster.txt", in: directory)
            let unknown = await runZeekctl(["check", "cluster.txt"], currentDirectory: directory)
            #expect(unknown.status == .failure)
            #expect(
                unknown.output.hasPrefix(
                    "cluster.txt: error: cannot tell the format of 'cluster.txt' from its name (expected *.cfg, *.zeek, *.bro, *.ini or *.conf)\n"
                )
            )
            let forced = await runZeekctl(
                ["check", "cluster.txt", "--input-format", "node-cfg"],
                currentDirectory: directory
            )
            #expect(forced.status == .success)
        }
    }

    @Test func localAddressesEnableTheManagerHereCheck() async throws {
        try await withTemporaryDirectory { directory in
            try write("[zeek]\ntype=standalone\nhost=10.9.9.9\n", to: "node.cfg", in: directory)
            let off = await runZeekctl(["check", "node.cfg"], currentDirectory: directory)
            #expect(off.status == .success)
            let on = await runZeekctl(
                ["check", "node.cfg", "--local-addresses", "127.0.0.1,::1"],
                currentDirectory: directory
            )
            #expect(on.status == .failure)
            #expect(
                on.output.hasPrefix(
                    "node.cfg:1: error: must run zeekctl on same machine as the standalone node. The standalone node "
                        + "has IP address 10.9.9.9 and this machine has IP addresses: 127.0.0.1, ::1\n"
                )
            )
        }
    }

    @Test func usageMistakesExit64() async {
        let noFile = await runZeekctl(["check"])
        #expect(noFile.status == .usage)
        #expect(noFile.error == "error: 'zeekctl check' needs at least one FILE\n")
        let badFormat = await runZeekctl(["check", "a.cfg", "--format", "xml"])
        #expect(badFormat.status == .usage)
        #expect(badFormat.error == "error: invalid value 'xml' for '--format' (expected 'text', 'json')\n")
        let badAddress = await runZeekctl(["check", "a.cfg", "--local-addresses", "1.2.3"])
        #expect(badAddress.status == .usage)
        #expect(badAddress.error == "error: invalid address '1.2.3' in '--local-addresses'\n")
    }
}
