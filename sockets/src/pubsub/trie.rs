//! Subscription trie for the PUB/SUB family: owns the set of subscribed topic
//! prefixes with their reference counts, and answers "does this message match any
//! subscription?" in time linear in the message prefix that is walked.
//!
//! The trie is path-compressed (a radix trie): every edge carries a non-empty
//! byte-string label, and a node other than the root either ends a topic or
//! branches into at least two children. A trie therefore holds at most about two
//! nodes per topic, and its memory is proportional to the total length of the
//! stored topics plus their number (a 1 MiB topic costs about 1 MiB, not one node
//! per byte).
//!
//! Nodes live in a flat arena (`Vec<Node>`) and refer to each other by index, so
//! nothing here recurses: adding, removing, matching, cloning, formatting and
//! dropping a trie holding a 64 KiB topic all use constant stack. Children are a
//! small `Vec<(u8, NodeId)>` sorted by the first byte of the child's label
//! (binary search, at most 256 entries; sibling labels never share a first byte).
//! Removal prunes every node that has a zero count and no children, merges a
//! zero-count node having a single child into that child, and keeps the arena
//! dense by moving its last node into each freed slot, so memory stays
//! proportional to the live topics.

use bytes::Bytes;

/// Index of a node: [`ROOT`] is the root, `id > 0` is `Trie::nodes[id - 1]`.
type NodeId = u32;

/// The root node, which stands for the empty topic.
const ROOT: NodeId = 0;

/// Arena shrinking is not considered below this capacity.
const MIN_SHRINK_CAPACITY: usize = 64;

/// One trie node: the topic spelled by the labels on the path from the root to it.
#[derive(Debug, Default, Clone)]
struct Node {
    /// Reference count of the topic ending exactly here (0: not a topic).
    count: usize,
    /// Parent node (unused for the root).
    parent: NodeId,
    /// Label of the edge from `parent` to this node: never empty, except for the
    /// root, whose label is always empty.
    label: Box<[u8]>,
    /// Children keyed by the first byte of their label, sorted by that byte.
    children: Vec<(u8, NodeId)>,
}

impl Node {
    /// Position of the child whose label starts with `byte` in `children`, or
    /// where to insert it.
    fn child_pos(&self, byte: u8) -> Result<usize, usize> {
        self.children.binary_search_by_key(&byte, |&(b, _)| b)
    }

    /// The child whose label starts with `byte`, if any.
    fn child(&self, byte: u8) -> Option<NodeId> {
        self.child_pos(byte).ok().map(|i| self.children[i].1)
    }
}

/// Length of the longest common prefix of `a` and `b`.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
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
        let mut rest = topic;
        while let Some(&first) = rest.first() {
            match self.node(cur).child_pos(first) {
                Err(i) => {
                    // No edge starts with this byte: the rest becomes one new leaf.
                    let id = self.push_node(Node {
                        count: 0,
                        parent: cur,
                        label: rest.into(),
                        children: Vec::new(),
                    });
                    self.node_mut(cur).children.insert(i, (first, id));
                    cur = id;
                    rest = &[];
                }
                Ok(i) => {
                    let child = self.node(cur).children[i].1;
                    let label = &self.node(child).label;
                    let common = common_prefix(label, rest);
                    if common < label.len() {
                        // Split the edge: a new node takes the common part of the
                        // label and the old child keeps the remainder below it.
                        let head: Box<[u8]> = label[..common].into();
                        let tail: Box<[u8]> = label[common..].into();
                        let mid = self.push_node(Node {
                            count: 0,
                            parent: cur,
                            label: head,
                            children: vec![(tail[0], child)],
                        });
                        let node = self.node_mut(child);
                        node.label = tail;
                        node.parent = mid;
                        self.node_mut(cur).children[i].1 = mid;
                        cur = mid;
                    } else {
                        cur = child;
                    }
                    rest = &rest[common..];
                }
            }
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
        let mut rest = data;
        loop {
            if node.count > 0 {
                return true;
            }
            let Some(&first) = rest.first() else {
                return false;
            };
            let Some(id) = node.child(first) else {
                return false;
            };
            node = self.node(id);
            match rest.strip_prefix(&*node.label) {
                Some(after) => rest = after,
                None => return false,
            }
        }
    }

    /// Every stored topic once, in byte order (for resending after a reconnect).
    pub(crate) fn topics(&self) -> Vec<Bytes> {
        let mut out = Vec::with_capacity(self.len);
        if self.root.count > 0 {
            out.push(Bytes::new());
        }
        // Pre-order walk with sorted children yields lexicographic order (sibling
        // labels differ in their first byte). Each stack entry is a node and the
        // index of its next child to visit; `path` holds the concatenated labels
        // from the root to the node on top of the stack.
        let mut path: Vec<u8> = Vec::new();
        let mut stack: Vec<(NodeId, usize)> = vec![(ROOT, 0)];
        while let Some(top) = stack.last_mut() {
            let (id, next) = *top;
            match self.node(id).children.get(next) {
                Some(&(_, child)) => {
                    top.1 += 1;
                    let node = self.node(child);
                    path.extend_from_slice(&node.label);
                    if node.count > 0 {
                        out.push(Bytes::copy_from_slice(&path));
                    }
                    stack.push((child, 0));
                }
                None => {
                    stack.pop();
                    path.truncate(path.len() - self.node(id).label.len());
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

    /// Appends `node` to the arena and returns its id.
    fn push_node(&mut self, node: Node) -> NodeId {
        let id = NodeId::try_from(self.nodes.len() + 1)
            .expect("subscription trie exceeds u32::MAX nodes");
        self.nodes.push(node);
        id
    }

    /// The node spelling exactly `topic`, if it exists (its count may be 0). A
    /// topic ending inside an edge label has no node.
    fn find(&self, topic: &[u8]) -> Option<NodeId> {
        let mut cur = ROOT;
        let mut rest = topic;
        while let Some(&first) = rest.first() {
            cur = self.node(cur).child(first)?;
            rest = rest.strip_prefix(&*self.node(cur).label)?;
        }
        Some(cur)
    }

    /// Restores the radix invariants after the count of `id` dropped to zero:
    /// frees `id` and then each ancestor for as long as the node has a zero count
    /// and no children, and merges the first zero-count node left with a single
    /// child into that child. The root is never freed nor merged.
    fn prune(&mut self, mut id: NodeId) {
        while id != ROOT {
            let node = self.node(id);
            if node.count > 0 {
                break;
            }
            match node.children.len() {
                0 => {
                    let (mut parent, first) = (node.parent, node.label[0]);
                    let siblings = &mut self.node_mut(parent).children;
                    if let Ok(i) = siblings.binary_search_by_key(&first, |&(b, _)| b) {
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
                1 => {
                    self.merge_into_child(id);
                    break;
                }
                _ => break,
            }
        }
        let cap = self.nodes.capacity();
        if cap > MIN_SHRINK_CAPACITY && self.nodes.len() < cap / 4 {
            self.nodes.shrink_to(cap / 2);
        }
    }

    /// Replaces the non-root, zero-count node `id` having exactly one child by
    /// that child, whose label gets `id`'s label prepended.
    fn merge_into_child(&mut self, id: NodeId) {
        debug_assert_ne!(id, ROOT);
        let node = self.node_mut(id);
        debug_assert_eq!(node.count, 0);
        debug_assert_eq!(node.children.len(), 1);
        let (parent, child) = (node.parent, node.children[0].1);
        let head = std::mem::take(&mut node.label);
        node.children = Vec::new();
        let child_node = self.node_mut(child);
        let mut label = Vec::with_capacity(head.len() + child_node.label.len());
        label.extend_from_slice(&head);
        label.extend_from_slice(&child_node.label);
        child_node.label = label.into_boxed_slice();
        child_node.parent = parent;
        let edges = &mut self.node_mut(parent).children;
        let i = edges
            .binary_search_by_key(&head[0], |&(b, _)| b)
            .expect("merged node is linked from its parent");
        edges[i].1 = child;
        // `id` is now unlinked and childless; the child keeps the first byte of
        // the edge, so the parent's key stays valid.
        self.free_node(id);
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
        let (parent, first) = (self.nodes[slot].parent, self.nodes[slot].label[0]);
        let edges = &mut self.node_mut(parent).children;
        let i = edges
            .binary_search_by_key(&first, |&(b, _)| b)
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

    /// Total length of all edge labels (tests).
    #[cfg(test)]
    fn label_bytes(&self) -> usize {
        self.nodes.iter().map(|n| n.label.len()).sum()
    }

    /// Heap memory owned by the trie: the arena, the labels and the child
    /// vectors (tests).
    #[cfg(test)]
    fn heap_bytes(&self) -> usize {
        let children = |n: &Node| n.children.capacity() * std::mem::size_of::<(u8, NodeId)>();
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + children(&self.root)
            + self
                .nodes
                .iter()
                .map(|n| n.label.len() + children(n))
                .sum::<usize>()
    }

    /// Checks the structural invariants (tests only).
    #[cfg(test)]
    fn check_invariants(&self) {
        assert!(self.root.label.is_empty());
        let mut topics = usize::from(self.root.count > 0);
        for (slot, node) in self.nodes.iter().enumerate() {
            let id = NodeId::try_from(slot + 1).unwrap();
            assert!(!node.label.is_empty(), "empty label on node {id}");
            assert!(
                node.count > 0 || node.children.len() >= 2,
                "unpruned or unmerged node {id}"
            );
            assert_eq!(self.node(node.parent).child(node.label[0]), Some(id));
            topics += usize::from(node.count > 0);
        }
        for id in 0..=self.nodes.len() {
            let node = self.node(NodeId::try_from(id).unwrap());
            assert!(node.children.windows(2).all(|w| w[0].0 < w[1].0));
            for &(byte, child) in &node.children {
                assert_ne!(child, ROOT);
                assert_eq!(self.node(child).label[0], byte);
                assert_eq!(self.node(child).parent as usize, id);
            }
        }
        assert_eq!(topics, self.len);
        // Path compression: a branching node per topic at most.
        assert!(self.nodes.len() <= 2 * self.len);
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
        // Only the single-edge node of "topic" survives.
        assert_eq!(t.node_count(), 1 + 1);
        assert_eq!(t.label_bytes(), b"topic".len());
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
        // Root, "ab" (branching), "c" and "d".
        assert_eq!(t.node_count(), 1 + 3);
        assert_eq!(t.label_bytes(), 4);
        t.add(b"ab");
        assert_eq!(t.node_count(), 1 + 3);
        assert!(t.remove(b"ab"));
        assert_eq!(t.node_count(), 1 + 3);
        assert!(t.remove(b"abc"));
        // "ab" no longer branches and merges with "d" into "abd".
        assert_eq!(t.node_count(), 1 + 1);
        assert_eq!(t.label_bytes(), 3);
        assert!(t.matches(b"abdx"));
        assert!(!t.matches(b"abcx"));
        assert!(!t.matches(b"ab"));
        assert_eq!(t.count(b"ab"), 0);
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
            assert_eq!(t.node_count(), usize::from(n > 0) + 1);
            assert_eq!(t.label_bytes(), n);
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

    #[test]
    fn edge_split_and_merge() {
        let mut t = Trie::new();
        t.add(b"abcdef");
        assert_eq!(t.node_count(), 1 + 1);
        t.add(b"abcxyz");
        // "abc" branches into "def" and "xyz".
        assert_eq!(t.node_count(), 1 + 3);
        assert!(!t.contains(b"abc"));
        assert!(!t.matches(b"abcx"));
        assert!(t.matches(b"abcxyz!"));
        t.add(b"ab");
        // "abc" splits into "ab" (a topic) and "c" (branching).
        assert_eq!(t.node_count(), 1 + 4);
        assert_eq!(t.label_bytes(), 2 + 1 + 3 + 3);
        assert!(t.matches(b"abz"));
        assert!(!t.matches(b"a"));
        t.check_invariants();
        assert!(t.remove(b"abcdef"));
        // "c" no longer branches: merged into "cxyz".
        assert_eq!(t.node_count(), 1 + 2);
        assert_eq!(t.label_bytes(), 2 + 4);
        t.check_invariants();
        assert!(t.remove(b"ab"));
        // "ab" is neither a topic nor branching: merged into "abcxyz".
        assert_eq!(t.node_count(), 1 + 1);
        assert_eq!(t.label_bytes(), 6);
        assert_eq!(t.topics(), vec![Bytes::from_static(b"abcxyz")]);
        assert!(!t.matches(b"abz"));
        t.check_invariants();
        // A topic ending inside an edge label is absent.
        assert!(!t.remove(b"abc"));
        assert!(!t.remove_all(b"abcx"));
        assert_eq!(t.node_count(), 1 + 1);
        assert!(t.remove(b"abcxyz"));
        assert_eq!(t.node_count(), 1);
        assert!(t.nodes.is_empty() && t.root.children.is_empty());
        t.check_invariants();
    }

    #[test]
    fn huge_topic_memory_is_proportional() {
        const MIB: usize = 1 << 20;
        let topic: Vec<u8> = (0..MIB).map(|i| (i * 7 % 251) as u8).collect();
        let mut t = Trie::new();
        assert!(t.add(&topic));
        let single = t.heap_bytes();
        assert!(single < 2 * MIB + 1024, "1 MiB topic uses {single} bytes");
        assert!(t.matches(&topic));
        assert!(!t.matches(&topic[..MIB - 1]));
        // Split the edge in the middle and branch off it: still linear.
        let half = &topic[..MIB / 2];
        let mut sibling = half.to_vec();
        sibling.push(255);
        assert!(t.add(half));
        assert!(t.add(&sibling));
        let split = t.heap_bytes();
        assert!(split < 2 * MIB + 4096, "split trie uses {split} bytes");
        t.check_invariants();
        // Removing the extra topics merges the edge back into one node.
        assert!(t.remove(&sibling));
        assert!(t.remove(half));
        assert_eq!(t.node_count(), 1 + 1);
        assert_eq!(t.label_bytes(), MIB);
        assert!(t.heap_bytes() < 2 * MIB + 4096);
        assert_eq!(t.count(&topic), 1);
        t.check_invariants();
        let c = t.clone();
        assert_eq!(c.count(&topic), 1);
        drop(c);
        assert!(t.remove(&topic));
        assert_eq!(t.node_count(), 1);
        assert!(t.heap_bytes() < 4096);
        eprintln!("heap bytes: 1 MiB topic {single}, after split {split}");
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

    /// Like [`op_strategy`] for topics made of `chunks` (up to `max_chunks` of
    /// them), so that long topics share long prefixes, plus matching of data
    /// that extends a topic.
    fn chunked_op_strategy(
        chunks: Vec<&'static [u8]>,
        max_chunks: usize,
    ) -> impl Strategy<Value = Op> {
        let topic = proptest::collection::vec(proptest::sample::select(chunks), 0..=max_chunks)
            .prop_map(|parts| parts.concat());
        let tail = proptest::collection::vec(proptest::sample::select(vec![b'a', b'b']), 0..=3);
        let extended = (topic.clone(), tail).prop_map(|(mut t, tail)| {
            t.extend_from_slice(&tail);
            t
        });
        prop_oneof![
            4 => topic.clone().prop_map(Op::Add),
            3 => topic.clone().prop_map(Op::Remove),
            1 => topic.clone().prop_map(Op::RemoveAll),
            2 => topic.clone().prop_map(Op::Matches),
            2 => extended.prop_map(Op::Matches),
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
        prop_assert!(trie.label_bytes() <= model.keys().map(Vec::len).sum::<usize>());
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
        fn prop_matches_model_long_two_letters(
            ops in proptest::collection::vec(op_strategy(vec![b'a', b'b'], 64), 0..200)
        ) {
            check_against_model(&ops)?;
        }

        #[test]
        fn prop_matches_model_long_shared_prefixes(
            ops in proptest::collection::vec(
                chunked_op_strategy(
                    vec![&b"aaaaaaaaaaaaaaaa"[..], b"abababab", b"ab", b"a", b"b"],
                    4,
                ),
                0..200,
            )
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
