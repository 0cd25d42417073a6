//! Test peers for the notifier's channels, each a small real server on a
//! free loopback port that records what it received:
//!
//! - [`SmtpPeer`]: the real SMTP server aiosmtpd (Python, from the test
//!   venv) with STARTTLS, implicit TLS or none, optional authentication;
//! - [`SlackPeer`]: Slack's Web API `chat.postMessage` and an incoming webhook;
//! - [`TeamsPeer`]: a Teams incoming webhook checking the Adaptive Card envelope;
//! - [`WebhookPeer`]: a receiver verifying the HMAC signature and refusing replays.
//!
//! The HTTP peers can fail the next N requests, for retry tests.

pub mod http;
pub mod slack;
pub mod smtp;
pub mod teams;
pub mod webhook;

pub use slack::{SlackFailure, SlackPeer, SlackPost, SlackVia};
pub use smtp::{SmtpMessage, SmtpPeer, SmtpTls};
pub use teams::{TeamsPeer, TeamsPost, TeamsRefusal};
pub use webhook::{WebhookDelivery, WebhookPeer, WebhookRefusal};
