import Testing

@testable import ZeekctlCLI

@Suite struct NodesCommandTests {
    @Test func tableListsExpandedNodesInZeekControlOrder() async throws {
        try await withTemporaryDirectory { directory in
            try write(clusterNodeCfg, to: "node.cfg", in: directory)
            let run = await runZeekctl(["nodes", "node.cfg"], currentDirectory: directory)
            #expect(run.status == .success)
            #expect(
                run.output == """
                    NAME        TYPE     HOST       ADDRESS    PORT   METRICS  INTERFACE  MANAGER
                    logger-1    logger   127.0.0.1  127.0.0.1  27764  9992     -          -
                    manager     manager  127.0.0.1  127.0.0.1  27763  9991     -          -
                    proxy-1     proxy    127.0.0.1  127.0.0.1  27765  9993     -          manager
                    worker-1-1  worker   127.0.0.1  127.0.0.1  27766  9994     eth0       manager
                    worker-1-2  worker   127.0.0.1  127.0.0.1  27767  9995     eth0       manager

                    """
            )
        }
    }

    @Test func jsonHasOneObjectPerNodeWithZeekControlKeys() async throws {
        try await withTemporaryDirectory { directory in
            try write("[zeek]\ntype=standalone\nhost=127.0.0.1\n", to: "node.cfg", in: directory)
            let run = await runZeekctl(["nodes", "node.cfg", "--format", "json"], currentDirectory: directory)
            #expect(run.status == .success)
            #expect(run.output.hasPrefix("[\n  {\n    \"name\": \"zeek\",\n    \"type\": \"standalone\","))
            #expect(run.output.contains("\"port\": 27762,\n    \"metrics_port\": 9991,"))
            #expect(run.output.contains("\"zeekctl\": {\n      \"addr\": \"127.0.0.1\","))
        }
    }

    @Test func zeekctlFormatPrintsZeekControlsLines() async throws {
        try await withTemporaryDirectory { directory in
            try write("[zeek]\ntype=standalone\nhost=127.0.0.1\n", to: "node.cfg", in: directory)
            let run = await runZeekctl(["nodes", "node.cfg", "--format", "zeekctl"], currentDirectory: directory)
            #expect(run.output.hasPrefix("            zeek - addr=127.0.0.1 af_packet_block_size= "))
        }
    }

    @Test func iniNodesCarryTheControllersPorts() async throws {
        try await withTemporaryDirectory { directory in
            try write(
                "[instances]\nagent\n\n[manager]\ninstance = agent\nrole = manager\n\n[w]\ninstance = agent\nrole = worker\n",
                to: "c.ini",
                in: directory
            )
            let run = await runZeekctl(["nodes", "c.ini"], currentDirectory: directory)
            #expect(
                run.output == """
                    NAME     TYPE     HOST   ADDRESS  PORT  METRICS  INTERFACE  MANAGER
                    manager  MANAGER  agent  -        2200  9000     -          -
                    w        WORKER   agent  -        -     9001     -          manager

                    """
            )
        }
    }

    @Test func errorsAreReportedAndNothingIsListed() async throws {
        try await withTemporaryDirectory { directory in
            try write("[w]\ntype=worker\n", to: "node.cfg", in: directory)
            let run = await runZeekctl(["nodes", "node.cfg"], currentDirectory: directory)
            #expect(run.status == .failure)
            #expect(run.output.isEmpty)
            #expect(
                run.error
                    == "node.cfg:1: error: no host given for node 'w'\nnode.cfg: error: no manager defined in node config\n"
            )
        }
    }
}
