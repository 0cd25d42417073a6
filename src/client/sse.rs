//! A Server-Sent Events reader: bytes in, complete events out.
//!
//! Follows the WHATWG parsing rules the api's stream needs: `event:`,
//! `data:` and `id:` fields (several `data:` lines join with `\n`), comments (`:`)
//! ignored, an empty line ends an event, `\n` or `\r\n` line ends. Bytes are
//! buffered until a line is complete, so a chunk may end anywhere, even
//! inside a UTF-8 sequence.

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field (`message` when absent).
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The event's own `id:` field (the api's resume point), if it had one.
    pub id: Option<String>,
}

/// Incremental parser state.
#[derive(Debug, Default)]
pub struct SseParser {
    pending: Vec<u8>,
    event: Option<String>,
    data: Option<String>,
    id: Option<String>,
}

impl SseParser {
    /// Feeds bytes; the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let mut line: Vec<u8> = self.pending.drain(..=end).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if let Some(event) = self.line(&String::from_utf8_lossy(&line)) {
                out.push(event);
            }
        }
        out
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let data = self.data.take();
            let event = self.event.take();
            let id = self.id.take();
            return data.map(|data| SseEvent {
                event: event.unwrap_or_else(|| "message".to_owned()),
                data,
                id,
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::default();
        chunks.iter().flat_map(|c| p.feed(c)).collect()
    }

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.to_owned(),
            data: data.to_owned(),
            id: None,
        }
    }

    #[test]
    fn an_events_id_comes_with_it_and_only_with_it() {
        let got = all(&[b"id: 3.7
event: output
data: {}

event: end
data: {}

"]);
        assert_eq!(got[0].id.as_deref(), Some("3.7"));
        assert_eq!(got[1].id, None);
    }

    #[test]
    fn events_split_anywhere_come_out_whole() {
        let text = "event: output\ndata: {\"text\":\"grüße\"}\n\n: keep-alive\n\nevent: end\r\ndata: {}\r\n\r\n";
        let bytes = text.as_bytes();
        let expected = vec![ev("output", "{\"text\":\"grüße\"}"), ev("end", "{}")];
        assert_eq!(all(&[bytes]), expected);
        for cut in 1..bytes.len() {
            assert_eq!(all(&[&bytes[..cut], &bytes[cut..]]), expected, "cut {cut}");
        }
    }

    #[test]
    fn data_lines_join_and_an_event_without_data_is_dropped() {
        assert_eq!(
            all(&[b"data: a\ndata:b\n\nevent: lonely\n\n"]),
            vec![ev("message", "a\nb")]
        );
    }

    #[test]
    fn an_unfinished_event_is_not_emitted() {
        assert!(all(&[b"event: end\ndata: {}\n"]).is_empty());
    }
}
