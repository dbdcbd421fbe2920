extension Broker {
    /// The elements of a Broker `set`: sorted by ``Broker/Value``'s order, each element once.
    public struct ValueSet: Sendable, Hashable, RandomAccessCollection {
        /// The elements in order.
        public private(set) var elements: [Value]

        /// Creates a set from elements in any order, dropping duplicates.
        ///
        /// - Parameter elements: The elements.
        public init(_ elements: [Value]) {
            self.elements = Self.normalized(elements)
        }

        static func normalized(_ elements: [Value]) -> [Value] {
            guard elements.count > 1 else { return elements }
            var isSortedAndUnique = true
            for index in 1..<elements.count where !(elements[index - 1] < elements[index]) {
                isSortedAndUnique = false
                break
            }
            if isSortedAndUnique { return elements }
            var sorted = elements.sorted()
            var write = 1
            for read in 1..<sorted.count where sorted[read] != sorted[write - 1] {
                sorted[write] = sorted[read]
                write += 1
            }
            sorted.removeSubrange(write...)
            return sorted
        }

        /// A Boolean value indicating whether `element` is in the set.
        ///
        /// - Parameter element: The value to look for.
        /// - Returns: Whether it is present.
        public func contains(_ element: Value) -> Bool {
            var low = 0
            var high = elements.count
            while low < high {
                let middle = (low + high) / 2
                if elements[middle] < element {
                    low = middle + 1
                } else {
                    high = middle
                }
            }
            return low < elements.count && elements[low] == element
        }

        /// The position of the first element.
        public var startIndex: Int { elements.startIndex }
        /// The position after the last element.
        public var endIndex: Int { elements.endIndex }
        /// The element at `position`.
        ///
        /// - Parameter position: A valid index.
        public subscript(position: Int) -> Value { elements[position] }
    }

    /// The entries of a Broker `table`: sorted by key, each key once.
    public struct ValueTable: Sendable, Hashable, RandomAccessCollection {
        /// One key and its value.
        public struct Entry: Sendable, Hashable {
            /// The key.
            public var key: Value
            /// The value.
            public var value: Value

            /// Creates an entry.
            ///
            /// - Parameters:
            ///   - key: The key.
            ///   - value: The value.
            public init(key: Value, value: Value) {
                self.key = key
                self.value = value
            }
        }

        /// The entries, sorted by key.
        public private(set) var entries: [Entry]

        /// Creates a table from entries in any order; for a repeated key the last entry wins.
        ///
        /// - Parameter entries: The keys and values.
        public init(_ entries: [(key: Value, value: Value)]) {
            self.init(entries: entries.map { Entry(key: $0.key, value: $0.value) })
        }

        /// Creates a table from entries in any order; for a repeated key the last entry wins.
        ///
        /// - Parameter entries: The entries.
        public init(entries: [Entry]) {
            var isSortedAndUnique = true
            if entries.count > 1 {
                for index in 1..<entries.count where !(entries[index - 1].key < entries[index].key) {
                    isSortedAndUnique = false
                    break
                }
            }
            guard !isSortedAndUnique else {
                self.entries = entries
                return
            }
            // A stable sort keeps the input order among equal keys, so the last of them is the one to keep.
            let sorted = entries.enumerated().sorted { lhs, rhs in
                lhs.element.key < rhs.element.key || (lhs.element.key == rhs.element.key && lhs.offset < rhs.offset)
            }.map(\.element)
            var unique: [Entry] = []
            unique.reserveCapacity(sorted.count)
            for entry in sorted {
                if let last = unique.last, last.key == entry.key {
                    unique[unique.count - 1] = entry
                } else {
                    unique.append(entry)
                }
            }
            self.entries = unique
        }

        /// The value for `key`, or `nil` when absent.
        ///
        /// - Parameter key: The key.
        public subscript(key key: Value) -> Value? {
            var low = 0
            var high = entries.count
            while low < high {
                let middle = (low + high) / 2
                if entries[middle].key < key {
                    low = middle + 1
                } else {
                    high = middle
                }
            }
            return low < entries.count && entries[low].key == key ? entries[low].value : nil
        }

        /// The position of the first entry.
        public var startIndex: Int { entries.startIndex }
        /// The position after the last entry.
        public var endIndex: Int { entries.endIndex }
        /// The entry at `position`.
        ///
        /// - Parameter position: A valid index.
        public subscript(position: Int) -> Entry { entries[position] }
    }
}

extension Broker.ValueSet: ExpressibleByArrayLiteral {
    /// Creates a set from elements in any order.
    ///
    /// - Parameter elements: The elements.
    public init(arrayLiteral elements: Broker.Value...) { self.init(elements) }
}

extension Broker.ValueTable: ExpressibleByDictionaryLiteral {
    /// Creates a table from entries in any order.
    ///
    /// - Parameter elements: The keys and values.
    public init(dictionaryLiteral elements: (Broker.Value, Broker.Value)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }
}
