/// A path-compressed byte trie (radix tree) of subscription prefixes.
///
/// Each node stands for one prefix: the labels on the path from the root, concatenated. A node holds the
/// ids of the subscribers subscribed to exactly its prefix. Finding every subscription that matches a topic
/// walks the topic's bytes once from the root, so it costs O(topic length + matches) whatever the number of
/// subscriptions.
///
/// Storage is flat so that matching touches no reference counts: nodes are plain structs in one array,
/// labels are ranges of one byte pool, and each node's outgoing edges are a sorted run of one edge pool
/// (`first byte << 32 | child`). Removing and merging leave garbage in the pools; ``relayoutIfNeeded()``
/// rewrites everything in depth-first order when garbage outweighs live data or the tree has doubled.
///
/// Invariant: every node other than the root has subscribers or at least two children.
///
/// Offsets into the pools and node indices are 32-bit to keep nodes small. ``Limits`` keeps every one of them
/// far from `Int32.max`: an insertion that would pass a limit is refused (``canInsert(_:)``) before anything
/// changes, so no conversion can trap however many or long the prefixes.
@usableFromInline
struct TopicTrie: Sendable {
    /// Bounds on the trie's size, each far below what its 32-bit offsets hold.
    struct Limits: Sendable, Hashable {
        /// The most bytes of distinct prefix labels (live label pool bytes): 512 MiB.
        ///
        /// With garbage kept below half the pool between layouts, the pool stays below 2^31 bytes.
        var maximumLabelBytes = 1 << 29
        /// The most tree nodes in use: 2^26 (67,108,864).
        ///
        /// The edge pool then stays below 2^31 entries too.
        var maximumNodes = 1 << 26

        static let standard = Limits()
    }

    /// The bounds checked by ``canInsert(_:)``.
    var limits = Limits.standard

    struct Node {
        /// The label's first eight bytes (fewer for a shorter label), little-endian, zero-padded.
        var labelHead: UInt64
        var labelStart: Int32
        var labelLength: Int32
        var parent: Int32
        var edgeStart: Int32
        var edgeCount: Int32
        var edgeCapacity: Int32
        /// The first subscriber id, or -1 when the node has none.
        var firstSubscriber: Int32
        /// An index into `extras` holding further subscriber ids, or -1.
        var extraSubscribers: Int32

        static let unused = Node(
            labelHead: 0,
            labelStart: 0,
            labelLength: 0,
            parent: -1,
            edgeStart: 0,
            edgeCount: 0,
            edgeCapacity: 0,
            firstSubscriber: -1,
            extraSubscribers: -1
        )

        var hasSubscribers: Bool { firstSubscriber >= 0 }
    }

    static let root: Int32 = 0

    private(set) var nodes: [Node] = [.unused]
    private var labels: [UInt8] = []
    private var edges: [UInt64] = []
    private var extras: [[Int32]] = []
    private var freeNodes: [Int32] = []
    private var freeExtras: [Int32] = []
    private var labelGarbage = 0
    private var edgeGarbage = 0
    /// The node count at the last ``relayout()``.
    private var nodeCountAtLayout = 1

    // Matching's working memory, reused by every query.
    /// Per subscriber id, the query in which it was last collected (for de-duplication).
    private var stamps: [UInt32] = []
    private var stamp: UInt32 = 0
    /// The ids collected by the last ``collect(_:excluding:)``: the first ``matchedCount`` elements.
    @usableFromInline private(set) var matched: [Int32] = []
    @usableFromInline private(set) var matchedCount = 0

    /// The number of nodes in use, the root included.
    var nodeCount: Int { nodes.count - freeNodes.count }

    /// The bytes of labels in use (the label pool without its garbage).
    var liveLabelBytes: Int { labels.count - labelGarbage }

    /// Whether inserting `prefix` stays within ``limits``.
    ///
    /// An insertion adds at most the prefix's length in label bytes and two nodes. Checked before
    /// ``insert(_:)``, which then cannot push an offset past 32 bits.
    func canInsert(_ prefix: UnsafeBufferPointer<UInt8>) -> Bool {
        prefix.count <= limits.maximumLabelBytes - liveLabelBytes && nodeCount + 2 <= limits.maximumNodes
    }

    // MARK: - Lookup

    /// The child of `node` whose label starts with `byte`, or -1.
    @inline(__always)
    private static func child(
        of node: Node,
        startingWith byte: UInt8,
        in edges: UnsafeBufferPointer<UInt64>
    ) -> Int32 {
        var low = Int(node.edgeStart)
        var high = low + Int(node.edgeCount)
        if high - low <= 8 {
            while low < high {
                let edge = edges[low]
                if UInt8(truncatingIfNeeded: edge >> 32) == byte { return Int32(truncatingIfNeeded: edge) }
                low += 1
            }
            return -1
        }
        let key = UInt64(byte) << 32
        while low < high {
            let middle = (low + high) / 2
            if edges[middle] < key { low = middle + 1 } else { high = middle }
        }
        guard low < Int(node.edgeStart) + Int(node.edgeCount) else { return -1 }
        let edge = edges[low]
        return UInt8(truncatingIfNeeded: edge >> 32) == byte ? Int32(truncatingIfNeeded: edge) : -1
    }

    /// Calls `body` with every node on `topic`'s path that has subscribers, shortest prefix first.
    func forEachMatch(_ topic: UnsafeBufferPointer<UInt8>, _ body: (Int32) -> Void) {
        nodes.withUnsafeBufferPointer { nodes in
            labels.withUnsafeBufferPointer { labels in
                edges.withUnsafeBufferPointer { edges in
                    var index = Self.root
                    var position = 0
                    let count = topic.count
                    while true {
                        let node = nodes[Int(index)]
                        if node.firstSubscriber >= 0 { body(index) }
                        guard position < count else { return }
                        let child = Self.child(of: node, startingWith: topic[position], in: edges)
                        guard child >= 0 else { return }
                        let childNode = nodes[Int(child)]
                        let length = Int(childNode.labelLength)
                        guard count - position >= length else { return }
                        let start = Int(childNode.labelStart)
                        var offset = 1
                        while offset < length {
                            guard labels[start + offset] == topic[position + offset] else { return }
                            offset += 1
                        }
                        position += length
                        index = child
                    }
                }
            }
        }
    }

    /// Makes room for subscriber ids below `count` in the de-duplication stamps.
    mutating func reserve(subscriberIDs count: Int) {
        if stamps.count < count { stamps.append(contentsOf: repeatElement(0, count: count - stamps.count)) }
    }

    /// Collects into ``matched`` every subscriber id holding a prefix of `topic`, each once, except `excluded`.
    ///
    /// The matching loop of ``TopicRouter``, shortest prefix first: no closures, no reference counting and
    /// no allocation in the walk once the buffers have grown.
    @usableFromInline
    mutating func collect(_ topic: Topic, excluding excluded: Int32) {
        if stamp == .max {
            for index in stamps.indices { stamps[index] = 0 }
            stamp = 0
        }
        stamp += 1
        // Take the buffers out of `self` so the walk below only reads `self`.
        var stamps: [UInt32] = []
        var matched: [Int32] = []
        swap(&stamps, &self.stamps)
        swap(&matched, &self.matched)
        if excluded >= 0 { stamps[Int(excluded)] = stamp }
        let count = Self.walk(
            topic,
            nodes: nodes,
            labels: labels,
            edges: edges,
            extras: extras,
            stamp: stamp,
            stamps: &stamps,
            into: &matched
        )
        swap(&stamps, &self.stamps)
        swap(&matched, &self.matched)
        matchedCount = count
    }

    /// Writes the ids on `topic`'s path whose stamp is not `stamp` to the front of `matched`, stamping them.
    ///
    /// Static, with the arrays passed in, so that the closures below capture only borrowed arrays and never
    /// a copy of the whole trie.
    ///
    /// - Returns: How many ids were written.
    private static func walk(
        _ topic: Topic,
        nodes: borrowing [Node],
        labels: borrowing [UInt8],
        edges: borrowing [UInt64],
        extras: borrowing [[Int32]],
        stamp: UInt32,
        stamps: inout [UInt32],
        into matched: inout [Int32]
    ) -> Int {
        var written = 0
        topic.withUTF8 { topic in
            stamps.withUnsafeMutableBufferPointer { stamps in
                nodes.withUnsafeBufferPointer { nodes in
                    labels.withUnsafeBufferPointer { labels in
                        edges.withUnsafeBufferPointer { edges in
                            @inline(__always)
                            func emit(_ id: Int32) {
                                guard stamps[Int(id)] != stamp else { return }
                                stamps[Int(id)] = stamp
                                if written < matched.count { matched[written] = id } else { matched.append(id) }
                                written += 1
                            }
                            var index = root
                            var position = 0
                            let count = topic.count
                            while true {
                                let node = nodes[Int(index)]
                                if node.firstSubscriber >= 0 {
                                    emit(node.firstSubscriber)
                                    if node.extraSubscribers >= 0 {
                                        for id in extras[Int(node.extraSubscribers)] { emit(id) }
                                    }
                                }
                                guard position < count else { return }
                                let child = child(of: node, startingWith: topic[position], in: edges)
                                guard child >= 0 else { return }
                                let childNode = nodes[Int(child)]
                                let length = Int(childNode.labelLength)
                                guard count - position >= length,
                                    head(of: topic, at: position, length: length) == childNode.labelHead,
                                    length <= 8 || equal(labels, Int(childNode.labelStart), topic, position, length)
                                else { return }
                                position += length
                                index = child
                            }
                        }
                    }
                }
            }
        }
        return written
    }

    /// The first `min(length, 8)` bytes of `bytes` from `start`, packed as ``Node/labelHead`` is.
    @inline(__always)
    static func head(of bytes: UnsafeBufferPointer<UInt8>, at start: Int, length: Int) -> UInt64 {
        let used = min(length, 8)
        if bytes.count - start >= 8, let base = bytes.baseAddress {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + start).loadUnaligned(as: UInt64.self))
            return used == 8 ? word : word & ((1 << (8 * UInt64(used))) - 1)
        }
        var word: UInt64 = 0
        for offset in 0..<used { word |= UInt64(bytes[start + offset]) << (8 * UInt64(offset)) }
        return word
    }

    /// Recomputes ``Node/labelHead`` of `index` from the label pool.
    private mutating func refreshHead(of index: Int32) {
        let node = nodes[Int(index)]
        nodes[Int(index)].labelHead = labels.withUnsafeBufferPointer {
            Self.head(of: $0, at: Int(node.labelStart), length: Int(node.labelLength))
        }
    }

    /// Whether `length` bytes of `labels` from `labelStart` equal those of `topic` from `topicStart`.
    @inline(__always)
    private static func equal(
        _ labels: UnsafeBufferPointer<UInt8>,
        _ labelStart: Int,
        _ topic: UnsafeBufferPointer<UInt8>,
        _ topicStart: Int,
        _ length: Int
    ) -> Bool {
        guard length > 1, let labelBase = labels.baseAddress, let topicBase = topic.baseAddress else { return true }
        let left = UnsafeRawPointer(labelBase + labelStart)
        let right = UnsafeRawPointer(topicBase + topicStart)
        var offset = 0
        while length - offset >= 8 {
            guard
                left.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                    == right.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            else { return false }
            offset += 8
        }
        while offset < length {
            guard
                left.load(fromByteOffset: offset, as: UInt8.self) == right.load(fromByteOffset: offset, as: UInt8.self)
            else { return false }
            offset += 1
        }
        return true
    }

    /// The node standing for exactly `prefix`, or `nil` when there is none.
    func find(_ prefix: UnsafeBufferPointer<UInt8>) -> Int32? {
        var index = Self.root
        var position = 0
        while position < prefix.count {
            let child = edges.withUnsafeBufferPointer {
                Self.child(of: nodes[Int(index)], startingWith: prefix[position], in: $0)
            }
            guard child >= 0 else { return nil }
            let node = nodes[Int(child)]
            let length = Int(node.labelLength)
            guard prefix.count - position >= length else { return nil }
            for offset in 1..<max(length, 1) where labels[Int(node.labelStart) + offset] != prefix[position + offset] {
                return nil
            }
            position += length
            index = child
        }
        return index
    }

    /// The full prefix bytes of `node`.
    func prefix(of node: Int32) -> [UInt8] {
        var parts: [Int32] = []
        var index = node
        while index != Self.root {
            parts.append(index)
            index = nodes[Int(index)].parent
        }
        var bytes: [UInt8] = []
        for part in parts.reversed() {
            let node = nodes[Int(part)]
            bytes.append(contentsOf: labels[Int(node.labelStart)..<Int(node.labelStart + node.labelLength)])
        }
        return bytes
    }

    /// Calls `body` with every node that has subscribers, in byte order of their prefixes.
    func forEachSubscribedNode(_ body: (Int32) -> Void) {
        var stack: [Int32] = [Self.root]
        while let index = stack.popLast() {
            let node = nodes[Int(index)]
            if node.hasSubscribers { body(index) }
            let start = Int(node.edgeStart)
            for position in stride(from: start + Int(node.edgeCount) - 1, through: start, by: -1) {
                stack.append(Int32(truncatingIfNeeded: edges[position]))
            }
        }
    }

    // MARK: - Subscribers of a node

    /// Calls `body` with each subscriber id of `node`, in the order they subscribed.
    @inline(__always)
    func forEachSubscriber(of node: Int32, _ body: (Int32) -> Void) {
        let node = nodes[Int(node)]
        guard node.firstSubscriber >= 0 else { return }
        body(node.firstSubscriber)
        if node.extraSubscribers >= 0 {
            for id in extras[Int(node.extraSubscribers)] { body(id) }
        }
    }

    /// Adds `id` to the subscribers of `node`; `false` when it is there already.
    mutating func addSubscriber(_ id: Int32, to index: Int32) -> Bool {
        let node = nodes[Int(index)]
        if node.firstSubscriber < 0 {
            nodes[Int(index)].firstSubscriber = id
            return true
        }
        if node.firstSubscriber == id { return false }
        if node.extraSubscribers < 0 {
            let slot: Int32
            if let free = freeExtras.popLast() {
                slot = free
                extras[Int(slot)] = [id]
            } else {
                slot = Int32(extras.count)
                extras.append([id])
            }
            nodes[Int(index)].extraSubscribers = slot
            return true
        }
        let slot = Int(node.extraSubscribers)
        if extras[slot].contains(id) { return false }
        extras[slot].append(id)
        return true
    }

    /// Removes `id` from the subscribers of `node` and prunes the tree; `false` when it was not there.
    mutating func removeSubscriber(_ id: Int32, from index: Int32) -> Bool {
        let node = nodes[Int(index)]
        let slot = Int(node.extraSubscribers)
        if node.firstSubscriber == id {
            if slot >= 0 {
                nodes[Int(index)].firstSubscriber = extras[slot].removeFirst()
                if extras[slot].isEmpty { releaseExtras(of: index) }
            } else {
                nodes[Int(index)].firstSubscriber = -1
                prune(from: index)
            }
            return true
        }
        guard slot >= 0, let position = extras[slot].firstIndex(of: id) else { return false }
        extras[slot].remove(at: position)
        if extras[slot].isEmpty { releaseExtras(of: index) }
        return true
    }

    private mutating func releaseExtras(of index: Int32) {
        let slot = nodes[Int(index)].extraSubscribers
        extras[Int(slot)] = []
        freeExtras.append(slot)
        nodes[Int(index)].extraSubscribers = -1
    }

    // MARK: - Insertion

    /// The node for `prefix`, created (splitting an edge if needed) when it does not exist.
    mutating func insert(_ prefix: UnsafeBufferPointer<UInt8>) -> Int32 {
        var index = Self.root
        var position = 0
        while position < prefix.count {
            let byte = prefix[position]
            let child = edges.withUnsafeBufferPointer {
                Self.child(of: nodes[Int(index)], startingWith: byte, in: $0)
            }
            guard child >= 0 else {
                let leaf = makeNode(label: UnsafeBufferPointer(rebasing: prefix[position...]), parent: index)
                addEdge(from: index, byte: byte, to: leaf)
                return leaf
            }
            let node = nodes[Int(child)]
            let length = Int(node.labelLength)
            var common = 1
            while common < length, position + common < prefix.count,
                labels[Int(node.labelStart) + common] == prefix[position + common]
            {
                common += 1
            }
            if common == length {
                position += length
                index = child
                continue
            }
            // Split the edge: a new node takes the common part of the label.
            let middle = newNode()
            nodes[Int(middle)].labelStart = node.labelStart
            nodes[Int(middle)].labelLength = Int32(common)
            nodes[Int(middle)].parent = index
            nodes[Int(child)].labelStart += Int32(common)
            nodes[Int(child)].labelLength -= Int32(common)
            nodes[Int(child)].parent = middle
            refreshHead(of: middle)
            refreshHead(of: child)
            replaceEdge(from: index, byte: byte, with: middle)
            addEdge(from: middle, byte: labels[Int(nodes[Int(child)].labelStart)], to: child)
            position += common
            guard position < prefix.count else { return middle }
            let leaf = makeNode(label: UnsafeBufferPointer(rebasing: prefix[position...]), parent: middle)
            addEdge(from: middle, byte: prefix[position], to: leaf)
            return leaf
        }
        return index
    }

    private mutating func newNode() -> Int32 {
        if let free = freeNodes.popLast() {
            nodes[Int(free)] = .unused
            return free
        }
        nodes.append(.unused)
        return Int32(nodes.count - 1)
    }

    private mutating func makeNode(label: UnsafeBufferPointer<UInt8>, parent: Int32) -> Int32 {
        let index = newNode()
        nodes[Int(index)].labelStart = Int32(labels.count)
        nodes[Int(index)].labelLength = Int32(label.count)
        nodes[Int(index)].parent = parent
        labels.append(contentsOf: label)
        refreshHead(of: index)
        return index
    }

    // MARK: - Edges

    private func edgePosition(from index: Int32, byte: UInt8) -> Int? {
        let node = nodes[Int(index)]
        let start = Int(node.edgeStart)
        for position in start..<start + Int(node.edgeCount)
        where UInt8(truncatingIfNeeded: edges[position] >> 32) == byte {
            return position
        }
        return nil
    }

    private mutating func addEdge(from index: Int32, byte: UInt8, to child: Int32) {
        var node = nodes[Int(index)]
        if node.edgeCount == node.edgeCapacity {
            let capacity = max(2, node.edgeCapacity * 2)
            let start = Int(node.edgeStart)
            let newStart = edges.count
            // Copy the run out first: appending a slice of `edges` to itself would copy the whole array.
            let run = Array(edges[start..<start + Int(node.edgeCount)])
            edges.append(contentsOf: run)
            edges.append(contentsOf: repeatElement(0, count: Int(capacity - node.edgeCount)))
            edgeGarbage += Int(node.edgeCapacity)
            node.edgeStart = Int32(newStart)
            node.edgeCapacity = capacity
        }
        let entry = UInt64(byte) << 32 | UInt64(UInt32(bitPattern: child))
        let start = Int(node.edgeStart)
        var position = start + Int(node.edgeCount)
        while position > start, edges[position - 1] > entry {
            edges[position] = edges[position - 1]
            position -= 1
        }
        edges[position] = entry
        node.edgeCount += 1
        nodes[Int(index)] = node
    }

    private mutating func replaceEdge(from index: Int32, byte: UInt8, with child: Int32) {
        guard let position = edgePosition(from: index, byte: byte) else { return }
        edges[position] = UInt64(byte) << 32 | UInt64(UInt32(bitPattern: child))
    }

    private mutating func removeEdge(from index: Int32, byte: UInt8) {
        guard let position = edgePosition(from: index, byte: byte) else { return }
        let end = Int(nodes[Int(index)].edgeStart + nodes[Int(index)].edgeCount)
        for moved in position..<end - 1 { edges[moved] = edges[moved + 1] }
        nodes[Int(index)].edgeCount -= 1
    }

    // MARK: - Removal

    /// Restores the invariant upwards from `index` after it lost its last subscriber or a child.
    private mutating func prune(from start: Int32) {
        var index = start
        while index != Self.root {
            let node = nodes[Int(index)]
            if node.hasSubscribers || node.edgeCount >= 2 { return }
            if node.edgeCount == 1 {
                merge(index, into: Int32(truncatingIfNeeded: edges[Int(node.edgeStart)]))
                return
            }
            let parent = node.parent
            removeEdge(from: parent, byte: labels[Int(node.labelStart)])
            release(index)
            index = parent
        }
    }

    /// Removes `index`, which has no subscribers and the single child `child`, joining their labels.
    private mutating func merge(_ index: Int32, into child: Int32) {
        let node = nodes[Int(index)]
        let childNode = nodes[Int(child)]
        let newStart = labels.count
        labels.reserveCapacity(labels.count + Int(node.labelLength + childNode.labelLength))
        for offset in 0..<Int(node.labelLength) { labels.append(labels[Int(node.labelStart) + offset]) }
        for offset in 0..<Int(childNode.labelLength) { labels.append(labels[Int(childNode.labelStart) + offset]) }
        labelGarbage += Int(childNode.labelLength)
        nodes[Int(child)].labelStart = Int32(newStart)
        nodes[Int(child)].labelLength = node.labelLength + childNode.labelLength
        nodes[Int(child)].parent = node.parent
        refreshHead(of: child)
        replaceEdge(from: node.parent, byte: labels[newStart], with: child)
        release(index)
    }

    private mutating func release(_ index: Int32) {
        let node = nodes[Int(index)]
        labelGarbage += Int(node.labelLength)
        edgeGarbage += Int(node.edgeCapacity)
        nodes[Int(index)] = .unused
        freeNodes.append(index)
    }

    // MARK: - Layout

    /// Lays the tree out again when it has doubled since the last layout, or when more than half of the
    /// label or edge pool is garbage.
    ///
    /// - Returns: The new index of every old node index (-1 for free slots) when the tree was laid out
    ///   again, so that holders of node indices can follow; `nil` when nothing changed.
    mutating func relayoutIfNeeded() -> [Int32]? {
        let grown = nodeCount > 1024 && nodeCount >= 2 * nodeCountAtLayout
        let labelsWasteful = labelGarbage > 4096 && labelGarbage > labels.count / 2
        let edgesWasteful = edgeGarbage > 1024 && edgeGarbage > edges.count / 2
        guard grown || labelsWasteful || edgesWasteful else { return nil }
        return relayout()
    }

    /// Renumbers the nodes in depth-first order and rewrites the label and edge pools in that order.
    ///
    /// A topic's path then runs through nearby memory, which keeps deep trees fast; free node slots and
    /// pool garbage are dropped. Costs O(nodes + pool bytes); ``relayoutIfNeeded()`` keeps it amortized.
    ///
    /// - Returns: The new index of every old node index, -1 for free slots.
    mutating func relayout() -> [Int32] {
        var order: [Int32] = []
        order.reserveCapacity(nodeCount)
        var stack: [Int32] = [Self.root]
        while let index = stack.popLast() {
            order.append(index)
            let node = nodes[Int(index)]
            let start = Int(node.edgeStart)
            for position in stride(from: start + Int(node.edgeCount) - 1, through: start, by: -1) {
                stack.append(Int32(truncatingIfNeeded: edges[position]))
            }
        }
        var mapping = [Int32](repeating: -1, count: nodes.count)
        for (newIndex, oldIndex) in order.enumerated() { mapping[Int(oldIndex)] = Int32(newIndex) }

        var newNodes: [Node] = []
        newNodes.reserveCapacity(order.count)
        var newLabels: [UInt8] = []
        newLabels.reserveCapacity(labels.count - labelGarbage)
        var newEdges: [UInt64] = []
        newEdges.reserveCapacity(edges.count - edgeGarbage)
        for oldIndex in order {
            var node = nodes[Int(oldIndex)]
            if node.parent >= 0 { node.parent = mapping[Int(node.parent)] }
            let labelStart = newLabels.count
            newLabels.append(contentsOf: labels[Int(node.labelStart)..<Int(node.labelStart + node.labelLength)])
            node.labelStart = Int32(labelStart)
            let edgeStart = newEdges.count
            for position in Int(node.edgeStart)..<Int(node.edgeStart + node.edgeCount) {
                let edge = edges[position]
                let child = mapping[Int(Int32(truncatingIfNeeded: edge))]
                newEdges.append(edge & 0xFFFF_FFFF_0000_0000 | UInt64(UInt32(bitPattern: child)))
            }
            node.edgeStart = Int32(edgeStart)
            node.edgeCapacity = node.edgeCount
            newNodes.append(node)
        }
        nodes = newNodes
        labels = newLabels
        edges = newEdges
        freeNodes = []
        labelGarbage = 0
        edgeGarbage = 0
        nodeCountAtLayout = nodes.count
        return mapping
    }

    /// Checks the structural invariants; used by tests.
    func isConsistent() -> Bool {
        var seen = 0
        var stack: [Int32] = [Self.root]
        while let index = stack.popLast() {
            seen += 1
            let node = nodes[Int(index)]
            if index != Self.root {
                guard node.labelLength > 0, node.hasSubscribers || node.edgeCount >= 2 else { return false }
            }
            if node.extraSubscribers >= 0, !node.hasSubscribers { return false }
            let head = labels.withUnsafeBufferPointer {
                Self.head(of: $0, at: Int(node.labelStart), length: Int(node.labelLength))
            }
            if head != node.labelHead { return false }
            var previous: UInt8?
            for position in Int(node.edgeStart)..<Int(node.edgeStart + node.edgeCount) {
                let child = Int32(truncatingIfNeeded: edges[position])
                let byte = UInt8(truncatingIfNeeded: edges[position] >> 32)
                let childNode = nodes[Int(child)]
                guard childNode.parent == index, labels[Int(childNode.labelStart)] == byte else { return false }
                if let previous, previous >= byte { return false }
                previous = byte
                stack.append(child)
            }
        }
        return seen == nodeCount
    }
}
