//! HAProxy 2.6's fast weighted round robin (`balance roundrobin`, the
//! `lb_fwrr` trees) for one group of servers (the actives or the backups).
//!
//! Owns: the three position trees (`init`, `next`, `curr`), each server's
//! next position / remainder, and how they move when a server's effective
//! weight or usability changes (`set weight`, agent weights, slowstart,
//! going up or down), so the server sequence is HAProxy's for the same
//! operations. Must not read server state itself: callers pass indexes,
//! usability and effective weights (see [`Fwrr::update`]).

use std::collections::BTreeSet;

/// HAProxy's `BE_WEIGHT_SCALE`.
const SCALE: i64 = 16;
/// `SRV_UWGHT_RANGE`.
const UW_RANGE: i64 = 256;
/// `SRV_EWGHT_MAX`.
const EW_MAX: i64 = 256 * SCALE;

/// Which tree a server sits in (`T0`/`T1` swap roles as init/next).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Tree {
    #[default]
    None,
    T0,
    T1,
    Curr,
}

impl Tree {
    fn slot(self) -> Option<usize> {
        match self {
            Tree::None => None,
            Tree::T0 => Some(0),
            Tree::T1 => Some(1),
            Tree::Curr => Some(2),
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Node {
    tree: Tree,
    /// The key and insertion number while queued (ebtrees keep equal
    /// keys in insertion order).
    queued: Option<(u32, u64)>,
    npos: i64,
    lpos: i64,
    rweight: i64,
    cur_ew: i64,
    cur_usable: bool,
    next_ew: i64,
    next_usable: bool,
}

/// One fwrr group.
#[derive(Debug, Clone)]
pub struct Fwrr {
    nodes: Vec<Node>,
    trees: [BTreeSet<(u32, u64, usize)>; 3],
    init: Tree,
    next: Tree,
    curr_pos: i64,
    curr_weight: i64,
    next_weight: i64,
    seq: u64,
}

impl Fwrr {
    /// `members`: (usable, effective weight) in declaration order.
    pub fn new(members: &[(bool, u32)]) -> Fwrr {
        let nodes: Vec<Node> = members
            .iter()
            .map(|&(u, ew)| {
                let ew = i64::from(ew);
                let usable = u && ew > 0;
                Node {
                    cur_ew: ew,
                    next_ew: ew,
                    cur_usable: usable,
                    next_usable: usable,
                    ..Node::default()
                }
            })
            .collect();
        let tot: i64 = nodes
            .iter()
            .filter(|n| n.cur_usable)
            .map(|n| n.cur_ew)
            .sum();
        let mut f = Fwrr {
            nodes,
            trees: Default::default(),
            init: Tree::T0,
            next: Tree::T1,
            curr_pos: tot,
            curr_weight: tot,
            next_weight: tot,
            seq: 0,
        };
        for i in 0..f.nodes.len() {
            if f.nodes[i].cur_usable {
                f.queue_by_weight(i, Tree::T0);
            }
        }
        f
    }

    /// A server added at runtime (`add server`): it starts out of the
    /// trees and out of the group's weight; [`Self::update`] places it
    /// when it changes (HAProxy's `fwrr_set_server_status_up`, or its
    /// weight update for a server added `enabled`, which HAProxy counts
    /// as usable with its unscaled weight). HAProxy 2.6 points a new
    /// server's tree at the `curr` root without queueing it there (its
    /// `srv_alloc_lb` writes the consistent-hash root of the same union),
    /// so the node claims `Curr` with nothing queued.
    pub fn push(&mut self, usable: bool, eweight: u32) {
        let ew = i64::from(eweight);
        let usable = usable && ew > 0;
        self.nodes.push(Node {
            tree: Tree::Curr,
            cur_ew: ew,
            next_ew: ew,
            cur_usable: usable,
            next_usable: usable,
            ..Node::default()
        });
    }

    /// Removes server `i` (`del server`); the servers after it move down
    /// one index. The caller has made it unusable first, so it is out of
    /// the trees and the group's weights no longer count it.
    pub fn remove(&mut self, i: usize) {
        if i >= self.nodes.len() {
            return;
        }
        if self.nodes[i].cur_usable {
            self.update(i, false, 0);
        }
        self.dequeue(i);
        self.nodes.remove(i);
        for t in &mut self.trees {
            *t = std::mem::take(t)
                .into_iter()
                .map(|(k, q, j)| (k, q, if j > i { j - 1 } else { j }))
                .collect();
        }
    }

    fn insert(&mut self, i: usize, tree: Tree, key: u32) {
        let Some(slot) = tree.slot() else {
            return;
        };
        self.seq += 1;
        self.trees[slot].insert((key, self.seq, i));
        self.nodes[i].queued = Some((key, self.seq));
        self.nodes[i].tree = tree;
    }

    fn dequeue(&mut self, i: usize) {
        if let Some((key, seq)) = self.nodes[i].queued.take()
            && let Some(slot) = self.nodes[i].tree.slot()
        {
            self.trees[slot].remove(&(key, seq, i));
        }
    }

    fn first(&self, tree: Tree) -> Option<usize> {
        let slot = tree.slot()?;
        self.trees[slot].first().map(|&(_, _, i)| i)
    }

    fn queue_by_weight(&mut self, i: usize, tree: Tree) {
        let key = (EW_MAX - self.nodes[i].next_ew) as u32;
        self.insert(i, tree, key);
    }

    fn queue_srv(&mut self, i: usize) {
        let (cw, nw) = (self.curr_weight, self.next_weight);
        let n = &self.nodes[i];
        if !n.next_usable {
            self.nodes[i].tree = Tree::None;
        } else if n.next_ew <= 0 || n.npos >= 2 * cw || n.npos >= cw + nw {
            self.nodes[i].npos -= cw;
            self.queue_by_weight(i, self.next);
        } else {
            let key = UW_RANGE * n.npos + (EW_MAX + n.rweight - n.next_ew) / SCALE;
            self.insert(i, Tree::Curr, key as u32);
        }
    }

    fn get_srv(&mut self, i: usize) {
        let t = self.nodes[i].tree;
        let n = &mut self.nodes[i];
        if t == self.init {
            n.npos = 0;
            n.rweight = 0;
        } else if t == self.next {
            n.npos += self.curr_weight;
        } else if t == Tree::None {
            n.npos = self.curr_pos;
        }
    }

    fn commit(&mut self, i: usize) {
        let n = &mut self.nodes[i];
        n.cur_ew = n.next_ew;
        n.cur_usable = n.next_usable;
    }

    /// Whether [`Self::update`] with these values would change anything.
    pub fn differs(&self, i: usize, usable: bool, eweight: u32) -> bool {
        self.nodes.get(i).is_some_and(|n| {
            n.cur_ew != i64::from(eweight) || n.cur_usable != (usable && eweight > 0)
        })
    }

    /// The server's effective weight or usability changed (HAProxy's
    /// `fwrr_update_server_weight`, which also covers going up or down).
    pub fn update(&mut self, i: usize, usable: bool, eweight: u32) {
        let Some(n) = self.nodes.get_mut(i) else {
            return;
        };
        n.next_ew = i64::from(eweight);
        n.next_usable = usable && eweight > 0;
        if n.next_ew == n.cur_ew && n.next_usable == n.cur_usable {
            return;
        }
        match (n.cur_usable, n.next_usable) {
            (false, false) => {}
            (false, true) => {
                self.next_weight += self.nodes[i].next_ew;
                self.place_from_down(i);
            }
            (true, false) => {
                self.next_weight -= self.nodes[i].cur_ew;
                self.dequeue(i);
                self.nodes[i].tree = Tree::None;
            }
            (true, true) => {
                self.next_weight += self.nodes[i].next_ew - self.nodes[i].cur_ew;
                let t = self.nodes[i].tree;
                if t == self.init {
                    self.dequeue(i);
                    self.queue_by_weight(i, self.init);
                } else if t == Tree::None {
                    self.dequeue(i);
                    self.place_from_down(i);
                } else {
                    self.get_srv(i);
                    let n = &mut self.nodes[i];
                    if n.next_ew > 0 {
                        let prev_next = n.npos;
                        let step = self.next_weight / n.next_ew;
                        n.npos = (n.lpos + step).min(prev_next);
                        n.rweight = 0;
                        if n.npos < self.curr_pos + 2 {
                            n.npos = self.curr_pos + step;
                        }
                    } else {
                        n.npos = self.curr_pos + self.curr_weight;
                    }
                    self.dequeue(i);
                    self.queue_srv(i);
                }
            }
        }
        self.commit(i);
    }

    fn place_from_down(&mut self, i: usize) {
        self.get_srv(i);
        let ew = self.nodes[i].next_ew.max(1);
        self.nodes[i].npos =
            self.curr_pos + (self.next_weight + self.curr_weight - self.curr_pos) / ew;
        self.queue_srv(i);
    }

    fn pick_in_group(&mut self) -> Option<usize> {
        let s1 = self.first(Tree::Curr);
        if let Some(s) = s1 {
            let n = &self.nodes[s];
            if n.cur_ew > 0 && n.npos <= self.curr_pos {
                return s1;
            }
        }
        if let Some(s) = self.first(self.init)
            && self.nodes[s].cur_ew > 0
        {
            self.nodes[s].npos = 0;
            self.nodes[s].rweight = 0;
            return Some(s);
        }
        s1
    }

    fn update_position(&mut self, i: usize) {
        let nw = self.next_weight;
        let cp = self.curr_pos;
        let n = &mut self.nodes[i];
        let ew = n.cur_ew;
        if ew <= 0 {
            return;
        }
        if n.npos == 0 {
            n.npos = cp;
        }
        n.lpos = n.npos;
        n.npos += nw / ew;
        n.rweight += nw % ew;
        if n.rweight >= ew {
            n.rweight -= ew;
            n.npos += 1;
        }
    }

    fn switch_trees(&mut self) {
        std::mem::swap(&mut self.init, &mut self.next);
        self.curr_weight = self.next_weight;
        self.curr_pos = self.curr_weight;
    }

    /// The next server (HAProxy's `fwrr_get_next_server`): `full(i)`
    /// servers are skipped and keep their place; `avoid` is taken only
    /// when nothing else is available.
    pub fn next(&mut self, full: &dyn Fn(usize) -> bool, avoid: Option<usize>) -> Option<usize> {
        let mut switched = false;
        let mut avoided: Option<usize> = None;
        let mut fulls: Vec<usize> = Vec::new();
        let mut chosen: Option<usize> = None;
        // Every turn dequeues one server, so this ends; the bound is a
        // guard only.
        'outer: for _ in 0..=2 * self.nodes.len() + 2 {
            if self.curr_weight == 0 {
                self.curr_weight = self.next_weight;
                self.curr_pos = self.next_weight;
            }
            let srv = loop {
                if let Some(s) = self.pick_in_group() {
                    break s;
                }
                if switched {
                    chosen = avoided;
                    break 'outer;
                }
                switched = true;
                self.switch_trees();
            };
            self.update_position(srv);
            self.dequeue(srv);
            self.curr_pos += 1;
            if !full(srv) {
                if Some(srv) != avoid || avoided.is_some() {
                    chosen = Some(srv);
                    break;
                }
                avoided = Some(srv);
            }
            fulls.push(srv);
        }
        if let Some(s) = chosen {
            self.queue_srv(s);
        }
        for &f in fulls.iter().rev() {
            if Some(f) == chosen {
                continue;
            }
            if switched {
                self.queue_by_weight(f, self.init);
            } else {
                self.queue_srv(f);
            }
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picks(f: &mut Fwrr, n: usize) -> Vec<usize> {
        (0..n).filter_map(|_| f.next(&|_| false, None)).collect()
    }

    #[test]
    fn a_revived_light_server_never_starves_the_group() {
        let mut f = Fwrr::new(&[(true, 16), (true, 16)]);
        assert_eq!(picks(&mut f, 4), [0, 1, 0, 1]);
        f.update(1, false, 16);
        assert_eq!(picks(&mut f, 5), [0; 5]);
        for w in [1, 6, 11, 16] {
            f.update(1, true, w);
            let p = picks(&mut f, 40);
            assert_eq!(p.len(), 40, "weight {w}: {p:?}");
        }
    }
}
