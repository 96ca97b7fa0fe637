//! What a presentation says: the types callers fill in.

use crate::Picture;

/// Content slides show at most this many bullets; the rest are dropped.
pub const MAX_BULLETS_PER_SLIDE: usize = 8;
/// Bullets longer than this many characters are cut at a word and end with "…".
pub const MAX_BULLET_CHARS: usize = 250;
/// Titles longer than this many characters are cut at a word and end with "…".
pub const MAX_TITLE_CHARS: usize = 120;
/// A sources slide lists at most this many sources; more continue on further sources slides.
pub const MAX_SOURCES_PER_SLIDE: usize = 10;
/// Each source line is cut to this many characters.
pub const MAX_SOURCE_CHARS: usize = 200;

/// A whole deck: the title slide, the content slides and, last, the sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    /// Title of the deck, shown on the title slide and stored in the document properties.
    pub title: String,
    /// Line under the title on the title slide (for example the date or "Preparado por Raymundo").
    pub subtitle: Option<String>,
    /// The content slides, in order.
    pub slides: Vec<Slide>,
    /// Title of the sources slide, for example "Fuentes".
    pub sources_title: String,
    /// One line per source document; when non-empty, sources slides close the deck.
    pub sources: Vec<String>,
    /// Language tag of the text (BCP 47, for example "es-MX"), used by spell checkers.
    pub language: String,
}

impl Presentation {
    /// A deck with a title, no slides, no sources, sources titled "Fuentes", language "es-MX".
    pub fn new(title: impl Into<String>) -> Presentation {
        Presentation {
            title: title.into(),
            subtitle: None,
            slides: Vec::new(),
            sources_title: "Fuentes".to_string(),
            sources: Vec::new(),
            language: "es-MX".to_string(),
        }
    }
}

/// One content slide: a title and a bulleted list, optionally with a picture on the right.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slide {
    /// Title of the slide.
    pub title: String,
    /// The bullet points, one line each (line breaks inside are turned into spaces).
    pub bullets: Vec<String>,
    /// A picture shown to the right of the text, scaled to fit keeping its aspect ratio.
    pub image: Option<Picture>,
    /// When there is no `image`: draw a bordered box in the picture's place with this text
    /// (for example "Sin imagen disponible en las fuentes"). Ignored when `image` is set.
    pub placeholder: Option<String>,
    /// Speaker notes; one paragraph per line.
    pub notes: Option<String>,
}

impl Slide {
    /// A slide with a title and bullets, no picture, no notes.
    pub fn new<S: Into<String>>(
        title: impl Into<String>,
        bullets: impl IntoIterator<Item = S>,
    ) -> Slide {
        Slide {
            title: title.into(),
            bullets: bullets.into_iter().map(Into::into).collect(),
            ..Slide::default()
        }
    }
}

/// What [`crate::write()`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file written.
    pub path: std::path::PathBuf,
    /// Number of slides, counting the title slide and the sources slides.
    pub slides: usize,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// Number of pictures placed on slides.
    pub images: usize,
}
