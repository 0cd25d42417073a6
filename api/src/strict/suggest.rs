//! "Did you mean …?": the known name closest to a mistyped one.

/// Bytes of a typed name compared at most.
const MAX_TYPED: usize = 64;

/// The known name closest to `typed` by edit distance, when it is close
/// enough to be a typo (one edit for names under 4 characters, two up to
/// 8, a third of the name beyond); case differences count as half an edit.
pub fn closest<'a, I>(typed: &str, known: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    // A name this long is no typo of a field name; comparing it would only
    // cost time.
    if typed.len() > MAX_TYPED {
        return None;
    }
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in known {
        let score = distance(typed, candidate);
        let longer = typed.chars().count().max(candidate.chars().count());
        // Scores are doubled (half edits), so is the limit.
        let limit = if longer < 4 {
            2
        } else {
            2 * (longer / 3).max(2)
        };
        if score <= limit && best.is_none_or(|(b, _)| score < b) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, name)| name)
}

/// Levenshtein distance, doubled, where a substitution that only changes
/// case costs 1 and any other edit 2.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).map(|j| 2 * j).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(2 * (i + 1));
        for (j, cb) in b.iter().enumerate() {
            let swap = if ca == cb {
                0
            } else if ca.eq_ignore_ascii_case(cb) {
                1
            } else {
                2
            };
            let value = (previous[j] + swap)
                .min(previous[j + 1] + 2)
                .min(current[j] + 2);
            current.push(value);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Names as a sentence fragment: "`a`, `b` or `c`".
pub fn listed<'a, I>(names: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    let quoted: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_field_and_strangers_find_none() {
        let known = ["command", "timeout_secs", "env", "cwd"];
        assert_eq!(closest("comand", known), Some("command"));
        assert_eq!(closest("Command", known), Some("command"));
        assert_eq!(closest("timeout_sec", known), Some("timeout_secs"));
        assert_eq!(closest("cwdd", known), Some("cwd"));
        assert_eq!(closest("hostname", known), None);
        assert_eq!(closest("x", ["y"]), Some("y"));
        assert_eq!(closest("xyz", ["abc"]), None);
        assert_eq!(closest("a", []), None);
    }

    #[test]
    fn names_are_listed_as_words() {
        assert_eq!(listed([]), "");
        assert_eq!(listed(["a"]), "`a`");
        assert_eq!(listed(["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
