#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a local file or directory could not be used safely: created, checked, read or written.
package struct LocalFileError: Error, Sendable, Hashable {
    /// The broad kind of problem.
    package enum Code: String, Sendable, Hashable {
        /// A directory or file could not be created or opened.
        case cannotCreate
        /// The path names something other than a directory.
        case notADirectory
        /// The path names something other than a regular file.
        case notARegularFile
        /// The path is a symbolic link where a real file or directory is required.
        case symbolicLink
        /// The directory or file belongs to another user.
        case notOwned
        /// The directory or file can be written by its group or by everyone.
        case writableByOthers
        /// The file is larger than the limit.
        case tooLarge
        /// Reading failed.
        case cannotRead
        /// Writing (or renaming into place) failed.
        case cannotWrite
    }

    /// The broad kind of problem, for programs to branch on.
    package var code: Code
    /// The path concerned.
    package var path: String
    /// A short text for people.
    package var message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - path: The path concerned.
    ///   - message: The text for people.
    package init(_ code: Code, path: String, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    /// An error for a failed system call, with the text of `errno`.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - path: The path concerned.
    ///   - what: What failed, such as `cannot create`.
    ///   - number: The `errno` value.
    /// - Returns: `PATH: WHAT: REASON`.
    package static func system(_ code: Code, path: String, _ what: String, errno number: Int32) -> LocalFileError {
        LocalFileError(code, path: path, "\(what): \(errorText(number))")
    }

    /// The text of an `errno` value.
    static func errorText(_ number: Int32) -> String {
        guard let text = strerror(number) else { return "error \(number)" }
        return String(cString: text)
    }
}

extension LocalFileError: CustomStringConvertible {
    /// The path followed by the message, as in `/tmp/state: group or world writable (mode 0777)`.
    package var description: String { "\(path): \(message)" }
}
