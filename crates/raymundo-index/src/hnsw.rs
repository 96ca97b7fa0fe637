//! Approximate nearest neighbours: a hierarchical navigable small world graph (HNSW).
//!
//! The graph (Malkov & Yashunin) holds only ids: it is searched together with the same
//! row-major, L2-normalised vector slice it was built from, by inner product. Level 0 links
//! every node to at most `2 * m` neighbours, the sparse upper levels to at most `m`; a search
//! descends greedily from the top level and runs a beam search of width `ef` on level 0.
//! Neighbours are chosen with the usual diversity heuristic (a candidate is dropped when it is
//! closer to an already chosen neighbour than to the new node), as FAISS and hnswlib do.
//!
//! **Deterministic parallel build.** Levels come from a seeded generator. Nodes are inserted
//! in batches of 256, in three steps: the worker threads (1) search the graph as it stood at
//! the start of the batch (read-only, so no locks), add the earlier nodes of the same batch
//! scored exactly, and pick each new node's neighbours; (2) compute, for every node that
//! receives links from the batch, its new list (appended, or pruned by the heuristic when
//! over capacity); then one thread (3) writes the lists. The result depends on the seed and
//! the data only, never on the number of threads or their timing.
//!
//! **Filters.** Nodes for which the filter is false are still traversed (they keep the graph
//! connected) but never returned; the beam keeps going until it holds `ef` accepted nodes, so
//! a very selective filter makes a search visit much of the graph (use exact search then).
//!
//! **Serialised form** (little-endian, see [`Hnsw::to_bytes`]): a magic and version, the
//! shape, the levels, the fixed-stride link lists and a checksum. [`Hnsw::from_bytes`]
//! validates everything a search relies on, so a damaged file is an error, not a panic.

use crate::search::{cores, kernel};
use crate::simd::Kernel;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

/// Build and search parameters of an [`Hnsw`] graph.
///
/// The defaults (`m` 16, `ef_construction` 100, `ef_search` 160) were measured with
/// `bench/ann/run.sh` on low-rank 384-dimensional data (rank 32 plus noise, harder than the
/// FAISS measurements in FINDINGS): recall@10 against exact search 0.981 at 10k vectors with
/// `ef` 64 and 0.987 at 100k with `ef` 160 (0.978 with 128), about 1 ms per query at 100k on
/// one core. `m` 16 and `ef_construction` 100 are the usual FAISS/hnswlib settings; larger
/// collections need a larger `ef_search` for the same recall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HnswParams {
    /// Links per node on the upper levels; level 0 allows twice as many. More links: better
    /// recall, slower build, larger graph (`(2m + 1) * 4` bytes per node on level 0).
    pub m: usize,
    /// Beam width while building. Larger: better graph, slower build.
    pub ef_construction: usize,
    /// Default beam width for searches (callers may pass another one); at least `k` is used.
    pub ef_search: usize,
}

impl Default for HnswParams {
    fn default() -> Self {
        Self {
            m: 16,
            ef_construction: 100,
            ef_search: 160,
        }
    }
}

/// Seed of the level generator used by [`Hnsw::build`].
pub const DEFAULT_SEED: u64 = 0x5241_594d_554e_444f; // "RAYMUNDO"

/// Version of the serialised form written by [`Hnsw::to_bytes`].
pub const HNSW_FORMAT_VERSION: u32 = 1;

const MAGIC: &[u8; 8] = b"RMXHNSW\0";
const MAX_LEVEL: u8 = 16;
/// Nodes inserted per batch during a build.
const BATCH: usize = 256;

/// An HNSW graph over a slice of vectors (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Hnsw {
    n: usize,
    dim: usize,
    params: HnswParams,
    seed: u64,
    /// Level of each node (0 for most).
    levels: Vec<u8>,
    /// Level-0 links, `2m + 1` slots per node: the count, then the ids.
    links0: Vec<u32>,
    /// Start of each node's upper-level links in `upper` (`n + 1` entries).
    upper_offset: Vec<usize>,
    /// Upper-level links: per node, for levels 1..=level, `m + 1` slots each.
    upper: Vec<u32>,
    /// Entry node (meaningless when empty) and its level, the top of the graph.
    entry: u32,
    max_level: u8,
}

#[derive(Clone, Copy, PartialEq)]
struct Scored(f32, u32);

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    /// Higher score first; ties by lower id, so heaps and sorts are deterministic.
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .total_cmp(&other.0)
            .then_with(|| other.1.cmp(&self.1))
    }
}

/// Reversed [`Scored`]: a max-heap of these has the weakest result on top.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Weakest(Scored);

impl PartialOrd for Weakest {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Weakest {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.cmp(&self.0)
    }
}

/// A set of node ids that is cheap to clear: a bitset plus the words that were touched.
struct Visited {
    words: Vec<u64>,
    touched: Vec<u32>,
}

impl Visited {
    fn new(n: usize) -> Self {
        Self {
            words: vec![0; n.div_ceil(64)],
            touched: Vec::new(),
        }
    }

    /// Inserts `i`; true when it was not there yet.
    #[inline]
    fn insert(&mut self, i: u32) -> bool {
        let (w, bit) = ((i >> 6) as usize, 1u64 << (i & 63));
        let word = &mut self.words[w];
        if *word & bit != 0 {
            return false;
        }
        if *word == 0 {
            self.touched.push(w as u32);
        }
        *word |= bit;
        true
    }

    fn clear(&mut self) {
        for &w in &self.touched {
            self.words[w as usize] = 0;
        }
        self.touched.clear();
    }
}

/// `f(state, i)` for `i` in `0..count`, spread over one thread per state (the calling thread
/// is one of them), results in index order whatever thread computed them.
fn run_parallel<T: Send>(
    states: &mut [Searcher],
    count: usize,
    f: impl Fn(&mut Searcher, usize) -> T + Sync,
) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let work = |state: &mut Searcher| {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, AtomicOrdering::Relaxed);
            if i >= count {
                break done;
            }
            done.push((i, f(state, i)));
        }
    };
    let (mine, others) = states.split_first_mut().expect("at least one thread");
    let mut all = if others.is_empty() || count < 2 {
        work(mine)
    } else {
        std::thread::scope(|s| {
            let work = &work;
            let handles: Vec<_> = others
                .iter_mut()
                .map(|st| s.spawn(move || work(st)))
                .collect();
            let mut all = work(mine);
            for h in handles {
                all.extend(h.join().expect("HNSW build worker panicked"));
            }
            all
        })
    };
    all.sort_unstable_by_key(|p| p.0);
    all.into_iter().map(|p| p.1).collect()
}

/// Reusable buffers of one searching thread.
struct Searcher {
    visited: Visited,
    candidates: BinaryHeap<Scored>,
    results: BinaryHeap<Weakest>,
    ids: Vec<u32>,
    scores: Vec<f32>,
}

impl Searcher {
    fn new(n: usize) -> Self {
        Self {
            visited: Visited::new(n),
            candidates: BinaryHeap::new(),
            results: BinaryHeap::new(),
            ids: Vec::new(),
            scores: Vec::new(),
        }
    }
}

/// One node's planned links, per level, computed by a worker during a build.
struct Plan {
    links: Vec<Vec<u32>>,
}

impl Hnsw {
    /// Builds the graph over `vectors` (row-major, `dim` wide, L2-normalised) with the level
    /// generator seeded by [`DEFAULT_SEED`]. Uses every available core.
    ///
    /// # Panics
    /// If `dim` is 0 while `vectors` is not empty, if `vectors.len()` is not a multiple of
    /// `dim`, or if there are `u32::MAX` vectors or more.
    pub fn build(vectors: &[f32], dim: usize, params: &HnswParams) -> Hnsw {
        Self::build_with(vectors, dim, params, DEFAULT_SEED, cores())
    }

    /// [`Hnsw::build`] with an explicit seed and number of threads. The graph depends on the
    /// seed, not on the number of threads.
    pub fn build_with(
        vectors: &[f32],
        dim: usize,
        params: &HnswParams,
        seed: u64,
        threads: usize,
    ) -> Hnsw {
        assert!(
            dim > 0 || vectors.is_empty(),
            "HNSW: dimension 0 with {} floats",
            vectors.len()
        );
        let n = vectors.len().checked_div(dim).unwrap_or(0);
        assert_eq!(
            n * dim,
            vectors.len(),
            "HNSW: vectors not a multiple of dim {dim}"
        );
        assert!(n < u32::MAX as usize, "HNSW: too many vectors ({n})");
        let params = HnswParams {
            m: params.m.clamp(2, 1 << 12),
            ef_construction: params.ef_construction.max(1),
            ef_search: params.ef_search.max(1),
        };
        let m = params.m;
        let levels = draw_levels(n, m, seed);
        let mut graph = Hnsw::empty(n, dim, params, seed, levels);
        if n == 0 {
            return graph;
        }
        let kernel = kernel();
        let threads = threads.max(1);
        let mut searchers: Vec<Searcher> = (0..threads).map(|_| Searcher::new(n)).collect();
        let mut inserted = false;
        let mut start = 0;
        while start < n {
            let end = (start + BATCH).min(n);
            // 1. Each new node's links, against the graph as it stands (parallel, read-only).
            let g = &graph;
            let plans = run_parallel(&mut searchers, end - start, |searcher, i| {
                g.plan(kernel, vectors, searcher, start + i, start, inserted)
            });
            // 2. The reverse links, grouped by the node that receives them (parallel).
            let mut requests: Vec<(u8, u32, u32)> = Vec::new();
            for (i, plan) in plans.iter().enumerate() {
                for (level, links) in plan.links.iter().enumerate() {
                    let q = (start + i) as u32;
                    requests.extend(links.iter().map(|&nb| (level as u8, nb, q)));
                }
            }
            requests.sort_unstable();
            let groups: Vec<&[(u8, u32, u32)]> =
                requests.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)).collect();
            let lists = run_parallel(&mut searchers, groups.len(), |searcher, i| {
                g.reverse_links(kernel, vectors, searcher, &plans, start, groups[i])
            });
            // 3. Writes, in node order.
            for (i, plan) in plans.iter().enumerate() {
                for (level, links) in plan.links.iter().enumerate() {
                    graph.set_neighbours(start + i, level, links);
                }
            }
            for (group, list) in groups.iter().zip(&lists) {
                let (level, nb, _) = group[0];
                graph.set_neighbours(nb as usize, level as usize, list);
            }
            for q in start..end {
                let level = graph.levels[q];
                if !inserted || level > graph.max_level {
                    graph.entry = q as u32;
                    graph.max_level = level;
                }
                inserted = true;
            }
            start = end;
        }
        graph
    }

    fn empty(n: usize, dim: usize, params: HnswParams, seed: u64, levels: Vec<u8>) -> Hnsw {
        let m = params.m;
        let mut upper_offset = Vec::with_capacity(n + 1);
        let mut total = 0usize;
        upper_offset.push(0);
        for &l in &levels {
            total += l as usize * (m + 1);
            upper_offset.push(total);
        }
        Hnsw {
            n,
            dim,
            params,
            seed,
            levels,
            links0: vec![0; n * (2 * m + 1)],
            upper_offset,
            upper: vec![0; total],
            entry: 0,
            max_level: 0,
        }
    }

    /// Number of vectors the graph was built over.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when the graph holds no node.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Width of the vectors the graph was built over.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The parameters the graph was built with (`ef_search` is the suggested default).
    pub fn params(&self) -> &HnswParams {
        &self.params
    }

    /// Seed of the level generator the graph was built with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Heap memory held by the graph, in bytes (the vectors are not part of it).
    pub fn memory_bytes(&self) -> usize {
        self.levels.len()
            + 4 * (self.links0.len() + self.upper.len())
            + std::mem::size_of::<usize>() * self.upper_offset.len()
    }

    fn max_links(&self, level: usize) -> usize {
        if level == 0 {
            2 * self.params.m
        } else {
            self.params.m
        }
    }

    /// Slot range of node `i`'s list at `level` (count first, then the ids).
    #[inline]
    fn slots(&self, i: usize, level: usize) -> (bool, usize, usize) {
        if level == 0 {
            let stride = 2 * self.params.m + 1;
            (true, i * stride, stride)
        } else {
            let stride = self.params.m + 1;
            (false, self.upper_offset[i] + (level - 1) * stride, stride)
        }
    }

    /// The neighbours of node `i` at `level` (which must be at most the node's level).
    #[inline]
    fn neighbours(&self, i: usize, level: usize) -> &[u32] {
        let (zero, at, stride) = self.slots(i, level);
        let list = if zero {
            &self.links0[at..at + stride]
        } else {
            &self.upper[at..at + stride]
        };
        let count = (list[0] as usize).min(stride - 1);
        &list[1..1 + count]
    }

    fn set_neighbours(&mut self, i: usize, level: usize, ids: &[u32]) {
        let (zero, at, stride) = self.slots(i, level);
        let list = if zero {
            &mut self.links0[at..at + stride]
        } else {
            &mut self.upper[at..at + stride]
        };
        let count = ids.len().min(stride - 1);
        list[0] = count as u32;
        list[1..1 + count].copy_from_slice(&ids[..count]);
    }

    fn row<'v>(&self, vectors: &'v [f32], i: u32) -> &'v [f32] {
        let i = i as usize;
        &vectors[i * self.dim..(i + 1) * self.dim]
    }

    /// Greedy walk at `level` from `(cur, score)` to a local best.
    fn greedy(
        &self,
        kernel: Kernel,
        vectors: &[f32],
        query: &[f32],
        searcher: &mut Searcher,
        mut best: Scored,
        level: usize,
    ) -> Scored {
        loop {
            let list = self.neighbours(best.1 as usize, level);
            searcher.scores.resize(list.len(), 0.0);
            kernel.dot_ids(vectors, self.dim, list, query, &mut searcher.scores);
            let mut moved = false;
            for (&id, &s) in list.iter().zip(&searcher.scores) {
                let c = Scored(s, id);
                if c > best {
                    best = c;
                    moved = true;
                }
            }
            if !moved {
                return best;
            }
        }
    }

    /// Beam search of width `ef` at `level` from `entries`; fills `searcher.results` with
    /// up to `ef` accepted nodes (all nodes when `keep` is `None`).
    #[allow(clippy::too_many_arguments)]
    fn search_layer(
        &self,
        kernel: Kernel,
        vectors: &[f32],
        query: &[f32],
        searcher: &mut Searcher,
        entries: &[Scored],
        ef: usize,
        level: usize,
        keep: Option<&dyn Fn(usize) -> bool>,
    ) {
        let Searcher {
            visited,
            candidates,
            results,
            ids,
            scores,
        } = searcher;
        visited.clear();
        candidates.clear();
        results.clear();
        let accept = |i: u32| keep.is_none_or(|f| f(i as usize));
        for &e in entries {
            if visited.insert(e.1) {
                candidates.push(e);
                if accept(e.1) {
                    results.push(Weakest(e));
                    if results.len() > ef {
                        results.pop();
                    }
                }
            }
        }
        while let Some(c) = candidates.pop() {
            if results.len() >= ef {
                if let Some(Weakest(w)) = results.peek() {
                    if c < *w {
                        break;
                    }
                }
            }
            ids.clear();
            for &nb in self.neighbours(c.1 as usize, level) {
                if visited.insert(nb) {
                    ids.push(nb);
                }
            }
            scores.resize(ids.len(), 0.0);
            kernel.dot_ids(vectors, self.dim, ids, query, scores);
            for (&id, &s) in ids.iter().zip(scores.iter()) {
                let cand = Scored(s, id);
                let full = results.len() >= ef;
                if full && results.peek().is_some_and(|Weakest(w)| cand < *w) {
                    continue;
                }
                candidates.push(cand);
                if accept(id) {
                    results.push(Weakest(cand));
                    if results.len() > ef {
                        results.pop();
                    }
                }
            }
        }
    }

    /// Plans the links of node `q` (build, worker side): searches the graph as it stands
    /// (nodes before `batch_start`) and scores the batch's earlier nodes exactly.
    fn plan(
        &self,
        kernel: Kernel,
        vectors: &[f32],
        searcher: &mut Searcher,
        q: usize,
        batch_start: usize,
        graph_has_nodes: bool,
    ) -> Plan {
        let query = self.row(vectors, q as u32);
        let lq = self.levels[q] as usize;
        let mut cands: Vec<Vec<Scored>> = vec![Vec::new(); lq + 1];
        if graph_has_nodes {
            let top = self.max_level as usize;
            let e = self.entry;
            let mut best = Scored(kernel.dot(self.row(vectors, e), query), e);
            for level in (lq + 1..=top).rev() {
                best = self.greedy(kernel, vectors, query, searcher, best, level);
            }
            let mut entries = vec![best];
            for level in (0..=lq.min(top)).rev() {
                let ef = self.params.ef_construction;
                self.search_layer(kernel, vectors, query, searcher, &entries, ef, level, None);
                entries.clear();
                entries.extend(searcher.results.drain().map(|w| w.0));
                cands[level].extend_from_slice(&entries);
            }
        }
        // The batch's earlier nodes, exactly.
        let earlier: Vec<u32> = (batch_start as u32..q as u32).collect();
        let mut scores = vec![0.0; earlier.len()];
        kernel.dot_ids(vectors, self.dim, &earlier, query, &mut scores);
        for (&j, &s) in earlier.iter().zip(&scores) {
            let top = (self.levels[j as usize] as usize).min(lq);
            for c in &mut cands[..=top] {
                c.push(Scored(s, j));
            }
        }
        let mut links = Vec::with_capacity(lq + 1);
        for (level, c) in cands.iter_mut().enumerate() {
            c.sort_by(|a, b| b.cmp(a));
            // As many candidates as a sequential insertion would have: the batch's far nodes
            // only cost heuristic checks.
            c.truncate(self.params.ef_construction.max(self.max_links(level)));
            links.push(select(kernel, vectors, self.dim, c, self.max_links(level)));
        }
        Plan { links }
    }

    /// The new list of node `nb` at `level` once the batch's nodes in `requests` (all for
    /// that node and level, in node order) link to it: appended while there is room, else the
    /// most diverse `cap` of old and new by the heuristic. A node of the batch starts from its
    /// planned list.
    fn reverse_links(
        &self,
        kernel: Kernel,
        vectors: &[f32],
        searcher: &mut Searcher,
        plans: &[Plan],
        batch_start: usize,
        requests: &[(u8, u32, u32)],
    ) -> Vec<u32> {
        let (level, nb, _) = requests[0];
        let (level, nbu) = (level as usize, nb as usize);
        let current: &[u32] = if nbu >= batch_start {
            &plans[nbu - batch_start].links[level]
        } else {
            self.neighbours(nbu, level)
        };
        let mut ids = current.to_vec();
        ids.extend(requests.iter().map(|r| r.2));
        let cap = self.max_links(level);
        if ids.len() <= cap {
            return ids;
        }
        let scores = &mut searcher.scores;
        scores.resize(ids.len(), 0.0);
        kernel.dot_ids(vectors, self.dim, &ids, self.row(vectors, nb), scores);
        let mut cands: Vec<Scored> = ids
            .iter()
            .zip(scores.iter())
            .map(|(&i, &s)| Scored(s, i))
            .collect();
        cands.sort_by(|a, b| b.cmp(a));
        select(kernel, vectors, self.dim, &cands, cap)
    }

    /// The `k` nodes most similar to `query` by inner product, best first, among those for
    /// which `keep` is true, searching with beam width `max(ef, k)`. `vectors` must be the
    /// slice the graph was built over.
    ///
    /// # Panics
    /// If `vectors.len() != len() * dim()` or `query.len() != dim()`.
    pub fn search(
        &self,
        vectors: &[f32],
        query: &[f32],
        k: usize,
        ef: usize,
        keep: &dyn Fn(usize) -> bool,
    ) -> Vec<(usize, f32)> {
        if self.n == 0 || k == 0 {
            return Vec::new();
        }
        assert_eq!(
            vectors.len(),
            self.n * self.dim,
            "HNSW: the vectors are not the ones the graph was built over"
        );
        assert_eq!(query.len(), self.dim, "HNSW: query dimension");
        thread_local! {
            static SEARCHER: RefCell<Option<Searcher>> = const { RefCell::new(None) };
        }
        SEARCHER.with_borrow_mut(|slot| {
            let searcher = match slot {
                Some(s) if s.visited.words.len() == self.n.div_ceil(64) => s,
                _ => slot.insert(Searcher::new(self.n)),
            };
            let kernel = kernel();
            let e = self.entry;
            let mut best = Scored(kernel.dot(self.row(vectors, e), query), e);
            for level in (1..=self.max_level as usize).rev() {
                best = self.greedy(kernel, vectors, query, searcher, best, level);
            }
            let ef = ef.max(k);
            self.search_layer(kernel, vectors, query, searcher, &[best], ef, 0, Some(keep));
            let mut found: Vec<Scored> = searcher.results.drain().map(|w| w.0).collect();
            found.sort_by(|a, b| b.cmp(a));
            found.truncate(k);
            found.into_iter().map(|s| (s.1 as usize, s.0)).collect()
        })
    }

    /// The serialised graph (little-endian, format [`HNSW_FORMAT_VERSION`]):
    ///
    /// | field | type |
    /// | --- | --- |
    /// | magic `RMXHNSW\0` | 8 bytes |
    /// | format version | u32 |
    /// | n, dim, m, ef_construction, ef_search | u64, u32, u32, u32, u32 |
    /// | seed | u64 |
    /// | entry, max level | u32, u32 |
    /// | levels | n bytes, zero-padded to a multiple of 4 |
    /// | level-0 links | n × (2m + 1) u32: count, then ids |
    /// | upper links | (m + 1) u32 per node and upper level |
    /// | checksum of all the above | u64 |
    pub fn to_bytes(&self) -> Vec<u8> {
        let pad = (4 - self.n % 4) % 4;
        let size = HEADER + self.n + pad + 4 * (self.links0.len() + self.upper.len()) + 8;
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&HNSW_FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(self.n as u64).to_le_bytes());
        for v in [
            self.dim,
            self.params.m,
            self.params.ef_construction,
            self.params.ef_search,
        ] {
            out.extend_from_slice(&(v as u32).to_le_bytes());
        }
        out.extend_from_slice(&self.seed.to_le_bytes());
        out.extend_from_slice(&self.entry.to_le_bytes());
        out.extend_from_slice(&(self.max_level as u32).to_le_bytes());
        out.extend_from_slice(&self.levels);
        out.resize(out.len() + pad, 0);
        for &v in self.links0.iter().chain(&self.upper) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let sum = checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        debug_assert_eq!(out.len(), size);
        out
    }

    /// Reads a graph written by [`Hnsw::to_bytes`] for a slice of `n_vectors` vectors.
    /// Checks the magic, the version, the length, the checksum, the number of nodes, every
    /// link count and every neighbour id (in range, and present on the level it is linked
    /// at): a graph that passes cannot make a search panic or loop.
    pub fn from_bytes(bytes: &[u8], n_vectors: usize) -> Result<Hnsw, String> {
        let mut r = Reader { bytes, at: 0 };
        if bytes.len() < 8 || &bytes[..8] != MAGIC {
            return Err("not an HNSW graph (bad magic)".to_string());
        }
        r.at = 8;
        let version = r.u32()?;
        if version != HNSW_FORMAT_VERSION {
            return Err(format!(
                "HNSW format version {version}, this build reads version {HNSW_FORMAT_VERSION}"
            ));
        }
        let n = r.u64()?;
        let dim = r.u32()? as usize;
        let m = r.u32()? as usize;
        let ef_construction = r.u32()? as usize;
        let ef_search = r.u32()? as usize;
        let seed = r.u64()?;
        let entry = r.u32()?;
        let max_level = r.u32()?;
        if n != n_vectors as u64 {
            return Err(format!(
                "HNSW graph has {n} nodes but there are {n_vectors} vectors"
            ));
        }
        let n = n as usize;
        if n >= u32::MAX as usize {
            return Err(format!("HNSW graph too large ({n} nodes)"));
        }
        if !(2..=1 << 12).contains(&m) {
            return Err(format!("HNSW graph: m = {m} out of range 2..=4096"));
        }
        if n > 0 && dim == 0 {
            return Err("HNSW graph: dimension 0".to_string());
        }
        if max_level > MAX_LEVEL as u32 {
            return Err(format!(
                "HNSW graph: top level {max_level} above {MAX_LEVEL}"
            ));
        }
        let pad = (4 - n % 4) % 4;
        let links0_len = n
            .checked_mul(2 * m + 1)
            .ok_or("HNSW graph: size overflow")?;
        // The fixed part must be there before the levels are trusted to size the rest.
        let fixed = HEADER + n + pad + 4 * links0_len + 8;
        if bytes.len() < fixed {
            return Err(format!(
                "HNSW graph truncated: {} bytes, at least {fixed} expected",
                bytes.len()
            ));
        }
        let levels = r.take(n)?.to_vec();
        r.take(pad)?;
        let mut upper_total = 0usize;
        for (i, &l) in levels.iter().enumerate() {
            if l as u32 > max_level {
                return Err(format!(
                    "HNSW graph: node {i} at level {l}, above the top level {max_level}"
                ));
            }
            upper_total += l as usize * (m + 1);
        }
        let size = fixed + 4 * upper_total;
        if bytes.len() != size {
            return Err(format!(
                "HNSW graph has {} bytes, {size} expected (truncated or trailing data)",
                bytes.len()
            ));
        }
        let want = checksum(&bytes[..size - 8]);
        let got = u64::from_le_bytes(bytes[size - 8..].try_into().expect("8 bytes"));
        if want != got {
            return Err("HNSW graph checksum mismatch (corrupt file)".to_string());
        }
        let params = HnswParams {
            m,
            ef_construction,
            ef_search,
        };
        let mut g = Hnsw::empty(n, dim, params, seed, levels);
        for v in g.links0.iter_mut().chain(g.upper.iter_mut()) {
            *v = r.u32()?;
        }
        if n > 0 {
            if entry as usize >= n {
                return Err(format!(
                    "HNSW graph: entry node {entry} out of range (n = {n})"
                ));
            }
            if g.levels[entry as usize] as u32 != max_level {
                return Err(format!(
                    "HNSW graph: entry node {entry} is not on the top level {max_level}"
                ));
            }
        }
        g.entry = entry;
        g.max_level = max_level as u8;
        for i in 0..n {
            for level in 0..=g.levels[i] as usize {
                let (zero, at, stride) = g.slots(i, level);
                let list = if zero {
                    &g.links0[at..at + stride]
                } else {
                    &g.upper[at..at + stride]
                };
                let count = list[0] as usize;
                if count > stride - 1 {
                    return Err(format!(
                        "HNSW graph: node {i} has {count} links at level {level}, at most {}",
                        stride - 1
                    ));
                }
                for &nb in &list[1..1 + count] {
                    if nb as usize >= n {
                        return Err(format!(
                            "HNSW graph: node {i} links to {nb}, out of range (n = {n})"
                        ));
                    }
                    if (g.levels[nb as usize] as usize) < level {
                        return Err(format!(
                            "HNSW graph: node {i} links to {nb} at level {level}, which {nb} is not on"
                        ));
                    }
                }
            }
        }
        Ok(g)
    }
}

/// Bytes before the levels in the serialised form.
const HEADER: usize = 8 + 4 + 8 + 4 * 4 + 8 + 4 + 4;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, len: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(len).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("HNSW graph truncated at byte {}", self.at))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}

/// FNV-1a over 8-byte words (then the remaining bytes): fast, and enough to catch damage.
fn checksum(bytes: &[u8]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let words = bytes.chunks_exact(8);
    let tail = words.remainder();
    for w in words {
        h = (h ^ u64::from_le_bytes(w.try_into().expect("8 bytes"))).wrapping_mul(PRIME);
    }
    for &b in tail {
        h = (h ^ b as u64).wrapping_mul(PRIME);
    }
    h
}

/// Levels of `n` nodes: floor(-ln(U) / ln(m)), U uniform in (0, 1], from a seeded SplitMix64.
fn draw_levels(n: usize, m: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let scale = 1.0 / (m as f64).ln();
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let u = ((z >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
            ((-u.ln() * scale) as u32).min(MAX_LEVEL as u32) as u8
        })
        .collect()
}

/// The diversity heuristic: walks `cands` (best first) and keeps a candidate unless it is
/// more similar to an already kept one than to the base node; at most `max` kept.
fn select(kernel: Kernel, vectors: &[f32], dim: usize, cands: &[Scored], max: usize) -> Vec<u32> {
    let mut kept: Vec<u32> = Vec::with_capacity(max);
    let mut sims: Vec<f32> = Vec::with_capacity(max);
    let mut last = None;
    for &Scored(s, c) in cands {
        if kept.len() >= max {
            break;
        }
        if last == Some(c) {
            continue; // the same node twice in a row (sorted input)
        }
        last = Some(c);
        let row = &vectors[c as usize * dim..(c as usize + 1) * dim];
        sims.resize(kept.len(), 0.0);
        kernel.dot_ids(vectors, dim, &kept, row, &mut sims);
        if sims.iter().all(|&x| x <= s) {
            kept.push(c);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::top_k;

    /// SplitMix64 standard normals (Box-Muller).
    struct Normal(u64);

    impl Normal {
        fn uniform(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            ((z >> 11) as f64 + 1.0) / (1u64 << 53) as f64
        }

        fn next(&mut self) -> f32 {
            let (u, v) = (self.uniform(), self.uniform());
            ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
        }
    }

    /// `n` rows of normalise(z · A + noise) with z in `rank` dimensions: data of low intrinsic
    /// dimension, like real embeddings (uniform random vectors defeat every HNSW).
    fn low_rank(n: usize, dim: usize, rank: usize, seed: u64) -> Vec<f32> {
        let mut basis_rng = Normal(7);
        let a: Vec<f32> = (0..rank * dim).map(|_| basis_rng.next()).collect();
        let mut rng = Normal(seed);
        let mut out = Vec::with_capacity(n * dim);
        for _ in 0..n {
            let z: Vec<f32> = (0..rank).map(|_| rng.next()).collect();
            let start = out.len();
            for d in 0..dim {
                let x: f32 = (0..rank).map(|r| z[r] * a[r * dim + d]).sum();
                out.push(x + 0.3 * rng.next());
            }
            let row = &mut out[start..];
            let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
            row.iter_mut().for_each(|x| *x /= norm);
        }
        out
    }

    const DIM: usize = 48;
    const RANK: usize = 32;

    fn recall(g: &Hnsw, v: &[f32], queries: &[f32], keep: &dyn Fn(usize) -> bool) -> f64 {
        let mut hits = 0;
        let mut total = 0;
        for q in queries.chunks_exact(DIM) {
            let want: Vec<usize> = top_k(v, DIM, q, 10, keep)
                .into_iter()
                .map(|p| p.0)
                .collect();
            let got = g.search(v, q, 10, g.params().ef_search, keep);
            assert!(got.windows(2).all(|w| w[0].1 >= w[1].1), "best first");
            hits += got.iter().filter(|p| want.contains(&p.0)).count();
            total += want.len();
        }
        hits as f64 / total as f64
    }

    #[test]
    fn recall_at_10_against_exact_search_on_low_rank_data() {
        let v = low_rank(2500, DIM, RANK, 1);
        let queries = low_rank(60, DIM, RANK, 2);
        let g = Hnsw::build(&v, DIM, &HnswParams::default());
        let r = recall(&g, &v, &queries, &|_| true);
        assert!(r >= 0.98, "recall@10 {r}");
    }

    #[test]
    fn a_filter_is_respected_and_still_finds_the_best_allowed() {
        let v = low_rank(1500, DIM, RANK, 3);
        let queries = low_rank(30, DIM, RANK, 4);
        let g = Hnsw::build(&v, DIM, &HnswParams::default());
        let keep = |i: usize| i.is_multiple_of(3);
        for q in queries.chunks_exact(DIM) {
            let got = g.search(&v, q, 10, 64, &keep);
            assert_eq!(got.len(), 10);
            assert!(got.iter().all(|p| keep(p.0)));
        }
        let r = recall(&g, &v, &queries, &keep);
        assert!(r >= 0.95, "filtered recall@10 {r}");
        assert!(g.search(&v, &queries[..DIM], 10, 64, &|_| false).is_empty());
    }

    #[test]
    fn the_build_is_deterministic_whatever_the_threads() {
        let v = low_rank(700, DIM, RANK, 5);
        let p = HnswParams::default();
        let one = Hnsw::build_with(&v, DIM, &p, 42, 1);
        let three = Hnsw::build_with(&v, DIM, &p, 42, 3);
        assert_eq!(one, three);
        assert_ne!(one, Hnsw::build_with(&v, DIM, &p, 43, 1));
    }

    #[test]
    fn empty_and_tiny_inputs() {
        let p = HnswParams::default();
        let empty = Hnsw::build(&[], DIM, &p);
        assert!(empty.is_empty());
        assert!(empty.search(&[], &[0.0; DIM], 5, 10, &|_| true).is_empty());
        let back = Hnsw::from_bytes(&empty.to_bytes(), 0).expect("empty round trip");
        assert_eq!(back, empty);

        let one = low_rank(1, DIM, RANK, 6);
        let g = Hnsw::build(&one, DIM, &p);
        assert_eq!(g.search(&one, &one, 5, 10, &|_| true).len(), 1);
        assert_eq!(g.search(&one, &one, 0, 10, &|_| true), vec![]);

        let few = low_rank(7, DIM, RANK, 7);
        let g = Hnsw::build(&few, DIM, &p);
        let got = g.search(&few, &few[2 * DIM..3 * DIM], 50, 1, &|_| true);
        assert_eq!(got.len(), 7, "k > n returns every node");
        assert_eq!(got[0].0, 2, "a stored vector finds itself first");
    }

    #[test]
    fn serialisation_round_trip_searches_the_same() {
        let v = low_rank(600, DIM, RANK, 8);
        let g = Hnsw::build(&v, DIM, &HnswParams::default());
        let bytes = g.to_bytes();
        let back = Hnsw::from_bytes(&bytes, 600).expect("round trip");
        assert_eq!(back, g);
        let q = &v[..DIM];
        assert_eq!(
            back.search(&v, q, 10, 32, &|_| true),
            g.search(&v, q, 10, 32, &|_| true)
        );
    }

    /// Rewrites the checksum so that structural checks, not the checksum, must catch it.
    fn reseal(bytes: &mut [u8]) {
        let n = bytes.len() - 8;
        let sum = checksum(&bytes[..n]);
        bytes[n..].copy_from_slice(&sum.to_le_bytes());
    }

    #[test]
    fn corrupt_or_truncated_graphs_are_errors() {
        let v = low_rank(300, DIM, RANK, 9);
        let g = Hnsw::build(&v, DIM, &HnswParams::default());
        let bytes = g.to_bytes();
        let err = |b: &[u8], n: usize| Hnsw::from_bytes(b, n).expect_err("must be refused");

        assert!(err(&bytes, 299).contains("300 nodes but there are 299"));
        assert!(err(&bytes[..bytes.len() - 1], 300).contains("bytes"));
        assert!(err(&bytes[..20], 300).contains("truncated"));
        assert!(err(&[], 300).contains("magic"));
        assert!(err(b"something else entirely", 300).contains("magic"));

        let mut flipped = bytes.clone();
        let at = bytes.len() / 2;
        flipped[at] ^= 0x10;
        assert!(err(&flipped, 300).contains("checksum"));

        let mut version = bytes.clone();
        version[8] = 99;
        assert!(err(&version, 300).contains("version 99"));

        // The first neighbour of node 0 on level 0, pointed out of range.
        let links0 = HEADER + 300; // 300 level bytes, no padding
        let mut out_of_range = bytes.clone();
        out_of_range[links0 + 4..links0 + 8].copy_from_slice(&1000u32.to_le_bytes());
        reseal(&mut out_of_range);
        assert!(err(&out_of_range, 300).contains("out of range"));

        let mut too_many = bytes.clone();
        too_many[links0..links0 + 4].copy_from_slice(&1000u32.to_le_bytes());
        reseal(&mut too_many);
        assert!(err(&too_many, 300).contains("links at level 0"));

        let mut entry = bytes.clone();
        entry[HEADER - 8..HEADER - 4].copy_from_slice(&5000u32.to_le_bytes());
        reseal(&mut entry);
        assert!(err(&entry, 300).contains("entry node"));
    }
}
