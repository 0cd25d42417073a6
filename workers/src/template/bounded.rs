//! The filters and functions a template may call, each bounded: no text
//! longer than [`MAX_STRING_BYTES`], and no more than [`MAX_BUILT_BYTES`]
//! built by all of them in one render ([`Budget`]).
//!
//! Where an output can outgrow its input many times (`join`, `replace`,
//! `indent`, `string`, `list`, `batch`, `slice`, `concat`) the size is worked
//! out before anything is allocated; the text filters refuse an input
//! longer than the limit; every output is measured and charged. What makes
//! the rest of a template bounded — operators, capturing blocks, nesting —
//! is ruled by `opsc_proto::job_check::bounds`, checked before rendering.

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use minijinja::value::{Rest, Value as JValue, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, filters, functions};
use opsc_proto::job_check::bounds::{
    FILTERS, MAX_BUILT_BYTES, MAX_COUNT, MAX_STRING_BYTES, TEXT_FILTERS,
};

/// Bytes charged for each item of a list or map a filter builds.
const SLOT_BYTES: usize = 32;

/// Default filters of minijinja left out of [`FILTERS`].
const REMOVED: [&str; 6] = ["chain", "zip", "format", "pprint", "tojson", "urlencode"];

/// What the filters and functions of one render have built.
#[derive(Debug, Default)]
pub(super) struct Budget {
    used: AtomicUsize,
    /// The first limit a render hit: the error of the whole render.
    exceeded: OnceLock<String>,
}

impl Budget {
    /// The limit a render hit, if any.
    pub(super) fn exceeded(&self) -> Option<&str> {
        self.exceeded.get().map(String::as_str)
    }

    /// Refuses text of `bytes` from `what` longer than [`MAX_STRING_BYTES`];
    /// charges it otherwise.
    fn text(&self, what: &str, bytes: usize) -> Result<(), Error> {
        if bytes > MAX_STRING_BYTES {
            return Err(self.fail(format!(
                "{what} would build a text of more than {MAX_STRING_BYTES} bytes (the limit for one text)"
            )));
        }
        self.charge(what, bytes)
    }

    fn charge(&self, what: &str, bytes: usize) -> Result<(), Error> {
        let before = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                Some(u.saturating_add(bytes))
            })
            .unwrap_or_else(|u| u);
        if before.saturating_add(bytes) > MAX_BUILT_BYTES {
            return Err(self.fail(format!(
                "{what}: the filters and functions of this template would build more than {MAX_BUILT_BYTES} bytes in all"
            )));
        }
        Ok(())
    }

    /// Records the first limit hit and makes the error that stops the render.
    pub(super) fn fail(&self, message: String) -> Error {
        let _ = self.exceeded.set(message.clone());
        Error::new(ErrorKind::InvalidOperation, message)
    }

    /// Charges what a filter or function returned.
    fn measure(&self, what: &str, out: &JValue) -> Result<(), Error> {
        match out.kind() {
            ValueKind::String => self.text(what, out.as_str().map_or(0, str::len)),
            ValueKind::Seq | ValueKind::Map => {
                self.charge(what, out.len().unwrap_or(0).saturating_mul(SLOT_BYTES))
            }
            _ => Ok(()),
        }
    }
}

/// Replaces the environment's filters with bounded ones, removes the rest,
/// and adds the bounded functions (`concat`, `range`, `dict`, `namespace`).
pub(super) fn install(env: &mut Environment<'static>, budget: &Arc<Budget>) {
    for name in REMOVED {
        env.remove_filter(name);
    }
    for &name in FILTERS {
        let Some(inner) = builtin_filter(name) else {
            // Every listed filter has a builtin (a test checks); never
            // leave an unchecked one in place.
            env.remove_filter(name);
            continue;
        };
        let budget = Arc::clone(budget);
        env.add_filter(name, move |state: &State<'_, '_>, args: Rest<JValue>| {
            let what = format!("|{name}");
            precheck(name, &args, &budget)?;
            let out = inner.call(state, &args)?;
            budget.measure(&what, &out)?;
            Ok::<_, Error>(out)
        });
    }
    let functions = [
        ("range", JValue::from_function(functions::range)),
        ("dict", JValue::from_function(functions::dict)),
        ("namespace", JValue::from_function(functions::namespace)),
    ];
    for (name, inner) in functions {
        let budget = Arc::clone(budget);
        env.add_function(name, move |state: &State<'_, '_>, args: Rest<JValue>| {
            let out = inner.call(state, &args)?;
            budget.measure(&format!("{name}()"), &out)?;
            Ok::<_, Error>(out)
        });
    }
    let budget = Arc::clone(budget);
    env.add_function("concat", move |args: Rest<JValue>| concat(&args, &budget));
}

/// `concat(a, b, …)`: the texts of its arguments joined, within the limit.
fn concat(args: &[JValue], budget: &Budget) -> Result<JValue, Error> {
    let mut out = Capped::new(MAX_STRING_BYTES);
    for arg in args {
        if out.write_value(arg).is_err() {
            return Err(budget.fail(format!(
                "concat() would build a text of more than {MAX_STRING_BYTES} bytes (the limit for one text)"
            )));
        }
    }
    budget.text("concat()", out.buf.len())?;
    Ok(JValue::from(out.buf))
}

/// Works out, before the call, what a filter would build where that can be
/// far more than its input.
fn precheck(name: &str, args: &[JValue], budget: &Budget) -> Result<(), Error> {
    let what = format!("|{name}");
    let input = args.first();
    if TEXT_FILTERS.contains(&name) && name != "join" {
        let len = input.map_or(Some(0), |v| printed_len(v, MAX_STRING_BYTES));
        if len.is_none() {
            return Err(budget.fail(format!(
                "{what} was given a text of more than {MAX_STRING_BYTES} bytes (the limit for one text)"
            )));
        }
    }
    match name {
        "join" => budget.text(&what, join_len(args)).map(drop),
        "replace" => budget.text(&what, replace_len(args)).map(drop),
        "indent" => budget.text(&what, indent_len(args)).map(drop),
        "list" => {
            let items = input.map_or(0, |v| v.len().unwrap_or(0));
            budget.charge(&what, items.saturating_mul(SLOT_BYTES))
        }
        "batch" | "slice" => {
            let count = args.get(1).and_then(JValue::as_usize).unwrap_or(0);
            if count > MAX_COUNT {
                return Err(budget.fail(format!(
                    "{what} takes a count of at most {MAX_COUNT}, not {count}"
                )));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The length of `join`'s result (past the limit: more than it).
fn join_len(args: &[JValue]) -> usize {
    let over = MAX_STRING_BYTES + 1;
    let sep = match args.get(1).filter(|s| !s.is_kwargs()) {
        Some(s) => printed_len(s, MAX_STRING_BYTES).unwrap_or(over),
        None => 0,
    };
    let Some(items) = args.first().and_then(|v| v.try_iter().ok()) else {
        return 0;
    };
    let mut total = 0_usize;
    for (i, item) in items.enumerate() {
        if i > 0 {
            total = total.saturating_add(sep);
        }
        let room = MAX_STRING_BYTES.saturating_sub(total);
        match printed_len(&item, room) {
            Some(n) => total += n,
            None => return over,
        }
        if total > MAX_STRING_BYTES {
            return total;
        }
    }
    total
}

/// The length of `replace`'s result.
fn replace_len(args: &[JValue]) -> usize {
    let over = MAX_STRING_BYTES + 1;
    let texts: Vec<Option<String>> = args
        .iter()
        .take(3)
        .map(|v| Capped::text(v, MAX_STRING_BYTES))
        .collect();
    let [Some(Some(text)), Some(Some(from)), Some(Some(to))] =
        [texts.first(), texts.get(1), texts.get(2)]
    else {
        return if texts.iter().any(Option::is_none) {
            over
        } else {
            0
        };
    };
    let hits = if from.is_empty() {
        text.chars().count() + 1
    } else {
        text.matches(from.as_str()).count()
    };
    text.len()
        .saturating_sub(hits.saturating_mul(from.len()))
        .saturating_add(hits.saturating_mul(to.len()))
}

/// The length of `indent`'s result.
fn indent_len(args: &[JValue]) -> usize {
    let width = args
        .get(1)
        .filter(|v| !v.is_kwargs())
        .and_then(JValue::as_usize)
        .or_else(|| {
            args.iter()
                .find(|v| v.is_kwargs())
                .and_then(|k| k.get_attr("width").ok())
                .and_then(|w| w.as_usize())
        })
        .unwrap_or(4);
    let text = args
        .first()
        .and_then(|v| Capped::text(v, MAX_STRING_BYTES))
        .unwrap_or_default();
    let lines = text.lines().count().max(1);
    text.len().saturating_add(lines.saturating_mul(width))
}

/// The builtin a listed filter wraps.
pub(super) fn builtin_filter(name: &str) -> Option<JValue> {
    Some(match name {
        "abs" => JValue::from_function(filters::abs),
        "attr" => JValue::from_function(filters::attr),
        "batch" => JValue::from_function(filters::batch),
        "bool" => JValue::from_function(filters::bool),
        "capitalize" => JValue::from_function(filters::capitalize),
        "count" | "length" => JValue::from_function(filters::length),
        "d" | "default" => JValue::from_function(filters::default),
        "dictsort" => JValue::from_function(filters::dictsort),
        "e" | "escape" => JValue::from_function(filters::escape),
        "first" => JValue::from_function(filters::first),
        "float" => JValue::from_function(filters::float),
        "groupby" => JValue::from_function(filters::groupby),
        "indent" => JValue::from_function(filters::indent),
        "int" => JValue::from_function(filters::int),
        "items" => JValue::from_function(filters::items),
        "join" => JValue::from_function(filters::join),
        "last" => JValue::from_function(filters::last),
        "lines" => JValue::from_function(filters::lines),
        "list" => JValue::from_function(filters::list),
        "lower" => JValue::from_function(filters::lower),
        "map" => JValue::from_function(filters::map),
        "max" => JValue::from_function(filters::max),
        "min" => JValue::from_function(filters::min),
        "reject" => JValue::from_function(filters::reject),
        "rejectattr" => JValue::from_function(filters::rejectattr),
        "replace" => JValue::from_function(filters::replace),
        "reverse" => JValue::from_function(filters::reverse),
        "round" => JValue::from_function(filters::round),
        "safe" => JValue::from_function(filters::safe),
        "select" => JValue::from_function(filters::select),
        "selectattr" => JValue::from_function(filters::selectattr),
        "slice" => JValue::from_function(filters::slice),
        "sort" => JValue::from_function(filters::sort),
        "split" => JValue::from_function(filters::split),
        "string" => JValue::from_function(filters::string),
        "sum" => JValue::from_function(filters::sum),
        "title" => JValue::from_function(filters::title),
        "trim" => JValue::from_function(filters::trim),
        "unique" => JValue::from_function(filters::unique),
        "upper" => JValue::from_function(filters::upper),
        _ => return None,
    })
}

/// How many bytes `value` prints as, if at most `limit`.
fn printed_len(value: &JValue, limit: usize) -> Option<usize> {
    if let Some(s) = value.as_str() {
        return (s.len() <= limit).then_some(s.len());
    }
    let mut counter = Capped::counting(limit);
    counter.write_value(value).ok().map(|()| counter.len)
}

/// A text buffer (or a mere counter) that refuses to grow past its limit,
/// so printing a value never allocates more than that.
#[derive(Debug)]
pub(super) struct Capped {
    buf: String,
    len: usize,
    limit: usize,
    keep: bool,
}

impl Capped {
    fn new(limit: usize) -> Self {
        Self {
            buf: String::new(),
            len: 0,
            limit,
            keep: true,
        }
    }

    fn counting(limit: usize) -> Self {
        Self {
            keep: false,
            ..Self::new(limit)
        }
    }

    /// `value` as text, if it prints as at most `limit` bytes.
    pub(super) fn text(value: &JValue, limit: usize) -> Option<String> {
        let mut out = Self::new(limit);
        out.write_value(value).ok().map(|()| out.buf)
    }

    /// Appends how `value` prints.
    fn write_value(&mut self, value: &JValue) -> fmt::Result {
        match value.as_str() {
            Some(s) => self.write_str(s),
            None => write!(self, "{value}"),
        }
    }
}

impl fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.len = self.len.saturating_add(s.len());
        if self.len > self.limit {
            return Err(fmt::Error);
        }
        if self.keep {
            self.buf.push_str(s);
        }
        Ok(())
    }
}
