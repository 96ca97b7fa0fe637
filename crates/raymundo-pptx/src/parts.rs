//! The package parts that do not depend on the slides' content: content types,
//! relationships, document properties, theme, slide master, layouts and notes master.
//!
//! Element order follows the ECMA-376 schemas (PowerPoint refuses files that break it even
//! where LibreOffice is lenient).

use crate::xml::escape;

pub(crate) const XML_DECL: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;
/// Namespaces of the PresentationML parts (`a:`, `r:`, `p:`).
pub(crate) const NS: &str = concat!(
    r#"xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" "#,
    r#"xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" "#,
    r#"xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main""#
);

/// Relationship types.
pub(crate) mod rel {
    const OFFICE: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    pub(crate) const OFFICE_DOCUMENT: &str =
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument";
    pub(crate) const CORE_PROPERTIES: &str =
        "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties";
    pub(crate) const EXTENDED_PROPERTIES: &str =
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties";

    /// `{OFFICE}/{kind}`, for the relationship kinds inside `ppt/`.
    pub(crate) fn office(kind: &str) -> String {
        format!("{OFFICE}/{kind}")
    }
}

/// Content types of the parts.
pub(crate) mod ct {
    const PML: &str = "application/vnd.openxmlformats-officedocument.presentationml";
    pub(crate) fn pml(kind: &str) -> String {
        format!("{PML}.{kind}+xml")
    }
    pub(crate) const THEME: &str = "application/vnd.openxmlformats-officedocument.theme+xml";
    pub(crate) const CORE: &str = "application/vnd.openxmlformats-package.core-properties+xml";
    pub(crate) const APP: &str =
        "application/vnd.openxmlformats-officedocument.extended-properties+xml";
}

/// A `.rels` part from `(type, target)` pairs; ids are `rId1`, `rId2`, ... in order.
pub(crate) fn relationships<T: AsRef<str>, U: AsRef<str>>(rels: &[(T, U)]) -> String {
    let mut xml = format!(
        r#"{XML_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
    );
    for (i, (kind, target)) in rels.iter().enumerate() {
        xml.push_str(&format!(
            r#"<Relationship Id="rId{}" Type="{}" Target="{}"/>"#,
            i + 1,
            kind.as_ref(),
            escape(target.as_ref())
        ));
    }
    xml.push_str("</Relationships>");
    xml
}

/// `[Content_Types].xml`: defaults by extension, overrides by part name.
pub(crate) fn content_types(overrides: &[(String, String)]) -> String {
    let mut xml = format!(
        concat!(
            r#"{}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#,
            r#"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#,
            r#"<Default Extension="xml" ContentType="application/xml"/>"#,
            r#"<Default Extension="png" ContentType="image/png"/>"#,
            r#"<Default Extension="jpeg" ContentType="image/jpeg"/>"#,
        ),
        XML_DECL
    );
    for (part, content_type) in overrides {
        xml.push_str(&format!(
            r#"<Override PartName="{part}" ContentType="{content_type}"/>"#
        ));
    }
    xml.push_str("</Types>");
    xml
}

/// `docProps/core.xml`: title, creator, language, dates.
pub(crate) fn core_properties(title: &str, language: &str, now: &str) -> String {
    let language = if language.is_empty() {
        String::new()
    } else {
        format!("<dc:language>{}</dc:language>", escape(language))
    };
    format!(
        concat!(
            "{decl}",
            r#"<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" "#,
            r#"xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" "#,
            r#"xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
            "<dc:title>{title}</dc:title><dc:creator>Raymundo</dc:creator>",
            "<cp:lastModifiedBy>Raymundo</cp:lastModifiedBy><cp:revision>1</cp:revision>{language}",
            r#"<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>"#,
            r#"<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>"#,
            "</cp:coreProperties>"
        ),
        decl = XML_DECL,
        title = escape(title),
        language = language,
        now = now
    )
}

/// `docProps/app.xml`: application name and counts.
pub(crate) fn app_properties(slides: usize, notes: usize) -> String {
    format!(
        concat!(
            "{}",
            r#"<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" "#,
            r#"xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">"#,
            "<Application>Raymundo</Application><Slides>{}</Slides><Notes>{}</Notes>",
            "<HiddenSlides>0</HiddenSlides></Properties>"
        ),
        XML_DECL, slides, notes
    )
}

/// `ppt/presProps.xml`.
pub(crate) fn pres_props() -> String {
    format!("{XML_DECL}<p:presentationPr {NS}/>")
}

/// `ppt/viewProps.xml`: open in the normal view.
pub(crate) fn view_props() -> String {
    format!(
        concat!(
            "{}<p:viewPr {}>",
            r#"<p:normalViewPr><p:restoredLeft sz="15620"/><p:restoredTop sz="94660"/></p:normalViewPr>"#,
            r#"<p:gridSpacing cx="76200" cy="76200"/></p:viewPr>"#
        ),
        XML_DECL, NS
    )
}

/// `ppt/tableStyles.xml`: no table styles, PowerPoint's default one named as default.
pub(crate) fn table_styles() -> String {
    format!(
        r#"{XML_DECL}<a:tblStyleLst xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" def="{{5C22544A-7EE6-4342-B048-85BDC9FD1C3A}}"/>"#
    )
}

/// A theme: a sober blue colour scheme, Calibri fonts, plain fills and lines.
pub(crate) fn theme() -> String {
    let line = |w: u32| {
        format!(
            concat!(
                r#"<a:ln w="{}" cap="flat" cmpd="sng" algn="ctr"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill>"#,
                r#"<a:prstDash val="solid"/><a:miter lim="800000"/></a:ln>"#
            ),
            w
        )
    };
    format!(
        concat!(
            "{decl}",
            r#"<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="Raymundo">"#,
            "<a:themeElements>",
            r#"<a:clrScheme name="Raymundo">"#,
            r#"<a:dk1><a:sysClr val="windowText" lastClr="000000"/></a:dk1>"#,
            r#"<a:lt1><a:sysClr val="window" lastClr="FFFFFF"/></a:lt1>"#,
            r#"<a:dk2><a:srgbClr val="1F3864"/></a:dk2><a:lt2><a:srgbClr val="E7E6E6"/></a:lt2>"#,
            r#"<a:accent1><a:srgbClr val="1F4E79"/></a:accent1><a:accent2><a:srgbClr val="ED7D31"/></a:accent2>"#,
            r#"<a:accent3><a:srgbClr val="A5A5A5"/></a:accent3><a:accent4><a:srgbClr val="FFC000"/></a:accent4>"#,
            r#"<a:accent5><a:srgbClr val="5B9BD5"/></a:accent5><a:accent6><a:srgbClr val="70AD47"/></a:accent6>"#,
            r#"<a:hlink><a:srgbClr val="0563C1"/></a:hlink><a:folHlink><a:srgbClr val="954F72"/></a:folHlink>"#,
            "</a:clrScheme>",
            r#"<a:fontScheme name="Raymundo">"#,
            r#"<a:majorFont><a:latin typeface="Calibri Light"/><a:ea typeface=""/><a:cs typeface=""/></a:majorFont>"#,
            r#"<a:minorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont>"#,
            "</a:fontScheme>",
            r#"<a:fmtScheme name="Raymundo"><a:fillStyleLst>"#,
            r#"<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>"#,
            r#"<a:solidFill><a:schemeClr val="phClr"><a:tint val="50000"/></a:schemeClr></a:solidFill>"#,
            r#"<a:solidFill><a:schemeClr val="phClr"><a:shade val="80000"/></a:schemeClr></a:solidFill>"#,
            "</a:fillStyleLst><a:lnStyleLst>{l1}{l2}{l3}</a:lnStyleLst>",
            "<a:effectStyleLst><a:effectStyle><a:effectLst/></a:effectStyle>",
            "<a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle>",
            "</a:effectStyleLst><a:bgFillStyleLst>",
            r#"<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>"#,
            r#"<a:solidFill><a:schemeClr val="phClr"><a:tint val="95000"/></a:schemeClr></a:solidFill>"#,
            r#"<a:solidFill><a:schemeClr val="phClr"><a:shade val="90000"/></a:schemeClr></a:solidFill>"#,
            "</a:bgFillStyleLst></a:fmtScheme>",
            "</a:themeElements><a:objectDefaults/><a:extraClrSchemeLst/></a:theme>"
        ),
        decl = XML_DECL,
        l1 = line(6350),
        l2 = line(12700),
        l3 = line(19050)
    )
}

const CLR_MAP: &str = concat!(
    r#"<p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" "#,
    r#"accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink"/>"#
);

const GROUP_PROPS: &str = concat!(
    r#"<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>"#,
    r#"<p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/>"#,
    r#"<a:chOff x="0" y="0"/><a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr>"#
);

/// The opening of every shape tree (its group properties).
pub(crate) fn sp_tree_open() -> String {
    format!("<p:spTree>{GROUP_PROPS}")
}

/// Run properties shared by the master's text styles.
fn def_run(size: u32, colour: &str, font: &str) -> String {
    format!(
        concat!(
            r#"<a:defRPr sz="{}" kern="1200"><a:solidFill><a:schemeClr val="{}"/></a:solidFill>"#,
            r#"<a:latin typeface="+{f}-lt"/><a:ea typeface="+{f}-ea"/><a:cs typeface="+{f}-cs"/></a:defRPr>"#
        ),
        size,
        colour,
        f = font
    )
}

/// A placeholder shape of a master or layout, with prompt text.
fn master_placeholder(
    id: u32,
    name: &str,
    ph: &str,
    xfrm: &str,
    anchor: &str,
    prompt: &str,
    lst: &str,
) -> String {
    format!(
        concat!(
            r#"<p:sp><p:nvSpPr><p:cNvPr id="{id}" name="{name}"/><p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr>"#,
            "<p:nvPr>{ph}</p:nvPr></p:nvSpPr><p:spPr>{xfrm}</p:spPr>",
            r#"<p:txBody><a:bodyPr vert="horz" lIns="91440" tIns="45720" rIns="91440" bIns="45720" rtlCol="0" anchor="{anchor}">"#,
            "<a:normAutofit/></a:bodyPr><a:lstStyle>{lst}</a:lstStyle>",
            "<a:p><a:r><a:rPr lang=\"es-MX\"/><a:t>{prompt}</a:t></a:r></a:p></p:txBody></p:sp>"
        ),
        id = id,
        name = name,
        ph = ph,
        xfrm = xfrm,
        anchor = anchor,
        lst = lst,
        prompt = prompt
    )
}

/// `<a:xfrm>` with a rectangular geometry, as in a shape's `spPr`.
pub(crate) fn xfrm_rect(r: crate::writer::Rect) -> String {
    format!(
        r#"<a:xfrm><a:off x="{}" y="{}"/><a:ext cx="{}" cy="{}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom>"#,
        r.x, r.y, r.cx, r.cy
    )
}

/// `ppt/slideMasters/slideMaster1.xml`: title and body placeholders, an accent band at the
/// bottom, and the text styles (bulleted body).
pub(crate) fn slide_master() -> String {
    use crate::writer::{BAND, BODY, TITLE};
    let title = master_placeholder(
        2,
        "Title Placeholder 1",
        r#"<p:ph type="title"/>"#,
        &xfrm_rect(TITLE),
        "ctr",
        "Título",
        "",
    );
    let body = master_placeholder(
        3,
        "Text Placeholder 2",
        r#"<p:ph type="body" idx="1"/>"#,
        &xfrm_rect(BODY),
        "t",
        "Texto",
        "",
    );
    let band = format!(
        concat!(
            r#"<p:sp><p:nvSpPr><p:cNvPr id="4" name="Accent band"/><p:cNvSpPr/><p:nvPr userDrawn="1"/></p:nvSpPr>"#,
            r#"<p:spPr>{}<a:solidFill><a:schemeClr val="accent1"/></a:solidFill><a:ln><a:noFill/></a:ln></p:spPr></p:sp>"#
        ),
        xfrm_rect(BAND)
    );
    format!(
        concat!(
            "{decl}<p:sldMaster {ns}><p:cSld>",
            r#"<p:bg><p:bgRef idx="1001"><a:schemeClr val="bg1"/></p:bgRef></p:bg>"#,
            "{tree}{title}{body}{band}</p:spTree></p:cSld>{clr}",
            r#"<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/><p:sldLayoutId id="2147483650" r:id="rId2"/></p:sldLayoutIdLst>"#,
            "<p:txStyles>",
            r#"<p:titleStyle><a:lvl1pPr algn="l" defTabSz="914400" rtl="0" eaLnBrk="1" latinLnBrk="0" hangingPunct="1">"#,
            r#"<a:lnSpc><a:spcPct val="90000"/></a:lnSpc><a:spcBef><a:spcPct val="0"/></a:spcBef><a:buNone/>{title_run}</a:lvl1pPr></p:titleStyle>"#,
            r#"<p:bodyStyle><a:lvl1pPr marL="342900" indent="-342900" algn="l" defTabSz="914400" rtl="0" eaLnBrk="1" latinLnBrk="0" hangingPunct="1">"#,
            r#"<a:lnSpc><a:spcPct val="100000"/></a:lnSpc><a:spcBef><a:spcPts val="1000"/></a:spcBef>"#,
            r#"<a:buFont typeface="Arial"/><a:buChar char="•"/>{body_run}</a:lvl1pPr></p:bodyStyle>"#,
            r#"<p:otherStyle><a:lvl1pPr marL="0" algn="l" defTabSz="914400" rtl="0" eaLnBrk="1" latinLnBrk="0" hangingPunct="1">"#,
            "{other_run}</a:lvl1pPr></p:otherStyle>",
            "</p:txStyles></p:sldMaster>"
        ),
        decl = XML_DECL,
        ns = NS,
        tree = sp_tree_open(),
        title = title,
        body = body,
        band = band,
        clr = CLR_MAP,
        title_run = def_run(4000, "tx2", "mj"),
        body_run = def_run(2400, "tx1", "mn"),
        other_run = def_run(1800, "tx1", "mn"),
    )
}

/// `ppt/slideLayouts/slideLayout1.xml`: the title slide (centred title and subtitle).
pub(crate) fn title_layout() -> String {
    use crate::writer::{CENTER_TITLE, SUBTITLE};
    let centred = |size: u32| {
        format!(
            r#"<a:lvl1pPr marL="0" indent="0" algn="ctr"><a:buNone/><a:defRPr sz="{size}"/></a:lvl1pPr>"#
        )
    };
    let title = master_placeholder(
        2,
        "Title 1",
        r#"<p:ph type="ctrTitle"/>"#,
        &xfrm_rect(CENTER_TITLE),
        "b",
        "Título",
        &centred(4800),
    );
    let subtitle = master_placeholder(
        3,
        "Subtitle 2",
        r#"<p:ph type="subTitle" idx="1"/>"#,
        &xfrm_rect(SUBTITLE),
        "t",
        "Subtítulo",
        &centred(2400),
    );
    layout("title", "Title Slide", &format!("{title}{subtitle}"))
}

/// `ppt/slideLayouts/slideLayout2.xml`: title and content (positions from the master).
pub(crate) fn content_layout() -> String {
    let title = master_placeholder(
        2,
        "Title 1",
        r#"<p:ph type="title"/>"#,
        "",
        "ctr",
        "Título",
        "",
    );
    let body = master_placeholder(
        3,
        "Content Placeholder 2",
        r#"<p:ph idx="1"/>"#,
        "",
        "t",
        "Texto",
        "",
    );
    layout("obj", "Title and Content", &format!("{title}{body}"))
}

fn layout(kind: &str, name: &str, shapes: &str) -> String {
    format!(
        concat!(
            r#"{decl}<p:sldLayout {ns} type="{kind}" preserve="1"><p:cSld name="{name}">"#,
            "{tree}{shapes}</p:spTree></p:cSld>",
            "<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>"
        ),
        decl = XML_DECL,
        ns = NS,
        kind = kind,
        name = name,
        tree = sp_tree_open(),
        shapes = shapes
    )
}

/// `ppt/notesMasters/notesMaster1.xml`: slide image above, notes text below (portrait page).
pub(crate) fn notes_master() -> String {
    use crate::writer::Rect;
    let image = format!(
        concat!(
            r#"<p:sp><p:nvSpPr><p:cNvPr id="2" name="Slide Image Placeholder 1"/>"#,
            r#"<p:cNvSpPr><a:spLocks noGrp="1" noRot="1" noChangeAspect="1"/></p:cNvSpPr>"#,
            r#"<p:nvPr><p:ph type="sldImg" idx="2"/></p:nvPr></p:nvSpPr>"#,
            r#"<p:spPr>{}<a:noFill/><a:ln w="12700"><a:solidFill><a:prstClr val="black"/></a:solidFill></a:ln></p:spPr></p:sp>"#
        ),
        xfrm_rect(Rect {
            x: 685800,
            y: 1143000,
            cx: 5486400,
            cy: 3086100
        })
    );
    let body = master_placeholder(
        3,
        "Notes Placeholder 2",
        r#"<p:ph type="body" sz="quarter" idx="3"/>"#,
        &xfrm_rect(Rect {
            x: 685800,
            y: 4400550,
            cx: 5486400,
            cy: 3600450,
        }),
        "t",
        "Notas",
        "",
    );
    format!(
        concat!(
            "{decl}<p:notesMaster {ns}><p:cSld>",
            r#"<p:bg><p:bgRef idx="1001"><a:schemeClr val="bg1"/></p:bgRef></p:bg>"#,
            "{tree}{image}{body}</p:spTree></p:cSld>{clr}",
            r#"<p:notesStyle><a:lvl1pPr marL="0" algn="l" defTabSz="914400" rtl="0" eaLnBrk="1" latinLnBrk="0" hangingPunct="1">"#,
            "{run}</a:lvl1pPr></p:notesStyle></p:notesMaster>"
        ),
        decl = XML_DECL,
        ns = NS,
        tree = sp_tree_open(),
        image = image,
        body = body,
        clr = CLR_MAP,
        run = def_run(1200, "tx1", "mn")
    )
}
