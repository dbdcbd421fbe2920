import ClusterKitModel

/// Python's `shlex.split(text)` (POSIX mode, no comments), as `zeek-client` splits `env` and `scripts`.
enum ShellWords {
    /// Why a text cannot be split, with `shlex`'s message.
    struct Problem: Error, Sendable {
        var message: String
    }

    /// Splits `text` into words: white space separates words; `'…'` keeps everything literally; `"…"`
    /// keeps everything but treats `\` before `\`, `"`, `$`, `` ` `` and a newline as an escape; `\`
    /// outside quotes escapes the next character.
    static func split(_ text: String) -> Result<[String], Problem> {
        var words: [String] = []
        var word = ""
        var inWord = false
        var scalars = text.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            switch scalar {
            case "'":
                inWord = true
                var closed = false
                while let next = scalars.next() {
                    if next == "'" {
                        closed = true
                        break
                    }
                    word.unicodeScalars.append(next)
                }
                guard closed else { return .failure(Problem(message: "No closing quotation")) }
            case "\"":
                inWord = true
                var closed = false
                while let next = scalars.next() {
                    if next == "\"" {
                        closed = true
                        break
                    }
                    if next == "\\" {
                        guard let escaped = scalars.next() else { break }
                        if !["\\", "\"", "$", "`", "\n"].contains(escaped) { word.unicodeScalars.append("\\") }
                        word.unicodeScalars.append(escaped)
                        continue
                    }
                    word.unicodeScalars.append(next)
                }
                guard closed else { return .failure(Problem(message: "No closing quotation")) }
            case "\\":
                guard let escaped = scalars.next() else { return .failure(Problem(message: "No escaped character")) }
                inWord = true
                word.unicodeScalars.append(escaped)
            default:
                if TextLines.isSpace(scalar) {
                    if inWord { words.append(word) }
                    word = ""
                    inWord = false
                } else {
                    inWord = true
                    word.unicodeScalars.append(scalar)
                }
            }
        }
        if inWord { words.append(word) }
        return .success(words)
    }
}
