//! The large sorted set's order: a B+tree whose branches count the entries under each child (an
//! order-statistic B-tree), so insert, delete, rank, select-by-rank and search by score or lex bound are all
//! O(log n), with no rebuild of the whole at any point (a node splits or merges locally).
//!
//! Entries are ordered as Redis's skiplist orders them: by score (`<`, so -0 and 0 tie), then by member bytes.
//! Leaves hold up to `LEAF_MAX` entries in a `Vec`, branches up to `BRANCH_MAX` children with each child's
//! entry count and last entry (its score and slot, 16 bytes), against which a search compares, so no member is
//! copied into the branches. See ARCHITECTURE.md for why this and not a skiplist (measured there).
//!
//! Each member is stored once, in a slot of `Members` (a slab of fixed chunks) with its score; a leaf entry
//! is the score and the slot (16 bytes), and the score index (`zset_index`) holds slots too. A full node
//! splits before it would grow, into two vectors of the node's capacity, so no node keeps spare room beyond it;
//! an insert past a full node's last entry (or before its first) starts a new node instead of halving the full
//! one, so ascending loads (timestamps, counters) leave every node full rather than every node half empty.
//!
//! **Invariant:** every leaf is at the same depth; no node is empty except a root leaf; a branch's count of a
//! child equals the entries under it.

use crate::types::small::SmallBytes;

/// Most entries per leaf and children per branch: 64 keeps a leaf's memmove on insert under 1 KiB.
const LEAF_MAX: usize = 64;
const BRANCH_MAX: usize = 64;
/// A node narrower than this after a removal merges with a neighbour when both fit in one node.
const MERGE_BELOW: usize = 16;
/// Members per slab chunk: chunks are never moved or regrown, so growing the slab copies nothing.
const CHUNK_LEN: usize = 4096;

/// One entry of the order: the score (compared on every step) and the member's slot in `Members`, whose
/// bytes a comparison reads only when scores tie.
#[derive(Debug, Clone, Copy)]
struct Item {
    score: f64,
    slot: u32,
}

/// A member with its score, in its slot.
#[derive(Debug, Clone, Default)]
struct Slot {
    member: SmallBytes,
    score: f64,
}

/// The members of a large sorted set, each stored once, in slots that never move while the member is in the
/// set: the order's items and the score index (`zset_index`) both name a member by its slot.
#[derive(Debug, Clone, Default)]
pub struct Members {
    chunks: Vec<Vec<Slot>>,
    /// Slots freed by removals, reused first.
    free: Vec<u32>,
}

impl Members {
    fn slot(&self, slot: u32) -> &Slot {
        let slot = slot as usize;
        &self.chunks[slot / CHUNK_LEN][slot % CHUNK_LEN]
    }

    fn slot_mut(&mut self, slot: u32) -> &mut Slot {
        let slot = slot as usize;
        &mut self.chunks[slot / CHUNK_LEN][slot % CHUNK_LEN]
    }

    pub fn member(&self, slot: u32) -> &[u8] {
        &self.slot(slot).member
    }

    pub fn score(&self, slot: u32) -> f64 {
        self.slot(slot).score
    }

    fn add(&mut self, member: &[u8], score: f64) -> u32 {
        let entry = Slot { member: SmallBytes::from(member), score };
        if let Some(slot) = self.free.pop() {
            *self.slot_mut(slot) = entry;
            return slot;
        }
        if self.chunks.last().is_none_or(|chunk| chunk.len() == CHUNK_LEN) {
            self.chunks.push(Vec::with_capacity(CHUNK_LEN));
        }
        let at = self.chunks.len() - 1;
        let chunk = &mut self.chunks[at];
        chunk.push(entry);
        u32::try_from(at * CHUNK_LEN + chunk.len() - 1).expect("a sorted set holds fewer than 2^32 members")
    }

    /// Empties `slot` for reuse, returning its member.
    fn release(&mut self, slot: u32) -> SmallBytes {
        self.free.push(slot);
        std::mem::take(&mut self.slot_mut(slot).member)
    }

    fn heap_bytes(&self) -> usize {
        self.chunks.capacity() * size_of::<Vec<Slot>>()
            + self.chunks.iter().map(|c| c.capacity() * size_of::<Slot>()).sum::<usize>()
            + self.free.capacity() * size_of::<u32>()
    }

    /// Every member in use with its slot, in slot order.
    fn iter(&self) -> impl Iterator<Item = (u32, &SmallBytes)> {
        let mut free: Vec<u32> = self.free.clone();
        free.sort_unstable();
        self.chunks
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, s)| (i as u32, &s.member))
            .filter(move |(i, _)| free.binary_search(i).is_err())
    }
}

/// Whether (`a_score`, `a_member`) sorts before (`b_score`, `b_member`): Redis's zslInsert order.
pub fn precedes(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> bool {
    a_score < b_score || (a_score == b_score && a_member < b_member)
}

/// Whether `item` sorts before (`score`, `member`); the member's bytes are read only on a tie. (Testing for the
/// tie first, so that a binary search might select on `<` rather than branch, measured 10% slower on ZRANK.)
fn item_precedes(item: &Item, score: f64, member: &[u8], members: &Members) -> bool {
    item.score < score || (item.score == score && members.member(item.slot) < member)
}

/// What remains of a forward walk (`Node::walk_from`): entries to pass over, then entries to visit.
#[derive(Debug)]
struct Walk {
    skip: usize,
    take: usize,
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(Vec<Item>),
    Branch(Vec<Child>),
}

#[derive(Debug, Clone)]
struct Child {
    len: usize,
    /// The child's last entry, kept here so that a search compares with it without walking down.
    last: Item,
    node: Node,
}

impl Child {
    fn new(node: Node) -> Child {
        Child { len: node.count(), last: *node.last(), node }
    }
}

/// Inserts `value` at `at` into the full node `items` by splitting it, and returns the right part, in a vector of
/// the node's full capacity so that no node grows past it (a vector doubling at 65 entries would keep twice the
/// room it needs). An insert past the last entry (an ascending load: scores that grow, timestamps) leaves the
/// node full and starts the right part with the new entry alone, and one before the first (a descending load)
/// leaves it alone on the left, so sequential loads fill every node where halving would leave each half empty
/// for good; any other insert halves the node.
fn split_insert<T>(items: &mut Vec<T>, at: usize, value: T, max: usize) -> Vec<T> {
    let mut right = Vec::with_capacity(max);
    if at == items.len() {
        right.push(value);
    } else if at == 0 {
        right.append(items);
        items.push(value);
    } else {
        let half = items.len() / 2;
        right.extend(items.drain(half..));
        if at <= half {
            items.insert(at, value);
        } else {
            right.insert(at - half, value);
        }
    }
    right
}

impl Node {
    fn last(&self) -> &Item {
        match self {
            Node::Leaf(items) => items.last().expect("no empty leaf below the root"),
            Node::Branch(children) => &children.last().expect("no empty branch").last,
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

    /// Inserts `item` (not present); returns a right half when the node was full and split first.
    fn insert(&mut self, item: Item, members: &Members) -> Option<Node> {
        let member = members.member(item.slot);
        match self {
            Node::Leaf(items) => {
                let at = items.partition_point(|x| item_precedes(x, item.score, member, members));
                if items.len() < LEAF_MAX {
                    items.insert(at, item);
                    return None;
                }
                Some(Node::Leaf(split_insert(items, at, item, LEAF_MAX)))
            }
            Node::Branch(children) => {
                let i = children
                    .partition_point(|c| item_precedes(&c.last, item.score, member, members))
                    .min(children.len() - 1);
                let child = &mut children[i];
                child.len += 1;
                let split = child.node.insert(item, members);
                child.last = *child.node.last();
                let right = Child::new(split?);
                child.len -= right.len;
                if children.len() < BRANCH_MAX {
                    children.insert(i + 1, right);
                    return None;
                }
                Some(Node::Branch(split_insert(children, i + 1, right, BRANCH_MAX)))
            }
        }
    }

    /// Removes the item of `slot`, whose key is (`score`, `member`), if present.
    fn remove(&mut self, score: f64, member: &[u8], slot: u32, members: &Members) -> bool {
        match self {
            Node::Leaf(items) => {
                let at = items.partition_point(|x| item_precedes(x, score, member, members));
                let found = items.get(at).is_some_and(|x| x.slot == slot);
                if found {
                    items.remove(at);
                }
                found
            }
            Node::Branch(children) => {
                let i = children.partition_point(|c| item_precedes(&c.last, score, member, members));
                if i == children.len() || !children[i].node.remove(score, member, slot, members) {
                    return false;
                }
                children[i].len -= 1;
                rebalance(children, i);
                true
            }
        }
    }

    /// Removes and returns the entry of rank `rank` (below this node's count): a descent by the counts, with
    /// no comparison of entries.
    fn remove_at(&mut self, mut rank: usize) -> Item {
        match self {
            Node::Leaf(items) => items.remove(rank),
            Node::Branch(children) => {
                let mut i = 0;
                while rank >= children[i].len {
                    rank -= children[i].len;
                    i += 1;
                }
                let item = children[i].node.remove_at(rank);
                children[i].len -= 1;
                rebalance(children, i);
                item
            }
        }
    }

    /// How many entries satisfy `pred`, which holds for a prefix of the order; `total` is this node's count.
    fn count_while(&self, total: usize, pred: &impl Fn(&Item) -> bool) -> usize {
        match self {
            Node::Leaf(items) => items.partition_point(pred),
            Node::Branch(children) => {
                let i = children.partition_point(|c| pred(&c.last));
                // The entries before child i, summed from the nearer end: each count is a cache line of its own.
                let before = if i <= children.len() / 2 {
                    children[..i].iter().map(|c| c.len).sum()
                } else {
                    total - children[i..].iter().map(|c| c.len).sum::<usize>()
                };
                match children.get(i) {
                    Some(child) => before + child.node.count_while(child.len, pred),
                    None => before,
                }
            }
        }
    }

    /// Walks forward from the first entry for which `before` fails (searched, so `before` must hold for a prefix
    /// of the order), passing over `skip` entries, then calling `f` for each while `take` lasts. `found` says the
    /// first such entry lies behind this node, so the walk starts at its front.
    fn walk_from(
        &self,
        before: &impl Fn(&Item) -> bool,
        found: &mut bool,
        cursor: &mut Walk,
        f: &mut dyn FnMut(&Item),
    ) {
        match self {
            Node::Leaf(items) => {
                let first = if *found { 0 } else { items.partition_point(before) };
                *found = true;
                let rest = &items[first..];
                let skipped = cursor.skip.min(rest.len());
                cursor.skip -= skipped;
                let taken = cursor.take.min(rest.len() - skipped);
                cursor.take -= taken;
                rest[skipped..skipped + taken].iter().for_each(f);
            }
            Node::Branch(children) => {
                let first = if *found { 0 } else { children.partition_point(|c| before(&c.last)) };
                for child in &children[first..] {
                    if cursor.take == 0 {
                        return;
                    }
                    if *found && cursor.skip >= child.len {
                        cursor.skip -= child.len;
                        continue;
                    }
                    child.node.walk_from(before, found, cursor, f);
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

    /// Calls `f` for the entries of ranks `start..end` (relative to this node, whose count is `total`), in order
    /// or reversed, stepping over the children outside the range without visiting them.
    fn visit(&self, total: usize, start: usize, end: usize, rev: bool, f: &mut dyn FnMut(&Item)) {
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
                let mut visit_child = |from: usize, child: &Child| {
                    let (lo, hi) = (start.max(from), end.min(from + child.len));
                    if lo < hi {
                        child.node.visit(child.len, lo - from, hi - from, rev, f);
                    }
                };
                if rev {
                    let mut at = total;
                    for child in children.iter().rev() {
                        if at <= start {
                            break;
                        }
                        at -= child.len;
                        visit_child(at, child);
                    }
                } else {
                    let mut at = 0;
                    for child in children {
                        if at >= end {
                            break;
                        }
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
    children[i].last = *children[i].node.last();
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
    left.last = right.last;
    match (&mut left.node, right.node) {
        (Node::Leaf(a), Node::Leaf(b)) => a.extend(b),
        (Node::Branch(a), Node::Branch(b)) => a.extend(b),
        _ => unreachable!("siblings are at the same depth"),
    }
}

/// The ordered entries of a large sorted set, and its members (each stored once, in `Members`).
#[derive(Debug, Clone)]
pub struct Tree {
    root: Node,
    len: usize,
    members: Members,
}

impl Default for Tree {
    fn default() -> Tree {
        Tree { root: Node::Leaf(Vec::new()), len: 0, members: Members::default() }
    }
}

impl Tree {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The members by slot (for the score index, which names members by slot).
    pub fn members(&self) -> &Members {
        &self.members
    }

    /// Inserts a member that is not in the tree; returns its slot.
    pub fn insert(&mut self, score: f64, member: &[u8]) -> u32 {
        let slot = self.members.add(member, score);
        self.place(Item { score, slot });
        slot
    }

    fn place(&mut self, item: Item) {
        self.len += 1;
        if let Some(right) = self.root.insert(item, &self.members) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            self.root = Node::Branch(vec![Child::new(left), Child::new(right)]);
        }
    }

    /// Takes the item of `slot` out of the order (it must be there), keeping its slot.
    fn unplace(&mut self, slot: u32) {
        let (score, member) = (self.members.score(slot), self.members.member(slot));
        let found = self.len > 0 && self.root.remove(score, member, slot, &self.members);
        debug_assert!(found, "the slot's item is in the order");
        if found {
            self.len -= 1;
            self.collapse_root();
        }
    }

    /// Gives the member in `slot` a new score, moving it in the order.
    pub fn rescore(&mut self, slot: u32, score: f64) {
        self.unplace(slot);
        self.members.slot_mut(slot).score = score;
        self.place(Item { score, slot });
    }

    /// Removes the member in `slot`, returning it.
    pub fn remove(&mut self, slot: u32) -> SmallBytes {
        self.unplace(slot);
        self.members.release(slot)
    }

    /// Takes the entry of rank `rank` out of the order, returning its slot, which stays in use until the
    /// caller `release`s it (after dropping it from the score index, which reads its member).
    pub fn take_at(&mut self, rank: usize) -> Option<u32> {
        if rank >= self.len {
            return None;
        }
        let item = self.root.remove_at(rank);
        self.len -= 1;
        self.collapse_root();
        Some(item.slot)
    }

    /// Reads the member of rank `rank` (if any), so that its slot is in cache when the next command reads it:
    /// after a pop, the next pop's member. Its slot is otherwise a cache miss at the head of the pop's chain of
    /// dependent loads (member, then its hash, then the index's bucket); here nothing waits for it, so the
    /// load overlaps the rest of this command.
    pub fn touch(&self, rank: usize) {
        if rank < self.len {
            let member = self.members.member(self.root.get(rank).slot);
            std::hint::black_box(member.first().copied());
        }
    }

    /// Frees a slot `take_at` took out of the order.
    pub fn release(&mut self, slot: u32) -> SmallBytes {
        self.members.release(slot)
    }

    /// After a removal: a root branch left with one child (or none) gives way to it.
    fn collapse_root(&mut self) {
        loop {
            match &mut self.root {
                Node::Branch(children) if children.len() == 1 => {
                    self.root = children.pop().expect("one child").node;
                }
                Node::Branch(children) if children.is_empty() => self.root = Node::Leaf(Vec::new()),
                _ => return,
            }
        }
    }

    /// How many entries satisfy `pred(score, member)`, which must hold for a prefix of the order (a rank, or a
    /// bound's position).
    pub fn count_while(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let members = &self.members;
        if self.len == 0 {
            0
        } else {
            self.root.count_while(self.len, &|i: &Item| pred(i.score, members.member(i.slot)))
        }
    }

    /// How many entries have a score satisfying `pred`, which must hold for a prefix of the order (a score
    /// bound): `count_while` that never reads a member.
    pub fn count_scores_while(&self, pred: impl Fn(f64) -> bool) -> usize {
        if self.len == 0 { 0 } else { self.root.count_while(self.len, &|i: &Item| pred(i.score)) }
    }

    /// Calls `f(score, member)` for up to `take` entries, ascending, from the `skip`-th one after the first whose
    /// score fails `before` (which must hold for a prefix of the order): one search and a walk, where finding
    /// the start's rank and visiting from it would descend twice.
    pub fn visit_from_score(
        &self,
        before: impl Fn(f64) -> bool,
        skip: usize,
        take: usize,
        mut f: impl FnMut(f64, &[u8]),
    ) {
        if self.len == 0 || take == 0 {
            return;
        }
        let members = &self.members;
        let mut cursor = Walk { skip, take };
        let pred = |i: &Item| before(i.score);
        self.root.walk_from(&pred, &mut false, &mut cursor, &mut |i: &Item| f(i.score, members.member(i.slot)));
    }

    /// The rank of the member in `slot` (in the order).
    pub fn rank_of(&self, slot: u32) -> usize {
        let (score, member) = (self.members.score(slot), self.members.member(slot));
        let members = &self.members;
        let precedes = |i: &Item| item_precedes(i, score, member, members);
        if self.len == 0 { 0 } else { self.root.count_while(self.len, &precedes) }
    }

    /// The entry of rank `rank` (0-based), if any.
    pub fn get(&self, rank: usize) -> Option<(f64, &[u8])> {
        (rank < self.len).then(|| {
            let item = self.root.get(rank);
            (item.score, self.members.member(item.slot))
        })
    }

    /// Calls `f(score, member)` for the entries of ranks `start..end`, ascending, or descending when `rev`.
    pub fn visit<'a>(&'a self, start: usize, end: usize, rev: bool, mut f: impl FnMut(f64, &'a [u8])) {
        let end = end.min(self.len);
        let members = &self.members;
        if start < end {
            self.root.visit(self.len, start, end, rev, &mut |i: &Item| f(i.score, members.member(i.slot)));
        }
    }

    /// Every member with its slot, in no particular order.
    pub fn slots(&self) -> impl Iterator<Item = (u32, &SmallBytes)> {
        self.members.iter()
    }

    /// Heap bytes held by the nodes and the slots (not the members' own buffers). It walks the branches,
    /// about one node in 48, not the entries.
    pub fn node_bytes(&self) -> usize {
        self.root.node_bytes() + self.members.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::rng::Rng;

    /// The tree against a sorted Vec over random inserts, removes (by slot and by rank), rescores and queries.
    #[test]
    fn matches_a_sorted_vec_model() {
        let mut rng = Rng::new(7);
        let mut tree = Tree::default();
        let mut model: Vec<(f64, Vec<u8>, u32)> = Vec::new();
        for round in 0..40_000u32 {
            let score = (rng.next_u64() % 50) as f64 - 25.0;
            let member = format!("m{}", rng.next_u64() % 3000).into_bytes();
            let existing = model.iter().position(|(_, m, _)| *m == member);
            let place = |model: &Vec<(f64, Vec<u8>, u32)>, s: f64, m: &[u8]| {
                model.partition_point(|(ms, mm, _)| (*ms, mm.as_slice()) < (s, m))
            };
            match (existing, rng.next_u64() % 3) {
                (Some(at), 0) => {
                    let (s, m, slot) = model.remove(at);
                    if round % 2 == 0 {
                        assert_eq!(&*tree.remove(slot), &m[..]);
                    } else {
                        let taken = tree.take_at(at).unwrap();
                        assert_eq!((taken, tree.members().score(taken)), (slot, s));
                        assert_eq!(&*tree.release(taken), &m[..]);
                    }
                }
                (Some(at), 1) => {
                    let (_, m, slot) = model.remove(at);
                    tree.rescore(slot, score);
                    let pos = place(&model, score, &m);
                    model.insert(pos, (score, m, slot));
                }
                (None, 1 | 2) => {
                    let slot = tree.insert(score, &member);
                    let pos = place(&model, score, &member);
                    model.insert(pos, (score, member.clone(), slot));
                }
                _ => {}
            }
            assert_eq!(tree.len(), model.len());
            let plain: Vec<(f64, Vec<u8>)> = model.iter().map(|(s, m, _)| (*s, m.clone())).collect();
            if round.is_multiple_of(97) {
                let mut seen = Vec::new();
                tree.visit(0, usize::MAX, false, |s, m| seen.push((s, m.to_vec())));
                assert_eq!(seen, plain);
                let mut back = Vec::new();
                tree.visit(3, model.len().saturating_sub(2), true, |s, m| back.push((s, m.to_vec())));
                let expect: Vec<_> = plain.iter().take(plain.len().saturating_sub(2)).skip(3).rev().cloned().collect();
                assert_eq!(back, expect);
                assert_eq!(tree.slots().count(), model.len());
            }
            if !model.is_empty() {
                let rank = (rng.next_u64() as usize) % model.len();
                let (s, m) = tree.get(rank).unwrap();
                assert_eq!((s, m.to_vec()), plain[rank]);
                assert_eq!(tree.rank_of(model[rank].2), rank);
                let bound = score;
                assert_eq!(tree.count_while(|s, _| s < bound), plain.partition_point(|(s, _)| *s < bound));
                let (skip, take) = (rng.below(70), rng.below(70));
                let mut walked = Vec::new();
                tree.visit_from_score(|s| s < bound, skip, take, |s, m| walked.push((s, m.to_vec())));
                let start = plain.partition_point(|(s, _)| *s < bound) + skip;
                assert_eq!(walked, plain.iter().skip(start).take(take).cloned().collect::<Vec<_>>());
            }
        }
    }

    /// Sequential inserts (the worst case for a half split) keep every leaf within its capacity.
    #[test]
    fn nodes_never_grow_past_their_capacity() {
        let mut tree = Tree::default();
        for i in 0..20_000 {
            tree.insert(i as f64, format!("m{i}").as_bytes());
        }
        fn check(node: &Node) {
            match node {
                Node::Leaf(items) => assert!(items.capacity() <= LEAF_MAX),
                Node::Branch(children) => {
                    assert!(children.capacity() <= BRANCH_MAX);
                    children.iter().for_each(|c| check(&c.node));
                }
            }
        }
        check(&tree.root);
    }

    /// Ascending and descending loads fill their leaves (halving would leave each half empty).
    #[test]
    fn sequential_loads_fill_their_leaves() {
        fn leaves(node: &Node, widths: &mut Vec<usize>) {
            match node {
                Node::Leaf(items) => widths.push(items.len()),
                Node::Branch(children) => children.iter().for_each(|c| leaves(&c.node, widths)),
            }
        }
        for descending in [false, true] {
            let mut tree = Tree::default();
            let n: usize = 100_000;
            for i in 0..n {
                let score = if descending { -(i as f64) } else { i as f64 };
                tree.insert(score, format!("m{i}").as_bytes());
            }
            let mut widths = Vec::new();
            leaves(&tree.root, &mut widths);
            assert_eq!(widths.len(), n.div_ceil(LEAF_MAX), "descending: {descending}");
            let mut seen = Vec::new();
            tree.visit(0, 3, false, |s, _| seen.push(s));
            let first = if descending { -(n as f64 - 1.0) } else { 0.0 };
            assert_eq!(seen, [first, first + 1.0, first + 2.0]);
        }
    }
}
