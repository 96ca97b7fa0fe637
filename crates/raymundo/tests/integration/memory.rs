//! Conversation memory through `raymundo chat`: a follow-up is understood from the question
//! before it, and `/reset` ("olvida todo") forgets it.

use crate::support::{chat, ok, sample_project};

#[test]
fn a_follow_up_is_searched_with_the_question_before_it_until_the_user_says_forget() {
    let project = sample_project();
    let p = project.path();
    ok(p, &["build"]);
    let turns = chat(
        p,
        &[
            "¿Cuál es el horario de atención?",
            "¿y los sábados?",
            "olvida todo",
            "¿y los sábados?",
        ],
    );
    let [first, follow_up, reset, alone] = &turns[..] else {
        panic!("{turns:?}")
    };
    assert_eq!(first["step"], "answer", "{first}");
    assert_eq!(first["in_scope"], true, "{first}");
    assert!(first["query"].is_null(), "{first}");

    // Searched together with the question before it, and answered from the hours page.
    let query = follow_up["query"].as_str().unwrap_or_default();
    assert_eq!(query, "¿Cuál es el horario de atención? ¿y los sábados?");
    assert_eq!(follow_up["in_scope"], true, "{follow_up}");
    let text = follow_up["text"].as_str().unwrap();
    assert!(text.contains("sábados de 09:00 a 14:00"), "{text}");

    assert_eq!(reset["step"], "reset", "{reset}");
    assert!(
        reset["text"].as_str().unwrap().starts_with("Listo, olvidé"),
        "{reset}"
    );

    // Forgotten: the same words now stand alone.
    assert!(alone["query"].is_null(), "{alone}");
    assert_eq!(alone["in_scope"], false, "{alone}");
}
