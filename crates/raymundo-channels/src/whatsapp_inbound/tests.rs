//! Every fixture body parses into the event it should.

use super::*;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/whatsapp-cloud")
}

fn parse_fixture(name: &str) -> Vec<Event> {
    let bytes = std::fs::read(fixtures().join(format!("{name}.json"))).unwrap();
    parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn one_message(name: &str) -> InboundMessage {
    match parse_fixture(name).as_slice() {
        [Event::Message(m)] => m.clone(),
        other => panic!("{name}: expected one message, got {other:?}"),
    }
}

#[test]
fn every_fixture_parses_into_at_least_one_event() {
    let mut n = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let events = parse(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!events.is_empty(), "{}", path.display());
            n += 1;
        }
    }
    assert_eq!(n, 39);
}

#[test]
fn text_messages_carry_body_sender_name_and_context() {
    let m = one_message("message__text");
    assert_eq!(m.content, Content::Text("Body Text".into()));
    assert_eq!(
        (m.id.as_str(), m.from.as_str()),
        ("wamid.xyzxyz", "972987654321")
    );
    assert_eq!(m.name.as_deref(), Some("Test Name"));
    assert_eq!(m.reply_to, None);
    for name in [
        "message__reply",
        "message__forwarded",
        "message__forwarded_many_times",
        "message__referral",
    ] {
        assert!(
            matches!(one_message(name).content, Content::Text(_)),
            "{name}"
        );
    }
    assert!(one_message("message__reply").reply_to.is_some());
}

#[test]
fn buttons_and_list_rows_give_their_id_and_title() {
    for name in [
        "callback_button__button",
        "callback_selection__callback",
        "callback_selection__description",
        "callback_button__quick_reply",
        "callback_button__quick_reply_without_context",
    ] {
        match one_message(name).content {
            Content::Choice { id, title } => {
                assert_eq!(id, "callback_data", "{name}");
                assert!(!title.is_empty(), "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn media_locations_contacts_orders_and_unknown_types_are_unsupported() {
    for (name, kind) in [
        ("message__image", "image"),
        ("message__media_with_url", "image"),
        ("message__video", "video"),
        ("message__audio", "audio"),
        ("message__voice", "audio"),
        ("message__document", "document"),
        ("message__static_sticker", "sticker"),
        ("message__animated_sticker", "sticker"),
        ("message__chosen_location", "location"),
        ("message__current_location", "location"),
        ("message__contacts", "contacts"),
        ("message__order", "order"),
        ("message__unsupported", "unsupported"),
        ("message__unsupported_with_type", "unsupported"),
        ("message__interactive_message_with_err", "interactive"),
    ] {
        assert_eq!(
            one_message(name).content,
            Content::Unsupported(kind.into()),
            "{name}"
        );
    }
}

#[test]
fn reactions_statuses_and_system_notices() {
    match parse_fixture("message__reaction").as_slice() {
        [Event::Reaction(r)] => {
            assert_eq!(r.target, "wamid.yzxyzx=");
            assert_eq!(r.emoji.as_deref(), Some("😮"));
        }
        other => panic!("{other:?}"),
    }
    for name in ["message__unreaction_empty", "message__unreaction_no_emoji"] {
        match parse_fixture(name).as_slice() {
            [Event::Reaction(r)] => assert_eq!(r.emoji, None, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    match parse_fixture("message_status__failed").as_slice() {
        [Event::Status(s)] => {
            assert_eq!(s.status, "failed");
            assert_eq!(s.timestamp, 1689380458);
            assert_eq!(
                s.error,
                Some((130472, "User's number is part of an experiment".into()))
            );
        }
        other => panic!("{other:?}"),
    }
    for (name, status) in [
        ("message_status__sent", "sent"),
        ("message_status__delivered", "delivered"),
        ("message_status__read", "read"),
        ("message_status__played", "played"),
        ("message_status__group", "read"),
        ("message_status__with_tracker", "sent"),
    ] {
        match parse_fixture(name).as_slice() {
            [Event::Status(s)] => assert_eq!(s.status, status, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    for (name, kind) in [
        ("system__identity_change", "system"),
        ("system__phone_number_change", "system"),
        ("deleted_message__revoke", "revoke"),
        ("edited_message__image", "edit"),
    ] {
        assert_eq!(
            parse_fixture(name),
            vec![Event::Ignored(kind.into())],
            "{name}"
        );
    }
}

#[test]
fn malformed_bodies_are_refused_with_the_reason() {
    let e = parse(b"{\"entry\": [").unwrap_err().to_string();
    assert!(e.contains("not valid JSON"), "{e}");
    let e = parse(b"[1, 2]").unwrap_err().to_string();
    assert!(e.contains("JSON object"), "{e}");
    let e = parse(b"{\"object\": \"page\"}").unwrap_err().to_string();
    assert!(e.contains("\"entry\""), "{e}");
}
