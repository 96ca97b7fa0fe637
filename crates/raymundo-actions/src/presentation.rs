//! `crear_presentacion`: a `.pptx` about `tema` with `num_diapos` content slides whose bullet
//! points come from the company documents retrieved for the topic, the sources on a last
//! slide, and (with `incluir_imagenes`) the pictures those documents carry, or a placeholder
//! that says none was found.

use crate::{io, ActionError, ActionRunner, Knowledge, Outcome, Request};
use raymundo_core::{Hit, SourceRef};
use raymundo_pptx::{Picture, Slide};
use std::path::{Path, PathBuf};

/// Bullet points per content slide.
const BULLETS_PER_SLIDE: usize = 4;
/// Longest bullet point (characters); longer sentences are cut at a word.
const MAX_BULLET: usize = 180;
/// Slides when the request does not say.
const DEFAULT_SLIDES: usize = 5;
/// Most content slides.
const MAX_SLIDES: usize = 30;

/// Builds presentations into `output_dir`.
#[derive(Debug, Clone)]
pub struct Presentation {
    output_dir: PathBuf,
    sources_heading: String,
}

/// The material for one slide: a heading and its sentences, from one document.
struct Section {
    title: String,
    doc: String,
    sentences: Vec<String>,
}

impl Presentation {
    /// Presentations written to `output_dir`, sources listed under `sources_heading`.
    pub fn new(output_dir: &Path, sources_heading: &str) -> Self {
        Self {
            output_dir: output_dir.to_path_buf(),
            sources_heading: sources_heading.to_string(),
        }
    }
}

/// A sentence made fit for a bullet: markdown marks and list markers removed, cut at a word.
fn bullet(sentence: &str) -> Option<String> {
    let s = sentence
        .trim()
        .trim_start_matches(['-', '*', '#', '>', '•', ' '])
        .replace("**", "")
        .replace('`', "")
        .replace('|', " ");
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let letters = s.chars().filter(|c| c.is_alphabetic()).count();
    if s.chars().count() < 20 || letters * 2 < s.chars().count() {
        return None;
    }
    // Lines such as `De: ...` or `Asunto: ...` of an e-mail are headers, not content.
    if let Some((head, _)) = s.split_once(':') {
        if head.split_whitespace().count() == 1 && head.chars().count() < 12 {
            return None;
        }
    }
    if s.chars().count() <= MAX_BULLET {
        return Some(s);
    }
    let cut: String = s.chars().take(MAX_BULLET).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a);
    Some(format!("{}…", cut.trim_end_matches([',', ';', ':', ' '])))
}

/// Groups the passages by document section, best first, each with its usable sentences.
fn sections(hits: &[Hit]) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for hit in hits {
        let c = &hit.chunk;
        let title = c
            .section
            .as_deref()
            .map(|s| s.rsplit(" > ").next().unwrap_or(s))
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(&c.title)
            .trim()
            .to_string();
        // Headings repeat the slide's title: a short line without final punctuation, or
        // the document's or section's own name, is not a bullet.
        let mut headings: Vec<String> = vec![c.title.to_lowercase(), title.to_lowercase()];
        if let Some(sec) = &c.section {
            headings.extend(sec.split(" > ").map(|s| s.trim().to_lowercase()));
        }
        let sentences: Vec<String> = raymundo_core::text::split_sentences(&c.text)
            .into_iter()
            .filter_map(bullet)
            .filter(|s| {
                let heading_like = !s.ends_with(['.', '!', '?', '…', ':', ')'])
                    && s.split_whitespace().count() < 7;
                !heading_like && !headings.contains(&s.to_lowercase())
            })
            .filter(|s| seen.insert(s.to_lowercase()))
            .collect();
        if sentences.is_empty() {
            continue;
        }
        match out.iter_mut().find(|s| s.doc == c.doc && s.title == title) {
            Some(s) => s.sentences.extend(sentences),
            None => out.push(Section {
                title,
                doc: c.doc.clone(),
                sentences,
            }),
        }
    }
    out
}

/// Exactly `n` slides when the material allows: the best sections first; when there are
/// fewer sections than slides, long sections continue on further slides.
fn plan(sections: Vec<Section>, n: usize) -> Vec<(String, String, Vec<String>)> {
    let mut parts: Vec<Vec<(String, String, Vec<String>)>> = sections
        .into_iter()
        .take(n)
        .map(|s| {
            let chunks: Vec<Vec<String>> = s
                .sentences
                .chunks(BULLETS_PER_SLIDE)
                .map(<[String]>::to_vec)
                .collect();
            chunks
                .into_iter()
                .map(|b| (s.title.clone(), s.doc.clone(), b))
                .collect()
        })
        .collect();
    // Every section keeps its first slide; continuation slides are added round robin.
    let mut slides: Vec<Vec<(String, String, Vec<String>)>> =
        parts.iter_mut().map(|p| vec![p.remove(0)]).collect();
    let mut total = slides.len();
    let mut progressed = true;
    while total < n && progressed {
        progressed = false;
        for (i, p) in parts.iter_mut().enumerate() {
            if total < n && !p.is_empty() {
                let (title, doc, bullets) = p.remove(0);
                let k = slides[i].len() + 1;
                slides[i].push((format!("{title} ({k})"), doc, bullets));
                total += 1;
                progressed = true;
            }
        }
    }
    slides.into_iter().flatten().collect()
}

fn slug(text: &str) -> String {
    let folded = raymundo_core::text::fold(text);
    let mut s = String::new();
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
        if s.len() >= 48 {
            break;
        }
    }
    let s = s.trim_end_matches('-').to_string();
    if s.is_empty() {
        "presentacion".into()
    } else {
        s
    }
}

/// A file name in `dir` that does not exist yet.
fn fresh_path(dir: &Path, stem: &str) -> PathBuf {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let mut path = dir.join(format!("{stem}-{stamp}.pptx"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{stamp}-{n}.pptx"));
        n += 1;
    }
    path
}

impl ActionRunner for Presentation {
    fn run(&self, request: &Request, knowledge: &dyn Knowledge) -> Result<Outcome, ActionError> {
        let topic = request
            .text("tema")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or(request.message)
            .to_string();
        let wanted = request
            .integer("num_diapos")
            .map_or(DEFAULT_SLIDES, |n| n.clamp(1, MAX_SLIDES as i64) as usize);
        let with_images = request.boolean("incluir_imagenes").unwrap_or(false);
        let (hits, in_scope) = knowledge.passages(&topic, (wanted * 2).max(8))?;
        let planned = plan(sections(&hits), wanted);
        if !in_scope || planned.is_empty() {
            return Ok(Outcome {
                text: format!(
                    "No encontré información sobre «{topic}» en los documentos de la empresa, \
                     así que no armé la presentación. ¿Quieres intentarlo con otro tema?"
                ),
                action: "crear_presentacion".into(),
                ..Outcome::default()
            });
        }
        // The pictures of each document used, taken in slide order.
        let mut pictures: Vec<(String, Vec<Picture>)> = Vec::new();
        if with_images {
            for (_, doc, _) in &planned {
                if !pictures.iter().any(|(d, _)| d == doc) {
                    let found = raymundo_pptx::images_in_document(&knowledge.document_path(doc), 4);
                    pictures.push((doc.clone(), found));
                }
            }
        }
        let mut slides = Vec::with_capacity(planned.len());
        let mut docs: Vec<String> = Vec::new();
        let mut used: Vec<String> = Vec::new();
        for (title, doc, bullets) in &planned {
            let mut slide = Slide::new(title.clone(), bullets.clone());
            if with_images {
                let own = pictures.iter_mut().find(|(d, _)| d == doc);
                let had_some = used.contains(doc);
                match own.and_then(|(_, p)| (!p.is_empty()).then(|| p.remove(0))) {
                    Some(p) => {
                        slide.image = Some(p);
                        used.push(doc.clone());
                    }
                    None if had_some => {
                        slide.placeholder = Some(format!(
                            "{doc} no trae otra imagen. Agrega aquí una imagen de «{title}»."
                        ))
                    }
                    None => {
                        slide.placeholder = Some(format!(
                        "Sin imagen: {doc} no trae imágenes. Agrega aquí una imagen de «{title}»."
                    ))
                    }
                }
            }
            if !docs.contains(doc) {
                docs.push(doc.clone());
            }
            slides.push(slide);
        }
        let mut deck = raymundo_pptx::Presentation::new(raymundo_core::text::capitalise(&topic));
        deck.subtitle = Some(format!(
            "Preparada por Raymundo con los documentos de la empresa · {}",
            chrono::Local::now().format("%d/%m/%Y")
        ));
        deck.slides = slides;
        deck.sources_title = self.sources_heading.clone();
        deck.sources = docs
            .iter()
            .map(|d| {
                let title = hits
                    .iter()
                    .find(|h| &h.chunk.doc == d)
                    .map(|h| h.chunk.title.clone())
                    .unwrap_or_default();
                if title.is_empty() {
                    d.clone()
                } else {
                    format!("{title} ({d})")
                }
            })
            .collect();
        std::fs::create_dir_all(&self.output_dir).map_err(io(&self.output_dir))?;
        let path = fresh_path(&self.output_dir, &format!("presentacion-{}", slug(&topic)));
        let written = raymundo_pptx::write(&deck, &path)?;
        let content = deck.slides.len();
        let images = match (with_images, written.images) {
            (false, _) => String::new(),
            (true, 0) => {
                ", sin imágenes porque los documentos no traen (dejé un recuadro para agregarlas)"
                    .into()
            }
            (true, 1) => ", con 1 imagen de los documentos".into(),
            (true, k) => format!(", con {k} imágenes de los documentos"),
        };
        let short = if content < wanted {
            format!(
                " Pediste {wanted} diapositivas de contenido, pero los documentos solo dan material para {content}."
            )
        } else {
            String::new()
        };
        let text = format!(
            "Listo: creé la presentación «{}» con portada, {content} diapositivas de contenido{images} \
             y una de fuentes ({} en total). Está en {}.{short} Se basa en: {}.",
            topic,
            written.slides,
            written.path.display(),
            docs.join(", ")
        );
        let sources = docs
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                let h = hits.iter().find(|h| &h.chunk.doc == d)?;
                Some(SourceRef {
                    number: i + 1,
                    doc: d.clone(),
                    title: h.chunk.title.clone(),
                    source: h.chunk.source.clone(),
                    position: h.chunk.position,
                    score: h.dense,
                })
            })
            .collect();
        Ok(Outcome {
            text,
            action: "crear_presentacion".into(),
            files: vec![written.path],
            sources,
            ..Outcome::default()
        })
    }
}
