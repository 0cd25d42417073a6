//! SSH: connect with host-key pinning, authenticate, run commands (also
//! fed from a reader), open subsystems such as SFTP.
//!
//! One [`Session`] per target is opened by the connection test and (later)
//! reused by every step of a run on that target.

mod channel;
mod hostkey;
mod session;

pub use channel::SubsystemError;
pub use hostkey::{HostKeyCheck, HostKeyVerdict, describe};
pub use session::{ConnectError, Output, Session, SshLogin, connect};
