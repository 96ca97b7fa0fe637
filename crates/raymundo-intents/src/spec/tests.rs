use super::*;

fn parse(text: &str) -> Result<IntentSet, IntentsError> {
    IntentSet::parse(text, Path::new("data/intents.json"))
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn the_seed_form_loads_unchanged_with_types_from_the_names() {
    let set = parse(
        r#"{"crear_presentacion": {"examples": ["Crea una presentación sobre marketing digital",
             "Prepara slides para reunión de ventas"],
             "parameters": ["tema", "num_diapos", "incluir_imagenes"]}}"#,
    )
    .unwrap();
    let i = set.get("crear_presentacion").unwrap();
    assert_eq!(i.examples.len(), 2);
    assert_eq!(i.action, Action::CrearPresentacion);
    let kinds: Vec<&str> = i.parameters.iter().map(|p| p.kind.name()).collect();
    assert_eq!(kinds, ["text", "integer", "boolean"]);
    assert!(i.parameters.iter().all(|p| p.required));
    assert_eq!(i.parameters[1].question, "¿Cuántas diapositivas quieres?");
    assert_eq!(
        i.parameters[1].kind,
        ParamType::Integer {
            min: Some(1),
            max: Some(30)
        }
    );
}

#[test]
fn the_sample_company_file_loads() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/axoloit/data/intents.json");
    let set = IntentSet::load(&path).unwrap();
    assert!(set.intents.len() >= 5);
    // An order number is an identifier, not a quantity.
    let pedido = set.get("consultar_pedido").unwrap();
    assert_eq!(pedido.parameters[0].kind, ParamType::Text);
    assert_eq!(
        set.get("agendar_instalacion").unwrap().parameters[0].kind,
        ParamType::Date
    );
    // Intents answered from the documents use what the message gives and ask for nothing;
    // the built-in actions come from the names.
    assert_eq!(pedido.action, Action::Responder);
    assert!(!pedido.parameters[0].required);
    assert_eq!(
        set.get("hablar_con_humano").unwrap().action,
        Action::DerivarHumano
    );
    let deck = set.get("crear_presentacion").unwrap();
    assert_eq!(deck.action, Action::CrearPresentacion);
    assert!(deck.parameters.iter().all(|p| p.required));
}

#[test]
fn the_extended_form_carries_types_defaults_questions_and_actions() {
    let set = parse(
        r#"{
        "crear_presentacion": {
          "description": "Presentaciones con el material de la empresa",
          "examples": ["Hazme una presentación"],
          "parameters": [
            {"name": "tema", "question": "¿Sobre qué tema?"},
            {"name": "num_diapos", "type": "integer", "min": 1, "max": 30, "default": 5},
            {"name": "incluir_imagenes", "type": "boolean", "default": false, "required": false},
            {"name": "estilo", "type": "one_of", "values": ["formal", "casual"]},
            {"name": "entrega", "type": "date", "required": false}
          ],
          "action": "crear_presentacion",
          "responses": ["Listo, aquí está tu presentación."]
        },
        "avisar_crm": {
          "examples": ["registra este prospecto"],
          "action": "webhook",
          "webhook": {"url": "http://127.0.0.1:9000/hook", "timeout_ms": 2500}
        },
        "hablar_con_humano": {"examples": ["quiero hablar con una persona"], "action": "derivar_humano"}
    }"#,
    )
    .unwrap();
    let p = set.get("crear_presentacion").unwrap();
    assert_eq!(p.action, Action::CrearPresentacion);
    assert_eq!(p.parameters[0].question, "¿Sobre qué tema?");
    assert_eq!(
        p.parameters[1].kind,
        ParamType::Integer {
            min: Some(1),
            max: Some(30)
        }
    );
    assert!(!p.parameters[1].required, "a default makes it optional");
    assert_eq!(p.parameters[1].default, Some(serde_json::json!(5)));
    assert_eq!(
        p.parameters[3].kind,
        ParamType::OneOf(vec!["formal".into(), "casual".into()])
    );
    assert!(p.parameters[3].required);
    assert_eq!(p.responses.len(), 1);
    assert_eq!(
        set.get("avisar_crm").unwrap().action,
        Action::Webhook {
            url: "http://127.0.0.1:9000/hook".into(),
            timeout_ms: 2500
        }
    );
    assert_eq!(
        set.get("hablar_con_humano").unwrap().action,
        Action::DerivarHumano
    );
}

#[test]
fn bad_files_name_the_intent_the_field_and_what_was_expected() {
    let e = err(r#"{"a": {"examples": ["x"], "parametros": ["tema"]}}"#);
    assert!(
        e.contains("intent \"a\"")
            && e.contains("`parametros`")
            && e.contains("expected one of examples"),
        "{e}"
    );
    let e = err(r#"{"a": {"examples": ["x"], "parameters": [{"name": "n", "type": "numero"}]}}"#);
    assert!(
        e.contains("parameters[0].type") && e.contains("integer"),
        "{e}"
    );
    let e = err(
        r#"{"a": {"examples": ["x"], "parameters": [{"name": "n", "type": "integer", "min": 5, "max": 2}]}}"#,
    );
    assert!(
        e.contains("parameters[0].min") && e.contains("larger than max"),
        "{e}"
    );
    let e = err(
        r#"{"a": {"examples": ["x"], "parameters": [{"name": "n", "type": "integer", "max": 10, "default": 50}]}}"#,
    );
    assert!(
        e.contains("parameters[0].default") && e.contains("50"),
        "{e}"
    );
    let e = err(r#"{"a": {"examples": ["x"], "parameters": [{"name": "s", "type": "one_of"}]}}"#);
    assert!(e.contains("parameters[0].values"), "{e}");
    let e = err(r#"{"a": {"examples": []}}"#);
    assert!(
        e.contains("`examples`") && e.contains("at least one"),
        "{e}"
    );
    let e = err(r#"{"a": {"parameters": ["tema"]}}"#);
    assert!(e.contains("`examples`") && e.contains("missing"), "{e}");
    let e = err(r#"{"a": {"examples": ["x", 3]}}"#);
    assert!(e.contains("examples[1]") && e.contains("a number"), "{e}");
    let e = err(r#"{"a": {"examples": ["x"], "action": "borrar_todo"}}"#);
    assert!(e.contains("`action`") && e.contains("borrar_todo"), "{e}");
    let e =
        err(r#"{"a": {"examples": ["x"], "action": "webhook", "webhook": {"url": "ftp://x"}}}"#);
    assert!(e.contains("webhook.url"), "{e}");
    let e = err(r#"{"a": {"examples": ["x"], "parameters": ["tema", "tema"]}}"#);
    assert!(e.contains("appears twice"), "{e}");
    let e = err(r#"["crear_presentacion"]"#);
    assert!(e.contains("object of intents"), "{e}");
    let e = err(r#"{"a": {"examples": ["x"],}"#);
    assert!(e.contains("not valid JSON") && e.contains("line 1"), "{e}");
}
