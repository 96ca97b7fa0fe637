//! Presentations: a small writer of Office Open XML decks (`.pptx`) and the pictures that
//! source documents carry.
//!
//! The action `crear_presentacion` fills a [`Presentation`] (a title, content [`Slide`]s with
//! bullet points drawn from retrieved documents, the list of sources) and calls [`write()`]. The
//! package is written by hand, part by part, with no template file and no XML library: a title
//! slide, one slide per [`Slide`] and, when there are sources, a sources slide closing the deck,
//! all 16:9, over one slide master with two layouts ("Title Slide", "Title and Content") and
//! one theme. Text goes into the layouts' placeholders, so the outline, the slide titles and
//! the bullet style behave as in a deck made by hand. A slide with a [`Picture`] keeps its text
//! on the left and shows the picture on the right, scaled to fit with its aspect ratio; a slide
//! with a placeholder text instead draws a dashed box there. Speaker notes add a notes master
//! and notes slides. The files open in LibreOffice Impress and PowerPoint.
//!
//! Text is cleaned rather than refused: whitespace runs and line breaks become one space,
//! characters XML cannot carry are dropped, titles and bullets that are too long are cut at a
//! word ([`MAX_TITLE_CHARS`], [`MAX_BULLET_CHARS`]), a slide keeps at most
//! [`MAX_BULLETS_PER_SLIDE`] bullets and the font size is chosen from an estimate of how much
//! text the box holds, never below 14 pt for bullets (the text bodies carry `normAutofit`, so
//! the application shrinks text that still overflows). Sources
//! beyond [`MAX_SOURCES_PER_SLIDE`] continue on another sources slide. What is refused is what
//! would make a meaningless deck: an empty title, and a picture whose bytes are not the image
//! format it claims ([`PptxError`]).
//!
//! [`write()`] is atomic: the package is built in memory, written to a temporary file in the
//! destination directory, flushed, then renamed over the destination. A failure leaves any
//! previous file untouched and no temporary file behind.
//!
//! [`images_in_document`] is the other half: the PNG and JPEG pictures a source document
//! embeds (DOCX, PPTX, XLSX, ODF, PDF) or references (Markdown, HTML), so a slide can show the
//! chart of the document its bullets came from.
//!
//! ```no_run
//! use raymundo_pptx::{images_in_document, write, Presentation, Slide};
//! use std::path::Path;
//!
//! let mut deck = Presentation::new("Política de viáticos");
//! deck.subtitle = Some("Resumen para el equipo de ventas".into());
//! let mut slide = Slide::new("Montos diarios", ["Hospedaje: hasta $2,000", "Comidas: hasta $600"]);
//! slide.image = images_in_document(Path::new("docs/viaticos.docx"), 1).into_iter().next();
//! if slide.image.is_none() {
//!     slide.placeholder = Some("Sin imagen en las fuentes".into());
//! }
//! deck.slides.push(slide);
//! deck.sources = vec!["docs/viaticos.docx".into()];
//! let written = write(&deck, Path::new("viaticos.pptx"))?;
//! assert_eq!(written.slides, 3);
//! # Ok::<(), raymundo_pptx::PptxError>(())
//! ```

mod collect;
mod error;
mod model;
mod parts;
mod picture;
mod writer;
mod xml;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use collect::{images_in_document, MIN_PICTURE_SIDE};
pub use error::PptxError;
pub use model::{
    Presentation, Slide, Written, MAX_BULLETS_PER_SLIDE, MAX_BULLET_CHARS, MAX_SOURCES_PER_SLIDE,
    MAX_SOURCE_CHARS, MAX_TITLE_CHARS,
};
pub use picture::{ImageFormat, Picture};

/// Width of a slide in EMU (English Metric Units, 914400 per inch): 13.333 inches, 16:9.
pub const SLIDE_WIDTH_EMU: i64 = writer::SLIDE_WIDTH;
/// Height of a slide in EMU: 7.5 inches.
pub const SLIDE_HEIGHT_EMU: i64 = writer::SLIDE_HEIGHT;

/// Builds the `.pptx` package in memory.
///
/// # Errors
/// [`PptxError::EmptyTitle`], [`PptxError::EmptySlideTitle`], [`PptxError::InvalidImage`], or
/// [`PptxError::Package`] if the zip writer fails.
pub fn to_bytes(p: &Presentation) -> Result<Vec<u8>, PptxError> {
    writer::build(p).map(|(bytes, _)| bytes)
}

/// Writes the presentation to `path` atomically (temporary file in the same directory, then a
/// rename) and reports what was written.
///
/// An existing file at `path` is replaced only once the new one is complete, and keeps its
/// permissions.
///
/// # Errors
/// The errors of [`to_bytes`] (checked before anything touches the disk), or
/// [`PptxError::Io`] naming `path` when the directory does not exist or is not writable.
pub fn write(p: &Presentation, path: &Path) -> Result<Written, PptxError> {
    writer::write(p, path)
}
