import Foundation
import Testing

@testable import ClusterKitLayouts
@testable import ClusterKitModel
@testable import ClusterKitProcesses
@testable import ClusterKitRuntime
@testable import ClusterKitWebSocket

#if canImport(Glibc)
import Glibc
#endif

@Suite struct LocalFileTests {
    /// Runs `body` with a fresh directory (mode 0700), removed afterwards.
    static func withDirectory(_ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("localfile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    static func mode(_ path: String) -> Int {
        var info = stat()
        guard lstat(path, &info) == 0 else { return -1 }
        return Int(info.st_mode & 0o7777)
    }

    static func entries(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    @Test func atomicWriteReplacesAPlantedSymbolicLinkInsteadOfWritingThroughIt() throws {
        try Self.withDirectory { directory in
            try "victim\n".write(toFile: directory + "/victim", atomically: false, encoding: .utf8)
            #expect(symlink(directory + "/victim", directory + "/target") == 0)

            try LocalFile.writeAtomically(Array("new\n".utf8), to: directory + "/target")

            #expect(try String(contentsOfFile: directory + "/victim", encoding: .utf8) == "victim\n")
            var info = stat()
            #expect(lstat(directory + "/target", &info) == 0)
            #expect(info.st_mode & S_IFMT == S_IFREG)
            #expect(try String(contentsOfFile: directory + "/target", encoding: .utf8) == "new\n")
            #expect(Self.mode(directory + "/target") == 0o600)
            #expect(Self.entries(directory) == ["target", "victim"])
        }
    }

    @Test func atomicWriteThatFailsLeavesTheOldFileAndNoTemporaryFile() throws {
        try Self.withDirectory { directory in
            // Renaming a file over a non-empty directory fails.
            try FileManager.default.createDirectory(atPath: directory + "/target", withIntermediateDirectories: false)
            try "old\n".write(toFile: directory + "/target/old", atomically: false, encoding: .utf8)
            let error = try #require(throws: LocalFileError.self) {
                try LocalFile.writeAtomically(Array("new\n".utf8), to: directory + "/target")
            }
            #expect(error.code == .cannotWrite)
            #expect(error.description.hasPrefix(directory + "/target: cannot write: "))
            #expect(Self.entries(directory) == ["target"])
            #expect(try String(contentsOfFile: directory + "/target/old", encoding: .utf8) == "old\n")

            let missing = try #require(throws: LocalFileError.self) {
                try LocalFile.writeAtomically([], to: directory + "/no/such/file")
            }
            #expect(missing.code == .cannotCreate)
        }
    }

    @Test func atomicWriteUsesTheGivenPermissionsLessTheUmask() throws {
        try Self.withDirectory { directory in
            try LocalFile.writeAtomically(Array("x".utf8), to: directory + "/shared", permissions: 0o640)
            #expect(Self.mode(directory + "/shared") == 0o640 & ~Self.umaskValue())
            // The temporary file goes next to the target: "." for a bare name, "/" at the root.
            #expect(LocalFile.split("name") == (".", "name"))
            #expect(LocalFile.split("/name") == ("/", "name"))
            #expect(LocalFile.split("a/b/c") == ("a/b", "c"))
        }
    }

    /// The process's umask, read without changing it (tests run in parallel).
    static func umaskValue() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Umask:") } ?? "Umask:\t0022"
        return Int(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8) ?? 0o022
    }

    @Test func readingTakesOnlyRegularFilesUpToTheLimit() throws {
        try Self.withDirectory { directory in
            try "12345".write(toFile: directory + "/five", atomically: false, encoding: .utf8)
            #expect(try LocalFile.readRegularFile(directory + "/five") == Array("12345".utf8))
            #expect(try LocalFile.readRegularFile(directory + "/five", maximumSize: 5) == Array("12345".utf8))
            let large = try #require(throws: LocalFileError.self) {
                try LocalFile.readRegularFile(directory + "/five", maximumSize: 4)
            }
            #expect(large.code == .tooLarge)
            #expect(large.description == directory + "/five: larger than the limit of 4 bytes")

            let zero = try #require(throws: LocalFileError.self) { try LocalFile.readRegularFile("/dev/zero") }
            #expect(zero.description == "/dev/zero: not a regular file")
            // Opening a FIFO without a writer does not wait.
            #expect(mkfifo(directory + "/fifo", 0o600) == 0)
            let fifo = try #require(throws: LocalFileError.self) { try LocalFile.readRegularFile(directory + "/fifo") }
            #expect(fifo.code == .notARegularFile)
            let missing = try #require(throws: LocalFileError.self) {
                try LocalFile.readRegularFile(directory + "/missing")
            }
            #expect(missing.description == directory + "/missing: cannot read: No such file or directory")
        }
    }

    @Test func appendingRefusesASymbolicLinkAndCreatesPrivateFiles() throws {
        try Self.withDirectory { directory in
            try "victim\n".write(toFile: directory + "/victim", atomically: false, encoding: .utf8)
            #expect(symlink(directory + "/victim", directory + "/log") == 0)
            let error = try #require(throws: LocalFileError.self) { try LocalFile.openForAppending(directory + "/log") }
            #expect(error.code == .symbolicLink)
            #expect(try String(contentsOfFile: directory + "/victim", encoding: .utf8) == "victim\n")

            let fd = try LocalFile.openForAppending(directory + "/new.log")
            #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
            _ = "line\n".withCString { write(fd, $0, 5) }
            close(fd)
            let again = try LocalFile.openForAppending(directory + "/new.log")
            _ = "more\n".withCString { write(again, $0, 5) }
            close(again)
            #expect(try String(contentsOfFile: directory + "/new.log", encoding: .utf8) == "line\nmore\n")
            #expect(Self.mode(directory + "/new.log") == 0o600)

            let notFile = try #require(throws: LocalFileError.self) { try LocalFile.openForAppending(directory) }
            #expect(notFile.code == .cannotCreate)  // EISDIR
        }
    }
}
