//! The large sorted set's order: a B+tree whose branches count the entries under each child (an
//! order-statistic B-tree), so insert, delete, rank, select-by-rank and search by score or lex bound are all
//! O(log n), with no rebuild of the whole at any point (a node splits or merges locally).
//!
//! Entries are ordered as Redis's skiplist orders them: by score (`<`, so -0 and 0 tie), then by member bytes.
//! Leaves hold up to `LEAF_MAX` entries in a `Vec`, branches up to `BRANCH_MAX` children with each child's
//! entry count. A search compares against a child's last entry, found by walking its rightmost path, so no key
//! is copied into the branches. See ARCHITECTURE.md for why this and not a skiplist (measured there).
//!
//! **Invariant:** every leaf is at the same depth; no node is empty except a root leaf; a branch's count of a
//! child equals the entries under it.

use crate::types::small::SmallBytes;

/// Most entries per leaf and children per branch: 64 keeps a leaf's memmove on insert under 2 KiB.
const LEAF_MAX: usize = 64;
const BRANCH_MAX: usize = 64;
/// A node narrower than this after a removal merges with a neighbour when both fit in one node.
const MERGE_BELOW: usize = 16;

/// One member with its score.
#[derive(Debug, Clone)]
pub struct Item {
    pub score: f64,
    pub member: SmallBytes,
}

/// Whether (`a_score`, `a_member`) sorts before (`b_score`, `b_member`): Redis's zslInsert order.
pub fn precedes(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> bool {
    a_score < b_score || (a_score == b_score && a_member < b_member)
}

/// Whether `item` sorts before (`score`, `member`).
pub fn sorts_after(score: f64, member: &[u8], item: &Item) -> bool {
    precedes(item.score, &item.member, score, member)
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(Vec<Item>),
    Branch(Vec<Child>),
}

#[derive(Debug, Clone)]
struct Child {
    len: usize,
    node: Node,
}

impl Node {
    fn last(&self) -> &Item {
        match self {
            Node::Leaf(items) => items.last().expect("no empty leaf below the root"),
            Node::Branch(children) => children.last().expect("no empty branch").node.last(),
        }
    }

    fn width(&self) -> usize {
        match self {
            Node::Leaf(items) => items.len(),
            Node::Branch(children) => children.len(),
        }
    }

    fn count(&self) -> usize {
        match self {
            Node::Leaf(items) => items.len(),
            Node::Branch(children) => children.iter().map(|c| c.len).sum(),
        }
    }

    /// Inserts `item` (not present); returns the right half when the node split.
    fn insert(&mut self, item: Item) -> Option<Node> {
        match self {
            Node::Leaf(items) => {
                let at = items.partition_point(|x| sorts_after(item.score, &item.member, x));
                items.insert(at, item);
                (items.len() > LEAF_MAX).then(|| Node::Leaf(items.split_off(items.len() / 2)))
            }
            Node::Branch(children) => {
                let i = children
                    .partition_point(|c| sorts_after(item.score, &item.member, c.node.last()))
                    .min(children.len() - 1);
                let child = &mut children[i];
                child.len += 1;
                if let Some(right) = child.node.insert(item) {
                    let right_len = right.count();
                    child.len -= right_len;
                    children.insert(i + 1, Child { len: right_len, node: right });
                }
                (children.len() > BRANCH_MAX).then(|| Node::Branch(children.split_off(children.len() / 2)))
            }
        }
    }

    /// Removes the entry (`score`, `member`) if present.
    fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        match self {
            Node::Leaf(items) => {
                let at = items.partition_point(|x| sorts_after(score, member, x));
                let found = items.get(at).is_some_and(|x| x.score == score && *x.member == *member);
                if found {
                    items.remove(at);
                }
                found
            }
            Node::Branch(children) => {
                let i = children.partition_point(|c| sorts_after(score, member, c.node.last()));
                if i == children.len() || !children[i].node.remove(score, member) {
                    return false;
                }
                children[i].len -= 1;
                rebalance(children, i);
                true
            }
        }
    }

    /// How many entries satisfy `pred`, which holds for a prefix of the order.
    fn count_while(&self, pred: &impl Fn(&Item) -> bool) -> usize {
        match self {
            Node::Leaf(items) => items.partition_point(pred),
            Node::Branch(children) => {
                let i = children.partition_point(|c| pred(c.node.last()));
                let before: usize = children[..i].iter().map(|c| c.len).sum();
                match children.get(i) {
                    Some(child) => before + child.node.count_while(pred),
                    None => before,
                }
            }
        }
    }

    fn get(&self, mut rank: usize) -> &Item {
        match self {
            Node::Leaf(items) => &items[rank],
            Node::Branch(children) => {
                for child in children {
                    if rank < child.len {
                        return child.node.get(rank);
                    }
                    rank -= child.len;
                }
                unreachable!("rank checked against the tree's length")
            }
        }
    }

    /// Calls `f` for the entries of ranks `start..end` (relative to this node), in order or reversed.
    fn visit<'a>(&'a self, start: usize, end: usize, rev: bool, f: &mut dyn FnMut(&'a Item)) {
        match self {
            Node::Leaf(items) => {
                let slice = &items[start..end];
                if rev {
                    slice.iter().rev().for_each(f);
                } else {
                    slice.iter().for_each(f);
                }
            }
            Node::Branch(children) => {
                let mut visit_child = |from: usize, child: &'a Child| {
                    let (lo, hi) = (start.max(from), end.min(from + child.len));
                    if lo < hi {
                        child.node.visit(lo - from, hi - from, rev, f);
                    }
                };
                if rev {
                    let mut at = self.count();
                    for child in children.iter().rev() {
                        at -= child.len;
                        visit_child(at, child);
                    }
                } else {
                    let mut at = 0;
                    for child in children {
                        visit_child(at, child);
                        at += child.len;
                    }
                }
            }
        }
    }

    fn node_bytes(&self) -> usize {
        match self {
            Node::Leaf(items) => items.capacity() * size_of::<Item>(),
            Node::Branch(children) => {
                children.capacity() * size_of::<Child>() + children.iter().map(|c| c.node.node_bytes()).sum::<usize>()
            }
        }
    }
}

/// After a removal under `children[i]`: drops the child if empty, or merges it into a neighbour when it has
/// become narrow and both fit in one node.
fn rebalance(children: &mut Vec<Child>, i: usize) {
    if children[i].len == 0 {
        children.remove(i);
        return;
    }
    if children[i].node.width() >= MERGE_BELOW {
        return;
    }
    let pair = if i + 1 < children.len() {
        i
    } else if i > 0 {
        i - 1
    } else {
        return;
    };
    if children[pair].node.width() + children[pair + 1].node.width() > LEAF_MAX.min(BRANCH_MAX) {
        return;
    }
    let right = children.remove(pair + 1);
    let left = &mut children[pair];
    left.len += right.len;
    match (&mut left.node, right.node) {
        (Node::Leaf(a), Node::Leaf(b)) => a.extend(b),
        (Node::Branch(a), Node::Branch(b)) => a.extend(b),
        _ => unreachable!("siblings are at the same depth"),
    }
}

/// The ordered entries of a large sorted set.
#[derive(Debug, Clone)]
pub struct Tree {
    root: Node,
    len: usize,
}

impl Default for Tree {
    fn default() -> Tree {
        Tree { root: Node::Leaf(Vec::new()), len: 0 }
    }
}

impl Tree {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Inserts an entry whose member is not in the tree.
    pub fn insert(&mut self, score: f64, member: SmallBytes) {
        self.len += 1;
        if let Some(right) = self.root.insert(Item { score, member }) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            let (left_len, right_len) = (left.count(), right.count());
            self.root = Node::Branch(vec![Child { len: left_len, node: left }, Child { len: right_len, node: right }]);
        }
    }

    /// Removes the entry (`score`, `member`); false if it is not there.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        if self.len == 0 || !self.root.remove(score, member) {
            return false;
        }
        self.len -= 1;
        loop {
            match &mut self.root {
                Node::Branch(children) if children.len() == 1 => {
                    self.root = children.pop().expect("one child").node;
                }
                Node::Branch(children) if children.is_empty() => self.root = Node::Leaf(Vec::new()),
                _ => return true,
            }
        }
    }

    /// How many entries satisfy `pred`, which must hold for a prefix of the order (a rank, or a bound's
    /// position).
    pub fn count_while(&self, pred: impl Fn(&Item) -> bool) -> usize {
        if self.len == 0 { 0 } else { self.root.count_while(&pred) }
    }

    /// The entry of rank `rank` (0-based), if any.
    pub fn get(&self, rank: usize) -> Option<&Item> {
        (rank < self.len).then(|| self.root.get(rank))
    }

    /// Calls `f` for the entries of ranks `start..end`, ascending, or descending when `rev`.
    pub fn visit<'a>(&'a self, start: usize, end: usize, rev: bool, mut f: impl FnMut(&'a Item)) {
        let end = end.min(self.len);
        if start < end {
            self.root.visit(start, end, rev, &mut f);
        }
    }

    /// Heap bytes held by the nodes themselves (not the members' own buffers). It walks the branches, about
    /// one node in 48, not the entries.
    pub fn node_bytes(&self) -> usize {
        self.root.node_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rng::Rng;

    /// The tree against a sorted Vec over random inserts, removes and queries.
    #[test]
    fn matches_a_sorted_vec_model() {
        let mut rng = Rng::new(7);
        let mut tree = Tree::default();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let key = |s: f64, m: &[u8]| (s, m.to_vec());
        for round in 0..40_000u32 {
            let score = (rng.next_u64() % 50) as f64 - 25.0;
            let member = format!("m{}", rng.next_u64() % 3000).into_bytes();
            let existing = model.iter().position(|(_, m)| *m == member);
            if rng.next_u64().is_multiple_of(3) {
                if let Some(at) = existing {
                    let (s, m) = model.remove(at);
                    assert!(tree.remove(s, &m));
                } else {
                    assert!(!tree.remove(score, &member));
                }
            } else if existing.is_none() {
                let at = model.partition_point(|(s, m)| (*s, m.as_slice()) < (score, member.as_slice()));
                model.insert(at, key(score, &member));
                tree.insert(score, SmallBytes::from(&member[..]));
            }
            assert_eq!(tree.len(), model.len());
            if round.is_multiple_of(97) {
                let mut seen = Vec::new();
                tree.visit(0, usize::MAX, false, |i| seen.push((i.score, i.member.to_vec())));
                assert_eq!(seen, model);
                let mut back = Vec::new();
                tree.visit(3, model.len().saturating_sub(2), true, |i| back.push((i.score, i.member.to_vec())));
                let expect: Vec<_> = model.iter().take(model.len().saturating_sub(2)).skip(3).rev().cloned().collect();
                assert_eq!(back, expect);
            }
            if !model.is_empty() {
                let rank = (rng.next_u64() as usize) % model.len();
                let item = tree.get(rank).unwrap();
                assert_eq!((item.score, item.member.to_vec()), model[rank]);
                let bound = score;
                assert_eq!(tree.count_while(|i| i.score < bound), model.partition_point(|(s, _)| *s < bound));
            }
        }
    }
}
