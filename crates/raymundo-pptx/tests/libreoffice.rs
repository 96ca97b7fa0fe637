//! LibreOffice opens what this crate writes: the deck converts to ODP with every slide and to
//! a PDF with one page per slide.
//!
//! Needs `soffice` on `PATH`. Without it the test prints a note and passes, unless
//! `RAYMUNDO_REQUIRE_SOFFICE=1`, which turns the absence into a failure (for CI machines that
//! are meant to have it). `RAYMUNDO_PPTX_KEEP=<dir>` copies the deck and its conversions there
//! for a look by hand.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use raymundo_pptx::{write, Picture, Presentation, Slide};

/// The first start of LibreOffice with a fresh profile takes 20 to 60 s on a slow machine.
const SOFFICE_TIMEOUT: Duration = Duration::from_secs(300);

const CHART_PNG: &[u8] = include_bytes!("fixtures/chart.png");

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn deck() -> Presentation {
    let mut deck = Presentation::new("Política de viáticos <2025> & \"más\"");
    deck.subtitle = Some("Resumen preparado por Raymundo".into());
    let mut montos = Slide::new(
        "Montos diarios",
        [
            "Hospedaje: hasta $2,000 por noche",
            "Comidas: hasta $600 por día",
            "Transporte local con factura",
        ],
    );
    montos.notes = Some("Recordar que los montos son por persona.".into());
    deck.slides.push(montos);
    let mut grafica = Slide::new(
        "Gasto por región",
        ["El norte concentra la mitad del gasto", "El sur bajó 10 %"],
    );
    grafica.image = Some(
        Picture::from_bytes(CHART_PNG.to_vec())
            .expect("fixture")
            .with_caption("Gasto 2024"),
    );
    deck.slides.push(grafica);
    let mut organigrama = Slide::new(
        "¿Quién autoriza?",
        ["Gerente de área hasta $10,000", "Dirección por encima"],
    );
    organigrama.placeholder = Some("Sin imagen disponible en las fuentes".into());
    deck.slides.push(organigrama);
    deck.sources = vec!["politica_viaticos.docx".into(), "gastos_2024.xlsx".into()];
    deck
}

/// Runs `soffice --headless --convert-to <format>` with its own profile, within the timeout.
fn convert(soffice: &Path, profile: &Path, format: &str, input: &Path, outdir: &Path) {
    let started = Instant::now();
    let mut child = Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            format,
            "--outdir",
        ])
        .arg(outdir)
        .arg(input)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("soffice starts");
    loop {
        if let Some(status) = child.try_wait().expect("waiting for soffice") {
            let mut out = String::new();
            let mut err = String::new();
            child.stdout.take().map(|mut s| s.read_to_string(&mut out));
            child.stderr.take().map(|mut s| s.read_to_string(&mut err));
            assert!(
                status.success(),
                "soffice --convert-to {format} failed ({status}):\n{out}\n{err}"
            );
            eprintln!(
                "soffice --convert-to {format}: {:.1} s",
                started.elapsed().as_secs_f64()
            );
            return;
        }
        if started.elapsed() > SOFFICE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("soffice --convert-to {format} did not finish within {SOFFICE_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn libreoffice_converts_the_deck_with_every_slide() {
    let Some(soffice) = find_on_path("soffice") else {
        if std::env::var("RAYMUNDO_REQUIRE_SOFFICE").as_deref() == Ok("1") {
            panic!("RAYMUNDO_REQUIRE_SOFFICE=1 but `soffice` is not on PATH (install libreoffice-impress-nogui)");
        }
        eprintln!("note: `soffice` is not on PATH; skipping the LibreOffice check");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pptx = dir.path().join("viaticos.pptx");
    let written = write(&deck(), &pptx).unwrap();
    assert_eq!((written.slides, written.images), (5, 1));
    let profile = dir.path().join("lo-profile");
    let outdir = dir.path().join("out");

    convert(&soffice, &profile, "odp", &pptx, &outdir);
    let odp = outdir.join("viaticos.odp");
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(&odp).expect("the .odp exists")).unwrap();
    let mut content = String::new();
    archive
        .by_name("content.xml")
        .unwrap()
        .read_to_string(&mut content)
        .unwrap();
    assert_eq!(
        content.matches("<draw:page ").count(),
        5,
        "title + 3 content + sources"
    );
    for text in [
        "Política de viáticos &lt;2025&gt; &amp;",
        "¿Quién autoriza?",
        "Comidas: hasta $600 por día",
        "Sin imagen disponible en las fuentes",
        "Gasto 2024",
        "politica_viaticos.docx",
        "Recordar que los montos son por persona.",
    ] {
        assert!(
            content.contains(text),
            "{text:?} missing from the converted deck"
        );
    }
    let pictures = archive
        .file_names()
        .filter(|n| n.starts_with("Pictures/"))
        .count();
    assert!(pictures >= 1, "the picture did not survive the conversion");

    convert(&soffice, &profile, "pdf", &pptx, &outdir);
    let pdf = outdir.join("viaticos.pdf");
    let bytes = std::fs::read(&pdf).expect("the PDF exists");
    assert!(bytes.starts_with(b"%PDF"), "not a PDF");
    let pages = lopdf::Document::load_mem(&bytes).unwrap().get_pages().len();
    assert_eq!(pages, 5, "one PDF page per slide");

    if let Some(keep) = std::env::var_os("RAYMUNDO_PPTX_KEEP") {
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).unwrap();
        for file in [&pptx, &odp, &pdf] {
            std::fs::copy(file, keep.join(file.file_name().unwrap())).unwrap();
        }
    }
}
