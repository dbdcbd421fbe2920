import ClusterKit
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Hostile input files and settings, through the built `zeekctl`: a located one-line error and exit 1, promptly,
/// never a trap or an endless read.
@Suite(.timeLimit(.minutes(1))) struct InputLimitsEndToEndTests {
    static let smallNodeCfg = """
        [manager]
        type=manager
        host=127.0.0.1

        [proxy-1]
        type=proxy
        host=127.0.0.1

        [worker-1]
        type=worker
        host=127.0.0.1
        interface=eth0

        """

    @Test func filesThatAreNotRegularAreRefusedWithoutReading() async throws {
        try await withTemporaryDirectory { directory in
            #expect(symlink("/dev/zero", directory + "/zero.cfg") == 0)
            #expect(mkfifo(directory + "/fifo.cfg", 0o600) == 0)
            let zero = try await BinaryRunner.run(["check", "zero.cfg"], currentDirectory: directory)
            #expect(zero.status == 1)
            #expect(
                zero.output.hasPrefix(
                    "zero.cfg: error: cannot read file: zero.cfg: not a regular file (a character device)\n"
                )
            )
            let fifo = try await BinaryRunner.run(["check", "fifo.cfg"], currentDirectory: directory)
            #expect(fifo.status == 1)
            #expect(fifo.output.hasPrefix("fifo.cfg: error: cannot read file: fifo.cfg: not a regular file (a FIFO)\n"))

            try write(Self.smallNodeCfg, to: "node.cfg", in: directory)
            let settings = try await BinaryRunner.run(
                ["layout", "node.cfg", "--zeekctl-cfg", "/dev/zero"],
                currentDirectory: directory
            )
            #expect(settings.status == 1)
            #expect(settings.error == "error: cannot read file: /dev/zero: not a regular file\n")
        }
    }

    @Test(arguments: ["ZeekPort=9223372036854775807", "ZeekPort=99999999999999999999", "MetricsPort=65536"])
    func portSettingsOutOfRangeAreLocatedErrors(setting: String) async throws {
        try await withTemporaryDirectory { directory in
            try write(Self.smallNodeCfg, to: "node.cfg", in: directory)
            let run = try await BinaryRunner.run(["layout", "node.cfg", "--set", setting], currentDirectory: directory)
            #expect(run.status == 1)
            let parts = setting.split(separator: "=")
            #expect(
                run.error.contains(
                    "--set: error: zeekctl option '\(parts[0].lowercased())' has value '\(parts[1])' outside the range of "
                        + "ports (0-65535)"
                ),
                "\(run.error)"
            )
        }
    }

    @Test func expansionAndInterpolationBombsStopAtTheirLimits() async throws {
        try await withTemporaryDirectory { directory in
            var bomb = "[DEFAULT]\na0=xxxxxxxxxx\n"
            for level in 1...10 {
                bomb += "a\(level)=" + String(repeating: "%(a\(level - 1))s", count: 10) + "\n"
            }
            bomb += Self.smallNodeCfg
            try write(bomb, to: "bomb.cfg", in: directory)
            let interpolation = try await BinaryRunner.run(["check", "bomb.cfg"], currentDirectory: directory)
            #expect(interpolation.status == 1)
            #expect(
                interpolation.output.hasPrefix(
                    "bomb.cfg:6: error: value of key 'a4' in section 'DEFAULT': interpolation would make it longer than "
                        + "65536 bytes"
                ),
                "\(interpolation.output)"
            )

            var sections = ""
            for index in 0..<16 {
                sections += "[worker-\(index)]\ntype=worker\nhost=127.0.0.1\ninterface=eth0\nlb_method=custom\n"
                sections += "lb_procs=62500\n"
            }
            try write(sections, to: "many.cfg", in: directory)
            let expansion = try await BinaryRunner.run(["check", "many.cfg"], currentDirectory: directory)
            #expect(expansion.status == 1)
            #expect(
                expansion.output.hasPrefix(
                    "many.cfg:6: error: lb_procs=62500 for node 'worker-0' is more than ClusterKit expands (at most 1024 "
                        + "per node"
                ),
                "\(expansion.output)"
            )
        }
    }
}
