import ClusterKit
import Foundation
import Testing

extension Layouts {
    /// Input files must be regular files under the size cap; reading them is bounded.
    @Suite struct LayoutFileReaderTests {
        /// A fresh directory for one test, removed afterwards.
        static func withDirectory<T>(_ body: (String) throws -> T) throws -> T {
            let path = FileManager.default.temporaryDirectory
                .appendingPathComponent("clusterkit-layouts-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: path) }
            return try body(path)
        }

        @Test func devicesDirectoriesAndFIFOsAreRefusedWithoutReading() throws {
            try Self.withDirectory { directory in
                let fifo = directory + "/node.cfg"
                #expect(mkfifo(fifo, 0o600) == 0)
                let reader = FileSystemLayoutReader()
                for (path, kind) in [("/dev/zero", "a character device"), (directory, "a directory"), (fifo, "a FIFO")]
                {
                    let error = try #require(throws: LayoutLoadError.self) { try reader.text(ofFile: path) }
                    #expect(error.code == .notRegularFile)
                    #expect(error.description == "cannot read file: \(path): not a regular file (\(kind))")
                }
                let loaded = try #require(throws: LayoutLoadError.self) {
                    try LayoutLoader().load(path: "/dev/zero", format: .nodeCfg, displayName: "zero.cfg")
                }
                #expect(loaded.description == "cannot read file: zero.cfg: not a regular file (a character device)")
                #expect(loaded.path == "zero.cfg")
            }
        }

        @Test func filesOverTheCapAreRefusedAndSymbolicLinksFollowed() throws {
            try Self.withDirectory { directory in
                let file = directory + "/node.cfg"
                let text = "[m]\ntype=standalone\nhost=127.0.0.1\n"
                try text.write(toFile: file, atomically: true, encoding: .utf8)
                let link = directory + "/link.cfg"
                try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: file)
                #expect(try FileSystemLayoutReader().text(ofFile: link) == text)
                let size = text.utf8.count
                #expect(try FileSystemLayoutReader(maximumFileSize: size).text(ofFile: file) == text)
                let error = try #require(throws: LayoutLoadError.self) {
                    try FileSystemLayoutReader(maximumFileSize: size - 1).text(ofFile: link)
                }
                #expect(error.code == .fileTooLarge)
                #expect(error.description == "cannot read file: \(link): larger than the limit of \(size - 1) bytes")
                var options = LayoutValidator.Options.standard
                options.limits.maximumFileSize = 10
                let loadError = try #require(throws: LayoutLoadError.self) {
                    try LayoutLoader(options: options).load(path: file, displayName: "node.cfg")
                }
                #expect(loadError.description == "cannot read file: node.cfg: larger than the limit of 10 bytes")
                // Any reader: the loader checks the size of what it is given.
                let memory = LayoutLoader(reader: InMemoryLayoutReader(["x.cfg": text]), options: options)
                #expect(throws: LayoutLoadError.self) { try memory.load(path: "x.cfg") }
                let missing = try #require(throws: LayoutLoadError.self) {
                    try LayoutLoader().load(path: directory + "/none.cfg", displayName: "none.cfg")
                }
                #expect(missing.description == "cannot read file: none.cfg")
            }
        }

        @Test func textOverTheCapIsOneErrorAndNotRead() {
            var options = LayoutValidator.Options.standard
            options.limits.maximumFileSize = 8
            let loaded = LayoutLoader(options: options).load(
                text: "[m]\ntype=manager\n",
                file: "n.cfg",
                format: .nodeCfg
            )
            #expect(loaded.layout.nodes.isEmpty)
            #expect(
                loaded.issues.map(\.description) == [
                    "n.cfg: error: the text is 17 bytes, more than the limit of 8 bytes; it is not read"
                ]
            )
            #expect(loaded.issues.first?.code == .fileTooLarge)
        }
    }
}
