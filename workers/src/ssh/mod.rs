//! SSH: connect with host-key pinning, authenticate, run commands (also
//! fed from a reader) that cancel and timeouts stop on the target, open
//! subsystems such as SFTP.
//!
//! One [`Session`] per target is opened by the connection test and (later)
//! reused by every step of a run on that target.

mod channel;
mod command;
mod group;
pub mod hostkey;
mod session;

pub use channel::SubsystemError;
pub use command::{Ended, RemoteCommand};
pub use group::as_user;
pub use hostkey::{HostKeyCheck, HostKeyVerdict, describe};
pub use session::{ConnectError, Endpoint, Output, Session, SshLogin, connect};
