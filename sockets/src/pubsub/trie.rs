//! Subscription trie for the PUB/SUB family: owns the set of subscribed topic
//! prefixes with their reference counts, and answers "does this message match any
//! subscription?" in time linear in the message prefix that is walked.
//!
//! Nodes live in a flat arena (`Vec<Node>`) and refer to each other by index, so
//! nothing here recurses: adding, removing, matching, cloning, formatting and
//! dropping a trie holding a 64 KiB topic all use constant stack. Children are a
//! small `Vec<(u8, NodeId)>` sorted by byte (binary search, at most 256 entries).
//! Removal prunes every node that has a zero count and no children, and the arena
//! is kept dense by moving its last node into each freed slot, so memory stays
//! proportional to the live topics.

use bytes::Bytes;

/// Index of a node: [`ROOT`] is the root, `id > 0` is `Trie::nodes[id - 1]`.
type NodeId = u32;

/// The root node, which stands for the empty topic.
const ROOT: NodeId = 0;

/// Arena shrinking is not considered below this capacity.
const MIN_SHRINK_CAPACITY: usize = 64;

/// One trie node: the topic spelled by the path from the root to it.
#[derive(Debug, Default, Clone)]
struct Node {
    /// Reference count of the topic ending exactly here (0: not a topic).
    count: usize,
    /// Parent node (unused for the root).
    parent: NodeId,
    /// Byte on the edge from `parent` to this node (unused for the root).
    byte: u8,
    /// Children keyed by the next byte, sorted by that byte.
    children: Vec<(u8, NodeId)>,
}

impl Node {
    /// Position of the child for `byte` in `children`, or where to insert it.
    fn child_pos(&self, byte: u8) -> Result<usize, usize> {
        self.children.binary_search_by_key(&byte, |&(b, _)| b)
    }

    /// The child for `byte`, if any.
    fn child(&self, byte: u8) -> Option<NodeId> {
        self.child_pos(byte).ok().map(|i| self.children[i].1)
    }
}

/// A byte-prefix trie of subscription topics with reference counts.
#[derive(Debug, Default, Clone)]
pub(crate) struct Trie {
    /// The root (empty topic).
    root: Node,
    /// Every other node; node id `i` is stored at `nodes[i - 1]`.
    nodes: Vec<Node>,
    /// Number of distinct topics (nodes with a non-zero count).
    len: usize,
}

impl Trie {
    /// Creates an empty trie.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn new() -> Trie {
        Trie::default()
    }

    /// Adds one reference to `topic`; true when the topic was absent before.
    pub(crate) fn add(&mut self, topic: &[u8]) -> bool {
        let mut cur = ROOT;
        for &byte in topic {
            cur = match self.node(cur).child_pos(byte) {
                Ok(i) => self.node(cur).children[i].1,
                Err(i) => {
                    let id = NodeId::try_from(self.nodes.len() + 1)
                        .expect("subscription trie exceeds u32::MAX nodes");
                    self.nodes.push(Node {
                        count: 0,
                        parent: cur,
                        byte,
                        children: Vec::new(),
                    });
                    self.node_mut(cur).children.insert(i, (byte, id));
                    id
                }
            };
        }
        let node = self.node_mut(cur);
        node.count += 1;
        if node.count == 1 {
            self.len += 1;
            true
        } else {
            false
        }
    }

    /// Removes one reference; true when the count dropped to zero (topic gone).
    /// Removing an absent topic returns false and changes nothing.
    pub(crate) fn remove(&mut self, topic: &[u8]) -> bool {
        let Some(id) = self.find(topic) else {
            return false;
        };
        let node = self.node_mut(id);
        match node.count {
            0 => false,
            1 => {
                node.count = 0;
                self.len -= 1;
                self.prune(id);
                true
            }
            _ => {
                node.count -= 1;
                false
            }
        }
    }

    /// Removes every reference to `topic`; true when it was present.
    pub(crate) fn remove_all(&mut self, topic: &[u8]) -> bool {
        let Some(id) = self.find(topic) else {
            return false;
        };
        let node = self.node_mut(id);
        if node.count == 0 {
            return false;
        }
        node.count = 0;
        self.len -= 1;
        self.prune(id);
        true
    }

    /// Reference count of exactly this topic (0 when absent).
    pub(crate) fn count(&self, topic: &[u8]) -> usize {
        self.find(topic).map_or(0, |id| self.node(id).count)
    }

    /// True when `topic` itself is stored (not merely a prefix of a stored topic).
    pub(crate) fn contains(&self, topic: &[u8]) -> bool {
        self.count(topic) > 0
    }

    /// True when some stored topic is a prefix of `data` (the empty topic matches everything).
    pub(crate) fn matches(&self, data: &[u8]) -> bool {
        let mut node = &self.root;
        if node.count > 0 {
            return true;
        }
        for &byte in data {
            match node.child(byte) {
                Some(id) => node = self.node(id),
                None => return false,
            }
            if node.count > 0 {
                return true;
            }
        }
        false
    }

    /// Every stored topic once, in byte order (for resending after a reconnect).
    pub(crate) fn topics(&self) -> Vec<Bytes> {
        let mut out = Vec::with_capacity(self.len);
        if self.root.count > 0 {
            out.push(Bytes::new());
        }
        // Pre-order walk with sorted children yields lexicographic order. Each
        // stack entry is a node and the index of its next child to visit; `path`
        // holds the bytes from the root to the node on top of the stack.
        let mut path: Vec<u8> = Vec::new();
        let mut stack: Vec<(NodeId, usize)> = vec![(ROOT, 0)];
        while let Some(top) = stack.last_mut() {
            let (id, next) = *top;
            match self.node(id).children.get(next) {
                Some(&(byte, child)) => {
                    top.1 += 1;
                    path.push(byte);
                    if self.node(child).count > 0 {
                        out.push(Bytes::copy_from_slice(&path));
                    }
                    stack.push((child, 0));
                }
                None => {
                    stack.pop();
                    path.pop();
                }
            }
        }
        out
    }

    /// Number of distinct topics.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// True when no topic is stored.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The node for `id`.
    fn node(&self, id: NodeId) -> &Node {
        if id == ROOT {
            &self.root
        } else {
            &self.nodes[id as usize - 1]
        }
    }

    /// The node for `id`, mutably.
    fn node_mut(&mut self, id: NodeId) -> &mut Node {
        if id == ROOT {
            &mut self.root
        } else {
            &mut self.nodes[id as usize - 1]
        }
    }

    /// The node spelling exactly `topic`, if it exists (its count may be 0).
    fn find(&self, topic: &[u8]) -> Option<NodeId> {
        let mut cur = ROOT;
        for &byte in topic {
            cur = self.node(cur).child(byte)?;
        }
        Some(cur)
    }

    /// Frees `id` and then each ancestor, for as long as the node has a zero
    /// count and no children. The root is never freed.
    fn prune(&mut self, mut id: NodeId) {
        while id != ROOT {
            let node = self.node(id);
            if node.count > 0 || !node.children.is_empty() {
                break;
            }
            let (mut parent, byte) = (node.parent, node.byte);
            let siblings = &mut self.node_mut(parent).children;
            if let Ok(i) = siblings.binary_search_by_key(&byte, |&(b, _)| b) {
                siblings.remove(i);
            }
            if siblings.is_empty() {
                // Release the allocation of a node that may survive as a leaf.
                *siblings = Vec::new();
            }
            if let Some(moved_from) = self.free_node(id)
                && parent == moved_from
            {
                parent = id;
            }
            id = parent;
        }
        let cap = self.nodes.capacity();
        if cap > MIN_SHRINK_CAPACITY && self.nodes.len() < cap / 4 {
            self.nodes.shrink_to(cap / 2);
        }
    }

    /// Removes the childless, already unlinked node `id` from the arena by moving
    /// the last node into its slot. Returns the old id of the moved node, which
    /// is now known as `id`, when a node moved.
    fn free_node(&mut self, id: NodeId) -> Option<NodeId> {
        debug_assert_ne!(id, ROOT);
        let last = NodeId::try_from(self.nodes.len()).expect("node ids fit in u32");
        let slot = id as usize - 1;
        self.nodes.swap_remove(slot);
        if id == last {
            return None;
        }
        // Relink the moved node: its parent's edge and its children's parent.
        let (parent, byte) = (self.nodes[slot].parent, self.nodes[slot].byte);
        let edges = &mut self.node_mut(parent).children;
        let i = edges
            .binary_search_by_key(&byte, |&(b, _)| b)
            .expect("moved node is linked from its parent");
        edges[i].1 = id;
        for k in 0..self.nodes[slot].children.len() {
            let child = self.nodes[slot].children[k].1;
            self.nodes[child as usize - 1].parent = id;
        }
        Some(last)
    }

    /// Number of nodes including the root (tests: pruning leaves only the root).
    #[cfg(test)]
    fn node_count(&self) -> usize {
        self.nodes.len() + 1
    }

    /// Checks the structural invariants (tests only).
    #[cfg(test)]
    fn check_invariants(&self) {
        let mut topics = usize::from(self.root.count > 0);
        for (slot, node) in self.nodes.iter().enumerate() {
            let id = NodeId::try_from(slot + 1).unwrap();
            assert!(
                node.count > 0 || !node.children.is_empty(),
                "unpruned node {id}"
            );
            assert_eq!(self.node(node.parent).child(node.byte), Some(id));
            topics += usize::from(node.count > 0);
        }
        for id in 0..=self.nodes.len() {
            let node = self.node(NodeId::try_from(id).unwrap());
            assert!(node.children.windows(2).all(|w| w[0].0 < w[1].0));
            for &(byte, child) in &node.children {
                assert_ne!(child, ROOT);
                assert_eq!(self.node(child).byte, byte);
                assert_eq!(self.node(child).parent as usize, id);
            }
        }
        assert_eq!(topics, self.len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn empty_trie() {
        let t = Trie::new();
        assert!(t.is_empty());
        assert_eq!(t.len(), 0);
        assert!(!t.matches(b""));
        assert!(!t.matches(b"abc"));
        assert!(t.topics().is_empty());
        assert_eq!(t.count(b""), 0);
        assert_eq!(t.node_count(), 1);
    }

    #[test]
    fn empty_topic_matches_everything() {
        let mut t = Trie::new();
        assert!(t.add(b""));
        assert!(t.contains(b""));
        assert!(t.matches(b""));
        assert!(t.matches(b"anything"));
        assert!(t.matches(&[0, 255]));
        assert_eq!(t.topics(), vec![Bytes::new()]);
        assert_eq!(t.len(), 1);
        assert!(t.remove(b""));
        assert!(!t.matches(b"anything"));
        assert!(t.is_empty());
    }

    #[test]
    fn counted_add_needs_as_many_removes() {
        let mut t = Trie::new();
        assert!(t.add(b"A"));
        assert!(!t.add(b"A"));
        assert_eq!(t.count(b"A"), 2);
        assert_eq!(t.len(), 1);
        assert!(!t.remove(b"A"));
        assert!(t.contains(b"A"));
        assert!(t.matches(b"AB"));
        assert!(t.remove(b"A"));
        assert!(!t.contains(b"A"));
        assert!(!t.matches(b"AB"));
        assert_eq!(t.node_count(), 1);
    }

    #[test]
    fn prefix_semantics() {
        let mut t = Trie::new();
        t.add(b"A");
        assert!(t.matches(b"A"));
        assert!(t.matches(b"AB"));
        assert!(!t.matches(b"B"));
        assert!(!t.matches(b""));

        let mut t = Trie::new();
        t.add(b"AB");
        assert!(!t.matches(b"A"));
        assert!(!t.matches(b""));
        assert!(t.matches(b"AB"));
        assert!(t.matches(b"ABC"));
        assert!(!t.matches(b"AC"));
        // "A" is an interior node, not a topic.
        assert!(!t.contains(b"A"));
        assert_eq!(t.count(b"A"), 0);
    }

    #[test]
    fn remove_absent_topic_changes_nothing() {
        let mut t = Trie::new();
        assert!(!t.remove(b"x"));
        assert!(!t.remove_all(b"x"));
        t.add(b"abc");
        let before = t.node_count();
        // Interior node, longer topic, unrelated topic.
        for absent in [&b"ab"[..], b"abcd", b"zz", b""] {
            assert!(!t.remove(absent));
            assert!(!t.remove_all(absent));
        }
        assert_eq!(t.node_count(), before);
        assert_eq!(t.count(b"abc"), 1);
        assert_eq!(t.topics(), vec![Bytes::from_static(b"abc")]);
        t.check_invariants();
    }

    #[test]
    fn remove_all_drops_every_reference() {
        let mut t = Trie::new();
        t.add(b"x");
        t.add(b"x");
        t.add(b"x");
        assert!(t.remove_all(b"x"));
        assert!(!t.remove_all(b"x"));
        assert_eq!(t.count(b"x"), 0);
        assert!(t.is_empty());
        assert_eq!(t.node_count(), 1);
    }

    #[test]
    fn pruning_returns_to_root_only() {
        let mut t = Trie::new();
        let topics: Vec<Vec<u8>> = (0..2000u32)
            .map(|i| format!("topic/{}/{}", i % 37, i).into_bytes())
            .collect();
        for topic in &topics {
            assert!(t.add(topic));
        }
        t.add(b"");
        t.add(b"topic");
        assert_eq!(t.len(), topics.len() + 2);
        t.check_invariants();
        // Remove in an interleaved order to exercise node moves in the arena.
        for topic in topics
            .iter()
            .step_by(2)
            .chain(topics.iter().skip(1).step_by(2))
        {
            assert!(t.remove(topic));
        }
        t.check_invariants();
        assert_eq!(t.len(), 2);
        // Only the spine of "topic" survives.
        assert_eq!(t.node_count(), 1 + 5);
        assert!(t.remove(b"topic"));
        assert!(t.remove(b""));
        assert_eq!(t.len(), 0);
        assert!(t.is_empty());
        assert_eq!(t.node_count(), 1);
        assert!(t.root.children.is_empty());
        assert!(t.nodes.capacity() <= MIN_SHRINK_CAPACITY * 2);
        t.check_invariants();
    }

    #[test]
    fn shared_prefixes_share_nodes() {
        let mut t = Trie::new();
        t.add(b"abc");
        t.add(b"abd");
        t.add(b"ab");
        assert_eq!(t.node_count(), 1 + 4);
        assert!(t.remove(b"ab"));
        assert_eq!(t.node_count(), 1 + 4);
        assert!(t.remove(b"abc"));
        assert_eq!(t.node_count(), 1 + 3);
        assert!(t.matches(b"abdx"));
        assert!(!t.matches(b"abcx"));
        t.check_invariants();
    }

    #[test]
    fn topics_in_byte_order() {
        let mut t = Trie::new();
        for topic in [&b"b"[..], b"ab", b"a", b"", b"\xff", b"\x00", b"abc", b"aa"] {
            t.add(topic);
        }
        t.add(b"a");
        let topics = t.topics();
        let got: Vec<&[u8]> = topics.iter().map(|b| &b[..]).collect();
        assert_eq!(
            got,
            vec![&b""[..], b"\x00", b"a", b"aa", b"ab", b"abc", b"b", b"\xff"]
        );
    }

    #[test]
    fn clone_is_independent() {
        let mut t = Trie::new();
        t.add(b"one");
        let mut c = t.clone();
        c.add(b"two");
        assert!(c.remove(b"one"));
        assert!(t.contains(b"one"));
        assert!(!t.contains(b"two"));
        assert!(c.contains(b"two"));
        t.check_invariants();
        c.check_invariants();
    }

    #[test]
    fn topic_lengths() {
        for n in [0usize, 1, 255, 256, 1000, 65536] {
            let topic: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
            let mut t = Trie::new();
            assert!(t.add(&topic), "len {n}");
            assert!(!t.add(&topic));
            assert_eq!(t.count(&topic), 2);
            assert_eq!(t.node_count(), n + 1);
            assert!(t.matches(&topic));
            let mut longer = topic.clone();
            longer.extend_from_slice(b"tail");
            assert!(t.matches(&longer));
            if n > 0 {
                assert!(!t.matches(&topic[..n - 1]));
                assert!(!t.contains(&topic[..n - 1]));
                let mut other = topic.clone();
                other[n - 1] ^= 1;
                assert!(!t.matches(&other));
            }
            assert_eq!(t.topics(), vec![Bytes::from(topic.clone())]);
            // Clone, Debug and Drop of a deep trie must not recurse.
            let c = t.clone();
            assert_eq!(c.count(&topic), 2);
            drop(c);
            assert!(!format!("{t:?}").is_empty());
            assert!(!t.remove(&topic));
            assert!(t.remove(&topic));
            assert!(t.is_empty());
            assert_eq!(t.node_count(), 1);
            // Dropping while still populated.
            t.add(&topic);
            drop(t);
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(Vec<u8>),
        Remove(Vec<u8>),
        RemoveAll(Vec<u8>),
        Matches(Vec<u8>),
        Count(Vec<u8>),
    }

    fn op_strategy(alphabet: Vec<u8>, max_topic: usize) -> impl Strategy<Value = Op> {
        let byte = proptest::sample::select(alphabet);
        let topic = proptest::collection::vec(byte.clone(), 0..=max_topic);
        let data = proptest::collection::vec(byte, 0..=max_topic + 2);
        prop_oneof![
            4 => topic.clone().prop_map(Op::Add),
            3 => topic.clone().prop_map(Op::Remove),
            1 => topic.clone().prop_map(Op::RemoveAll),
            3 => data.prop_map(Op::Matches),
            1 => topic.prop_map(Op::Count),
        ]
    }

    /// Runs `ops` against the trie and a naive model, comparing every answer.
    fn check_against_model(ops: &[Op]) -> Result<(), TestCaseError> {
        let mut trie = Trie::new();
        let mut model: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Add(t) => {
                    let c = model.entry(t.clone()).or_insert(0);
                    *c += 1;
                    prop_assert_eq!(trie.add(t), *c == 1);
                }
                Op::Remove(t) => {
                    let expect = match model.get_mut(t) {
                        Some(c) if *c > 1 => {
                            *c -= 1;
                            false
                        }
                        Some(_) => {
                            model.remove(t);
                            true
                        }
                        None => false,
                    };
                    prop_assert_eq!(trie.remove(t), expect);
                }
                Op::RemoveAll(t) => {
                    prop_assert_eq!(trie.remove_all(t), model.remove(t).is_some());
                }
                Op::Matches(d) => {
                    let expect = model.keys().any(|k| d.starts_with(k));
                    prop_assert_eq!(trie.matches(d), expect);
                }
                Op::Count(t) => {
                    let expect = model.get(t).copied().unwrap_or(0);
                    prop_assert_eq!(trie.count(t), expect);
                    prop_assert_eq!(trie.contains(t), expect > 0);
                }
            }
            prop_assert_eq!(trie.len(), model.len());
            prop_assert_eq!(trie.is_empty(), model.is_empty());
        }
        trie.check_invariants();
        let topics: Vec<Vec<u8>> = trie.topics().iter().map(|b| b.to_vec()).collect();
        let expected: Vec<Vec<u8>> = model.keys().cloned().collect();
        prop_assert_eq!(topics, expected);
        for (k, &c) in &model {
            prop_assert_eq!(trie.count(k), c);
        }
        // Removing everything prunes back to the root.
        for k in model.keys() {
            prop_assert!(trie.remove_all(k));
        }
        prop_assert!(trie.is_empty());
        prop_assert_eq!(trie.node_count(), 1);
        trie.check_invariants();
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn prop_matches_model_two_letters(
            ops in proptest::collection::vec(op_strategy(vec![b'a', b'b'], 4), 0..200)
        ) {
            check_against_model(&ops)?;
        }

        #[test]
        fn prop_matches_model_edge_bytes(
            ops in proptest::collection::vec(op_strategy(vec![0, 1, 0x7f, 0x80, 0xff], 6), 0..200)
        ) {
            check_against_model(&ops)?;
        }

        #[test]
        fn prop_matches_model_many_children(
            ops in proptest::collection::vec(op_strategy((0..=255).collect(), 2), 0..300)
        ) {
            check_against_model(&ops)?;
        }
    }
}
