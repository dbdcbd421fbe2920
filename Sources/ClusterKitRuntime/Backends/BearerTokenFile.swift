#if canImport(Glibc)
import Glibc
#endif

/// A bearer token kept in a file only its owner can read, for `Authorization: Bearer TOKEN` on WebSocket
/// upgrades (`WebSocketServer.Options.bearerToken` on the server, a header on the client).
public enum BearerTokenFile: Sendable {
    /// Why a token file cannot be used.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// The file.
        public var path: String
        /// What is wrong with it.
        public var reason: String

        /// `token file 'PATH': REASON`.
        public var description: String { "token file '\(path)': \(reason)" }
    }

    /// The most bytes a token file may hold.
    public static let maximumSize = 4096

    /// Reads the token: the file's text without surrounding white space.
    ///
    /// The file must be a regular file whose mode gives its group and others nothing (0600 or stricter), and the
    /// token one line of visible ASCII (the characters RFC 6750 allows, and a few more), 1 to 4096 bytes.
    ///
    /// - Parameter path: The file.
    /// - Returns: The token.
    /// - Throws: ``Failure``: unreadable, a mode that lets others read or write it, empty, or not a token.
    public static func read(_ path: String) throws(Failure) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else {
            throw Failure(path: path, reason: String(cString: strerror(errno)).lowercased())
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw Failure(path: path, reason: String(cString: strerror(errno)).lowercased())
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw Failure(path: path, reason: "not a regular file") }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw Failure(
                path: path,
                reason: "mode 0\(String(mode, radix: 8)) lets other users at it (use chmod 600)"
            )
        }
        var bytes = [UInt8](repeating: 0, count: maximumSize + 1)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return -1 }
                return Glibc.read(descriptor, base + count, buffer.count - count)
            }
            if got < 0, errno == EINTR { continue }
            guard got >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno)).lowercased()) }
            if got == 0 { break }
            count += got
        }
        guard count <= maximumSize else { throw Failure(path: path, reason: "more than \(maximumSize) bytes") }
        var token = bytes[..<count]
        while let first = token.first, first == 0x20 || first == 0x09 || first == 0x0A || first == 0x0D {
            token = token.dropFirst()
        }
        while let last = token.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D {
            token = token.dropLast()
        }
        guard !token.isEmpty else { throw Failure(path: path, reason: "empty") }
        guard token.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw Failure(path: path, reason: "not a token: one line of visible ASCII characters without spaces")
        }
        return String(decoding: token, as: UTF8.self)
    }
}
