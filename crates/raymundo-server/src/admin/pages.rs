//! The review pages as HTML strings: no JavaScript, readable on a phone, every text from
//! the log escaped.

use super::text as t;
use raymundo_store::{Interaction, InteractionFilter, Verdict};
use std::fmt::Write;

/// `text` with `& < > " '` escaped, safe inside elements and quoted attributes.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `value` for a query string.
fn url(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .map(|s| s.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

const STYLE: &str = "body{font:16px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;\
padding:.75rem;color:#1d1d1f}h1{font-size:1.35rem}h2{font-size:1.1rem;margin-top:1.5rem}\
a{color:#0b57d0}table{border-collapse:collapse;width:100%}td,th{padding:.35rem;\
border-bottom:1px solid #ddd;text-align:left;vertical-align:top}\
.msg{white-space:pre-wrap;overflow-wrap:anywhere}.muted{color:#666;font-size:.9rem}\
.ok{background:#e6f4ea;padding:.5rem}.err{background:#fce8e6;padding:.5rem}\
label{display:block;margin:.4rem 0}input,select,textarea,button{font:inherit;max-width:100%}\
textarea{width:100%;min-height:7rem}.filters label{display:inline-block;margin-right:1rem}\
nav{display:flex;justify-content:space-between;gap:1rem;margin:1rem 0}\
header{display:flex;justify-content:space-between;align-items:center}\
.item{border-bottom:1px solid #ddd;padding:.6rem 0}.tag{font-size:.85rem;padding:0 .3rem;\
border-radius:.2rem;background:#eee;margin-right:.3rem}";

/// A whole page around `body`; `csrf` adds the logout button.
pub fn layout(title: &str, csrf: Option<&str>, body: &str) -> String {
    let logout = csrf
        .map(|c| {
            format!(
                "<form method=\"post\" action=\"/admin/logout\"><input type=\"hidden\" \
                 name=\"csrf\" value=\"{}\"><button type=\"submit\">{}</button></form>",
                esc(c),
                t::LOGOUT
            )
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · {}</title><style>{STYLE}</style></head><body>\
         <header><strong>{}</strong>{logout}</header>\n{body}\n</body></html>\n",
        t::LANG,
        esc(title),
        t::TITLE,
        t::TITLE,
    )
}

/// The page shown when no admin token is configured.
pub fn disabled(variable: &str) -> String {
    layout(
        t::DISABLED_TITLE,
        None,
        &format!(
            "<h1>{}</h1><p>{} <code>{}</code> {}</p>",
            t::DISABLED_TITLE,
            t::DISABLED_BODY,
            esc(variable),
            t::DISABLED_HOW
        ),
    )
}

/// A page with one message.
pub fn message(title: &str, text: &str, csrf: Option<&str>) -> String {
    layout(
        title,
        csrf,
        &format!(
            "<h1>{}</h1><p class=\"err\">{}</p><p><a href=\"/admin\">{}</a></p>",
            esc(title),
            esc(text),
            t::BACK
        ),
    )
}

/// The login form; `wrong` after a wrong token.
pub fn login(wrong: bool) -> String {
    let note = if wrong {
        format!("<p class=\"err\">{}</p>", t::LOGIN_WRONG)
    } else {
        format!("<p>{}</p>", t::LOGIN_NEEDED)
    };
    layout(
        t::LOGIN_TITLE,
        None,
        &format!(
            "<h1>{}</h1>{note}<form method=\"post\" action=\"/admin/login\">\
             <label>{} <input type=\"password\" name=\"token\" id=\"token\" required \
             autocomplete=\"current-password\"></label>\
             <button type=\"submit\">{}</button></form>",
            t::LOGIN_TITLE,
            t::LOGIN_LABEL,
            t::LOGIN_BUTTON
        ),
    )
}

/// What the list page shows: filters, page, and a confirmation to show.
pub struct ListView<'a> {
    /// The filter applied (its `limit` is ignored here).
    pub filter: &'a InteractionFilter,
    /// The page, 1 first.
    pub page: usize,
    /// The interactions of this page.
    pub items: &'a [Interaction],
    /// Whether a later page exists.
    pub more: bool,
    /// The intents for the filter.
    pub intents: &'a [String],
    /// The channels for the filter.
    pub channels: &'a [&'a str],
    /// The interaction whose review was just saved.
    pub saved: Option<i64>,
    /// The session's form token.
    pub csrf: &'a str,
}

/// The query string of `filter` (without the page).
pub fn filter_query(filter: &InteractionFilter) -> String {
    let mut q = Vec::new();
    if filter.unreviewed {
        q.push("unreviewed=1".to_string());
    }
    if filter.out_of_scope {
        q.push("out_of_scope=1".to_string());
    }
    if filter.thumbs_down {
        q.push("thumbs_down=1".to_string());
    }
    if let Some(i) = &filter.intent {
        q.push(format!("intent={}", url(i)));
    }
    if let Some(c) = &filter.channel {
        q.push(format!("channel={}", url(c)));
    }
    q.join("&")
}

fn checkbox(name: &str, label: &str, on: bool) -> String {
    format!(
        "<label><input type=\"checkbox\" name=\"{name}\" value=\"1\"{}> {label}</label>",
        if on { " checked" } else { "" }
    )
}

fn select(name: &str, label: &str, options: &[(String, String)], chosen: Option<&str>) -> String {
    let mut s = format!("<label>{label} <select name=\"{name}\" id=\"{name}\">");
    for (value, text) in options {
        let sel = if Some(value.as_str()) == chosen {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            s,
            "<option value=\"{}\"{sel}>{}</option>",
            esc(value),
            esc(text)
        );
    }
    s.push_str("</select></label>");
    s
}

/// A time as `2026-11-24 10:05`.
pub fn when(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| at.to_string())
}

fn short(text: &str, max: usize) -> String {
    let mut s: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        s.push('…');
    }
    s
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Correct => t::V_CORRECT,
        Verdict::Incorrect => t::V_INCORRECT,
        Verdict::OutOfScope => t::V_OUT_OF_SCOPE,
    }
}

/// The list of interactions with its filters.
pub fn list(v: &ListView) -> String {
    let f = v.filter;
    let mut b = format!("<h1>{}</h1>", t::LIST_TITLE);
    if let Some(id) = v.saved {
        let _ = write!(b, "<p class=\"ok\" id=\"saved\">{} #{id}.</p>", t::SAVED);
    }
    let mut intents = vec![(String::new(), t::F_ANY.to_string())];
    intents.extend(v.intents.iter().map(|i| (i.clone(), i.clone())));
    let mut channels = vec![(String::new(), t::F_ANY.to_string())];
    channels.extend(v.channels.iter().map(|c| (c.to_string(), c.to_string())));
    let _ = write!(
        b,
        "<form method=\"get\" action=\"/admin\" class=\"filters\" id=\"filters\">\
         <fieldset><legend>{}</legend>{}{}{}{}{}\
         <button type=\"submit\">{}</button> <a href=\"/admin\">{}</a></fieldset></form>",
        t::FILTERS,
        checkbox("unreviewed", t::F_UNREVIEWED, f.unreviewed),
        checkbox("out_of_scope", t::F_OUT_OF_SCOPE, f.out_of_scope),
        checkbox("thumbs_down", t::F_THUMBS_DOWN, f.thumbs_down),
        select("intent", t::F_INTENT, &intents, f.intent.as_deref()),
        select("channel", t::F_CHANNEL, &channels, f.channel.as_deref()),
        t::F_APPLY,
        t::F_CLEAR,
    );
    if v.items.is_empty() {
        let _ = write!(b, "<p>{}</p>", t::EMPTY_LIST);
    }
    b.push_str("<div id=\"interactions\">");
    for i in v.items {
        let turn = &i.turn;
        let state = match &i.review {
            Some(r) => format!(
                "<span class=\"tag reviewed\">{}: {}</span>",
                t::REVIEWED,
                verdict_text(r.verdict)
            ),
            None => format!("<span class=\"tag unreviewed\">{}</span>", t::NOT_REVIEWED),
        };
        let feedback = match i.feedback {
            Some(x) if x < 0 => "<span class=\"tag\">👎</span>",
            Some(_) => "<span class=\"tag\">👍</span>",
            None => "",
        };
        let scope = if turn.in_scope == Some(false) {
            format!("<span class=\"tag\">{}</span>", t::F_OUT_OF_SCOPE)
        } else {
            String::new()
        };
        let _ = write!(
            b,
            "<div class=\"item\" data-id=\"{id}\"><a href=\"/admin/interactions/{id}\">#{id} \
             {}</a><div class=\"muted\">{} · {} · {} {state}{scope}{feedback}</div>\
             <div class=\"muted msg\">{}</div></div>",
            esc(&short(&turn.message, 140)),
            when(turn.at),
            esc(&turn.channel),
            esc(turn.intent.as_deref().unwrap_or(t::NO_INTENT)),
            esc(&short(&turn.answer, 160)),
            id = i.id,
        );
    }
    b.push_str("</div><nav>");
    let q = filter_query(f);
    let link = |page: usize, text: &str| {
        let sep = if q.is_empty() { "" } else { "&" };
        let href = format!("/admin?{q}{sep}page={page}");
        format!("<a href=\"{}\">{text}</a>", esc(&href))
    };
    b.push_str(&if v.page > 1 {
        link(v.page - 1, t::NEWER)
    } else {
        "<span></span>".into()
    });
    let _ = write!(b, "<span class=\"muted\">{} {}</span>", t::PAGE, v.page);
    b.push_str(&if v.more {
        link(v.page + 1, t::OLDER)
    } else {
        "<span></span>".into()
    });
    b.push_str("</nav>");
    layout(t::LIST_TITLE, Some(v.csrf), &b)
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => t::YES,
        Some(false) => t::NO,
        None => t::NONE,
    }
}

fn row(label: &str, value_html: &str) -> String {
    format!("<tr><th>{label}</th><td>{value_html}</td></tr>")
}

/// One interaction, everything recorded about it, and its review form.
pub fn detail(i: &Interaction, intents: &[String], csrf: &str) -> String {
    let turn = &i.turn;
    let mut b = format!(
        "<p><a href=\"/admin\">{}</a></p><h1>{} #{}</h1><table>",
        t::BACK,
        t::DETAIL_TITLE,
        i.id
    );
    let text = |s: &str| format!("<div class=\"msg\">{}</div>", esc(s));
    b.push_str(&row(t::WHEN, &when(turn.at)));
    b.push_str(&row(t::CHANNEL, &esc(&turn.channel)));
    b.push_str(&row(t::MESSAGE, &text(&turn.message)));
    if let Some(q) = &turn.query {
        b.push_str(&row(t::QUERY, &text(q)));
    }
    b.push_str(&row(t::STEP, &esc(&turn.step)));
    b.push_str(&row(
        t::INTENT,
        &esc(turn.intent.as_deref().unwrap_or(t::NO_INTENT)),
    ));
    if let Some(p) = &turn.parameters {
        b.push_str(&row(
            t::PARAMETERS,
            &format!("<code class=\"msg\">{}</code>", esc(&p.to_string())),
        ));
    }
    b.push_str(&row(
        t::CONFIDENCE,
        &turn
            .confidence
            .map(|c| format!("{c:.3}"))
            .unwrap_or_else(|| t::NONE.into()),
    ));
    b.push_str(&row(t::ANSWER, &text(&turn.answer)));
    b.push_str(&row(
        t::PROVIDER,
        &esc(turn.provider.as_deref().unwrap_or(t::NONE)),
    ));
    b.push_str(&row(t::IN_SCOPE, yes_no(turn.in_scope)));
    b.push_str(&row(t::RESOLVED, yes_no(Some(turn.resolved))));
    b.push_str(&row(t::HANDED_OFF, yes_no(Some(turn.handed_off))));
    let mut latency: Vec<String> = turn
        .latency_ms
        .iter()
        .map(|(k, v)| format!("{} {v:.1}", esc(k)))
        .collect();
    latency.push(format!("{} {:.1}", t::TOTAL, turn.total_ms));
    b.push_str(&row(t::LATENCY, &latency.join(" · ")));
    b.push_str(&row(
        t::FEEDBACK,
        match i.feedback {
            Some(x) if x < 0 => "👎",
            Some(_) => "👍",
            None => t::NONE,
        },
    ));
    b.push_str("</table>");

    let _ = write!(b, "<h2>{}</h2>", t::CHUNKS);
    if turn.chunks.is_empty() {
        let _ = write!(b, "<p>{}</p>", t::NO_CHUNKS);
    } else {
        let _ = write!(
            b,
            "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
            t::DOCUMENT,
            t::POSITION,
            t::SCORE
        );
        for c in &turn.chunks {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{:.3}</td></tr>",
                esc(&c.doc),
                c.position,
                c.score
            );
        }
        b.push_str("</table>");
    }

    if let Some(r) = &i.review {
        let _ = write!(b, "<h2>{}</h2><table id=\"review\">", t::REVIEW_EXISTING);
        b.push_str(&row(t::VERDICT, verdict_text(r.verdict)));
        if let Some(a) = &r.corrected_answer {
            b.push_str(&row(t::CORRECTED_ANSWER, &text(a)));
        }
        if let Some(ci) = &r.corrected_intent {
            b.push_str(&row(t::CORRECTED_INTENT, &esc(ci)));
        }
        b.push_str(&row(t::REVIEWER, &esc(&r.reviewer)));
        b.push_str(&row(t::WHEN, &when(r.at)));
        b.push_str("</table>");
    }

    let current = i.review.as_ref();
    let verdict = current.map(|r| r.verdict);
    let radio = |v: Verdict, label: &str| {
        format!(
            "<label><input type=\"radio\" name=\"verdict\" value=\"{}\" required{}> {label}</label>",
            v.as_str(),
            if verdict == Some(v) { " checked" } else { "" }
        )
    };
    let mut intent_options = vec![
        (String::new(), t::UNCHANGED.to_string()),
        ("none".to_string(), t::NONE_INTENT.to_string()),
    ];
    intent_options.extend(intents.iter().map(|i| (i.clone(), i.clone())));
    let _ = write!(
        b,
        "<h2>{}</h2><form method=\"post\" action=\"/admin/interactions/{}/review\" id=\"review-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\"><fieldset><legend>{}</legend>{}{}{}</fieldset>\
         <label>{}<textarea name=\"corrected_answer\" id=\"corrected_answer\">{}</textarea></label>\
         {}<label>{} <input name=\"reviewer\" id=\"reviewer\" required value=\"{}\"></label>\
         <p><button type=\"submit\">{}</button></p></form>",
        t::REVIEW,
        i.id,
        esc(csrf),
        t::VERDICT,
        radio(Verdict::Correct, t::V_CORRECT),
        radio(Verdict::Incorrect, t::V_INCORRECT),
        radio(Verdict::OutOfScope, t::V_OUT_OF_SCOPE),
        t::CORRECTED_ANSWER,
        esc(current
            .and_then(|r| r.corrected_answer.as_deref())
            .unwrap_or("")),
        select(
            "corrected_intent",
            t::CORRECTED_INTENT,
            &intent_options,
            current.and_then(|r| r.corrected_intent.as_deref())
        ),
        t::REVIEWER,
        esc(current.map(|r| r.reviewer.as_str()).unwrap_or("")),
        t::SAVE,
    );
    layout(&format!("{} #{}", t::DETAIL_TITLE, i.id), Some(csrf), &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(
            url("sin intención & más"),
            "sin+intenci%C3%B3n+%26+m%C3%A1s"
        );
    }
}
