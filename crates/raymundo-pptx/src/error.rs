//! The crate's error type.

use std::path::PathBuf;

/// Why a presentation could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum PptxError {
    /// The presentation title is empty (or only whitespace).
    #[error("the presentation has no title")]
    EmptyTitle,
    /// A content slide's title is empty; `slide` counts content slides from 1.
    #[error("content slide {slide} has no title")]
    EmptySlideTitle {
        /// Position of the slide in [`crate::Presentation::slides`], from 1.
        slide: usize,
    },
    /// A slide's picture bytes are not the image its `format` says.
    #[error("the picture on content slide {slide} is not a valid {expected:?} image")]
    InvalidImage {
        /// Position of the slide in [`crate::Presentation::slides`], from 1.
        slide: usize,
        /// The format the picture claimed to be.
        expected: crate::ImageFormat,
    },
    /// Assembling the zip package failed.
    #[error("could not assemble the .pptx package: {0}")]
    Package(#[from] zip::result::ZipError),
    /// Reading or writing a file failed.
    #[error("could not write {}: {source}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}
