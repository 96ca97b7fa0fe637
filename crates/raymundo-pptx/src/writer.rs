//! Slides to XML, parts to a zip package, the package to a file.

use std::io::{Cursor, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::model::{
    MAX_BULLETS_PER_SLIDE, MAX_BULLET_CHARS, MAX_SOURCES_PER_SLIDE, MAX_SOURCE_CHARS,
    MAX_TITLE_CHARS,
};
use crate::parts::{self, ct, rel, sp_tree_open, xfrm_rect, NS, XML_DECL};
use crate::picture::sniff;
use crate::xml::{escape, one_line, truncate};
use crate::{Picture, PptxError, Presentation, Slide, Written};

/// A rectangle in EMU (914400 per inch, 12700 per point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rect {
    pub(crate) x: i64,
    pub(crate) y: i64,
    pub(crate) cx: i64,
    pub(crate) cy: i64,
}

/// Slide size: 16:9, 13.333 x 7.5 inches.
pub(crate) const SLIDE_WIDTH: i64 = 12_192_000;
/// Slide height.
pub(crate) const SLIDE_HEIGHT: i64 = 6_858_000;
/// Title of a content slide (PowerPoint's own 16:9 positions).
pub(crate) const TITLE: Rect = Rect {
    x: 838_200,
    y: 365_125,
    cx: 10_515_600,
    cy: 1_325_563,
};
/// Text of a content slide without a picture.
pub(crate) const BODY: Rect = Rect {
    x: 838_200,
    y: 1_825_625,
    cx: 10_515_600,
    cy: 4_351_338,
};
/// Text of a content slide with a picture: the left half.
const BODY_LEFT: Rect = Rect {
    x: 838_200,
    y: 1_825_625,
    cx: 5_181_600,
    cy: 4_351_338,
};
/// The picture (or its placeholder box): the right half.
const PICTURE_AREA: Rect = Rect {
    x: 6_172_200,
    y: 1_825_625,
    cx: 5_181_600,
    cy: 4_351_338,
};
/// Height kept under a picture for its caption.
const CAPTION_HEIGHT: i64 = 457_200;
/// Title of the title slide.
pub(crate) const CENTER_TITLE: Rect = Rect {
    x: 1_524_000,
    y: 1_122_363,
    cx: 9_144_000,
    cy: 2_387_600,
};
/// Subtitle of the title slide.
pub(crate) const SUBTITLE: Rect = Rect {
    x: 1_524_000,
    y: 3_602_038,
    cx: 9_144_000,
    cy: 1_655_762,
};
/// The accent band along the bottom edge, drawn by the master.
pub(crate) const BAND: Rect = Rect {
    x: 0,
    y: SLIDE_HEIGHT - 152_400,
    cx: SLIDE_WIDTH,
    cy: 152_400,
};

/// A picture pixel at 96 dpi, in EMU; pictures are never enlarged past 4 times that.
const EMU_PER_PIXEL: i64 = 9_525;
const MAX_UPSCALE: i64 = 4;

/// Indentation of a bulleted paragraph (the bullet hangs in it).
const BULLET_INDENT: i64 = 342_900;

/// Builds the package in memory; see [`crate::to_bytes`].
pub(crate) fn build(p: &Presentation) -> Result<(Vec<u8>, Stats), PptxError> {
    let deck = Deck::plan(p)?;
    let mut parts: Vec<Part> = Vec::new();
    let mut overrides: Vec<(String, String)> = Vec::new();
    let mut media: Vec<(String, &[u8])> = Vec::new();
    let mut presentation_rels: Vec<(String, String)> = vec![(
        rel::office("slideMaster"),
        "slideMasters/slideMaster1.xml".into(),
    )];
    let mut slide_ids = String::new();
    let mut notes_count = 0;
    let lang = &deck.lang;

    for (i, slide) in deck.slides.iter().enumerate() {
        let n = i + 1;
        let mut slide_rels: Vec<(String, String)> = Vec::new();
        let layout = if matches!(slide, Planned::Title { .. }) {
            1
        } else {
            2
        };
        slide_rels.push((
            rel::office("slideLayout"),
            format!("../slideLayouts/slideLayout{layout}.xml"),
        ));
        let picture_rel = match slide {
            Planned::Content {
                picture: Some(picture),
                ..
            } => {
                let name = media_name(&mut media, picture);
                slide_rels.push((rel::office("image"), format!("../media/{name}")));
                Some(format!("rId{}", slide_rels.len()))
            }
            _ => None,
        };
        let xml = slide_xml(slide, picture_rel.as_deref(), lang);
        if let Planned::Content {
            notes: Some(notes), ..
        } = slide
        {
            notes_count += 1;
            slide_rels.push((
                rel::office("notesSlide"),
                format!("../notesSlides/notesSlide{n}.xml"),
            ));
            parts.push(Part::xml(
                format!("ppt/notesSlides/notesSlide{n}.xml"),
                notes_xml(notes, lang),
            ));
            parts.push(Part::xml(
                format!("ppt/notesSlides/_rels/notesSlide{n}.xml.rels"),
                parts::relationships(&[
                    (
                        rel::office("notesMaster"),
                        "../notesMasters/notesMaster1.xml".to_string(),
                    ),
                    (rel::office("slide"), format!("../slides/slide{n}.xml")),
                ]),
            ));
            overrides.push((
                format!("/ppt/notesSlides/notesSlide{n}.xml"),
                ct::pml("notesSlide"),
            ));
        }
        parts.push(Part::xml(format!("ppt/slides/slide{n}.xml"), xml));
        parts.push(Part::xml(
            format!("ppt/slides/_rels/slide{n}.xml.rels"),
            parts::relationships(&slide_rels),
        ));
        overrides.push((format!("/ppt/slides/slide{n}.xml"), ct::pml("slide")));
        presentation_rels.push((rel::office("slide"), format!("slides/slide{n}.xml")));
        slide_ids.push_str(&format!(
            r#"<p:sldId id="{}" r:id="rId{}"/>"#,
            255 + n,
            presentation_rels.len()
        ));
    }

    for (kind, target) in [
        ("presProps", "presProps.xml"),
        ("viewProps", "viewProps.xml"),
        ("theme", "theme/theme1.xml"),
        ("tableStyles", "tableStyles.xml"),
    ] {
        presentation_rels.push((rel::office(kind), target.into()));
    }
    let notes_master_id = if notes_count > 0 {
        presentation_rels.push((
            rel::office("notesMaster"),
            "notesMasters/notesMaster1.xml".into(),
        ));
        format!(
            r#"<p:notesMasterIdLst><p:notesMasterId r:id="rId{}"/></p:notesMasterIdLst>"#,
            presentation_rels.len()
        )
    } else {
        String::new()
    };
    let presentation = format!(
        concat!(
            r#"{decl}<p:presentation {ns} saveSubsetFonts="1">"#,
            r#"<p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>"#,
            "{notes}<p:sldIdLst>{ids}</p:sldIdLst>",
            r#"<p:sldSz cx="{w}" cy="{h}"/><p:notesSz cx="6858000" cy="9144000"/>"#,
            r#"<p:defaultTextStyle><a:lvl1pPr marL="0" algn="l" defTabSz="914400"><a:defRPr sz="1800" kern="1200">"#,
            r#"<a:solidFill><a:schemeClr val="tx1"/></a:solidFill><a:latin typeface="+mn-lt"/><a:ea typeface="+mn-ea"/>"#,
            r#"<a:cs typeface="+mn-cs"/></a:defRPr></a:lvl1pPr></p:defaultTextStyle></p:presentation>"#
        ),
        decl = XML_DECL,
        ns = NS,
        notes = notes_master_id,
        ids = slide_ids,
        w = SLIDE_WIDTH,
        h = SLIDE_HEIGHT
    );

    let mut fixed = vec![
        Part::xml("ppt/presentation.xml", presentation),
        Part::xml(
            "ppt/_rels/presentation.xml.rels",
            parts::relationships(&presentation_rels),
        ),
        Part::xml("ppt/presProps.xml", parts::pres_props()),
        Part::xml("ppt/viewProps.xml", parts::view_props()),
        Part::xml("ppt/tableStyles.xml", parts::table_styles()),
        Part::xml("ppt/theme/theme1.xml", parts::theme()),
        Part::xml("ppt/slideMasters/slideMaster1.xml", parts::slide_master()),
        Part::xml(
            "ppt/slideMasters/_rels/slideMaster1.xml.rels",
            parts::relationships(&[
                (
                    rel::office("slideLayout"),
                    "../slideLayouts/slideLayout1.xml",
                ),
                (
                    rel::office("slideLayout"),
                    "../slideLayouts/slideLayout2.xml",
                ),
                (rel::office("theme"), "../theme/theme1.xml"),
            ]),
        ),
        Part::xml("ppt/slideLayouts/slideLayout1.xml", parts::title_layout()),
        Part::xml("ppt/slideLayouts/slideLayout2.xml", parts::content_layout()),
    ];
    for n in 1..=2 {
        fixed.push(Part::xml(
            format!("ppt/slideLayouts/_rels/slideLayout{n}.xml.rels"),
            parts::relationships(&[(
                rel::office("slideMaster"),
                "../slideMasters/slideMaster1.xml",
            )]),
        ));
    }
    let mut package_overrides = vec![
        (
            "/ppt/presentation.xml".to_string(),
            ct::pml("presentation.main"),
        ),
        ("/ppt/presProps.xml".into(), ct::pml("presProps")),
        ("/ppt/viewProps.xml".into(), ct::pml("viewProps")),
        ("/ppt/tableStyles.xml".into(), ct::pml("tableStyles")),
        ("/ppt/theme/theme1.xml".into(), ct::THEME.into()),
        (
            "/ppt/slideMasters/slideMaster1.xml".into(),
            ct::pml("slideMaster"),
        ),
        (
            "/ppt/slideLayouts/slideLayout1.xml".into(),
            ct::pml("slideLayout"),
        ),
        (
            "/ppt/slideLayouts/slideLayout2.xml".into(),
            ct::pml("slideLayout"),
        ),
        ("/docProps/core.xml".into(), ct::CORE.into()),
        ("/docProps/app.xml".into(), ct::APP.into()),
    ];
    if notes_count > 0 {
        // The notes master has a theme of its own, as PowerPoint expects.
        fixed.push(Part::xml(
            "ppt/notesMasters/notesMaster1.xml",
            parts::notes_master(),
        ));
        fixed.push(Part::xml(
            "ppt/notesMasters/_rels/notesMaster1.xml.rels",
            parts::relationships(&[(rel::office("theme"), "../theme/theme2.xml")]),
        ));
        fixed.push(Part::xml("ppt/theme/theme2.xml", parts::theme()));
        package_overrides.push((
            "/ppt/notesMasters/notesMaster1.xml".into(),
            ct::pml("notesMaster"),
        ));
        package_overrides.push(("/ppt/theme/theme2.xml".into(), ct::THEME.into()));
    }
    package_overrides.extend(overrides);

    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut add = |name: &str, bytes: &[u8], options: SimpleFileOptions| -> Result<(), PptxError> {
        zip.start_file(name, options)?;
        zip.write_all(bytes).map_err(zip::result::ZipError::from)?;
        Ok(())
    };
    // The content types part comes first, as the packaging convention recommends.
    add(
        "[Content_Types].xml",
        parts::content_types(&package_overrides).as_bytes(),
        deflated,
    )?;
    let package_rels = parts::relationships(&[
        (rel::OFFICE_DOCUMENT, "ppt/presentation.xml"),
        (rel::CORE_PROPERTIES, "docProps/core.xml"),
        (rel::EXTENDED_PROPERTIES, "docProps/app.xml"),
    ]);
    add("_rels/.rels", package_rels.as_bytes(), deflated)?;
    let core = parts::core_properties(&deck.title, &p.language, &now_w3cdtf());
    add("docProps/core.xml", core.as_bytes(), deflated)?;
    let app = parts::app_properties(deck.slides.len(), notes_count);
    add("docProps/app.xml", app.as_bytes(), deflated)?;
    for part in fixed.iter().chain(parts.iter()) {
        add(&part.name, part.xml.as_bytes(), deflated)?;
    }
    // Pictures are compressed already.
    for (name, bytes) in &media {
        add(&format!("ppt/media/{name}"), bytes, stored)?;
    }
    let bytes = zip.finish()?.into_inner();
    let images = deck
        .slides
        .iter()
        .filter(|s| {
            matches!(
                s,
                Planned::Content {
                    picture: Some(_),
                    ..
                }
            )
        })
        .count();
    Ok((
        bytes,
        Stats {
            slides: deck.slides.len(),
            images,
        },
    ))
}

/// Counts reported in [`Written`].
pub(crate) struct Stats {
    pub(crate) slides: usize,
    pub(crate) images: usize,
}

struct Part {
    name: String,
    xml: String,
}

impl Part {
    fn xml(name: impl Into<String>, xml: String) -> Part {
        Part {
            name: name.into(),
            xml,
        }
    }
}

/// The media part name for a picture; identical pictures share one part.
fn media_name<'a>(media: &mut Vec<(String, &'a [u8])>, picture: &PlacedPicture<'a>) -> String {
    if let Some((name, _)) = media.iter().find(|(_, bytes)| *bytes == picture.bytes) {
        return name.clone();
    }
    let name = format!("image{}.{}", media.len() + 1, picture.extension);
    media.push((name.clone(), picture.bytes));
    name
}

/// The deck after validation and clean-up: what each slide will show.
struct Deck<'a> {
    title: String,
    lang: String,
    slides: Vec<Planned<'a>>,
}

enum Planned<'a> {
    Title {
        title: String,
        subtitle: Option<String>,
    },
    Content {
        title: String,
        bullets: Vec<String>,
        picture: Option<PlacedPicture<'a>>,
        placeholder: Option<String>,
        notes: Option<Vec<String>>,
    },
    Sources {
        title: String,
        sources: Vec<String>,
    },
}

struct PlacedPicture<'a> {
    bytes: &'a [u8],
    extension: &'static str,
    width: u32,
    height: u32,
    caption: Option<String>,
}

impl<'a> Deck<'a> {
    fn plan(p: &'a Presentation) -> Result<Deck<'a>, PptxError> {
        let title = truncate(&one_line(&p.title), MAX_TITLE_CHARS);
        if title.is_empty() {
            return Err(PptxError::EmptyTitle);
        }
        let non_empty = |text: &str| Some(one_line(text)).filter(|t| !t.is_empty());
        let mut slides = vec![Planned::Title {
            title: title.clone(),
            subtitle: p
                .subtitle
                .as_deref()
                .and_then(non_empty)
                .map(|s| truncate(&s, MAX_TITLE_CHARS * 2)),
        }];
        for (i, slide) in p.slides.iter().enumerate() {
            slides.push(plan_content(i + 1, slide)?);
        }
        let sources: Vec<String> = p
            .sources
            .iter()
            .filter_map(|s| non_empty(s))
            .map(|s| truncate(&s, MAX_SOURCE_CHARS))
            .collect();
        let sources_title = non_empty(&p.sources_title).unwrap_or_else(|| "Fuentes".to_string());
        for chunk in sources.chunks(MAX_SOURCES_PER_SLIDE) {
            slides.push(Planned::Sources {
                title: truncate(&sources_title, MAX_TITLE_CHARS),
                sources: chunk.to_vec(),
            });
        }
        Ok(Deck {
            title,
            lang: one_line(&p.language),
            slides,
        })
    }
}

fn plan_content(index: usize, slide: &Slide) -> Result<Planned<'_>, PptxError> {
    let title = truncate(&one_line(&slide.title), MAX_TITLE_CHARS);
    if title.is_empty() {
        return Err(PptxError::EmptySlideTitle { slide: index });
    }
    let bullets = slide
        .bullets
        .iter()
        .map(|b| one_line(b))
        .filter(|b| !b.is_empty())
        .take(MAX_BULLETS_PER_SLIDE)
        .map(|b| truncate(&b, MAX_BULLET_CHARS))
        .collect();
    let picture = slide
        .image
        .as_ref()
        .map(|picture| place(index, picture))
        .transpose()?;
    let placeholder = match picture {
        Some(_) => None,
        None => slide
            .placeholder
            .as_deref()
            .map(one_line)
            .filter(|t| !t.is_empty()),
    };
    let notes = slide
        .notes
        .as_deref()
        .map(|notes| {
            notes
                .lines()
                .map(one_line)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|lines| !lines.is_empty());
    Ok(Planned::Content {
        title,
        bullets,
        picture,
        placeholder,
        notes,
    })
}

/// Checks that a picture is what it claims to be; the header's size wins over the fields.
fn place(index: usize, picture: &Picture) -> Result<PlacedPicture<'_>, PptxError> {
    let invalid = PptxError::InvalidImage {
        slide: index,
        expected: picture.format,
    };
    let (format, width, height) = sniff(&picture.bytes).ok_or(invalid)?;
    if format != picture.format {
        return Err(PptxError::InvalidImage {
            slide: index,
            expected: picture.format,
        });
    }
    Ok(PlacedPicture {
        bytes: &picture.bytes,
        extension: format.extension(),
        width,
        height,
        caption: picture
            .caption
            .as_deref()
            .map(one_line)
            .filter(|c| !c.is_empty()),
    })
}

fn slide_xml(slide: &Planned<'_>, picture_rel: Option<&str>, lang: &str) -> String {
    let mut shapes = String::new();
    match slide {
        Planned::Title { title, subtitle } => {
            let size = fit_size(
                std::slice::from_ref(title),
                CENTER_TITLE,
                0,
                &[4800, 4400, 4000, 3600, 3200, 2800],
            );
            let p = paragraph(title, size, lang, Para::Centred);
            shapes.push_str(&placeholder_shape(
                2,
                "Title 1",
                r#"<p:ph type="ctrTitle"/>"#,
                CENTER_TITLE,
                "b",
                &p,
            ));
            if let Some(subtitle) = subtitle {
                let size = fit_size(
                    std::slice::from_ref(subtitle),
                    SUBTITLE,
                    0,
                    &[2400, 2000, 1800, 1600],
                );
                let p = paragraph(subtitle, size, lang, Para::Centred);
                shapes.push_str(&placeholder_shape(
                    3,
                    "Subtitle 2",
                    r#"<p:ph type="subTitle" idx="1"/>"#,
                    SUBTITLE,
                    "t",
                    &p,
                ));
            }
        }
        Planned::Content {
            title,
            bullets,
            picture,
            placeholder,
            ..
        } => {
            shapes.push_str(&title_shape(title, lang));
            let has_side = picture.is_some() || placeholder.is_some();
            let body_rect = if has_side { BODY_LEFT } else { BODY };
            if !bullets.is_empty() {
                shapes.push_str(&bullet_list(
                    bullets,
                    body_rect,
                    &[2800, 2400, 2200, 2000, 1800, 1600, 1400],
                    lang,
                ));
            }
            // Without text, the picture or its box takes the whole body area.
            let area = if bullets.is_empty() {
                BODY
            } else {
                PICTURE_AREA
            };
            if let (Some(picture), Some(rel_id)) = (picture, picture_rel) {
                shapes.push_str(&picture_shapes(picture, rel_id, area, lang));
            } else if let Some(text) = placeholder {
                shapes.push_str(&placeholder_box(text, area, lang));
            }
        }
        Planned::Sources { title, sources } => {
            shapes.push_str(&title_shape(title, lang));
            shapes.push_str(&bullet_list(
                sources,
                BODY,
                &[2000, 1800, 1600, 1400, 1200],
                lang,
            ));
        }
    }
    format!(
        "{XML_DECL}<p:sld {NS}><p:cSld>{}{shapes}</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>",
        sp_tree_open()
    )
}

fn title_shape(title: &str, lang: &str) -> String {
    let size = fit_size(
        std::slice::from_ref(&title.to_string()),
        TITLE,
        0,
        &[4000, 3600, 3200, 2800, 2400],
    );
    let p = paragraph(title, size, lang, Para::Plain);
    placeholder_shape(2, "Title 1", r#"<p:ph type="title"/>"#, TITLE, "ctr", &p)
}

fn bullet_list(items: &[String], rect: Rect, sizes: &[u32], lang: &str) -> String {
    let size = fit_size(items, rect, BULLET_INDENT, sizes);
    let paragraphs: String = items
        .iter()
        .map(|item| paragraph(item, size, lang, Para::Bullet))
        .collect();
    placeholder_shape(
        3,
        "Content Placeholder 2",
        r#"<p:ph idx="1"/>"#,
        rect,
        "t",
        &paragraphs,
    )
}

fn placeholder_shape(
    id: u32,
    name: &str,
    ph: &str,
    rect: Rect,
    anchor: &str,
    paragraphs: &str,
) -> String {
    format!(
        concat!(
            r#"<p:sp><p:nvSpPr><p:cNvPr id="{id}" name="{name}"/><p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr>"#,
            "<p:nvPr>{ph}</p:nvPr></p:nvSpPr><p:spPr>{xfrm}</p:spPr>",
            r#"<p:txBody><a:bodyPr anchor="{anchor}"><a:normAutofit/></a:bodyPr><a:lstStyle/>{paragraphs}</p:txBody></p:sp>"#
        ),
        id = id,
        name = name,
        ph = ph,
        xfrm = xfrm_rect(rect),
        anchor = anchor,
        paragraphs = paragraphs
    )
}

/// The picture scaled into `area` keeping its aspect ratio (centred), and its caption below.
fn picture_shapes(picture: &PlacedPicture<'_>, rel_id: &str, area: Rect, lang: &str) -> String {
    let image_area = match picture.caption {
        Some(_) => Rect {
            cy: area.cy - CAPTION_HEIGHT,
            ..area
        },
        None => area,
    };
    let mut r = fit_picture(image_area, picture.width, picture.height);
    // The caption goes right under the picture: the pair is centred together.
    let caption_area = picture.caption.as_ref().map(|_| {
        r.y = area.y + (area.cy - r.cy - CAPTION_HEIGHT) / 2;
        Rect {
            y: r.y + r.cy,
            cy: CAPTION_HEIGHT,
            ..area
        }
    });
    let descr = picture
        .caption
        .as_deref()
        .map(|c| format!(r#" descr="{}""#, escape(c)))
        .unwrap_or_default();
    let mut xml = format!(
        concat!(
            r#"<p:pic><p:nvPicPr><p:cNvPr id="4" name="Picture 3"{descr}/>"#,
            r#"<p:cNvPicPr><a:picLocks noChangeAspect="1"/></p:cNvPicPr><p:nvPr/></p:nvPicPr>"#,
            r#"<p:blipFill><a:blip r:embed="{rel}"/><a:stretch><a:fillRect/></a:stretch></p:blipFill>"#,
            "<p:spPr>{xfrm}</p:spPr></p:pic>"
        ),
        descr = descr,
        rel = rel_id,
        xfrm = xfrm_rect(r)
    );
    if let (Some(caption), Some(rect)) = (&picture.caption, caption_area) {
        let p = run_paragraph(
            caption,
            1200,
            lang,
            r#"<a:pPr algn="ctr"/>"#,
            r#" i="1""#,
            "595959",
        );
        xml.push_str(&format!(
            concat!(
                r#"<p:sp><p:nvSpPr><p:cNvPr id="5" name="Caption 4"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr>"#,
                "<p:spPr>{}<a:noFill/></p:spPr>",
                r#"<p:txBody><a:bodyPr wrap="square" rtlCol="0" anchor="t"><a:normAutofit/></a:bodyPr><a:lstStyle/>{}</p:txBody></p:sp>"#
            ),
            xfrm_rect(rect),
            p
        ));
    }
    xml
}

/// A box with a dashed border where a picture would go, its text centred.
fn placeholder_box(text: &str, area: Rect, lang: &str) -> String {
    let p = run_paragraph(text, 2000, lang, r#"<a:pPr algn="ctr"/>"#, "", "595959");
    format!(
        concat!(
            r#"<p:sp><p:nvSpPr><p:cNvPr id="4" name="Image placeholder 3"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr>"#,
            r#"<p:spPr>{xfrm}<a:solidFill><a:srgbClr val="F2F2F2"/></a:solidFill>"#,
            r#"<a:ln w="25400"><a:solidFill><a:srgbClr val="7F7F7F"/></a:solidFill><a:prstDash val="dash"/></a:ln></p:spPr>"#,
            r#"<p:txBody><a:bodyPr wrap="square" lIns="182880" tIns="182880" rIns="182880" bIns="182880" rtlCol="0" anchor="ctr">"#,
            "<a:normAutofit/></a:bodyPr><a:lstStyle/>{p}</p:txBody></p:sp>"
        ),
        xfrm = xfrm_rect(area),
        p = p
    )
}

#[derive(Clone, Copy)]
enum Para {
    Plain,
    Centred,
    Bullet,
}

fn paragraph(text: &str, size: u32, lang: &str, kind: Para) -> String {
    let ppr = match kind {
        Para::Plain => String::new(),
        Para::Centred => r#"<a:pPr algn="ctr"/>"#.to_string(),
        Para::Bullet => format!(
            concat!(
                r#"<a:pPr marL="{indent}" indent="-{indent}"><a:spcBef><a:spcPts val="{space}"/></a:spcBef>"#,
                r#"<a:buFont typeface="Arial"/><a:buChar char="•"/></a:pPr>"#
            ),
            indent = BULLET_INDENT,
            space = size / 2
        ),
    };
    run_paragraph(text, size, lang, &ppr, "", "")
}

/// One paragraph holding one run of text.
fn run_paragraph(
    text: &str,
    size: u32,
    lang: &str,
    ppr: &str,
    extra_attrs: &str,
    colour: &str,
) -> String {
    let lang_attr = if lang.is_empty() {
        String::new()
    } else {
        format!(r#" lang="{}""#, escape(lang))
    };
    let fill = if colour.is_empty() {
        String::new()
    } else {
        format!(r#"<a:solidFill><a:srgbClr val="{colour}"/></a:solidFill>"#)
    };
    let rpr = if fill.is_empty() {
        format!(r#"<a:rPr{lang_attr} sz="{size}"{extra_attrs} dirty="0"/>"#)
    } else {
        format!(r#"<a:rPr{lang_attr} sz="{size}"{extra_attrs} dirty="0">{fill}</a:rPr>"#)
    };
    format!(
        "<a:p>{ppr}<a:r>{rpr}<a:t>{}</a:t></a:r></a:p>",
        escape(text)
    )
}

/// `ppt/notesSlides/notesSlideN.xml`: the slide image and the notes text.
fn notes_xml(lines: &[String], lang: &str) -> String {
    let paragraphs: String = lines
        .iter()
        .map(|line| run_paragraph(line, 1200, lang, "", "", ""))
        .collect();
    format!(
        concat!(
            "{decl}<p:notes {ns}><p:cSld>{tree}",
            r#"<p:sp><p:nvSpPr><p:cNvPr id="2" name="Slide Image Placeholder 1"/>"#,
            r#"<p:cNvSpPr><a:spLocks noGrp="1" noRot="1" noChangeAspect="1"/></p:cNvSpPr>"#,
            r#"<p:nvPr><p:ph type="sldImg"/></p:nvPr></p:nvSpPr><p:spPr/></p:sp>"#,
            r#"<p:sp><p:nvSpPr><p:cNvPr id="3" name="Notes Placeholder 2"/><p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr>"#,
            r#"<p:nvPr><p:ph type="body" idx="1"/></p:nvPr></p:nvSpPr><p:spPr/>"#,
            "<p:txBody><a:bodyPr/><a:lstStyle/>{paragraphs}</p:txBody></p:sp>",
            "</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:notes>"
        ),
        decl = XML_DECL,
        ns = NS,
        tree = sp_tree_open(),
        paragraphs = paragraphs
    )
}

/// Scales a `width` x `height` pixel picture into `area`, centred, keeping its aspect ratio and
/// never enlarging it past [`MAX_UPSCALE`] times its size at 96 dpi.
pub(crate) fn fit_picture(area: Rect, width: u32, height: u32) -> Rect {
    let (w, h) = (i64::from(width.max(1)), i64::from(height.max(1)));
    let max_w = area.cx.min(w * EMU_PER_PIXEL * MAX_UPSCALE);
    let max_h = area.cy.min(h * EMU_PER_PIXEL * MAX_UPSCALE);
    // The largest size with the picture's proportions inside max_w x max_h.
    let (cx, cy) = if max_w * h <= max_h * w {
        (max_w, max_w * h / w)
    } else {
        (max_h * w / h, max_h)
    };
    Rect {
        x: area.x + (area.cx - cx) / 2,
        y: area.y + (area.cy - cy) / 2,
        cx,
        cy,
    }
}

/// The largest font size (hundredths of a point, from `sizes`, largest first) at which the
/// paragraphs are estimated to fit in `rect`; the smallest size when none does.
///
/// An estimate, not a layout: an average character is taken as half the font size wide and a
/// line as 1.2 times its height, plus the space before each paragraph. `normAutofit` on the
/// text body lets the application shrink further if the estimate was optimistic.
pub(crate) fn fit_size(paragraphs: &[String], rect: Rect, indent: i64, sizes: &[u32]) -> u32 {
    const EMU_PER_POINT: f64 = 12_700.0;
    // Default insets: 0.1" left and right, 0.05" top and bottom.
    let width = (rect.cx - 182_880 - indent) as f64 / EMU_PER_POINT;
    let height = (rect.cy - 91_440) as f64 / EMU_PER_POINT;
    for &size in sizes {
        let points = f64::from(size) / 100.0;
        let per_line = (width / (points * 0.5)).floor().max(1.0);
        let lines: f64 = paragraphs
            .iter()
            // Word wrapping wastes some of each line: count 10% more characters.
            .map(|p| (p.chars().count() as f64 * 1.1 / per_line).ceil().max(1.0))
            .sum();
        let spacing = if indent > 0 {
            points * 0.5 * paragraphs.len() as f64
        } else {
            0.0
        };
        if lines * points * 1.2 + spacing <= height {
            return size;
        }
    }
    sizes.last().copied().unwrap_or(1800)
}

/// The current UTC time as `YYYY-MM-DDThh:mm:ssZ`.
fn now_w3cdtf() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    w3cdtf(secs)
}

/// Formats seconds since the Unix epoch (civil-from-days, proleptic Gregorian calendar).
pub(crate) fn w3cdtf(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Writes the package atomically; see [`crate::write()`].
pub(crate) fn write(p: &Presentation, path: &Path) -> Result<Written, PptxError> {
    // Build first: a presentation that cannot be built never touches the disk.
    let (bytes, stats) = build(p)?;
    let io = |source| PptxError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".raymundo-pptx-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(&bytes).map_err(io)?;
    // Keep the permissions of the file being replaced; a new file gets the usual rw-r--r--
    // instead of the temporary file's owner-only mode.
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => Some(meta.permissions()),
        Err(_) => default_permissions(),
    };
    if let Some(permissions) = permissions {
        tmp.as_file().set_permissions(permissions).map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    // Dropping the temporary file on any error above removes it; persist renames it over `path`.
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(Written {
        path: path.to_path_buf(),
        slides: stats.slides,
        bytes: bytes.len() as u64,
        images: stats.images,
    })
}

#[cfg(unix)]
fn default_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<std::fs::Permissions> {
    None
}
