//! Table-driven tests: each table collects every mismatch and fails listing them all.

use super::*;
use crate::spec::IntentSet;
use serde_json::json;
use std::path::Path;

/// Tuesday 24 November 2026.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A parameter given by name, as in the seed file.
fn param(name: &str) -> ParamSpec {
    ParamSpec {
        name: name.to_string(),
        kind: ParamType::from_name(name),
        required: true,
        question: format!("¿{name}?"),
        default: None,
    }
}

fn diapos(min: i64, max: i64) -> ParamSpec {
    ParamSpec {
        name: "num_diapos".into(),
        kind: ParamType::Integer {
            min: Some(min),
            max: Some(max),
        },
        required: true,
        question: "¿Cuántas quieres?".into(),
        default: None,
    }
}

fn sample() -> IntentSet {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/axoloit/data/intents.json");
    IntentSet::load(&path).unwrap()
}

/// Fails listing every mismatch of a table. Results are compared by their `Debug` form, so
/// a `String` result matches a `&str` expectation.
fn check<I: std::fmt::Debug, W: std::fmt::Debug, O: std::fmt::Debug>(
    what: &str,
    cases: &[(I, W)],
    f: impl Fn(&I) -> O,
) {
    let bad: Vec<String> = cases
        .iter()
        .filter_map(|(input, want)| {
            let got = f(input);
            (format!("{got:?}") != format!("{want:?}"))
                .then(|| format!("  {input:?}: expected {want:?}, got {got:?}"))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: {} of {} wrong\n{}",
        bad.len(),
        cases.len(),
        bad.join("\n")
    );
}

/// The value `extract` finds for one parameter among `params`.
fn one(message: &str, params: &[ParamSpec], name: &str) -> Option<Value> {
    extract(message, params, today()).values.get(name).cloned()
}

fn presentation() -> Vec<ParamSpec> {
    vec![
        param("tema"),
        param("num_diapos"),
        param("incluir_imagenes"),
    ]
}

#[test]
fn integers_in_digits_and_words() {
    check(
        "parse_integer",
        &[
            ("8", Some(8)),
            ("cinco", Some(5)),
            ("Cinco", Some(5)),
            ("una docena", Some(12)),
            ("media docena", Some(6)),
            ("dos docenas", Some(24)),
            ("un par", Some(2)),
            ("veinte", Some(20)),
            ("veintitrés", Some(23)),
            ("veintitres", Some(23)),
            ("Veintiún", Some(21)),
            ("treinta y dos", Some(32)),
            ("cuarenta y cinco", Some(45)),
            ("quince", Some(15)),
            ("DIECISÉIS", Some(16)),
            ("cien", Some(100)),
            ("ciento cinco", Some(105)),
            ("doscientas", Some(200)),
            ("mil", Some(1000)),
            ("dos mil veinte", Some(2020)),
            ("1,000", Some(1000)),
            ("-3", Some(-3)),
            ("ten", Some(10)),
            ("twelve", Some(12)),
            ("twenty-five", Some(25)),
            ("a dozen", Some(12)),
            ("half a dozen", Some(6)),
            ("unas 10 diapositivas", Some(10)),
            ("8 por favor", Some(8)),
            ("como   12 😊", Some(12)),
            ("una", Some(1)),
            ("solo una", Some(1)),
            ("8, no, mejor 10", Some(10)),
            ("", None),
            ("muchas", None),
            ("8 o 10", None),
            ("AX-400", None),
            ("E-104", None),
            ("25 de marzo", None),
            ("a las 5", None),
            ("2.5", None),
            ("quiero una presentación sobre ventas", None),
        ],
        |s| parse_integer(s),
    );
}

#[test]
fn quantities_next_to_the_noun_they_count() {
    let ps = presentation();
    check(
        "num_diapos in a whole message",
        &[
            (
                "Hazme una presentación de 10 diapositivas sobre el lanzamiento del AX-400",
                Some(10),
            ),
            ("unas 5 slides sobre ahorro de agua", Some(5)),
            ("una presentación de ocho láminas", Some(8)),
            ("ponle doce hojas", Some(12)),
            ("de veinte diapos sobre riego", Some(20)),
            ("una docena de diapositivas", Some(12)),
            ("media docena de slides", Some(6)),
            ("veintiocho páginas", Some(28)),
            ("diapositivas: 7", Some(7)),
            ("una sola diapositiva", Some(1)),
            ("hazla de 15 diapos y con fotos", Some(15)),
            ("ten slides about irrigation", Some(10)),
            ("make it 12 slides", Some(12)),
            // A lone quantity when num_diapos is the only integer parameter.
            ("mejor que sean 8", Some(8)),
            ("no, mejor 10", Some(10)),
            ("déjalo en 12", Some(12)),
            ("que sean nueve por favor", Some(9)),
            // Numbers that are not the number of slides.
            ("Crea una presentación sobre marketing digital", None),
            ("presentación sobre el AX-400", None),
            ("presentación sobre el error E-104", None),
            ("presentación para el cliente del pedido 100987", None),
            ("presentación para el 25 de marzo", None),
            (
                "presentación para la visita en Av. Guadalupe 4410, Zapopan",
                None,
            ),
            ("presentación sobre los 3 modelos nuevos", None),
            ("presentación sobre las ventas de 2025", None),
            ("presentación para la junta de las 5 pm", None),
            ("presentación para la junta a las 10:30", None),
            ("presentación sobre el 20% de ahorro", None),
            ("presentación sobre precios de $500", None),
            ("presentación sobre la zona 3", None),
            ("presentación sobre el pedido #4521", None),
            ("presentación para el 25/03", None),
            (
                "una presentación sobre cómo programar 4 zonas de riego",
                None,
            ),
            (
                "una presentación sobre nuestros 10 años en el mercado",
                None,
            ),
            ("quiero 2 presentaciones de 10 diapositivas", Some(10)),
        ],
        |m| one(m, &ps, "num_diapos").and_then(|v| v.as_i64()),
    );
}

#[test]
fn two_integer_parameters_are_told_apart_by_their_nouns() {
    let ps = vec![param("num_diapos"), param("num_personas")];
    let e = extract(
        "una presentación de 12 diapositivas para 30 personas",
        &ps,
        today(),
    );
    assert_eq!(e.values.get("num_diapos"), Some(&json!(12)));
    assert_eq!(e.values.get("num_personas"), Some(&json!(30)));
    // With two integer parameters a lone number is not guessed.
    let e = extract("mejor que sean 8", &ps, today());
    assert!(e.values.is_empty(), "{e:?}");
}

#[test]
fn numbers_out_of_range_are_problems_in_spanish() {
    let ps = vec![param("tema"), diapos(1, 30)];
    let e = extract(
        "hazme una presentación de 50 diapositivas sobre riego",
        &ps,
        today(),
    );
    assert_eq!(e.values.get("num_diapos"), None);
    assert_eq!(e.values.get("tema"), Some(&json!("riego")));
    assert_eq!(
        e.problems,
        vec![Problem {
            param: "num_diapos".into(),
            message: "El número de diapositivas debe estar entre 1 y 30. ¿Cuántas quieres?".into()
        }]
    );
    // The seed's type (a slide count: 1 to 30).
    let e = extract("de 0 diapositivas", &[param("num_diapos")], today());
    assert_eq!(
        e.problems[0].message,
        "El número de diapositivas debe estar entre 1 y 30. ¿num_diapos?"
    );
    let p = diapos(1, 30);
    assert_eq!(
        parse_answer("40", &p, today()),
        Err("El número de diapositivas debe estar entre 1 y 30. ¿Cuántas quieres?".into())
    );
    assert_eq!(parse_answer("treinta", &p, today()), Ok(json!(30)));
    let err = parse_answer("muchas", &p, today()).unwrap_err();
    assert!(err.starts_with("No entendí la cantidad"), "{err}");
    assert!(err.ends_with("¿Cuántas quieres?"), "{err}");
}

#[test]
fn integer_answers() {
    let p = param("num_diapos");
    check(
        "parse_answer num_diapos",
        &[
            ("8", Some(json!(8))),
            ("cinco", Some(json!(5))),
            ("una docena", Some(json!(12))),
            ("unas 10 diapositivas", Some(json!(10))),
            ("mmm como 15", Some(json!(15))),
            ("twelve", Some(json!(12))),
            ("no sé", None),
            ("AX-200", None),
        ],
        |a| parse_answer(a, &p, today()).ok(),
    );
    // An "as you like" answer takes the default when there is one.
    let mut p = diapos(1, 30);
    p.default = Some(json!(10));
    assert_eq!(parse_answer("como quieras", &p, today()), Ok(json!(10)));
    assert_eq!(parse_answer("da igual", &p, today()), Ok(json!(10)));
}

#[test]
fn yes_and_no_answers() {
    check(
        "parse_boolean",
        &[
            ("sí", Some(true)),
            ("si", Some(true)),
            ("Sí, por favor", Some(true)),
            ("siii", Some(true)),
            ("claro", Some(true)),
            ("claro que sí", Some(true)),
            ("dale", Some(true)),
            ("por favor", Some(true)),
            ("ok", Some(true)),
            ("va", Some(true)),
            ("¿por qué no?", Some(true)),
            ("👍", Some(true)),
            ("yes", Some(true)),
            ("sure", Some(true)),
            ("no", Some(false)),
            ("No.", Some(false)),
            ("nel", Some(false)),
            ("nop", Some(false)),
            ("para nada", Some(false)),
            ("no, gracias", Some(false)),
            ("claro que no", Some(false)),
            ("no thanks", Some(false)),
            ("nope", Some(false)),
            ("👎", Some(false)),
            ("no sé", None),
            ("da igual", None),
            ("tal vez", None),
            ("el martes", None),
        ],
        |s| parse_boolean(s),
    );
}

#[test]
fn statements_about_the_object_of_a_boolean() {
    let ps = presentation();
    check(
        "incluir_imagenes in a whole message",
        &[
            ("presentación de ventas con imágenes", Some(true)),
            ("con imagenes", Some(true)),
            ("CON IMÁGENES", Some(true)),
            ("con fotos", Some(true)),
            ("con muchas fotografías", Some(true)),
            ("que lleve imágenes", Some(true)),
            ("q lleve imagenes", Some(true)),
            ("ponle ilustraciones", Some(true)),
            ("incluye gráficos", Some(true)),
            ("with images", Some(true)),
            ("sin fotos", Some(false)),
            ("sin imágenes", Some(false)),
            ("no incluyas imágenes", Some(false)),
            ("que no lleve fotos", Some(false)),
            ("nada de fotos", Some(false)),
            ("imágenes no", Some(false)),
            ("mejor sin imágenes", Some(false)),
            ("without pictures", Some(false)),
            ("sin texto, con imágenes", Some(true)),
            // A bare yes/no says nothing about images in a whole message.
            ("sí", None),
            ("no", None),
            ("presentación sobre las fotos del evento", None),
            ("Crea una presentación sobre marketing digital", None),
        ],
        |m| one(m, &ps, "incluir_imagenes").and_then(|v| v.as_bool()),
    );
}

#[test]
fn boolean_answers() {
    let p = param("incluir_imagenes");
    check(
        "parse_answer incluir_imagenes",
        &[
            ("sí", Some(true)),
            ("claro", Some(true)),
            ("con", Some(true)),
            ("con fotos", Some(true)),
            ("no", Some(false)),
            ("nel", Some(false)),
            ("sin", Some(false)),
            ("sí, pero sin fotos", Some(false)),
            ("no, mejor con imágenes", Some(true)),
            ("no thanks", Some(false)),
            ("nomás unas cuantas fotos", Some(true)),
            ("no sé", None),
        ],
        |a| parse_answer(a, &p, today()).ok().and_then(|v| v.as_bool()),
    );
    let err = parse_answer("quién sabe", &p, today()).unwrap_err();
    assert_eq!(err, "No me quedó claro si es sí o no. ¿incluir_imagenes?");
}

#[test]
fn dates_relative_to_today() {
    check(
        "parse_date (today is Tuesday 2026-11-24)",
        &[
            ("hoy", Some("2026-11-24")),
            ("mañana", Some("2026-11-25")),
            ("Mañana", Some("2026-11-25")),
            ("manana", Some("2026-11-25")),
            ("mañana en la tarde", Some("2026-11-25")),
            ("pasado mañana", Some("2026-11-26")),
            ("el lunes", Some("2026-11-30")),
            ("lunes", Some("2026-11-30")),
            ("el próximo lunes", Some("2026-11-30")),
            ("el lunes que viene", Some("2026-11-30")),
            ("este sábado", Some("2026-11-28")),
            ("el sabado", Some("2026-11-28")),
            ("el miércoles", Some("2026-11-25")),
            // Today is Tuesday: "el martes" is next week's.
            ("el martes", Some("2026-12-01")),
            ("el viernes de la próxima semana", Some("2026-12-04")),
            ("la próxima semana", Some("2026-11-30")),
            ("la semana que entra", Some("2026-11-30")),
            ("la semana que viene", Some("2026-11-30")),
            ("el fin de semana", Some("2026-11-28")),
            ("el próximo mes", Some("2026-12-01")),
            ("en 3 días", Some("2026-11-27")),
            ("en tres dias", Some("2026-11-27")),
            ("dentro de una semana", Some("2026-12-01")),
            ("de hoy en ocho", Some("2026-12-01")),
            ("15 de marzo", Some("2027-03-15")),
            ("el 2 de abril", Some("2027-04-02")),
            ("quince de diciembre", Some("2026-12-15")),
            ("1ro de enero", Some("2027-01-01")),
            ("primero de mayo", Some("2027-05-01")),
            ("30 de noviembre", Some("2026-11-30")),
            ("24 de noviembre", Some("2026-11-24")),
            // Already past this year: next year.
            ("1 de noviembre", Some("2027-11-01")),
            ("15 de marzo de 2028", Some("2028-03-15")),
            ("29 de febrero", Some("2028-02-29")),
            ("25/03", Some("2027-03-25")),
            ("25/03/2027", Some("2027-03-25")),
            ("25/03/27", Some("2027-03-25")),
            ("25-03-2027", Some("2027-03-25")),
            ("2027-03-25", Some("2027-03-25")),
            ("12/25", Some("2026-12-25")),
            ("el día 15", Some("2026-12-15")),
            ("el 15", Some("2026-12-15")),
            ("15", Some("2026-12-15")),
            ("March 15", Some("2027-03-15")),
            ("march 15th, 2027", Some("2027-03-15")),
            ("tomorrow", Some("2026-11-25")),
            ("monday", Some("2026-11-30")),
            ("next friday", Some("2026-11-27")),
            ("in 2 days", Some("2026-11-26")),
            ("next week", Some("2026-11-30")),
            ("today", Some("2026-11-24")),
            ("ayer", Some("2026-11-23")),
            ("por la mañana", None),
            ("en la mañana", None),
            ("31 de febrero", None),
            ("31/02/2027", None),
            ("hola", None),
            ("mil gracias", None),
            // Two dates: which one?
            ("el lunes o el martes", None),
            ("el lunes, no, mejor el martes", Some("2026-12-01")),
        ],
        |s| parse_date(s, today()).map(|d| d.format("%Y-%m-%d").to_string()),
    );
    let _ = day("2026-11-24");
}

#[test]
fn dates_that_do_not_exist_are_problems() {
    let ps = vec![param("fecha"), param("direccion")];
    let e = extract("agenda la instalación para el 31 de febrero", &ps, today());
    assert_eq!(e.values.get("fecha"), None);
    assert_eq!(
        e.problems,
        vec![Problem {
            param: "fecha".into(),
            message: "La fecha «31 de febrero» no existe. ¿fecha?".into()
        }]
    );
    let p = param("fecha");
    assert_eq!(
        parse_answer("el 31 de abril", &p, today()),
        Err("La fecha «31 de abril» no existe. ¿fecha?".into())
    );
    assert_eq!(
        parse_answer("30/02/2027", &p, today()),
        Err("La fecha «30/02/2027» no existe. ¿fecha?".into())
    );
    let err = parse_answer("cuando puedan", &p, today()).unwrap_err();
    assert!(err.starts_with("No entendí la fecha"), "{err}");
    assert_eq!(
        parse_answer("el lunes", &p, today()),
        Ok(json!("2026-11-30"))
    );
    assert_eq!(parse_answer("15", &p, today()), Ok(json!("2026-12-15")));
    assert_eq!(
        parse_answer("el lunes o el martes", &p, today()),
        Err("Mencionaste más de una fecha. ¿fecha?".into())
    );
}

#[test]
fn dates_in_whole_messages() {
    let ps = vec![param("fecha"), param("direccion")];
    check(
        "fecha in a whole message",
        &[
            (
                "Programa una instalación para mañana en la tarde por favor",
                Some("2026-11-25"),
            ),
            ("que vengan por la mañana", None),
            ("mañana por la mañana", Some("2026-11-25")),
            ("la cita que tenía para el jueves", None),
            ("Hice una compra el lunes", None),
            ("mejor el martes", Some("2026-12-01")),
            ("para el día 3", Some("2026-12-03")),
            ("instalen en la Av. 16 de Septiembre 1020", None),
        ],
        |m| one(m, &ps, "fecha").and_then(|v| v.as_str().map(str::to_string)),
    );
    // Two date parameters take the dates in order.
    let ps = vec![param("fecha_inicio"), param("fecha_fin")];
    let e = extract("del 1 de diciembre al 15 de diciembre", &ps, today());
    assert_eq!(e.values.get("fecha_inicio"), Some(&json!("2026-12-01")));
    assert_eq!(e.values.get("fecha_fin"), Some(&json!("2026-12-15")));
}

#[test]
fn topics() {
    let ps = presentation();
    check(
        "tema in a whole message",
        &[
            (
                "Crea una presentación sobre marketing digital",
                Some("marketing digital"),
            ),
            (
                "Hazme una presentación de 10 diapositivas sobre el lanzamiento del AX-400",
                Some("lanzamiento del AX-400"),
            ),
            (
                "presentación de ventas del primer trimestre",
                Some("ventas del primer trimestre"),
            ),
            (
                "una presentación para capacitar a los instaladores",
                Some("capacitar a los instaladores"),
            ),
            (
                "una presentación acerca de riego por goteo",
                Some("riego por goteo"),
            ),
            ("presentación sobre ventas, con imágenes", Some("ventas")),
            ("presentación sobre ventas con imágenes", Some("ventas")),
            (
                "presentación sobre ventas de 8 diapositivas",
                Some("ventas"),
            ),
            ("presentación sobre ventas para mañana", Some("ventas")),
            (
                "presentación sobre ventas para el lunes por favor",
                Some("ventas"),
            ),
            (
                "presentación sobre las ventas del 15 de marzo",
                Some("ventas del 15 de marzo"),
            ),
            (
                "presentación sobre el plan de riego.",
                Some("plan de riego"),
            ),
            (
                "presentacion sobre ahorro de agua q lleve imagenes",
                Some("ahorro de agua"),
            ),
            (
                "una presentación corta de 5 láminas sobre el AX-200 😊",
                Some("AX-200"),
            ),
            ("una presentación de 5 láminas para la junta", Some("junta")),
            ("el tema es la nueva garantía", Some("nueva garantía")),
            (
                "make a presentation about water saving with images",
                Some("water saving"),
            ),
            ("slides on drip irrigation", Some("drip irrigation")),
            ("presentación: ahorro de agua", Some("ahorro de agua")),
            (
                "presentacion sobre aspersores pero sin fotos porfa",
                Some("aspersores"),
            ),
            (
                "hazme una presentación sobre riego. Que tenga 10 diapositivas",
                Some("riego"),
            ),
            (
                "Crea una presentación de ventas, 8 diapositivas, con imágenes",
                Some("ventas"),
            ),
            (
                "presentación sobre E-104: causas y soluciones",
                Some("E-104: causas y soluciones"),
            ),
            ("presentación de unos diez o doce slides", None),
            // Nothing said about the topic.
            ("hazme una presentación", None),
            ("hazme una presentación de 10 diapositivas", None),
            ("una presentación para mañana", None),
            ("una presentación con imágenes", None),
        ],
        |m| one(m, &ps, "tema").and_then(|v| v.as_str().map(str::to_string)),
    );
}

#[test]
fn topic_answers() {
    let p = param("tema");
    check(
        "parse_answer tema",
        &[
            ("marketing digital", Some("marketing digital")),
            ("Marketing Digital.", Some("Marketing Digital")),
            ("sobre marketing digital", Some("marketing digital")),
            (
                "de la nueva política de devoluciones",
                Some("nueva política de devoluciones"),
            ),
            ("el lanzamiento del AX-400", Some("lanzamiento del AX-400")),
            ("pues ventas, por favor", Some("ventas")),
        ],
        |a| {
            parse_answer(a, &p, today())
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
        },
    );
    // A text parameter with an unknown name takes the trimmed answer.
    let p = param("nombre_cliente");
    assert_eq!(
        parse_answer("  Juan Pérez ", &p, today()),
        Ok(json!("Juan Pérez"))
    );
    assert!(extract("me llamo Juan Pérez", &[p], today()).is_empty());
}

#[test]
fn order_numbers_codes_and_models() {
    let ps = vec![param("numero_pedido")];
    check(
        "numero_pedido",
        &[
            ("¿Dónde está mi pedido 100987?", Some("100987")),
            ("pedido #100234", Some("100234")),
            ("mi orden es la 100512", Some("100512")),
            ("rastrear pedido 100411", Some("100411")),
            ("el folio: 987654321", Some("987654321")),
            ("100987", Some("100987")),
            ("pedido 123", None),
            ("Quiero saber el estado de mi compra", None),
        ],
        |m| one(m, &ps, "numero_pedido").and_then(|v| v.as_str().map(str::to_string)),
    );
    let p = param("numero_pedido");
    assert_eq!(
        parse_answer("es el #100987", &p, today()),
        Ok(json!("100987"))
    );
    assert!(parse_answer("no me acuerdo", &p, today())
        .unwrap_err()
        .starts_with("No encontré el número"));

    let ps = vec![param("codigo_error"), param("modelo")];
    check(
        "codigo_error and modelo",
        &[
            ("Mi controlador marca el error E-104", (Some("E-104"), None)),
            ("me sale e104", (Some("E-104"), None)),
            ("tengo el error 302", (Some("E-302"), None)),
            (
                "La app dice que mi AX-200 está fuera de línea",
                (None, Some("AX-200")),
            ),
            ("mi ax 200 no prende", (None, Some("AX-200"))),
            ("el AX400 se reinicia", (None, Some("AX-400"))),
            (
                "¿Qué significa el código E-201 en mi AX-400?",
                (Some("E-201"), Some("AX-400")),
            ),
            ("La zona 3 no riega aunque está programada", (None, None)),
            ("se reinicia a las 5", (None, None)),
            ("vivo en Av. López Mateos Sur 2375", (None, None)),
        ],
        |m| {
            let e = extract(m, &ps, today());
            let s = |k: &str| e.values.get(k).and_then(|v| v.as_str()).map(str::to_string);
            (s("codigo_error"), s("modelo"))
        },
    );
    let p = param("modelo");
    assert_eq!(parse_answer("el ax 100", &p, today()), Ok(json!("AX-100")));
    let p = param("codigo_error");
    assert_eq!(parse_answer("E104", &p, today()), Ok(json!("E-104")));
}

#[test]
fn addresses() {
    let ps = vec![param("fecha"), param("direccion")];
    check(
        "direccion",
        &[
            (
                "en Av. Guadalupe 4410, Zapopan",
                Some("Av. Guadalupe 4410, Zapopan"),
            ),
            (
                "en la calle Hidalgo 120, Tlaquepaque, el 2 de abril",
                Some("calle Hidalgo 120, Tlaquepaque"),
            ),
            (
                "en Av. Guadalupe 4410, Zapopan el sábado",
                Some("Av. Guadalupe 4410, Zapopan"),
            ),
            (
                "vengan a calle Juárez 55 por favor",
                Some("calle Juárez 55"),
            ),
            (
                "es en Hidalgo 120, Tlaquepaque.",
                Some("Hidalgo 120, Tlaquepaque"),
            ),
            (
                "av. patria 1201 col. jardines, zapopan mañana",
                Some("av. patria 1201 col. jardines, zapopan"),
            ),
            ("Necesito un técnico en mi casa en Zapopan", None),
            ("en la zona 3", None),
            (
                "instalar en hidalgo 120 tlaquepaque mañana",
                Some("hidalgo 120 tlaquepaque"),
            ),
            ("instalar en julio 2027", None),
            (
                "en mi casa en Zapopan calle robles 12",
                Some("calle robles 12"),
            ),
            (
                "en calle Hidalgo 120 con imágenes",
                Some("calle Hidalgo 120"),
            ),
            (
                "es en Av. López Mateos Sur 2375, Zapopan, Jal. el 3 de diciembre a las 10 am",
                Some("Av. López Mateos Sur 2375, Zapopan, Jal."),
            ),
        ],
        |m| one(m, &ps, "direccion").and_then(|v| v.as_str().map(str::to_string)),
    );
    // A street named after a date is not a date.
    let e = extract(
        "¿Me pueden instalar el AX-200 en Calle 5 de Mayo 123, Tonalá, el miércoles?",
        &ps,
        today(),
    );
    assert_eq!(
        serde_json::to_value(&e.values).unwrap(),
        json!({"fecha": "2026-11-25", "direccion": "Calle 5 de Mayo 123, Tonalá"})
    );
    let p = param("direccion");
    assert_eq!(
        parse_answer("Hidalgo 120, Tlaquepaque", &p, today()),
        Ok(json!("Hidalgo 120, Tlaquepaque"))
    );
    assert_eq!(
        parse_answer("mi dirección es Calle Reforma 9", &p, today()),
        Ok(json!("Calle Reforma 9"))
    );
}

#[test]
fn one_of_values() {
    let plan = ParamSpec {
        name: "plan".into(),
        kind: ParamType::OneOf(vec!["básico".into(), "estándar".into(), "premium".into()]),
        required: true,
        question: "¿Qué plan?".into(),
        default: None,
    };
    let ps = vec![plan.clone()];
    assert_eq!(
        one("quiero el plan Premium", &ps, "plan"),
        Some(json!("premium"))
    );
    assert_eq!(one("el estandar", &ps, "plan"), Some(json!("estándar")));
    assert_eq!(one("quiero un plan", &ps, "plan"), None);
    check(
        "parse_answer plan",
        &[
            ("básico", Some(json!("básico"))),
            ("BASICO", Some(json!("básico"))),
            ("la segunda", Some(json!("estándar"))),
            ("2", Some(json!("estándar"))),
            ("el último", Some(json!("premium"))),
            ("4", None),
        ],
        |a| parse_answer(a, &plan, today()).ok(),
    );
    assert_eq!(
        parse_answer("ninguno", &plan, today()),
        Err("Las opciones son: básico, estándar o premium. ¿Qué plan?".into())
    );
    let riego = ParamSpec {
        kind: ParamType::OneOf(vec!["riego por goteo".into(), "riego por aspersión".into()]),
        ..plan
    };
    let ps = vec![riego];
    assert_eq!(
        one("lo quiero de goteo", &ps, "plan"),
        Some(json!("riego por goteo"))
    );
    assert_eq!(
        one("riego por aspersion", &ps, "plan"),
        Some(json!("riego por aspersión"))
    );
    // "riego" is in both: not a choice.
    assert_eq!(one("necesito riego", &ps, "plan"), None);
}

/// The sample company's example sentences, with what each gives.
#[test]
fn the_sample_intents_examples() {
    type Case = (&'static str, Value);
    let cases: &[(&str, &[Case])] = &[
        (
            "crear_presentacion",
            &[
                (
                    "Crea una presentación sobre marketing digital",
                    json!({"tema": "marketing digital"}),
                ),
                (
                    "Prepara slides para reunión de ventas",
                    json!({"tema": "reunión de ventas"}),
                ),
                (
                    "Hazme una presentación de 10 diapositivas sobre el lanzamiento del AX-400",
                    json!({"tema": "lanzamiento del AX-400", "num_diapos": 10}),
                ),
                (
                    "Necesito unas láminas para explicarle a un vivero cómo funciona el riego por sensores",
                    json!({"tema": "explicarle a un vivero cómo funciona el riego por sensores"}),
                ),
                (
                    "Arma un PowerPoint con los resultados de ventas del primer trimestre",
                    json!({"tema": "resultados de ventas del primer trimestre"}),
                ),
                (
                    "Genera una presentación para capacitar a los instaladores certificados, con imágenes",
                    json!({"tema": "capacitar a los instaladores certificados", "incluir_imagenes": true}),
                ),
                (
                    "¿Me ayudas a preparar diapos para la expo agrícola de Guadalajara?",
                    json!({"tema": "expo agrícola de Guadalajara"}),
                ),
                (
                    "Quiero una presentación corta, unas 5 slides, sobre ahorro de agua en jardines",
                    json!({"tema": "ahorro de agua en jardines", "num_diapos": 5}),
                ),
                (
                    "Haz una presentación sin imágenes sobre la nueva política de devoluciones para el equipo",
                    json!({"tema": "nueva política de devoluciones para el equipo", "incluir_imagenes": false}),
                ),
                (
                    "Diseña unas diapositivas para presentar Axoloit a un distribuidor en Monterrey",
                    json!({"tema": "presentar Axoloit a un distribuidor en Monterrey"}),
                ),
            ],
        ),
        (
            "consultar_pedido",
            &[
                ("¿Dónde está mi pedido 100987?", json!({"numero_pedido": "100987"})),
                ("Quiero saber el estado de mi compra", json!({})),
                (
                    "ya pasó una semana y no me llega mi paquete, pedido #100234",
                    json!({"numero_pedido": "100234"}),
                ),
                ("¿Ya salió mi pedido? Pagué ayer en OXXO", json!({})),
                (
                    "Me pueden dar el número de guía de mi orden 100512",
                    json!({"numero_pedido": "100512"}),
                ),
                ("rastrear pedido 100411", json!({"numero_pedido": "100411"})),
                ("Necesito saber si mi orden llega antes del viernes", json!({})),
            ],
        ),
        (
            "agendar_instalacion",
            &[
                ("Quiero agendar la instalación de mi AX-200", json!({})),
                (
                    "¿Pueden venir a instalarme el controlador el sábado?",
                    json!({"fecha": "2026-11-28"}),
                ),
                (
                    "Necesito un técnico para instalar el sistema de riego en mi casa en Zapopan",
                    json!({}),
                ),
                (
                    "agendar visita técnica para el 25 de marzo en Av. Guadalupe 4410, Zapopan",
                    json!({"fecha": "2027-03-25", "direccion": "Av. Guadalupe 4410, Zapopan"}),
                ),
                (
                    "Me gustaría que alguien me instale el sensor de humedad la próxima semana",
                    json!({"fecha": "2026-11-30"}),
                ),
                (
                    "¿Qué días tienen disponibles para instalar un AX-400 en un vivero de Tlajomulco?",
                    json!({}),
                ),
                (
                    "Programa una instalación para mañana en la tarde por favor",
                    json!({"fecha": "2026-11-25"}),
                ),
                (
                    "Quiero reprogramar la cita de instalación que tenía para el jueves",
                    json!({}),
                ),
                (
                    "Agenda la instalación en la calle Hidalgo 120, Tlaquepaque, el 2 de abril",
                    json!({"fecha": "2027-04-02", "direccion": "calle Hidalgo 120, Tlaquepaque"}),
                ),
            ],
        ),
        (
            "soporte_tecnico",
            &[
                (
                    "Mi controlador marca el error E-104",
                    json!({"codigo_error": "E-104"}),
                ),
                (
                    "La app dice que mi AX-200 está fuera de línea",
                    json!({"modelo": "AX-200"}),
                ),
                ("El sensor de humedad no manda lecturas", json!({})),
                ("La zona 3 no riega aunque está programada", json!({})),
                (
                    "¿Qué significa el código E-201 en mi AX-400?",
                    json!({"codigo_error": "E-201", "modelo": "AX-400"}),
                ),
                ("No puedo conectar el AX-100 a mi wifi", json!({"modelo": "AX-100"})),
                ("Mi AX-200 se reinicia solo cada rato", json!({"modelo": "AX-200"})),
                (
                    "Tengo el error E-302 y casi no sale agua de los aspersores",
                    json!({"codigo_error": "E-302"}),
                ),
                ("Falló la actualización del firmware del controlador", json!({})),
            ],
        ),
    ];
    let set = sample();
    let mut bad = Vec::new();
    let mut total = 0;
    for (intent, examples) in cases {
        let params = &set.get(intent).unwrap().parameters;
        for (message, want) in *examples {
            total += 1;
            let e = extract(message, params, today());
            let got = serde_json::to_value(&e.values).unwrap();
            if got != *want || !e.problems.is_empty() {
                bad.push(format!(
                    "  {intent}: {message:?}\n    expected {want}\n    got      {got} {:?}",
                    e.problems
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {total} wrong\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn whatsapp_style() {
    let ps = presentation();
    let e = extract(
        "hazme una presentacion d 8 diapos   sobre ventas q lleve imagenes 🙏🙏",
        &ps,
        today(),
    );
    assert_eq!(
        serde_json::to_value(&e.values).unwrap(),
        json!({"tema": "ventas", "num_diapos": 8, "incluir_imagenes": true})
    );
    let e = extract(
        "NECESITO UNA PRESENTACION SOBRE RIEGO, CON FOTOS",
        &ps,
        today(),
    );
    assert_eq!(
        serde_json::to_value(&e.values).unwrap(),
        json!({"tema": "RIEGO", "incluir_imagenes": true})
    );
}

#[test]
fn english_cheap_cases() {
    let ps = presentation();
    let e = extract(
        "make a presentation about drip irrigation, twelve slides, with images",
        &ps,
        today(),
    );
    assert_eq!(
        serde_json::to_value(&e.values).unwrap(),
        json!({"tema": "drip irrigation", "num_diapos": 12, "incluir_imagenes": true})
    );
    let p = param("fecha");
    assert_eq!(
        parse_answer("tomorrow", &p, today()),
        Ok(json!("2026-11-25"))
    );
    let p = param("incluir_imagenes");
    assert_eq!(parse_answer("no thanks", &p, today()), Ok(json!(false)));
    assert!(is_cancel("never mind"));
    assert!(is_cancel("cancel"));
    assert!(is_correction("actually, 12 slides"));
}

#[test]
fn cancels() {
    check(
        "is_cancel",
        &[
            ("olvídalo", true),
            ("olvidalo", true),
            ("Cancela", true),
            ("cancelar", true),
            ("ya no", true),
            ("ya no, gracias", true),
            ("ya no quiero la presentación", true),
            ("ya no la necesito", true),
            ("déjalo", true),
            ("dejalo asi", true),
            ("mejor no", true),
            ("mejor no, gracias", true),
            ("no importa", true),
            ("siempre no", true),
            ("cancel", true),
            ("never mind", true),
            ("forget it", true),
            ("mejor otro día", true),
            ("no", false),
            ("No.", false),
            ("no gracias", false),
            ("no sé", false),
            ("Crea una presentación sobre marketing digital", false),
            ("mi AX-200 ya no enciende", false),
            ("ya no quiero imágenes", false),
            ("mejor no incluyas imágenes", false),
            ("déjalo en 8", false),
            ("cancela mi pedido 100987", false),
            ("no importa el color, pero que sea el lunes", false),
        ],
        |m| is_cancel(m),
    );
}

#[test]
fn corrections() {
    check(
        "is_correction",
        &[
            ("mejor que sean 8", true),
            ("no, mejor 10", true),
            ("mejor 10", true),
            ("cámbialo a marketing", true),
            ("cambia el tema a riego", true),
            ("en realidad sin imágenes", true),
            ("corrijo: son 12", true),
            ("perdón, quise decir el martes", true),
            ("sin imágenes mejor", true),
            ("siempre sí con imágenes", true),
            ("déjalo en 8", true),
            ("no, son 12", true),
            ("ya no quiero imágenes", true),
            ("actually 12", true),
            ("perdón, son 8", true),
            ("Crea una presentación sobre marketing digital", false),
            ("no", false),
            ("sí", false),
            ("no, gracias", false),
            ("mejor no", false),
            ("cancela", false),
            ("la mejor manera de regar el jardín", false),
            ("el controlador cambia la hora solo", false),
            ("8", false),
            ("mejor así", false),
        ],
        |m| is_correction(m),
    );
}

#[test]
fn corrections_carry_their_new_values() {
    let ps = presentation();
    assert_eq!(one("no, mejor 10", &ps, "num_diapos"), Some(json!(10)));
    assert_eq!(
        one("en realidad sin imágenes", &ps, "incluir_imagenes"),
        Some(json!(false))
    );
    assert_eq!(
        one("cámbialo a marketing", &ps, "tema"),
        Some(json!("marketing"))
    );
    assert_eq!(one("cámbialo a 10", &ps, "tema"), None);
    assert_eq!(one("cámbialo a 10", &ps, "num_diapos"), Some(json!(10)));
    let e = extract("mejor el viernes", &[param("fecha")], today());
    assert_eq!(e.values.get("fecha"), Some(&json!("2026-11-27")));
}

#[test]
fn normalize_folds_case_and_accents() {
    assert_eq!(normalize("Mañana IMÁGENES Ñandú"), "manana imagenes nandu");
}
