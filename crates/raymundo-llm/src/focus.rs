//! Passages cut to the sentences that matter for the question.
//!
//! The in-process model reads its prompt at a few hundred tokens a second on two cores, so
//! five whole passages (1,500+ tokens) would keep a user waiting many seconds for the first
//! word, and a 0.5B model misreads long context (measured on the sample: 7 of 16 right with
//! 120 tokens of snippets, 4 of 16 with 300). A provider that declares a snippet budget
//! ([`ChatProvider::snippet_budget`]) gets each passage reduced to its best sentences (the
//! extractive answerer's score: shared words, then meaning), best first, until the budget
//! is spent; a sentence that introduces a list (ends with `:`) brings the items after it,
//! and a table row brings the table's header row.
//! Sentences keep their reading order and passages their rank, so the numbering of the
//! snippets still matches the hits that the answer's citations are checked against.
//!
//! [`ChatProvider::snippet_budget`]: crate::ChatProvider::snippet_budget

use crate::extractive::Candidate;
use raymundo_core::Hit;
use std::collections::BTreeMap;

/// Sentences that follow a list introduction and are kept with it.
const LIST_ITEMS: usize = 4;

/// `hits` reduced to the best of their scored sentences (`candidates`, from
/// [`crate::ExtractiveAnswerer`]) within `budget` tokens (counted by `count`); passages left
/// without a sentence are dropped. Empty when no sentence is usable.
pub(crate) fn condense(
    candidates: &[Candidate],
    hits: &[Hit],
    budget: usize,
    count: &dyn Fn(&str) -> usize,
) -> Vec<Hit> {
    let mut ranked: Vec<usize> = (0..candidates.len()).collect();
    // Best first; ties keep the passages' rank and the reading order.
    ranked.sort_by(|&a, &b| candidates[b].score.total_cmp(&candidates[a].score));
    let mut chosen: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut used = 0;
    let mut take = |i: usize, chosen: &mut BTreeMap<(usize, usize), usize>| -> bool {
        let c = &candidates[i];
        if chosen.contains_key(&(c.hit, c.order)) {
            return true;
        }
        let tokens = count(&c.text) + 1;
        if used + tokens > budget {
            return false;
        }
        used += tokens;
        chosen.insert((c.hit, c.order), i);
        true
    };
    for &i in &ranked {
        if !take(i, &mut chosen) {
            continue;
        }
        if candidates[i].text.starts_with('|') {
            // The table's header: the first row of the run of rows this one belongs to.
            let (hit, order) = (candidates[i].hit, candidates[i].order);
            let header = (0..candidates.len())
                .filter(|&j| {
                    candidates[j].hit == hit
                        && candidates[j].order < order
                        && candidates[j].text.starts_with('|')
                })
                .min_by_key(|&j| candidates[j].order);
            if let Some(j) = header {
                take(j, &mut chosen);
            }
        }
        if candidates[i].text.trim_end().ends_with(':') {
            let (hit, order) = (candidates[i].hit, candidates[i].order);
            let items = (0..candidates.len())
                .filter(|&j| candidates[j].hit == hit && candidates[j].order > order)
                .take(LIST_ITEMS);
            for j in items.collect::<Vec<_>>() {
                if !take(j, &mut chosen) {
                    break;
                }
            }
        }
    }
    let mut out: Vec<Hit> = Vec::new();
    for (h, hit) in hits.iter().enumerate() {
        let sentences: Vec<&str> = chosen
            .range((h, 0)..(h + 1, 0))
            .map(|(_, &i)| candidates[i].text.as_str())
            .collect();
        if sentences.is_empty() {
            continue;
        }
        let mut cut = hit.clone();
        cut.chunk.text = sentences.join("\n");
        out.push(cut);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use raymundo_core::Chunk;

    fn hit(doc: &str, score: f32, text: &str) -> Hit {
        Hit::dense(
            Chunk {
                doc: doc.into(),
                position: 0,
                source: "faq".into(),
                intent: None,
                title: doc.into(),
                section: None,
                text: text.into(),
                tokens: 100,
            },
            score,
        )
    }

    fn condense(
        question: &str,
        hits: &[Hit],
        budget: usize,
        count: &dyn Fn(&str) -> usize,
    ) -> Vec<Hit> {
        let candidates = crate::extractive::lexical_candidates(question, hits);
        super::condense(&candidates, hits, budget, count)
    }

    fn words(s: &str) -> usize {
        s.split_whitespace().count()
    }

    #[test]
    fn keeps_the_matching_sentences_within_the_budget_in_reading_order() {
        let hits = [
            hit(
                "faq/envios.md",
                0.9,
                "Nuestra empresa nació en Guadalajara en 1998 con tres empleados. \
                 El envío estándar cuesta 149 pesos en todo México. \
                 Los pedidos se empacan cada mañana en el almacén central. \
                 El envío express cuesta 289 pesos y llega al día siguiente.",
            ),
            hit(
                "faq/pagos.md",
                0.8,
                "Aceptamos tarjeta de crédito, transferencia y pago en tiendas.",
            ),
        ];
        let cut = condense("¿Cuánto cuesta el envío express?", &hits, 22, &words);
        assert_eq!(cut.len(), 1, "{cut:?}");
        assert_eq!(cut[0].chunk.doc, "faq/envios.md");
        assert_eq!(
            cut[0].chunk.text,
            "El envío estándar cuesta 149 pesos en todo México.\n\
             El envío express cuesta 289 pesos y llega al día siguiente."
        );
    }

    #[test]
    fn a_list_introduction_brings_its_items() {
        let hits = [hit(
            "manual/garantia.md",
            0.9,
            "La garantía cubre lo siguiente:\n- defectos de fabricación del equipo\n\
             - fallas del sensor durante el primer año\n\nOtros temas del manual sin relación alguna.",
        )];
        let cut = condense("¿Qué cubre la garantía?", &hits, 20, &words);
        assert!(cut[0].chunk.text.contains("fallas del sensor"), "{cut:?}");
        assert!(!cut[0].chunk.text.contains("Otros temas"), "{cut:?}");
    }

    #[test]
    fn a_table_row_brings_the_header() {
        let hits = [hit(
            "faq/planes.md",
            0.9,
            "Precios de los planes de la app.

| Plan | Precio mensual | Precio anual |
|---|---|---|
             | Plan Verde | $79.00 MXN | $790.00 MXN |
| Plan Campo | $249.00 MXN | $2,490.00 MXN |",
        )];
        let cut = condense("¿cuánto cuesta el plan campo al año?", &hits, 30, &words);
        let text = &cut[0].chunk.text;
        assert!(
            text.contains("Precio anual") && text.contains("2,490"),
            "{text}"
        );
        assert!(!text.contains("Verde"), "{text}");
    }
}
