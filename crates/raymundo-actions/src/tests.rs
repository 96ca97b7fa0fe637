//! The actions against a small in-memory [`Knowledge`] (the real one, over the index and the
//! model, is exercised by the binary's tests) and a real HTTP server on loopback.

use super::*;
use raymundo_core::Chunk;
use raymundo_intents::IntentSet;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

struct Docs {
    root: PathBuf,
    hits: Vec<Hit>,
    in_scope: bool,
    asked: std::sync::Mutex<Vec<String>>,
}

fn chunk(doc: &str, title: &str, section: &str, text: &str) -> Hit {
    Hit::dense(
        Chunk {
            doc: doc.into(),
            position: 0,
            source: "faq".into(),
            intent: None,
            title: title.into(),
            section: Some(section.into()),
            text: text.into(),
            tokens: 50,
        },
        0.9,
    )
}

impl Knowledge for Docs {
    fn answer(&self, message: &str) -> Result<Answer, ActionError> {
        self.asked.lock().unwrap().push(message.to_string());
        Ok(Answer {
            text: format!("respuesta a: {message}"),
            sources: Vec::new(),
            in_scope: true,
            answered_by: "extractive".into(),
        })
    }

    fn passages(&self, topic: &str, k: usize) -> Result<(Vec<Hit>, bool), ActionError> {
        self.asked.lock().unwrap().push(topic.to_string());
        Ok((self.hits.iter().take(k).cloned().collect(), self.in_scope))
    }

    fn document_path(&self, doc: &str) -> PathBuf {
        self.root.join(doc)
    }
}

fn docs(root: &Path) -> Docs {
    Docs {
        root: root.to_path_buf(),
        hits: vec![
            chunk(
                "manual/riego.md",
                "Manual de riego",
                "Riego > Goteo",
                "El riego por goteo entrega el agua directo a la raíz. Ahorra hasta 40% de agua \
                 frente a los aspersores. Conviene regar antes de las 8 de la mañana.\n\
                 - Revisa los goteros cada temporada para evitar tapones.",
            ),
            chunk(
                "faq/sensores.md",
                "Sensores",
                "Sensores > Humedad",
                "De: soporte\nEl sensor H2 mide la humedad del suelo cada 15 minutos. \
                 Si el suelo está húmedo, el controlador se salta el riego programado.",
            ),
            chunk(
                "manual/riego.md",
                "Manual de riego",
                "Riego > Goteo",
                "Las mangueras de goteo se entierran a 5 cm de profundidad en jardineras.",
            ),
        ],
        in_scope: true,
        asked: Default::default(),
    }
}

fn intents() -> IntentSet {
    IntentSet::parse(
        r#"{
          "crear_presentacion": {"examples": ["hazme una presentación"],
                                 "parameters": ["tema", "num_diapos", "incluir_imagenes"]},
          "hablar_con_humano": {"examples": ["quiero una persona"]},
          "saludo": {"examples": ["hola"], "responses": ["¡Hola! Soy Raymundo."]},
          "consultar_pedido": {"examples": ["¿dónde está mi pedido?"], "parameters": ["numero_pedido"]},
          "crm": {"examples": ["registra el prospecto"], "parameters": ["nombre"],
                  "webhook": {"url": "http://127.0.0.1:9/x"}}
        }"#,
        Path::new("intents.json"),
    )
    .unwrap()
}

fn settings(dir: &Path) -> ActionSettings {
    ActionSettings {
        output_dir: dir.join("out"),
        handoff_log: dir.join("logs/handoffs.jsonl"),
        handoff_reply: "Te comunico con una persona.".into(),
        sources_heading: "Fuentes".into(),
    }
}

fn values(v: serde_json::Value) -> BTreeMap<String, Value> {
    serde_json::from_value(v).unwrap()
}

#[test]
fn a_presentation_has_the_slides_asked_for_drawn_from_the_documents() {
    let dir = tempfile::tempdir().unwrap();
    let set = intents();
    let kb = docs(dir.path());
    let v = values(json!({"tema": "riego por goteo", "num_diapos": 3, "incluir_imagenes": false}));
    let req = Request {
        intent: set.get("crear_presentacion").unwrap(),
        values: &v,
        user: "u",
        message: "hazme una presentación sobre riego por goteo",
    };
    let out = Actions::new(&settings(dir.path())).run(&req, &kb).unwrap();
    assert_eq!(kb.asked.lock().unwrap()[0], "riego por goteo");
    assert_eq!(out.files.len(), 1);
    let file = &out.files[0];
    assert!(file.starts_with(dir.path().join("out")));
    assert!(file
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("presentacion-riego-por-goteo-"));
    assert!(
        out.text.contains(&file.display().to_string()),
        "{}",
        out.text
    );
    // Title + 3 content slides (two sections; the longer one continues) + sources.
    assert!(
        out.text.contains("3 diapositivas de contenido"),
        "{}",
        out.text
    );
    assert!(out.text.contains("(5 en total)"), "{}", out.text);
    let bytes = std::fs::read(file).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut all = String::new();
    for i in 1..=5 {
        let mut s = String::new();
        zip.by_name(&format!("ppt/slides/slide{i}.xml"))
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        all.push_str(&s);
    }
    assert!(all.contains("entrega el agua directo a la raíz"));
    assert!(all.contains("El sensor H2 mide la humedad"));
    assert!(
        !all.contains("De: soporte"),
        "e-mail headers are not bullets"
    );
    assert!(all.contains("manual/riego.md") && all.contains("faq/sensores.md"));
    assert_eq!(out.sources.len(), 2);
}

#[test]
fn a_presentation_with_images_uses_the_documents_pictures_or_says_there_are_none() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("manual/img")).unwrap();
    std::fs::write(
        dir.path().join("manual/img/goteo.png"),
        include_bytes!("../../raymundo-pptx/tests/fixtures/chart.png"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("manual/riego.md"),
        "# Riego\n\n![Gotero](img/goteo.png)\n",
    )
    .unwrap();
    let set = intents();
    let kb = docs(dir.path());
    let v = values(json!({"tema": "riego", "num_diapos": 2, "incluir_imagenes": true}));
    let req = Request {
        intent: set.get("crear_presentacion").unwrap(),
        values: &v,
        user: "u",
        message: "m",
    };
    let out = Actions::new(&settings(dir.path())).run(&req, &kb).unwrap();
    assert!(out.text.contains("con 1 imagen"), "{}", out.text);
    let bytes = std::fs::read(&out.files[0]).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    assert!(zip.file_names().any(|n| n.starts_with("ppt/media/")));
    let mut s = String::new();
    zip.by_name("ppt/slides/slide3.xml")
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    assert!(
        s.contains("Sin imagen"),
        "the sensors' slide has no picture: {s}"
    );
}

#[test]
fn no_presentation_is_made_on_a_topic_the_documents_do_not_cover() {
    let dir = tempfile::tempdir().unwrap();
    let set = intents();
    let mut kb = docs(dir.path());
    kb.in_scope = false;
    let v = values(
        json!({"tema": "marketing de criptomonedas", "num_diapos": 3, "incluir_imagenes": false}),
    );
    let req = Request {
        intent: set.get("crear_presentacion").unwrap(),
        values: &v,
        user: "u",
        message: "m",
    };
    let out = Actions::new(&settings(dir.path())).run(&req, &kb).unwrap();
    assert!(out.files.is_empty());
    assert!(out
        .text
        .contains("No encontré información sobre «marketing de criptomonedas»"));
    assert!(
        !dir.path().join("out").exists()
            || std::fs::read_dir(dir.path().join("out"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn a_handoff_is_recorded_and_the_user_told() {
    let dir = tempfile::tempdir().unwrap();
    let set = intents();
    let kb = docs(dir.path());
    let v = BTreeMap::new();
    let req = Request {
        intent: set.get("hablar_con_humano").unwrap(),
        values: &v,
        user: "5213311112222",
        message: "quiero hablar con alguien, mi correo es ana.perez@example.com",
    };
    let actions = Actions::new(&settings(dir.path()));
    let out = actions.run(&req, &kb).unwrap();
    actions.run(&req, &kb).unwrap();
    assert!(out.handed_off);
    assert_eq!(out.text, "Te comunico con una persona.");
    let log = std::fs::read_to_string(dir.path().join("logs/handoffs.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    // Nothing personal at rest: the number masked, the message scrubbed.
    assert_eq!(lines[0]["user"], "•••••••••2222");
    assert!(
        !log.contains("5213311112222") && !log.contains("ana.perez"),
        "{log}"
    );
    assert!(lines[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("quiero hablar con alguien, mi correo es "));
    assert_eq!(lines[0]["status"], "pending");
}

#[test]
fn the_responder_answers_with_the_values_or_a_fixed_response() {
    let dir = tempfile::tempdir().unwrap();
    let set = intents();
    let kb = docs(dir.path());
    let actions = Actions::new(&settings(dir.path()));
    let v = values(json!({"numero_pedido": "100987"}));
    let req = Request {
        intent: set.get("consultar_pedido").unwrap(),
        values: &v,
        user: "u",
        message: "¿dónde está mi pedido?",
    };
    let out = actions.run(&req, &kb).unwrap();
    assert_eq!(out.text, "respuesta a: ¿dónde está mi pedido? 100987");
    assert!(out.answer.is_some());
    let none = BTreeMap::new();
    let req = Request {
        intent: set.get("saludo").unwrap(),
        values: &none,
        user: "u",
        message: "hola",
    };
    assert_eq!(actions.run(&req, &kb).unwrap().text, "¡Hola! Soy Raymundo.");
}

/// Serves one request on loopback with `respond`, returning the request body it got.
fn serve_once(
    respond: impl FnOnce(&mut std::net::TcpStream) + Send + 'static,
) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        respond(&mut stream);
        String::from_utf8(body).unwrap()
    });
    (url, handle)
}

fn webhook_request(url: &str, timeout_ms: u64) -> (IntentSet, BTreeMap<String, Value>) {
    let set = IntentSet::parse(
        &format!(
            r#"{{"crm": {{"examples": ["registra el prospecto"], "parameters": ["nombre"],
                 "webhook": {{"url": "{url}", "timeout_ms": {timeout_ms}}}}}}}"#
        ),
        Path::new("intents.json"),
    )
    .unwrap();
    (
        set,
        values(json!({"nombre": "Vivero Los Encinos", "num_plantas": 3})),
    )
}

fn run_webhook(set: &IntentSet, v: &BTreeMap<String, Value>) -> Result<Outcome, ActionError> {
    let dir = tempfile::tempdir().unwrap();
    let req = Request {
        intent: set.get("crm").unwrap(),
        values: v,
        user: "5213300000000",
        message: "registra el prospecto Vivero Los Encinos",
    };
    Actions::new(&settings(dir.path())).run(&req, &docs(dir.path()))
}

#[test]
fn a_webhook_gets_the_intent_and_parameters_and_its_reply_is_relayed() {
    let (url, server) = serve_once(|s| {
        let body = r#"{"respuesta": "Prospecto registrado con folio 881."}"#;
        write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
    });
    let (set, v) = webhook_request(&url, 5000);
    let out = run_webhook(&set, &v).unwrap();
    assert_eq!(out.text, "Prospecto registrado con folio 881.");
    let sent: serde_json::Value = serde_json::from_str(&server.join().unwrap()).unwrap();
    assert_eq!(sent["intent"], "crm");
    assert_eq!(sent["parameters"]["nombre"], "Vivero Los Encinos");
    assert_eq!(sent["parameters"]["num_plantas"], 3);
    assert_eq!(sent["user"], "5213300000000");
}

#[test]
fn a_webhook_that_is_slow_fails_or_refuses_is_an_error_naming_why() {
    let (url, server) = serve_once(|s| {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    let (set, v) = webhook_request(&url, 300);
    let e = run_webhook(&set, &v).unwrap_err().to_string();
    assert!(e.contains("no reply within 300 ms"), "{e}");
    server.join().unwrap();

    let (url, server) = serve_once(|s| {
        let _ = s.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom");
    });
    let (set, v) = webhook_request(&url, 5000);
    let e = run_webhook(&set, &v).unwrap_err().to_string();
    assert!(e.contains("HTTP 500") && e.contains("boom"), "{e}");
    server.join().unwrap();

    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let (set, v) = webhook_request(&url, 2000);
    let e = run_webhook(&set, &v).unwrap_err().to_string();
    assert!(e.contains(&url), "{e}");
}
