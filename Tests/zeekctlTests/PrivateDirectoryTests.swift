import ClusterKit
import Foundation
import Testing

@testable import ZeekctlCLI

#if canImport(Glibc)
import Glibc
#endif

@Suite struct PrivateDirectoryTests {
    /// File helpers, as in ClusterKitTests' `LocalFileTests`.
    enum Files {
        /// Runs `body` with a fresh directory (mode 0700), removed afterwards.
        static func withDirectory(_ body: (String) throws -> Void) throws {
            let path = FileManager.default.temporaryDirectory
                .appendingPathComponent("privatedir-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(atPath: path) }
            try body(path)
        }

        /// The permission bits of `path` (not following a symbolic link), or -1.
        static func mode(_ path: String) -> Int {
            var info = stat()
            guard lstat(path, &info) == 0 else { return -1 }
            return Int(info.st_mode & 0o7777)
        }
    }

    /// A fresh directory with `mode` (set explicitly, whatever the umask).
    static func makeDirectory(in parent: String, _ name: String, mode: mode_t = 0o700) throws -> String {
        let path = parent + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        chmod(path, mode)
        return path
    }

    @Test func freshDirectoriesArePrivateUnpredictableAndUnderTheRuntimeDirectoryFirst() throws {
        try Files.withDirectory { directory in
            let runtime = try Self.makeDirectory(in: directory, "runtime")
            let temporary = try Self.makeDirectory(in: directory, "tmp", mode: 0o1777)
            let environment = ["XDG_RUNTIME_DIR": runtime + "/", "TMPDIR": temporary]
            #expect(PrivateDirectory.temporaryBases(environment: environment) == [runtime, temporary, "/tmp"])

            let first = try PrivateDirectory.makeTemporary(prefix: "zeekctl-cluster-", environment: environment)
            let second = try PrivateDirectory.makeTemporary(prefix: "zeekctl-cluster-", environment: environment)
            #expect(first.path.hasPrefix(runtime + "/zeekctl-cluster-"))
            #expect(first.path.count == (runtime + "/zeekctl-cluster-XXXXXX").count)
            #expect(first != second)
            #expect(Files.mode(first.path) == 0o700)
            // A directory made this way passes the check for given directories.
            #expect(try PrivateDirectory(checking: first.path) == first)
        }
    }

    @Test func aRuntimeDirectoryOthersCanWriteOrThatIsMissingIsSkipped() throws {
        try Files.withDirectory { directory in
            let shared = try Self.makeDirectory(in: directory, "shared", mode: 0o777)
            let temporary = try Self.makeDirectory(in: directory, "tmp")
            for runtime in [shared, directory + "/missing", "relative/dir", ""] {
                let environment = ["XDG_RUNTIME_DIR": runtime, "TMPDIR": temporary]
                #expect(PrivateDirectory.temporaryBases(environment: environment) == [temporary, "/tmp"])
                let created = try PrivateDirectory.makeTemporary(prefix: "x-", environment: environment)
                #expect(created.path.hasPrefix(temporary + "/x-"))
            }
            #expect(PrivateDirectory.temporaryBases(environment: [:]) == ["/tmp"])
            // A base where nothing can be created is passed over.
            let fallback = try PrivateDirectory.makeTemporary(prefix: "x-", environment: ["TMPDIR": directory + "/no"])
            defer { fallback.remove() }
            #expect(fallback.path.hasPrefix("/tmp/x-"))
        }
    }

    @Test func aMissingGivenDirectoryIsCreatedWithItsParentsAndModeSevenHundred() throws {
        try Files.withDirectory { directory in
            let state = try PrivateDirectory(checking: directory + "/a/b/state/")
            #expect(state.path == directory + "/a/b/state")
            #expect(Files.mode(state.path) == 0o700)
            #expect(Files.mode(directory + "/a") & 0o077 == 0)
            #expect(state.file("controller.log") == directory + "/a/b/state/controller.log")
        }
    }

    @Test func aGivenDirectoryMustBeARealDirectoryOfThisUserThatOthersCannotWrite() throws {
        try Files.withDirectory { directory in
            let good = try Self.makeDirectory(in: directory, "good", mode: 0o755)
            #expect(try PrivateDirectory(checking: good).path == good)

            #expect(symlink(good, directory + "/link") == 0)
            let link = try #require(throws: LocalFileError.self) { try PrivateDirectory(checking: directory + "/link") }
            #expect(link.code == .symbolicLink)
            #expect(link.description == directory + "/link: is a symbolic link; give the directory itself")
            // A trailing slash does not make the link acceptable.
            #expect(throws: LocalFileError.self) { try PrivateDirectory(checking: directory + "/link/") }
            #expect(symlink(directory + "/nowhere", directory + "/dangling") == 0)
            let dangling = try #require(throws: LocalFileError.self) {
                try PrivateDirectory(checking: directory + "/dangling")
            }
            #expect(dangling.code == .symbolicLink)
            #expect(!FileManager.default.fileExists(atPath: directory + "/nowhere"))

            for mode: mode_t in [0o777, 0o1777, 0o770, 0o702] {
                let shared = try Self.makeDirectory(in: directory, "shared-\(mode)", mode: mode)
                let error = try #require(throws: LocalFileError.self) { try PrivateDirectory(checking: shared) }
                #expect(error.code == .writableByOthers)
                #expect(
                    error.description.contains(
                        "is writable by its group or by everyone (mode 0\(String(mode, radix: 8)))"
                    )
                )
            }

            try "x".write(toFile: directory + "/file", atomically: false, encoding: .utf8)
            let file = try #require(throws: LocalFileError.self) { try PrivateDirectory(checking: directory + "/file") }
            #expect(file.code == .notADirectory)
        }
    }

    @Test func aDirectoryOfAnotherUserIsRefused() throws {
        try Files.withDirectory { directory in
            var foreign = "/"
            if geteuid() == 0 {
                // Root can make one; other users find one at the root of the file system.
                foreign = try Self.makeDirectory(in: directory, "foreign", mode: 0o755)
                #expect(chown(foreign, 65_534, 65_534) == 0)
            }
            let error = try #require(throws: LocalFileError.self) { try PrivateDirectory(checking: foreign) }
            #expect(error.code == .notOwned)
            #expect(error.description.contains("not to this user (uid \(geteuid()))"))
        }
    }

    @Test func filesInsideAreWrittenAtomicallyWithModeSixHundred() throws {
        try Files.withDirectory { directory in
            let state = try PrivateDirectory(checking: directory + "/state")
            try "victim\n".write(toFile: directory + "/victim", atomically: false, encoding: .utf8)
            #expect(symlink(directory + "/victim", state.file("example.ini")) == 0)
            let path = try state.write(Array("[instances]\n".utf8), toFile: "example.ini")
            #expect(path == state.file("example.ini"))
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "[instances]\n")
            #expect(try String(contentsOfFile: directory + "/victim", encoding: .utf8) == "victim\n")
            #expect(Files.mode(path) == 0o600)
            state.remove()
            #expect(!FileManager.default.fileExists(atPath: state.path))
            #expect(FileManager.default.fileExists(atPath: directory + "/victim"))
        }
    }
}
