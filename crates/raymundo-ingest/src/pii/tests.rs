//! Unit tests of the scrubber: one test per behaviour a user would notice.

use super::*;

fn scrub(text: &str) -> String {
    scrub_pii(text).0
}

#[track_caller]
fn unchanged(text: &str) {
    let (out, counts) = scrub_pii(text);
    assert_eq!(out, text, "should not scrub ({counts})");
}

#[test]
fn emails() {
    assert_eq!(
        scrub("Escríbenos a soporte.mx@ejemplo.com.mx o a ana_lópez+1@correo.es."),
        "Escríbenos a [EMAIL] o a [EMAIL]."
    );
}

#[test]
fn mexican_phones() {
    for (input, expected) in [
        (
            "Llámanos al +52 33 1234 5678 hoy.",
            "Llámanos al [TELEFONO] hoy.",
        ),
        ("Celular: +52 1 55 1234 5678", "Celular: [TELEFONO]"),
        (
            "Oficina (33) 1234-5678 ext. 12",
            "Oficina [TELEFONO] ext. 12",
        ),
        (
            "Marca al 33 1234 5678 de 9 a 6.",
            "Marca al [TELEFONO] de 9 a 6.",
        ),
        ("o al 55-1234-5678.", "o al [TELEFONO]."),
        ("Tel. 3312345678", "Tel. [TELEFONO]"),
        ("WhatsApp 3312345678", "WhatsApp [TELEFONO]"),
        ("Sin costo: 01 800 123 4567", "Sin costo: [TELEFONO]"),
        ("Atención: 333 123 4567", "Atención: [TELEFONO]"),
    ] {
        assert_eq!(scrub(input), expected, "{input}");
    }
}

#[test]
fn spanish_and_international_phones() {
    for (input, expected) in [
        ("Móvil +34 612 345 678.", "Móvil [TELEFONO]."),
        (
            "Llame al 612 34 56 78 o al 91 234 56 78.",
            "Llame al [TELEFONO] o al [TELEFONO].",
        ),
        ("Teléfono 912345678", "Teléfono [TELEFONO]"),
        (
            "La oficina atiende en el 912345678.",
            "La oficina atiende en el [TELEFONO].",
        ),
        ("US office: +1 415 555 0132", "US office: [TELEFONO]"),
        ("Londres +44 20 7946 0958.", "Londres [TELEFONO]."),
        ("+5213312345678", "[TELEFONO]"),
        (
            "Tel. 612 345 678\n$ 500 de anticipo",
            "Tel. [TELEFONO]\n$ 500 de anticipo",
        ),
    ] {
        assert_eq!(scrub(input), expected, "{input}");
    }
}

#[test]
fn mexican_ids() {
    assert_eq!(
        scrub("Mi CURP es GODE561231HJCRRN07 y mi RFC GODE561231GR8."),
        "Mi CURP es [CURP] y mi RFC [RFC]."
    );
    assert_eq!(
        scrub("RFC de la empresa: ABC-150101-1A3"),
        "RFC de la empresa: [RFC]"
    );
    // Generic RFCs (público en general / extranjeros) are not personal.
    unchanged("Factura al RFC genérico XAXX010101000 para público en general.");
    // Impossible date: month 34.
    unchanged("El código ABC123456XY1 es de inventario.");
}

#[test]
fn spanish_ids_are_verified() {
    assert_eq!(
        scrub("DNI 12345678Z, NIE X1234567L."),
        "DNI [DNI], NIE [NIE]."
    );
    assert_eq!(scrub("Con DNI 12.345.678-Z"), "Con DNI [DNI]");
    // Wrong control letters.
    unchanged("DNI 12345678A y NIE X1234567A");
}

#[test]
fn cards_need_luhn() {
    assert_eq!(
        scrub("Pagó con la tarjeta 4111 1111 1111 1111 ayer."),
        "Pagó con la tarjeta [TARJETA] ayer."
    );
    assert_eq!(scrub("Visa 4111-1111-1111-1111"), "Visa [TARJETA]");
    assert_eq!(scrub("Amex 3782 822463 10005"), "Amex [TARJETA]");
    assert_eq!(scrub("n: 5555555555554444"), "n: [TARJETA]");
    unchanged("Referencia 4111 1111 1111 1112 (no pasa Luhn).");
    unchanged("Número 1234567812345678");
}

#[test]
fn card_security_code_and_expiry_go_with_the_card() {
    assert_eq!(
        scrub("Tarjeta: 4111 1111 1111 1111\nVence: 08/28\nCVV: 123"),
        "Tarjeta: [TARJETA]\nVence: [TARJETA]\nCVV: [TARJETA]"
    );
    // Without a card, a due date stays.
    unchanged("La factura vence el 15/03/2026 y la cuota vence: 08/28.");
    unchanged("Atendemos 365 días; el código de error es E-104.");
}

#[test]
fn ibans_are_verified() {
    assert_eq!(
        scrub("Transfiere a ES91 2100 0418 4502 0005 1332 BBVA por favor."),
        "Transfiere a [IBAN] BBVA por favor."
    );
    assert_eq!(scrub("IBAN: DE89370400440532013000."), "IBAN: [IBAN].");
    unchanged("Cuenta ES91 2100 0418 4502 0005 1333 (dígito erróneo).");
}

#[test]
fn ip_addresses() {
    assert_eq!(
        scrub("El servidor 192.168.1.20 responde."),
        "El servidor [IP] responde."
    );
    assert_eq!(
        scrub("IPv6 2001:db8:85a3::8a2e:370:7334 y fe80::1ff:fe23:4567:890a"),
        "IPv6 [IP] y [IP]"
    );
    assert_eq!(
        scrub("Completa: 2001:0db8:85a3:0000:0000:8a2e:0370:7334."),
        "Completa: [IP]."
    );
    // Decision: a dotted quad right after "versión"/"v" is a version number.
    unchanged("Instala la versión 10.2.3.4 o la v2.4.1.");
    unchanged("Actualiza a v10.2.3.4 hoy.");
    unchanged("Octetos inválidos 300.1.2.3");
    // Decision: netmasks, 0.0.0.0 and loopback are not about anyone.
    assert_eq!(
        scrub("IP 192.168.10.45, máscara 255.255.255.0, local 127.0.0.1"),
        "IP [IP], máscara 255.255.255.0, local 127.0.0.1"
    );
}

#[test]
fn things_that_are_not_pii_survive() {
    for text in [
        "El precio es $1,299.00 MXN o $ 12 500 en efectivo.",
        "En España cuesta 1.299,00 € con IVA.",
        "Entrega el 15/03/2026, el 2026-03-15 o el 15-03-2026.",
        "Horario: 09:00-18:00, sábados 10:00 a 14:00.",
        "Pedido #100234 con folio 2026-000123.",
        "Número de pedido: 612345678.",
        "Tu pedido 3312345678 llegará mañana.",
        "Guía de rastreo 4111111111111111.",
        "Modelos AX-200 y E-104, código postal 44100.",
        "Compra 12 500 unidades o 3 000 piezas.",
        "El folio 2026 1234 5678 quedó registrado.",
        "Son 5 cajas de 24 piezas, 120 en total.",
        "Del 1 al 15 de marzo de 2026.",
        "Mide 33 x 12 x 45 cm.",
        "ISBN 978-84-376-0494-7",
        "Llama de 9 a 18 h.",
        "Ventas crecieron 612 345 678 € este año.",
        "El 10 % de 3 500 es 350.",
    ] {
        unchanged(text);
    }
}

#[test]
fn counts_and_placeholders() {
    let (out, counts) = scrub_pii(
        "Juan (juan@ejemplo.com, tel. 33 1234 5678, +34 612 345 678) pagó con 4111111111111111.",
    );
    assert_eq!(
        out,
        "Juan ([EMAIL], tel. [TELEFONO], [TELEFONO]) pagó con [TARJETA]."
    );
    assert_eq!(counts.get(PiiKind::Email), 1);
    assert_eq!(counts.get(PiiKind::Phone), 2);
    assert_eq!(counts.get(PiiKind::Card), 1);
    assert_eq!(counts.total(), 4);
    assert_eq!(counts.to_string(), "email 1, phone 2, card 1");
    let mut all = PiiCounts::default();
    all.merge(&counts);
    all.merge(&counts);
    assert_eq!(all.get(PiiKind::Phone), 4);
    assert_eq!(PiiCounts::default().to_string(), "none");
}

#[test]
fn allowlisted_company_contacts_survive() {
    let allow = PiiAllowlist::new(["33 3616 2020", "800 296 5648", "@axoloit.mx", " "]);
    let text = "WhatsApp +52 33 3616 2020, sin costo 800 296 5648, soporte@axoloit.mx; \
                cliente 33 1845 2290, lucia@correo.com.mx.";
    let (out, counts) = scrub_pii_with(text, &allow);
    assert_eq!(
        out,
        "WhatsApp +52 33 3616 2020, sin costo 800 296 5648, soporte@axoloit.mx; \
         cliente [TELEFONO], [EMAIL]."
    );
    assert_eq!(counts.total(), 2);
    assert!(
        !allow.allows(PiiKind::Phone, "3616 2020"),
        "too short to identify a line"
    );
    assert!(PiiAllowlist::new(Vec::<String>::new()).is_empty());
}

#[test]
fn realistic_spanish_message() {
    let text =
        "Hola, soy María Pérez (CURP PEGM900215MDFRRR09). Mi correo es maria.perez@gmail.com \
                y mi celular 55 8765 4321. Deposité a la cuenta ES76 2077 0024 0031 0257 5766 \
                desde la IP 201.141.22.7. Mi DNI es 00000000T.";
    let (out, counts) = scrub_pii(text);
    assert!(!out.contains("PEGM"), "{out}");
    assert!(!out.contains("maria.perez"), "{out}");
    assert!(!out.contains("8765"), "{out}");
    assert!(!out.contains("2077"), "{out}");
    assert!(!out.contains("201.141"), "{out}");
    assert!(!out.contains("00000000T"), "{out}");
    assert_eq!(counts.total(), 6, "{out} {counts}");
    assert!(
        out.starts_with("Hola, soy María Pérez (CURP [CURP])."),
        "{out}"
    );
}

/// A line of `len` bytes mixing digit groups (1-5 digits, joined by spaces, dashes and
/// dots), phone and card words, identifier words and plain words; no newline.
fn mixed_line(len: usize) -> String {
    const WORDS: &[&str] = &[
        "hola",
        "tel",
        "tarjeta",
        "pedido",
        "versión",
        "No.",
        "mi",
        "número",
        "es",
        "y",
        "card",
        "CLABE",
        "NSS",
        "pasaporte",
        "token",
        "nací",
        "el",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        if next(3) == 0 {
            out.push_str(WORDS[next(WORDS.len() as u64) as usize]);
        } else {
            for _ in 0..=next(5) {
                out.push(char::from(b'0' + next(10) as u8));
            }
        }
        out.push([' ', ' ', ' ', '-', '.', ' '][next(6) as usize]);
    }
    out
}

/// Long inputs that used to take super-linear time: one-digit groups (every pair of groups
/// was tried as a card), a mixed line of `kib` KiB, and single lines of `line_kib` KiB full
/// of phone numbers or dotted quads (every match rescanned, or lowercased, the line up to it).
fn long_inputs(sevens: usize, kib: usize, line_kib: usize) -> Vec<(&'static str, String)> {
    let line = |unit: &str| unit.repeat(line_kib * 1024 / unit.len());
    vec![
        ("'7 ' repeated", "7 ".repeat(sevens)),
        ("mixed line", mixed_line(kib * 1024)),
        ("phone line", line("33 1234 5678 y ")),
        ("dotted-quad line", line("v 10.2.3.4 ")),
    ]
}

#[test]
fn scrubbing_work_is_linear_in_input_size() {
    // Deterministic instead of timed: every scanning loop counts its steps, and the budget
    // is a constant number of steps per input byte (the new code needs about 25 on the
    // one-digit groups, 5-8 elsewhere). The old code needed ~n³/6 steps for n one-digit
    // groups and ~n² for the long lines, so it fails here at once.
    for (label, text) in long_inputs(30_000, 1024, 256) {
        let budget = 64 * text.len() as u64;
        let ((out, _), steps) = work::with_budget(budget, || scrub_pii(&text));
        eprintln!("{label}: {steps} steps for {} bytes", text.len());
        assert!(!out.is_empty());
        assert!(
            steps <= budget,
            "{label}: {steps} steps for {} bytes",
            text.len()
        );
    }
}

/// Wall-clock figures for the report: `PII_TIMING_SEVENS=30000 PII_TIMING_KIB=1024 cargo
/// test -p raymundo-ingest --lib pii::tests::timing -- --ignored --nocapture` (add
/// `--release` for a release build; the test build counts steps, so a library build is a
/// little faster still).
#[test]
#[ignore = "prints timings; run by hand"]
fn timing() {
    let var = |name: &str, default: usize| {
        std::env::var(name).map_or(default, |s| s.parse().expect("a number"))
    };
    let kib = var("PII_TIMING_KIB", 1024);
    for (label, text) in long_inputs(var("PII_TIMING_SEVENS", 30_000), kib, kib) {
        let t = std::time::Instant::now();
        let (out, counts) = scrub_pii(&text);
        eprintln!(
            "{label}: {} bytes in {:.3} s ({} bytes out; {counts})",
            text.len(),
            t.elapsed().as_secs_f64(),
            out.len()
        );
    }
}

#[test]
fn clabe_is_verified() {
    for (input, expected) in [
        ("Mi CLABE es 002010077777777771.", "Mi CLABE es [CLABE]."),
        (
            "Transfiere a la cuenta 012180001234567899 hoy.",
            "Transfiere a la cuenta [CLABE] hoy.",
        ),
        ("CLABE: 072 320 00123456789 3", "CLABE: [CLABE]"),
        (
            "clabe interbancaria 0723 2000 1234 5678 93",
            "clabe interbancaria [CLABE]",
        ),
    ] {
        assert_eq!(scrub(input), expected, "{input}");
    }
    // Wrong check digit.
    unchanged("CLABE: 072320001234567894");
}

#[test]
fn nss_needs_its_check_digit_and_a_word() {
    for (input, expected) in [
        ("Mi NSS es 12345678903.", "Mi NSS es [NSS]."),
        (
            "Número de Seguridad Social: 42 01 98 7654 1",
            "Número de Seguridad Social: [NSS]",
        ),
        ("afiliación IMSS 03127854317", "afiliación IMSS [NSS]"),
    ] {
        assert_eq!(scrub(input), expected, "{input}");
    }
    unchanged("Mi NSS es 12345678904.");
    // Without a social-security word, 11 digits are just a number.
    unchanged("Folio 12345678903.");
}

#[test]
fn ine_clave_de_elector_and_cic() {
    for (input, expected) in [
        (
            "Clave de elector: GMVLMR80070501M100",
            "Clave de elector: [INE]",
        ),
        ("mi clave es gmvlmr80070501m100.", "mi clave es [INE]."),
        ("INE, CIC 123456789.", "INE, CIC [INE]."),
        ("IDMEX1234567890<<0703", "IDMEX[INE]<<0703"),
    ] {
        assert_eq!(scrub(input), expected, "{input}");
    }
    // Month 13 is no birth date.
    unchanged("Código GMVLMR80130501M100");
}

#[test]
fn passport_numbers_after_a_keyword() {
    for (input, expected) in [
        ("Mi pasaporte es G12345678.", "Mi pasaporte es [PASAPORTE]."),
        (
            "Passport number: 533123456, exp. 2030",
            "Passport number: [PASAPORTE], exp. 2030",
        ),
        ("Pasaporte No. aab123456", "Pasaporte No. [PASAPORTE]"),
    ] {
        assert_eq!(scrub(input), expected, "{input}");
    }
    unchanged("El pasaporte vence el 12/03/2030.");
    unchanged("Trae tu pasaporte y 2 fotos.");
}

#[test]
fn cpf_and_rut_are_verified() {
    for (input, expected) in [
        ("CPF 123.456.789-09", "CPF [CPF]"),
        ("meu cpf é 52998224725.", "meu cpf é [CPF]."),
        ("RUT 12.345.678-5", "RUT [RUT]"),
        ("rut: 12000008-k", "rut: [RUT]"),
        (
            "Cliente 7.654.321-6 en Santiago.",
            "Cliente [RUT] en Santiago.",
        ),
    ] {
        assert_eq!(scrub(input), expected, "{input}");
    }
    unchanged("CPF 123.456.789-00 y RUT 12.345.678-4 no cuadran.");
    unchanged("CPF 111.111.111-11");
}

#[test]
fn dates_of_birth_but_not_other_dates() {
    for (input, expected) in [
        (
            "Nací el 3 de marzo de 1985 en Guadalajara.",
            "Nací el [FECHA_NACIMIENTO] en Guadalajara.",
        ),
        (
            "Fecha de nacimiento: 03/03/1985.",
            "Fecha de nacimiento: [FECHA_NACIMIENTO].",
        ),
        ("DOB 1985-03-03", "DOB [FECHA_NACIMIENTO]"),
        (
            "Date of birth: March 3, 1985",
            "Date of birth: [FECHA_NACIMIENTO]",
        ),
        (
            "I was born on 3 March 1985.",
            "I was born on [FECHA_NACIMIENTO].",
        ),
    ] {
        assert_eq!(scrub(input), expected, "{input}");
    }
    unchanged("La entrega es el 3 de marzo de 2025 o el 12/03/2025.");
    unchanged("Nació el proyecto en 2019; date of release 2024-01-02.");
}

#[test]
fn api_keys_and_tokens() {
    for (input, expected) in [
        (
            "OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1w",
            "OPENAI_API_KEY=[CLAVE_API]",
        ),
        (
            "usa gsk_8kD2mQ9xL4vN7pR1sT6wY3zA5bC0eF y listo",
            "usa [CLAVE_API] y listo",
        ),
        (
            "token ghp_16C7e42F292c6912E7710c838347Ae178B4a ok",
            "token [CLAVE_API] ok",
        ),
        (
            "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            "[CLAVE_API]",
        ),
        ("aws AKIAIOSFODNN7EXAMPLE.", "aws [CLAVE_API]."),
        (
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sflKxwRJSMeKKF2QT4fw",
            "Authorization: Bearer [CLAVE_API]",
        ),
        (
            "api_key = \"9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c\"",
            "api_key = \"[CLAVE_API]\"",
        ),
        (
            "El secret es q8Zr2LmX9vTn4WpK7sYd",
            "El secret es [CLAVE_API]",
        ),
    ] {
        assert_eq!(scrub(input), expected, "{input}");
    }
    unchanged("El token de acceso expira en 24 horas; la clave del producto es AX-200.");
    unchanged("Pide tu API key en el portal: https://ejemplo.com/desarrolladores");
}

#[test]
fn ids_in_any_case() {
    for (input, expected) in [
        ("rfc: goma800101abc", "rfc: [RFC]"),
        ("Mi rfc es gode561231gr8.", "Mi rfc es [RFC]."),
        ("mi dni es 12345678z", "mi dni es [DNI]"),
        ("nie x1234567l", "nie [NIE]"),
        ("iban es91 2100 0418 4502 0005 1332", "iban [IBAN]"),
        ("curp gode561231hjcrrn07", "curp [CURP]"),
    ] {
        assert_eq!(scrub(input), expected, "{input}");
    }
    // Lowercase words and numbers that merely look like ids stay.
    unchanged("tengo 12345670 y algo más; casa 250101 001.");
}

#[test]
fn bare_ten_digits_after_my_number_is_a_phone() {
    for (input, expected) in [
        ("Mi número es 3312345678", "Mi número es [TELEFONO]"),
        ("mi numero: 5512345678.", "mi numero: [TELEFONO]."),
        ("mi cel 3312345678", "mi cel [TELEFONO]"),
        ("mi teléfono 3312345678", "mi teléfono [TELEFONO]"),
        ("my number is 4155550132", "my number is [TELEFONO]"),
    ] {
        assert_eq!(scrub(input), expected, "{input}");
    }
    unchanged("Mi número de pedido es 3312345678.");
}

#[test]
fn number_abbreviation_does_not_veto_a_card_or_phone() {
    for (input, expected) in [
        ("Tarjeta No. 4111 1111 1111 1111", "Tarjeta No. [TARJETA]"),
        ("Card no. 5555555555554444", "Card no. [TARJETA]"),
        ("Tel. No. 3312345678", "Tel. No. [TELEFONO]"),
        ("Celular núm. 55 1234 5678", "Celular núm. [TELEFONO]"),
    ] {
        assert_eq!(scrub(input), expected, "{input}");
    }
    unchanged("Pedido No. 4111 1111 1111 1111");
    unchanged("Número de pedido: 612345678.");
    // The abbreviation repeats the word right before it, not any word on the line.
    assert_eq!(
        scrub("Tel: 55 1234 5678, No. de cliente 3312345678"),
        "Tel: [TELEFONO], No. de cliente 3312345678"
    );
}

#[test]
fn cards_written_with_dots() {
    assert_eq!(scrub("Tarjeta 4111.1111.1111.1111."), "Tarjeta [TARJETA].");
    assert_eq!(scrub("n: 5555.5555.5555.4444"), "n: [TARJETA]");
    unchanged("Referencia 4111.1111.1111.1112.");
    unchanged("Son 1.299.000.000,00 pesos.");
}

#[test]
fn mistyped_card_after_a_card_word() {
    for (input, expected) in [
        (
            "Pagué con tarjeta 4111 1111 1111 1112.",
            "Pagué con tarjeta [TARJETA].",
        ),
        ("Card: 1234-5678-9012-3456", "Card: [TARJETA]"),
    ] {
        assert_eq!(scrub(input), expected, "{input}");
    }
    // Without a card word, Luhn stays required.
    unchanged("Referencia 4111 1111 1111 1112 (no pasa Luhn).");
    unchanged("Código 1234 5678 9012 3456");
}
