use super::*;
use raymundo_core::MemoryState;
use serde_json::json;
use std::path::Path;

fn sample() -> IntentSet {
    IntentSet::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/axoloit/data/intents.json"),
    )
    .unwrap()
}

fn verdict(intent: Option<&str>) -> Classification {
    Classification {
        intent: intent.map(str::to_string),
        best: intent.unwrap_or("soporte_tecnico").to_string(),
        confidence: if intent.is_some() { 0.9 } else { 0.2 },
        margin: 0.5,
        no_intent: Some(0.1),
        ranking: Vec::new(),
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

struct Chat {
    set: IntentSet,
    state: MemoryState,
    now: u64,
}

impl Chat {
    fn new() -> Self {
        Self {
            set: sample(),
            state: MemoryState::new(),
            now: 1_000_000,
        }
    }

    fn say(&mut self, message: &str, intent: Option<&str>) -> Step {
        self.now += 20;
        Dialog::new(&self.set, &self.state, 1800)
            .step("52133", message, &verdict(intent), today(), self.now)
            .unwrap()
    }
}

fn asked(step: &Step) -> &str {
    match step {
        Step::Ask { param, .. } => param,
        other => panic!("expected a question, got {other:?}"),
    }
}

#[test]
fn missing_parameters_are_asked_one_at_a_time_then_the_action_runs() {
    let mut c = Chat::new();
    let s = c.say("Hazme una presentación", Some("crear_presentacion"));
    assert_eq!(asked(&s), "tema");
    let Step::Ask { text, .. } = &s else {
        unreachable!()
    };
    assert_eq!(text, "¿Sobre qué tema?");
    assert_eq!(asked(&c.say("sobre riego por goteo", None)), "num_diapos");
    assert_eq!(asked(&c.say("cinco", None)), "incluir_imagenes");
    let s = c.say("sí", None);
    assert_eq!(
        s,
        Step::Act {
            intent: "crear_presentacion".into(),
            values: BTreeMap::from([
                ("tema".into(), json!("riego por goteo")),
                ("num_diapos".into(), json!(5)),
                ("incluir_imagenes".into(), json!(true)),
            ]),
            message: "Hazme una presentación".into(),
        }
    );
    assert_eq!(c.state.pending("52133").unwrap(), None);
}

#[test]
fn values_in_the_first_message_are_not_asked_again() {
    let mut c = Chat::new();
    let s = c.say(
        "Hazme una presentación de 10 diapositivas sobre el lanzamiento del AX-400, con imágenes",
        Some("crear_presentacion"),
    );
    let Step::Act { values, .. } = s else {
        panic!("{s:?}")
    };
    assert_eq!(values["num_diapos"], json!(10));
    assert_eq!(values["incluir_imagenes"], json!(true));
    assert!(values["tema"]
        .as_str()
        .unwrap()
        .contains("lanzamiento del AX-400"));
}

#[test]
fn a_correction_replaces_a_value_and_the_question_stays_open() {
    let mut c = Chat::new();
    let s = c.say(
        "quiero una presentación sobre ventas de 10 diapositivas",
        Some("crear_presentacion"),
    );
    assert_eq!(asked(&s), "incluir_imagenes");
    assert_eq!(asked(&c.say("mejor que sean 8", None)), "incluir_imagenes");
    let s = c.say("sin imágenes", None);
    let Step::Act { values, .. } = s else {
        panic!("{s:?}")
    };
    assert_eq!(values["num_diapos"], json!(8));
    assert_eq!(values["incluir_imagenes"], json!(false));
}

#[test]
fn the_user_can_cancel_a_pending_request() {
    let mut c = Chat::new();
    c.say("Hazme una presentación", Some("crear_presentacion"));
    assert_eq!(
        c.say("olvídalo", None),
        Step::Cancelled {
            intent: "crear_presentacion".into()
        }
    );
    assert_eq!(c.state.pending("52133").unwrap(), None);
    // The next message starts afresh.
    assert_eq!(c.say("gracias", None), Step::Answer { pending: None });
}

#[test]
fn an_invalid_value_is_explained_and_asked_again() {
    let mut c = Chat::new();
    c.say(
        "Hazme una presentación sobre riego",
        Some("crear_presentacion"),
    );
    let s = c.say("500", None);
    let Step::Ask { param, text, .. } = &s else {
        panic!("{s:?}")
    };
    assert_eq!(param, "num_diapos");
    assert!(text.contains("30"), "{text}");
    assert!(text.contains('?'), "{text}");
    assert_eq!(asked(&c.say("doce", None)), "incluir_imagenes");
}

#[test]
fn a_question_on_the_side_is_answered_and_the_request_waits() {
    let mut c = Chat::new();
    c.say(
        "Hazme una presentación sobre riego",
        Some("crear_presentacion"),
    );
    let s = c.say("¿cuánto cuesta el envío a Monterrey?", None);
    assert_eq!(
        s,
        Step::Answer {
            pending: Some((
                "crear_presentacion".into(),
                "¿Cuántas diapositivas quieres?".into()
            ))
        }
    );
    assert_eq!(asked(&c.say("6", None)), "incluir_imagenes");
}

#[test]
fn another_intent_replaces_the_pending_one() {
    let mut c = Chat::new();
    c.say("Hazme una presentación", Some("crear_presentacion"));
    let s = c.say("pásame con un asesor", Some("hablar_con_humano"));
    assert_eq!(
        s,
        Step::Act {
            intent: "hablar_con_humano".into(),
            values: BTreeMap::new(),
            message: "pásame con un asesor".into(),
        }
    );
    assert_eq!(c.state.pending("52133").unwrap(), None);
}

#[test]
fn a_stale_request_is_forgotten() {
    let mut c = Chat::new();
    c.say("Hazme una presentación", Some("crear_presentacion"));
    c.now += 3600;
    assert_eq!(c.say("cinco", None), Step::Answer { pending: None });
}

#[test]
fn intents_answered_from_the_documents_act_at_once_with_what_the_message_gives() {
    let mut c = Chat::new();
    let s = c.say("mi controlador AX-200 marca E-104", Some("soporte_tecnico"));
    let Step::Act { intent, values, .. } = s else {
        panic!("{s:?}")
    };
    assert_eq!(intent, "soporte_tecnico");
    assert_eq!(values["codigo_error"], json!("E-104"));
    assert_eq!(values["modelo"], json!("AX-200"));
    assert_eq!(
        c.say("¿dónde está mi pedido?", Some("consultar_pedido")),
        Step::Act {
            intent: "consultar_pedido".into(),
            values: BTreeMap::new(),
            message: "¿dónde está mi pedido?".into(),
        }
    );
}

#[test]
fn defaults_fill_optional_parameters() {
    let set = IntentSet::parse(
        r#"{"cotizar": {"examples": ["cotízame"], "action": "webhook",
             "webhook": {"url": "http://127.0.0.1:1/x"},
             "parameters": [{"name": "cantidad_piezas", "type": "integer", "default": 1},
                            {"name": "modelo", "required": true}]}}"#,
        Path::new("intents.json"),
    )
    .unwrap();
    let state = MemoryState::new();
    let d = Dialog::new(&set, &state, 60);
    let s = d
        .step(
            "u",
            "cotízame un AX-400",
            &verdict(Some("cotizar")),
            today(),
            1,
        )
        .unwrap();
    assert_eq!(
        s,
        Step::Act {
            intent: "cotizar".into(),
            values: BTreeMap::from([
                ("cantidad_piezas".into(), json!(1)),
                ("modelo".into(), json!("AX-400"))
            ]),
            message: "cotízame un AX-400".into(),
        }
    );
}
