//! A page's nested forms, checked before `pdf-extract` draws them. It follows every `Do`
//! operator into the named XObject with no depth limit: a form that draws itself (directly
//! or through others) overflows the stack, which no `catch_unwind` can catch, and forms that
//! each draw the next one twice, thirty deep, take a billion steps. This walks the same
//! calls, with a depth limit, a count and the chain of forms being drawn, and refuses the
//! file when a form draws one of the forms that contain it.

use pdf_extract::content::Content;
use pdf_extract::{Dictionary, Document, Object, ObjectId};

/// Forms nested deeper than this are refused (office tools nest two or three).
const MAX_DEPTH: usize = 24;
/// Forms drawn on one page, counting each time one is drawn again.
const MAX_DRAWS: usize = 4096;
/// Parent links followed to find a page's inherited resources.
const MAX_PARENTS: usize = 64;

/// Checks the forms page `page` draws; the error is the reason to skip the file.
pub(crate) fn check_page_forms(doc: &Document, page: ObjectId) -> Result<(), String> {
    let Ok(page_dict) = doc.get_dictionary(page) else {
        return Ok(());
    };
    let resources = inherited_resources(doc, page_dict);
    let content = doc.get_page_content(page).unwrap_or_default();
    let mut walk = Walk {
        doc,
        chain: Vec::new(),
        draws: 0,
    };
    walk.content(&content, resources)
}

/// The page's `/Resources`, or the nearest ancestor's.
fn inherited_resources<'a>(doc: &'a Document, page: &'a Dictionary) -> Option<&'a Dictionary> {
    let mut node = page;
    for _ in 0..MAX_PARENTS {
        if let Some(resources) = node.get(b"Resources").ok().and_then(|r| dict(doc, r)) {
            return Some(resources);
        }
        node = node.get(b"Parent").ok().and_then(|p| dict(doc, p))?;
    }
    None
}

fn dict<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Dictionary> {
    doc.dereference(object).ok()?.1.as_dict().ok()
}

struct Walk<'a> {
    doc: &'a Document,
    /// The forms being drawn, outermost first (`None` for a form that is not an indirect
    /// object, which nothing can refer back to).
    chain: Vec<Option<ObjectId>>,
    draws: usize,
}

impl<'a> Walk<'a> {
    fn content(&mut self, content: &[u8], resources: Option<&'a Dictionary>) -> Result<(), String> {
        // Content pdf-extract cannot decode makes it fail on its own, without recursing.
        let Ok(content) = Content::decode(content) else {
            return Ok(());
        };
        for operation in content.operations.iter().filter(|o| o.operator == "Do") {
            let Some(name) = operation.operands.first().and_then(|o| o.as_name().ok()) else {
                continue;
            };
            let Some(xobjects) = resources
                .and_then(|r| r.get(b"XObject").ok())
                .and_then(|x| dict(self.doc, x))
            else {
                continue;
            };
            let Some((id, form)) = xobjects
                .get(name)
                .ok()
                .and_then(|x| self.doc.dereference(x).ok())
            else {
                continue;
            };
            let Ok(stream) = form.as_stream() else {
                continue;
            };
            if id.is_some() && self.chain.contains(&id) {
                return Err("PDF has a form that draws itself (a crafted file?)".to_string());
            }
            self.draws += 1;
            if self.chain.len() >= MAX_DEPTH || self.draws > MAX_DRAWS {
                return Err(format!(
                    "PDF draws forms more than {MAX_DEPTH} deep or more than {MAX_DRAWS} times on a page (a crafted file?)"
                ));
            }
            let inner = stream
                .dict
                .get(b"Resources")
                .ok()
                .and_then(|r| dict(self.doc, r))
                .or(resources);
            let bytes = match stream.filters() {
                Ok(_) => stream
                    .decompressed_content()
                    .unwrap_or_else(|_| stream.content.clone()),
                Err(_) => stream.content.clone(),
            };
            self.chain.push(id);
            self.content(&bytes, inner)?;
            self.chain.pop();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pdf_extract::{Object, Stream};

    /// A document with one page whose content is `page_content`, and forms `X0`, `X1` ...
    /// with the given contents; `own_resources` gives each form the page's XObject names
    /// (else forms inherit the page's resources).
    fn document(page_content: &[u8], forms: &[&[u8]], own_resources: bool) -> (Document, ObjectId) {
        let mut doc = Document::with_version("1.5");
        let ids: Vec<ObjectId> = forms.iter().map(|_| doc.new_object_id()).collect();
        let mut xobjects = Dictionary::new();
        for (i, id) in ids.iter().enumerate() {
            xobjects.set(format!("X{i}"), Object::Reference(*id));
        }
        let mut resources = Dictionary::new();
        resources.set("XObject", Object::Dictionary(xobjects));
        for (id, content) in ids.iter().zip(forms) {
            let mut dict = Dictionary::new();
            dict.set("Type", Object::Name(b"XObject".to_vec()));
            dict.set("Subtype", Object::Name(b"Form".to_vec()));
            if own_resources {
                dict.set("Resources", Object::Dictionary(resources.clone()));
            }
            doc.objects
                .insert(*id, Object::Stream(Stream::new(dict, content.to_vec())));
        }
        let contents = doc.add_object(Stream::new(Dictionary::new(), page_content.to_vec()));
        let mut page = Dictionary::new();
        page.set("Type", Object::Name(b"Page".to_vec()));
        page.set("Resources", Object::Dictionary(resources));
        page.set("Contents", Object::Reference(contents));
        let page = doc.add_object(page);
        (doc, page)
    }

    #[test]
    fn a_form_that_draws_itself_is_refused() {
        let (doc, page) = document(b"/X0 Do", &[b"/X0 Do"], true);
        let err = check_page_forms(&doc, page).unwrap_err();
        assert!(err.contains("draws itself"), "{err}");
        // Through another form, with inherited resources.
        let (doc, page) = document(b"/X0 Do", &[b"/X1 Do", b"/X0 Do"], false);
        assert!(check_page_forms(&doc, page).is_err());
    }

    #[test]
    fn forms_drawn_twice_each_level_are_refused_quickly() {
        let contents: Vec<Vec<u8>> = (0..30)
            .map(|i| format!("/X{} Do /X{} Do", i + 1, i + 1).into_bytes())
            .collect();
        let forms: Vec<&[u8]> = contents.iter().map(Vec::as_slice).collect();
        let (doc, page) = document(b"/X0 Do", &forms, true);
        let err = check_page_forms(&doc, page).unwrap_err();
        assert!(err.contains("deep"), "{err}");
    }

    #[test]
    fn ordinary_forms_pass() {
        // A logo drawn twice, and a form drawing another: what office tools write.
        let (doc, page) = document(
            b"/X0 Do /X0 Do /X1 Do",
            &[b"BT (logo) Tj ET", b"/X0 Do"],
            true,
        );
        assert_eq!(check_page_forms(&doc, page), Ok(()));
    }

    #[test]
    fn the_pdf_reader_skips_a_self_drawing_form_instead_of_overflowing_its_stack() {
        let (mut doc, page) = document(b"BT (Hola) Tj ET /X0 Do", &[b"/X0 Do"], true);
        let kids = vec![Object::Reference(page)];
        let mut pages = Dictionary::new();
        pages.set("Type", Object::Name(b"Pages".to_vec()));
        pages.set("Kids", Object::Array(kids));
        pages.set("Count", Object::Integer(1));
        let pages = doc.add_object(pages);
        if let Ok(Object::Dictionary(p)) = doc.get_object_mut(page) {
            p.set("Parent", Object::Reference(pages));
            p.set(
                "MediaBox",
                Object::Array(vec![0.into(), 0.into(), 612.into(), 792.into()]),
            );
        }
        let mut catalog = Dictionary::new();
        catalog.set("Type", Object::Name(b"Catalog".to_vec()));
        catalog.set("Pages", Object::Reference(pages));
        let catalog = doc.add_object(catalog);
        doc.trailer.set("Root", Object::Reference(catalog));
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        let err = super::super::pdf::pdf_to_text(&bytes).unwrap_err();
        assert!(err.contains("draws itself"), "{err}");
    }
}
