use super::*;

/// A unit vector near axis `axis` of `dim`, nudged by `noise` along `other`.
fn v(dim: usize, axis: usize, other: usize, noise: f32) -> Vec<f32> {
    let mut x = vec![0.0; dim];
    x[axis] = 1.0;
    x[other] += noise;
    normalise(&mut x);
    x
}

fn names() -> Vec<String> {
    vec!["a".into(), "b".into()]
}

type Examples = Vec<(usize, Vec<f32>)>;

/// Intent `a` lives on axis 0, `b` on axis 1, no-intent messages on axes 2..4.
fn training() -> (Examples, Vec<Vec<f32>>) {
    let examples = vec![
        (0, v(6, 0, 5, 0.1)),
        (0, v(6, 0, 4, 0.2)),
        (0, v(6, 0, 3, 0.15)),
        (1, v(6, 1, 5, 0.1)),
        (1, v(6, 1, 4, 0.2)),
        (1, v(6, 1, 3, 0.15)),
    ];
    let negatives = vec![
        v(6, 2, 5, 0.1),
        v(6, 3, 5, 0.2),
        v(6, 4, 5, 0.3),
        v(6, 2, 3, 0.4),
    ];
    (examples, negatives)
}

fn trained(method: Method) -> Classifier {
    let (examples, negatives) = training();
    let names = names();
    let set = TrainingSet {
        names: &names,
        examples: &examples,
        negatives: &negatives,
    };
    Classifier::train(
        method,
        &set,
        method.default_thresholds(),
        TrainParams::default(),
        "test".into(),
    )
}

#[test]
fn each_method_finds_the_intent_of_a_message_near_its_examples() {
    for method in Method::ALL {
        let c = trained(method);
        let r = c.classify(&v(6, 1, 2, 0.12));
        assert_eq!(r.intent.as_deref(), Some("b"), "{method:?}: {r:?}");
        assert_eq!(r.ranking[0].0, "b");
        assert!(r.margin > 0.0);
    }
}

#[test]
fn the_trained_method_says_no_intent_for_messages_like_the_negatives() {
    let c = trained(Method::Trained);
    let r = c.classify(&v(6, 3, 2, 0.3));
    assert_eq!(r.intent, None, "{r:?}");
    assert!(r.no_intent.unwrap() > 0.5, "{r:?}");
    // The best intent is still reported, for the log and for `intents classify`.
    assert!(!r.best.is_empty());
}

#[test]
fn a_message_between_two_intents_fails_the_margin() {
    let c = trained(Method::Centroid);
    let mut between = vec![1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    normalise(&mut between);
    let loose = Thresholds {
        min_confidence: 0.0,
        min_margin: 0.0,
    };
    assert!(c.classify_with(&between, &loose).intent.is_some());
    let strict = Thresholds {
        min_confidence: 0.0,
        min_margin: 0.05,
    };
    let r = c.classify_with(&between, &strict);
    assert_eq!(r.intent, None, "{r:?}");
    assert!(r.margin.abs() < 0.05);
}

#[test]
fn the_confidence_threshold_rejects_weak_matches() {
    let c = trained(Method::Nearest);
    let weak = v(6, 0, 2, 1.5); // cosine to axis 0 about 0.55
    let r = c.classify(&weak);
    assert_eq!(r.best, "a");
    assert_eq!(r.intent, None, "{r:?}");
    let low = Thresholds {
        min_confidence: 0.3,
        min_margin: 0.0,
    };
    assert_eq!(c.classify_with(&weak, &low).intent.as_deref(), Some("a"));
}

#[test]
fn a_classifier_survives_json_and_rejects_a_broken_one() {
    for method in Method::ALL {
        let c = trained(method);
        let back = Classifier::from_json(&c.to_json()).unwrap();
        assert_eq!(back, c);
        let x = v(6, 0, 1, 0.3);
        assert_eq!(back.classify(&x), c.classify(&x));
    }
    let mut broken: serde_json::Value =
        serde_json::from_str(&trained(Method::Trained).to_json()).unwrap();
    broken["weights"].as_array_mut().unwrap().pop();
    assert!(Classifier::from_json(&broken.to_string()).is_none());
    assert!(Classifier::from_json("{}").is_none());
}

#[test]
fn a_vector_of_the_wrong_size_is_no_intent() {
    let c = trained(Method::Trained);
    assert_eq!(c.classify(&[1.0, 0.0]).intent, None);
}

#[test]
fn document_sentences_are_spread_and_skip_headers_and_fragments() {
    let text = "# Envíos\nDe: soporte@axoloit.mx\nEnviamos a todo México por paquetería en dos a cinco días hábiles. \
                Ok.\nEl AX-200 maneja ocho zonas de riego independientes desde la app.\n| a | b |";
    let s = document_sentences([text], 10);
    assert_eq!(
        s,
        [
            "Enviamos a todo México por paquetería en dos a cinco días hábiles.",
            "El AX-200 maneja ocho zonas de riego independientes desde la app."
        ]
    );
    let many: Vec<String> = (0..100)
        .map(|i| format!("La oración número {i} habla de riego."))
        .collect();
    let picked = document_sentences(many.iter().map(String::as_str), 10);
    assert_eq!(picked.len(), 10);
    assert_eq!(picked[0], many[0]);
    assert_eq!(picked[9], many[90]);
}

#[test]
fn the_background_set_is_there() {
    let b = background_messages();
    assert!(b.len() >= 80);
    assert!(b.iter().all(|m| !m.starts_with('#')));
}

/// A deterministic pseudo-random unit vector generator for the many-intent tests.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as f32 / (1u64 << 31) as f32) - 0.5
    }

    /// `centre` plus noise of `spread`, normalised.
    fn near(&mut self, centre: &[f32], spread: f32) -> Vec<f32> {
        let mut x: Vec<f32> = centre.iter().map(|c| c + spread * self.next()).collect();
        normalise(&mut x);
        x
    }
}

#[test]
fn cross_validation_lowers_the_threshold_for_many_intents_and_beats_the_fixed_one() {
    use super::cross_validation::{choose, held_out};
    const SPREAD: f32 = 1.0;
    let (dim, intents, per) = (48, 40, 8);
    let mut rng = Lcg(42);
    let centres: Vec<Vec<f32>> = (0..intents + 10)
        .map(|_| {
            let mut c: Vec<f32> = (0..dim).map(|_| rng.next()).collect();
            normalise(&mut c);
            c
        })
        .collect();
    let names: Vec<String> = (0..intents).map(|i| format!("i{i}")).collect();
    let examples: Vec<(usize, Vec<f32>)> = (0..intents)
        .flat_map(|c| (0..per).map(move |_| c))
        .map(|c| (c, rng.near(&centres[c], SPREAD)))
        .collect();
    // No-intent messages live around ten other centres.
    let negatives: Vec<Vec<f32>> = (0..60)
        .map(|i| rng.near(&centres[intents + i % 10], SPREAD))
        .collect();
    let set = TrainingSet {
        names: &names,
        examples: &examples,
        negatives: &negatives,
    };
    let params = TrainParams {
        epochs: 150,
        ..TrainParams::default()
    };
    let held = held_out(Method::Trained, &set, params, 4);
    // Every example once in its fold, and once more as no intent while its intent is left
    // out; every negative once.
    assert_eq!(held.len(), 2 * examples.len() + negatives.len());
    let none = held.iter().filter(|h| h.truth.is_none()).count();
    assert_eq!(none, examples.len() + negatives.len());
    let cv = choose(&held, intents, 0.1, &[0.0, 0.05, 0.1], 4).unwrap();
    assert!(cv.false_positive_rate <= 0.1, "{cv:?}");
    assert!(
        cv.thresholds.min_confidence < 0.65,
        "many intents spread the probability: {cv:?}"
    );
    // On fresh messages, the chosen thresholds find more intents than the fixed default.
    let classifier = Classifier::train(Method::Trained, &set, cv.thresholds, params, String::new());
    let fresh: Vec<(usize, Vec<f32>)> = (0..intents)
        .map(|c| (c, rng.near(&centres[c], SPREAD)))
        .collect();
    let found = |t: &Thresholds| {
        fresh
            .iter()
            .filter(|(c, v)| classifier.classify_with(v, t).intent.as_deref() == Some(&names[*c]))
            .count()
    };
    let fixed = found(&Method::Trained.default_thresholds());
    let chosen = found(&cv.thresholds);
    assert!(
        chosen > fixed,
        "chosen {chosen} vs fixed {fixed} of {intents}"
    );
}
