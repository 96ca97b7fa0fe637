//! Writing a version: the new and changed documents' chunks, vectors and postings, the
//! document frequencies, then the switch, all in one transaction.

use super::schema::{self, visible};
use super::{connect, db_error, vector, PgIndex};
use crate::lexical::{analyze, analyzer, field_texts, LexicalLanguage, TextField};
use crate::{DocumentEntry, Index, IndexError, IndexMeta};
use postgres::Transaction;
use raymundo_core::Chunk;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use tantivy::fieldnorm::FieldNormReader;

/// BM25's term-frequency saturation.
pub(crate) const K1: f32 = 1.2;
/// BM25's length normalisation.
pub(crate) const B: f32 = 0.75;

/// A field's term as the postings table spells it: the field's letter, `:`, the term.
pub(crate) fn posting_term(field: TextField, term: &str) -> String {
    let prefix = match field {
        TextField::Body => "b",
        TextField::Title => "t",
        TextField::Codes => "c",
    };
    format!("{prefix}:{term}")
}

/// A field length as tantivy stores it (one byte per document, coarser for long fields).
pub(crate) fn quantised(len: u32) -> u32 {
    FieldNormReader::id_to_fieldnorm(FieldNormReader::fieldnorm_to_id(len))
}

/// The BM25 term-frequency factor of tantivy: `tf / (tf + K1 (1 - B + B len / avg))`.
pub(crate) fn tf_factor(tf: f32, len: f32, average: f32) -> f32 {
    tf / (tf + K1 * (1.0 - B + B * len / average.max(f32::MIN_POSITIVE)))
}

/// One chunk's postings: (field, term, frequency) and each field's length in terms.
struct Analysed {
    postings: Vec<(TextField, String, u32)>,
    lengths: [u32; 3],
}

fn analyse(a: &mut tantivy::tokenizer::TextAnalyzer, chunk: &Chunk) -> Analysed {
    let mut postings = Vec::new();
    let mut lengths = [0u32; 3];
    for (i, (field, text)) in TextField::ALL
        .into_iter()
        .zip(field_texts(chunk))
        .enumerate()
    {
        let terms = analyze(a, &text);
        lengths[i] = terms.len() as u32;
        let mut tf: HashMap<String, u32> = HashMap::new();
        for t in terms {
            *tf.entry(t).or_default() += 1;
        }
        let mut tf: Vec<_> = tf.into_iter().collect();
        tf.sort();
        postings.extend(tf.into_iter().map(|(t, n)| (field, t, n)));
    }
    Analysed { postings, lengths }
}

/// `text` for PostgreSQL's `COPY ... FROM STDIN` text format (NUL, which PostgreSQL cannot
/// store, dropped).
fn copy_text(out: &mut Vec<u8>, text: &str) {
    for ch in text.chars() {
        match ch {
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\0' => {}
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

fn copy_opt(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(t) => copy_text(out, t),
        None => out.extend_from_slice(b"\\N"),
    }
}

/// The documents of `new` whose chunks the previous version already holds: same model,
/// settings and language, same content hash and chunk count.
fn reusable<'a>(previous: Option<&IndexMeta>, new: &'a IndexMeta) -> HashSet<&'a str> {
    let Some(prev) = previous.filter(|p| {
        p.model_id == new.model_id
            && p.dim == new.dim
            && p.settings == new.settings
            && p.language == new.language
    }) else {
        return HashSet::new();
    };
    let before: HashMap<&str, &DocumentEntry> = prev
        .documents
        .iter()
        .map(|d| (d.path.as_str(), d))
        .collect();
    new.documents
        .iter()
        .filter(|d| {
            before
                .get(d.path.as_str())
                .is_some_and(|p| p.content_hash == d.content_hash && p.chunks == d.chunks)
        })
        .map(|d| d.path.as_str())
        .collect()
}

impl PgIndex {
    /// Writes `index` (built in memory) to the database at `url` as a new version and makes
    /// it the current one, announced on [`super::CHANNEL`]. Documents unchanged since the
    /// current version keep their rows; the others are written. One transaction: a failure
    /// leaves the database as it was. Builds from several machines take turns. Afterwards,
    /// versions older than the one replaced are removed.
    pub fn publish(url: &str, index: &Index) -> Result<PgIndex, IndexError> {
        let pool = connect(url)?;
        let mut client = pool.get()?;
        let (new_version, replaced) = {
            let mut tx = client
                .transaction()
                .map_err(db_error("starting the build's transaction"))?;
            let written = write_version(&mut tx, index)?;
            tx.commit()
                .map_err(db_error("committing the new version"))?;
            written
        };
        if let Some(replaced) = replaced {
            remove_older(&mut client, replaced)?;
        }
        drop(client);
        let published = PgIndex::current(pool)?;
        debug_assert!(published.version >= new_version);
        Ok(published)
    }
}

/// Everything of one build inside `tx`; returns the new version and the one it replaces.
fn write_version(
    tx: &mut Transaction<'_>,
    index: &Index,
) -> Result<(i64, Option<i64>), IndexError> {
    let err = db_error;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&schema::LOCK])
        .map_err(err("waiting for another build to finish"))?;
    let previous = tx
        .query_opt(
            "SELECT v.version, v.meta::TEXT, v.body_avg, v.title_avg, v.codes_avg
             FROM raymundo_index_current c JOIN raymundo_index_versions v USING (version)",
            &[],
        )
        .map_err(err("reading the current version"))?;
    let newest: i64 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM raymundo_index_versions",
            &[],
        )
        .map_err(err("reading the versions"))?
        .get(0);
    let version = newest + 1;
    let meta = index.meta();
    let (prev_version, prev_meta, prev_avg) = match &previous {
        Some(row) => {
            let m: IndexMeta = serde_json::from_str(row.get(1)).map_err(|e| {
                IndexError::Database(format!("the current version's metadata: {e}"))
            })?;
            let avg: [f32; 3] = [row.get(2), row.get(3), row.get(4)];
            (Some(row.get::<_, i64>(0)), Some(m), Some(avg))
        }
        None => (None, None, None),
    };
    let keep = reusable(prev_meta.as_ref(), meta);
    if let Some(pv) = prev_version {
        let kept: Vec<&str> = keep.iter().copied().collect();
        tx.execute(
            "UPDATE raymundo_index_chunks SET last_version = $1
             WHERE last_version IS NULL AND NOT (doc = ANY($2))",
            &[&pv, &kept],
        )
        .map_err(err("retiring the changed documents"))?;
        tx.execute(
            "UPDATE raymundo_index_postings SET last_version = $1 WHERE chunk IN
             (SELECT id FROM raymundo_index_chunks WHERE last_version = $1)",
            &[&pv],
        )
        .map_err(err("retiring the changed documents' postings"))?;
    }

    // The new and changed documents' chunks.
    let new_rows: Vec<usize> = index
        .chunks()
        .iter()
        .enumerate()
        .filter(|(_, c)| !keep.contains(c.doc.as_str()))
        .map(|(i, _)| i)
        .collect();
    let ids: Vec<i64> = tx
        .query(
            "SELECT nextval('raymundo_index_chunk_ids') FROM generate_series(1, $1::BIGINT)",
            &[&(new_rows.len() as i64)],
        )
        .map_err(err("numbering the new chunks"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut a = analyzer(LexicalLanguage::from_code(&meta.language));
    let analysed: Vec<Analysed> = new_rows
        .iter()
        .map(|&i| analyse(&mut a, &index.chunks()[i]))
        .collect();
    // Impact orders each term's postings; the exact score is computed at search time.
    let averages = prev_avg.unwrap_or_else(|| {
        let n = analysed.len().max(1) as f32;
        let mut sums = [0f32; 3];
        for x in &analysed {
            for (s, l) in sums.iter_mut().zip(x.lengths) {
                *s += l as f32;
            }
        }
        sums.map(|s| (s / n).max(1.0))
    });

    let mut chunks_copy = tx
        .copy_in(
            "COPY raymundo_index_chunks (id, first_version, last_version, doc, position, source,
             intent, title, section, text, tokens, body_len, title_len, codes_len, dim, embedding)
             FROM STDIN",
        )
        .map_err(err("writing the chunks"))?;
    let mut line = Vec::new();
    for ((&row, id), x) in new_rows.iter().zip(&ids).zip(&analysed) {
        let c = &index.chunks()[row];
        line.clear();
        write!(line, "{id}\t{version}\t\\N\t").ok();
        copy_text(&mut line, &c.doc);
        write!(line, "\t{}\t", c.position).ok();
        copy_text(&mut line, &c.source);
        line.push(b'\t');
        copy_opt(&mut line, c.intent.as_deref());
        line.push(b'\t');
        copy_text(&mut line, &c.title);
        line.push(b'\t');
        copy_opt(&mut line, c.section.as_deref());
        line.push(b'\t');
        copy_text(&mut line, &c.text);
        let [b, t, k] = x.lengths;
        writeln!(
            line,
            "\t{}\t{b}\t{t}\t{k}\t{}\t{}",
            c.tokens,
            meta.dim,
            vector::text(index.vector(row))
        )
        .ok();
        chunks_copy
            .write_all(&line)
            .map_err(|e| IndexError::Database(format!("writing the chunks: {e}")))?;
    }
    chunks_copy.finish().map_err(err("writing the chunks"))?;

    let mut postings_copy = tx
        .copy_in(
            "COPY raymundo_index_postings (term, chunk, tf, len, impact, first_version)
             FROM STDIN",
        )
        .map_err(err("writing the postings"))?;
    for (id, x) in ids.iter().zip(&analysed) {
        line.clear();
        for (field, term, tf) in &x.postings {
            let f = TextField::ALL.iter().position(|g| g == field).unwrap_or(0);
            let len = quantised(x.lengths[f]);
            let impact = tf_factor(*tf as f32, len as f32, averages[f]);
            copy_text(&mut line, &posting_term(*field, term));
            writeln!(line, "\t{id}\t{tf}\t{len}\t{impact}\t{version}").ok();
        }
        postings_copy
            .write_all(&line)
            .map_err(|e| IndexError::Database(format!("writing the postings: {e}")))?;
    }
    postings_copy
        .finish()
        .map_err(err("writing the postings"))?;
    schema::ensure_hnsw(tx, meta.dim).map_err(err("indexing the vectors"))?;

    // Document frequencies: the previous version's, minus the retired chunks', plus the
    // new chunks'.
    tx.execute(
        "INSERT INTO raymundo_index_terms (version, term, df)
         SELECT $1, term, sum(d)::INTEGER FROM (
             SELECT term, df AS d FROM raymundo_index_terms WHERE version = $2
             UNION ALL
             SELECT p.term, -1 FROM raymundo_index_postings p
             WHERE p.chunk IN (SELECT id FROM raymundo_index_chunks WHERE last_version = $2)
             UNION ALL
             SELECT p.term, 1 FROM raymundo_index_postings p
             WHERE p.chunk IN (SELECT id FROM raymundo_index_chunks WHERE first_version = $1)
         ) d GROUP BY term HAVING sum(d) > 0",
        &[&version, &prev_version.unwrap_or(0)],
    )
    .map_err(err("counting the terms"))?;
    let stats = tx
        .query_one(
            &format!(
                "SELECT count(*), coalesce(sum(body_len), 0)::BIGINT,
                 coalesce(sum(title_len), 0)::BIGINT, coalesce(sum(codes_len), 0)::BIGINT
                 FROM raymundo_index_chunks c WHERE {}",
                visible("c", 1)
            ),
            &[&version],
        )
        .map_err(err("counting the chunks"))?;
    let n: i64 = stats.get(0);
    if n as usize != index.len() {
        return Err(IndexError::Database(format!(
            "the new version has {n} chunks, the index being written {}",
            index.len()
        )));
    }
    let avg = |i: usize| stats.get::<_, i64>(i) as f32 / (n.max(1) as f32);
    let mut stored = meta.clone();
    stored.lexical = None;
    let json = serde_json::to_string(&stored)
        .map_err(|e| IndexError::Invalid(format!("the index metadata: {e}")))?;
    tx.execute(
        "INSERT INTO raymundo_index_versions (version, meta, chunks, body_avg, title_avg, codes_avg)
         VALUES ($1, $2::TEXT::JSONB, $3, $4, $5, $6)",
        &[&version, &json, &n, &avg(1), &avg(2), &avg(3)],
    )
    .map_err(err("recording the version"))?;
    tx.execute(
        "INSERT INTO raymundo_index_current (one, version) VALUES (TRUE, $1)
         ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version",
        &[&version],
    )
    .map_err(err("switching to the new version"))?;
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&schema::CHANNEL, &version.to_string()],
    )
    .map_err(err("announcing the new version"))?;
    Ok((version, prev_version))
}

/// Removes the versions before `replaced` (the one just superseded stays for servers that
/// have not moved yet), with their chunks, postings and term counts.
fn remove_older(client: &mut postgres::Client, replaced: i64) -> Result<(), IndexError> {
    let err = db_error("removing old versions");
    let mut tx = client.transaction().map_err(&err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&schema::LOCK])
        .map_err(&err)?;
    tx.execute(
        "DELETE FROM raymundo_index_postings WHERE chunk IN
         (SELECT id FROM raymundo_index_chunks WHERE last_version < $1)",
        &[&replaced],
    )
    .map_err(&err)?;
    tx.execute(
        "DELETE FROM raymundo_index_chunks WHERE last_version < $1",
        &[&replaced],
    )
    .map_err(&err)?;
    tx.execute(
        "DELETE FROM raymundo_index_terms WHERE version < $1",
        &[&replaced],
    )
    .map_err(&err)?;
    tx.execute(
        "DELETE FROM raymundo_index_versions WHERE version < $1",
        &[&replaced],
    )
    .map_err(&err)?;
    tx.commit().map_err(&err)
}
