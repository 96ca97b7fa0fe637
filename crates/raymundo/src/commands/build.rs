//! `raymundo build`: documents -> normalised, scrubbed chunks -> vectors -> index.

use crate::project::{
    load_config, load_files, model_files, model_for_language, pinned_model, split_model_id,
};
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use raymundo_core::{Chunk, Config, Embedder, IndexBackend};
use raymundo_index::{DocumentEntry, Index, IndexBuilder, IndexError, PgIndex};
use raymundo_ingest::{IngestError, LoadOptions, PiiAllowlist, PiiCounts};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Flags of `build`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rebuild every document, ignoring the previous index.
    #[arg(long)]
    full: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// Bumped whenever the chunker's output changes, so old indexes are rebuilt in full.
const CHUNKER_VERSION: &str = "chunker-2";

/// What a build did.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Embedding model id the index holds.
    pub model: String,
    /// Documents in the index.
    pub documents: usize,
    /// Documents loaded and embedded in this run.
    pub documents_embedded: usize,
    /// Documents reused unchanged from the previous index.
    pub documents_unchanged: usize,
    /// Documents of the previous index whose file is gone.
    pub documents_removed: usize,
    /// Chunks in the index.
    pub chunks: usize,
    /// Chunks embedded in this run.
    pub chunks_embedded: usize,
    /// Files skipped, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Personal data replaced, by kind.
    pub pii: BTreeMap<String, usize>,
    /// Seconds per stage.
    pub seconds: BTreeMap<&'static str, f64>,
    /// Whether the index has an approximate-search (HNSW) graph.
    pub ann: bool,
    /// The scope guard and fusion weight chosen on the documents (`None`: too few
    /// documents to choose from; the model's defaults apply).
    pub calibration: Option<raymundo_index::Calibration>,
    /// Whether the calibration was carried over from the previous build (same documents).
    pub calibration_reused: bool,
    /// The version written to PostgreSQL (`[index] backend = "postgres"`), now current.
    pub postgres_version: Option<i64>,
}

fn settings_fingerprint(config: &Config, model_id: &str) -> String {
    let c = &config.chunking;
    // The company's e-mail domains decide which parts of a thread are quoted.
    let company = raymundo_ingest::company_domains(&config.pii.allow).join(",");
    format!(
        "{CHUNKER_VERSION};{model_id};min={};max={};overlap={};company={company}",
        c.min_tokens, c.max_tokens, c.overlap_tokens
    )
}

fn bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {wide_msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_prefix(what.to_string());
    pb
}

/// Builds (incrementally unless `full`) the index of the project at `root`.
pub fn build_project(root: &Path, full: bool, quiet: bool) -> Result<Summary> {
    let config = load_config(root)?;
    let docs_dir = config.docs_dir();
    if !docs_dir.is_dir() {
        bail!(
            "no documents folder at {} (run `raymundo init` and add documents)",
            docs_dir.display()
        );
    }
    let mut summary = Summary::default();
    let mut timer = Instant::now();
    let mut lap = |summary: &mut Summary, stage: &'static str| {
        let d: Duration = timer.elapsed();
        *summary.seconds.entry(stage).or_default() += d.as_secs_f64();
        timer = Instant::now();
    };

    // 1. Scan and hash.
    let files = raymundo_ingest::list_files(&docs_dir)?;
    // With the index in PostgreSQL, the previous build is the database's current version,
    // whichever machine wrote it.
    let pg_url = match config.index.backend {
        IndexBackend::Postgres => Some(crate::retriever::index_url(root, &config)?),
        IndexBackend::File => None,
    };
    let previous = match (&pg_url, full) {
        (_, true) => None,
        (Some(url), false) => match PgIndex::open(url, None) {
            Ok(current) => Some(current.to_index()?),
            Err(IndexError::NoVersion) => None,
            Err(e) => return Err(e).context("opening the index in PostgreSQL"),
        },
        (None, false) => Index::load(&config.index_dir(), None).ok(),
    };
    let mut hashes = Vec::with_capacity(files.len());
    for (rel, abs) in &files {
        hashes.push(raymundo_ingest::hash_file(abs).with_context(|| format!("hashing {rel}"))?);
    }
    lap(&mut summary, "scan");

    // 2. The model: pinned, kept from the previous index, or (auto, first build) chosen
    //    below by the documents' language.
    let prev_model = previous
        .as_ref()
        .map(|p| split_model_id(&p.meta().model_id));
    let known_spec = pinned_model(&config)
        .or_else(|| prev_model.and_then(|(name, _)| raymundo_embed::spec_by_name(name)));
    let prev_origin = prev_model
        .and_then(|(_, origin)| origin)
        .map(str::to_string);
    // Only the files are located here; the weights are loaded once there is text to embed.
    let known_files = match known_spec {
        Some(spec) => Some(model_files(spec, prev_origin.as_deref())?),
        None => None,
    };

    // 3. What can be reused: documents whose bytes are unchanged, if the model and the
    //    chunking settings are the same as last time.
    let reuse = match (&known_files, &previous) {
        (Some(f), Some(p)) if p.meta().settings == settings_fingerprint(&config, &f.model_id()) => {
            Some(p)
        }
        _ => None,
    };
    let prev_docs = reuse
        .map(raymundo_index::documents_by_path)
        .unwrap_or_default();
    let mut to_load = Vec::new();
    let mut unchanged = std::collections::HashSet::new();
    for ((rel, abs), hash) in files.iter().zip(&hashes) {
        match prev_docs.get(rel.as_str()) {
            Some(d) if &d.content_hash == hash => {
                unchanged.insert(rel.as_str());
            }
            _ => to_load.push((rel, abs, hash)),
        }
    }

    // 4. Load, normalise and scrub the new or changed documents.
    let options = LoadOptions {
        pii_allowlist: PiiAllowlist::new(&config.pii.allow),
        company_domains: raymundo_ingest::company_domains(&config.pii.allow),
    };
    let pb = bar(to_load.len() as u64, "reading", quiet || to_load.is_empty());
    let mut loaded = Vec::new();
    let mut pii = PiiCounts::default();
    for (rel, abs, hash) in to_load {
        pb.set_message(rel.clone());
        match raymundo_ingest::load_document_with(&docs_dir, rel, abs, &options) {
            Ok(mut doc) => {
                doc.document.content_hash = hash.clone();
                pii.merge(&doc.pii);
                loaded.push(doc.document);
            }
            Err(IngestError::Skipped { reason, .. }) => summary.skipped.push((rel.clone(), reason)),
            Err(e) => summary.skipped.push((rel.clone(), e.to_string())),
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    summary.pii = pii
        .0
        .iter()
        .map(|(k, v)| (k.placeholder().to_string(), *v))
        .collect();
    lap(&mut summary, "read");

    let model = match known_files {
        Some(f) => f,
        None => {
            let sample: String = loaded
                .iter()
                .take(50)
                .map(|d| d.text.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            model_files(
                model_for_language(raymundo_ingest::detect_language(&sample)),
                None,
            )?
        }
    };
    let model_id = model.model_id();
    let settings = settings_fingerprint(&config, &model_id);
    let embedder = match loaded.is_empty() {
        true => None,
        false => Some(load_files(&model, &config.embedding)?),
    };
    lap(&mut summary, "model");

    // 5. Chunk by the model's tokens.
    let mut chunked: Vec<(DocumentEntry, Vec<Chunk>)> = Vec::new();
    // `embedder` is loaded exactly when some document was.
    if let Some(embedder) = &embedder {
        for doc in &loaded {
            let chunks = raymundo_ingest::chunk_document(doc, embedder.as_ref(), &config.chunking);
            if chunks.is_empty() {
                summary
                    .skipped
                    .push((doc.path.clone(), "no text left after normalisation".into()));
                continue;
            }
            let entry = DocumentEntry {
                path: doc.path.clone(),
                content_hash: doc.content_hash.clone(),
                source: doc.source.clone(),
                title: doc.title.clone(),
                chunks: chunks.len(),
            };
            chunked.push((entry, chunks));
        }
    }
    lap(&mut summary, "chunk");

    // 6. Embed, in batches, with progress.
    let total: usize = chunked.iter().map(|(_, c)| c.len()).sum();
    let pb = bar(total as u64, "embedding", quiet || total == 0);
    let mut embedded: Vec<(DocumentEntry, Vec<Chunk>, Vec<f32>)> = Vec::new();
    let step = config.embedding.batch_size * 4;
    let all_texts: Vec<&str> = chunked
        .iter()
        .flat_map(|(_, c)| c.iter().map(|c| c.text.as_str()))
        .collect();
    let dim = model.spec.dim;
    let mut vectors: Vec<f32> = Vec::with_capacity(total * dim);
    if let Some(embedder) = &embedder {
        for batch in all_texts.chunks(step.max(1)) {
            for v in embedder.embed_passages(batch)? {
                vectors.extend(v);
            }
            pb.inc(batch.len() as u64);
        }
    }
    pb.finish_and_clear();
    let mut offset = 0;
    for (entry, chunks) in chunked {
        let n = chunks.len() * dim;
        embedded.push((entry, chunks, vectors[offset..offset + n].to_vec()));
        offset += n;
    }
    summary.chunks_embedded = total;
    summary.documents_embedded = embedded.len();
    lap(&mut summary, "embed");

    // 7. Assemble: reused and new documents in path order; removed ones simply left out.
    let mut builder = IndexBuilder::new(&model_id, dim, &settings);
    let mut new_by_path: BTreeMap<String, (DocumentEntry, Vec<Chunk>, Vec<f32>)> = embedded
        .into_iter()
        .map(|e| (e.0.path.clone(), e))
        .collect();
    for (rel, _) in &files {
        if let Some((entry, chunks, vectors)) = new_by_path.remove(rel) {
            builder.add_document(entry, chunks, vectors)?;
        } else if let (Some(prev), true) = (reuse, unchanged.contains(rel.as_str())) {
            if let (Some(entry), Some((chunks, vectors))) =
                (prev_docs.get(rel.as_str()), prev.document_parts(rel))
            {
                builder.add_document((*entry).clone(), chunks, vectors)?;
                summary.documents_unchanged += 1;
            }
        }
    }
    let mut index = builder.finish();
    // The BM25 analysis follows the documents' main language.
    let sample: String = index
        .chunks()
        .iter()
        .step_by((index.len() / 200).max(1))
        .map(|c| c.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    index.set_language(match raymundo_ingest::detect_language(&sample) {
        "en" => "en",
        _ => "es",
    });
    let on_disk: std::collections::HashSet<&str> =
        files.iter().map(|(rel, _)| rel.as_str()).collect();
    summary.documents_removed = previous.as_ref().map_or(0, |p| {
        p.meta()
            .documents
            .iter()
            .filter(|d| !on_disk.contains(d.path.as_str()))
            .count()
    });
    summary.documents = index.meta().documents.len();
    summary.chunks = index.len();
    summary.model = model_id;
    lap(&mut summary, "assemble");
    // Large indexes get an approximate-search graph (reused when no chunk changed); in
    // PostgreSQL, pgvector's HNSW index is that graph.
    if pg_url.is_none() && index.len() >= config.retrieval.ann_threshold {
        index.build_ann(&raymundo_index::HnswParams::default(), previous.as_ref());
        summary.ann = true;
        lap(&mut summary, "graph");
    }
    index.save(&config.index_dir(), previous.as_ref())?;
    lap(&mut summary, "write");

    // 8. Self-calibration on the documents: kept when they are the same as last time.
    let same_documents = reuse.is_some_and(|p| p.meta().documents == index.meta().documents);
    let carried = reuse
        .filter(|_| same_documents)
        .and_then(|p| p.meta().calibration.clone());
    let calibration = match carried {
        Some(c) => {
            summary.calibration_reused = true;
            Some(c)
        }
        None if index.is_empty() => None,
        None => {
            let embedder = match embedder {
                Some(e) => e,
                None => load_files(&model, &config.embedding)?,
            };
            crate::calibrate::calibrate(&index, &embedder, &config.retrieval)?
        }
    };
    if let Some(c) = &calibration {
        index.save_calibration(c.clone())?;
    }
    summary.calibration = calibration;
    lap(&mut summary, "calibrate");
    if let Some(url) = &pg_url {
        let published = PgIndex::publish(url, &index).context("writing the index to PostgreSQL")?;
        summary.postgres_version = Some(published.version());
        lap(&mut summary, "publish");
    }
    Ok(summary)
}

/// Runs `build` and prints the summary.
pub fn run(root: &Path, args: Args) -> Result<()> {
    let t = Instant::now();
    let summary = build_project(root, args.full, args.json)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    print_summary(&summary, t.elapsed());
    Ok(())
}

/// Prints a build summary for a person.
pub fn print_summary(s: &Summary, elapsed: Duration) {
    println!(
        "Index built with {} in {:.1} s",
        s.model,
        elapsed.as_secs_f64()
    );
    println!(
        "  documents: {} ({} embedded, {} unchanged, {} removed)",
        s.documents, s.documents_embedded, s.documents_unchanged, s.documents_removed
    );
    let embed_s = s.seconds.get("embed").copied().unwrap_or(0.0);
    let rate = if embed_s > 0.0 {
        s.chunks_embedded as f64 / embed_s
    } else {
        0.0
    };
    println!(
        "  chunks:    {} ({} embedded, {:.1} chunks/s)",
        s.chunks, s.chunks_embedded, rate
    );
    if s.pii.is_empty() {
        println!("  personal data replaced: none");
    } else {
        let parts: Vec<String> = s.pii.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  personal data replaced: {}", parts.join(", "));
    }
    if !s.skipped.is_empty() {
        println!("  skipped {} file(s):", s.skipped.len());
        for (path, reason) in &s.skipped {
            println!("    {path}: {reason}");
        }
    }
    match &s.calibration {
        Some(c) => println!(
            "  calibrated{}: {}",
            if s.calibration_reused {
                " (same documents as last build)"
            } else {
                ""
            },
            crate::calibrate::describe(c)
        ),
        None => println!("  calibrated: no (too few documents); the model's defaults apply"),
    }
    if let Some(v) = s.postgres_version {
        println!("  PostgreSQL: version {v} is current (servers reload it)");
    }
    let stages: Vec<String> = s
        .seconds
        .iter()
        .map(|(k, v)| format!("{k} {v:.2}s"))
        .collect();
    println!("  time per stage: {}", stages.join(", "));
}
