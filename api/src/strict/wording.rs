//! serde's messages ("missing field `x`", "invalid type: string \"a\",
//! expected u16") rewritten in the words of the API's fields.

use super::schema::Place;
use super::suggest::closest;

/// A serde message about the value at `place`, in field language; the
/// pointer moves to the missing field for "missing field".
pub fn reword(place: &Place, original: &str) -> (String, String) {
    let (pointer, message) = worded(place, original);
    // The parsers append a position (" at line 1 column 9"); a reworded
    // message keeps it in parentheses, for the reader of a long document.
    match original.trim().rsplit_once(" at line ") {
        Some((_, tail)) if tail.contains(" column ") && !message.contains(tail) => {
            (pointer, format!("{message} (line {tail})"))
        }
        _ => (pointer, message),
    }
}

fn worded(place: &Place, original: &str) -> (String, String) {
    let original = original.trim();
    let message = original
        .rsplit_once(" at line ")
        .filter(|(_, tail)| tail.contains(" column "))
        .map_or(original, |(head, _)| head);
    if let Some(field) = between(message, "missing field `", "`") {
        let at = place.key(field);
        return (at.pointer.clone(), format!("{} is required", at.name()));
    }
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((name, tail)) = rest.split_once('`')
    {
        let known = quoted(tail);
        let mut worded = format!("unknown field `{name}`");
        if !place.dotted.is_empty() {
            worded.push_str(&format!(" in `{}`", place.dotted));
        }
        if let Some(near) = closest(name, known.iter().map(String::as_str)) {
            worded.push_str(&format!("; did you mean `{near}`?"));
        }
        return (place.key(name).pointer, worded);
    }
    if let Some(rest) = message.strip_prefix("unknown variant `")
        && let Some((given, tail)) = rest.split_once('`')
    {
        let known = quoted(tail);
        let mut worded = format!(
            "{} must be {}",
            place.name(),
            super::suggest::listed(known.iter().map(String::as_str))
        );
        if let Some(near) = closest(given, known.iter().map(String::as_str)) {
            worded.push_str(&format!("; did you mean `{near}`?"));
        }
        return (place.pointer.clone(), worded);
    }
    if let Some((_, expected)) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|m| m.rsplit_once(", expected "))
    {
        return (
            place.pointer.clone(),
            format!("{} must be {}", place.name(), expected_words(expected)),
        );
    }
    if message.contains("UUID parsing failed") || message.starts_with("invalid character: expected")
    {
        return (
            place.pointer.clone(),
            format!("{} must be a UUID", place.name()),
        );
    }
    if message.starts_with("invalid digit found") || message.contains("number too large") {
        return (
            place.pointer.clone(),
            format!("{} must be an integer", place.name()),
        );
    }
    if place.dotted.is_empty() {
        (place.pointer.clone(), original.to_owned())
    } else {
        (
            place.pointer.clone(),
            format!("{}: {original}", place.name()),
        )
    }
}

/// What serde's "expected …" names, in words.
pub fn expected_words(expected: &str) -> String {
    let range = |low: i128, high: i128| format!("an integer between {low} and {high}");
    match expected.trim() {
        "u8" => range(0, i128::from(u8::MAX)),
        "u16" => range(0, i128::from(u16::MAX)),
        "u32" => range(0, i128::from(u32::MAX)),
        "u64" | "usize" => "a whole number of at least 0".to_owned(),
        "i8" => range(i128::from(i8::MIN), i128::from(i8::MAX)),
        "i16" => range(i128::from(i16::MIN), i128::from(i16::MAX)),
        "i32" => range(i128::from(i32::MIN), i128::from(i32::MAX)),
        "i64" | "isize" => "an integer".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" | "bool" => "true or false".to_owned(),
        "a sequence" => "a list".to_owned(),
        "a map" => "an object".to_owned(),
        "a UUID string" => "a UUID".to_owned(),
        e if e.starts_with("struct ") || e.starts_with("a map ") => "an object".to_owned(),
        e if e.starts_with("a sequence") || e.starts_with("tuple") => "a list".to_owned(),
        e if e.starts_with("a string") || e.starts_with("a borrowed string") => {
            "a string".to_owned()
        }
        e => e.to_owned(),
    }
}

/// The first text between `start` and `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(start)?;
    rest.split_once(end).map(|(inside, _)| inside)
}

/// Every `quoted` name in a text.
fn quoted(text: &str) -> Vec<String> {
    text.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(keys: &[&str]) -> Place {
        keys.iter().fold(Place::default(), |p, k| p.key(k))
    }

    #[test]
    fn serde_messages_speak_of_fields() {
        assert_eq!(
            reword(&at(&["ssh"]), "missing field `credential_id`"),
            (
                "/ssh/credential_id".to_owned(),
                "`ssh.credential_id` is required".to_owned()
            )
        );
        assert_eq!(
            reword(&at(&["port"]), "invalid type: string \"x\", expected u16"),
            (
                "/port".to_owned(),
                "`port` must be an integer between 0 and 65535".to_owned()
            )
        );
        assert_eq!(
            reword(
                &at(&["step"]),
                "unknown field `comand`, expected one of `command`, `env`"
            ),
            (
                "/step/comand".to_owned(),
                "unknown field `comand` in `step`; did you mean `command`?".to_owned()
            )
        );
        assert_eq!(
            reword(
                &at(&["os_type"]),
                "unknown variant `linx`, expected `linux` or `windows`"
            )
            .1,
            "`os_type` must be `linux` or `windows`; did you mean `linux`?"
        );
        assert_eq!(
            reword(&at(&["id"]), "UUID parsing failed: invalid character").1,
            "`id` must be a UUID"
        );
        assert_eq!(reword(&Place::default(), "odd").1, "odd");
        assert_eq!(reword(&at(&["a"]), "odd").1, "`a`: odd");
    }
}
