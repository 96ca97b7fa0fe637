//! Pictures: PNG and JPEG bytes with the pixel size read from their headers.
//!
//! Nothing is decoded: the size comes from the PNG `IHDR` chunk or the JPEG start-of-frame
//! marker, which is all a slide needs to place a picture keeping its aspect ratio.

/// The image formats a presentation can carry (the two every Office suite displays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// Portable Network Graphics.
    Png,
    /// JPEG (JFIF or Exif), baseline or progressive.
    Jpeg,
}

impl ImageFormat {
    /// The file extension used for the media part (`png`, `jpeg`).
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpeg",
        }
    }

    /// The MIME content type (`image/png`, `image/jpeg`).
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
        }
    }
}

/// An image to put on a slide.
#[derive(Clone, PartialEq, Eq)]
pub struct Picture {
    /// The encoded file, exactly as stored on disk.
    pub bytes: Vec<u8>,
    /// Which format `bytes` is in.
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// A short text shown under the picture (and used as its alternative text), if any.
    pub caption: Option<String>,
}

impl std::fmt::Debug for Picture {
    // The bytes would flood logs and test failures; their length is enough.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Picture")
            .field("bytes", &format_args!("[{} bytes]", self.bytes.len()))
            .field("format", &self.format)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("caption", &self.caption)
            .finish()
    }
}

impl Picture {
    /// Recognises PNG or JPEG bytes and reads their pixel size from the header.
    ///
    /// Returns `None` for any other format (GIF, SVG, WebP, ...), for truncated headers and for
    /// images that claim a zero width or height. The caption is left empty.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Picture> {
        let (format, width, height) = sniff(&bytes)?;
        Some(Picture {
            bytes,
            format,
            width,
            height,
            caption: None,
        })
    }

    /// The same picture with a caption.
    pub fn with_caption(mut self, caption: impl Into<String>) -> Picture {
        self.caption = Some(caption.into());
        self
    }
}

/// Format and pixel size of PNG or JPEG bytes, `None` for anything else.
pub(crate) fn sniff(bytes: &[u8]) -> Option<(ImageFormat, u32, u32)> {
    let (format, width, height) = if bytes.starts_with(PNG_SIGNATURE) {
        let (w, h) = png_size(bytes)?;
        (ImageFormat::Png, w, h)
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        let (w, h) = jpeg_size(bytes)?;
        (ImageFormat::Jpeg, w, h)
    } else {
        return None;
    };
    (width > 0 && height > 0).then_some((format, width, height))
}

const PNG_SIGNATURE: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// The first chunk of a PNG file must be `IHDR`: width and height are its first 8 bytes.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    Some((be_u32(bytes, 16)?, be_u32(bytes, 20)?))
}

/// Walks the JPEG marker segments up to the first start-of-frame (SOF0..SOF15 except DHT,
/// JPG and DAC), whose payload is precision (1 byte), height (2) and width (2).
fn jpeg_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut pos = 2;
    loop {
        if *bytes.get(pos)? != 0xFF {
            return None;
        }
        // Any number of 0xFF fill bytes may precede a marker.
        while *bytes.get(pos)? == 0xFF {
            pos += 1;
        }
        let marker = *bytes.get(pos)?;
        pos += 1;
        match marker {
            // Markers without a payload: TEM, RSTn, SOI.
            0x01 | 0xD0..=0xD8 => continue,
            // End of image or start of scan before any frame header: no size to read.
            0xD9 | 0xDA => return None,
            _ => {}
        }
        let length = usize::from(be_u16(bytes, pos)?);
        if length < 2 {
            return None;
        }
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let height = be_u16(bytes, pos + 3)?;
            let width = be_u16(bytes, pos + 5)?;
            return Some((u32::from(width), u32::from(height)));
        }
        pos += length;
    }
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn be_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at + 2)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHART_PNG: &[u8] = include_bytes!("../tests/fixtures/chart.png");
    const PHOTO_JPG: &[u8] = include_bytes!("../tests/fixtures/photo.jpg");

    #[test]
    fn reads_the_size_of_a_png() {
        let picture = Picture::from_bytes(CHART_PNG.to_vec()).expect("a PNG");
        assert_eq!(picture.format, ImageFormat::Png);
        assert_eq!((picture.width, picture.height), (64, 48));
        assert_eq!(picture.caption, None);
    }

    #[test]
    fn reads_the_size_of_a_jpeg_past_its_other_segments() {
        // The fixture has JFIF (APP0), quantisation and Huffman tables before its SOF0.
        let picture = Picture::from_bytes(PHOTO_JPG.to_vec()).expect("a JPEG");
        assert_eq!(picture.format, ImageFormat::Jpeg);
        assert_eq!((picture.width, picture.height), (80, 60));
    }

    #[test]
    fn reads_a_progressive_jpeg_frame_with_fill_bytes() {
        // SOI, a padded APP1 segment, fill bytes, then SOF2 (progressive) 300 x 200.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x04, 0xAA, 0xBB, 0xFF, 0xFF];
        jpeg.extend([
            0xC2, 0x00, 0x0B, 0x08, 0x00, 0xC8, 0x01, 0x2C, 0x01, 0x01, 0x11, 0x00,
        ]);
        assert_eq!(sniff(&jpeg), Some((ImageFormat::Jpeg, 300, 200)));
    }

    #[test]
    fn refuses_other_formats_and_broken_headers() {
        assert_eq!(
            Picture::from_bytes(b"GIF89a\x10\x00\x10\x00".to_vec()),
            None
        );
        assert_eq!(Picture::from_bytes(b"<svg/>".to_vec()), None);
        assert_eq!(Picture::from_bytes(Vec::new()), None);
        // Truncated in the middle of the IHDR chunk.
        assert_eq!(Picture::from_bytes(CHART_PNG[..20].to_vec()), None);
        // A JPEG cut before its frame header.
        assert_eq!(Picture::from_bytes(PHOTO_JPG[..40].to_vec()), None);
        // A JPEG whose scan starts before any frame header.
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02]), None);
        // A zero-width PNG.
        let mut zero = CHART_PNG.to_vec();
        zero[16..20].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(sniff(&zero), None);
    }
}
