//! Tests of the package as a whole: its parts, their relationships, the text and pictures in
//! them, atomic writing, and pictures found in documents.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use crate::writer::{fit_picture, Rect};
use crate::*;

const CHART_PNG: &[u8] = include_bytes!("../tests/fixtures/chart.png");
const PHOTO_JPG: &[u8] = include_bytes!("../tests/fixtures/photo.jpg");
const ICON_PNG: &[u8] = include_bytes!("../tests/fixtures/icon.png");

fn chart() -> Picture {
    Picture::from_bytes(CHART_PNG.to_vec()).unwrap()
}

fn photo() -> Picture {
    Picture::from_bytes(PHOTO_JPG.to_vec()).unwrap()
}

fn deck() -> Presentation {
    let mut deck = Presentation::new("Política de viáticos");
    deck.subtitle = Some("Resumen para ventas".into());
    deck.slides.push(Slide::new(
        "Montos diarios",
        ["Hospedaje: hasta $2,000", "Comidas: hasta $600"],
    ));
    let mut with_picture = Slide::new(
        "Gasto por región",
        ["El norte concentra la mitad del gasto"],
    );
    with_picture.image = Some(chart().with_caption("Gasto por región, 2024"));
    deck.slides.push(with_picture);
    deck.sources = vec!["politica_viaticos.docx".into(), "gastos_2024.xlsx".into()];
    deck
}

/// The package's parts by name, in archive order.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    (0..archive.len())
        .map(|i| {
            let mut member = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            member.read_to_end(&mut data).unwrap();
            (member.name().to_string(), data)
        })
        .collect()
}

fn parts_of(p: &Presentation) -> BTreeMap<String, String> {
    unzip(&to_bytes(p).expect("builds"))
        .into_iter()
        .filter(|(name, _)| !name.starts_with("ppt/media/"))
        .map(|(name, data)| (name, String::from_utf8(data).expect("XML parts are UTF-8")))
        .collect()
}

/// The values of `attr="..."` in `xml`, in order.
fn attr_values(xml: &str, attr: &str) -> Vec<String> {
    let needle = format!(" {attr}=\"");
    xml.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &xml[i + needle.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

/// The text runs of a part, unescaped.
fn texts(xml: &str) -> Vec<String> {
    xml.split("<a:t>")
        .skip(1)
        .map(|s| unescape(&s[..s.find("</a:t>").unwrap()]))
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn slide_parts(parts: &BTreeMap<String, String>) -> Vec<&String> {
    parts
        .keys()
        .filter(|n| n.starts_with("ppt/slides/slide") && n.ends_with(".xml"))
        .collect()
}

#[test]
fn the_package_has_every_part_and_every_relationship_resolves() {
    let bytes = to_bytes(&deck()).unwrap();
    let members = unzip(&bytes);
    assert_eq!(
        members[0].0, "[Content_Types].xml",
        "content types come first"
    );
    let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
    for required in [
        "_rels/.rels",
        "docProps/core.xml",
        "docProps/app.xml",
        "ppt/presentation.xml",
        "ppt/_rels/presentation.xml.rels",
        "ppt/presProps.xml",
        "ppt/viewProps.xml",
        "ppt/tableStyles.xml",
        "ppt/theme/theme1.xml",
        "ppt/slideMasters/slideMaster1.xml",
        "ppt/slideMasters/_rels/slideMaster1.xml.rels",
        "ppt/slideLayouts/slideLayout1.xml",
        "ppt/slideLayouts/slideLayout2.xml",
        "ppt/slides/slide1.xml",
        "ppt/slides/_rels/slide1.xml.rels",
        "ppt/media/image1.png",
    ] {
        assert!(names.contains(&required), "missing {required} in {names:?}");
    }
    let text: BTreeMap<&str, String> = members
        .iter()
        .filter(|(n, _)| !n.starts_with("ppt/media/"))
        .map(|(n, d)| (n.as_str(), String::from_utf8(d.clone()).unwrap()))
        .collect();
    // Every override names a part that exists, and every XML part but the package's own has
    // an override (only media rely on the extension defaults).
    let overrides = attr_values(&text["[Content_Types].xml"], "PartName");
    for part in &overrides {
        assert!(
            names.contains(&&part[1..]),
            "override for missing part {part}"
        );
    }
    for name in &names {
        if name.ends_with(".xml") && *name != "[Content_Types].xml" {
            assert!(
                overrides.contains(&format!("/{name}")),
                "no content type for {name}"
            );
        }
    }
    // Every relationship target exists, resolved against the source part's folder.
    for (name, xml) in text.iter().filter(|(n, _)| n.ends_with(".rels")) {
        let source_dir = name
            .trim_end_matches(|c| c != '/')
            .trim_end_matches("_rels/");
        for target in attr_values(xml, "Target") {
            let mut path: Vec<&str> = source_dir.split('/').filter(|s| !s.is_empty()).collect();
            for segment in target.split('/') {
                match segment {
                    ".." => {
                        path.pop();
                    }
                    s => path.push(s),
                }
            }
            let resolved = path.join("/");
            assert!(
                names.contains(&resolved.as_str()),
                "{name} points to missing {resolved}"
            );
        }
    }
    // Every XML part is well-formed enough to start with the declaration and close its root.
    for (name, xml) in &text {
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\""),
            "{name}"
        );
        let root = xml[xml.find("?>").unwrap() + 2..].trim_start_matches('<');
        let root = &root[..root.find([' ', '>', '/']).unwrap()];
        assert!(
            xml.ends_with(&format!("</{root}>")) || xml.ends_with("/>"),
            "{name} does not close {root}"
        );
    }
}

#[test]
fn one_slide_part_per_slide_title_content_and_sources() {
    let parts = parts_of(&deck());
    assert_eq!(slide_parts(&parts).len(), 1 + 2 + 1);
    assert_eq!(
        attr_values(&parts["ppt/presentation.xml"], "id").len(),
        1 + 4,
        "master + 4 slide ids"
    );
    assert!(parts["docProps/app.xml"].contains("<Slides>4</Slides>"));
    // The sources slide is last and lists every source.
    assert_eq!(
        texts(&parts["ppt/slides/slide4.xml"]),
        ["Fuentes", "politica_viaticos.docx", "gastos_2024.xlsx"]
    );

    let mut no_sources = deck();
    no_sources.sources.clear();
    no_sources.subtitle = None;
    let parts = parts_of(&no_sources);
    assert_eq!(slide_parts(&parts).len(), 1 + 2);
    assert_eq!(
        texts(&parts["ppt/slides/slide1.xml"]),
        ["Política de viáticos"]
    );

    // Sources beyond one slide's worth continue on a second sources slide.
    let mut many = deck();
    many.sources = (1..=MAX_SOURCES_PER_SLIDE + 3)
        .map(|i| format!("documento_{i}.pdf"))
        .collect();
    let parts = parts_of(&many);
    assert_eq!(slide_parts(&parts).len(), 1 + 2 + 2);
    assert_eq!(texts(&parts["ppt/slides/slide5.xml"]).len(), 1 + 3);
}

#[test]
fn markup_characters_and_accents_round_trip() {
    let title = r#"Informe <Q1> & "metas" del año 'fiscal' — señalización"#;
    let mut p = Presentation::new(title);
    p.slides.push(Slide::new(
        "Límites < 5 & > 2",
        [
            "Árbol de decisión: \"sí\" o 'no'\u{0}\u{7}",
            "línea\ncortada",
        ],
    ));
    let parts = parts_of(&p);
    assert_eq!(texts(&parts["ppt/slides/slide1.xml"]), [title]);
    assert_eq!(
        texts(&parts["ppt/slides/slide2.xml"]),
        [
            "Límites < 5 & > 2",
            "Árbol de decisión: \"sí\" o 'no'",
            "línea cortada"
        ]
    );
    assert!(parts["ppt/slides/slide1.xml"].contains("Informe &lt;Q1&gt; &amp; &quot;metas&quot;"));
    assert!(parts["docProps/core.xml"].contains("<dc:title>Informe &lt;Q1&gt; &amp;"));
    for (name, xml) in &parts {
        assert!(
            !xml.contains('\u{0}') && !xml.contains('\u{7}'),
            "{name} carries a control character"
        );
    }
}

#[test]
fn runs_carry_the_language() {
    let mut p = deck();
    p.language = "es-MX".into();
    let parts = parts_of(&p);
    let slide = &parts["ppt/slides/slide2.xml"];
    let langs = attr_values(slide, "lang");
    assert_eq!(langs.len(), texts(slide).len());
    assert!(langs.iter().all(|l| l == "es-MX"));
    assert!(parts["docProps/core.xml"].contains("<dc:language>es-MX</dc:language>"));
}

#[test]
fn pictures_are_embedded_with_their_content_type_and_relationship() {
    let mut p = deck();
    let mut jpeg_slide = Slide::new("Oficinas", ["Sede en Monterrey"]);
    jpeg_slide.image = Some(photo());
    p.slides.push(jpeg_slide);
    // The chart again: one media part serves both slides.
    let mut again = Slide::new("Otra vez la gráfica", ["Mismo dato"]);
    again.image = Some(chart());
    p.slides.push(again);

    let members: BTreeMap<String, Vec<u8>> = unzip(&to_bytes(&p).unwrap()).into_iter().collect();
    let media: Vec<&String> = members
        .keys()
        .filter(|n| n.starts_with("ppt/media/"))
        .collect();
    assert_eq!(media, ["ppt/media/image1.png", "ppt/media/image2.jpeg"]);
    assert_eq!(members["ppt/media/image1.png"], CHART_PNG);
    assert_eq!(members["ppt/media/image2.jpeg"], PHOTO_JPG);

    let types = String::from_utf8(members["[Content_Types].xml"].clone()).unwrap();
    assert!(types.contains(r#"<Default Extension="png" ContentType="image/png"/>"#));
    assert!(types.contains(r#"<Default Extension="jpeg" ContentType="image/jpeg"/>"#));

    for (slide, media) in [
        (3, "../media/image1.png"),
        (4, "../media/image2.jpeg"),
        (5, "../media/image1.png"),
    ] {
        let rels =
            String::from_utf8(members[&format!("ppt/slides/_rels/slide{slide}.xml.rels")].clone())
                .unwrap();
        let xml =
            String::from_utf8(members[&format!("ppt/slides/slide{slide}.xml")].clone()).unwrap();
        let image_rel = rels
            .split("<Relationship ")
            .find(|r| r.contains("/relationships/image\""))
            .unwrap_or_else(|| panic!("slide {slide} has no image relationship: {rels}"));
        assert!(
            image_rel.contains(&format!("Target=\"{media}\"")),
            "{image_rel}"
        );
        let ids = attr_values(&format!(" {image_rel}"), "Id");
        assert_eq!(attr_values(&xml, "r:embed"), ids, "slide {slide}");
    }
    // The caption is under the picture and is its alternative text.
    let slide3 = String::from_utf8(members["ppt/slides/slide3.xml"].clone()).unwrap();
    assert!(texts(&slide3).contains(&"Gasto por región, 2024".to_string()));
    assert!(slide3.contains(r#"descr="Gasto por región, 2024""#));
    // Slides without a picture carry no picture.
    let slide2 = String::from_utf8(members["ppt/slides/slide2.xml"].clone()).unwrap();
    assert!(!slide2.contains("<p:pic>"));
}

#[test]
fn a_picture_keeps_its_aspect_ratio_on_the_right_of_the_text() {
    let parts = parts_of(&deck());
    let slide = &parts["ppt/slides/slide3.xml"];
    let pic = &slide[slide.find("<p:pic>").unwrap()..];
    let x: i64 = attr_values(pic, "x")[0].parse().unwrap();
    let cx: i64 = attr_values(pic, "cx")[0].parse().unwrap();
    let cy: i64 = attr_values(pic, "cy")[0].parse().unwrap();
    assert!(x > SLIDE_WIDTH_EMU / 2, "the picture is on the right half");
    assert!(x + cx <= SLIDE_WIDTH_EMU);
    assert_eq!(cx * 48, cy * 64, "64 x 48 stays 4:3");
    // The text sits on the left, clear of the picture.
    let body = &slide[slide.find(r#"<p:ph idx="1"/>"#).unwrap()..];
    let body_x: i64 = attr_values(body, "x")[0].parse().unwrap();
    let body_cx: i64 = attr_values(body, "cx")[0].parse().unwrap();
    assert!(body_x + body_cx <= x);
}

#[test]
fn fitting_a_picture_keeps_proportions_centres_and_limits_enlargement() {
    let area = Rect {
        x: 1000,
        y: 2000,
        cx: 4_000_000,
        cy: 3_000_000,
    };
    // A wide picture fills the width.
    let wide = fit_picture(area, 2000, 500);
    assert_eq!((wide.cx, wide.cy), (4_000_000, 1_000_000));
    assert_eq!((wide.x, wide.y), (1000, 2000 + 1_000_000));
    // A tall one fills the height.
    let tall = fit_picture(area, 600, 1200);
    assert_eq!((tall.cx, tall.cy), (1_500_000, 3_000_000));
    assert_eq!(tall.x, 1000 + 1_250_000);
    // A small one is enlarged at most four times its 96 dpi size.
    let small = fit_picture(area, 40, 30);
    assert_eq!((small.cx, small.cy), (40 * 9525 * 4, 30 * 9525 * 4));
}

#[test]
fn a_missing_picture_becomes_a_visible_placeholder_box() {
    let mut p = Presentation::new("Organigrama");
    let mut slide = Slide::new("Estructura", ["Dirección general", "Tres gerencias"]);
    slide.placeholder = Some("Sin imagen disponible en las fuentes".into());
    p.slides.push(slide);
    let parts = parts_of(&p);
    let xml = &parts["ppt/slides/slide2.xml"];
    assert!(texts(xml).contains(&"Sin imagen disponible en las fuentes".to_string()));
    assert!(
        xml.contains(r#"<a:prstDash val="dash"/>"#),
        "the box has a dashed border"
    );
    assert!(!xml.contains("<p:pic>"));
    assert!(!parts.keys().any(|n| n.starts_with("ppt/media/")));
    // With a picture, the placeholder text is not drawn.
    p.slides[0].image = Some(chart());
    let parts = parts_of(&p);
    assert!(!texts(&parts["ppt/slides/slide2.xml"])
        .contains(&"Sin imagen disponible en las fuentes".to_string()));
}

#[test]
fn long_text_is_capped_cut_and_set_smaller() {
    let sizes = |xml: &str| -> Vec<u32> {
        attr_values(xml, "sz")
            .iter()
            .map(|s| s.parse().unwrap())
            .collect()
    };
    let mut p = Presentation::new("Resumen");
    p.slides.push(Slide::new("Corto", ["Uno", "Dos"]));
    let long =
        "El reembolso de los gastos de viaje se solicita con los comprobantes fiscales ".repeat(6);
    p.slides.push(Slide::new(
        "Largo",
        vec![long.clone(); MAX_BULLETS_PER_SLIDE + 4],
    ));
    let parts = parts_of(&p);
    let short = &parts["ppt/slides/slide2.xml"];
    let crowded = &parts["ppt/slides/slide3.xml"];
    let bullets = &texts(crowded)[1..];
    assert_eq!(bullets.len(), MAX_BULLETS_PER_SLIDE);
    for bullet in bullets {
        assert!(bullet.chars().count() <= MAX_BULLET_CHARS);
        assert!(bullet.ends_with('…'));
    }
    let (short_size, crowded_size) = (sizes(short)[1], sizes(crowded)[1]);
    assert!(
        crowded_size < short_size,
        "{crowded_size} should be smaller than {short_size}"
    );
    assert!(crowded.contains("<a:normAutofit/>"));
}

#[test]
fn speaker_notes_add_a_notes_slide_and_a_notes_master() {
    let plain = parts_of(&deck());
    assert!(
        !plain.keys().any(|n| n.contains("notes")),
        "no notes, no notes parts"
    );

    let mut p = deck();
    p.slides[1].notes = Some("Mencionar el tope anual.\nPreguntar por dudas.".into());
    let parts = parts_of(&p);
    assert_eq!(
        texts(&parts["ppt/notesSlides/notesSlide3.xml"]),
        ["Mencionar el tope anual.", "Preguntar por dudas."]
    );
    assert!(parts["ppt/slides/_rels/slide3.xml.rels"].contains("../notesSlides/notesSlide3.xml"));
    assert!(parts.contains_key("ppt/notesMasters/notesMaster1.xml"));
    assert!(parts["ppt/presentation.xml"].contains("<p:notesMasterIdLst>"));
    assert!(parts["[Content_Types].xml"].contains("/ppt/notesSlides/notesSlide3.xml"));
    assert!(parts["docProps/app.xml"].contains("<Notes>1</Notes>"));
}

#[test]
fn meaningless_decks_are_refused_with_the_reason() {
    assert!(matches!(
        to_bytes(&Presentation::new("  \n ")),
        Err(PptxError::EmptyTitle)
    ));

    let mut p = deck();
    p.slides[1].title = "\t".into();
    let err = to_bytes(&p).unwrap_err();
    assert!(
        matches!(err, PptxError::EmptySlideTitle { slide: 2 }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "content slide 2 has no title");

    let mut p = deck();
    let mut lying = chart();
    lying.format = ImageFormat::Jpeg;
    p.slides[0].image = Some(lying);
    let err = to_bytes(&p).unwrap_err();
    assert!(
        matches!(
            err,
            PptxError::InvalidImage {
                slide: 1,
                expected: ImageFormat::Jpeg
            }
        ),
        "{err:?}"
    );

    let mut p = deck();
    p.slides[0].image = Some(Picture {
        bytes: b"GIF89a".to_vec(),
        format: ImageFormat::Png,
        width: 10,
        height: 10,
        caption: None,
    });
    assert!(matches!(
        to_bytes(&p),
        Err(PptxError::InvalidImage { slide: 1, .. })
    ));
}

#[test]
fn core_properties_carry_a_valid_timestamp() {
    assert_eq!(crate::writer::w3cdtf(0), "1970-01-01T00:00:00Z");
    assert_eq!(crate::writer::w3cdtf(951_827_696), "2000-02-29T12:34:56Z");
    assert_eq!(crate::writer::w3cdtf(1_735_689_599), "2024-12-31T23:59:59Z");
}

// --- atomic writing ---

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn write_reports_what_it_wrote_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("viaticos.pptx");
    let written = write(&deck(), &path).unwrap();
    assert_eq!(written.path, path);
    assert_eq!(written.slides, 4);
    assert_eq!(written.images, 1);
    assert_eq!(written.bytes, std::fs::metadata(&path).unwrap().len());
    assert_eq!(dir_entries(dir.path()), ["viaticos.pptx"]);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        unzip(&bytes).len(),
        unzip(&to_bytes(&deck()).unwrap()).len()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o644,
            "readable by others, like any file saved by hand"
        );
    }
}

#[test]
fn an_existing_file_is_replaced_only_on_success() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deck.pptx");
    std::fs::write(&path, b"previous version").unwrap();

    let err = write(&Presentation::new(""), &path).unwrap_err();
    assert!(matches!(err, PptxError::EmptyTitle));
    assert_eq!(std::fs::read(&path).unwrap(), b"previous version");
    assert_eq!(dir_entries(dir.path()), ["deck.pptx"]);

    write(&deck(), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"PK"), "replaced by the new package");
    assert_eq!(dir_entries(dir.path()), ["deck.pptx"]);
}

#[test]
fn writing_into_a_missing_directory_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no_such_dir").join("deck.pptx");
    let err = write(&deck(), &path).unwrap_err();
    match &err {
        PptxError::Io { path: p, .. } => assert_eq!(p, &path),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert!(err.to_string().contains("no_such_dir"), "{err}");
    assert_eq!(dir_entries(dir.path()), Vec::<String>::new());
}

// --- pictures in documents ---

fn zip_file(path: &Path, members: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, data) in members {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn markdown_references_resolve_next_to_the_document() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("img")).unwrap();
    std::fs::write(dir.path().join("img/gráfica ventas.png"), CHART_PNG).unwrap();
    std::fs::write(dir.path().join("img/icon.png"), ICON_PNG).unwrap();
    std::fs::write(dir.path().join("img/anim.gif"), b"GIF89a\x40\x00\x40\x00").unwrap();
    std::fs::write(dir.path().join("foto.jpg"), PHOTO_JPG).unwrap();
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    let doc = dir.path().join("docs/ventas.md");
    std::fs::write(
        &doc,
        concat!(
            "# Ventas\n\n",
            "![Gráfica de ventas](<../img/gráfica ventas.png> \"título\")\n",
            "![](../img/icon.png) ![gif](../img/anim.gif) ![falta](../img/no_existe.png)\n",
            "![remota](https://example.com/logo.png) ![absoluta](/etc/foto.jpg)\n",
            "<p><IMG alt=\"Foto &amp; equipo\" src='../foto.jpg?v=2'></p>\n",
            "Otra vez: ![repetida](../img/gr%C3%A1fica%20ventas.png)\n",
        ),
    )
    .unwrap();
    let pictures = images_in_document(&doc, 10);
    let summary: Vec<(ImageFormat, u32, Option<&str>)> = pictures
        .iter()
        .map(|p| (p.format, p.width, p.caption.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            (ImageFormat::Png, 64, Some("Gráfica de ventas")),
            (ImageFormat::Jpeg, 80, Some("Foto & equipo"))
        ]
    );
    assert_eq!(images_in_document(&doc, 1).len(), 1, "capped at max");

    // HTML tags and Markdown images mixed keep the order they appear in.
    let mixed = dir.path().join("mixto.markdown");
    std::fs::write(
        &mixed,
        "<img src=\"foto.jpg\">\n\n![gráfica](img/gr%C3%A1fica%20ventas.png)\n",
    )
    .unwrap();
    let formats: Vec<ImageFormat> = images_in_document(&mixed, 10)
        .iter()
        .map(|p| p.format)
        .collect();
    assert_eq!(formats, [ImageFormat::Jpeg, ImageFormat::Png]);
    assert!(images_in_document(&doc, 0).is_empty());
}

#[test]
fn html_img_tags_are_followed_but_urls_are_not() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("foto.jpeg"), PHOTO_JPG).unwrap();
    let doc = dir.path().join("pagina.html");
    std::fs::write(
        &doc,
        r#"<html><body><img src="http://example.com/a.png"><img src="data:image/png;base64,iVBORw0KGgo=">
        <imgx src="foto.jpeg"><img
          class=x alt=Oficina src=foto.jpeg /></body></html>"#,
    )
    .unwrap();
    let pictures = images_in_document(&doc, 5);
    assert_eq!(pictures.len(), 1);
    assert_eq!(
        (pictures[0].format, pictures[0].caption.as_deref()),
        (ImageFormat::Jpeg, Some("Oficina"))
    );
}

#[test]
fn office_documents_give_their_media() {
    let dir = tempfile::tempdir().unwrap();
    let docx = dir.path().join("informe.DOCX");
    zip_file(
        &docx,
        &[
            ("word/document.xml", b"<w:document/>"),
            ("word/media/image1.png", CHART_PNG),
            ("word/media/image2.png", ICON_PNG),
            ("word/media/image3.gif", b"GIF89a\x40\x00\x40\x00"),
            ("word/media/image4.jpeg", PHOTO_JPG),
            ("docProps/thumbnail.jpeg", PHOTO_JPG),
        ],
    );
    let pictures = images_in_document(&docx, 10);
    let sizes: Vec<(u32, u32)> = pictures.iter().map(|p| (p.width, p.height)).collect();
    assert_eq!(sizes, [(64, 48), (80, 60)]);
    assert_eq!(pictures[0].bytes, CHART_PNG);

    let odt = dir.path().join("acta.odt");
    zip_file(
        &odt,
        &[
            ("content.xml", b"<office:document-content/>"),
            ("Pictures/10000.jpg", PHOTO_JPG),
        ],
    );
    assert_eq!(images_in_document(&odt, 10).len(), 1);

    // A deck written by this crate gives its pictures back.
    let pptx = dir.path().join("deck.pptx");
    write(&deck(), &pptx).unwrap();
    let back = images_in_document(&pptx, 10);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].bytes, CHART_PNG);
}

#[test]
fn pdfs_give_their_embedded_jpegs() {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let jpeg = doc.add_object(Stream::new(
        dictionary! {"Type" => "XObject", "Subtype" => "Image", "Width" => 80, "Height" => 60,
        "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode"},
        PHOTO_JPG.to_vec(),
    ));
    // A Flate-compressed image (not a JPEG file) is skipped.
    let flate = doc.add_object(Stream::new(
        dictionary! {"Type" => "XObject", "Subtype" => "Image", "Width" => 64, "Height" => 64,
        "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "FlateDecode"},
        vec![0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    let content = doc.add_object(Stream::new(
        dictionary! {},
        b"q 80 0 0 60 0 0 cm /Im1 Do Q".to_vec(),
    ));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 80.into(), 60.into()],
        "Resources" => dictionary! {"XObject" => dictionary! {"Im1" => jpeg, "Im2" => flate}},
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! {"Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1},
        ),
    );
    let catalog = doc.add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id});
    doc.trailer.set("Root", catalog);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reporte.pdf");
    doc.save(&path).unwrap();

    let pictures = images_in_document(&path, 10);
    assert_eq!(pictures.len(), 1);
    assert_eq!(pictures[0].bytes, PHOTO_JPG);
    assert_eq!(
        (pictures[0].format, pictures[0].width, pictures[0].height),
        (ImageFormat::Jpeg, 80, 60)
    );
}

#[test]
fn image_files_are_their_own_picture_and_tiny_ones_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("grafica.PNG");
    std::fs::write(&png, CHART_PNG).unwrap();
    assert_eq!(images_in_document(&png, 3), [chart()]);
    let icon = dir.path().join("icon.png");
    std::fs::write(&icon, ICON_PNG).unwrap();
    assert!(images_in_document(&icon, 3).is_empty());
}

#[test]
fn broken_or_missing_files_give_no_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for name in [
        "roto.docx",
        "roto.pptx",
        "roto.odp",
        "roto.pdf",
        "roto.png",
        "roto.jpg",
        "roto.md",
        "roto.html",
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &garbage).unwrap();
        assert!(images_in_document(&path, 5).is_empty(), "{name}");
        std::fs::write(&path, b"").unwrap();
        assert!(images_in_document(&path, 5).is_empty(), "empty {name}");
    }
    // A PDF header followed by nonsense, a truncated zip, a PNG cut after its signature.
    let pdf = dir.path().join("truncado.pdf");
    std::fs::write(&pdf, b"%PDF-1.7\n1 0 obj << /Type /XObject /Subtype /Image /Filter /DCTDecode /Length 999 >> stream\n\xFF\xD8").unwrap();
    assert!(images_in_document(&pdf, 5).is_empty());
    let docx = dir.path().join("truncado.docx");
    zip_file(&docx, &[("word/media/image1.png", CHART_PNG)]);
    let bytes = std::fs::read(&docx).unwrap();
    std::fs::write(&docx, &bytes[..bytes.len() / 2]).unwrap();
    assert!(images_in_document(&docx, 5).is_empty());
    let png = dir.path().join("cortado.png");
    std::fs::write(&png, &CHART_PNG[..12]).unwrap();
    assert!(images_in_document(&png, 5).is_empty());

    assert!(images_in_document(&dir.path().join("no_existe.docx"), 5).is_empty());
    assert!(images_in_document(dir.path(), 5).is_empty(), "a directory");
    let folder = dir.path().join("carpeta.png");
    std::fs::create_dir(&folder).unwrap();
    assert!(
        images_in_document(&folder, 5).is_empty(),
        "a directory named like an image"
    );
    assert!(images_in_document(Path::new("notas.txt"), 5).is_empty());
}
