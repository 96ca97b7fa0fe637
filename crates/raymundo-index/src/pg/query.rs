//! Searching one version: dense candidates through the HNSW index, BM25 candidates from the
//! postings, fused, diversified and checked for coverage by the file index's own code.

use super::publish::{posting_term, K1};
use super::schema::visible;
use super::vector::PgVector;
use super::{chunk_of, db_error, PgIndex, CHUNK_COLUMNS, CHUNK_FIELDS};
use crate::hybrid::{self, SearchParams};
use crate::lexical::{analyzer, bm25_idf, coverage_terms, query_clauses, Filter, TextField};
use crate::{IndexError, SearchResult};
use postgres::types::ToSql;
use raymundo_core::Hit;
use std::collections::{HashMap, HashSet};

/// Postings read per query term, best impact first: every posting of a rare term, the
/// strongest of a common one (whose low IDF rarely decides the top candidates).
pub const POSTINGS_PER_TERM: i64 = 2000;

type Param<'a> = &'a (dyn ToSql + Sync);

/// `AND` conditions for `filter` on table `c`, numbering parameters from `next`.
fn filter_sql<'a>(filter: &'a Filter, next: usize, params: &mut Vec<Param<'a>>) -> String {
    let mut sql = String::new();
    let mut n = next;
    if let Some(s) = &filter.source {
        sql.push_str(&format!(" AND c.source = ${n}"));
        params.push(s);
        n += 1;
    }
    if let Some(i) = &filter.intent {
        sql.push_str(&format!(" AND c.intent = ${n}"));
        params.push(i);
    }
    sql
}

impl PgIndex {
    /// The `k` chunks most similar to `query` by cosine alone, best first, through the HNSW
    /// index (`ef` candidates examined; `None`: 160).
    pub fn search(&self, query: &[f32], k: usize, filter: &Filter) -> Result<Vec<Hit>, IndexError> {
        let mut c = self.client()?;
        let dense = self.dense(&mut c, query, k, None, filter)?;
        let ids: Vec<i64> = dense.iter().map(|d| d.0 as i64).collect();
        let chunks = self.fetch(&mut c, &ids, false)?;
        Ok(dense
            .into_iter()
            .filter_map(|(id, cos)| {
                let (chunk, _) = chunks.get(&(id as i64))?;
                Some(Hit::dense(chunk.clone(), cos))
            })
            .collect())
    }

    fn check_dim(&self, query: &[f32]) -> Result<(), IndexError> {
        if query.len() != self.meta.dim {
            return Err(IndexError::Invalid(format!(
                "a query vector of dimension {} for an index of dimension {}",
                query.len(),
                self.meta.dim
            )));
        }
        Ok(())
    }

    /// Dense candidates: (chunk id, cosine), best first.
    fn dense(
        &self,
        c: &mut postgres::Client,
        query: &[f32],
        n: usize,
        ef: Option<usize>,
        filter: &Filter,
    ) -> Result<Vec<(usize, f32)>, IndexError> {
        self.check_dim(query)?;
        let err = db_error("searching the vectors");
        let ef = ef.unwrap_or(160).max(n).min(1000);
        c.execute(
            "SELECT set_config('hnsw.ef_search', $1, false),
                    set_config('hnsw.iterative_scan', 'relaxed_order', false)",
            &[&ef.to_string()],
        )
        .map_err(&err)?;
        let d = self.meta.dim;
        let q = PgVector(query.to_vec());
        let limit = n as i64;
        let mut params: Vec<Param<'_>> = vec![&q, &self.version, &limit];
        let filter = filter_sql(filter, 4, &mut params);
        // The dimension is written into the text: the partial index `WHERE dim = D` is only
        // used when the query names the same constant.
        let sql = format!(
            "SELECT c.id, (-(c.embedding::vector({d}) <#> $1::vector({d})))::REAL
             FROM raymundo_index_chunks c
             WHERE c.dim = {d} AND {}{filter}
             ORDER BY c.embedding::vector({d}) <#> $1::vector({d}) LIMIT $3",
            visible("c", 2)
        );
        let rows = c.query(&sql, &params).map_err(&err)?;
        let mut out: Vec<(usize, f32)> = rows
            .iter()
            .map(|r| (r.get::<_, i64>(0) as usize, r.get::<_, f32>(1)))
            .collect();
        // The relaxed scan may return a near tie out of order.
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(out)
    }

    /// Document frequencies in this version of the posting terms `terms`.
    fn document_frequencies(
        &self,
        c: &mut postgres::Client,
        terms: &[String],
    ) -> Result<HashMap<String, u64>, IndexError> {
        if terms.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(c.query(
            "SELECT term, df FROM raymundo_index_terms WHERE version = $1 AND term = ANY($2)",
            &[&self.version, &terms],
        )
        .map_err(db_error("reading the term counts"))?
        .iter()
        .map(|r| (r.get(0), r.get::<_, i32>(1).max(0) as u64))
        .collect())
    }

    /// BM25 candidates: (chunk id, score, cosine to `query`), best first.
    fn lexical(
        &self,
        c: &mut postgres::Client,
        clauses: &[(TextField, String)],
        df: &HashMap<String, u64>,
        query: &[f32],
        n: usize,
        filter: &Filter,
    ) -> Result<Vec<(usize, f32, f32)>, IndexError> {
        let (mut terms, mut weights, mut averages) = (Vec::new(), Vec::new(), Vec::new());
        for (field, text) in clauses {
            let term = posting_term(*field, text);
            let Some(&f) = df.get(&term) else { continue };
            let i = TextField::ALL.iter().position(|g| g == field).unwrap_or(0);
            terms.push(term);
            weights.push(bm25_idf(f, self.chunks) * field.boost() * (1.0 + K1));
            averages.push(self.averages[i].max(f32::MIN_POSITIVE));
        }
        if terms.is_empty() || n == 0 {
            return Ok(Vec::new());
        }
        let d = self.meta.dim;
        let q = PgVector(query.to_vec());
        let (per_term, limit) = (POSTINGS_PER_TERM.max(n as i64), n as i64);
        let mut params: Vec<Param<'_>> = vec![
            &terms,
            &weights,
            &averages,
            &self.version,
            &per_term,
            &limit,
            &q,
        ];
        // Without a filter the postings alone decide (an index-only scan); a filter needs
        // each chunk's source or intent.
        let join = match filter.is_empty() {
            true => "",
            false => " JOIN raymundo_index_chunks c ON c.id = p.chunk",
        };
        let filter = filter_sql(filter, 8, &mut params);
        let sql = format!(
            "SELECT c.id, s.score::REAL, (-(c.embedding::vector({d}) <#> $7::vector({d})))::REAL
             FROM (
                 SELECT p.chunk, sum(q.weight * p.tf / (p.tf + {K1} * (1 - 0.75 + 0.75 * p.len / q.average))) AS score
                 FROM unnest($1::TEXT[], $2::REAL[], $3::REAL[]) AS q(term, weight, average)
                 CROSS JOIN LATERAL (
                     SELECT p.chunk, p.tf::REAL AS tf, p.len::REAL AS len
                     FROM raymundo_index_postings p{join}
                     WHERE p.term = q.term AND {}{filter}
                     ORDER BY p.impact DESC LIMIT $5
                 ) p
                 GROUP BY p.chunk ORDER BY score DESC, p.chunk LIMIT $6
             ) s JOIN raymundo_index_chunks c ON c.id = s.chunk
             ORDER BY s.score DESC, c.id",
            visible("p", 4)
        );
        let rows = c
            .query(&sql, &params)
            .map_err(db_error("searching the terms"))?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get::<_, i64>(0) as usize,
                    r.get::<_, f32>(1),
                    r.get::<_, f32>(2),
                )
            })
            .collect())
    }

    /// The chunks (and, when `vectors`, their vectors) of `ids`.
    fn fetch(
        &self,
        c: &mut postgres::Client,
        ids: &[i64],
        vectors: bool,
    ) -> Result<HashMap<i64, (raymundo_core::Chunk, Vec<f32>)>, IndexError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let vector = if vectors {
            "c.embedding"
        } else {
            "NULL::vector"
        };
        let rows = c
            .query(
                &format!(
                    "SELECT {CHUNK_COLUMNS}, {vector}, c.id FROM raymundo_index_chunks c
                     WHERE c.id = ANY($1)"
                ),
                &[&ids],
            )
            .map_err(db_error("reading the chunks found"))?;
        Ok(rows
            .iter()
            .map(|r| {
                let v: Option<PgVector> = r.get(CHUNK_FIELDS);
                let id: i64 = r.get(CHUNK_FIELDS + 1);
                (id, (chunk_of(r), v.map(|v| v.0).unwrap_or_default()))
            })
            .collect())
    }

    /// Hybrid search, as [`crate::Index::hybrid_search`] does it on the files: dense and
    /// BM25 candidates, fused as `params` say, optionally MMR re-ranked, filtered; the
    /// coverage signal over the best passages.
    pub fn hybrid_search(
        &self,
        query_vector: &[f32],
        query_text: &str,
        params: &SearchParams,
    ) -> Result<SearchResult, IndexError> {
        let mut c = self.client()?;
        let n = params.candidates.max(params.k);
        let mut a = analyzer(crate::LexicalLanguage::from_code(&self.meta.language));
        let clauses = query_clauses(&mut a, query_text);
        let cover_terms = coverage_terms(&mut a, query_text);
        let mut wanted: Vec<String> = clauses
            .iter()
            .map(|(f, t)| posting_term(*f, t))
            .chain(cover_terms.iter().map(|t| posting_term(TextField::Body, t)))
            .collect();
        wanted.sort();
        wanted.dedup();
        let df = self.document_frequencies(&mut c, &wanted)?;
        let dense = self.dense(&mut c, query_vector, n, params.ef_search, &params.filter)?;
        let best_dense = dense.first().map_or(-1.0, |d| d.1);
        let lexical = self.lexical(&mut c, &clauses, &df, query_vector, n, &params.filter)?;
        let mut fused = hybrid::fuse(&dense, &lexical, params);
        let ck = params.coverage_k.unwrap_or(params.k);
        let cover_rows: Vec<usize> = fused.iter().take(ck).map(|c| c.row).collect();
        let mmr = params.mmr_lambda.is_some();
        fused.truncate(if mmr { n } else { params.k });
        let ids: Vec<i64> = fused
            .iter()
            .map(|c| c.row)
            .chain(cover_rows.iter().copied())
            .map(|r| r as i64)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let chunks = self.fetch(&mut c, &ids, mmr)?;
        if let Some(lambda) = params.mmr_lambda {
            fused = hybrid::mmr(fused, params.k, lambda, |row| {
                chunks
                    .get(&(row as i64))
                    .map(|x| x.1.clone())
                    .unwrap_or_default()
            });
        }
        fused.truncate(params.k);
        let hits: Vec<Hit> = fused
            .into_iter()
            .filter_map(|c| {
                Some(Hit {
                    score: c.score,
                    dense: c.dense,
                    lexical: c.lexical,
                    neighbour: false,
                    chunk: chunks.get(&(c.row as i64))?.0.clone(),
                })
            })
            .collect();
        let coverage = if self.chunks == 0 {
            1.0
        } else {
            let terms: Vec<(String, f32)> = cover_terms
                .into_iter()
                .map(|t| {
                    let f = df
                        .get(&posting_term(TextField::Body, &t))
                        .copied()
                        .unwrap_or(0);
                    (t, bm25_idf(f, self.chunks))
                })
                .collect();
            cover_rows
                .iter()
                .filter_map(|r| chunks.get(&(*r as i64)))
                .map(|(ch, _)| {
                    let texts = [ch.text.as_str(), ch.title.as_str()];
                    hybrid::coverage(&mut a, &terms, texts)
                })
                .fold(0.0, f32::max)
        };
        Ok(SearchResult {
            hits,
            best_dense,
            coverage,
        })
    }

    /// Adds to each hit its `radius` neighbouring chunks of the same document, as
    /// [`crate::Index::with_neighbours`] does.
    pub fn with_neighbours(
        &self,
        hits: Vec<Hit>,
        radius: usize,
        query: &[f32],
    ) -> Result<Vec<Hit>, IndexError> {
        if radius == 0 || hits.is_empty() {
            return Ok(hits);
        }
        self.check_dim(query)?;
        let mut seen: HashSet<(String, usize)> = hits
            .iter()
            .map(|h| (h.chunk.doc.clone(), h.chunk.position))
            .collect();
        // The neighbours each hit asks for, in the order the file index adds them.
        let mut wanted: Vec<Vec<(String, usize)>> = Vec::with_capacity(hits.len());
        for hit in &hits {
            let (doc, pos) = (&hit.chunk.doc, hit.chunk.position);
            let mut around = Vec::new();
            for p in pos.saturating_sub(radius)..=pos + radius {
                if p != pos && seen.insert((doc.clone(), p)) {
                    around.push((doc.clone(), p));
                }
            }
            wanted.push(around);
        }
        let docs: Vec<&str> = wanted.iter().flatten().map(|w| w.0.as_str()).collect();
        let positions: Vec<i32> = wanted
            .iter()
            .flatten()
            .map(|w| w.1.min(i32::MAX as usize) as i32)
            .collect();
        let d = self.meta.dim;
        let q = PgVector(query.to_vec());
        let mut c = self.client()?;
        let rows = c
            .query(
                &format!(
                    "SELECT {CHUNK_COLUMNS}, (-(c.embedding::vector({d}) <#> $1::vector({d})))::REAL
                     FROM raymundo_index_chunks c
                     JOIN unnest($2::TEXT[], $3::INTEGER[]) AS w(doc, position)
                       ON c.doc = w.doc AND c.position = w.position
                     WHERE c.dim = {d} AND {}",
                    visible("c", 4)
                ),
                &[&q, &docs, &positions, &self.version],
            )
            .map_err(db_error("reading the neighbouring chunks"))?;
        let mut found: HashMap<(String, usize), Hit> = rows
            .iter()
            .map(|r| {
                let chunk = chunk_of(r);
                let cos: f32 = r.get(CHUNK_FIELDS);
                ((chunk.doc.clone(), chunk.position), (chunk, cos))
            })
            .map(|(key, (chunk, cos))| {
                (
                    key,
                    Hit {
                        score: 0.0,
                        dense: cos,
                        lexical: None,
                        neighbour: true,
                        chunk,
                    },
                )
            })
            .collect();
        let mut out = Vec::with_capacity(hits.len() * (1 + 2 * radius));
        for (hit, around) in hits.into_iter().zip(wanted) {
            let pos = hit.chunk.position;
            let mut before = Vec::new();
            let mut after = Vec::new();
            for key in around {
                if let Some(mut h) = found.remove(&key) {
                    h.score = hit.score;
                    if key.1 < pos {
                        before.push(h);
                    } else {
                        after.push(h);
                    }
                }
            }
            out.extend(before);
            out.push(hit);
            out.extend(after);
        }
        Ok(out)
    }
}
